//! The browser layer: the only module that names wasm-bindgen, web-sys, js-sys or gloo.
//!
//! One wasm module runs twice: in the page (panels, DOM, the evaluation engine, which only
//! waits on the network) and in a dedicated worker (Burn, the model, every computation), so
//! the page never freezes. [`client`] and [`worker::protocol`] are the line between them.
//!
//! The platform services behind the core's traits: [`fetch`] (the one HTTP client), the clock
//! in [`eval`] (`setTimeout`), IndexedDB ([`idb`]) and the Cache API ([`hub`]).

pub mod baked;
pub mod client;
pub mod compare;
pub mod dataset;
pub mod demo;
pub mod dom;
mod dropped;
pub mod eval;
pub mod events;
pub mod fetch;
pub mod files;
mod gpu_probe;
pub mod hub;
pub mod idb;
pub mod model_panel;
mod page;
mod table;
pub mod time;
pub mod url;
mod vlsbench_samples;
pub mod worker;

pub use page::start;
