//! Shared helpers for native integration tests: fixture paths, reference tensors, the one
//! wgpu device a test process may initialise.
#![allow(dead_code)]

use leakscope::compute::ComputeDevice;
use safetensors::{Dtype, SafeTensors};
use std::path::PathBuf;
use std::sync::OnceLock;

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read(path: impl Into<PathBuf>) -> Vec<u8> {
    let path = path.into();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Burn's wgpu runtime can be initialised once per process: every test shares this device.
pub fn wgpu() -> ComputeDevice {
    static GPU: OnceLock<ComputeDevice> = OnceLock::new();
    GPU.get_or_init(|| {
        pollster::block_on(ComputeDevice::gpu())
            .expect("a wgpu adapter (CI installs Mesa's lavapipe: mesa-vulkan-drivers)")
    })
    .clone()
}

/// Both native backends the app ships: the CPU one and wgpu.
pub fn backends() -> Vec<ComputeDevice> {
    vec![ComputeDevice::flex(), wgpu()]
}

/// A tensor from a reference file as (shape, f32 values); ints are converted.
pub struct RefTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl RefTensor {
    pub fn f32(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
    pub fn rows_u32(&self) -> Vec<Vec<u32>> {
        let cols = *self.shape.last().unwrap();
        self.values
            .chunks(cols)
            .map(|r| r.iter().map(|&v| v as u32).collect())
            .collect()
    }
}

pub fn ref_tensor(bytes: &[u8], name: &str) -> RefTensor {
    let file = SafeTensors::deserialize(bytes).expect("reference file");
    let view = file
        .tensor(name)
        .unwrap_or_else(|_| panic!("reference tensor {name}"));
    let data = view.data();
    let values: Vec<f64> = match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        Dtype::I64 => data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        Dtype::U8 => data.iter().map(|&b| b as f64).collect(),
        other => panic!("{name}: unsupported reference dtype {other:?}"),
    };
    RefTensor {
        shape: view.shape().to_vec(),
        values,
    }
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Largest difference relative to the largest reference magnitude: `max|a-b| / max|b|`.
/// (Per-entry relative error is meaningless for logits near zero, which random-weight models
/// produce in numbers: a 8e-6 absolute error on a -0.007 logit reads as 1.1e-3.)
pub fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b
        .iter()
        .fold(0.0f32, |m, y| m.max(y.abs()))
        .max(f32::MIN_POSITIVE);
    max_abs_diff(a, b) / scale
}

/// A checkpoint folder in Hugging Face layout (vocab.json + merges.txt) read into memory.
pub fn checkpoint_files(dir: &std::path::Path) -> leakscope::embedder::CheckpointFiles {
    leakscope::embedder::CheckpointFiles {
        config_json: read(dir.join("config.json")),
        model_safetensors: read(dir.join("model.safetensors")),
        vocab_json: Some(read(dir.join("vocab.json"))),
        merges_txt: Some(read(dir.join("merges.txt"))),
        tokenizer_json: None,
        preprocessor_config_json: Some(read(dir.join("preprocessor_config.json"))),
    }
}

/// Runs the `leakscope` binary this test build made: (success, stdout, stderr).
pub fn leakscope(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("run leakscope");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
