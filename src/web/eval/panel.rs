//! The evaluation panel: pick the dataset, describe the two APIs, estimate, run with pause,
//! resume and cancel, and read the report and exports. Results live in IndexedDB the moment
//! they arrive, so a reload (or a closed tab) continues where it stopped.
//!
//! Keys: read from the password fields at the moment a run starts and handed to the
//! providers; kept in localStorage only when the person ticks "remember on this device";
//! never logged, never saved with the settings, never exported, never in a URL.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use crate::datasets::{DatasetFormat, Strictness, load};
use crate::eval::cost::{EstimateRow, estimate};
use crate::eval::dataset::rows_from_samples;
use crate::eval::image::ImageData;
use crate::eval::progress::Progress;
use crate::eval::results::{SetupKey, collect};
use crate::eval::settings::{PanelSettings, TemplateChoice, locked_connect_src};
use crate::eval::store::MemoryStore;
use crate::eval::{
    Engine, EngineEvent, GenParams, HttpProvider, JudgeTemplate, ModelSetup, ProviderError, Report,
    ResultStore, Row, RowResult, RunControl, export,
};
use crate::platform::clock::Clock;
use crate::platform::http::{HttpClient, HttpRequest};
use crate::util::format::thousands;
use crate::web::dom::{
    self, download, element, local_storage, on, set_body_data, set_disabled, set_hidden, set_text,
    set_value, typed, value,
};
use crate::web::fetch::Fetch;
use crate::web::idb::{Database, RECORDS};

use super::clock::BrowserClock;
use super::files::{PickedDataset, input_files, read_blob};
use super::store::IdbResultStore;
use super::view;

/// Form fields saved between visits (never the keys).
const SAVED_FIELDS: &[&str] = &[
    "target-api",
    "target-base",
    "target-model",
    "target-price-in",
    "target-price-out",
    "judge-enabled",
    "judge-api",
    "judge-base",
    "judge-model",
    "judge-schema",
    "judge-price-in",
    "judge-price-out",
    "template",
    "concurrency",
    "timeout",
    "cap",
    "max-rows",
    "mode",
];
const KEY_FIELDS: [&str; 2] = ["target-key", "judge-key"];
/// localStorage entry of remembered keys (only after the person opts in).
const KEYS_STORAGE: &str = "leakscope.eval.keys";
/// IndexedDB key-value entries.
const SETTINGS_ENTRY: &str = "eval-settings";
const RUN_ENTRY: &str = "eval-run";
const LAST_JUDGE_ENTRY: &str = "eval-last-judge";
/// Bytes read from each image for the estimate: enough for any header's size fields.
const HEAD_BYTES: u64 = 64 * 1024;
/// The official judge template's source file is a few kB.
const TEMPLATE_LIMIT: usize = 10 << 20;

struct Loaded {
    dataset: PickedDataset,
    rows: Vec<Row>,
}

struct Finished {
    results: Vec<RowResult>,
    report: Report,
}

#[derive(Default)]
struct State {
    db: Option<Database>,
    dataset: Option<Rc<Loaded>>,
    control: Option<RunControl>,
    running: bool,
    /// Origins the page's connect-src was narrowed to, once a run started.
    locked: Option<Vec<String>>,
    finished: Option<Rc<Finished>>,
}

type Shared = Rc<RefCell<State>>;

fn message(text: &str) {
    set_text("eval-message", text);
}

fn set_run_state(state: &str) {
    set_body_data("eval-state", state);
    let running = matches!(state, "running" | "paused");
    set_disabled("eval-start", running);
    set_disabled("eval-estimate", running);
    set_disabled("eval-pause", state != "running");
    set_disabled("eval-resume", state != "paused");
    set_disabled("eval-cancel", !running);
}

