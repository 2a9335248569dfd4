//! The native platform services: HTTP on threads (ureq), a timer thread, a JSONL result store
//! and images from a folder or a tar archive. The browser layer supplies its own versions.

mod clock;
mod http;
mod images;
mod store;

pub use clock::ThreadClock;
pub use http::UreqClient;
pub use images::{FolderImages, TarImages};
pub use store::JsonlStore;
