//! `leakscope leakage`: the VSIL report of a whole benchmark.
//!
//! Every sample is scored by the guard in batches (one text-tower call and one image-tower
//! call per batch): J(T) on the text, the image alone, and J(T, I) on the pair. Each batch's
//! lines are appended to `scores.jsonl` and flushed before the next batch starts, so an
//! interrupted run resumes where it stopped (a torn last line is dropped).
//!
//! **Samples without a usable image** (none in the file, missing, unreadable, undecodable) are
//! scored on their text alone and written with the reason in `image_error`, but they get no
//! judgement: J(T, I) is undefined without I, and counting J(T) as the pair would make every
//! such sample look leaky or safe by construction. They are the report's `unjudged` samples,
//! left out of R1 and R2. A resumed run does not retry them: `--fresh` does.
//!
//! **`--text-only`** reads no image and scores J(T) alone; the report then takes J(T) as the
//! pair, so R1 = R2 = the share of texts judged unsafe (an upper bound on how much the text
//! alone gives away, not a leakage ratio).

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use leakscope::datasets::{self, DatasetError, DatasetFormat, Sample, Strictness};
use leakscope::leakage::batch::{SampleImage, score_batch};
use leakscope::leakage::guard::Guard;
use leakscope::leakage::metrics;
use leakscope::leakage::native::JsonlScoreStore;
use leakscope::leakage::run::{ResumePlan, RunIdentity, score_pending};
use leakscope::leakage::scores::ScoreLine;
use leakscope::leakage::store::{ScoreStore, ScoreStoreError};
use leakscope::platform::native::files::{Confined, FileError};
use leakscope::tokenizer::TokenizerMode;
use leakscope::util::hash::sha256_hex;

use super::images::ImageSource;
use super::{Backend, checkpoint_files, load_guard, load_head, positive};

