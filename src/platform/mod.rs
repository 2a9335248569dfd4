//! The platform's services, as traits the target-independent core calls: [`clock::Clock`] (now
//! and sleep) and [`http::HttpClient`] (one HTTP client for GET and POST with a streamed body).
//! [`native`] implements them natively (a timer thread, ureq); the browser's implementations
//! are in `crate::web` (`setTimeout`, `fetch`), the only module that names the browser crates.
//! Tests use [`clock::FakeClock`].

pub mod clock;
pub mod http;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;

pub use clock::{Clock, FakeClock};
pub use http::{
    HttpClient, HttpError, HttpErrorKind, HttpRequest, HttpResponse, StreamedResponse, Upload,
};
