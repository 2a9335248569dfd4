//! Device selection: WebGPU/wgpu when it initialises, else Burn's pure-Rust `flex` CPU backend.
//!
//! Burn's wgpu runtime may be initialised **once per process (once per page)**: a second
//! `init_async` fails with "A server is still registered". Callers keep the returned
//! [`ComputeDevice`] and clone it.

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
        }
    }

    /// Initialise Burn's wgpu runtime asynchronously (the only way in a browser).
    ///
    /// Call at most once per process; keep and clone the result.
    pub async fn gpu() -> Result<Self, GpuInitError> {
        let (device, setup) = Device::wgpu_options()
            .init_with_setup_async()
            .await
            .map_err(|e| GpuInitError(e.to_string()))?;
        let info = setup.adapter.get_info();
        let kind = if cfg!(target_arch = "wasm32") {
            BackendKind::WebGpu
        } else {
            BackendKind::Wgpu
        };
        Ok(Self {
            device,
            kind,
            adapter: adapter_label(&info.name, &info.driver, &info.driver_info),
        })
    }

    /// The GPU when it initialises, else the CPU backend with the reason it fell back.
    pub async fn best_available() -> (Self, Option<GpuInitError>) {
        match Self::gpu().await {
            Ok(device) => (device, None),
            Err(why) => (Self::flex(), Some(why)),
        }
    }

    /// One line for a badge: "WebGPU · <adapter>" or "CPU (flex)".
    pub fn describe(&self) -> String {
        match &self.adapter {
            Some(adapter) => format!("{} · {}", self.kind, adapter),
            None => self.kind.to_string(),
        }
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
