//! IndexedDB, awaited: open the page's database, append and read back records, a small
//! key-value store. The raw API is callback based; [`wait_for`] turns one request or
//! transaction into a future and removes its listeners afterwards (nothing leaks per call).
//!
//! Why IndexedDB: it is the only browser storage that takes thousands of small writes, each
//! confirmed (the transaction's `complete` event) before the engine moves on, and survives a
//! closed tab. localStorage is synchronous and capped around 5 MB; the Cache API holds HTTP
//! responses, not records.

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    EventTarget, IdbDatabase, IdbFactory, IdbObjectStore, IdbObjectStoreParameters,
    IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
};

const DB_NAME: &str = "leakscope";
/// Bump when a store is added; the upgrade creates whatever is missing.
const DB_VERSION: u32 = 2;
/// Evaluation records, one JSON text each, in arrival order (auto-increment keys).
pub const RECORDS: &str = "eval-records";
/// Dataset-mode score lines, one JSON text each (`{"run", "line"}`), appended per batch.
pub const VSIL: &str = "vsil-scores";
/// Small values under string keys (the panel's last settings, the run in progress).
pub const KV: &str = "kv";

/// Why storage failed, in words for the page.
#[derive(Debug, thiserror::Error)]
#[error("browser storage (IndexedDB): {0}")]
pub struct IdbError(pub String);

fn js_error(context: &str, e: JsValue) -> IdbError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    IdbError(format!("{context}: {detail}"))
}

type Listener = Closure<dyn FnMut(web_sys::Event)>;

