//! The page: the same wasm module starts here and in the model worker. In the page it wires
//! the panels; every model computation is a message to the worker ([`ModelClient`]).

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use crate::compute::{Precision, SMOKE_EXPECTED};

use super::client::{DeviceSettings, ModelClient};
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
    // The worker and the demo first: the worker compiles nothing (it gets this module) and
    // the demo's gallery asks for the precomputed results (baked/) before the other panels are
    // wired, so a first visit sees a reading as early as the module allows.
    let (precision, precision_error) = precision_query();
    let client = match start_worker(precision) {
        Ok(client) => client,
        Err(message) => {
            set_text("status", &format!("Error: {message}"));
            set_state("error");
            return;
        }
    };
    Demo::start(client.clone());
    super::eval::init();
    super::compare::init();
    spawn_local(async {
        if let Err(message) = run(client, precision_error).await {
            set_text("status", &format!("Error: {message}"));
            set_state("error");
        }
    });
}

/// The precision to ask for: f16 where the adapter has shader-f16 (tolerances:
/// tests/native/precision.rs); `?precision=f32` keeps the reference's. A value that does not
/// parse is ignored, and why goes into the badge's note.
fn precision_query() -> (Precision, Option<String>) {
    match query_value("precision") {
        None => (Precision::F16, None),
        Some(value) => match value.parse::<Precision>() {
            Ok(p) => (p, None),
            Err(e) => (Precision::F16, Some(format!("?precision= ignored: {e}"))),
        },
    }
}

/// Starts the model worker, which opens its device with the page's query (`?cpu`,
/// `?precision=`, `?threads=`) while the page goes on.
fn start_worker(precision: Precision) -> Result<ModelClient, String> {
    set_text("status", "Starting the model worker…");
    ModelClient::start(DeviceSettings {
        prefer_gpu: !query_flag("cpu"),
        precision,
        // The CPU backend's threads in the threaded build (`?threads=0` makes www/boot.js load
        // the single-threaded one); default: as many as the browser reports cores.
        threads: query_value("threads")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0),
    })
}

/// Waits for the worker's device, says which it is, then starts the other panels. What the demo
/// asks the worker before then (a baked reading's overlay) waits in the client until the
/// device is open.
async fn run(client: ModelClient, precision_error: Option<String>) -> Result<(), String> {
    set_text("status", "Looking for a GPU…");
    let device = client.device().await.map_err(|e| e.to_string())?;
    set_text("backend", &device.describe);
    set_attr("backend", "data-backend", &device.backend);
    set_attr("backend", "data-precision", device.precision.label());
    if let Some(cpu) = device.cpu {
        let threads = cpu.threads.unwrap_or(1).to_string();
        set_attr("backend", "data-threads", &threads);
        set_attr(
            "backend",
            "data-simd",
            if cpu.simd { "true" } else { "false" },
        );
    }
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
    DatasetPanel::start(client.clone());
    model_panel::init(client);
    Ok(())
}

/// `data-state` on `<body>`: "loading" → "ready" | "error"; tests wait on it.
fn set_state(state: &str) {
    set_body_data("state", state);
}