#[derive(clap::Args)]
pub struct LeakageArgs {
    /// The benchmark's metadata file: VLSBench data.json, FigStep (SafeBench) CSV,
    /// MM-SafetyBench scenario JSON, JailbreakV-28K CSV, VLGuard JSON or HarmBench CSV.
    pub dataset: PathBuf,
    /// The dataset format (vlsbench, figstep, mm-safetybench, jailbreakv-28k, vlguard,
    /// harmbench); detected from the content when left out.
    #[arg(long)]
    pub format: Option<DatasetFormat>,
    /// Folder the dataset's image paths are relative to (VLSBench: the folder that holds
    /// imgs/). Default: the dataset file's folder.
    #[arg(long, conflicts_with_all = ["tar", "text_only"])]
    pub images: Option<PathBuf>,
    /// The images as a tar archive (VLSBench's imgs.tar), indexed once and read member by
    /// member.
    #[arg(long, conflicts_with = "text_only")]
    pub tar: Option<PathBuf>,
    /// Checkpoint folder in Hugging Face layout (config.json, model.safetensors, vocab.json +
    /// merges.txt, preprocessor_config.json).
    #[arg(long)]
    pub model: PathBuf,
    /// Guard head JSON (e.g. from `leakscope calibrate`); the built-in head when left out.
    #[arg(long)]
    pub head: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Which tokenizer reference: hub (the checkpoint's tokenizer.json as transformers 5 and
    /// transformers.js run it) or original (OpenAI's, with ftfy). Recorded in run.json and
    /// report.json.
    #[arg(long, default_value = "hub")]
    pub tokenizer: TokenizerMode,
    /// Report folder: scores.jsonl, run.json, report.json, groups.csv, samples.csv.
    #[arg(long, default_value = "leakage-report")]
    pub out: PathBuf,
    /// Samples per batch (one text-tower and one image-tower call each).
    #[arg(long, default_value_t = 32, value_parser = positive)]
    pub batch: usize,
    /// Skip rows that cannot be loaded (each one is listed) instead of stopping at the first.
    #[arg(long)]
    pub lenient: bool,
    /// Only the first N samples of the dataset.
    #[arg(long, value_parser = positive)]
    pub limit: Option<usize>,
    /// Start over: delete the folder's scores.jsonl instead of resuming from it.
    #[arg(long)]
    pub fresh: bool,
    /// Score J(T) only, reading no image (R1 = R2 = share of texts judged unsafe).
    #[arg(long)]
    pub text_only: bool,
}

pub fn run(args: LeakageArgs) -> Result<(), String> {
    let started = Instant::now();
    let samples = load_samples(&args)?;

    // What produces the scores, to refuse mixing runs on resume.
    let head = load_head(args.head.as_deref())?;
    let files = checkpoint_files(&args.model)?;
    let device = args.backend.device();
    let identity = RunIdentity {
        dataset: args.dataset.display().to_string(),
        model: args.model.display().to_string(),
        model_config_sha256: sha256_hex(&files.config_json),
        model_weights_bytes: files.model_safetensors.len() as u64,
        head_sha256: sha256_hex(head.to_json().as_bytes()),
        text_only: args.text_only,
        precision: device.precision,
        tokenizer: Some(args.tokenizer),
        images: Some(images_identity(&args)),
    };
    let store = JsonlScoreStore::open(&args.out, &identity, args.fresh).map_err(|e| match e {
        ScoreStoreError::Mismatch(why) => format!(
            "{why}. Pass --fresh to start over{}, or choose another --out",
            if why.contains("text only") {
                " (or run it as before, with or without --text-only)"
            } else {
                ""
            }
        ),
        ScoreStoreError::BadLine { .. } => {
            format!("{e}; delete that line, or pass --fresh to score everything again")
        }
        e => e.to_string(),
    })?;
    let scores_path = store.path().to_owned();
    let stored = pollster::block_on(store.load()).map_err(|e| e.to_string())?;
    let mut plan = ResumePlan::new(&samples, stored);
    if let Some(line) = plan.torn_line {
        println!(
            "dropped a torn last line (line {line}) of {}: that sample is scored again",
            scores_path.display()
        );
    }
    if plan.duplicates > 0 {
        println!(
            "ignored {} repeated ids in {}",
            plan.duplicates,
            scores_path.display()
        );
    }
    if store.resumed {
        println!(
            "resumed {} of {} samples from {}",
            plan.resumed,
            samples.len(),
            scores_path.display()
        );
    }
    if plan.outside > 0 {
        println!(
            "{} lines of scores.jsonl are for samples outside this run (kept, not reported)",
            plan.outside
        );
    }
    let todo = plan.pending();

    if !todo.is_empty() {
        // The image source first: a wrong path fails before the model loads.
        let source = image_source(&args)?;
        let guard = load_guard(files, head, &device, args.tokenizer)?;
        println!(
            "scoring {} samples on {} (images: {}; tokenizer: {})",
            todo.len(),
            device.describe(),
            source.describe(),
            args.tokenizer
        );
        warn_if_first_image_missing(&source, &samples, &todo, &args);
        let bar = ProgressBar::new(todo.len() as u64).with_style(
            ProgressStyle::with_template(
                "{wide_bar} {pos}/{len} samples  {per_sec}  elapsed {elapsed}  ETA {eta}",
            )
            .map_err(|e| e.to_string())?,
        );
        let score = |batch: Vec<usize>| {
            let lines = score_batch_from(&guard, &source, &samples, &batch);
            std::future::ready(lines)
        };
        let run = score_pending(
            &mut plan,
            args.batch,
            &store,
            || started.elapsed(),
            || false,
            score,
            |_, p| bar.set_position(p.done_now as u64),
        );
        pollster::block_on(run).map_err(|e| e.to_string())?;
        bar.finish_and_clear();
    }

    // The report, from every line of this run (resumed and new).
    let (report, no_image) = plan
        .report(&samples, args.text_only)
        .map_err(|e| e.to_string())?;
    // The report with the tokenizer mode that scored it (a field of this file, not of the
    // library's report type).
    let mut report_json = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    if let Some(fields) = report_json.as_object_mut() {
        fields.insert("tokenizer".into(), args.tokenizer.as_str().into());
    }
    write_json(&args.out.join("report.json"), &report_json)?;
    write_text(&args.out.join("groups.csv"), &metrics::groups_csv(&report))?;
    write_text(
        &args.out.join("samples.csv"),
        &metrics::samples_csv(&report),
    )?;
    println!("{}", metrics::render_table(&report));
    if args.text_only {
        println!("text-only run: J(T) stands for the pair, so R1 = R2 = share of unsafe texts");
    }
    if !no_image.is_empty() {
        println!(
            "{} samples had no usable image: scored on text alone, left out of R1/R2 \
             (`image_error` in scores.jsonl), e.g.:",
            no_image.len()
        );
        for (id, why) in no_image.iter().take(5) {
            println!("  {id}: {why}");
        }
        // Where to look is only the advice when images were not found: a FIFO, a folder, a
        // link out of the dataset or an undecodable file is what its reason says.
        if no_image.iter().any(|(_, why)| why.ends_with("not found")) {
            println!(
                "  (--images DIR: the folder the image paths start in; --tar: the image archive; \
                 --fresh re-scores them)"
            );
        } else {
            println!("  (--fresh re-scores them)");
        }
    }
    println!(
        "{} samples judged, {} new this run, {:.1} s; wrote {}",
        report.judged,
        samples.len() - plan.resumed,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

fn load_samples(args: &LeakageArgs) -> Result<Vec<Sample>, String> {
    let bytes = super::read_limited(&args.dataset, datasets::MAX_METADATA_BYTES)?;
    let name = args.dataset.display().to_string();
    let mode = if args.lenient {
        Strictness::Lenient
    } else {
        Strictness::Strict
    };
    let loaded = datasets::load(args.format, &name, &bytes, mode).map_err(|e| match e {
        DatasetError::Row(_) => format!("{e} (--lenient skips bad rows and lists them)"),
        e => e.to_string(),
    })?;
    for bad in &loaded.skipped {
        eprintln!("skipped: {bad}");
    }
    let mut samples = loaded.samples;
    println!(
        "{}: {} samples ({}){}",
        name,
        samples.len(),
        loaded.format,
        if loaded.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} rows skipped", loaded.skipped.len())
        }
    );
    if let Some(limit) = args.limit {
        samples.truncate(limit);
    }
    Ok(samples)
}

/// Where the images come from, for `run.json`: an archive by its name and size (cheap: not
/// indexed), a folder by its full path.
fn images_identity(args: &LeakageArgs) -> String {
    if args.text_only {
        return "none".to_owned();
    }
    if let Some(tar) = &args.tar {
        let bytes = std::fs::metadata(tar).map(|m| m.len()).unwrap_or(0);
        let name = tar.file_name().unwrap_or_default().to_string_lossy();
        return format!("archive {name} ({bytes} bytes)");
    }
    let dir = image_dir(args);
    format!("folder {}", dir.canonicalize().unwrap_or(dir).display())
}

fn image_dir(args: &LeakageArgs) -> PathBuf {
    match &args.images {
        Some(dir) => dir.clone(),
        None => match args.dataset.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        },
    }
}

