//! The platform services for native builds: a process-wide timer thread for [`Clock`] and one
//! ureq-based [`HttpClient`] for every request.
//!
//! [`Clock`]: super::clock::Clock
//! [`HttpClient`]: super::http::HttpClient

mod clock;
mod http;

pub use clock::ThreadClock;
pub use http::UreqClient;
