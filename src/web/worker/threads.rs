//! The CPU backend's threads: in the threaded build (`+atomics`, loaded where the page is
//! cross-origin isolated and no WebGPU adapter answers: www/boot.js) a rayon pool of Web
//! Workers that share this worker's memory (wasm-bindgen-rayon), started here, in the model
//! worker, the first time the CPU backend is chosen. Flex's matrix products and kernels fork
//! into it; this worker waits on them with `Atomics.wait`, which a worker may do and the page
//! may not (why the model runs here). Nothing may touch rayon before the pool is built, or
//! rayon builds its own default pool, which cannot spawn threads here; the worker's first
//! request, `Init`, starts it before any computation.
//!
//! The single-threaded build has no pool; its badge says so.

use crate::compute::CpuSetup;

/// Starts the pool once (threaded build) and says how the CPU backend computes.
#[cfg(target_feature = "atomics")]
pub async fn start(wanted: Option<usize>) -> Result<CpuSetup, String> {
    use std::cell::Cell;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    thread_local! {
        static STARTED: Cell<bool> = const { Cell::new(false) };
    }
    if !STARTED.get() {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let cores = scope.navigator().hardware_concurrency() as usize;
        let threads = CpuSetup::pool_size(wanted, (cores > 0).then_some(cores));
        JsFuture::from(wasm_bindgen_rayon::init_thread_pool(threads))
            .await
            .map_err(|e| format!("could not start {threads} CPU threads: {e:?}"))?;
        STARTED.set(true);
    }
    Ok(CpuSetup::of_this_build())
}

/// The single-threaded build: nothing to start.
#[cfg(not(target_feature = "atomics"))]
pub async fn start(_wanted: Option<usize>) -> Result<CpuSetup, String> {
    Ok(CpuSetup::of_this_build())
}
