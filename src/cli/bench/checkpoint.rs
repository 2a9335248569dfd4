//! The checkpoint a benchmark runs when no `--model` is given: a named shape with random
//! weights, written as a safetensors buffer in memory and loaded through the same
//! [`ClipEmbedder::load`] path as a downloaded checkpoint (key remap, `Linear` transposes), so
//! the timed model has the layout a real one has. Nothing is read from disk: the GPU machine
//! gets the binary alone.
//!
//! The tokenizer is the committed 4,000-merge fixture vocabulary (`tests/fixtures/tiny-clip`,
//! 97 KB, embedded). Its ids are all below the ViT-B/32 vocabulary size, so the real tokenizer
//! code runs; words split into a few more tokens than with the full 48,894-merge vocabulary, so
//! text rows do slightly more work than with a real checkpoint, never less.

use leakscope::embedder::CheckpointFiles;
use leakscope::model::ClipConfig;
use leakscope::weights::expected_tensors;

/// The fixture vocabulary (4,514 ids; `<|endoftext|>` = 4513 is the largest).
pub const VOCAB_JSON: &[u8] = include_bytes!("../../../tests/fixtures/tiny-clip/vocab.json");
pub const MERGES_TXT: &[u8] = include_bytes!("../../../tests/fixtures/tiny-clip/merges.txt");

/// openai/clip-vit-base-patch32's shape. Every omitted key takes transformers' default, which
/// is this shape; the token ids are OpenAI's (`eos_token_id: 2` selects argmax pooling, which
/// pools at `<|endoftext|>` because it is the largest id in any CLIP vocabulary).
const VIT_B_32: &str = r#"{"model_type": "clip",
 "text_config": {"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1},
 "vision_config": {}}"#;

/// A TinyCLIP-ViT-8M/16-Text-3M-like shape for the page's lite preset: width 256 in both
/// towers, 10 vision and 3 text layers, patch 16. The repository's config.json cannot be read
/// here (no hub); this shape is derived from its parameter count (8M vision + 3M text layers
/// plus the 49,408 × 256 token table, 93.8 MB in f32 as its file listing says) and weighs the
/// same within a few percent, which is what a download and a forward pass cost.
const TINYCLIP_8M: &str = r#"{"model_type": "clip", "projection_dim": 512,
 "text_config": {"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1, "hidden_size": 256,
   "intermediate_size": 1024, "num_attention_heads": 4, "num_hidden_layers": 3},
 "vision_config": {"hidden_size": 256, "intermediate_size": 1024, "num_attention_heads": 4,
   "num_hidden_layers": 10, "patch_size": 16}}"#;

/// The tiny test checkpoint's shape (2 layers, width 32) with the fixture vocabulary: a
/// benchmark that finishes in seconds, for tests of the harness itself.
const TINY: &[u8] = include_bytes!("../../../tests/fixtures/tiny-clip/config.json");

/// Shapes `--config` names.
pub const CONFIG_NAMES: &[&str] = &["vit-b-32", "tinyclip-8m", "tiny"];

/// `config.json` bytes of a named shape, or of a file.
pub fn config_json(name_or_path: &str) -> Result<Vec<u8>, String> {
    match name_or_path {
        "vit-b-32" => Ok(VIT_B_32.as_bytes().to_vec()),
        "tinyclip-8m" => Ok(TINYCLIP_8M.as_bytes().to_vec()),
        "tiny" => Ok(TINY.to_vec()),
        path if std::path::Path::new(path).is_file() => super::super::read_file(path.as_ref()),
        other => Err(format!(
            "--config {other}: not one of {} and not a config.json file",
            CONFIG_NAMES.join(", ")
        )),
    }
}

/// A complete checkpoint (config, random weights, fixture tokenizer) for `config_json`.
pub fn random_checkpoint(config_json: Vec<u8>, seed: u64) -> Result<CheckpointFiles, String> {
    let config = ClipConfig::from_json_bytes(&config_json).map_err(|e| e.to_string())?;
    Ok(CheckpointFiles {
        config_json,
        model_safetensors: random_safetensors(&config, seed),
        vocab_json: Some(VOCAB_JSON.to_vec()),
        merges_txt: Some(MERGES_TXT.to_vec()),
        tokenizer_json: None,
        preprocessor_config_json: None,
    })
}

/// Every tensor [`expected_tensors`] lists, f32, written straight into one safetensors buffer
/// (no second copy: the ViT-B/32 buffer is 605 MB). Values: uniform with standard deviation
/// 0.02 (transformers' `initializer_range`), LayerNorm scales 1 + that, `logit_scale` ln 100.
fn random_safetensors(config: &ClipConfig, seed: u64) -> Vec<u8> {
    let tensors = expected_tensors(config);
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape) in &tensors {
        let bytes = 4 * shape.iter().product::<usize>();
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let mut header = serde_json::Value::Object(header).to_string().into_bytes();
    // The data must start 8-byte aligned; safetensors pads the header with spaces.
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    let mut rng = SplitMix64(seed);
    // Uniform on [-a, a] has standard deviation a / √3.
    let half_width = 0.02 * 3f32.sqrt();
    for (name, shape) in &tensors {
        let count = shape.iter().product::<usize>();
        let is_norm_scale = name.ends_with(".weight")
            && (name.contains("layer_norm")
                || name.contains("layrnorm")
                || name.contains("layernorm"));
        let centre = if is_norm_scale { 1.0 } else { 0.0 };
        for _ in 0..count {
            let value = if name == "logit_scale" {
                100f32.ln()
            } else {
                centre + half_width * (2.0 * rng.unit() - 1.0)
            };
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out
}

/// Steele, Lea and Flood's SplitMix64: fast, seedable, plenty for weights nobody reads.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1) from the top 24 bits.
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Writes `files` as a checkpoint folder in Hugging Face layout (for the page's benchmark,
/// which serves it from a local hub).
pub fn write_folder(files: &CheckpointFiles, dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let parts = [
        ("config.json", Some(&files.config_json)),
        ("model.safetensors", Some(&files.model_safetensors)),
        ("vocab.json", files.vocab_json.as_ref()),
        ("merges.txt", files.merges_txt.as_ref()),
    ];
    for (name, bytes) in parts {
        if let Some(bytes) = bytes {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_random_tiny_checkpoint_passes_the_loader_checks() {
        let files = random_checkpoint(config_json("tiny").unwrap(), 7).unwrap();
        let config = ClipConfig::from_json_bytes(&files.config_json).unwrap();
        leakscope::weights::check_checkpoint(&config, &files.model_safetensors).unwrap();
    }

    #[test]
    fn the_lite_shape_weighs_what_its_listing_says() {
        let config = ClipConfig::from_json_bytes(&config_json("tinyclip-8m").unwrap()).unwrap();
        let floats: usize = expected_tensors(&config)
            .iter()
            .map(|(_, shape)| shape.iter().product::<usize>())
            .sum();
        let mb = 4.0 * floats as f64 / 1e6;
        assert!((mb - 93.8).abs() / 93.8 < 0.05, "{mb:.1} MB");
    }
}