/// Wires the panel, if the page has one.
pub fn init() {
    if element("eval").is_none() {
        return;
    }
    let state: Shared = Rc::default();
    restore_keys();
    set_run_state("idle");
    {
        let state = state.clone();
        spawn_local(async move { open_storage(state).await });
    }
    for id in ["eval-folder", "eval-files"] {
        let state = state.clone();
        on(id, "change", move |event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let files = input_files(&input);
            let state = state.clone();
            spawn_local(async move { pick_dataset(state, files).await });
        });
    }
    {
        let state = state.clone();
        on("eval-estimate", "click", move |_| {
            let state = state.clone();
            spawn_local(async move {
                if let Err(e) = show_estimate(&state).await {
                    message(&e);
                }
            });
        });
    }
    {
        let state = state.clone();
        on("eval-start", "click", move |_| {
            let state = state.clone();
            spawn_local(async move { start(state).await });
        });
    }
    for (id, act) in [("eval-pause", 0), ("eval-resume", 1), ("eval-cancel", 2)] {
        let state = state.clone();
        on(id, "click", move |_| {
            let Some(control) = state.borrow().control.clone() else {
                return;
            };
            match act {
                0 => {
                    control.pause();
                    set_run_state("paused");
                    message("Paused: requests in flight finish and are stored; none start.");
                }
                1 => {
                    control.resume();
                    set_run_state("running");
                    message("");
                }
                _ => {
                    control.cancel();
                    message("Stopping: requests in flight finish and are stored.");
                }
            }
        });
    }
    on("forget-keys", "click", |_| forget_keys());
    on("remember-keys", "change", |_| {
        if value("remember-keys").is_empty() {
            forget_stored_keys();
        }
    });
    {
        let state = state.clone();
        on("eval-clear", "click", move |_| {
            let state = state.clone();
            spawn_local(async move { clear_results(state).await });
        });
    }
    for (id, kind) in [
        ("eval-export-jsonl", "jsonl"),
        ("eval-export-csv", "csv"),
        ("eval-export-official", "official"),
    ] {
        let state = state.clone();
        on(id, "click", move |_| {
            if let Err(e) = export_results(&state, kind) {
                message(&e);
            }
        });
    }
    warn_before_unload(state);
}

/// A closed tab loses the requests in flight (their answers never arrive): ask first.
fn warn_before_unload(state: Shared) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let closure = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::BeforeUnloadEvent)>::new(
        move |event: web_sys::BeforeUnloadEvent| {
            if state.borrow().running {
                event.prevent_default();
                event.set_return_value("An evaluation is running.");
            }
        },
    );
    let _ =
        window.add_event_listener_with_callback("beforeunload", closure.as_ref().unchecked_ref());
    closure.forget();
}

async fn open_storage(state: Shared) {
    let db = match Database::open().await {
        Ok(db) => db,
        Err(e) => {
            message(&format!(
                "{e}. Results will be kept in memory only and lost on reload: export them."
            ));
            set_body_data("eval-storage", "memory");
            return;
        }
    };
    set_body_data("eval-storage", "indexeddb");
    if let Ok(Some(saved)) = db.get(SETTINGS_ENTRY).await
        && let Ok(fields) =
            serde_json::from_str::<std::collections::BTreeMap<String, String>>(&saved)
    {
        for (name, text) in fields {
            if SAVED_FIELDS.contains(&name.as_str()) {
                set_value(&name, &text);
            }
        }
    }
    if let Ok(Some(run)) = db.get(RUN_ENTRY).await {
        let stored = db.count(RECORDS).await.unwrap_or(0);
        let what = serde_json::from_str::<serde_json::Value>(&run)
            .ok()
            .and_then(|v| {
                v.get("describe")
                    .and_then(|d| d.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "An evaluation".into());
        set_text(
            "eval-resume-note",
            &format!(
                "{what} did not finish ({} results are stored in this browser). Pick the same \
                 dataset, enter the keys and press Start: stored answers are reused, none is \
                 paid for twice.",
                thousands(stored.into())
            ),
        );
        set_hidden("eval-resume-note", false);
        set_body_data("eval-interrupted", "true");
    }
    state.borrow_mut().db = Some(db);
}

async fn pick_dataset(state: Shared, files: Vec<web_sys::File>) {
    if files.is_empty() {
        return;
    }
    set_text("eval-dataset-status", "Reading the dataset…");
    match load_dataset(files).await {
        Ok(loaded) => {
            let categories: std::collections::BTreeSet<&str> =
                loaded.rows.iter().map(|r| r.category.as_str()).collect();
            set_text(
                "eval-dataset-status",
                &format!(
                    "{} rows in {} categories; images from {}.",
                    thousands(loaded.rows.len() as u64),
                    categories.len(),
                    loaded.dataset.label
                ),
            );
            set_body_data("eval-rows", &loaded.rows.len().to_string());
            state.borrow_mut().dataset = Some(Rc::new(loaded));
        }
        Err(e) => {
            set_text("eval-dataset-status", &e);
            state.borrow_mut().dataset = None;
        }
    }
}

async fn load_dataset(files: Vec<web_sys::File>) -> Result<Loaded, String> {
    let dataset = PickedDataset::from_files(files).await?;
    let bytes = dataset.read_data_json().await?;
    let parsed = load(
        Some(DatasetFormat::VlsBench),
        "data.json",
        &bytes,
        Strictness::Strict,
    )
    .map_err(|e| e.to_string())?;
    let rows = rows_from_samples(&parsed.samples)?;
    if rows.is_empty() {
        return Err("data.json holds no rows".into());
    }
    Ok(Loaded { dataset, rows })
}

fn settings() -> Result<PanelSettings, String> {
    PanelSettings::from_form(value)
}

fn chosen_rows<'a>(loaded: &'a Loaded, settings: &PanelSettings) -> &'a [Row] {
    let n = settings
        .max_rows
        .unwrap_or(usize::MAX)
        .min(loaded.rows.len());
    &loaded.rows[..n]
}

