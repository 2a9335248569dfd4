//! [`ModelCache`] on the Cache API, cache `leakscope-models-v1`.
//!
//! Why the Cache API and not OPFS: it is in every browser the app targets, in a page as well as
//! a worker, with no unstable web-sys bindings; entries are keyed by URL, which fits
//! "repo, revision, file, hash" exactly; `ignoreSearch` finds a file whatever its hash; and
//! `caches.delete` drops everything at once. (OPFS would stream writes to disk, but its
//! writable streams are not in every browser's main thread.)
//!
//! Keys are synthetic URLs that are never fetched:
//! `https://leakscope.invalid/models/<scope>/<file>?sha256=<hex>` (`&partial` for the first
//! bytes of a download that stopped). The [`CacheEntry`] rides along as a response header.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Cache, CacheQueryOptions, CacheStorage, Request, Response, ResponseInit};

use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;

use crate::hub::cache::CacheErrorKind;
use crate::hub::{CacheEntry, CacheError, CachedFile, ModelCache, StorageEstimate};
use crate::util::url::encode_path_segment;
use crate::web::fetch::{chunks, js_detail};

pub const CACHE_NAME: &str = "leakscope-models-v1";
const KEY_ROOT: &str = "https://leakscope.invalid/models/";
const ENTRY_HEADER: &str = "x-leakscope-entry";

fn scope_prefix(scope: &str) -> String {
    format!("{KEY_ROOT}{}/", encode_path_segment(scope))
}

fn lookup_url(scope: &str, file: &str) -> String {
    format!("{}{}", scope_prefix(scope), encode_path_segment(file))
}

fn key_url(entry: &CacheEntry) -> String {
    let partial = if entry.complete { "" } else { "&partial" };
    format!(
        "{}?sha256={}{partial}",
        lookup_url(&entry.scope, &entry.file),
        entry.sha256
    )
}

fn error(context: &str, e: &JsValue) -> CacheError {
    let name = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| d.name())
        .unwrap_or_default();
    let kind = match name.as_str() {
        "QuotaExceededError" => CacheErrorKind::Quota,
        "SecurityError" => CacheErrorKind::Unavailable,
        _ => CacheErrorKind::Other,
    };
    CacheError::new(kind, format!("{context}: {}", js_detail(e)))
}

async fn wait(promise: js_sys::Promise, context: &str) -> Result<JsValue, CacheError> {
    JsFuture::from(promise)
        .await
        .map_err(|e| error(context, &e))
}

/// `bytes` as a Blob (which holds its own copy).
#[cfg(not(target_feature = "atomics"))]
fn blob_of(bytes: &[u8]) -> Result<Blob, JsValue> {
    // SAFETY: the view is read by the Blob constructor right away, before anything can
    // allocate in (and so move) the wasm memory.
    unsafe {
        let view = Uint8Array::view(bytes);
        Blob::new_with_u8_array_sequence(&Array::of1(&view))
    }
}

/// `bytes` as a Blob, in the threaded build: there the module's memory is a SharedArrayBuffer,
/// whose views the Blob constructor refuses, so the bytes are copied out first, a slice at a
/// time (a 605 MB checkpoint would otherwise need a second whole copy in JS at once).
#[cfg(target_feature = "atomics")]
fn blob_of(bytes: &[u8]) -> Result<Blob, JsValue> {
    const SLICE: usize = 16 << 20;
    let parts = Array::new();
    for slice in bytes.chunks(SLICE) {
        parts.push(&Uint8Array::from(slice));
    }
    Blob::new_with_u8_array_sequence(&parts)
}

fn ignore_search() -> CacheQueryOptions {
    let options = CacheQueryOptions::new();
    options.set_ignore_search(true);
    options
}

/// `caches`, from a page or a worker; missing on insecure origins.
fn cache_storage() -> Result<CacheStorage, CacheError> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("caches"))
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null())
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| {
            CacheError::new(
                CacheErrorKind::Unavailable,
                "no Cache API here (the page must be served over https or from localhost)",
            )
        })
}

pub struct CacheApi {
    cache: Cache,
}

impl CacheApi {
    pub async fn open() -> Result<Self, CacheError> {
        let storage = cache_storage()?;
        let cache = wait(storage.open(CACHE_NAME), "opening the model cache").await?;
        Ok(Self {
            cache: cache.unchecked_into(),
        })
    }

