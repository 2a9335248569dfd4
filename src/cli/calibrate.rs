//! `leakscope calibrate`: fits a guard head's Platt parameters to labelled examples.
//!
//! Each line of the input is `{"text": ..., "image": "path" | null, "label": ...}` with the
//! label `true`/`false`, `1`/`0` or `"unsafe"`/`"safe"` (true = unsafe). The guard's raw
//! margins do not depend on the calibration, so they are computed once with the old head:
//! the text margin for every line, the image and pair margins for lines with an image. Each
//! modality is then fitted with [`fit_platt`]; one with fewer than 2 labels of each class, or
//! whose fit does not rank unsafe above safe (slope ≤ 0), keeps its old parameters.

use std::path::{Path, PathBuf};

use leakscope::leakage::head::{Calibration, Modality, fit_platt};
use leakscope::tokenizer::TokenizerMode;
use serde_json::Value;

use super::{Backend, checkpoint_files, load_guard, load_head, read_file};

#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// JSON lines: {"text": "...", "image": "path or null", "label": true|false} (also 1/0 or
    /// "unsafe"/"safe"; true = unsafe).
    pub labelled: PathBuf,
    /// Checkpoint folder in Hugging Face layout.
    #[arg(long)]
    pub model: PathBuf,
    /// The head to calibrate; the built-in head when left out.
    #[arg(long)]
    pub head: Option<PathBuf>,
    /// Folder relative image paths start in. Default: the labelled file's folder.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Where to write the calibrated head.
    #[arg(long, default_value = "head.json")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Which tokenizer reference: hub (the checkpoint's tokenizer.json as transformers 5 and
    /// transformers.js run it) or original (OpenAI's, with ftfy).
    #[arg(long, default_value = "hub")]
    pub tokenizer: TokenizerMode,
}

struct Example {
    /// 1-based line in the file.
    line: usize,
    text: String,
    image: Option<PathBuf>,
    unsafe_: bool,
}

/// Margins and labels of one modality.
#[derive(Default)]
struct Column {
    margins: Vec<f32>,
    labels: Vec<bool>,
}

/// Lines per tower call.
const BATCH: usize = 32;

