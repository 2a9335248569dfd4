//! Choosing and loading the model: the default Hugging Face checkpoint, another repository,
//! files from this computer, or the tiny offline test model; progress from the worker.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::client::ModelClient;
use super::dataset_panel::DatasetPanel;
use super::demo::{Demo, query_value};
use super::dom::{
    on, set_attr, set_body_data, set_disabled, set_hidden, set_text, set_value, typed, value,
};
use super::hub;
use super::worker::protocol::{ModelChoice, Request, Response};
use crate::eval::progress::human_duration;
use crate::tokenizer::TokenizerMode;

/// Hugging Face's file host.
pub const HUB: &str = "https://huggingface.co";
/// The test checkpoint the page serves itself (tests/fixtures/tiny-clip, copied by Trunk).
pub const TEST_REPO: &str = "leakscope/tiny-clip-test";

/// The hub to fetch from: Hugging Face, or a mirror in its URL layout named by `?hub=<origin>`.
pub fn hub_base() -> String {
    query_value("hub")
        .filter(|h| h.starts_with("https://") || h.starts_with("http://"))
        .map(|h| h.trim_end_matches('/').to_string())
        .unwrap_or_else(|| HUB.to_string())
}

/// The access token field (gated repositories); empty means none. Kept in the page's memory only.
fn hub_token() -> Option<String> {
    Some(value("model-token").trim().to_string()).filter(|t| !t.is_empty())
}

fn page_base(path: &str) -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .and_then(|href| web_sys::Url::new_with_base(path, &href).ok())
        .map(|u| u.href())
        .unwrap_or_else(|| path.to_string())
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
                base: page_base("models").trim_end_matches('/').to_string(),
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
        _ => (
            ModelChoice::Hub {
                base: hub_base(),
                repo: "openai/clip-vit-base-patch32".into(),
                revision: "main".into(),
                token: hub_token(),
            },
            Vec::new(),
        ),
    })
}

fn show_source_rows() {
    let source = value("model-source");
    set_hidden("model-repo-row", source != "repo");
    set_hidden("model-files-row", source != "files");
}

pub fn init(client: ModelClient, demo: Rc<Demo>, dataset: Rc<DatasetPanel>) {
    set_disabled("model-load", false);
    on("model-source", "change", |_| show_source_rows());
    client.set_listener(|_, response| {
        if let Response::Progress {
            done,
            total,
            rate,
            eta_s,
            message,
            ..
        } = response
        {
            set_hidden("model-progress", false);
            set_attr("model-progress", "max", &total.max(&1).to_string());
            set_attr("model-progress", "value", &done.to_string());
            let mut line = message.clone();
            if *rate > 0.0 {
                line.push_str(&format!(" {:.1} MB/s", rate / 1e6));
            }
            if let Some(eta) = eta_s {
                line.push_str(&format!(
                    ", about {} left",
                    human_duration(std::time::Duration::from_secs_f64(*eta))
                ));
            }
            set_text("model-status", &line);
        }
    });
    let load = {
        let client = client.clone();
        let demo = demo.clone();
        let dataset = dataset.clone();
        Rc::new(move || {
            let client = client.clone();
            let demo = demo.clone();
            let dataset = dataset.clone();
            spawn_local(async move { load_model(client, demo, dataset).await });
        })
    };
    let on_click = load.clone();
    on("model-load", "click", move |_| on_click());
    // Checkpoint files dropped anywhere on the model card load at once.
    on("model", "dragover", |event| event.prevent_default());
    {
        let client = client.clone();
        let demo = demo.clone();
        let dataset = dataset.clone();
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
            let (client, demo, dataset) = (client.clone(), demo.clone(), dataset.clone());
            spawn_local(async move {
                load_with(client, demo, dataset, ModelChoice::Files, files).await;
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
    // `?model=test` (or hub, repo:<owner/name>) loads at once: links and tests use it.
    if let Some(wanted) = query_value("model") {
        match wanted.as_str() {
            "test" | "hub" => set_value("model-source", &wanted),
            repo => {
                set_value("model-source", "repo");
                set_value("model-repo", repo);
            }
        }
        show_source_rows();
        load();
    }
}

async fn load_model(client: ModelClient, demo: Rc<Demo>, dataset: Rc<DatasetPanel>) {
    match choice() {
        Ok((choice, files)) => load_with(client, demo, dataset, choice, files).await,
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

async fn load_with(
    client: ModelClient,
    demo: Rc<Demo>,
    dataset: Rc<DatasetPanel>,
    choice: ModelChoice,
    files: Vec<web_sys::Blob>,
) {
    set_disabled("model-load", true);
    set_body_data("model", "loading");
    set_text("model-status", "Starting…");
    let (tokenizer, tokenizer_note) = tokenizer_mode();
    let answer = client
        .call(&Request::LoadModel { choice, tokenizer }, None, &files)
        .await;
    set_disabled("model-load", false);
    set_hidden("model-progress", true);
    match answer {
        Response::Ready {
            model,
            test_model,
            prepare_ms,
            concepts_cached,
            model_key,
            from_cache,
            notes,
            tokenizer,
        } => {
            set_text(
                "model-status",
                &format!(
                    "Ready: {model} (tokenizer: {tokenizer}), prepared in {:.1} s{}.",
                    prepare_ms / 1000.0,
                    if concepts_cached {
                        " (concept embeddings from this browser's cache)"
                    } else {
                        ""
                    }
                ),
            );
            set_hidden("model-warning", !test_model);
            set_attr(
                "model-status",
                "data-from-cache",
                if from_cache { "true" } else { "false" },
            );
            let mut storage = if from_cache {
                vec!["Loaded from this browser's model cache, no download.".to_string()]
            } else {
                Vec::new()
            };
            storage.extend(notes);
            storage.extend(tokenizer_note);
            set_attr("model-status", "data-tokenizer", tokenizer.as_str());
            if let Some(estimate) = hub::storage_estimate().await {
                storage.push(format!("Browser storage: {estimate}."));
            }
            set_text("model-storage", &storage.join(" "));
            set_attr(
                "model-status",
                "data-prepare-ms",
                &format!("{prepare_ms:.0}"),
            );
            set_attr(
                "model-status",
                "data-concepts-cached",
                if concepts_cached { "true" } else { "false" },
            );
            set_body_data("model", "ready");
            demo.model_ready();
            dataset.model_ready(&model_key);
        }
        Response::Error { message } => {
            set_text("model-status", &message);
            set_body_data("model", "error");
        }
        _ => {}
    }
}
