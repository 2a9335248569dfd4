//! The native integration tests, one binary: each test crate links Burn, wgpu and CubeCL in
//! full, so fourteen binaries cost ~3 GB of disk and a link each on CI's two cores; one costs
//! one. Run a group with its module name, e.g. `cargo test --test native guard::`.
//!
//! Tests here run concurrently in one process, so they share what a process may only have once:
//! the wgpu device (`common::wgpu`). None changes the environment or the working directory.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod support;

mod bake;
mod cli;
mod cli_batch;
mod cli_bench;
mod cli_eval;
mod cli_leakage;
mod clip_parity;
mod compute;
mod datasets;
mod eval_engine;
mod fuzz;
mod guard;
mod hostile;
mod hub;
mod page_ids;
mod precision;
mod preprocess;
mod shaders;
mod soak;
mod text_first;
mod tokenizer;
mod weights;
