//! The providers' batch engines (`leakscope eval --batch`): OpenAI's Batch API and Anthropic's
//! Message Batches take whole files of requests, finish within 24 hours and cost half. This is
//! the target-independent part: the request lines ([`lines`], the live engine's own request
//! bodies from [`super::wire`]), how they are cut into files under each API's limits
//! ([`chunk`]), the manifest that maps each line's `custom_id` to the record it becomes
//! ([`manifest`]), and the providers' batch endpoints over the platform's HTTP client
//! ([`remote`]). The loop that plans, submits, polls and collects is native
//! (`super::native::batch`): it writes files.
//!
//! A run has two phases: the target requests, then the judge requests built from their
//! answers, each judge request going out as soon as its answer is stored. Results arrive in
//! any order and are matched through the manifest only; they become the same records, under
//! the same keys, as a live run's, so a report does not know how its answers came.
//!
//! Sources (read 2025–2026; no text copied): OpenAI's Batch API reference and guide
//! (`/v1/files` with purpose `batch`, `/v1/batches`, input lines `{custom_id, method, url,
//! body}`, at most 50,000 requests and 200 MB per file, one model per file, statuses
//! `validating`, `failed`, `in_progress`, `finalizing`, `completed`, `expired`, `cancelling`,
//! `cancelled`, output and error files whose lines come in any order, unfinished requests of
//! an expired batch in the error file as `batch_expired`, 16 `metadata` pairs of at most 64 /
//! 512 characters); Anthropic's Message Batches reference and guide (`/v1/messages/batches`,
//! `custom_id` matching `^[a-zA-Z0-9_-]{1,64}$` and unique in its batch, at most 100,000
//! requests or 256 MB, `processing_status` `in_progress` / `canceling` / `ended`, results as
//! JSONL in any order with `succeeded`, `errored`, `canceled` or `expired`, no metadata).
//! Both price batched tokens at 50% of the live price.

pub mod chunk;
pub mod lines;
pub mod manifest;
pub mod remote;

use serde::{Deserialize, Serialize};

use super::api::ApiKind;
use super::store::Stage;
use crate::util::hash;

/// The share of the live price a batched request costs (both providers: half).
pub const DISCOUNT: f64 = 0.5;

/// How much one batch may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub requests: usize,
    /// The file (OpenAI) or the request body (Anthropic), framing included.
    pub bytes: u64,
}

impl Limits {
    /// Under each API's published limits: OpenAI 50,000 requests and 200 MB per input file,
    /// Anthropic 100,000 requests or 256 MB per batch. The byte figures keep a margin, since
    /// "MB" is not said to be 10⁶ or 2²⁰ bytes and the upload adds its own framing.
    pub fn of(kind: ApiKind) -> Self {
        match kind {
            ApiKind::OpenAiChat => Self {
                requests: 50_000,
                bytes: 190_000_000,
            },
            ApiKind::AnthropicMessages => Self {
                requests: 100_000,
                bytes: 250_000_000,
            },
        }
    }

    /// These limits, lowered to `requests` and `bytes` where given (never raised).
    pub fn narrowed(self, requests: Option<usize>, bytes: Option<u64>) -> Self {
        Self {
            requests: requests.map_or(self.requests, |r| r.clamp(1, self.requests)),
            bytes: bytes.map_or(self.bytes, |b| b.clamp(1, self.bytes)),
        }
    }
}

/// A fresh chunk name: 8 hex digits from the clock and the process, unique enough that no two
/// chunks of one output folder share it (checked by the caller against the manifest).
pub fn chunk_name(seed: &[u8]) -> String {
    hash::short_hash(seed)[..8].to_owned()
}

/// The `custom_id` of `stage`'s request for `row` in chunk `chunk`: `t12-3f9a2c1b` (target) or
/// `j12-…` (judge). Within Anthropic's `^[a-zA-Z0-9_-]{1,64}$`; unique across chunks, so a
/// line of one batch is never taken for a line of another. Only the manifest says what it
/// stands for: results are never matched by parsing it.
pub fn custom_id(stage: Stage, row: u64, chunk: &str) -> String {
    let tag = match stage {
        Stage::Target => 't',
        Stage::Judge => 'j',
    };
    format!("{tag}{row}-{chunk}")
}

/// Whether `id` is a `custom_id` both APIs take.
pub fn valid_custom_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The note a record from a batch carries: which API and batch answered it, and its line.
pub fn note(kind: ApiKind, batch: &str, custom_id: &str) -> String {
    let api = match kind {
        ApiKind::OpenAiChat => "OpenAI",
        ApiKind::AnthropicMessages => "Anthropic",
    };
    format!("{api} batch {batch}, line {custom_id}")
}

/// The `custom_id` in a note written by [`note`]: a line already stored is not stored again
/// when a batch's results are read a second time (after a kill midway).
pub fn noted_line(note: &str) -> Option<&str> {
    let (head, id) = note.rsplit_once(", line ")?;
    let batch = head.contains(" batch ");
    (batch && valid_custom_id(id)).then_some(id)
}

/// Names the work one command asks for (the models' setups, the judge template, the mode):
/// what `--max-spend` counts across every time the same command runs. `parts`: the setup's
/// identities, in a fixed order.
pub fn job_id(parts: &[&str]) -> String {
    hash::short_hash(parts.join("\u{0}").as_bytes())[..12].to_owned()
}

/// Which API a stage's chunk goes to, in words.
pub fn api_name(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::OpenAiChat => "OpenAI Batch API",
        ApiKind::AnthropicMessages => "Anthropic Message Batches",
    }
}

pub fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Target => "target",
        Stage::Judge => "judge",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_fit_both_apis_and_notes_give_them_back() {
        let chunk = chunk_name(b"seed");
        assert_eq!(chunk.len(), 8);
        for (stage, row) in [(Stage::Target, 0), (Stage::Judge, u64::MAX)] {
            let id = custom_id(stage, row, &chunk);
            assert!(valid_custom_id(&id), "{id}");
            let n = note(ApiKind::AnthropicMessages, "msgbatch_01", &id);
            assert_eq!(noted_line(&n), Some(id.as_str()));
        }
        assert_ne!(
            custom_id(Stage::Target, 1, &chunk),
            custom_id(Stage::Judge, 1, &chunk)
        );
        for bad in ["", "a b", "é", &"x".repeat(65)] {
            assert!(!valid_custom_id(bad), "{bad}");
        }
        assert_eq!(noted_line("image scaled down to 8000 px"), None);
        assert_eq!(noted_line("nothing, line t1-x"), None);
    }

    #[test]
    fn limits_only_narrow() {
        let openai = Limits::of(ApiKind::OpenAiChat);
        assert_eq!(openai.narrowed(None, None), openai);
        let n = openai.narrowed(Some(10), Some(500_000_000));
        assert_eq!((n.requests, n.bytes), (10, openai.bytes));
        assert_eq!(openai.narrowed(Some(0), Some(0)).requests, 1);
        assert!(Limits::of(ApiKind::AnthropicMessages).bytes < 256 * 1_000_000);
    }
}
