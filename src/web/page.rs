//! The page: the same wasm module starts here and in the model worker. In the page it wires
//! the panels; every model computation is a message to the worker ([`ModelClient`]).

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use crate::compute::{Precision, SMOKE_EXPECTED};

use super::client::ModelClient;
use super::dataset::DatasetPanel;
use super::demo::Demo;
use super::dom::{set_attr, set_body_data, set_text};
use super::url::{query_flag, query_value};
use super::{model_panel, worker};

/// Entry point: runs when the wasm module is instantiated, in the page and in the worker.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    if worker::in_worker() {
        worker::start();
        return;
    }
    super::eval::init();
    super::compare::init();
    spawn_local(async {
        if let Err(message) = run().await {
            set_text("status", &format!("Error: {message}"));
            set_state("error");
        }
    });
}

async fn run() -> Result<(), String> {
    set_text("status", "Starting the model worker…");
    let client = ModelClient::start()?;
    let prefer_gpu = !query_flag("cpu");
    // f16 where the adapter has shader-f16 (tolerances: tests/native/precision.rs);
    // `?precision=f32` keeps the reference's precision.
    let (precision, precision_error) = match query_value("precision") {
        None => (Precision::F16, None),
        Some(value) => match value.parse::<Precision>() {
            Ok(p) => (p, None),
            Err(e) => (Precision::F16, Some(format!("?precision= ignored: {e}"))),
        },
    };
    set_text("status", "Looking for a GPU…");
    let device = client
        .init(prefer_gpu, precision)
        .await
        .map_err(|e| e.to_string())?;
    set_text("backend", &device.describe);
    set_attr("backend", "data-backend", &device.backend);
    set_attr("backend", "data-precision", device.precision.label());
    let notes: Vec<String> = [
        device
            .note
            .map(|reason| format!("Running on the CPU: {reason}")),
        device.precision_note,
        precision_error,
    ]
    .into_iter()
    .flatten()
    .collect();
    if !notes.is_empty() {
        set_text("backend-note", &notes.join(" · "));
    }
    // The device's first computation, for developers: the console, not the page.
    web_sys::console::info_1(
        &format!(
            "leakscope: {} computed [[1,2],[3,4]] · [[5,6],[7,8]] = {:?}",
            device.describe, device.smoke
        )
        .into(),
    );
    if device.smoke != SMOKE_EXPECTED {
        return Err(format!(
            "the device computed {:?}, expected {SMOKE_EXPECTED:?}",
            device.smoke
        ));
    }
    set_text("status", "Ready");
    set_state("ready");
    // The panels listen for "model ready" (and each other's picks) on `events`.
    Demo::start(client.clone());
    DatasetPanel::start(client.clone());
    model_panel::init(client);
    Ok(())
}

/// `data-state` on `<body>`: "loading" → "ready" | "error"; tests wait on it.
fn set_state(state: &str) {
    set_body_data("state", state);
}
