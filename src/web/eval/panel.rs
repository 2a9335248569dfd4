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
use crate::eval::dataset::rows_from_samples;
use crate::eval::export::TemplateInfo;
use crate::eval::plan::EvalSetup;
use crate::eval::progress::Progress;
use crate::eval::results::{SetupKey, collect};
use crate::eval::settings::locked_connect_src;
use crate::eval::store::MemoryStore;
use crate::eval::{
    EngineEvent, HttpProvider, Provider, Report, ResultStore, Row, RowResult, RunControl, export,
};
use crate::platform::clock::Clock;
use crate::util::format::thousands;
use crate::web::dom::{
    self, download, on, optional_element, set_body_data, set_disabled, set_hidden, set_text, value,
};
use crate::web::fetch::Fetch;
use crate::web::idb::{Database, RECORDS};

use super::clock::BrowserClock;
use super::estimate;
use super::form::{self, judge_template, put_json, save_settings, settings};
use super::keys::{forget_keys, forget_stored_keys, restore_keys, save_keys_if_asked};
use super::store::IdbResultStore;
use super::view::{self, message};
use crate::web::events;
use crate::web::files::{PickedDataset, input_files};

/// IndexedDB key-value entries: the run in progress, the last judge (for a second judge's κ).
const RUN_ENTRY: &str = "eval-run";
const LAST_JUDGE_ENTRY: &str = "eval-last-judge";

struct Loaded {
    dataset: Rc<PickedDataset>,
    rows: Vec<Row>,
}

