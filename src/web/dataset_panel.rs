//! Dataset mode: score a whole benchmark with the guard in the worker, batch by batch, and show
//! the VSIL report (R1 / R2 per category as a chart, a sortable table of the leakiest samples,
//! JSON and CSV exports). Every batch's score lines go to IndexedDB as they arrive, under the
//! dataset's and the model's fingerprint: pause, reload, pick the same files, and the run
//! continues where it stopped.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::client::ModelClient;
use super::demo::Demo;
use super::dom::{
    download, on, set_attr, set_body_data, set_disabled, set_hidden, set_html, set_text, value,
};
use super::dropped;
use super::eval::PickedDataset;
use super::idb::{Database, VSIL};
use super::worker::protocol::{Request, Response};
use crate::chart::{Bar, bar_chart};
use crate::datasets::{DatasetFormat, Sample, Strictness, load};
use crate::leakage::metrics::{self, RankedSample, Report};
use crate::leakage::scores::{ScoreLine, judgement};
use crate::util::hash::short_hash;
use crate::util::html::escape;

/// Samples per message to the worker: large enough to batch the towers, small enough that a
/// pause takes effect quickly and a reload loses little.
const BATCH: usize = 16;
/// Rows shown in the leakiest-samples table.
const SHOWN: usize = 100;

struct Loaded {
    picked: PickedDataset,
    samples: Vec<Sample>,
    /// Hash of the dataset file: with the model key, names the stored run.
    fingerprint: String,
}

#[derive(Default)]
struct State {
    loaded: Option<Rc<Loaded>>,
    model_key: Option<String>,
    running: bool,
    paused: bool,
    lines: BTreeMap<usize, ScoreLine>,
    report: Option<Rc<Report>>,
    sort: (String, bool),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredLine {
    run: String,
    index: usize,
    line: ScoreLine,
}

pub struct DatasetPanel {
    client: ModelClient,
    demo: Rc<Demo>,
    state: RefCell<State>,
}

fn format_choice() -> Option<DatasetFormat> {
    serde_json::from_value(serde_json::Value::String(value("ds-format"))).ok()
}

fn is_dataset_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.ends_with(".json") || lower.ends_with(".csv"))
        && !matches!(lower.as_str(), "config.json" | "package.json")
}

impl DatasetPanel {
    pub fn new(client: ModelClient, demo: Rc<Demo>) -> Rc<Self> {
        let panel = Rc::new(Self {
            client,
            demo,
            // The leakiest first: by text-only score, highest first.
            state: RefCell::new(State {
                sort: ("text".into(), true),
                ..State::default()
            }),
        });
        panel.wire();
        panel
    }

    fn run_key(&self) -> Option<String> {
        let s = self.state.borrow();
        Some(format!(
            "{}:{}",
            s.loaded.as_ref()?.fingerprint,
            s.model_key.as_ref()?
        ))
    }

    pub fn model_ready(self: &Rc<Self>, model_key: &str) {
        self.state.borrow_mut().model_key = Some(model_key.to_string());
        self.refresh_buttons();
        let panel = self.clone();
        spawn_local(async move { panel.restore().await });
    }

    fn refresh_buttons(&self) {
        let s = self.state.borrow();
        let ready = s.loaded.is_some() && s.model_key.is_some();
        set_disabled("ds-start", !ready || s.running);
        set_disabled("ds-pause", !s.running || s.paused);
        set_disabled("ds-resume", !s.running || !s.paused);
    }

