//! Which Burn device runs the model, how it was chosen, and a first computation that proves it
//! works end to end (upload, kernels, async read-back).

mod backend;
mod precision;
mod readback;
mod smoke;

pub use backend::{BackendKind, ComputeDevice, CpuSetup, GpuInitError};
pub use precision::Precision;
pub use readback::{ReadbackError, read_f32};
pub use smoke::{SMOKE_EXPECTED, SmokeResult, smoke_check};