    /// Drops the whole cache (every model).
    pub async fn delete_all() -> Result<(), CacheError> {
        wait(
            cache_storage()?.delete(CACHE_NAME),
            "deleting the model cache",
        )
        .await?;
        Ok(())
    }

    async fn requests(&self) -> Result<Vec<Request>, CacheError> {
        let keys = wait(self.cache.keys(), "listing the model cache").await?;
        Ok(Array::from(&keys)
            .iter()
            .filter_map(|r| r.dyn_into().ok())
            .collect())
    }
}

fn entry_of(response: &Response) -> Option<CacheEntry> {
    let json = response.headers().get(ENTRY_HEADER).ok()??;
    serde_json::from_str(&json).ok()
}

/// `navigator.storage.estimate()`; `None` where the browser has none.
pub async fn estimate() -> Option<StorageEstimate> {
    let storage = web_sys::window()?.navigator().storage();
    let value = JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let estimate: web_sys::StorageEstimate = value.unchecked_into();
    Some(StorageEstimate {
        usage: estimate.get_usage()? as u64,
        quota: estimate.get_quota()? as u64,
    })
}

impl ModelCache for CacheApi {
    fn get<'a>(
        &'a self,
        scope: &'a str,
        file: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<CachedFile>, CacheError>> {
        Box::pin(async move {
            let url = lookup_url(scope, file);
            let found = wait(
                self.cache
                    .match_with_str_and_options(&url, &ignore_search()),
                "reading the model cache",
            )
            .await?;
            let Ok(response) = found.dyn_into::<Response>() else {
                return Ok(None);
            };
            let Some(entry) = entry_of(&response) else {
                return Ok(None);
            };
            // Read in chunks into one buffer: no second whole copy in the JS heap.
            let mut bytes = Vec::new();
            if bytes.try_reserve_exact(entry.size as usize).is_err() {
                return Err(CacheError::new(
                    CacheErrorKind::Other,
                    format!("not enough memory to read {file} from the cache"),
                ));
            }
            let mut body = chunks(response.body(), ());
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CacheError::new(CacheErrorKind::Other, e.message))?;
                bytes.extend_from_slice(&chunk);
            }
            Ok(Some(CachedFile { entry, bytes }))
        })
    }

    fn put<'a>(
        &'a self,
        entry: &'a CacheEntry,
        bytes: &'a [u8],
    ) -> LocalBoxFuture<'a, Result<(), CacheError>> {
        Box::pin(async move {
            let url = lookup_url(&entry.scope, &entry.file);
            wait(
                self.cache
                    .delete_with_str_and_options(&url, &ignore_search()),
                "replacing a cached file",
            )
            .await?;
            let blob = blob_of(bytes).map_err(|e| error("copying the file for the cache", &e))?;
            let headers = web_sys::Headers::new().map_err(|e| error("headers", &e))?;
            let meta = serde_json::to_string(entry).unwrap_or_default();
            headers
                .set(ENTRY_HEADER, &meta)
                .and_then(|()| headers.set("content-type", "application/octet-stream"))
                .map_err(|e| error("headers", &e))?;
            let init = ResponseInit::new();
            init.set_headers(&headers);
            let response = Response::new_with_opt_blob_and_init(Some(&blob), &init)
                .map_err(|e| error("building the cache entry", &e))?;
            wait(
                self.cache.put_with_str(&key_url(entry), &response),
                &format!("saving {}", entry.file),
            )
            .await?;
            Ok(())
        })
    }

    fn delete_scope<'a>(&'a self, scope: &'a str) -> LocalBoxFuture<'a, Result<usize, CacheError>> {
        Box::pin(async move {
            let prefix = scope_prefix(scope);
            let mut removed = 0;
            for request in self.requests().await? {
                if request.url().starts_with(&prefix) {
                    wait(
                        self.cache.delete_with_request(&request),
                        "deleting a cached file",
                    )
                    .await?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<CacheEntry>, CacheError>> {
        Box::pin(async move {
            let mut entries = Vec::new();
            for request in self.requests().await? {
                let found = wait(
                    self.cache.match_with_request(&request),
                    "reading the model cache",
                )
                .await?;
                if let Some(entry) = found
                    .dyn_into::<Response>()
                    .ok()
                    .as_ref()
                    .and_then(entry_of)
                {
                    entries.push(entry);
                }
            }
            Ok(entries)
        })
    }

    fn estimate(&self) -> LocalBoxFuture<'_, Result<Option<StorageEstimate>, CacheError>> {
        Box::pin(async move { Ok(estimate().await) })
    }
}
