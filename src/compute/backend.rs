//! Device selection: WebGPU/wgpu when it initialises, else Burn's pure-Rust `flex` CPU backend.
//!
//! Burn's wgpu runtime may be initialised **once per process (once per page)**: a second
//! `init_async` fails with "A server is still registered". Callers keep the returned
//! [`ComputeDevice`] and clone it.

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
        })
    }

    /// The GPU when it initialises, else the CPU backend with the reason it fell back.
    pub async fn best_available() -> (Self, Option<GpuInitError>) {
        match Self::gpu().await {
            Ok(device) => (device, None),
            Err(why) => (Self::flex(), Some(why)),
        }
    }

    /// One line for a badge: "WebGPU · <adapter>", "WebGPU · <adapter> · f16" or
    /// "CPU (flex)".
    pub fn describe(&self) -> String {
        let mut line = match &self.adapter {
            Some(adapter) => format!("{} · {}", self.kind, adapter),
            None => self.kind.to_string(),
        };
        if self.precision != Precision::F32 {
            line.push_str(" · ");
            line.push_str(self.precision.label());
        }
        line
    }
}

/// Browsers often hide the adapter name; fall back to the driver name, then its details.
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
}
