//! `leakscope` command line: the native face of the same core the browser runs.

mod cli;

use clap::{Parser, Subcommand};
use cli::{Backend, checkpoint_files, read_file};
use leakscope::compute::{ComputeDevice, smoke_check};
use leakscope::convert::pytorch_to_safetensors;
use leakscope::embedder::{ClipEmbedder, Embeddings};
use leakscope::tokenizer::TokenizerMode;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "leakscope",
    version,
    about = "Visual safety information leakage, measured"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show which backends work on this machine and run a small computation on each.
    Devices,
    /// Embed texts and images with a CLIP checkpoint and print their similarities.
    Embed {
        /// Checkpoint folder in Hugging Face layout (config.json, model.safetensors,
        /// vocab.json + merges.txt or tokenizer.json, preprocessor_config.json).
        #[arg(long)]
        model: PathBuf,
        /// A text to embed (repeatable).
        #[arg(long)]
        text: Vec<String>,
        /// An image file to embed (repeatable).
        #[arg(long)]
        image: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Backend::Flex)]
        backend: Backend,
        /// Which tokenizer reference: hub (the checkpoint's tokenizer.json as transformers 5 and
        /// transformers.js run it) or original (OpenAI's, with ftfy).
        #[arg(long, default_value = "hub")]
        tokenizer: TokenizerMode,
        /// Print full vectors and matrices as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Convert a pytorch_model.bin checkpoint to model.safetensors (keys and dtypes kept).
    Convert {
        /// The PyTorch checkpoint.
        input: PathBuf,
        /// Where to write (default: model.safetensors beside the input).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Score every sample of a benchmark with the guard and write the VSIL report (R1, R2,
    /// R1 − R2, R2/R1 overall and per category); resumes from the report folder's scores.jsonl.
    ///
    /// A sample without a usable image (none, missing, unreadable) is scored on its text alone,
    /// its reason kept in scores.jsonl, and left out of R1 and R2 (J(T, I) needs the image).
    Leakage(cli::leakage::LeakageArgs),
    /// Fit the guard head's calibration (Platt parameters per modality) to labelled examples.
    Calibrate(cli::calibrate::CalibrateArgs),
    /// Evaluate a model API on VLSBench with your own key: each row's answer, judged by a
    /// second model, stored as it arrives (a rerun continues); safe / refuse / warning rates
    /// overall and per category with Wilson 95% intervals, and the official JSON.
    Eval(Box<cli::eval::EvalArgs>),
    /// Put several evaluation runs side by side: safe / refuse / warning rates with Wilson
    /// intervals per model, overall and per category, and which differences are significant.
    Compare(cli::compare::CompareArgs),
    /// Download a CLIP checkpoint from the Hugging Face hub (or a mirror or URL) into a folder
    /// for --model: resumes dropped connections, checks lengths and sha256s.
    FetchModel(cli::fetch_model::FetchModelArgs),
    /// Precompute the page's results for a checkpoint: the guard's concept embeddings (f16)
    /// and every gallery sample's scores, attribution and relevance map.
    Bake(cli::bake::BakeArgs),
    /// Time the text tower, the image tower and the guard on flex and wgpu (random weights
    /// unless --model), optionally against PyTorch CPU, and print medians, peak memory and
    /// Burn / PyTorch ratios.
    Bench(cli::bench::BenchArgs),
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Devices => devices(),
        Command::Embed {
            model,
            text,
            image,
            backend,
            tokenizer,
            json,
        } => cli::on_compute_pool(|| embed(&model, &text, &image, backend, tokenizer, json)),
        Command::Convert { input, output } => convert(&input, output),
        Command::Leakage(args) => cli::on_compute_pool(|| cli::leakage::run(args)),
        Command::Calibrate(args) => cli::on_compute_pool(|| cli::calibrate::run(args)),
        Command::FetchModel(args) => cli::fetch_model::run(args),
        Command::Eval(args) => match cli::eval::run(*args) {
            Ok(cli::eval::Finish::Interrupted) => return ExitCode::from(130),
            Ok(cli::eval::Finish::Done) => Ok(()),
            Err(e) => Err(e),
        },
        Command::Compare(args) => cli::compare::run(args),
        Command::Bake(args) => cli::on_compute_pool(|| cli::bake::run(args)),
        Command::Bench(args) => cli::bench::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn devices() -> Result<(), String> {
    let (gpu, why_not) = pollster::block_on(ComputeDevice::best_available());
    let mut devices = vec![ComputeDevice::flex()];
    match why_not {
        None => devices.push(gpu),
        Some(why) => println!("wgpu: {why}"),
    }
    for device in devices {
        let result = pollster::block_on(smoke_check(&device.device)).map_err(|e| e.to_string())?;
        println!("{}: 2×2 product {:?}", device.describe(), result.product);
    }
    Ok(())
}

fn embed(
    model: &Path,
    texts: &[String],
    images: &[PathBuf],
    backend: Backend,
    tokenizer: TokenizerMode,
    json: bool,
) -> Result<(), String> {
    let device = backend.device();
    let files = checkpoint_files(model)?;
    let embedder = pollster::block_on(ClipEmbedder::load_with_tokenizer(
        files,
        &device.device,
        tokenizer,
    ))
    .map_err(|e| e.to_string())?;
    let pixels = images
        .iter()
        .map(|path| {
            embedder
                .preprocess_image(&read_file(path)?)
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let text_embeds =
        pollster::block_on(embedder.text_embeddings(texts)).map_err(|e| e.to_string())?;
    let image_embeds =
        pollster::block_on(embedder.image_embeddings(&pixels)).map_err(|e| e.to_string())?;
    let cosine = image_embeds.cosine(&text_embeds);
    let logits = embedder.logits_per_image(&image_embeds, &text_embeds);

    if json {
        let out = serde_json::json!({
            "backend": device.describe(),
            "tokenizer": tokenizer,
            "texts": texts,
            "images": images,
            "token_ids": embedder.tokenize(texts),
            "text_embeds": rows(&text_embeds),
            "image_embeds": rows(&image_embeds),
            "cosine_per_image": cosine.chunks(texts.len().max(1)).collect::<Vec<_>>(),
            "logits_per_image": logits.chunks(texts.len().max(1)).collect::<Vec<_>>(),
            "logit_scale": embedder.logit_scale(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    println!(
        "backend: {}   tokenizer: {tokenizer}   embedding dim: {}",
        device.describe(),
        text_embeds.dim
    );
    for (i, text) in texts.iter().enumerate() {
        println!("text {i}  {:?}  {}", text, preview(text_embeds.row(i)));
    }
    for (i, path) in images.iter().enumerate() {
        println!(
            "image {i} {}  {}",
            path.display(),
            preview(image_embeds.row(i))
        );
    }
    if !texts.is_empty() && !images.is_empty() {
        println!(
            "\ncosine similarity (rows: images, columns: texts); logits = {:.4} × cosine",
            embedder.logit_scale()
        );
        for (i, row) in cosine.chunks(texts.len()).enumerate() {
            let cells: Vec<String> = row.iter().map(|c| format!("{c:+.4}")).collect();
            println!("image {i}: {}", cells.join("  "));
        }
    }
    Ok(())
}

fn rows(e: &Embeddings) -> Vec<&[f32]> {
    (0..e.rows).map(|i| e.row(i)).collect()
}

fn preview(v: &[f32]) -> String {
    let head: Vec<String> = v.iter().take(6).map(|x| format!("{x:+.4}")).collect();
    format!(
        "[{}{}]",
        head.join(", "),
        if v.len() > 6 { ", …" } else { "" }
    )
}

fn convert(input: &Path, output: Option<PathBuf>) -> Result<(), String> {
    let output = output.unwrap_or_else(|| input.with_file_name("model.safetensors"));
    let (bytes, report) = pytorch_to_safetensors(input).map_err(|e| e.to_string())?;
    std::fs::write(&output, &bytes).map_err(|e| format!("{}: {e}", output.display()))?;
    println!(
        "wrote {} ({} tensors, {:.1} MB){}",
        output.display(),
        report.written,
        bytes.len() as f64 / 1e6,
        if report.dropped.is_empty() {
            String::new()
        } else {
            format!("; left out buffers: {}", report.dropped.join(", "))
        }
    );
    Ok(())
}
