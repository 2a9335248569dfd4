//! Visual safety information leakage (VSIL).

pub mod guard;
pub mod head;
pub mod metrics;
pub mod scores;