async fn show_estimate(state: &Shared) -> Result<(), String> {
    let settings = settings()?;
    let loaded = state
        .borrow()
        .dataset
        .clone()
        .ok_or("Pick the VLSBench folder first.")?;
    let rows = chosen_rows(&loaded, &settings);
    message("Reading image sizes…");
    let mut sizes = Vec::with_capacity(rows.len());
    let mut unsized_images = 0;
    for row in rows {
        let size = match loaded.dataset.image_head(&row.image_path, HEAD_BYTES).await {
            Ok(head) => ImageData::dimensions(&head).ok(),
            Err(_) => None,
        };
        sizes.push(size.unwrap_or_else(|| {
            unsized_images += 1;
            (1024, 1024)
        }));
    }
    let estimate_rows: Vec<EstimateRow<'_>> = rows
        .iter()
        .zip(&sizes)
        .map(|(r, (w, h))| EstimateRow {
            instruction: &r.instruction,
            width: *w,
            height: *h,
        })
        .collect();
    let target_cost = settings.target.cost_model();
    let judge_cost = settings.judge.as_ref().map(|j| j.cost_model());
    let template_len = JudgeTemplate::default().text().len();
    let judge_params = GenParams::judge_default();
    let e = estimate(
        &estimate_rows,
        (&target_cost, &GenParams::target_default()),
        judge_cost
            .as_ref()
            .map(|c| (c, &judge_params, template_len)),
    );
    let mut missing = Vec::new();
    if target_cost.pricing.input_per_million == 0.0 {
        missing.push("the model under test");
    }
    if judge_cost
        .as_ref()
        .is_some_and(|c| c.pricing.input_per_million == 0.0)
    {
        missing.push("the judge");
    }
    message("");
    view::show_estimate(&e, unsized_images, &missing);
    Ok(())
}

/// Narrows the page's connect-src to the run's origins (once per page: a policy can be added,
/// never removed).
fn lock_connections(state: &Shared, origins: Vec<String>) -> Result<(), String> {
    if let Some(locked) = &state.borrow().locked {
        return if origins.iter().all(|o| locked.contains(o)) {
            Ok(())
        } else {
            Err(format!(
                "This page is locked to {} for your keys' safety; reload it to use another server.",
                locked.join(", ")
            ))
        };
    }
    let doc = dom::document().ok_or("no document")?;
    let meta = doc.create_element("meta").map_err(|e| format!("{e:?}"))?;
    let _ = meta.set_attribute("http-equiv", "Content-Security-Policy");
    let _ = meta.set_attribute("content", &locked_connect_src(&origins));
    let _ = meta.set_attribute("id", "csp-run-lock");
    doc.head()
        .ok_or("no <head>")?
        .append_child(&meta)
        .map_err(|e| format!("{e:?}"))?;
    set_body_data("connect-locked", &origins.join(" "));
    state.borrow_mut().locked = Some(origins);
    Ok(())
}