/// Completes when `target` fires `ok` (true) or one of `fail` (false).
async fn wait_for(target: &EventTarget, ok: &str, fail: &[&str]) -> bool {
    let mut listeners: Vec<(String, Listener)> = Vec::new();
    let promise = Promise::new(&mut |resolve, reject| {
        let on_ok: Listener = Closure::new(move |_| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        listeners.push((ok.to_string(), on_ok));
        for name in fail {
            let reject = reject.clone();
            let on_fail: Listener = Closure::new(move |_| {
                let _ = reject.call0(&JsValue::NULL);
            });
            listeners.push((name.to_string(), on_fail));
        }
        for (name, listener) in &listeners {
            let _ =
                target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
    });
    let outcome = JsFuture::from(promise).await.is_ok();
    for (name, listener) in &listeners {
        let _ = target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    outcome
}

/// The result of `request`, once it succeeded.
async fn finish(request: &IdbRequest, context: &str) -> Result<JsValue, IdbError> {
    if wait_for(request, "success", &["error"]).await {
        request.result().map_err(|e| js_error(context, e))
    } else {
        let reason = request
            .error()
            .ok()
            .flatten()
            .map(|e| e.message())
            .unwrap_or_else(|| "unknown error".into());
        Err(IdbError(format!("{context}: {reason}")))
    }
}

/// Completes when `tx` is committed: the write is as durable as the browser makes it.
async fn commit(tx: &IdbTransaction, context: &str) -> Result<(), IdbError> {
    if wait_for(tx, "complete", &["error", "abort"]).await {
        Ok(())
    } else {
        let reason = tx
            .error()
            .map(|e| e.message())
            .unwrap_or_else(|| "the transaction was aborted".into());
        let hint = if reason.to_lowercase().contains("quota") {
            " (the browser's storage quota is full: export and delete old results)"
        } else {
            ""
        };
        Err(IdbError(format!("{context}: {reason}{hint}")))
    }
}

fn factory() -> Result<IdbFactory, IdbError> {
    let global = js_sys::global();
    Reflect::get(&global, &JsValue::from_str("indexedDB"))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
        .and_then(|v| v.dyn_into::<IdbFactory>().ok())
        .ok_or_else(|| IdbError("this browser offers no IndexedDB here (private window?)".into()))
}

/// The page's database with its stores.
#[derive(Clone)]
pub struct Database {
    db: IdbDatabase,
}

impl Database {
    pub async fn open() -> Result<Self, IdbError> {
        let request: IdbOpenDbRequest = factory()?
            .open_with_u32(DB_NAME, DB_VERSION)
            .map_err(|e| js_error("open", e))?;
        // Runs inside the version change: the only moment stores can be created.
        let upgrade: Listener = Closure::new(move |event: web_sys::Event| {
            let db = event
                .target()
                .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
                .and_then(|r| r.result().ok())
                .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
            // A store that cannot be created aborts the version change, and `open` below then
            // fails with the browser's reason: nothing to report from here.
            if let Some(db) = db {
                let names = db.object_store_names();
                if !names.contains(RECORDS) {
                    let params = IdbObjectStoreParameters::new();
                    params.set_auto_increment(true);
                    let _ = db.create_object_store_with_optional_parameters(RECORDS, &params);
                }
                if !names.contains(VSIL) {
                    let params = IdbObjectStoreParameters::new();
                    params.set_auto_increment(true);
                    let _ = db.create_object_store_with_optional_parameters(VSIL, &params);
                }
                if !names.contains(KV) {
                    let _ = db.create_object_store(KV);
                }
            }
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let result = finish(&request, "open").await;
        request.set_onupgradeneeded(None);
        drop(upgrade);
        let db = result?
            .dyn_into::<IdbDatabase>()
            .map_err(|e| js_error("open", e))?;
        Ok(Self { db })
    }

    fn store(
        &self,
        name: &str,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore), IdbError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(name, mode)
            .map_err(|e| js_error(name, e))?;
        let store = tx.object_store(name).map_err(|e| js_error(name, e))?;
        Ok((tx, store))
    }

    /// Appends `text` to `store` (auto-increment key); completes once committed.
    pub async fn append(&self, store: &str, text: &str) -> Result<(), IdbError> {
        let (tx, s) = self.store(store, IdbTransactionMode::Readwrite)?;
        s.add(&JsValue::from_str(text))
            .map_err(|e| js_error("append", e))?;
        commit(&tx, "append").await
    }

    /// Appends every text of `texts` to `store` in one transaction.
    pub async fn append_all(&self, store: &str, texts: &[String]) -> Result<(), IdbError> {
        let (tx, s) = self.store(store, IdbTransactionMode::Readwrite)?;
        for text in texts {
            s.add(&JsValue::from_str(text))
                .map_err(|e| js_error("append", e))?;
        }
        commit(&tx, "append").await
    }

    /// Every text in `store`, in key order.
    pub async fn all_texts(&self, store: &str) -> Result<Vec<String>, IdbError> {
        let (_tx, s) = self.store(store, IdbTransactionMode::Readonly)?;
        let request = s.get_all().map_err(|e| js_error("read", e))?;
        let values = finish(&request, "read").await?;
        Ok(Array::from(&values)
            .iter()
            .filter_map(|v| v.as_string())
            .collect())
    }

    /// Removes everything in `store`.
    pub async fn clear(&self, store: &str) -> Result<(), IdbError> {
        let (tx, s) = self.store(store, IdbTransactionMode::Readwrite)?;
        s.clear().map_err(|e| js_error("clear", e))?;
        commit(&tx, "clear").await
    }

    /// Number of entries in `store`.
    pub async fn count(&self, store: &str) -> Result<u32, IdbError> {
        let (_tx, s) = self.store(store, IdbTransactionMode::Readonly)?;
        let request = s.count().map_err(|e| js_error("count", e))?;
        Ok(finish(&request, "count").await?.as_f64().unwrap_or(0.0) as u32)
    }

    /// Writes `text` under `key` in the key-value store.
    pub async fn put(&self, key: &str, text: &str) -> Result<(), IdbError> {
        let (tx, s) = self.store(KV, IdbTransactionMode::Readwrite)?;
        s.put_with_key(&JsValue::from_str(text), &JsValue::from_str(key))
            .map_err(|e| js_error("put", e))?;
        commit(&tx, "put").await
    }

    /// Writes `bytes` under `key` in the key-value store (stored as a `Uint8Array`).
    pub async fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), IdbError> {
        let (tx, s) = self.store(KV, IdbTransactionMode::Readwrite)?;
        s.put_with_key(&js_sys::Uint8Array::from(bytes), &JsValue::from_str(key))
            .map_err(|e| js_error("put", e))?;
        commit(&tx, "put").await
    }

    /// The bytes under `key`, if any.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, IdbError> {
        let (_tx, s) = self.store(KV, IdbTransactionMode::Readonly)?;
        let request = s
            .get(&JsValue::from_str(key))
            .map_err(|e| js_error("get", e))?;
        let value = finish(&request, "get").await?;
        Ok(value
            .dyn_ref::<js_sys::Uint8Array>()
            .map(js_sys::Uint8Array::to_vec))
    }

    /// The text under `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<String>, IdbError> {
        let (_tx, s) = self.store(KV, IdbTransactionMode::Readonly)?;
        let request = s
            .get(&JsValue::from_str(key))
            .map_err(|e| js_error("get", e))?;
        Ok(finish(&request, "get").await?.as_string())
    }

    pub async fn delete(&self, key: &str) -> Result<(), IdbError> {
        let (tx, s) = self.store(KV, IdbTransactionMode::Readwrite)?;
        s.delete(&JsValue::from_str(key))
            .map_err(|e| js_error("delete", e))?;
        commit(&tx, "delete").await
    }
}
