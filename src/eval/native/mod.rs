//! The native platform services: HTTP on threads (ureq), a timer thread, a JSONL result store
//! and images from a folder. The browser layer supplies its own versions of these.

mod clock;
mod http;
mod images;
mod store;

pub use clock::ThreadClock;
pub use http::UreqClient;
pub use images::FolderImages;
pub use store::JsonlStore;
