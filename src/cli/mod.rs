//! The `leakscope` subcommands that need more than a screenful: `leakage` (the VSIL report over
//! a whole benchmark, resumable), `calibrate` (Platt parameters for a guard head), `eval` (a
//! VLSBench evaluation of a model API, resumable) and `bench` (timings against PyTorch), plus
//! the helpers every command shares (reading a checkpoint folder, picking the backend, loading
//! the guard). Native only: this module belongs to the binary, which the `cli` feature gates.

pub mod bake;
pub mod bench;
pub mod calibrate;
pub mod compare;
pub mod eval;
pub mod fetch_model;
mod images;
pub mod leakage;

use std::path::Path;

use clap::ValueEnum;
use leakscope::compute::{ComputeDevice, Precision};
use leakscope::embedder::{CheckpointFiles, ClipEmbedder};
use leakscope::hub::download::MAX_DOWNLOAD_BYTES;
use leakscope::leakage::guard::Guard;
use leakscope::leakage::head::GuardHead;
use leakscope::platform::native::files::read_regular;
use leakscope::tokenizer::TokenizerMode;

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend.
    Flex,
    /// wgpu (Vulkan/Metal/DX12), falling back to the CPU if no adapter works.
    Wgpu,
    /// wgpu computing in f16 where the adapter has shader-f16 (else f32, with a note).
    WgpuF16,
}

impl Backend {
    /// The device to run on; wgpu falls back to the CPU, and f16 to f32, with a note on
    /// stderr.
    pub fn device(self) -> ComputeDevice {
        let wanted = match self {
            Backend::Flex => return ComputeDevice::flex(),
            Backend::Wgpu => Precision::F32,
            Backend::WgpuF16 => Precision::F16,
        };
        match pollster::block_on(ComputeDevice::gpu_with(wanted)) {
            Ok(device) => {
                if device.precision != wanted {
                    eprintln!("note: the adapter has no shader-f16; computing in f32");
                }
                device
            }
            Err(why) => {
                eprintln!("note: {why}; using the CPU");
                ComputeDevice::flex()
            }
        }
    }
}

/// A regular file (never a FIFO, a device or a folder), at most the largest checkpoint file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    read_limited(path, MAX_DOWNLOAD_BYTES)
}

/// A regular file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    read_regular(path, limit).map_err(|e| e.to_string())
}

fn read_optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, String> {
    let path = dir.join(name);
    if path.exists() {
        read_file(&path).map(Some)
    } else {
        Ok(None)
    }
}

/// A checkpoint folder in Hugging Face layout, read into memory.
pub fn checkpoint_files(dir: &Path) -> Result<CheckpointFiles, String> {
    let weights = dir.join("model.safetensors");
    if !weights.exists() && dir.join("pytorch_model.bin").exists() {
        return Err(format!(
            "{} has pytorch_model.bin but no model.safetensors: run `leakscope convert {}` first",
            dir.display(),
            dir.join("pytorch_model.bin").display()
        ));
    }
    if !dir.join("config.json").exists() {
        return Err(format!(
            "{} not found: --model takes a checkpoint folder in Hugging Face layout \
             (config.json, model.safetensors, vocab.json + merges.txt, preprocessor_config.json)",
            dir.join("config.json").display()
        ));
    }
    Ok(CheckpointFiles {
        config_json: read_file(&dir.join("config.json"))?,
        model_safetensors: read_file(&weights)?,
        vocab_json: read_optional(dir, "vocab.json")?,
        merges_txt: read_optional(dir, "merges.txt")?,
        tokenizer_json: read_optional(dir, "tokenizer.json")?,
        preprocessor_config_json: read_optional(dir, "preprocessor_config.json")?,
    })
}

/// The head in `path`, or the built-in one.
pub fn load_head(path: Option<&Path>) -> Result<GuardHead, String> {
    match path {
        None => Ok(GuardHead::builtin()),
        Some(path) => GuardHead::from_json_bytes(&read_file(path)?).map_err(|e| {
            format!(
                "{}: {e} (leave out --head to use the built-in head)",
                path.display()
            )
        }),
    }
}

/// Loads the checkpoint and embeds the head's concepts (once, batched).
pub fn load_guard(
    files: CheckpointFiles,
    head: GuardHead,
    device: &ComputeDevice,
    tokenizer: TokenizerMode,
) -> Result<Guard, String> {
    let embedder = pollster::block_on(ClipEmbedder::load_with_tokenizer(
        files,
        &device.device,
        tokenizer,
    ))
    .map_err(|e| format!("loading the model: {e}"))?;
    pollster::block_on(Guard::new(embedder, head))
        .map_err(|e| format!("embedding the guard head's concepts: {e}"))
}

/// A `usize` of at least 1 (for `--batch` and `--limit`).
pub fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}

/// Runs `work` on one of rayon's pool threads. Flex's matrix products fork into that pool;
/// forked from a thread outside it, every product pays a hand-over and a wake-up, and the
/// caller sits idle meanwhile. Measured on the 2-core machine: a text-tower call on 8 queries
/// 240 → 191 ms (ViT-B/32). The model-running commands and the bench's rows start here.
pub fn on_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// Decodes and preprocesses images on every core (the model runs one batch at a time; the PNG
/// decoding and bicubic resizing around it would otherwise dominate on a GPU).
pub fn preprocess_parallel(
    config: &leakscope::preprocess::PreprocessConfig,
    images: Vec<Result<Vec<u8>, String>>,
) -> Vec<Result<leakscope::preprocess::PixelTensor, String>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, images.len().max(1));
    let per_thread = images.len().div_ceil(threads).max(1);
    let decode = |item: Result<Vec<u8>, String>| {
        item.and_then(|bytes| {
            leakscope::preprocess::preprocess_bytes(config, &bytes).map_err(|e| e.to_string())
        })
    };
    let mut chunks: Vec<Vec<Result<Vec<u8>, String>>> = Vec::new();
    let mut rest = images.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(per_thread).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let len = chunk.len();
                let handle = scope.spawn(move || chunk.into_iter().map(decode).collect::<Vec<_>>());
                (len, handle)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, handle)| match handle.join() {
                Ok(done) => done,
                // A panic in the decoder is a bug; the batch goes on with the reason recorded.
                Err(_) => (0..len)
                    .map(|_| Err("the image decoder panicked on this batch".to_owned()))
                    .collect(),
            })
            .collect()
    })
}
