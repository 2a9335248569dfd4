//! The WGSL kernels in `shaders/`, run on the GPU that Burn's wgpu backend already uses
//! (WebGPU in the browser, lavapipe or a real GPU natively).
//!
//! How they run: through CubeCL, the runtime under Burn's wgpu backend, as kernels that bring
//! their own WGSL (`kernel.rs`). The alternative, a second pipeline on the raw `wgpu` device
//! shared with Burn, would need its own buffers, its own submissions ordered by hand against
//! Burn's queue, and a copy to get a result into a Burn tensor; through CubeCL the buffers are
//! Burn's, the launches share Burn's stream, and a kernel's output *is* a Burn tensor (the
//! preprocessed image goes to the model without leaving the GPU). CubeCL's WGSL compiler is
//! the one Burn's wgpu backend uses on every target here (Burn's SPIR-V path is not enabled),
//! so the same WGSL runs natively and in the browser.
//!
//! Every shader has a CPU reference in the core ([`crate::preprocess`], [`crate::overlay`])
//! that produces the same values bit for bit; tests/native/shaders.rs checks that on lavapipe, and
//! tests/web.rs in Chromium's WebGPU. On the CPU backend the functions here answer
//! [`GpuError::NotGpu`], and the `*_on` / [`preprocess::model_input`] wrappers use the CPU
//! path instead.
//!
//! The threaded wasm build has no GPU backend ([`crate::compute`]): there `preprocess` and
//! `overlay` hold only the two wrappers the page's worker calls, on the CPU.

#[cfg(not(target_feature = "atomics"))]
mod kernel;
#[cfg(not(target_feature = "atomics"))]
pub mod overlay;
#[cfg(not(target_feature = "atomics"))]
pub mod preprocess;

#[cfg(not(target_feature = "atomics"))]
pub use kernel::MAX_BUFFER_BYTES;

/// The threaded wasm build's [`model_input`](preprocess::model_input): the CPU path, uploaded.
#[cfg(target_feature = "atomics")]
pub mod preprocess {
    pub use super::model_input_cpu as model_input;
}

/// The threaded wasm build's [`render_overlay_on`](overlay::render_overlay_on): the CPU path.
#[cfg(target_feature = "atomics")]
pub mod overlay {
    use crate::overlay::{OverlayError, OverlayPlan, render_overlay};

    pub async fn render_overlay_on(
        _device: &burn::tensor::Device,
        plan: &OverlayPlan,
        rgba: &[u8],
    ) -> Result<Vec<u8>, OverlayError> {
        render_overlay(plan, rgba)
    }
}

/// The model input `[1, 3, H, W]` computed by the CPU path and uploaded to `device`: what
/// [`preprocess::model_input`] falls back to.
pub fn model_input_cpu(
    device: &burn::tensor::Device,
    cfg: &crate::preprocess::PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
    opts: &crate::preprocess::DecodeOptions,
) -> Result<burn::tensor::Tensor<4>, PreprocessError> {
    let cpu = crate::preprocess::preprocess_rgba_with(cfg, width, height, rgba, opts)?;
    let shape = [1, 3, cpu.height, cpu.width];
    Ok(burn::tensor::Tensor::from_data(
        burn::tensor::TensorData::new(cpu.data, shape),
        device,
    ))
}

use crate::compute::ReadbackError;
use crate::overlay::OverlayError;
use crate::preprocess::PreprocessError;

/// Why a GPU kernel did not run; the CPU path is always the way out.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "this device is the CPU backend, which runs no WGSL; use the CPU implementation (the *_on functions choose for you)"
    )]
    NotGpu,
    #[error(
        "the {what} needs {bytes} bytes in one GPU buffer, over the {limit}-byte limit WebGPU guarantees; use a smaller image or the CPU implementation"
    )]
    TooLarge {
        what: &'static str,
        bytes: u64,
        limit: u64,
    },
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
    #[error(transparent)]
    Overlay(#[from] OverlayError),
    #[error(transparent)]
    Readback(#[from] ReadbackError),
}
