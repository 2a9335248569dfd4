//! Browser tests: run by `cargo test --target wasm32-unknown-unknown --no-default-features
//! --test web` in headless Chromium through wasm-bindgen-test-runner (webdriver.json adds
//! `--enable-unsafe-webgpu`, so WebGPU runs on SwiftShader).
#![cfg(target_arch = "wasm32")]

use leakscope::compute::{BackendKind, ComputeDevice, SMOKE_EXPECTED, smoke_check};
use leakscope::embedder::{CheckpointFiles, ClipEmbedder};
use leakscope::preprocess::{PreprocessConfig, Rgb8Image, to_tensor};
use safetensors::{Dtype, SafeTensors};
use std::cell::RefCell;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    /// Burn's WebGPU runtime is initialised once per page; every test reuses it.
    static GPU: RefCell<Option<ComputeDevice>> = const { RefCell::new(None) };
}

async fn webgpu() -> ComputeDevice {
    if let Some(device) = GPU.with(|g| g.borrow().clone()) {
        return device;
    }
    let device = ComputeDevice::gpu()
        .await
        .expect("WebGPU must initialise with --enable-unsafe-webgpu");
    GPU.with(|g| *g.borrow_mut() = Some(device.clone()));
    device
}

#[wasm_bindgen_test]
async fn flex_backend_computes_in_the_browser() {
    let device = ComputeDevice::flex();
    let result = smoke_check(&device.device).await.expect("flex read-back");
    assert_eq!(result.product, SMOKE_EXPECTED);
}

#[wasm_bindgen_test]
async fn webgpu_backend_computes_in_the_browser() {
    let device = webgpu().await;
    assert_eq!(device.kind, BackendKind::WebGpu);
    let result = smoke_check(&device.device).await.expect("WebGPU read-back");
    assert_eq!(result.product, SMOKE_EXPECTED);
    let row_sum: f32 = result.softmax[..2].iter().sum();
    assert!(
        (row_sum - 1.0).abs() < 1e-6,
        "softmax row sums to {row_sum}"
    );
}

struct Fixture {
    config: &'static [u8],
    model: &'static [u8],
    vocab: &'static [u8],
    merges: &'static [u8],
    preprocessor: &'static [u8],
    reference: &'static [u8],
    texts: &'static [u8],
}

macro_rules! fixture {
    ($dir:literal) => {
        Fixture {
            config: include_bytes!(concat!("fixtures/", $dir, "/config.json")),
            model: include_bytes!(concat!("fixtures/", $dir, "/model.safetensors")),
            vocab: include_bytes!(concat!("fixtures/", $dir, "/vocab.json")),
            merges: include_bytes!(concat!("fixtures/", $dir, "/merges.txt")),
            preprocessor: include_bytes!(concat!("fixtures/", $dir, "/preprocessor_config.json")),
            reference: include_bytes!(concat!("fixtures/", $dir, "/reference.safetensors")),
            texts: include_bytes!(concat!("fixtures/", $dir, "/reference.json")),
        }
    };
}

