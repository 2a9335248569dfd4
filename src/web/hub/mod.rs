//! Model loading in the browser: the core's loader ([`crate::hub`]) on `fetch` with streamed
//! bodies, the Cache API and `setTimeout`; plus checkpoints from files the person picked or
//! dropped. The page calls the functions here; nothing here touches the DOM.
//!
//! ```ignore
//! let source = ModelSource::parse(&repo_input, &revision_input)?;
//! let loaded = hub::load_checkpoint(&source, &LoadOptions::default(), |p| {
//!     bar.set_value(p.fraction().unwrap_or(0.0)); // None: indeterminate
//!     line.set_text(&p.to_string());              // "151 MB of 605 MB · 8.10 MB/s · 1 min 12 s left · …"
//! }).await?;                                      // Err(HubError): its Display says what to do
//! for w in &loaded.warnings { note(&w.to_string()) } // e.g. not cached: storage full
//! // then "preparing on GPU": ClipEmbedder::load(loaded.files, &device), then "ready"
//! ```

mod cache;
mod picked;

use wasm_bindgen::prelude::*;

use crate::hub::{self, ModelCache, Platform};
pub use crate::hub::{
    CacheError, CachedModel, HubError, HubWarning, LoadOptions, LoadProgress, Loaded, ModelSource,
    StorageEstimate, TextPart,
};
use crate::util::hash::sha256_hex;
pub use cache::{CACHE_NAME, CacheApi};
pub use picked::{checkpoint_from_file_list, checkpoint_from_files};

use super::eval::BrowserClock;
use super::fetch::Fetch;

/// Fetches the checkpoint at `source` (or reads it from the cache), reporting progress; a
/// browser without storage still loads (with a [`HubWarning::NotCached`]).
pub async fn load_checkpoint(
    source: &ModelSource,
    options: &LoadOptions,
    mut on_progress: impl FnMut(&LoadProgress),
) -> Result<Loaded, HubError> {
    load(source, options, &mut on_progress, None).await
}

/// [`load_checkpoint`] with the weights' text tower first ([`hub::load_checkpoint_text_first`]):
/// `on_text` gets the small files and the text tower as soon as they are in.
pub async fn load_checkpoint_text_first(
    source: &ModelSource,
    options: &LoadOptions,
    mut on_progress: impl FnMut(&LoadProgress),
    mut on_text: impl FnMut(TextPart),
) -> Result<Loaded, HubError> {
    load(source, options, &mut on_progress, Some(&mut on_text)).await
}

async fn load(
    source: &ModelSource,
    options: &LoadOptions,
    on_progress: &mut dyn FnMut(&LoadProgress),
    on_text: Option<&mut dyn FnMut(TextPart)>,
) -> Result<Loaded, HubError> {
    // The model is kept in the Cache API; the HTTP cache would hold a second copy.
    let net = Fetch {
        no_store: true,
        api: false,
    };
    let clock = BrowserClock::default();
    let cache = CacheApi::open().await;
    let platform = Platform {
        net: &net,
        cache: cache.as_ref().ok().map(|c| c as &dyn ModelCache),
        clock: &clock,
    };
    let mut loaded = match on_text {
        Some(on_text) => {
            hub::load_checkpoint_text_first(source, options, platform, on_progress, on_text).await?
        }
        None => hub::load_checkpoint(source, options, platform, on_progress).await?,
    };
    if let Err(error) = cache {
        loaded.warnings.push(HubWarning::NotCached {
            error,
            estimate: None,
        });
    }
    Ok(loaded)
}

/// The cached models, one per repo and revision (or URL).
pub async fn cached_models() -> Result<Vec<CachedModel>, CacheError> {
    let cache = CacheApi::open().await?;
    Ok(hub::cache::summarize(&cache.list().await?))
}

/// Deletes one cached model ([`CachedModel::scope`] or [`ModelSource::cache_scope`]); returns
/// how many files went.
pub async fn delete_cached(scope: &str) -> Result<usize, CacheError> {
    CacheApi::open().await?.delete_scope(scope).await
}

/// Deletes every cached model.
pub async fn delete_all_cached() -> Result<(), CacheError> {
    CacheApi::delete_all().await
}

/// `navigator.storage.estimate()`, for the "x of y used" line; `None` where unsupported.
pub async fn storage_estimate() -> Option<StorageEstimate> {
    cache::estimate().await
}