async fn judge_template(settings: &PanelSettings) -> Result<JudgeTemplate, String> {
    match settings.template {
        TemplateChoice::Default => Ok(JudgeTemplate::default()),
        TemplateChoice::File => {
            let input: web_sys::HtmlInputElement =
                typed("template-file").ok_or("no template file field")?;
            let file = input_files(&input)
                .into_iter()
                .next()
                .ok_or("Choose the judge template file, or another template.")?;
            let bytes = read_blob(&file).await?;
            let text = String::from_utf8(bytes).map_err(|_| "the template is not UTF-8 text")?;
            JudgeTemplate::custom(&text).map_err(|e| format!("Judge template: {e}"))
        }
        TemplateChoice::Official => {
            let url = crate::eval::official::source_url();
            let response = Fetch::default()
                .send(HttpRequest::get(url.clone()), TEMPLATE_LIMIT)
                .await
                .map_err(|e| {
                    let e = ProviderError::no_answer(e, &url);
                    format!("Could not fetch the official template: {e}")
                })?;
            if response.status != 200 {
                return Err(format!(
                    "Could not fetch the official template from {url}: HTTP {}",
                    response.status
                ));
            }
            let source = String::from_utf8_lossy(&response.body);
            crate::eval::official::template_from_source(&source)
                .map_err(|e| format!("Official template: {e}"))
        }
    }
}

fn save_keys_if_asked() {
    if value("remember-keys").is_empty() {
        return;
    }
    let keys: Vec<String> = KEY_FIELDS.iter().map(|id| value(id)).collect();
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(&keys)) {
        let _ = storage.set_item(KEYS_STORAGE, &text);
    }
}

fn restore_keys() {
    let Some(text) = local_storage().and_then(|s| s.get_item(KEYS_STORAGE).ok().flatten()) else {
        return;
    };
    if let Ok(keys) = serde_json::from_str::<Vec<String>>(&text) {
        for (id, key) in KEY_FIELDS.iter().zip(keys) {
            set_value(id, &key);
        }
        set_value("remember-keys", "true");
    }
}

fn forget_stored_keys() {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(KEYS_STORAGE);
    }
}

fn forget_keys() {
    forget_stored_keys();
    for id in KEY_FIELDS {
        set_value(id, "");
    }
    set_value("remember-keys", "");
    message("Keys forgotten: removed from the fields and from this browser's storage.");
}

async fn save_settings(db: &Database) {
    let fields: std::collections::BTreeMap<&str, String> =
        SAVED_FIELDS.iter().map(|id| (*id, value(id))).collect();
    if let Ok(text) = serde_json::to_string(&fields) {
        let _ = db.put(SETTINGS_ENTRY, &text).await;
    }
}

async fn start(state: Shared) {
    if state.borrow().running {
        return;
    }
    state.borrow_mut().running = true;
    set_run_state("running");
    let outcome = run(&state).await;
    state.borrow_mut().running = false;
    state.borrow_mut().control = None;
    match outcome {
        Ok(done) => set_run_state(if done { "done" } else { "stopped" }),
        Err(e) => {
            message(&e);
            set_run_state("error");
        }
    }
}

