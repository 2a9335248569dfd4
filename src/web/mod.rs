//! The browser layer: the only module that names wasm-bindgen, web-sys, js-sys or gloo.
//! It probes the page's WebGPU, initialises Burn once, calls the core and renders results.

mod gpu_probe;
mod page;

pub use page::start;
