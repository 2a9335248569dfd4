//! `leakscope fetch-model`: a checkpoint from the Hugging Face hub (or a mirror, or a URL) into
//! a folder that `--model` takes, through the same loader as the browser (resume with Range,
//! length and sha256 checks, the tokenizer.json and preprocessor fallbacks).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use leakscope::hub::source::{DEFAULT_REPO, DEFAULT_REVISION};
use leakscope::hub::{LoadOptions, ModelSource, Platform, load_checkpoint};
use leakscope::platform::native::{ThreadClock, UreqClient};

#[derive(Args)]
pub struct FetchModelArgs {
    /// A repo id (`owner/name`, optionally `@revision`), a model page or file URL on the hub or a
    /// mirror, or the URL of a folder holding the files.
    #[arg(long, default_value = DEFAULT_REPO)]
    repo: String,
    /// Branch, tag or commit (overrides one given with --repo).
    #[arg(long, default_value = "")]
    revision: String,
    /// The folder to write the files into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Hugging Face access token for gated or private repos (default: $HF_TOKEN).
    #[arg(long)]
    token: Option<String>,
    /// A known sha256 to check, as FILE=HEX (repeatable).
    #[arg(long, value_parser = file_sha)]
    sha256: Vec<(String, String)>,
}

fn file_sha(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(f, h)| (f.trim().to_string(), h.trim().to_string()))
        .filter(|(f, h)| !f.is_empty() && h.len() == 64)
        .ok_or_else(|| format!("`{s}` is not FILE=<64 hex digits>"))
}

pub fn run(args: FetchModelArgs) -> Result<(), String> {
    let source = ModelSource::parse(&args.repo, &args.revision).map_err(|e| e.to_string())?;
    let options = LoadOptions {
        token: args.token.or_else(|| std::env::var("HF_TOKEN").ok()),
        sha256: args.sha256.into_iter().collect(),
        ..LoadOptions::default()
    };
    let net = UreqClient::default();
    let clock = ThreadClock::new();
    let platform = Platform {
        net: &net,
        cache: None,
        clock: &clock,
    };
    eprintln!(
        "fetching {source}{}",
        if args.revision.is_empty() && matches!(source, ModelSource::Hub { .. }) {
            format!(" (revision {DEFAULT_REVISION} unless given)")
        } else {
            String::new()
        }
    );
    let mut last = Instant::now() - Duration::from_secs(1);
    let loaded = pollster::block_on(load_checkpoint(&source, &options, platform, &mut |p| {
        if p.done || last.elapsed() >= Duration::from_millis(500) {
            last = Instant::now();
            eprint!("\r\x1b[2K{p}");
        }
    }));
    eprintln!();
    let loaded = loaded.map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let f = loaded.files;
    for (name, bytes) in [
        ("config.json", Some(f.config_json)),
        ("model.safetensors", Some(f.model_safetensors)),
        ("vocab.json", f.vocab_json),
        ("merges.txt", f.merges_txt),
        ("tokenizer.json", f.tokenizer_json),
        ("preprocessor_config.json", f.preprocessor_config_json),
    ] {
        if let Some(bytes) = bytes {
            let path = args.out.join(name);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    for r in &loaded.report {
        let check = r.verified_by.as_deref().unwrap_or("length only");
        eprintln!(
            "  {:<26} {:>12} bytes  sha256 {}  ({check})",
            r.file, r.size, r.sha256
        );
    }
    println!("{}", args.out.display());
    Ok(())
}
