//! Launching a WGSL file from `shaders/` on Burn's own wgpu device.
//!
//! Burn's wgpu backend is CubeCL's wgpu runtime, and CubeCL runs a kernel that brings its own
//! WGSL text (a "precompiled source") through the same queue and memory pool as Burn's own
//! kernels. So the buffers here are Burn's: an output handle becomes a Burn tensor with no copy,
//! and the launches are ordered with Burn's work on the one stream without any extra
//! synchronisation.
//!
//! Bindings are positional: the `n`-th buffer passed to [`GpuContext::launch`] is
//! `@group(0) @binding(n)`, and the pipeline layout is derived from the shader, so every binding
//! a shader declares must be used by its entry point. Every binding is declared
//! `var<storage, read_write>`, inputs too: CubeCL sub-allocates buffers from shared pages, and
//! wgpu refuses one dispatch that binds parts of the same page both read-only and writable.
//! CubeCL compiles WGSL without wgpu's bounds checks natively; each shader therefore checks its
//! own indices against the sizes it is given.

use burn::backend::Cube;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Device, FloatDType, Int, Shape, Tensor};
use cubecl::client::Client;
use cubecl::ir::attributes::BufferIOAttr;
use cubecl::ir::{ElemType, UIntKind, metadata::Info};
use cubecl::prelude::*;
use cubecl::server::{Handle, KernelArguments};
use cubecl::{CubeKernel, PrecompiledSource};

use super::GpuError;

/// Invocations per workgroup; every shader in `shaders/` declares `@workgroup_size(64)`.
pub(crate) const WORKGROUP: u32 = 64;

/// WebGPU's limit on workgroups along one dispatch dimension.
const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// Largest buffer a kernel here binds: WebGPU's guaranteed `maxStorageBufferBindingSize`
/// (128 MiB). Larger inputs are refused with [`GpuError::TooLarge`] so the caller can use the
/// CPU path instead of meeting a device error.
pub const MAX_BUFFER_BYTES: u64 = 128 << 20;

/// One WGSL file and its entry point, launched as a CubeCL kernel.
pub(crate) struct WgslKernel {
    /// The entry point; also names the kernel in CubeCL's pipeline cache.
    pub entry: &'static str,
    /// The whole file (`include_str!`).
    pub source: &'static str,
}

impl KernelMetadata for WgslKernel {
    fn name(&self) -> &'static str {
        self.entry
    }

    fn id(&self) -> KernelId {
        // One type for every shader: the entry point tells the cached pipelines apart.
        KernelId::new::<Self>().info(self.entry)
    }

    fn address_type(&self) -> ElemType {
        ElemType::UInt(UIntKind::U32)
    }
}

impl CubeKernel for WgslKernel {
    /// A hand-written kernel has no CubeCL IR: the definition is an empty root scope that only
    /// carries the settings, and [`Self::source`] is what gets compiled.
    fn define(&self) -> KernelDefinition {
        let settings = KernelSettings::new(
            CubeDim::new_1d(WORKGROUP).0,
            ExecutionMode::Checked,
            AddressType::U32,
        );
        KernelDefinition {
            body: Scope::root(settings.clone()),
            settings,
            info: Info::default(),
        }
    }

    fn source(&self) -> Option<PrecompiledSource> {
        Some(PrecompiledSource {
            source: self.source.to_owned(),
            entrypoint_name: self.entry.to_owned(),
            lang: "wgsl",
        })
    }
}

/// Burn's CubeCL client for one wgpu device: uploads, launches, and wraps results as tensors.
pub(crate) struct GpuContext {
    client: Client,
    device: burn::backend::CubeDevice,
    /// What float tensors handed to the model must be (f16 on a device set up for it).
    float_dtype: FloatDType,
}

impl GpuContext {
    /// The client behind `device`, or [`GpuError::NotGpu`] for the CPU (flex) backend.
    pub fn of(device: &Device) -> Result<Self, GpuError> {
        // The cheapest way to Burn's client is a one-element tensor's primitive.
        let probe = Tensor::<1, Int>::empty([1], device)
            .try_into_primitive::<Cube>()
            .map_err(|_| GpuError::NotGpu)?;
        Ok(Self {
            client: probe.client,
            device: probe.device,
            float_dtype: device.settings().float_dtype,
        })
    }

    /// Refuses a buffer over [`MAX_BUFFER_BYTES`]; `what` names it in the error.
    pub fn check_size(what: &'static str, bytes: u64) -> Result<(), GpuError> {
        if bytes > MAX_BUFFER_BYTES {
            return Err(GpuError::TooLarge {
                what,
                bytes,
                limit: MAX_BUFFER_BYTES,
            });
        }
        Ok(())
    }

