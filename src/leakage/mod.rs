//! Visual safety information leakage (VSIL).

pub mod metrics;