/// One run; `Ok(true)` when every row is finished.
async fn run(state: &Shared) -> Result<bool, String> {
    let settings = settings()?;
    let loaded = state
        .borrow()
        .dataset
        .clone()
        .ok_or("Pick the VLSBench folder first.")?;
    let rows = chosen_rows(&loaded, &settings).to_vec();
    lock_connections(state, settings.origins())?;
    let template = judge_template(&settings).await?;
    save_keys_if_asked();
    let db = state.borrow().db.clone();
    let memory = MemoryStore::default();
    let idb_store = db.clone().map(IdbResultStore::new);
    let store: &dyn ResultStore = match &idb_store {
        Some(s) => s,
        None => &memory,
    };
    if let Some(db) = &db {
        save_settings(db).await;
        let describe = format!(
            "An evaluation of {} on {} rows",
            settings.target.model,
            rows.len()
        );
        let marker = serde_json::json!({ "describe": describe }).to_string();
        let _ = db.put(RUN_ENTRY, &marker).await;
    }
    let target = HttpProvider::new(
        settings.target.config(&value("target-key"), true),
        Fetch::default(),
    );
    let judge = settings
        .judge
        .as_ref()
        .map(|j| HttpProvider::new(j.config(&value("judge-key"), true), Fetch::default()));
    let target_cost = settings.target.cost_model();
    let judge_cost = settings.judge.as_ref().map(|j| j.cost_model());
    let clock = BrowserClock::default();
    let progress = RefCell::new(Progress::new(rows.len() as u64, clock.now()));
    let last_paint = std::cell::Cell::new(std::time::Duration::ZERO);
    let judged = judge.is_some();
    let observer = |event: &EngineEvent<'_>| {
        progress
            .borrow_mut()
            .observe(event, judged, (&target_cost, judge_cost.as_ref()));
        // Repaint at most 10 times a second: thousands of events must not cost layout each.
        let now = clock.now();
        if now.saturating_sub(last_paint.get()).as_millis() >= 100 {
            last_paint.set(now);
            view::show_progress(&progress.borrow(), now);
        }
    };
    let control = RunControl::new();
    state.borrow_mut().control = Some(control.clone());
    let mut engine = Engine::new(
        ModelSetup {
            provider: &target,
            params: GenParams::target_default(),
            cost: target_cost,
        },
        store,
        &loaded.dataset,
        &clock,
    );
    engine.settings = settings.engine_settings();
    engine.judge = judge.as_ref().zip(judge_cost).map(|(j, cost)| {
        (
            ModelSetup {
                provider: j,
                params: GenParams::judge_default(),
                cost,
            },
            template,
        )
    });
    engine.control = control;
    engine.observer = Some(&observer);
    message("");
    set_hidden("eval-running", false);
    let summary = engine.run(&rows).await.map_err(|e| {
        format!("{e}. The run stopped so that no answer is paid for and then lost.")
    })?;
    view::show_progress(&progress.borrow(), clock.now());

    let mut selection = engine.selection();
    if let (Some(db), Some(judge_key)) = (&db, &selection.judge) {
        let previous = db
            .get(LAST_JUDGE_ENTRY)
            .await
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str::<SetupKey>(&t).ok());
        if previous.as_ref().is_some_and(|p| p != judge_key) {
            selection.second_judge = previous;
        }
        if let Ok(text) = serde_json::to_string(judge_key) {
            let _ = db.put(LAST_JUDGE_ENTRY, &text).await;
        }
    }
    let records = store.load().await.map_err(|e| e.to_string())?;
    let results = collect(&rows, &records, &selection);
    let report = Report::build(&results);
    let done = summary.rows_complete == rows.len() as u64;
    let title = format!(
        "{} judged by {}",
        settings.target.model,
        settings
            .judge
            .as_ref()
            .map(|j| j.model.as_str())
            .unwrap_or("no judge")
    );
    view::show_report(&report, &title);
    set_hidden("eval-results", false);
    if let Some(stopped) = summary.stopped {
        message(&format!(
            "Stopped ({stopped:?}): {} of {} rows finished. Press Start to continue.",
            summary.rows_complete,
            rows.len()
        ));
    } else if !done {
        message(&format!(
            "{} rows could not be finished (see below): “Retry failed calls” runs them again.",
            rows.len() as u64 - summary.rows_complete
        ));
    }
    if let (Some(db), true) = (&db, done) {
        let _ = db.delete(RUN_ENTRY).await;
        set_hidden("eval-resume-note", true);
    }
    state.borrow_mut().finished = Some(Rc::new(Finished { results, report }));
    Ok(done)
}

fn export_results(state: &Shared, kind: &str) -> Result<(), String> {
    let finished = state
        .borrow()
        .finished
        .clone()
        .ok_or("Run an evaluation first.")?;
    match kind {
        "jsonl" => download(
            "vlsbench-results.jsonl",
            "application/x-ndjson",
            &export::jsonl(&finished.results),
        ),
        "csv" => download(
            "vlsbench-results.csv",
            "text/csv",
            &export::csv(&finished.results),
        ),
        _ => {
            let official = export::official_json(&finished.results, &finished.report.overall);
            let text = serde_json::to_string_pretty(&official).map_err(|e| e.to_string())?;
            download("vlsbench-official.json", "application/json", &text)
        }
    }
}

async fn clear_results(state: Shared) {
    if state.borrow().running {
        message("Stop the run before deleting its results.");
        return;
    }
    let confirmed = web_sys::window()
        .and_then(|w| {
            w.confirm_with_message(
                "Delete every stored answer and verdict from this browser? Paid calls would be made again.",
            )
            .ok()
        })
        .unwrap_or(false);
    if !confirmed {
        return;
    }
    let db = state.borrow().db.clone();
    if let Some(db) = db {
        let cleared = db.clear(RECORDS).await;
        let _ = db.delete(RUN_ENTRY).await;
        let _ = db.delete(LAST_JUDGE_ENTRY).await;
        match cleared {
            Ok(()) => message("Stored results deleted."),
            Err(e) => message(&e.to_string()),
        }
        set_hidden("eval-resume-note", true);
    }
}