fn reference(bytes: &[u8], name: &str) -> (Vec<usize>, Vec<f32>) {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let view = file.tensor(name).unwrap();
    let values = match view.dtype() {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::U8 => view.data().iter().map(|&b| b as f32).collect(),
        other => panic!("{other:?}"),
    };
    (view.shape().to_vec(), values)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Tokenizer + model on `device`, against transformers' normalised embeddings.
async fn parity(fixture: Fixture, device: &ComputeDevice) -> (f32, f32) {
    let files = CheckpointFiles {
        config_json: fixture.config.to_vec(),
        model_safetensors: fixture.model.to_vec(),
        vocab_json: Some(fixture.vocab.to_vec()),
        merges_txt: Some(fixture.merges.to_vec()),
        tokenizer_json: None,
        preprocessor_config_json: Some(fixture.preprocessor.to_vec()),
    };
    let embedder = ClipEmbedder::load(files, &device.device)
        .await
        .expect("load fixture");
    let meta: serde_json::Value = serde_json::from_slice(fixture.texts).unwrap();
    let texts: Vec<&str> = meta["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let text = embedder
        .text_embeddings(&texts)
        .await
        .expect("text embeddings");

    let config = PreprocessConfig::from_json_bytes(fixture.preprocessor).unwrap();
    let (shape, crops) = reference(fixture.reference, "pixel_rgb_u8");
    let [_, h, w, _] = shape[..] else { panic!() };
    let pixels: Vec<_> = crops
        .chunks(h * w * 3)
        .map(|c| {
            to_tensor(
                &config,
                &Rgb8Image {
                    width: w as u32,
                    height: h as u32,
                    data: c.iter().map(|&v| v as u8).collect(),
                },
            )
        })
        .collect();
    let image = embedder
        .image_embeddings(&pixels)
        .await
        .expect("image embeddings");
    (
        max_abs_diff(
            &text.values,
            &reference(fixture.reference, "text_embeds_normalized").1,
        ),
        max_abs_diff(
            &image.values,
            &reference(fixture.reference, "image_embeds_normalized").1,
        ),
    )
}

#[wasm_bindgen_test]
async fn clip_port_matches_transformers_on_webgpu_and_flex_in_the_browser() {
    for device in [webgpu().await, ComputeDevice::flex()] {
        for (name, fixture) in [
            ("tiny-clip", fixture!("tiny-clip")),
            ("tiny-clip-gelu", fixture!("tiny-clip-gelu")),
        ] {
            let (text, image) = parity(fixture, &device).await;
            web_sys_log(&format!(
                "browser {} {name}: text {text:.1e} image {image:.1e}",
                device.kind.label()
            ));
            assert!(
                text <= 1e-4 && image <= 1e-4,
                "{} {name}: text {text:e} image {image:e}",
                device.kind.label()
            );
        }
    }
}

fn web_sys_log(message: &str) {
    wasm_bindgen_test::console_log!("{message}");
}

/// The guard in the browser gives the numbers the native test pins
/// (tests/fixtures/guard/expected.json, checked natively by tests/guard.rs) within 1e-4.
#[wasm_bindgen_test]
async fn guard_scores_in_the_browser_equal_the_native_ones() {
    use leakscope::leakage::guard::Guard;
    use leakscope::leakage::head::GuardHead;

    let images: [(&str, &[u8]); 3] = [
        (
            "images/gradient_320x240.png",
            include_bytes!("fixtures/tiny-clip/images/gradient_320x240.png"),
        ),
        (
            "images/shapes_150x200.png",
            include_bytes!("fixtures/tiny-clip/images/shapes_150x200.png"),
        ),
        (
            "images/gray_97x61.png",
            include_bytes!("fixtures/tiny-clip/images/gray_97x61.png"),
        ),
    ];
    let expected: Vec<serde_json::Value> =
        serde_json::from_slice(include_bytes!("fixtures/guard/expected.json")).unwrap();
    for device in [webgpu().await, ComputeDevice::flex()] {
        let fixture = fixture!("tiny-clip");
        let files = CheckpointFiles {
            config_json: fixture.config.to_vec(),
            model_safetensors: fixture.model.to_vec(),
            vocab_json: Some(fixture.vocab.to_vec()),
            merges_txt: Some(fixture.merges.to_vec()),
            tokenizer_json: None,
            preprocessor_config_json: Some(fixture.preprocessor.to_vec()),
        };
        let embedder = ClipEmbedder::load(files, &device.device).await.unwrap();
        let guard = Guard::new(embedder, GuardHead::builtin()).await.unwrap();
        let mut worst = 0.0f32;
        for want in &expected {
            let text = want["text"].as_str().unwrap();
            let pixels = want["image"].as_str().map(|name| {
                let bytes = images.iter().find(|(n, _)| *n == name).unwrap().1;
                guard.embedder.preprocess_image(bytes).unwrap()
            });
            let got = guard.score_sample(text, pixels.as_ref()).await.unwrap();
            let attribution = guard.word_attribution(text).await.unwrap();
            let pairs = [
                (Some(got.text.p_unsafe), &want["text_p"]),
                (Some(got.text.margin), &want["text_margin"]),
                (got.image.as_ref().map(|s| s.p_unsafe), &want["image_p"]),
                (got.pair.as_ref().map(|s| s.p_unsafe), &want["pair_p"]),
                (got.pair.as_ref().map(|s| s.margin), &want["pair_margin"]),
            ];
            for (g, w) in pairs {
                if let (Some(g), Some(w)) = (g, w.as_f64()) {
                    worst = worst.max((g - w as f32).abs());
                }
            }
            for (g, w) in attribution
                .iter()
                .zip(want["attribution"].as_array().unwrap())
            {
                worst = worst.max((g.delta - w.as_f64().unwrap() as f32).abs());
            }
        }
        web_sys_log(&format!(
            "browser guard {}: max |browser - native| {worst:.1e}",
            device.kind.label()
        ));
        assert!(worst <= 1e-4, "{}: {worst:e}", device.kind.label());
    }
}
