//! Visual safety information leakage (VSIL): the guard and its head, one sample's scores, the
//! report's metrics, and the dataset run ([`run`]: resume, batches, progress) with its
//! [`store`] and the batch scorer ([`batch`]) that the CLI, the page's worker and the bench share.

pub mod bake;
pub mod batch;
pub mod guard;
pub mod head;
pub mod metrics;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod run;
pub mod scores;
pub mod store;
