//! leakscope: visual safety information leakage, measured with a CLIP-family guard that runs
//! on Burn (WebGPU in the browser, wgpu or the pure-Rust `flex` CPU backend natively).
//!
//! The core in this crate is target-independent and tested natively. `web` is the only module
//! that names the browser crates (wasm-bindgen, web-sys, js-sys, gloo); it parses input, calls
//! the core and maps errors.

pub mod chart;
pub mod compute;
#[cfg(not(target_arch = "wasm32"))]
pub mod convert;
pub mod datasets;
pub mod embedder;
pub mod eval;
pub mod gpu;
pub mod hub;
pub mod leakage;
pub mod model;
pub mod overlay;
pub mod platform;
pub mod preprocess;
pub mod stats;
pub mod tokenizer;
pub mod util;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;
