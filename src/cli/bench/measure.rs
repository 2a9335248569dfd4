//! One benchmark row in its own process (`leakscope bench --child ROW:BATCH`): load the model,
//! time the row, print one JSON line. A process per row keeps each row's peak memory its own
//! and gives every wgpu row a fresh runtime (Burn's wgpu may be initialised once per process),
//! so its first call pays shader compilation the way a user's first call does.

use std::time::Instant;

use leakscope::compute::{ComputeDevice, Precision};
use leakscope::datasets::Sample;
use leakscope::embedder::ClipEmbedder;
use leakscope::leakage::batch::{SampleImage, score_batch};
use leakscope::leakage::guard::Guard;
use leakscope::leakage::head::GuardHead;
use serde::{Deserialize, Serialize};

use super::inputs::{pixels, queries};
use super::process::{CpuClock, load_avg, peak_rss_mib, reset_peak_rss};
use super::{BenchArgs, Row};

/// One row's figures, as the child prints them and the table reads them (the PyTorch
/// reference writes the same fields).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measurement {
    /// `burn-flex`, `burn-wgpu` or `torch`.
    pub implementation: String,
    pub row: String,
    /// Queries or images per call (the prompt count for `concepts`).
    pub batch: usize,
    /// The first call after the model is loaded (on wgpu: shader compilation and autotune).
    pub first_ms: f64,
    pub median_ms: f64,
    pub p90_ms: f64,
    /// Every timed call, in order.
    pub samples_ms: Vec<f64>,
    /// Peak resident memory while the row ran, first call included (the peak is reset after
    /// loading, so the model's weights count and the load's transient copies do not). `null`
    /// where it cannot be read.
    pub peak_rss_mib: Option<f64>,
    /// CPU time over wall time during the timed calls: how many cores the row kept busy.
    pub cpu_per_wall: Option<f64>,
    /// Threads the implementation was told to use.
    pub threads: usize,
    /// The adapter (wgpu), or the CPU.
    pub device: String,
    /// The machine's 1-minute load average when the row started: on a shared machine, a
    /// figure above the thread count means the row competed with other work.
    #[serde(default)]
    pub load_avg: Option<f64>,
}