struct Finished {
    results: Vec<RowResult>,
    report: Report,
    /// `None` without a judge.
    template: Option<TemplateInfo>,
    /// Which models answered and judged (never a key), for `report.json`.
    setup: serde_json::Value,
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
    if optional_element("eval").is_none() {
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
        on(id, "change", move |event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let files = input_files(&input);
            spawn_local(async move { pick_dataset(files).await });
        });
    }
    {
        // A benchmark picked here or in dataset mode: the person picks VLSBench once.
        let state = state.clone();
        events::on_dataset_picked(move |dataset| {
            let (state, dataset) = (state.clone(), dataset.clone());
            spawn_local(async move { open_dataset(state, dataset).await });
        });
    }
    {
        let state = state.clone();
        on("eval-estimate", "click", move |_| {
            let state = state.clone();
            spawn_local(async move {
                let (loaded, db) = {
                    let s = state.borrow();
                    (s.dataset.clone(), s.db.clone())
                };
                let shown = match loaded {
                    Some(loaded) => estimate::show(&loaded.dataset, &loaded.rows, db).await,
                    None => Err("Pick the VLSBench folder first.".to_owned()),
                };
                if let Err(e) = shown {
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
        ("eval-export-report", "report"),
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
    form::restore(&db).await;
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

async fn pick_dataset(files: Vec<web_sys::File>) {
    if files.is_empty() {
        return;
    }
    set_text("eval-dataset-status", "Reading the dataset…");
    match PickedDataset::from_files(files).await {
        Ok(picked) => events::dataset_picked(&Rc::new(picked)),
        Err(e) => set_text("eval-dataset-status", &e),
    }
}

/// A benchmark picked in any panel, read as VLSBench rows.
async fn open_dataset(state: Shared, dataset: Rc<PickedDataset>) {
    match load_rows(&dataset).await {
        Ok(rows) => {
            let categories: std::collections::BTreeSet<&str> =
                rows.iter().map(|r| r.category.as_str()).collect();
            set_text(
                "eval-dataset-status",
                &format!(
                    "{} rows in {} categories; images from {}.",
                    thousands(rows.len() as u64),
                    categories.len(),
                    dataset.label
                ),
            );
            set_body_data("eval-rows", &rows.len().to_string());
            state.borrow_mut().dataset = Some(Rc::new(Loaded { dataset, rows }));
        }
        Err(e) => {
            set_text(
                "eval-dataset-status",
                &format!("{e} (evaluations run on VLSBench's data.json with its images)"),
            );
            state.borrow_mut().dataset = None;
        }
    }
}

async fn load_rows(dataset: &PickedDataset) -> Result<Vec<Row>, String> {
    let bytes = dataset.read_data_json().await?;
    let parsed = load(
        Some(DatasetFormat::VlsBench),
        &dataset.file_name(),
        &bytes,
        Strictness::Strict,
    )
    .map_err(|e| e.to_string())?;
    let rows = rows_from_samples(&parsed.samples)?;
    if rows.is_empty() {
        return Err("data.json holds no rows".into());
    }
    Ok(rows)
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
    // The key must not leave before the lock is in place: any failure here stops the run.
    for (name, value) in [
        ("http-equiv", "Content-Security-Policy"),
        ("content", &locked_connect_src(&origins)),
        ("id", "csp-run-lock"),
    ] {
        meta.set_attribute(name, value)
            .map_err(|e| format!("could not lock the page's connections: {e:?}"))?;
    }
    doc.head()
        .ok_or("no <head>")?
        .append_child(&meta)
        .map_err(|e| format!("{e:?}"))?;
    set_body_data("connect-locked", &origins.join(" "));
    state.borrow_mut().locked = Some(origins);
    Ok(())
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
    let rows = settings.select(&loaded.rows);
    lock_connections(state, settings.origins())?;
    let template = judge_template(&settings).await?;
    if let Err(e) = save_keys_if_asked() {
        message(&e);
    }
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
        if let Err(e) = db.put(RUN_ENTRY, &marker).await {
            message(&format!(
                "{e}: a reload will not offer to continue this run"
            ));
        }
    }
    let target = HttpProvider::new(
        settings.target.config(&value("target-key"), true),
        Fetch::api(),
    );
    let judge = settings
        .judge
        .as_ref()
        .map(|j| HttpProvider::new(j.config(&value("judge-key"), true), Fetch::api()));
    let template_info = settings.judge.as_ref().map(|_| TemplateInfo::of(&template));
    let setup = EvalSetup::new(
        &settings,
        &target,
        judge.as_ref().map(|p| p as &dyn Provider),
        template,
    );
    let target_cost = setup.target.cost;
    let judge_cost = setup.judge.as_ref().map(|(j, _)| j.cost);
    let clock = BrowserClock::default();
    let mut started = Progress::new(rows.len() as u64, clock.now());
    started.priced = settings.target.priced() && settings.judge.as_ref().is_none_or(|j| j.priced());
    let progress = RefCell::new(started);
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
    let mut engine = setup.engine(store, &*loaded.dataset, &clock);
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
        let cost = "the next judge cannot be compared with this one";
        put_json(db, LAST_JUDGE_ENTRY, judge_key, cost).await;
    }
    let records = store.load().await.map_err(|e| e.to_string())?;
    let results = collect(&rows, &records, &selection);
    let report = Report::build(&results);
    let done = summary.rows_complete == rows.len() as u64;
    let title = match (&settings.judge, &template_info) {
        (Some(j), Some(t)) => format!(
            "{} judged by {} with {} instructions (SHA-256 {}…)",
            settings.target.model,
            j.model,
            t.name,
            &t.sha256[..12]
        ),
        _ => format!("{} (no judge)", settings.target.model),
    };
    view::show_report(&report, &title, &settings.departures());
    set_hidden("eval-results", false);
    let halt = summary.halt.clone();
    // The fields `leakscope eval` writes to report.json's setup that the leaderboard reads.
    let model = |api: &crate::eval::settings::ApiSettings| serde_json::json!({ "model": api.model, "base_url": api.base_url });
    let setup = serde_json::json!({
        "dataset": loaded.dataset.file_name(),
        "target": model(&settings.target),
        "judge": settings.judge.as_ref().map(model),
        "template": template_info,
        "judge_template": template_info.as_ref().map(|t| t.name),
        "rows": rows.len(),
    });
    state.borrow_mut().finished = Some(Rc::new(Finished {
        results,
        report,
        template: template_info,
        setup,
    }));
    if let Some(halt) = halt {
        set_body_data(
            "eval-halt",
            &format!("{:?}", halt.cause).to_ascii_lowercase(),
        );
        return Err(format!(
            "The run stopped at once: {halt} Every answer received before is kept in this \
             browser."
        ));
    }
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
        if let Err(e) = db.delete(RUN_ENTRY).await {
            message(&e.to_string());
        }
        set_hidden("eval-resume-note", true);
    }
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
        "report" => {
            // As `leakscope eval` writes it: the leaderboard ("Compare runs") reads it.
            let report = serde_json::json!({ "setup": finished.setup, "report": finished.report });
            let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            download("report.json", "application/json", &text)
        }
        _ => {
            let template = finished
                .template
                .as_ref()
                .ok_or("Without a judge there are no labels for the official format.")?;
            let official =
                export::official_json(&finished.results, &finished.report.overall, template)
                    .ok_or("No row is labelled yet: there are no rates to export.")?;
            let text = serde_json::to_string_pretty(&official).map_err(|e| e.to_string())?;
            download(
                &format!("vlsbench-{}", template.file_name()),
                "application/json",
                &text,
            )
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
        let cleared = async {
            db.clear(RECORDS).await?;
            db.delete(RUN_ENTRY).await?;
            db.delete(LAST_JUDGE_ENTRY).await
        }
        .await;
        match cleared {
            Ok(()) => message("Stored results deleted."),
            Err(e) => message(&e.to_string()),
        }
        set_hidden("eval-resume-note", true);
    }
}
