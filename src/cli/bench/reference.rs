//! The PyTorch side of `leakscope bench --reference-python`: writes what the reference script
//! needs into a scratch folder (config, tokenizer files, the exact texts and prompts), runs
//! `scripts/bench_reference.py` with the same rows, batches, iterations and thread count, and
//! reads its JSON.

use std::path::Path;
use std::process::{Command, Stdio};

use leakscope::leakage::head::GuardHead;
use serde::Deserialize;

use super::checkpoint::{MERGES_TXT, VOCAB_JSON};
use super::inputs::QUERIES;
use super::{BenchArgs, Measurement, Row};

/// What the script prints.
#[derive(Debug, Deserialize)]
pub struct ReferenceRun {
    /// Package versions and settings (torch, transformers, attention implementation).
    pub versions: serde_json::Value,
    pub results: Vec<Measurement>,
}

pub fn run(
    args: &BenchArgs,
    python: &Path,
    config_json: &[u8],
    plan: &[(Row, usize)],
) -> Result<ReferenceRun, String> {
    let dir = std::env::temp_dir().join(format!("leakscope-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let outcome = run_in(args, python, config_json, plan, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn run_in(
    args: &BenchArgs,
    python: &Path,
    config_json: &[u8],
    plan: &[(Row, usize)],
    dir: &Path,
) -> Result<ReferenceRun, String> {
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("{}: {e}", dir.display()))
    };
    let head = GuardHead::builtin();
    let inputs = serde_json::json!({
        // A real checkpoint is loaded by transformers from its folder; otherwise the config
        // gets random weights and the fixture tokenizer written here.
        "model_dir": args.model.as_ref().map(|m| m.display().to_string()),
        "queries": QUERIES,
        "prompts": head.prompts().into_iter().map(|p| p.text).collect::<Vec<_>>(),
        "templates": head.templates.len(),
        "harm_count": head.harm_count(),
        "logit_scale": head.logit_scale,
        "plan": plan.iter().map(|(row, batch)| serde_json::json!([row.name(), batch])).collect::<Vec<_>>(),
    });
    write("config.json", config_json)?;
    write("vocab.json", VOCAB_JSON)?;
    write("merges.txt", MERGES_TXT)?;
    write("inputs.json", inputs.to_string().as_bytes())?;

    eprintln!(
        "reference: {} {} (PyTorch CPU, {} threads)",
        python.display(),
        args.reference_script.display(),
        args.threads()
    );
    let out = Command::new(python)
        .arg(&args.reference_script)
        .arg("--inputs")
        .arg(dir)
        .args(["--threads", &args.threads().to_string()])
        .args(["--iters", &args.iters.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--budget-s", &args.budget_s.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the reference script failed ({}); run it alone to see why: {} {} --help",
            out.status,
            python.display(),
            args.reference_script.display()
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("the reference script printed something that is not its JSON: {e}"))
}
