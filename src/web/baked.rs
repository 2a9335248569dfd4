//! The page's precomputed results (`baked/manifest.json` and `baked/concepts.f16` beside the
//! page, written by `leakscope bake`): read once at start so the gallery shows results before
//! any weight arrives, and offered to the worker with a model load, which uses the concepts
//! only for the checkpoint and head they were baked for. A missing or unusable bundle is
//! ignored with a note that says why, never trusted.

use std::cell::RefCell;
use std::rc::Rc;

use crate::leakage::bake::{Bundle, CONCEPTS_FILE, ConceptSet, MANIFEST};
use crate::leakage::head::GuardHead;

use super::fetch::get;

thread_local! {
    /// `None` until [`load`] answered; then the accepted bundle, if any.
    static BUNDLE: RefCell<Option<Option<Rc<Bundle>>>> = const { RefCell::new(None) };
}

/// Fetches and checks the manifest: `Ok(None)` when the page has none (a 404), `Err` with the
/// reason when it has one that cannot be used.
async fn fetch() -> Result<Option<Rc<Bundle>>, String> {
    let url = format!("baked/{MANIFEST}");
    let response = get(&url)
        .await
        .map_err(|e| format!("the precomputed results could not be fetched ({e})"))?;
    if response.status == 404 {
        return Ok(None);
    }
    if !(200..300).contains(&response.status) {
        return Err(format!(
            "the precomputed results could not be fetched (HTTP {})",
            response.status
        ));
    }
    let bundle = Bundle::from_json(&response.body).map_err(|e| e.to_string())?;
    // The model is not known yet; the layout and the head are.
    bundle
        .set
        .check(None, &GuardHead::builtin().to_json())
        .map_err(|e| e.to_string())?;
    Ok(Some(Rc::new(bundle)))
}

/// [`fetch`], remembered: the demo and the model load both ask, whichever comes first fetches.
pub async fn load() -> Result<Option<Rc<Bundle>>, String> {
    if let Some(known) = BUNDLE.with_borrow(|b| b.clone()) {
        return Ok(known);
    }
    let loaded = fetch().await;
    BUNDLE.with_borrow_mut(|b| *b = Some(loaded.clone().ok().flatten()));
    loaded
}

/// The bundle [`load`] accepted, if it has answered and accepted one.
pub fn bundle() -> Option<Rc<Bundle>> {
    BUNDLE.with_borrow(|b| b.clone().flatten())
}

/// The concept set and its file, for a model load; `None` without a bundle, or when the file
/// cannot be fetched (the load then computes the concepts, as without a bundle).
pub async fn concept_offer() -> Option<(ConceptSet, Vec<u8>)> {
    let bundle = load().await.ok().flatten()?;
    let response = get(&format!("baked/{CONCEPTS_FILE}")).await.ok()?;
    (200..300)
        .contains(&response.status)
        .then(|| (bundle.set.clone(), response.body))
}
