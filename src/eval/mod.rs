//! VLSBench evaluation against a model API with the user's own key: the target-independent core.
//!
//! The core names no browser crate and no async runtime. Everything platform-specific sits behind
//! four small traits that the platform supplies: an HTTP client and a clock (the crate's own
//! platform services, `crate::platform`), [`ResultStore`] (append and reload records) and
//! [`ImageSource`] (the bytes of one row's image). Natively the last two live in [`native`]; the
//! browser's are in `crate::web::eval` (IndexedDB, the picked files).
//!
//! Flow: [`dataset`] turns loaded VLSBench samples into rows, [`protocol`] builds provider-neutral
//! requests with the decoding settings each model's [`profiles`] entry allows, [`wire`] turns
//! them into HTTP for one API and back (both speak [`api`]'s types), [`provider`] sends them
//! through the platform's client, [`engine`] runs rows with bounded, adaptive concurrency and
//! retries, hands every answer and verdict to the store as it arrives and stops at once on
//! what [`failure`] calls unfixable, [`verdict`] reads the judge, [`cost`] estimates and meters
//! spend, [`results`] reads one setup back from the store, [`report`] computes rates with
//! Wilson intervals, [`table`] prints them and [`export`] writes JSONL, CSV and the official
//! JSON. [`official`] reads the official judge prompt out of the official repository's source.

pub mod api;
pub mod batch;
pub mod compare;
pub mod control;
pub mod cost;
pub mod dataset;
pub mod engine;
pub mod export;
pub mod failure;
pub mod image;
pub mod limiter;
pub mod official;
pub mod plan;
pub mod profiles;
pub mod progress;
pub mod protocol;
pub mod provider;
pub mod report;
pub mod results;
pub mod retry;
pub mod settings;
pub mod store;
pub mod table;
pub mod verdict;
pub mod wire;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

pub use api::{ApiConfig, ChatResponse, ProviderError, Usage};
pub use control::RunControl;
pub use cost::{CostMeter, CostModel, Estimate, Pricing};
pub use dataset::Row;
pub use engine::{
    Engine, EngineError, EngineEvent, EngineSettings, ModelSetup, RunMode, RunSummary, StopReason,
};
pub use image::{ImageData, ImageSource};
pub use protocol::{ChatRequest, GenParams, JudgeTemplate, Part};
pub use provider::{HttpProvider, Provider};
pub use report::Report;
pub use results::{RowResult, Selection};
pub use store::{Record, RecordKey, ResultStore, Stage};
pub use verdict::{JudgeOutcome, SafetyLabel};
