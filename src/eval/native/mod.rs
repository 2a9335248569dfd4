//! The evaluation's native services: a JSONL result store and images from a folder or a tar
//! archive (the browser's are IndexedDB and the picked files, in `crate::web::eval`). HTTP and
//! the clock are the crate's platform services (`crate::platform::native`).

mod images;
mod store;

pub use images::{FolderImages, TarImages};
pub use store::{JsonlLog, JsonlStore, Loaded};
