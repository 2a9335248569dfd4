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
    /// No longer taken: a token on the command line shows in `ps` and the shell's history.
    /// Gated or private repos read it from the environment variable HF_TOKEN.
    #[arg(long, hide = true)]
    token: Option<String>,
    /// A known sha256 to check, as FILE=HEX (repeatable).
    #[arg(long, value_parser = file_sha)]
    sha256: Vec<(String, String)>,
}

/// The files a checkpoint folder can hold: a sha256 for any other name could never be checked.
const FILES: [&str; 6] = [
    "config.json",
    "model.safetensors",
    "vocab.json",
    "merges.txt",
    "tokenizer.json",
    "preprocessor_config.json",
];

fn file_sha(s: &str) -> Result<(String, String), String> {
    let (file, hex) = s
        .split_once('=')
        .map(|(f, h)| (f.trim().to_string(), h.trim().to_ascii_lowercase()))
        .ok_or_else(|| format!("`{s}` is not FILE=<64 hex digits>"))?;
    if !FILES.contains(&file.as_str()) {
        return Err(format!(
            "`{file}` is not a checkpoint file; --sha256 takes one of {}",
            FILES.join(", ")
        ));
    }
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "the sha256 of {file} must be 64 hexadecimal digits, got `{hex}` ({} characters)",
            hex.len()
        ));
    }
    Ok((file, hex))
}

/// Creates `out` and checks that files can be written there, before anything is downloaded.
fn writable(out: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("--out {}: {e}", out.display()))?;
    let probe = out.join(".leakscope-write-test");
    std::fs::write(&probe, b"")
        .map_err(|e| format!("--out {}: cannot write there: {e}", out.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

pub fn run(args: FetchModelArgs) -> Result<(), String> {
    if args.token.is_some() {
        return Err(
            "--token is no longer accepted: a token on the command line shows in `ps` \
                    and in the shell's history. Set it in the environment instead: \
                    HF_TOKEN=hf_... leakscope fetch-model ..."
                .to_owned(),
        );
    }
    let source = ModelSource::parse(&args.repo, &args.revision).map_err(|e| e.to_string())?;
    // Everything the person typed is checked before the first byte is downloaded.
    writable(&args.out)?;
    let options = LoadOptions {
        token: std::env::var("HF_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty()),
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
