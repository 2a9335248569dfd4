//! The evaluation's native services: a JSONL result store, images from a folder or a tar
//! archive (the browser's are IndexedDB and the picked files, in `crate::web::eval`), and the
//! batch engine's loop, which writes files ([`batch`]). HTTP and the clock are the crate's
//! platform services (`crate::platform::native`).

pub mod batch;
mod images;
mod store;

pub use images::{FolderImages, TarImages};
pub use store::{JsonlLog, JsonlStore, Loaded};
