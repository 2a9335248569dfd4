//! The first page: choose the backend, run the smoke computation, show both.

use crate::compute::{ComputeDevice, SMOKE_EXPECTED, smoke_check};
use wasm_bindgen::prelude::*;

use super::dom::{set_attr, set_body_data, set_text};
use super::gpu_probe::probe_webgpu;

/// Entry point: runs when the wasm module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    super::eval::init();
    wasm_bindgen_futures::spawn_local(async {
        if let Err(message) = run().await {
            set_text("status", &format!("Error: {message}"));
            set_state("error");
        }
    });
}

async fn run() -> Result<(), String> {
    set_text("status", "Looking for a GPU…");
    let (device, fallback_reason) = match probe_webgpu().await {
        Err(reason) => (ComputeDevice::flex(), Some(reason)),
        Ok(probe) => match ComputeDevice::gpu().await {
            Ok(mut device) => {
                // wgpu often gets no name from the browser; GPUAdapter.info may say more.
                if device.adapter.is_none() {
                    device.adapter = probe.label;
                }
                (device, None)
            }
            Err(e) => (ComputeDevice::flex(), Some(e.to_string())),
        },
    };
    set_text("backend", &device.describe());
    set_attr(
        "backend",
        "data-backend",
        &format!("{:?}", device.kind).to_lowercase(),
    );
    if let Some(reason) = fallback_reason {
        set_text("backend-note", &format!("Running on the CPU: {reason}"));
    }

    set_text("status", "Computing…");
    let result = smoke_check(&device.device)
        .await
        .map_err(|e| e.to_string())?;
    if let [a, b, c, d] = result.product[..] {
        set_text(
            "result",
            &format!("[[1,2],[3,4]] · [[5,6],[7,8]] = [[{a}, {b}], [{c}, {d}]]"),
        );
    }
    if result.product == SMOKE_EXPECTED {
        set_text("status", "Ready");
        set_state("ready");
        Ok(())
    } else {
        Err(format!(
            "the device computed {:?}, expected {:?}",
            result.product, SMOKE_EXPECTED
        ))
    }
}

/// `data-state` on `<body>`: "loading" → "ready" | "error"; tests wait on it.
fn set_state(state: &str) {
    set_body_data("state", state);
}
