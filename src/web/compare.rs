//! "Compare runs": the leaderboard of several evaluation runs ([`crate::eval::compare`], the
//! same tables `leakscope compare` prints) from run folders or report.json files the person
//! picks or drops, accumulated until cleared; CSV and Markdown exports.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::File;

use crate::chart::bar_chart_tree;
use crate::eval::compare::{Leaderboard, Run};

use super::dom::{download, on, replace_children, set_body_data, set_hidden, set_text, svg};
use super::dropped;
use super::files::{input_files, picked_path, read_blob};
use super::table;

#[derive(Default)]
struct State {
    /// By source (folder, or file name): so the same run picked twice counts once.
    runs: BTreeMap<String, Run>,
    board: Option<Leaderboard>,
}

/// Wires the panel, if the page has one.
pub fn init() {
    let state: Rc<RefCell<State>> = Rc::default();
    for id in ["cmp-folder", "cmp-files"] {
        let state = state.clone();
        on(id, "change", move |event| {
            let files: Vec<(String, File)> = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .map(|i| input_files(&i))
                .unwrap_or_default()
                .into_iter()
                .map(|f| (picked_path(&f), f))
                .collect();
            let state = state.clone();
            spawn_local(async move { add(&state, files).await });
        });
    }
    on("compare", "dragover", |event| event.prevent_default());
    {
        let state = state.clone();
        on("compare", "drop", move |event| {
            event.prevent_default();
            let entries = event
                .dyn_ref::<web_sys::DragEvent>()
                .map(dropped::entries)
                .unwrap_or_default();
            let state = state.clone();
            spawn_local(async move {
                match dropped::walk(entries).await {
                    Ok(files) => add(&state, files).await,
                    Err(e) => set_text("cmp-status", &e),
                }
            });
        });
    }
    for (id, kind) in [("cmp-export-csv", "csv"), ("cmp-export-md", "md")] {
        let state = state.clone();
        on(id, "click", move |_| {
            let s = state.borrow();
            let exported = match (&s.board, kind) {
                (None, _) => Err("add runs first".to_owned()),
                (Some(b), "csv") => download("leaderboard.csv", "text/csv", &b.csv()),
                (Some(b), _) => download("leaderboard.md", "text/markdown", &b.markdown()),
            };
            if let Err(e) = exported {
                set_text("cmp-status", &format!("Export failed: {e}"));
            }
        });
    }
    on("cmp-clear", "click", move |_| {
        *state.borrow_mut() = State::default();
        set_hidden("cmp-results", true);
        set_text("cmp-status", "No runs yet.");
        set_body_data("cmp-runs", "0");
    });
}

/// The folder part of a picked path (`runs/gpt-4o/report.json` → `runs/gpt-4o`).
fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Reads every report.json among `files` (with the rows.jsonl of the same folder) and shows
/// the leaderboard of everything added so far.
async fn add(state: &Rc<RefCell<State>>, files: Vec<(String, File)>) {
    let mut rows: BTreeMap<String, &File> = BTreeMap::new();
    for (path, file) in &files {
        if path.ends_with("rows.jsonl") {
            rows.insert(folder(path).to_owned(), file);
        }
    }
    let mut problems = Vec::new();
    let mut added = 0;
    for (path, file) in &files {
        // report.json, or a downloaded copy ("report (1).json"); not official.json and the like.
        let name = path.rsplit('/').next().unwrap_or(path);
        if !(name.starts_with("report") && name.ends_with(".json")) {
            continue;
        }
        let source = if folder(path).is_empty() {
            path.clone()
        } else {
            folder(path).to_owned()
        };
        let report = match read_blob(file).await {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        let row_bytes = match rows.get(folder(path)) {
            Some(f) if !folder(path).is_empty() => read_blob(f).await.ok(),
            _ => None,
        };
        match Run::read(&source, &report, row_bytes.as_deref()) {
            Ok(run) => {
                state.borrow_mut().runs.insert(source, run);
                added += 1;
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let runs: Vec<Run> = state.borrow().runs.values().cloned().collect();
    let mut status = format!(
        "{} run(s) compared{}.",
        runs.len(),
        if added == 0 {
            "; nothing new added"
        } else {
            ""
        }
    );
    if let Some(first) = problems.first() {
        status.push_str(&format!(
            " {} file(s) skipped, e.g. {first}",
            problems.len()
        ));
    }
    set_text("cmp-status", &status);
    set_body_data("cmp-runs", &runs.len().to_string());
    let Ok(board) = Leaderboard::build(runs) else {
        return;
    };
    if let Err(e) = show(&board) {
        set_text("cmp-status", &e);
    }
    state.borrow_mut().board = Some(board);
}

fn show(board: &Leaderboard) -> Result<(), String> {
    let chart = svg(&bar_chart_tree(
        "Safe rate (refusals + warnings) per model, with 95% intervals",
        &board.bars(),
    ))?;
    replace_children("cmp-chart", &[chart])?;
    let tables = board
        .tables()
        .iter()
        .map(table::element)
        .collect::<Result<Vec<_>, _>>()?;
    replace_children("cmp-tables", &tables)?;
    let significant = board.comparisons.iter().filter(|c| c.significant).count();
    set_body_data("cmp-significant", &significant.to_string());
    set_hidden("cmp-results", false);
    Ok(())
}
