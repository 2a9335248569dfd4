//! The evaluation panel and the browser's platform services for the engine: `fetch` for HTTP,
//! `setTimeout` for the clock, IndexedDB for the records, the picked files for images.

mod clock;
mod fetch;
mod keys;
mod panel;
mod store;
mod view;

pub use clock::BrowserClock;
pub use fetch::FetchClient;
pub use panel::init;
pub use store::IdbResultStore;
