//! Ask the browser for a WebGPU adapter before Burn starts.
//!
//! Without `--enable-unsafe-webgpu` (Linux Chromium) `navigator.gpu` may exist while
//! `requestAdapter()` resolves to `null`; Burn must not be initialised then, or it fails deep
//! inside wgpu. The probe goes through `js_sys::Reflect` so no unstable web-sys API is needed.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A WebGPU adapter answered; what the browser says about it (often only the vendor and
/// architecture: browsers hide the exact device to limit fingerprinting).
pub struct AdapterProbe {
    pub label: Option<String>,
}

/// `Ok` when a WebGPU adapter is available, else why not, in words for the badge.
pub async fn probe_webgpu() -> Result<AdapterProbe, String> {
    // The page's or the worker's navigator: both carry `gpu` where WebGPU exists.
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .map_err(|_| "no navigator")?;
    let gpu = Reflect::get(&navigator, &JsValue::from_str("gpu"))
        .map_err(|_| "navigator.gpu could not be read")?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (navigator.gpu is missing)".into());
    }
    let request = Reflect::get(&gpu, &JsValue::from_str("requestAdapter"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise = request
        .call0(&gpu)
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or("requestAdapter() did not return a promise")?;
    let adapter = JsFuture::from(promise)
        .await
        .map_err(|e| format!("requestAdapter() failed: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(
            "WebGPU is present but no adapter is available (disabled or blocklisted)".into(),
        );
    }
    Ok(AdapterProbe {
        label: adapter_label(&adapter),
    })
}

/// "vendor architecture" or the description from `GPUAdapter.info`, when the browser tells.
fn adapter_label(adapter: &JsValue) -> Option<String> {
    let info = Reflect::get(adapter, &JsValue::from_str("info")).ok()?;
    let field = |name: &str| {
        Reflect::get(&info, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    match (field("vendor"), field("architecture"), field("description")) {
        (_, _, Some(description)) => Some(description),
        (Some(vendor), Some(arch), None) => Some(format!("{vendor} {arch}")),
        (Some(vendor), None, None) => Some(vendor),
        (None, Some(arch), None) => Some(arch),
        (None, None, None) => None,
    }
}
