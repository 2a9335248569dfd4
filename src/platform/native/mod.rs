//! The platform services for native builds: a process-wide timer thread for [`Clock`], one
//! ureq-based [`HttpClient`] for every request, and reading files without trusting them
//! ([`files`]).
//!
//! [`Clock`]: super::clock::Clock
//! [`HttpClient`]: super::http::HttpClient

mod clock;
pub mod files;
mod http;

pub use clock::ThreadClock;
pub use http::UreqClient;
