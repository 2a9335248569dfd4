//! `leakscope bench`: times the text tower, the image tower and the guard on Burn's `flex` and
//! `wgpu` backends, and (with `--reference-python`) the same rows on PyTorch CPU through
//! transformers, in one run on one machine with one thread count, and prints medians, p90,
//! peak memory and the Burn / PyTorch ratio of every row.
//!
//! Every row runs in its own child process ([`measure`]); the reference script does the same.
//! Without `--model` the model is the `--config` shape with random weights built in memory
//! ([`checkpoint`]), so the binary alone can benchmark a GPU machine.
//!
//! Rows (batch = queries or images per call; every call ends with the result read back):
//! - `text`: tokenise + text tower + projection for `batch` queries;
//! - `concepts`: the guard head's whole prompt set (704 prompts for the built-in head, in
//!   batches of 32), averaged into concept embeddings — what loading a guard costs;
//! - `image`: image tower + projection for `batch` preprocessed images;
//! - `guard-text`: J(T) for `batch` samples (text tower once, head per sample);
//! - `guard-pair`: J(T), the image alone and J(T, I) for `batch` samples (text and image
//!   tower once each, shared by all three scores).

mod checkpoint;
mod inputs;
mod measure;
mod process;
mod reference;
mod table;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::ValueEnum;
use leakscope::embedder::CheckpointFiles;

pub use measure::Measurement;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Model shape, with random weights: vit-b-32 (OpenAI's ViT-B/32), tinyclip-8m (the lite
    /// preset's size), tiny (the 2-layer test
    /// shape) or the path of a config.json.
    #[arg(long, default_value = "vit-b-32", conflicts_with = "model")]
    pub config: String,
    /// A checkpoint folder in Hugging Face layout instead of random weights.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BackendChoice::Flex)]
    pub backend: BackendChoice,
    /// Batch sizes of the text, image and guard rows, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32", value_parser = super::positive)]
    pub batch: Vec<usize>,
    /// Rows to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "text,concepts,image,guard-text,guard-pair"
    )]
    pub rows: Vec<Row>,
    /// Timed calls per row (fewer when the row's time budget runs out first, never below 3).
    #[arg(long, default_value_t = 10, value_parser = super::positive)]
    pub iters: usize,
    /// Untimed calls before timing, the first one included (reported as `first`).
    #[arg(long, default_value_t = 2, value_parser = super::positive)]
    pub warmup: usize,
    /// Seconds of timed calls per row after which timing stops (once 3 calls are in).
    #[arg(long, default_value_t = 60.0)]
    pub budget_s: f64,
    /// CPU threads for flex and PyTorch (default: every logical CPU).
    #[arg(long, value_parser = super::positive)]
    pub threads: Option<usize>,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Python with torch and transformers: also time the rows on PyTorch CPU and print the
    /// Burn / PyTorch ratios.
    #[arg(long)]
    pub reference_python: Option<PathBuf>,
    /// The reference timing script.
    #[arg(long, default_value = "scripts/bench_reference.py")]
    pub reference_script: PathBuf,
    /// Write the `--config` shape with random weights as a checkpoint folder here and stop (the
    /// page's benchmark serves it from a local hub).
    #[arg(long, value_name = "DIR")]
    pub write_checkpoint: Option<PathBuf>,
    /// Internal: run one row (`ROW:BATCH:BACKEND`) and print its JSON line.
    #[arg(long, hide = true)]
    pub child: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    Flex,
    Wgpu,
    /// wgpu computing in f16 (needs shader-f16; refused otherwise, the figures would be f32).
    WgpuF16,
    /// flex, then wgpu (f32).
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Row {
    Text,
    Concepts,
    Image,
    GuardText,
    GuardPair,
}

impl Row {
    pub fn name(self) -> &'static str {
        match self {
            Row::Text => "text",
            Row::Concepts => "concepts",
            Row::Image => "image",
            Row::GuardText => "guard-text",
            Row::GuardPair => "guard-pair",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::value_variants()
            .iter()
            .copied()
            .find(|r| r.name() == name)
    }
}

impl BenchArgs {
    /// Threads for flex and PyTorch.
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    /// The backend a child runs (its `--backend`).
    fn backend_of_child(&self) -> BackendChoice {
        self.backend
    }

    /// The (row, batch) pairs to run, in table order.
    fn plan(&self) -> Vec<(Row, usize)> {
        let mut plan = Vec::new();
        for &row in &self.rows {
            if plan.iter().any(|&(r, _)| r == row) {
                continue;
            }
            match row {
                // One fixed prompt set; 32 is the embedder's batch.
                Row::Concepts => plan.push((row, leakscope::embedder::MAX_BATCH)),
                _ => plan.extend(self.batch.iter().map(|&b| (row, b))),
            }
        }
        plan
    }
}