/// A test hook for tests/e2e/hub.test.mjs: the loader alone, without the worker and panels the
/// page wraps it in, so the test reads every file's request figures. Loads `source` at
/// `revision` with `options` (`{"token", "sha256": {file: hex}, "no_listing", "stall_ms",
/// "retry_delay_ms", "text_first"}`, all optional) and answers a summary:
/// `{files: [{file, size, sha256, from_cache, verified_by, requests, resumed_at, restarts,
/// network_bytes}], checkpoint: {file: sha256 of the bytes handed over}, missing, warnings,
/// events, last, text_parts: [{sha256, after_events}], text_first}` or throws the error's
/// message.
#[wasm_bindgen]
pub async fn __test_load_checkpoint(
    source: String,
    revision: String,
    options: String,
) -> Result<JsValue, JsValue> {
    let parsed: serde_json::Value = serde_json::from_str(&options).unwrap_or_default();
    let mut opts = LoadOptions {
        token: parsed["token"].as_str().map(str::to_string),
        use_listing: !parsed["no_listing"].as_bool().unwrap_or(false),
        ..LoadOptions::default()
    };
    if let Some(map) = parsed["sha256"].as_object() {
        for (file, sha) in map {
            if let Some(sha) = sha.as_str() {
                opts.sha256.insert(file.clone(), sha.to_string());
            }
        }
    }
    if let Some(ms) = parsed["stall_ms"].as_u64() {
        opts.retry.stall = std::time::Duration::from_millis(ms);
    }
    if let Some(ms) = parsed["retry_delay_ms"].as_u64() {
        opts.retry.first_delay = std::time::Duration::from_millis(ms);
        opts.retry.max_delay = std::time::Duration::from_millis(ms * 4);
    }
    let source = ModelSource::parse(&source, &revision).map_err(|e| e.to_string())?;
    let events = std::cell::RefCell::new(Vec::new());
    let mut parts = Vec::new();
    let on_progress = |p: &LoadProgress| events.borrow_mut().push(p.clone());
    let loaded = if parsed["text_first"].as_bool().unwrap_or(false) {
        let on_text = |part: TextPart| {
            parts.push(serde_json::json!({
                "sha256": sha256_hex(&part.files.model_safetensors),
                "after_events": events.borrow().len(),
            }));
        };
        load_checkpoint_text_first(&source, &opts, on_progress, on_text).await
    } else {
        load_checkpoint(&source, &opts, on_progress).await
    }
    .map_err(|e| JsValue::from_str(&e.to_string()))?;
    let events = events.into_inner();
    let f = &loaded.files;
    let mut checkpoint = serde_json::Map::new();
    for (name, bytes) in [
        ("config.json", Some(&f.config_json)),
        ("model.safetensors", Some(&f.model_safetensors)),
        ("vocab.json", f.vocab_json.as_ref()),
        ("merges.txt", f.merges_txt.as_ref()),
        ("tokenizer.json", f.tokenizer_json.as_ref()),
        (
            "preprocessor_config.json",
            f.preprocessor_config_json.as_ref(),
        ),
    ] {
        if let Some(bytes) = bytes {
            checkpoint.insert(name.into(), sha256_hex(bytes).into());
        }
    }
    let summary = serde_json::json!({
        "files": loaded.report,
        "checkpoint": checkpoint,
        "missing": loaded.missing,
        "warnings": loaded.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "events": events.len(),
        "retries": events.last().map(|p| p.retries),
        "notes": events.iter().filter_map(|p| p.note.clone()).collect::<Vec<_>>(),
        "first": events.first(),
        "last": events.last(),
        "last_line": events.last().map(ToString::to_string),
        "text_parts": parts,
        "text_first": {
            "handed_over": loaded.text_first.handed_over,
            "stale": loaded.text_first.stale,
        },
    });
    Ok(JsValue::from_str(&summary.to_string()))
}

/// For the node test: `{"models": [...], "estimate": {...}}` as JSON text.
#[wasm_bindgen]
pub async fn __test_cached_models() -> Result<JsValue, JsValue> {
    let models = cached_models()
        .await
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    let summary = serde_json::json!({"models": models, "estimate": storage_estimate().await});
    Ok(JsValue::from_str(&summary.to_string()))
}

/// For the node test: deletes one cached model; answers how many files went.
#[wasm_bindgen]
pub async fn __test_delete_cached(scope: String) -> Result<JsValue, JsValue> {
    delete_cached(&scope)
        .await
        .map(|n| JsValue::from_f64(n as f64))
        .map_err(|e| JsValue::from_str(&e.to_string()))
}