    fn wire(self: &Rc<Self>) {
        for id in ["ds-folder", "ds-files"] {
            let panel = self.clone();
            on(id, "change", move |event| {
                let files = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| super::eval::input_files(&i))
                    .unwrap_or_default();
                let panel = panel.clone();
                spawn_local(async move { panel.pick(files).await });
            });
        }
        // Drop the benchmark's folder (or its data file with the images or archive) anywhere on
        // the panel.
        on("dataset", "dragover", |event| event.prevent_default());
        let panel = self.clone();
        on("dataset", "drop", move |event| {
            event.prevent_default();
            let entries = event
                .dyn_ref::<web_sys::DragEvent>()
                .map(dropped::entries)
                .unwrap_or_default();
            let panel = panel.clone();
            spawn_local(async move { panel.pick_dropped(entries).await });
        });
        let panel = self.clone();
        on("ds-start", "click", move |_| {
            let panel = panel.clone();
            spawn_local(async move { panel.run().await });
        });
        let panel = self.clone();
        on("ds-pause", "click", move |_| {
            panel.state.borrow_mut().paused = true;
            panel.refresh_buttons();
            set_text("ds-progress-note", "Pausing after the batch in flight…");
        });
        let panel = self.clone();
        on("ds-resume", "click", move |_| {
            let panel = panel.clone();
            spawn_local(async move { panel.run().await });
        });
        let panel = self.clone();
        on("ds-ranked", "click", move |event| {
            let show = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("button[data-show]").ok().flatten())
                .and_then(|b| b.get_attribute("data-show"))
                .and_then(|i| i.parse::<usize>().ok());
            if let Some(index) = show {
                let panel = panel.clone();
                spawn_local(async move { panel.show_in_demo(index).await });
                return;
            }
            let key = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("button[data-sort]").ok().flatten())
                .and_then(|b| b.get_attribute("data-sort"));
            if let Some(key) = key {
                {
                    let mut s = panel.state.borrow_mut();
                    let descending = if s.sort.0 == key { !s.sort.1 } else { true };
                    s.sort = (key, descending);
                }
                panel.show_ranked();
            }
        });
        for (id, kind) in [
            ("ds-export-json", "json"),
            ("ds-export-groups", "groups"),
            ("ds-export-samples", "samples"),
        ] {
            let panel = self.clone();
            on(id, "click", move |_| {
                let Some(report) = panel.state.borrow().report.clone() else {
                    return;
                };
                let _ = match kind {
                    "json" => download(
                        "vsil-report.json",
                        "application/json",
                        &serde_json::to_string_pretty(&*report).unwrap_or_default(),
                    ),
                    "groups" => {
                        download("vsil-groups.csv", "text/csv", &metrics::groups_csv(&report))
                    }
                    _ => download(
                        "vsil-samples.csv",
                        "text/csv",
                        &metrics::samples_csv(&report),
                    ),
                };
            });
        }
    }

    async fn pick(self: &Rc<Self>, files: Vec<web_sys::File>) {
        if files.is_empty() {
            return;
        }
        set_text("ds-status", "Reading the dataset…");
        let picked = PickedDataset::from_files_with(files, is_dataset_file, false).await;
        self.open_picked(picked).await;
    }

    /// A folder (or files) dropped on the panel: walked, then read like a picked folder.
    async fn pick_dropped(self: &Rc<Self>, entries: Vec<web_sys::FileSystemEntry>) {
        if entries.is_empty() {
            return;
        }
        set_text("ds-status", "Reading the dropped folder…");
        let picked = match dropped::walk(entries).await {
            Ok(paths) if paths.is_empty() => Err("the drop held no files".to_string()),
            Ok(paths) => PickedDataset::from_paths_with(paths, is_dataset_file, false).await,
            Err(e) => Err(e),
        };
        self.open_picked(picked).await;
    }

    async fn open_picked(self: &Rc<Self>, picked: Result<PickedDataset, String>) {
        let picked = match picked {
            Ok(p) => p,
            Err(e) => {
                set_text(
                    "ds-status",
                    &format!("{e}: pick the benchmark's folder or its data file"),
                );
                return;
            }
        };
        let bytes = match picked.read_data_json().await {
            Ok(b) => b,
            Err(e) => {
                set_text("ds-status", &e);
                return;
            }
        };
        let name = picked.file_name();
        let loaded = match load(format_choice(), &name, &bytes, Strictness::Lenient) {
            Ok(l) => l,
            Err(e) => {
                set_text("ds-status", &e.to_string());
                return;
            }
        };
        let with_images = loaded
            .samples
            .iter()
            .filter(|s| {
                s.image
                    .as_ref()
                    .is_some_and(|i| picked.image_blob(i.as_str()).is_ok())
            })
            .count();
        let mut status = format!(
            "{} samples ({:?}) from {name}; {with_images} with their image.",
            loaded.samples.len(),
            loaded.format
        );
        if !loaded.skipped.is_empty() {
            status.push_str(&format!(
                " {} rows skipped: {}",
                loaded.skipped.len(),
                loaded.skipped[0]
            ));
        }
        set_text("ds-status", &status);
        set_body_data("ds-samples", &loaded.samples.len().to_string());
        let fingerprint = short_hash(&bytes);
        {
            let mut s = self.state.borrow_mut();
            s.loaded = Some(Rc::new(Loaded {
                picked,
                samples: loaded.samples,
                fingerprint,
            }));
            s.lines.clear();
            s.report = None;
        }
        self.refresh_buttons();
        self.restore().await;
    }

    /// Lines stored by an earlier visit for this dataset and model.
    async fn restore(self: &Rc<Self>) {
        let Some(run) = self.run_key() else { return };
        let Ok(db) = Database::open().await else {
            return;
        };
        let texts = db.all_texts(VSIL).await.unwrap_or_default();
        let mut restored = 0;
        {
            let mut s = self.state.borrow_mut();
            for t in texts {
                if let Ok(stored) = serde_json::from_str::<StoredLine>(&t)
                    && stored.run == run
                {
                    restored += usize::from(s.lines.insert(stored.index, stored.line).is_none());
                }
            }
        }
        if restored > 0 {
            let total = self
                .state
                .borrow()
                .loaded
                .as_ref()
                .map_or(0, |l| l.samples.len());
            set_text(
                "ds-progress-note",
                &format!(
                    "{restored} of {total} samples were scored on an earlier visit; Score continues from there."
                ),
            );
            set_body_data("ds-restored", &restored.to_string());
            self.show_report();
        }
    }

    async fn run(self: &Rc<Self>) {
        let (Some(loaded), Some(run)) = (self.state.borrow().loaded.clone(), self.run_key()) else {
            return;
        };
        {
            let mut s = self.state.borrow_mut();
            if s.running && !s.paused {
                return;
            }
            s.running = true;
            s.paused = false;
        }
        self.refresh_buttons();
        set_body_data("ds-state", "running");
        set_hidden("ds-progress", false);
        let db = Database::open().await.ok();
        let total = loaded.samples.len();
        let started = super::time::now_ms();
        let mut scored_now = 0usize;
        loop {
            if self.state.borrow().paused {
                break;
            }
            let todo: Vec<usize> = {
                let s = self.state.borrow();
                (0..total)
                    .filter(|i| !s.lines.contains_key(i))
                    .take(BATCH)
                    .collect()
            };
            if todo.is_empty() {
                break;
            }
            let mut samples = Vec::with_capacity(todo.len());
            let mut has_image = Vec::with_capacity(todo.len());
            let mut blobs = Vec::new();
            for &i in &todo {
                let sample = loaded.samples[i].clone();
                match sample
                    .image
                    .as_ref()
                    .map(|r| loaded.picked.image_blob(r.as_str()))
                {
                    Some(Ok(blob)) => {
                        blobs.push(blob);
                        has_image.push(true);
                    }
                    _ => has_image.push(false),
                }
                samples.push(sample);
            }
            let answer = self
                .client
                .call(&Request::ScoreSamples { samples, has_image }, None, &blobs)
                .await;
            let lines = match answer {
                Response::SampleScores { lines, .. } => lines,
                Response::Error { message } => {
                    set_text("ds-progress-note", &format!("Stopped: {message}"));
                    break;
                }
                _ => break,
            };
            let stored: Vec<String> = todo
                .iter()
                .zip(&lines)
                .filter_map(|(&index, line)| {
                    serde_json::to_string(&StoredLine {
                        run: run.clone(),
                        index,
                        line: line.clone(),
                    })
                    .ok()
                })
                .collect();
            if let Some(db) = &db
                && let Err(e) = db.append_all(VSIL, &stored).await
            {
                set_text(
                    "ds-progress-note",
                    &format!("{e}: scores are kept in this tab only"),
                );
            }
            scored_now += lines.len();
            let done = {
                let mut s = self.state.borrow_mut();
                for (&index, line) in todo.iter().zip(lines) {
                    s.lines.insert(index, line);
                }
                s.lines.len()
            };
            let seconds = (super::time::now_ms() - started) / 1000.0;
            let rate = scored_now as f64 / seconds.max(1e-3);
            let left = (total - done) as f64 / rate.max(1e-9);
            set_attr("ds-progress", "max", &total.to_string());
            set_attr("ds-progress", "value", &done.to_string());
            set_text(
                "ds-progress-text",
                &format!(
                    "{done} / {total} samples · {rate:.1} per second · about {} left",
                    crate::util::format::human_duration(std::time::Duration::from_secs_f64(left))
                ),
            );
            set_body_data("ds-done", &done.to_string());
            self.show_report();
        }
        let finished = self.state.borrow().lines.len() == total;
        {
            let mut s = self.state.borrow_mut();
            s.running = !finished && s.paused;
        }
        self.refresh_buttons();
        set_body_data("ds-state", if finished { "done" } else { "paused" });
        if finished {
            set_text("ds-progress-note", "All samples scored.");
        } else if self.state.borrow().paused {
            set_text(
                "ds-progress-note",
                "Paused. Resume continues; so does Score after a reload.",
            );
        }
    }

    /// Opens sample `index` in the demo above (text, and its image when there is one).
    async fn show_in_demo(&self, index: usize) {
        let Some(loaded) = self.state.borrow().loaded.clone() else {
            return;
        };
        let Some(sample) = loaded.samples.get(index) else {
            return;
        };
        let mut image = None;
        if let Some(path) = &sample.image
            && let Ok(blob) = loaded.picked.image_blob(path.as_str())
        {
            image = super::eval::read_blob(&blob).await.ok();
        }
        self.demo.show_external(&sample.text, image).await;
    }

    fn show_report(&self) {
        let report = {
            let s = self.state.borrow();
            let Some(loaded) = &s.loaded else { return };
            // Samples in dataset order; only the scored ones are judged.
            let judgements: Vec<_> = s
                .lines
                .iter()
                .filter_map(|(&i, line)| judgement(i, line, false))
                .collect();
            match metrics::report(&loaded.samples, &judgements) {
                Ok(r) => r,
                Err(e) => {
                    set_text("ds-summary", &e.to_string());
                    return;
                }
            }
        };
        let o = &report.overall;
        set_text(
            "ds-summary",
            &format!(
                "R1 (unsafe with the image) {:.1}%, R2 (unsafe with and without it) {:.1}%: R2/R1 = {} over {} judged samples{}. \
                 R2 close to R1 means the text alone gives the harm away.",
                o.r1.rate * 100.0,
                o.r2.rate * 100.0,
                o.r2_over_r1
                    .as_ref()
                    .map_or("–".into(), |p| format!("{:.2}", p.rate)),
                report.judged,
                if report.unjudged > 0 {
                    format!(" ({} without an image score left out)", report.unjudged)
                } else {
                    String::new()
                }
            ),
        );
        set_body_data("ds-r1", &format!("{:.6}", o.r1.rate));
        set_body_data("ds-r2", &format!("{:.6}", o.r2.rate));
        let mut bars = Vec::new();
        for g in &report.by_category {
            let name = g.category.clone().unwrap_or_else(|| "(none)".into());
            for (which, p) in [("R1", &g.rates.r1), ("R2", &g.rates.r2)] {
                bars.push(Bar {
                    label: format!("{name} {which}"),
                    value: p.rate,
                    low: p.low,
                    high: p.high,
                    note: format!("n = {}", g.rates.n),
                });
            }
        }
        set_html(
            "ds-chart",
            &bar_chart("R1 and R2 by category, with 95% intervals", &bars),
        );
        let mut html = String::from(
            "<table class=\"rates\"><caption>By category</caption><thead><tr><th scope=\"col\">Category</th>\
             <th scope=\"col\">Judged</th><th scope=\"col\">R1</th><th scope=\"col\">R2</th><th scope=\"col\">R2/R1</th></tr></thead><tbody>",
        );
        for g in &report.by_category {
            html.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{}</td></tr>",
                escape(g.category.as_deref().unwrap_or("(none)")),
                g.rates.n,
                g.rates.r1.rate * 100.0,
                g.rates.r2.rate * 100.0,
                g.rates.r2_over_r1.as_ref().map_or("–".into(), |p| format!("{:.2}", p.rate))
            ));
        }
        html.push_str("</tbody></table>");
        set_html("ds-groups", &html);
        set_hidden("ds-results", false);
        self.state.borrow_mut().report = Some(Rc::new(report));
        self.show_ranked();
    }

    fn show_ranked(&self) {
        let s = self.state.borrow();
        let Some(report) = &s.report else { return };
        let (key, descending) = (&s.sort.0, s.sort.1);
        let mut rows: Vec<&RankedSample> = report.ranked.iter().collect();
        let cmp = |a: &&RankedSample, b: &&RankedSample| match key.as_str() {
            "id" => a.id.cmp(&b.id),
            "category" => a.category.cmp(&b.category),
            "pair" => a.pair_score.total_cmp(&b.pair_score),
            _ => a.text_score.total_cmp(&b.text_score),
        };
        rows.sort_by(|a, b| if descending { cmp(b, a) } else { cmp(a, b) });
        let header = |k: &str, label: &str| {
            let sort = if k == key {
                if descending {
                    "descending"
                } else {
                    "ascending"
                }
            } else {
                "none"
            };
            format!(
                "<th scope=\"col\" aria-sort=\"{sort}\"><button type=\"button\" data-sort=\"{k}\">{label}</button></th>"
            )
        };
        let mut html = format!(
            "<caption>Leakiest samples (of {})</caption><thead><tr>{}{}{}{}<th scope=\"col\">Leaked</th><th scope=\"col\"><span class=\"sr-only\">Open</span></th></tr></thead><tbody>",
            report.ranked.len(),
            header("id", "Sample"),
            header("category", "Category"),
            header("text", "P(unsafe | text)"),
            header("pair", "P(unsafe | text, image)")
        );
        for r in rows.iter().take(SHOWN) {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td>\
                 <td><button type=\"button\" data-show=\"{}\">Show in the demo</button></td></tr>",
                escape(&r.id),
                escape(r.category.as_deref().unwrap_or("")),
                r.text_score,
                r.pair_score,
                if r.leaked { "yes" } else { "" },
                r.index
            ));
        }
        html.push_str("</tbody>");
        set_html("ds-ranked", &html);
    }
}