pub fn run(args: CalibrateArgs) -> Result<(), String> {
    let image_root = match &args.images {
        Some(dir) => dir.clone(),
        None => match args.labelled.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        },
    };
    let examples = parse(&args.labelled, &read_file(&args.labelled)?, &image_root)?;
    let missing: Vec<String> = examples
        .iter()
        .filter_map(|e| {
            let path = e.image.as_ref()?;
            (!path.is_file()).then(|| format!("line {}: {}", e.line, path.display()))
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} images not found ({}{}); relative paths start in {} (change it with --images DIR)",
            missing.len(),
            missing[..missing.len().min(5)].join(", "),
            if missing.len() > 5 { ", …" } else { "" },
            image_root.display()
        ));
    }

    let head = load_head(args.head.as_deref())?;
    let device = args.backend.device();
    let guard = load_guard(
        checkpoint_files(&args.model)?,
        head,
        &device,
        args.tokenizer,
    )?;

    let mut columns: [Column; 3] = Default::default();
    for batch in examples.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|e| e.text.as_str()).collect();
        let text_embeds = pollster::block_on(guard.embedder.text_embeddings(&texts))
            .map_err(|e| format!("text tower: {e}"))?;
        let mut pixels = Vec::new();
        let mut rows = Vec::with_capacity(batch.len());
        for e in batch {
            let Some(path) = &e.image else {
                rows.push(None);
                continue;
            };
            let bytes = read_file(path)?;
            let p = guard
                .embedder
                .preprocess_image(&bytes)
                .map_err(|err| format!("line {}: {}: {err}", e.line, path.display()))?;
            rows.push(Some(pixels.len()));
            pixels.push(p);
        }
        let image_embeds = if pixels.is_empty() {
            None
        } else {
            Some(
                pollster::block_on(guard.embedder.image_embeddings(&pixels))
                    .map_err(|e| format!("image tower: {e}"))?,
            )
        };
        for (k, e) in batch.iter().enumerate() {
            let image = match (&image_embeds, rows[k]) {
                (Some(embeds), Some(row)) => Some((embeds, row)),
                _ => None,
            };
            let score = guard
                .score_embeddings(&text_embeds, k, image)
                .map_err(|err| format!("line {}: {err}", e.line))?;
            let readings = [Some(&score.text), score.image.as_ref(), score.pair.as_ref()];
            for (column, reading) in columns.iter_mut().zip(readings) {
                if let Some(r) = reading {
                    column.margins.push(r.margin);
                    column.labels.push(e.unsafe_);
                }
            }
        }
    }

    let old = guard.head.clone();
    let mut head = guard.head;
    let mut outcome = Vec::new();
    println!(
        "{:<8} {:>5} {:>7}  {:>23}  {:>23}  calibration (P = sigmoid(a · margin + b))",
        "modality", "n", "unsafe", "accuracy before → after", "log-loss before → after"
    );
    for (modality, column) in Modality::ALL.into_iter().zip(&columns) {
        let before = old.calibration.get(modality);
        let (after, note) = fit(modality, column, before)?;
        match modality {
            Modality::Text => head.calibration.text = after,
            Modality::Image => head.calibration.image = after,
            Modality::Pair => head.calibration.pair = after,
        }
        outcome.push(format!(
            "{}: {}",
            modality.name(),
            if after == before { "kept" } else { "fitted" }
        ));
        let positives = column.labels.iter().filter(|&&y| y).count();
        let (acc0, loss0) = quality(column, before, old.threshold);
        let (acc1, loss1) = quality(column, after, old.threshold);
        println!(
            "{:<8} {:>5} {:>7}  {:>23}  {:>23}  a = {:.4}, b = {:.4}: {note}",
            modality.name(),
            column.labels.len(),
            positives,
            format!("{acc0} → {acc1}"),
            format!("{loss0} → {loss1}"),
            after.a,
            after.b,
        );
    }
    head.calibration.note = Some(format!(
        "Platt parameters fitted by `leakscope calibrate` on {} ({} lines; {}; {} tokenizer).",
        file_name(&args.labelled),
        examples.len(),
        outcome.join(", "),
        args.tokenizer
    ));
    head.validate()
        .map_err(|e| format!("the calibrated head is not valid: {e}"))?;
    std::fs::write(&args.out, head.to_json() + "\n")
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    println!(
        "wrote {} (use it with `leakscope leakage ... --head {}`)",
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

/// The new parameters of one modality and what happened, in words.
fn fit(
    modality: Modality,
    column: &Column,
    before: Calibration,
) -> Result<(Calibration, String), String> {
    let positives = column.labels.iter().filter(|&&y| y).count();
    let negatives = column.labels.len() - positives;
    if positives < 2 || negatives < 2 {
        let what = match modality {
            Modality::Text => "lines",
            _ => "lines with an image",
        };
        return Ok((
            before,
            format!(
                "kept: needs at least 2 unsafe and 2 safe {what}, has {positives} and {negatives}"
            ),
        ));
    }
    let fitted = fit_platt(&column.margins, &column.labels)
        .map_err(|e| format!("fitting the {} calibration: {e}", modality.name()))?;
    if !(fitted.a.is_finite() && fitted.a > 0.0 && fitted.b.is_finite()) {
        return Ok((
            before,
            format!(
                "kept: the fit has slope a = {:.4}, so the margin does not rank these unsafe \
                 examples above the safe ones (check the labels, the model or the head)",
                fitted.a
            ),
        ));
    }
    Ok((fitted, "fitted".to_owned()))
}

/// Accuracy at the head's threshold and mean log-loss, formatted; "-" without data.
fn quality(column: &Column, c: Calibration, threshold: f32) -> (String, String) {
    if column.labels.is_empty() {
        return ("-".into(), "-".into());
    }
    let n = column.labels.len() as f64;
    let mut correct = 0usize;
    let mut loss = 0.0f64;
    for (&m, &y) in column.margins.iter().zip(&column.labels) {
        let p = c.probability(m);
        if (p >= threshold) == y {
            correct += 1;
        }
        let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
        loss -= if y { p.ln() } else { (1.0 - p).ln() };
    }
    (
        format!("{:.1}%", 100.0 * correct as f64 / n),
        format!("{:.4}", loss / n),
    )
}

fn parse(path: &Path, bytes: &[u8], image_root: &Path) -> Result<Vec<Example>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("{}: not UTF-8 text ({e})", path.display()))?;
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let n = k + 1;
        if line.trim().is_empty() {
            continue;
        }
        let at = |what: String| format!("{}, line {n}: {what}", path.display());
        let value: Value = serde_json::from_str(line).map_err(|e| {
            at(format!(
                "not valid JSON ({e}); each line is one JSON object"
            ))
        })?;
        let Some(obj) = value.as_object() else {
            return Err(at(
                "expected a JSON object {\"text\", \"image\", \"label\"}".into(),
            ));
        };
        let text = match obj.get("text") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => return Err(at(format!("`text` must be a string, found {v}"))),
            None => return Err(at("`text` is missing".into())),
        };
        let image = match obj.get("image") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(image_root.join(s.trim())),
            Some(v) => return Err(at(format!("`image` must be a path or null, found {v}"))),
        };
        let unsafe_ = match obj.get("label") {
            Some(v) => label(v).ok_or_else(|| {
                at(format!(
                    "`label` is {v}; use true/false, 1/0 or \"unsafe\"/\"safe\" (true = unsafe)"
                ))
            })?,
            None => return Err(at("`label` is missing (true = unsafe, false = safe)".into())),
        };
        out.push(Example {
            line: n,
            text,
            image,
            unsafe_,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no labelled lines; each line is {{\"text\": ..., \"image\": ..., \"label\": ...}}",
            path.display()
        ));
    }
    Ok(out)
}

fn label(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "unsafe" => Some(true),
            "safe" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
