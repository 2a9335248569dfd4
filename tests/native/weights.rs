//! Bad checkpoints get typed errors that name the tensor and say what to do; nothing panics.

use crate::common::*;
use burn::tensor::Device;
use leakscope::embedder::{CheckpointFiles, ClipEmbedder, EmbedError};
use leakscope::weights::{WeightsError, load_clip};
use safetensors::SafeTensors;

fn tiny() -> (Vec<u8>, Vec<u8>) {
    let dir = fixture("tiny-clip");
    (
        read(dir.join("config.json")),
        read(dir.join("model.safetensors")),
    )
}

/// Re-serialise a safetensors file through `edit` on its (name, tensor) list.
fn rewrite(
    bytes: &[u8],
    edit: impl FnOnce(&mut Vec<(String, safetensors::tensor::TensorView<'_>)>),
) -> Vec<u8> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let mut tensors = file.tensors();
    edit(&mut tensors);
    safetensors::serialize(tensors, None).unwrap()
}

fn load_err(config: &[u8], weights: Vec<u8>) -> WeightsError {
    load_clip(config, weights, &Device::flex()).expect_err("must be refused")
}

#[test]
fn the_fixture_loads() {
    let (config, weights) = tiny();
    load_clip(&config, weights, &Device::flex()).unwrap();
}

#[test]
fn non_safetensors_and_truncated_downloads_are_refused() {
    let (config, weights) = tiny();
    let err = load_err(&config, b"<html>404 Not Found</html>".to_vec());
    assert!(matches!(err, WeightsError::NotSafetensors(_)), "{err}");
    assert!(
        !err.to_string().contains("download"),
        "not a download problem: {err}"
    );
    let truncated = weights[..weights.len() / 2].to_vec();
    let err = load_err(&config, truncated);
    assert!(matches!(err, WeightsError::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("download it again"), "{err}");
}

#[test]
fn a_missing_tensor_is_named_with_its_expected_shape() {
    let (config, weights) = tiny();
    let edited = rewrite(&weights, |t| {
        t.retain(|(name, _)| name != "text_projection.weight")
    });
    match load_err(&config, edited) {
        WeightsError::Missing {
            tensor,
            expected,
            count,
        } => {
            assert_eq!(
                (tensor.as_str(), expected, count),
                ("text_projection.weight", vec![16, 32], 1)
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn an_unexpected_tensor_is_named() {
    let (config, weights) = tiny();
    let extra = rewrite(&weights, |t| {
        let view = t
            .iter()
            .find(|(n, _)| n == "logit_scale")
            .unwrap()
            .1
            .clone();
        t.push(("classifier.weight".into(), view));
    });
    let err = load_err(&config, extra);
    assert!(
        matches!(&err, WeightsError::Unexpected { tensor, .. } if tensor == "classifier.weight"),
        "{err}"
    );
}

#[test]
fn weights_of_another_config_are_a_shape_mismatch() {
    let (_, weights) = tiny();
    let other_config = read(fixture("tiny-clip-gelu").join("config.json"));
    let err = load_err(&other_config, weights);
    match &err {
        WeightsError::ShapeMismatch {
            tensor,
            expected,
            found,
        } => {
            assert_eq!(tensor, "text_model.embeddings.token_embedding.weight");
            assert_eq!(
                (expected.clone(), found.clone()),
                (vec![4514, 8], vec![4514, 32])
            );
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains("config.json that came with these weights")
    );
}

#[test]
fn a_config_that_is_not_clip_is_refused() {
    let (_, weights) = tiny();
    let err = load_err(br#"{"model_type": "bert"}"#, weights.clone());
    assert!(err.to_string().contains("bert"), "{err}");
    let err = load_err(b"not json", weights);
    assert!(err.to_string().contains("config.json"), "{err}");
}

fn embedder_files(dir: &str) -> CheckpointFiles {
    checkpoint_files(&fixture(dir))
}

#[test]
fn tokenizer_and_preprocessor_must_belong_to_the_model() {
    let device = Device::flex();
    let mut files = embedder_files("tiny-clip");
    files.vocab_json = None;
    let err = pollster::block_on(ClipEmbedder::load(files, &device)).unwrap_err();
    assert!(matches!(err, EmbedError::NoTokenizer), "{err}");

    // A 224-px preprocessor on the 64-px model: refused at load, before any image.
    let mut files = embedder_files("tiny-clip-gelu");
    files.preprocessor_config_json =
        Some(read(fixture("tiny-clip").join("preprocessor_config.json")));
    let err = pollster::block_on(ClipEmbedder::load(files, &device)).unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::PreprocessMismatch {
                size: 64,
                height: 224,
                ..
            }
        ),
        "{err}"
    );
    // Without a crop the size depends on the image: checked per image.
    let embedder = pollster::block_on(ClipEmbedder::load(
        embedder_files("tiny-clip-gelu"),
        &device,
    ))
    .unwrap();
    let wrong = leakscope::preprocess::PixelTensor {
        data: vec![0.0; 3 * 224 * 224],
        height: 224,
        width: 224,
    };
    let err = pollster::block_on(embedder.image_embeddings(&[wrong])).unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::ImageSize {
                size: 64,
                height: 224,
                ..
            }
        ),
        "{err}"
    );

    // Empty batches are answered without touching the device.
    let embedder =
        pollster::block_on(ClipEmbedder::load(embedder_files("tiny-clip"), &device)).unwrap();
    let none: [&str; 0] = [];
    assert_eq!(
        pollster::block_on(embedder.text_embeddings(&none))
            .unwrap()
            .rows,
        0
    );
    assert_eq!(
        pollster::block_on(embedder.image_embeddings(&[]))
            .unwrap()
            .rows,
        0
    );
}
