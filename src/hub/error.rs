//! Why a checkpoint did not load, each message saying what to do; and the warnings a load that
//! worked may carry (it could not be cached).

use super::cache::{CacheError, CacheErrorKind, StorageEstimate};
use crate::util::format::{bytes_of, human_bytes};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error(
        "\"{0}\" is not a model source: enter a Hugging Face repo id such as \
         openai/clip-vit-base-patch32 (optionally @revision), or the URL of a folder that holds \
         config.json and model.safetensors"
    )]
    InvalidSource(String),
    #[error("{}", unauthorized(.url, *.token_sent))]
    Unauthorized { url: String, token_sent: bool },
    #[error("{}", forbidden(.url, .page.as_deref(), *.token_sent))]
    Forbidden {
        url: String,
        page: Option<String>,
        token_sent: bool,
    },
    #[error(
        "{file} was not found at {url} (404): check the repo id and the revision (a branch, tag or \
         commit){}",
        if .file == "model.safetensors" {
            "; the repo must hold the weights as model.safetensors (for pytorch_model.bin only, \
             convert with `leakscope convert` and pick the files)"
        } else { "" }
    )]
    NotFound { file: String, url: String },
    #[error(
        "the checkpoint has no tokenizer: neither vocab.json + merges.txt nor tokenizer.json was \
         found next to {url}; choose a repo that has them (every CLIP repo on the hub does)"
    )]
    NoTokenizer { url: String },
    #[error("{}", network(.url, .detail))]
    Network { url: String, detail: String },
    #[error("{url} answered HTTP {status}: the server has a problem; try again later")]
    Http { url: String, status: u16 },
    #[error(
        "the download of {file} stopped at {} after {tries} tries ({detail}): check your \
         connection and load again{}",
        match .total {
            Some(total) => bytes_of(*.received, *total),
            None => format!("{} of ?", human_bytes(*.received)),
        },
        if *.kept { "; it resumes where it stopped" } else { "" }
    )]
    Interrupted {
        file: String,
        received: u64,
        total: Option<u64>,
        tries: u32,
        detail: String,
        /// The bytes so far are in the cache.
        kept: bool,
    },
    #[error(
        "{file} from {url} is not the expected file: its sha256 is {actual}, expected \
         {expected} (from {origin}); the download was corrupted or the file changed: load again, \
         or check the sha256 you gave"
    )]
    Checksum {
        file: String,
        url: String,
        expected: String,
        actual: String,
        /// Who named the expected value: "you", "the hub's listing", "the server's ETag".
        origin: String,
    },
    #[error(
        "{url} sent {got} bytes of {file} where it announced {expected}: the server or a proxy \
         is broken; try again later or use another mirror"
    )]
    Length {
        file: String,
        url: String,
        expected: u64,
        got: u64,
    },
    #[error(
        "not enough memory for {file} ({}): close other tabs and load again, or use a smaller \
         checkpoint",
        human_bytes(*.bytes)
    )]
    OutOfMemory { file: String, bytes: u64 },
    #[error(
        "{file} is larger than {} (the most one file may be here): the server sends more than a \
         CLIP checkpoint holds; check the address, or use a smaller checkpoint",
        human_bytes(*.limit)
    )]
    TooLarge { file: String, limit: u64 },
    #[error(
        "the chosen files lack {missing}{}",
        match .other_weights {
            Some(w) => format!(
                "; {w} cannot be read here: convert it with `leakscope convert` and pick \
                 model.safetensors"
            ),
            None => ": pick the checkpoint's folder, or its config.json, model.safetensors, \
                       vocab.json and merges.txt".to_string(),
        }
    )]
    PickedIncomplete {
        missing: String,
        other_weights: Option<String>,
    },
    #[error("could not read {file}: {detail}; pick it again")]
    Read { file: String, detail: String },
    /// A request for some bytes of a file did not get them (the server ignored the `Range`,
    /// or the file changed); a text-first download then falls back to the whole file.
    #[error("{url} did not answer a byte range as asked ({detail}); load again")]
    Ranges { url: String, detail: String },
}

/// No HTTP answer. In the browser a CORS refusal looks exactly like this, so the advice names
/// it; natively there is no CORS, and the advice is about the connection.
fn network(url: &str, detail: &str) -> String {
    if cfg!(target_arch = "wasm32") {
        format!(
            "no answer from {url} ({detail}): you may be offline, the server may be down, or it \
             does not allow downloads from this page (a mirror must send \
             Access-Control-Allow-Origin and expose Content-Length, Content-Range and ETag); \
             check the address and try again"
        )
    } else {
        format!(
            "no answer from {url} ({detail}): the server refused or dropped the connection, is \
             down, or cannot be reached from here (offline, DNS, a proxy or firewall); check the \
             address and your connection and try again"
        )
    }
}

fn unauthorized(url: &str, token_sent: bool) -> String {
    if token_sent {
        format!(
            "{url} refused the access token (401): check that the token is valid and has read \
             access, then load again"
        )
    } else {
        format!(
            "{url} needs a login (401): the repo is private or gated, or the repo id is wrong; \
             check the id, or paste a Hugging Face access token (read scope) and load again"
        )
    }
}

fn forbidden(url: &str, page: Option<&str>, token_sent: bool) -> String {
    let accept = match page {
        Some(page) => format!("open {page} while logged in and accept its conditions"),
        None => "ask the server's owner for access".to_string(),
    };
    if token_sent {
        format!(
            "{url} denied access (403): the repo is gated; {accept}, then use a token of that \
             account"
        )
    } else {
        format!("{url} denied access (403): the repo is gated; {accept}, then paste a token")
    }
}

/// A load that worked, with something the person should know.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HubWarning {
    #[error("{}", not_cached(.error, .estimate.as_ref()))]
    NotCached {
        error: CacheError,
        estimate: Option<StorageEstimate>,
    },
}

fn not_cached(error: &CacheError, estimate: Option<&StorageEstimate>) -> String {
    match error.kind {
        CacheErrorKind::Quota => format!(
            "the model is loaded but was not saved for next time: browser storage is full{}; \
             delete cached models you no longer need, then load again to save it",
            estimate.map(|e| format!(" ({e})")).unwrap_or_default()
        ),
        CacheErrorKind::Unavailable => format!(
            "the model is loaded but this browser gives the page no storage ({}), so it will be \
             downloaded again next time; a normal (not private) window keeps it",
            error.message
        ),
        CacheErrorKind::Other => format!(
            "the model is loaded but was not saved for next time ({}); it will be downloaded \
             again",
            error.message
        ),
    }
}
