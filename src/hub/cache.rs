//! Downloaded files kept for the next visit. The platform supplies the storage (the browser's
//! Cache API); the core decides what goes in: one entry per (source, file), labelled with the
//! sha256 of its bytes and the server's validator, complete files and the partial file a failed
//! download leaves (so loading again resumes it), and per source a small manifest naming the
//! files a complete load used, so a cached model loads with no request at all.
//!
//! Failures to store are never fatal: the model is in memory already, the page only says it
//! will be downloaded again.

use std::cell::RefCell;
use std::collections::BTreeMap;

use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use crate::util::format::human_bytes;

/// The entry a complete load writes last: which files the checkpoint has (a missing
/// `preprocessor_config.json` is an answer too).
pub const MANIFEST: &str = ".leakscope-manifest.json";

/// What an entry holds, stored beside its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// [`super::ModelSource::cache_scope`]: repo and revision, or a URL prefix.
    pub scope: String,
    pub file: String,
    /// Bytes stored.
    pub size: u64,
    /// sha256 of the stored bytes, hex.
    pub sha256: String,
    /// The server's `ETag`/`X-Linked-Etag`, to check a resumed download continues the same file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// False for the first `size` bytes of a download that stopped.
    pub complete: bool,
    /// The whole file's size, when the server said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheErrorKind {
    /// The browser's storage quota is used up.
    Quota,
    /// No storage here (a private window, an insecure origin, a browser without it).
    Unavailable,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CacheError {
    pub kind: CacheErrorKind,
    pub message: String,
}

impl CacheError {
    pub fn new(kind: CacheErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// `navigator.storage.estimate()`: bytes this origin uses and may use.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StorageEstimate {
    pub usage: u64,
    pub quota: u64,
}

impl std::fmt::Display for StorageEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} used",
            human_bytes(self.usage),
            human_bytes(self.quota)
        )
    }
}

/// One source's cached files, for the "cached models" list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CachedModel {
    pub scope: String,
    pub files: Vec<String>,
    pub bytes: u64,
    /// A complete load wrote its manifest; false while only some files (or a partial one) are in.
    pub complete: bool,
}

/// Groups entries by source.
pub fn summarize(entries: &[CacheEntry]) -> Vec<CachedModel> {
    let mut models: BTreeMap<&str, CachedModel> = BTreeMap::new();
    for e in entries {
        let m = models.entry(&e.scope).or_insert_with(|| CachedModel {
            scope: e.scope.clone(),
            files: Vec::new(),
            bytes: 0,
            complete: false,
        });
        if e.file == MANIFEST {
            m.complete = true;
        } else {
            m.files.push(e.file.clone());
            m.bytes += e.size;
        }
    }
    models.into_values().collect()
}

/// One stored file with what is known about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedFile {
    pub entry: CacheEntry,
    pub bytes: Vec<u8>,
}

/// Storage for downloaded files, keyed by (scope, file); the entry's sha256 is part of the key
/// where the platform builds one (one entry per key: `put` replaces).
pub trait ModelCache {
    fn get<'a>(
        &'a self,
        scope: &'a str,
        file: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<CachedFile>, CacheError>>;
    fn put<'a>(
        &'a self,
        entry: &'a CacheEntry,
        bytes: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), CacheError>>;
    /// Every entry of `scope`; returns how many were removed.
    fn delete_scope<'a>(&'a self, scope: &'a str) -> LocalBoxFuture<'a, Result<usize, CacheError>>;
    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<CacheEntry>, CacheError>>;
    fn estimate(&self) -> LocalBoxFuture<'_, Result<Option<StorageEstimate>, CacheError>>;
}

/// A cache in memory, with an optional byte quota: for tests, and for a page that has no
/// persistent storage (a retry after a failed download still resumes).
#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: RefCell<BTreeMap<(String, String), CachedFile>>,
    quota: Option<u64>,
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// `put` fails with [`CacheErrorKind::Quota`] past `bytes` in all.
    pub fn with_quota(bytes: u64) -> Self {
        Self {
            quota: Some(bytes),
            ..Self::default()
        }
    }

    fn used(&self) -> u64 {
        self.entries
            .borrow()
            .values()
            .map(|c| c.bytes.len() as u64)
            .sum()
    }
}

impl ModelCache for MemoryCache {
    fn get<'a>(
        &'a self,
        scope: &'a str,
        file: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<CachedFile>, CacheError>> {
        let found = self
            .entries
            .borrow()
            .get(&(scope.to_string(), file.to_string()))
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn put<'a>(
        &'a self,
        entry: &'a CacheEntry,
        bytes: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), CacheError>> {
        Box::pin(async move {
            let key = (entry.scope.clone(), entry.file.clone());
            let replaced = self
                .entries
                .borrow()
                .get(&key)
                .map_or(0, |c| c.bytes.len() as u64);
            if let Some(quota) = self.quota
                && self.used() - replaced + bytes.len() as u64 > quota
            {
                return Err(CacheError::new(
                    CacheErrorKind::Quota,
                    format!("quota of {quota} bytes exceeded"),
                ));
            }
            self.entries.borrow_mut().insert(
                key,
                CachedFile {
                    entry: entry.clone(),
                    bytes: bytes.to_vec(),
                },
            );
            Ok(())
        })
    }

    fn delete_scope<'a>(&'a self, scope: &'a str) -> LocalBoxFuture<'a, Result<usize, CacheError>> {
        Box::pin(async move {
            let mut entries = self.entries.borrow_mut();
            let before = entries.len();
            entries.retain(|(s, _), _| s != scope);
            Ok(before - entries.len())
        })
    }

    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<CacheEntry>, CacheError>> {
        let entries = self
            .entries
            .borrow()
            .values()
            .map(|c| c.entry.clone())
            .collect();
        Box::pin(async move { Ok(entries) })
    }

    fn estimate(&self) -> LocalBoxFuture<'_, Result<Option<StorageEstimate>, CacheError>> {
        let estimate = self.quota.map(|quota| StorageEstimate {
            usage: self.used(),
            quota,
        });
        Box::pin(async move { Ok(estimate) })
    }
}
