//! The browser layer: the only module that names wasm-bindgen, web-sys, js-sys or gloo.
//! It probes the page's WebGPU, initialises Burn once, calls the core and renders results.

pub mod dom;
pub mod eval;
mod gpu_probe;
pub mod hub;
pub mod idb;
mod page;

pub use page::start;
