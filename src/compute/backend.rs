//! Device selection: WebGPU/wgpu when it initialises, else Burn's pure-Rust `flex` CPU backend.
//!
//! Burn's wgpu runtime may be initialised **once per process (once per page)**: a second
//! `init_async` fails with "A server is still registered". Callers keep the returned
//! [`ComputeDevice`] and clone it.
//!
//! The threaded wasm build (`target_feature = "atomics"`, the page where it is cross-origin
//! isolated and has no WebGPU: scripts/build-threads.sh) has no GPU backend: with atomics,
//! wgpu's WebGPU types are not `Send` and CubeCL's wgpu runtime does not compile. There
//! [`ComputeDevice::gpu_with`] answers why, and the caller runs on the CPU as it does anywhere
//! the GPU fails.

use super::Precision;
use burn::tensor::Device;
use std::fmt;

/// The backend a [`ComputeDevice`] runs on, as shown to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The browser's WebGPU (wasm32).
    WebGpu,
    /// Native wgpu (Vulkan, Metal, DX12 or GL, whichever wgpu picked).
    Wgpu,
    /// Burn's pure-Rust CPU backend.
    Flex,
}

impl BackendKind {
    /// Short label for badges and logs.
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Flex => "CPU (flex)",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A Burn device plus what people need to know about it.
#[derive(Clone, Debug)]
pub struct ComputeDevice {
    /// The Burn device; clone it freely, never initialise a second wgpu one.
    pub device: Device,
    /// Which backend runs.
    pub kind: BackendKind,
    /// The adapter as the driver names it (e.g. "llvmpipe (LLVM 15.0.7, 256 bits)"), if known.
    pub adapter: Option<String>,
    /// The float type every tensor on this device is created in (the device's default).
    pub precision: Precision,
    /// How the CPU backend computes, where the caller knows (the page's worker); `None`
    /// natively, where the badge stays "CPU (flex)".
    pub cpu: Option<CpuSetup>,
}

/// How the CPU backend computes in this build: the rayon pool's size (`None`: no pool, one
/// thread) and whether its kernels use wasm's 128-bit SIMD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CpuSetup {
    pub threads: Option<usize>,
    pub simd: bool,
}

impl CpuSetup {
    /// At most this many threads in the page, whatever the machine reports: each costs a Web
    /// Worker with its own instance and stack, and the batch-1 products the page runs stop
    /// getting faster long before.
    pub const MAX_THREADS: usize = 16;

    /// How many threads the page's pool gets: `wanted` (its `?threads=`) or the logical cores
    /// the browser reports, within 1..=[`Self::MAX_THREADS`].
    pub fn pool_size(wanted: Option<usize>, cores: Option<usize>) -> usize {
        wanted.or(cores).unwrap_or(1).clamp(1, Self::MAX_THREADS)
    }

    /// This build's: threads where it was built with atomics (the pool must be running, or
    /// rayon builds its default one), SIMD where it was built with `simd128`.
    pub fn of_this_build() -> Self {
        #[cfg(target_feature = "atomics")]
        let threads = Some(rayon::current_num_threads());
        #[cfg(not(target_feature = "atomics"))]
        let threads = None;
        Self {
            threads,
            simd: cfg!(target_feature = "simd128"),
        }
    }

