//! The `leakscope` binary, as a person runs it: `embed` reproduces transformers' embeddings
//! from raw texts and image files (tokenizer + preprocessing + model), `convert` turns a
//! pytorch_model.bin into safetensors that load to the same model.

use crate::common::*;

fn column(json: &serde_json::Value, key: &str) -> Vec<f32> {
    json[key]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect()
}

/// What `leakscope embed` printed for a reference folder's texts and images, against the
/// transformers outputs saved beside them.
pub(crate) struct EmbedDiffs {
    /// Max |Δ| of the normalised text embeddings.
    pub text: f32,
    /// Max |Δ| of the normalised image embeddings.
    pub image: f32,
    /// Max relative Δ of `logits_per_image`.
    pub logits: f32,
    /// The device line the binary printed (`backend` in its JSON), e.g. "wgpu · llvmpipe · f16".
    pub backend: String,
    /// What the binary wrote to stderr (notes such as an f32 fallback).
    pub stderr: String,
}

/// Runs `leakscope embed --json --backend <backend>` on `dir`'s reference.json inputs and
/// compares with its reference.safetensors (token ids must be equal).
pub(crate) fn embed_vs_reference(dir: &std::path::Path, backend: &str) -> EmbedDiffs {
    let meta: serde_json::Value =
        serde_json::from_slice(&read(dir.join("reference.json"))).unwrap();
    let mut args = vec![
        "embed".to_string(),
        "--model".into(),
        dir.display().to_string(),
        "--json".into(),
        "--backend".into(),
        backend.into(),
    ];
    for text in meta["texts"].as_array().unwrap() {
        args.extend(["--text".into(), text.as_str().unwrap().to_string()]);
    }
    for image in meta["images"].as_array().unwrap() {
        args.extend([
            "--image".into(),
            dir.join(image.as_str().unwrap()).display().to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, stdout, stderr) = leakscope(&args);
    assert!(ok, "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let reference = read(dir.join("reference.safetensors"));

    let ids: Vec<u32> = out["token_ids"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
        })
        .collect();
    let expected_ids: Vec<u32> = ref_tensor(&reference, "input_ids").rows_u32().concat();
    assert_eq!(ids, expected_ids, "token ids");

    EmbedDiffs {
        text: max_abs_diff(
            &column(&out, "text_embeds"),
            &ref_tensor(&reference, "text_embeds_normalized").f32(),
        ),
        image: max_abs_diff(
            &column(&out, "image_embeds"),
            &ref_tensor(&reference, "image_embeds_normalized").f32(),
        ),
        logits: max_rel_diff(
            &column(&out, "logits_per_image"),
            &ref_tensor(&reference, "logits_per_image").f32(),
        ),
        backend: out["backend"].as_str().unwrap_or_default().to_owned(),
        stderr,
    }
}

#[test]
fn embed_matches_the_reference_from_raw_texts_and_image_files() {
    let d = embed_vs_reference(&fixture("tiny-clip"), "flex");
    println!(
        "embed CLI vs transformers: text {:.1e}, image {:.1e}, logits (rel) {:.1e}",
        d.text, d.image, d.logits
    );
    assert!(d.text <= 1e-4 && d.image <= 1e-4 && d.logits <= 1e-3);
}

#[test]
fn embed_explains_a_missing_checkpoint() {
    let (ok, _, stderr) = leakscope(&["embed", "--model", "/nonexistent", "--text", "x"]);
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/config.json"), "{stderr}");
}

#[test]
fn convert_turns_pytorch_bin_into_equivalent_safetensors() {
    let src = fixture("tiny-clip-gelu");
    let tmp = std::env::temp_dir().join(format!("leakscope-convert-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let out = tmp.join("model.safetensors");
    let (ok, stdout, stderr) = leakscope(&[
        "convert",
        &src.join("pytorch_model.bin").display().to_string(),
        "--output",
        &out.display().to_string(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("position_ids"),
        "dropped buffers are reported: {stdout}"
    );
    // Same tensors, same bytes as the checkpoint transformers saved as safetensors.
    let converted = read(&out);
    let original = read(src.join("model.safetensors"));
    let a = safetensors::SafeTensors::deserialize(&converted).unwrap();
    let b = safetensors::SafeTensors::deserialize(&original).unwrap();
    let mut names: Vec<_> = a.names();
    names.sort();
    let mut expected: Vec<_> = b.names();
    expected.sort();
    assert_eq!(names, expected);
    for name in names {
        assert_eq!(
            a.tensor(name).unwrap().data(),
            b.tensor(name).unwrap().data(),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&tmp).ok();
}
