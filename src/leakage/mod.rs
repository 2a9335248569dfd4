//! Visual safety information leakage (VSIL).

pub mod head;
pub mod metrics;