fn image_source(args: &LeakageArgs) -> Result<ImageSource, String> {
    if args.text_only {
        return Ok(ImageSource::None);
    }
    if let Some(tar) = &args.tar {
        return ImageSource::tar(tar);
    }
    let dir = image_dir(args);
    if !dir.is_dir() {
        return Err(format!("--images {}: not a folder", dir.display()));
    }
    Confined::new(&dir)
        .map(ImageSource::Dir)
        .map_err(|e| format!("--images {}: {e}", dir.display()))
}

/// A wrong `--images` folder would otherwise show only at the end, as many missing images.
fn warn_if_first_image_missing(
    source: &ImageSource,
    samples: &[Sample],
    todo: &[usize],
    args: &LeakageArgs,
) {
    let ImageSource::Dir(dir) = source else {
        return;
    };
    let first = todo.iter().find_map(|&i| samples[i].image.as_ref());
    if let Some(image) = first
        && matches!(dir.resolve(image.as_str()), Err(FileError::NotFound(_)))
    {
        let dir = dir.root();
        eprintln!(
            "warning: {} is not in {}{}: samples without their image are scored on text alone \
             and left out of R1/R2. Pass --images DIR (the folder the image paths start in) or \
             --tar ARCHIVE.",
            image,
            dir.display(),
            if args.images.is_none() {
                " (the dataset's folder)"
            } else {
                ""
            }
        );
    }
}

/// One batch as the core scores it ([`score_batch`]), its images read from `source` and
/// decoded on every core first.
fn score_batch_from(
    guard: &Guard,
    source: &ImageSource,
    samples: &[Sample],
    batch: &[usize],
) -> Result<Vec<ScoreLine>, String> {
    let images = if matches!(source, ImageSource::None) {
        batch.iter().map(|_| SampleImage::NotRead).collect()
    } else {
        let bytes = batch
            .iter()
            .map(|&i| source.read(samples[i].image.as_ref()))
            .collect();
        super::preprocess_parallel(&guard.embedder.preprocess, bytes)
            .into_iter()
            .map(|decoded| match decoded {
                Ok(pixels) => match guard.embedder.model_input(&pixels) {
                    Ok(input) => SampleImage::Input(Box::new(input)),
                    Err(why) => SampleImage::Unusable(why.to_string()),
                },
                Err(why) => SampleImage::Unusable(why),
            })
            .collect()
    };
    let batch: Vec<Sample> = batch.iter().map(|&i| samples[i].clone()).collect();
    pollster::block_on(score_batch(guard, &batch, images)).map_err(|e| e.to_string())
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| format!("{}: {e}", path.display()))?;
    write_text(path, &(text + "\n"))
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
