//! Choosing and loading the model: the default Hugging Face checkpoint, another repository,
//! files from this computer, or the tiny offline test model; progress from the worker.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::baked;
use super::client::ModelClient;
use super::client::WorkerError;
use super::dom::{
    build, element, on, replace_children, set_attr, set_body_data, set_disabled, set_hidden,
    set_text, set_value, typed, value,
};
use super::events::{self, ModelReady, TextReady};
use super::hub;
use super::url::{hub_base, page_relative, query_value};
use super::worker::protocol::{
    ConceptSource, ModelChoice, ProgressReply, TextReadyReply, TowersReply,
};
use crate::model::{PRESETS, preset};
use crate::tokenizer::TokenizerMode;
use crate::util::format::{human_bytes, human_duration};

/// The test checkpoint the page serves itself (tests/fixtures/tiny-clip, copied by Trunk).
pub const TEST_REPO: &str = "leakscope/tiny-clip-test";

/// The access token field (gated repositories); empty means none. Kept in the page's memory only.
fn hub_token() -> Option<String> {
    Some(value("model-token").trim().to_string()).filter(|t| !t.is_empty())
}

fn choice() -> Result<(ModelChoice, Vec<web_sys::Blob>), String> {
    let files = || -> Vec<web_sys::Blob> {
        typed::<web_sys::HtmlInputElement>("model-files")
            .and_then(|i| i.files())
            .map(|l| {
                (0..l.length())
                    .filter_map(|i| l.get(i))
                    .map(Into::into)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(match value("model-source").as_str() {
        "test" => (
            ModelChoice::Hub {
                base: page_relative("models").trim_end_matches('/').to_string(),
                repo: TEST_REPO.into(),
                revision: "main".into(),
                token: None,
            },
            Vec::new(),
        ),
        "files" => {
            let picked = files();
            if picked.is_empty() {
                return Err("Choose the checkpoint's files first (config.json, model.safetensors, vocab.json, merges.txt).".into());
            }
            (ModelChoice::Files, picked)
        }
        "repo" => {
            let repo = value("model-repo").trim().to_string();
            let is_url = repo.starts_with("https://") || repo.starts_with("http://");
            if !is_url && (repo.split('/').count() != 2 || repo.contains(char::is_whitespace)) {
                return Err(
                    "A repository looks like owner/name (e.g. openai/clip-vit-base-patch16), \
                     or give the URL of a folder that holds the checkpoint's files."
                        .into(),
                );
            }
            let revision = match value("model-revision").trim() {
                "" => "main".to_string(),
                r => r.to_string(),
            };
            (
                ModelChoice::Hub {
                    base: hub_base(),
                    repo,
                    revision,
                    token: hub_token(),
                },
                Vec::new(),
            )
        }
        other => {
            // A preset's option value is its name; the default is the first preset.
            let preset = preset(other).unwrap_or(&PRESETS[0]);
            (
                ModelChoice::Hub {
                    base: hub_base(),
                    repo: preset.repo.into(),
                    revision: "main".into(),
                    token: hub_token(),
                },
                Vec::new(),
            )
        }
    })
}

/// The presets as the picker's first options (named, with download size and accuracy), before
/// the page's other choices.
fn fill_presets() -> Result<(), String> {
    let Some(select) = element("model-source") else {
        return Ok(());
    };
    let first = select.first_element_child();
    for p in PRESETS {
        let option = build("option", &[("value", p.name)], &p.label())?;
        select
            .insert_before(&option, first.as_ref().map(|f| f.as_ref()))
            .map_err(|e| format!("could not fill the model picker: {e:?}"))?;
    }
    set_value("model-source", PRESETS[0].name);
    Ok(())
}

/// Under the picker, for a preset: where its size and accuracy come from, with a link.
fn show_preset_sources() -> Result<(), String> {
    let Some(p) = preset(&value("model-source")) else {
        set_hidden("model-preset-note", true);
        return Ok(());
    };
    let parts = [
        build("span", &[], "Size from the repository's ")?,
        build(
            "a",
            &[("href", p.listing), ("rel", "noopener")],
            "file listing",
        )?,
        build(
            "span",
            &[],
            &format!("; accuracy from {}.", p.accuracy_source),
        )?,
    ];
    replace_children("model-preset-note", &parts)?;
    set_hidden("model-preset-note", false);
    Ok(())
}

fn source_changed() {
    show_source_rows();
    if let Err(e) = show_preset_sources() {
        set_text("model-status", &e);
    }
}

fn show_source_rows() {
    let source = value("model-source");
    set_hidden("model-repo-row", source != "repo");
    set_hidden("model-files-row", source != "files");
}

/// Shows the worker's download and preparation progress; a text-first download's two parts
/// on their own bars, with the preparation of the text tower beside them.
fn show_progress(p: &ProgressReply) {
    if let Some(towers) = &p.towers {
        show_towers(towers);
    }
    let towers_shown = element("model-towers").is_some_and(|t| !t.has_attribute("hidden"));
    if p.stage == "prepare" && towers_shown {
        set_text("model-prepare", &p.message);
        return;
    }
    set_hidden("model-progress", false);
    set_attr("model-progress", "max", &p.total.max(1).to_string());
    set_attr("model-progress", "value", &p.done.to_string());
    let mut line = p.message.clone();
    if p.rate > 0.0 {
        line.push_str(&format!(" {:.1} MB/s", p.rate / 1e6));
    }
    if let Some(eta) = p.eta_s {
        line.push_str(&format!(
            ", about {} left",
            human_duration(std::time::Duration::from_secs_f64(eta))
        ));
    }
    set_text("model-status", &line);
}

fn show_towers(t: &TowersReply) {
    set_hidden("model-towers", false);
    for (id, label, done, total) in [
        (
            "model-progress-text",
            "model-text-bytes",
            t.text_done,
            t.text_total,
        ),
        (
            "model-progress-vision",
            "model-vision-bytes",
            t.vision_done,
            t.vision_total,
        ),
    ] {
        set_attr(id, "max", &total.max(1).to_string());
        set_attr(id, "value", &done.to_string());
        let text = id == "model-progress-text";
        let mut line = format!("{} of {}", human_bytes(done), human_bytes(total));
        if text && done >= total {
            line = format!("in ({})", human_bytes(total));
        } else if let (true, Some(eta)) = (text, t.text_eta_s) {
            line.push_str(&format!(
                ", {} left",
                human_duration(std::time::Duration::from_secs_f64(eta))
            ));
        }
        set_text(label, &line);
    }
}

/// "model (tokenizer: hub), prepared in 1.2 s (concept embeddings from this browser's cache)".
fn prepared(model: &str, tokenizer: TokenizerMode, ms: f64, concepts: ConceptSource) -> String {
    format!(
        "{model} (tokenizer: {tokenizer}), prepared in {:.1} s{}",
        ms / 1000.0,
        match concepts {
            ConceptSource::Baked => " (concept embeddings precomputed for this checkpoint)",
            ConceptSource::Cached => " (concept embeddings from this browser's cache)",
            ConceptSource::Computed => "",
        }
    )
}

/// The text tower is in: the demo scores text while the image tower downloads.
fn text_ready(reply: &TextReadyReply) {
    set_body_data("model", "text-ready");
    set_text(
        "model-prepare",
        &format!(
            "Text tower ready: {}. Text scores and word attribution work now; image scores \
             follow when the image tower is in.",
            prepared(
                &reply.model,
                reply.tokenizer,
                reply.prepare_ms,
                reply.concepts
            )
        ),
    );
    set_hidden("model-warning", !reply.test_model);
    events::text_ready(&TextReady);
}

/// Wires the model card; a loaded model is announced to the other panels as an event.
pub fn init(client: ModelClient) {
    if let Err(e) = fill_presets() {
        set_text("model-status", &e);
    }
    set_disabled("model-load", false);
    on("model-source", "change", |_| source_changed());
    client.set_listener(show_progress);
    client.set_text_ready_listener(text_ready);
    let load = {
        let client = client.clone();
        Rc::new(move || {
            let client = client.clone();
            spawn_local(async move { load_model(client).await });
        })
    };
    let on_click = load.clone();
    on("model-load", "click", move |_| on_click());
    // Checkpoint files dropped anywhere on the model card load at once.
    on("model", "dragover", |event| event.prevent_default());
    {
        let client = client.clone();
        on("model", "drop", move |event| {
            event.prevent_default();
            let files: Vec<web_sys::Blob> = event
                .dyn_ref::<web_sys::DragEvent>()
                .and_then(|e| e.data_transfer())
                .and_then(|d| d.files())
                .map(|l| {
                    (0..l.length())
                        .filter_map(|i| l.get(i))
                        .map(Into::into)
                        .collect()
                })
                .unwrap_or_default();
            if files.is_empty() {
                return;
            }
            let client = client.clone();
            spawn_local(async move {
                load_with(client, ModelChoice::Files, files).await;
            });
        });
    }
    on("model-delete", "click", |_| {
        spawn_local(async {
            let message = match hub::delete_all_cached().await {
                Ok(()) => "Cached models deleted from this browser.".to_string(),
                Err(e) => e.to_string(),
            };
            let estimate = hub::storage_estimate()
                .await
                .map(|e| format!(" Browser storage: {e}."))
                .unwrap_or_default();
            set_text("model-storage", &format!("{message}{estimate}"));
        });
    });
    source_changed();
    // `?model=test`, `?model=<preset>` (`hub`: the default one) or `?model=<owner/name>` loads
    // at once: links and tests use it.
    if let Some(wanted) = query_value("model") {
        match wanted.as_str() {
            "test" => set_value("model-source", "test"),
            "hub" => set_value("model-source", PRESETS[0].name),
            name if preset(name).is_some() => set_value("model-source", name),
            repo => {
                set_value("model-source", "repo");
                set_value("model-repo", repo);
            }
        }
        source_changed();
        load();
    }
}

async fn load_model(client: ModelClient) {
    match choice() {
        Ok((choice, files)) => load_with(client, choice, files).await,
        Err(e) => set_text("model-status", &e),
    }
}

/// The tokenizer mode from `?tokenizer=hub|original` (hub when absent; an unknown value is
/// ignored with a note).
fn tokenizer_mode() -> (TokenizerMode, Option<String>) {
    match query_value("tokenizer") {
        None => (TokenizerMode::default(), None),
        Some(value) => match value.parse() {
            Ok(mode) => (mode, None),
            Err(e) => (
                TokenizerMode::default(),
                Some(format!("?tokenizer= ignored: {e}.")),
            ),
        },
    }
}

async fn load_with(client: ModelClient, choice: ModelChoice, files: Vec<web_sys::Blob>) {
    set_disabled("model-load", true);
    set_body_data("model", "loading");
    set_text("model-status", "Starting…");
    // The page's precomputed concepts go along; the worker uses them only for their checkpoint.
    let offer = baked::concept_offer().await;
    let (tokenizer, tokenizer_note) = tokenizer_mode();
    let answer = client
        .load_model(
            choice,
            tokenizer,
            &files,
            offer.as_ref().map(|(set, b)| (set.clone(), &b[..])),
        )
        .await;
    if matches!(answer, Err(WorkerError::Superseded)) {
        // A newer load (files dropped on the card) replaced this one: it reports itself.
        return;
    }
    set_disabled("model-load", false);
    set_hidden("model-progress", true);
    set_hidden("model-towers", true);
    set_text("model-prepare", "");
    let ready = match answer {
        Ok(ready) => ready,
        Err(e) => {
            set_text("model-status", &e.to_string());
            set_body_data("model", "error");
            return;
        }
    };
    set_text(
        "model-status",
        &format!(
            "Ready: {}.",
            prepared(
                &ready.model,
                ready.tokenizer,
                ready.prepare_ms,
                ready.concepts
            )
        ),
    );
    set_hidden("model-warning", !ready.test_model);
    let flag = |b: bool| if b { "true" } else { "false" };
    set_attr("model-status", "data-from-cache", flag(ready.from_cache));
    let mut storage = if ready.from_cache {
        vec!["Loaded from this browser's model cache, no download.".to_string()]
    } else {
        Vec::new()
    };
    storage.extend(ready.notes);
    storage.extend(tokenizer_note);
    set_attr("model-status", "data-tokenizer", ready.tokenizer.as_str());
    if let Some(estimate) = hub::storage_estimate().await {
        storage.push(format!("Browser storage: {estimate}."));
    }
    set_text("model-storage", &storage.join(" "));
    set_attr(
        "model-status",
        "data-prepare-ms",
        &format!("{:.0}", ready.prepare_ms),
    );
    set_attr(
        "model-status",
        "data-concepts-cached",
        flag(ready.concepts_cached),
    );
    set_attr("model-status", "data-concepts", ready.concepts.label());
    set_body_data("model", "ready");
    events::model_ready(&ModelReady {
        identity: ready.identity,
    });
}