/// Runs the row `args.child` names and prints its [`Measurement`] as one JSON line.
pub fn run_child(args: &BenchArgs, row: Row, batch: usize) -> Result<(), String> {
    let device = match args.backend_of_child() {
        super::BackendChoice::Flex => ComputeDevice::flex(),
        super::BackendChoice::Wgpu => pollster::block_on(ComputeDevice::gpu())
            .map_err(|e| format!("{e} (the wgpu rows need a Vulkan, Metal or DX12 adapter)"))?,
        super::BackendChoice::WgpuF16 => {
            let device = pollster::block_on(ComputeDevice::gpu_with(Precision::F16))
                .map_err(|e| format!("{e} (the wgpu rows need a Vulkan, Metal or DX12 adapter)"))?;
            if device.precision != Precision::F16 {
                return Err(format!("{} has no shader-f16", device.describe()));
            }
            device
        }
        super::BackendChoice::All => return Err("a child runs one backend".into()),
    };
    let files = super::checkpoint_files(args)?;
    let embedder = pollster::block_on(ClipEmbedder::load(files, &device.device))
        .map_err(|e| format!("loading the model: {e}"))?;
    let head = GuardHead::builtin();
    let size = embedder.config.vision_config.image_size;
    let texts = queries(batch);
    let images = pixels(batch, size);

    let mut op: Box<dyn FnMut() -> Result<(), String>> = match row {
        Row::Text => Box::new(|| {
            pollster::block_on(embedder.text_embeddings(&texts))
                .map(drop)
                .map_err(|e| e.to_string())
        }),
        Row::Image => Box::new(|| {
            pollster::block_on(embedder.image_embeddings(&images))
                .map(drop)
                .map_err(|e| e.to_string())
        }),
        Row::Concepts => {
            // What `Guard::new` does: every prompt, in batches of MAX_BATCH, then averaged.
            let prompts: Vec<String> = head.prompts().into_iter().map(|p| p.text).collect();
            let head = &head;
            let embedder = &embedder;
            Box::new(move || {
                let embedded = pollster::block_on(embedder.text_embeddings(&prompts))
                    .map_err(|e| e.to_string())?;
                head.concept_embeddings(&embedded.values, embedded.dim)
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
        }
        Row::GuardText | Row::GuardPair => {
            // The concepts' values do not change the cost of scoring; computing the real ones
            // here would cost a `concepts` row per child.
            let concepts = unit_rows(head.concept_count(), embedder.config.projection_dim);
            let guard = Guard::with_concepts(embedder, head, concepts)
                .map_err(|_| "concept rows do not fit the model".to_string())?;
            let with_image = row == Row::GuardPair;
            let samples = samples_of(&texts);
            Box::new(move || score_guard_batch(&guard, &samples, with_image.then_some(&images[..])))
        }
    };

    reset_peak_rss();
    let load_avg = load_avg();
    let first = time(&mut op)?;
    for _ in 1..args.warmup {
        op()?;
    }
    let clock = CpuClock::start();
    let budget = std::time::Duration::from_secs_f64(args.budget_s);
    let started = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < args.iters && (samples.len() < 3 || started.elapsed() < budget) {
        samples.push(time(&mut op)?);
    }
    let cpu_per_wall = clock.cpu_per_wall();
    let (median_ms, p90_ms) = median_p90(&samples);
    let measurement = Measurement {
        implementation: match device.kind {
            leakscope::compute::BackendKind::Flex => "burn-flex".into(),
            _ if device.precision == Precision::F16 => "burn-wgpu-f16".into(),
            _ => "burn-wgpu".into(),
        },
        row: row.name().into(),
        batch: if row == Row::Concepts {
            GuardHead::builtin().prompts().len()
        } else {
            batch
        },
        first_ms: first,
        median_ms,
        p90_ms,
        samples_ms: samples,
        peak_rss_mib: peak_rss_mib(),
        cpu_per_wall,
        threads: args.threads(),
        device: device
            .adapter
            .clone()
            .unwrap_or_else(super::process::cpu_model),
        load_avg,
    };
    println!(
        "{}",
        serde_json::to_string(&measurement).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// One guard batch as `leakscope leakage` scores it (the core's [`score_batch`]: both towers
/// at once, then J(T), the image alone and J(T, I) per sample), the pixels made model inputs
/// inside the timed call as the CLI does.
fn score_guard_batch(
    guard: &Guard,
    samples: &[Sample],
    images: Option<&[leakscope::preprocess::PixelTensor]>,
) -> Result<(), String> {
    let inputs = match images {
        Some(images) => images
            .iter()
            .map(|p| {
                guard
                    .embedder
                    .model_input(p)
                    .map(|input| SampleImage::Input(Box::new(input)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?,
        None => samples.iter().map(|_| SampleImage::NotRead).collect(),
    };
    pollster::block_on(score_batch(guard, samples, inputs))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Bench samples: the queries as dataset samples (ids `0`, `1`, …).
fn samples_of(texts: &[String]) -> Vec<Sample> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Sample {
            id: i.to_string(),
            text: text.clone(),
            image: None,
            category: None,
            sub_category: None,
            source: "bench".into(),
            extra: Default::default(),
        })
        .collect()
}

/// `rows` unit vectors of dimension `dim` (deterministic, all different).
fn unit_rows(rows: usize, dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * dim);
    for r in 0..rows {
        let row: Vec<f32> = (0..dim)
            .map(|i| ((r * 31 + i * 7) as f32 * 0.37).sin())
            .collect();
        let norm = row
            .iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt()
            .max(f32::MIN_POSITIVE);
        out.extend(row.iter().map(|x| x / norm));
    }
    out
}

fn time(op: &mut dyn FnMut() -> Result<(), String>) -> Result<f64, String> {
    let start = Instant::now();
    op()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Median and 90th percentile (nearest rank) of the samples.
pub fn median_p90(samples: &[f64]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let p90 = sorted[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
    (median, p90)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_use_nearest_rank() {
        assert_eq!(median_p90(&[3.0, 1.0, 2.0]), (2.0, 3.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_p90(&ten), (5.5, 9.0));
    }
}