/// The model every child loads.
fn checkpoint_files(args: &BenchArgs) -> Result<CheckpointFiles, String> {
    match &args.model {
        Some(dir) => super::checkpoint_files(dir),
        None => checkpoint::random_checkpoint(checkpoint::config_json(&args.config)?, 0x5eed_1ea5),
    }
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    if let Some(dir) = &args.write_checkpoint {
        let files =
            checkpoint::random_checkpoint(checkpoint::config_json(&args.config)?, 0x5eed_1ea5)?;
        checkpoint::write_folder(&files, dir)?;
        println!(
            "wrote {} ({} random weights, {:.1} MB)",
            dir.display(),
            args.config,
            files.model_safetensors.len() as f64 / 1e6
        );
        return Ok(());
    }
    if let Some(child) = &args.child {
        let (row, batch) = parse_child(child)?;
        configure_threads(args.threads());
        // Where the CLI runs the model too (cli::on_compute_pool).
        return super::on_compute_pool(|| measure::run_child(&args, row, batch));
    }
    // Fail before minutes of timing if the model cannot be built.
    let config_json = match &args.model {
        Some(dir) => super::read_file(&dir.join("config.json"))?,
        None => checkpoint::config_json(&args.config)?,
    };
    leakscope::model::ClipConfig::from_json_bytes(&config_json).map_err(|e| e.to_string())?;

    let backends: &[BackendChoice] = match args.backend {
        BackendChoice::Flex => &[BackendChoice::Flex],
        BackendChoice::Wgpu => &[BackendChoice::Wgpu],
        BackendChoice::WgpuF16 => &[BackendChoice::WgpuF16],
        BackendChoice::All => &[BackendChoice::Flex, BackendChoice::Wgpu],
    };
    let plan = args.plan();
    let mut results = Vec::new();
    for &backend in backends {
        for &(row, batch) in &plan {
            let m = run_in_child(&args, backend, row, batch)?;
            eprintln!(
                "{:<9} {:<10} batch {:>3}: median {:>9.2} ms (first {:.2} ms, {} calls)",
                m.implementation,
                m.row,
                m.batch,
                m.median_ms,
                m.first_ms,
                m.samples_ms.len()
            );
            results.push(m);
        }
    }
    let reference = match &args.reference_python {
        Some(python) => Some(reference::run(&args, python, &config_json, &plan)?),
        None => None,
    };
    if let Some(reference) = &reference {
        results.extend(reference.results.iter().cloned());
    }
    let report = table::Report::new(&args, reference.as_ref().map(|r| &r.versions), results);
    print!("{}", report.render());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs one row in a child process of this binary and reads its JSON line.
fn run_in_child(
    args: &BenchArgs,
    backend: BackendChoice,
    row: Row,
    batch: usize,
) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
    let mut command = Command::new(exe);
    command.args([
        "bench".to_owned(),
        "--child".into(),
        format!("{}:{batch}", row.name()),
        "--backend".into(),
        match backend {
            BackendChoice::Wgpu => "wgpu".into(),
            BackendChoice::WgpuF16 => "wgpu-f16".into(),
            _ => "flex".into(),
        },
        "--iters".into(),
        args.iters.to_string(),
        "--warmup".into(),
        args.warmup.to_string(),
        "--budget-s".into(),
        args.budget_s.to_string(),
        "--threads".into(),
        args.threads().to_string(),
    ]);
    match &args.model {
        Some(dir) => command.arg("--model").arg(dir),
        None => command.args(["--config", &args.config]),
    };
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting the {} row: {e}", row.name()))?;
    if !out.status.success() {
        return Err(format!(
            "the {} row (batch {batch}) failed on {backend:?}",
            row.name()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("the {} row printed {line:?}: {e}", row.name()))
}

fn parse_child(spec: &str) -> Result<(Row, usize), String> {
    let (row, batch) = spec
        .split_once(':')
        .ok_or_else(|| format!("--child {spec}: expected ROW:BATCH"))?;
    let row = Row::from_name(row).ok_or_else(|| format!("--child {spec}: unknown row"))?;
    Ok((row, super::positive(batch)?))
}

/// flex's matrix products and element-wise kernels run on rayon's global pool.
fn configure_threads(threads: usize) {
    // Fails only if the pool already exists, and nothing has used it yet.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
}
