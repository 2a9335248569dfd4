//! The relevance overlay ([`crate::overlay`]) on the GPU: `shaders/box_blur.wgsl` twice (along
//! x, then y) when the plan blurs, then `shaders/relevance_overlay.wgsl`, one async read-back
//! of the RGBA result for the page's canvas. Byte-identical to [`render_overlay`] (checked by
//! tests/native/shaders.rs).

use burn::tensor::Device;

use super::GpuError;
use super::kernel::{GpuContext, WgslKernel, groups_x};
use crate::overlay::{OverlayError, OverlayPlan, render_overlay};

const BOX_BLUR: WgslKernel = WgslKernel {
    entry: "box_blur",
    source: include_str!("../../shaders/box_blur.wgsl"),
};

const RELEVANCE_OVERLAY: WgslKernel = WgslKernel {
    entry: "relevance_overlay",
    source: include_str!("../../shaders/relevance_overlay.wgsl"),
};

/// [`render_overlay`] on `device`'s GPU: RGBA bytes of the plan's size in, RGBA bytes out.
pub async fn render_overlay_gpu(
    device: &Device,
    plan: &OverlayPlan,
    rgba: &[u8],
) -> Result<Vec<u8>, GpuError> {
    plan.check_pixels(rgba)?;
    GpuContext::check_size("image", rgba.len() as u64)?;
    let gpu = GpuContext::of(device)?;
    // At most 32 768² pixels and a 128 MiB buffer: the count fits u32.
    let pixels = (plan.width * plan.height) as usize;
    let invocations = pixels as u32;
    let groups = groups_x(invocations);

    let mut image = gpu.upload_bytes(rgba);
    if plan.blur_radius > 0 {
        for axis in [0, 1] {
            let params = gpu.upload(&[plan.width, plan.height, plan.blur_radius, axis, groups]);
            let blurred = gpu.empty(pixels);
            gpu.launch(BOX_BLUR, invocations, &[&image, &params], &blurred);
            image = blurred;
        }
    }

    let levels: Vec<u32> = plan.levels.iter().map(|&l| u32::from(l)).collect();
    let colours: Vec<u32> = plan
        .colours
        .iter()
        .map(|c| u32::from_le_bytes(*c))
        .collect();
    let params = gpu.upload(&[
        plan.width,
        plan.height,
        plan.rect.x as u32,
        plan.rect.y as u32,
        plan.rect.width,
        plan.rect.height,
        plan.grid_width,
        plan.grid_height,
        groups,
    ]);
    let (levels, colours) = (gpu.upload(&levels), gpu.upload(&colours));
    let out = gpu.empty(pixels);
    gpu.launch(
        RELEVANCE_OVERLAY,
        invocations,
        &[&image, &levels, &colours, &params],
        &out,
    );
    let data = gpu
        .u32_tensor(out, pixels)
        .into_data_async()
        .await
        .map_err(|e| crate::compute::ReadbackError(e.to_string()))?;
    let mut bytes = data.into_bytes().to_vec();
    bytes.truncate(rgba.len());
    Ok(bytes)
}

/// The overlay on `device`: on its GPU when it has one, else (the CPU backend, an image over
/// one GPU buffer, a failed read-back) on the CPU. What the page calls; the bytes are the same
/// either way.
pub async fn render_overlay_on(
    device: &Device,
    plan: &OverlayPlan,
    rgba: &[u8],
) -> Result<Vec<u8>, OverlayError> {
    match render_overlay_gpu(device, plan, rgba).await {
        Ok(bytes) => Ok(bytes),
        Err(GpuError::Overlay(e)) => Err(e),
        Err(_) => render_overlay(plan, rgba),
    }
}
