//! Model loading for the app: a Hugging Face CLIP checkpoint (or any mirror, URL or picked
//! files) into [`crate::embedder::CheckpointFiles`], target-independent.
//!
//! The platform supplies three services ([`Platform`]): an HTTP client (streaming GETs with an
//! optional `Range` start; `fetch` in the browser, ureq natively), a clock and a
//! [`ModelCache`] (the browser's Cache API). The core does the rest: which files to fetch and
//! the fallbacks ([`files`]), the resumable, checked download of one file ([`download`]), the
//! whole load with the cache and one progress figure ([`load`], [`progress`]), the weights'
//! text tower before their vision tower when asked ([`towers`]), and messages that say what to
//! do ([`error`]).

pub mod cache;
pub mod download;
pub mod error;
pub mod files;
pub mod load;
pub mod progress;
pub mod source;
pub mod towers;
pub mod transport;

pub use cache::{
    CacheEntry, CacheError, CachedFile, CachedModel, MemoryCache, ModelCache, StorageEstimate,
};
pub use download::RetryPolicy;
pub use error::{HubError, HubWarning};
pub use load::{
    FileReport, LoadOptions, Loaded, Platform, TextPart, load_checkpoint,
    load_checkpoint_text_first,
};
pub use progress::{LoadProgress, TowerProgress};
pub use source::ModelSource;
pub use transport::GetRequest;
