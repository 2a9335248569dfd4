//! Native backends: Burn's `flex` CPU backend, and wgpu (Mesa's lavapipe Vulkan driver on CI).

use leakscope::compute::{BackendKind, ComputeDevice, SMOKE_EXPECTED, smoke_check};

#[test]
fn flex_backend_computes_the_smoke_product() {
    let device = ComputeDevice::flex();
    let result = pollster::block_on(smoke_check(&device.device)).expect("flex read-back");
    assert_eq!(result.product, SMOKE_EXPECTED);
    for row in result.softmax.chunks(2) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn wgpu_backend_computes_the_smoke_product() {
    // CI installs mesa-vulkan-drivers, so a software Vulkan adapter (lavapipe) always exists.
    let device = crate::common::wgpu();
    assert_eq!(device.kind, BackendKind::Wgpu);
    println!("wgpu adapter: {}", device.describe());
    let result = pollster::block_on(smoke_check(&device.device)).expect("wgpu read-back");
    assert_eq!(result.product, SMOKE_EXPECTED);
}
