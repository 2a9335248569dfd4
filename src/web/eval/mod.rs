//! The evaluation panel and the browser's platform services for the engine: `fetch` for HTTP,
//! `setTimeout` for the clock, IndexedDB for the records, the picked files for images.

mod clock;
mod fetch;
mod files;
mod panel;
mod store;
mod view;

pub use clock::BrowserClock;
pub use fetch::FetchClient;
pub use files::{PickedDataset, input_files, read_blob};
pub use panel::init;
pub use store::IdbResultStore;
