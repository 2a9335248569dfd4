//! Browser tests: run by `cargo test --target wasm32-unknown-unknown --no-default-features
//! --test web` in headless Chromium through wasm-bindgen-test-runner (webdriver.json adds
//! `--enable-unsafe-webgpu`).
#![cfg(target_arch = "wasm32")]

use leakscope::compute::{BackendKind, ComputeDevice, SMOKE_EXPECTED, smoke_check};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn flex_backend_computes_in_the_browser() {
    let device = ComputeDevice::flex();
    let result = smoke_check(&device.device).await.expect("flex read-back");
    assert_eq!(result.product, SMOKE_EXPECTED);
}

#[wasm_bindgen_test]
async fn webgpu_backend_computes_in_the_browser() {
    let device = ComputeDevice::gpu()
        .await
        .expect("WebGPU must initialise with --enable-unsafe-webgpu");
    assert_eq!(device.kind, BackendKind::WebGpu);
    let result = smoke_check(&device.device).await.expect("WebGPU read-back");
    assert_eq!(result.product, SMOKE_EXPECTED);
    let row_sum: f32 = result.softmax[..2].iter().sum();
    assert!(
        (row_sum - 1.0).abs() < 1e-6,
        "softmax row sums to {row_sum}"
    );
}
