//! The evaluation panel and the browser's platform services for the engine: `setTimeout` for the
//! clock, IndexedDB for the records, the picked files for images (HTTP is [`crate::web::fetch`]).

mod clock;
mod estimate;
mod form;
mod keys;
mod panel;
mod store;
mod view;

pub use clock::BrowserClock;
pub use panel::init;
pub use store::IdbResultStore;