    /// Uploads 32-bit words (a binding is never empty: WGSL has no zero-length array).
    pub fn upload<T: Word>(&self, words: &[T]) -> Handle {
        let mut bytes = Vec::with_capacity(words.len().max(1) * 4);
        for w in words {
            bytes.extend_from_slice(&w.le_bytes());
        }
        if bytes.is_empty() {
            bytes.extend_from_slice(&[0; 4]);
        }
        self.client.create_from_slice(&bytes)
    }

    /// Uploads raw bytes, e.g. RGBA8 pixels that a shader reads as one `u32` per pixel
    /// (`len` is a multiple of 4 there).
    pub fn upload_bytes(&self, bytes: &[u8]) -> Handle {
        if bytes.is_empty() {
            return self.client.create_from_slice(&[0; 4]);
        }
        self.client.create_from_slice(bytes)
    }

    /// An uninitialised buffer of `words` 32-bit words (at least one).
    pub fn empty(&self, words: usize) -> Handle {
        self.client.empty(words.max(1) * 4)
    }

    /// Runs `kernel` once per index in `0..invocations`: `inputs` are bound first (read only),
    /// then `output`. The grid is folded into two dimensions past 65 535 workgroups; the
    /// shader rebuilds the index with the x extent, [`groups_x`], which the caller passes in
    /// the shader's parameters. Nothing runs for zero invocations.
    pub fn launch(
        &self,
        kernel: WgslKernel,
        invocations: u32,
        inputs: &[&Handle],
        output: &Handle,
    ) {
        if invocations == 0 {
            return;
        }
        let (x, y) = groups(invocations);
        let mut args = KernelArguments::new();
        for input in inputs {
            args = args.with_buffer_io((*input).clone().binding(), BufferIOAttr::ReadOnly);
        }
        args = args.with_buffer_io(output.clone().binding(), BufferIOAttr::WriteOnly);
        self.client
            .launch(Box::new(kernel), CubeCount::Static(x, y, 1), args);
    }

    /// `handle` (contiguous f32) as a Burn float tensor of `shape`, on this device, in the
    /// device's float type (a cast kernel when that is f16, nothing otherwise).
    pub fn float_tensor<const D: usize>(&self, handle: Handle, shape: [usize; D]) -> Tensor<D> {
        let primitive = CubeTensor::new_contiguous(
            self.client.clone(),
            self.device.clone(),
            Shape::from(shape),
            handle,
            DType::F32,
        );
        Tensor::<D>::from_primitive::<Cube>(primitive).cast(self.float_dtype)
    }

    /// `handle` (`len` u32 words) as a Burn int tensor, for an async read-back.
    pub fn u32_tensor(&self, handle: Handle, len: usize) -> Tensor<1, Int> {
        let primitive = CubeTensor::new_contiguous(
            self.client.clone(),
            self.device.clone(),
            Shape::from([len]),
            handle,
            DType::U32,
        );
        Tensor::from_primitive::<Cube>(primitive)
    }
}

/// Workgroups along x for `invocations`: what each shader gets as its `groups_x` parameter.
pub(crate) fn groups_x(invocations: u32) -> u32 {
    groups(invocations).0
}

fn groups(invocations: u32) -> (u32, u32) {
    let total = invocations.div_ceil(WORKGROUP).max(1);
    if total <= MAX_GROUPS_PER_DIM {
        (total, 1)
    } else {
        (MAX_GROUPS_PER_DIM, total.div_ceil(MAX_GROUPS_PER_DIM))
    }
}

/// A 32-bit value uploaded little-endian (what WGSL's `u32`, `i32` and `f32` read).
pub(crate) trait Word: Copy {
    fn le_bytes(self) -> [u8; 4];
}

impl Word for u32 {
    fn le_bytes(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}

impl Word for i32 {
    fn le_bytes(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}

impl Word for f32 {
    fn le_bytes(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_folds_past_the_dimension_limit() {
        assert_eq!(groups(1), (1, 1));
        assert_eq!(groups(64), (1, 1));
        assert_eq!(groups(65), (2, 1));
        assert_eq!(groups(64 * 65_535), (65_535, 1));
        assert_eq!(groups(64 * 65_535 + 1), (65_535, 2));
        // Every index is covered exactly once by (y * x_extent + x) * 64 + local.
        let (x, y) = groups(10_000_000);
        assert!(u64::from(x) * u64::from(y) * 64 >= 10_000_000);
        assert!(u64::from(x) * u64::from(y - 1) * 64 < 10_000_000);
    }
}
