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
/// (tests/fixtures/guard/expected.json, checked natively by tests/native/guard.rs) within 1e-4.
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

/// The WGSL preprocessing kernels in Chromium's WebGPU give the CPU path's values exactly
/// (tests/native/shaders.rs checks every fixture natively on lavapipe).
#[wasm_bindgen_test]
async fn gpu_preprocessing_equals_the_cpu_path_in_the_browser() {
    use leakscope::gpu::preprocess::preprocess_rgba_gpu;
    use leakscope::preprocess::{DecodeOptions, Resample, decode_rgb, preprocess_rgba_with};

    let device = webgpu().await;
    let opts = DecodeOptions::default();
    let images: [(&str, &[u8]); 4] = [
        (
            "rgb_225x300",
            include_bytes!("fixtures/preprocess/images/rgb_225x300.png"),
        ),
        (
            "rgba_320x240",
            include_bytes!("fixtures/preprocess/images/rgba_320x240.png"),
        ),
        (
            "rgb_tall_7x1000",
            include_bytes!("fixtures/preprocess/images/rgb_tall_7x1000.png"),
        ),
        (
            "rgb_2x3",
            include_bytes!("fixtures/preprocess/images/rgb_2x3.png"),
        ),
    ];
    let padded = PreprocessConfig::from_json_str(
        r#"{"size": {"shortest_edge": 40}, "crop_size": {"height": 48, "width": 44}}"#,
    )
    .unwrap();
    let mut worst = 0f32;
    for (name, bytes) in images {
        let rgb = decode_rgb(bytes, &opts).unwrap();
        let rgba = rgb.to_rgba();
        for base in [PreprocessConfig::default(), padded.clone()] {
            for filter in [
                Resample::Nearest,
                Resample::Bilinear,
                Resample::Bicubic,
                Resample::Box,
                Resample::Hamming,
                Resample::Lanczos,
            ] {
                let cfg = PreprocessConfig {
                    resample: filter,
                    ..base.clone()
                };
                let cpu = preprocess_rgba_with(&cfg, rgb.width, rgb.height, &rgba, &opts).unwrap();
                let gpu =
                    preprocess_rgba_gpu(&device.device, &cfg, rgb.width, rgb.height, &rgba, &opts)
                        .unwrap();
                let gpu = leakscope::compute::read_f32(gpu).await.unwrap();
                let diff = max_abs_diff(&gpu, &cpu.data);
                assert!(diff <= 1e-6, "{name} {filter:?}: {diff:e}");
                worst = worst.max(diff);
            }
        }
    }
    web_sys_log(&format!(
        "browser GPU preprocessing: 48 runs, max |gpu - cpu| {worst:e}"
    ));
}

/// The blur and relevance overlay shaders in Chromium's WebGPU give the CPU bytes exactly.
#[wasm_bindgen_test]
async fn gpu_overlay_equals_the_cpu_overlay_in_the_browser() {
    use leakscope::gpu::overlay::render_overlay_gpu;
    use leakscope::overlay::{
        GridRect, OverlayOptions, OverlayPlan, RelevanceScale, render_overlay,
    };
    use leakscope::preprocess::{DecodeOptions, decode_rgb};

    let device = webgpu().await;
    let bytes = include_bytes!("fixtures/preprocess/images/rgba_320x240.png");
    let rgb = decode_rgb(bytes, &DecodeOptions::default()).unwrap();
    let (w, h) = (rgb.width, rgb.height);
    let rgba = rgb.to_rgba();
    let relevance: Vec<f32> = (0..49)
        .map(|i| ((i * 37) % 11) as f32 / 10.0 - 0.3)
        .collect();
    let mut cases = 0;
    for rect in [
        GridRect::whole(w, h),
        GridRect {
            x: -5,
            y: 7,
            width: 200,
            height: 250,
        },
    ] {
        for (blur_radius, scale) in [
            (0, RelevanceScale::MinMax),
            (
                5,
                RelevanceScale::Fixed {
                    low: 0.0,
                    high: 0.5,
                },
            ),
        ] {
            let options = OverlayOptions {
                opacity: 200,
                blur_radius,
                scale,
            };
            let plan = OverlayPlan::new(w, h, &relevance, 7, 7, rect, &options).unwrap();
            let cpu = render_overlay(&plan, &rgba).unwrap();
            let gpu = render_overlay_gpu(&device.device, &plan, &rgba)
                .await
                .unwrap();
            assert!(cpu == gpu, "rect {rect:?} blur {blur_radius}: bytes differ");
            cases += 1;
        }
    }
    web_sys_log(&format!(
        "browser GPU overlay: {cases} cases, GPU bytes == CPU bytes"
    ));
}