    /// The badge's words after "CPU": "4 threads · SIMD", "SIMD", "1 thread", or nothing.
    pub fn describe(&self) -> String {
        let threads = self.threads.map(|n| match n {
            1 => "1 thread".to_owned(),
            n => format!("{n} threads"),
        });
        let simd = self.simd.then(|| "SIMD".to_owned());
        threads
            .into_iter()
            .chain(simd)
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// Why the GPU could not be used (the caller falls back to the CPU and says why).
#[derive(Debug, thiserror::Error)]
#[error("GPU unavailable: {0}")]
pub struct GpuInitError(pub String);

impl ComputeDevice {
    /// The pure-Rust CPU backend: always available, on every target.
    pub fn flex() -> Self {
        Self {
            device: Device::flex(),
            kind: BackendKind::Flex,
            adapter: None,
            precision: Precision::F32,
            cpu: None,
        }
    }

    /// The CPU backend, saying how it computes (threads, SIMD) in its badge.
    pub fn flex_with(cpu: CpuSetup) -> Self {
        Self {
            cpu: Some(cpu),
            ..Self::flex()
        }
    }

    /// Initialise Burn's wgpu runtime asynchronously (the only way in a browser), in f32.
    ///
    /// Call at most once per process; keep and clone the result.
    pub async fn gpu() -> Result<Self, GpuInitError> {
        Self::gpu_with(Precision::F32).await
    }

    /// [`ComputeDevice::gpu`] computing in `wanted` where the adapter can: f16 needs
    /// `shader-f16`, and without it the device is f32 (compare `precision` with what you
    /// asked for to tell people). The float type is the device's default from here on, so
    /// weights, inputs and activations all take it; it cannot change later in the process.
    #[cfg(not(target_feature = "atomics"))]
    pub async fn gpu_with(wanted: Precision) -> Result<Self, GpuInitError> {
        let (mut device, setup) = Device::wgpu_options()
            .init_with_setup_async()
            .await
            .map_err(|e| GpuInitError(e.to_string()))?;
        let info = setup.adapter.get_info();
        let kind = if cfg!(target_arch = "wasm32") {
            BackendKind::WebGpu
        } else {
            BackendKind::Wgpu
        };
        let precision = match wanted {
            Precision::F16 if device.supports_dtype(Precision::F16.dtype()) => device
                .configure(Precision::F16.dtype())
                .map(|()| Precision::F16)
                .map_err(|e| GpuInitError(format!("could not switch the device to f16: {e}")))?,
            _ => Precision::F32,
        };
        Ok(Self {
            device,
            kind,
            adapter: adapter_label(&info.name, &info.driver, &info.driver_info),
            precision,
            cpu: None,
        })
    }

    /// The threaded wasm build has no GPU backend (see the module documentation).
    #[cfg(target_feature = "atomics")]
    pub async fn gpu_with(_wanted: Precision) -> Result<Self, GpuInitError> {
        Err(GpuInitError(
            "the threaded CPU build of the page has no GPU backend".into(),
        ))
    }

    /// The GPU when it initialises, else the CPU backend with the reason it fell back.
    pub async fn best_available() -> (Self, Option<GpuInitError>) {
        match Self::gpu().await {
            Ok(device) => (device, None),
            Err(why) => (Self::flex(), Some(why)),
        }
    }

    /// One line for a badge: "WebGPU · <adapter>", "WebGPU · <adapter> · f16", "CPU (flex)",
    /// or with a [`CpuSetup`] "CPU · 4 threads · SIMD", "CPU · SIMD", "CPU".
    pub fn describe(&self) -> String {
        let mut line = match (&self.adapter, &self.cpu) {
            (Some(adapter), _) => format!("{} · {}", self.kind, adapter),
            (None, Some(cpu)) if self.kind == BackendKind::Flex => {
                let how = cpu.describe();
                if how.is_empty() {
                    "CPU".to_owned()
                } else {
                    format!("CPU · {how}")
                }
            }
            (None, _) => self.kind.to_string(),
        };
        if self.precision != Precision::F32 {
            line.push_str(" · ");
            line.push_str(self.precision.label());
        }
        line
    }
}

/// Browsers often hide the adapter name; fall back to the driver name, then its details.
#[cfg_attr(target_feature = "atomics", allow(dead_code))]
fn adapter_label(name: &str, driver: &str, driver_info: &str) -> Option<String> {
    [name, driver, driver_info]
        .into_iter()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_label_prefers_name_then_driver_then_driver_info() {
        assert_eq!(
            adapter_label("llvmpipe", "x", "y").as_deref(),
            Some("llvmpipe")
        );
        assert_eq!(adapter_label(" ", "drv", "info").as_deref(), Some("drv"));
        assert_eq!(adapter_label("", "", "info").as_deref(), Some("info"));
        assert_eq!(adapter_label("", "", ""), None);
    }

    #[test]
    fn flex_badge_names_the_cpu() {
        assert_eq!(ComputeDevice::flex().describe(), "CPU (flex)");
    }

    #[test]
    fn pool_size_prefers_the_page_then_the_cores_within_bounds() {
        assert_eq!(CpuSetup::pool_size(Some(3), Some(8)), 3);
        assert_eq!(CpuSetup::pool_size(None, Some(8)), 8);
        assert_eq!(CpuSetup::pool_size(None, Some(64)), CpuSetup::MAX_THREADS);
        assert_eq!(CpuSetup::pool_size(Some(0), Some(8)), 1);
        assert_eq!(CpuSetup::pool_size(None, None), 1);
    }

    #[test]
    fn page_cpu_badge_says_threads_and_simd() {
        let badge = |threads, simd| ComputeDevice::flex_with(CpuSetup { threads, simd }).describe();
        assert_eq!(badge(Some(4), true), "CPU · 4 threads · SIMD");
        assert_eq!(badge(Some(1), true), "CPU · 1 thread · SIMD");
        assert_eq!(badge(None, true), "CPU · SIMD");
        assert_eq!(badge(Some(2), false), "CPU · 2 threads");
        assert_eq!(badge(None, false), "CPU");
    }
}
