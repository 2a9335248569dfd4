//! Dataset mode: score a whole benchmark with the guard in the worker and show the VSIL report
//! (R1 / R2 per category as a chart, a sortable table of the leakiest samples, JSON, CSV and
//! `scores.jsonl` exports). The run is the core's ([`crate::leakage::run`]): the same resume
//! plan, batches and progress as `leakscope leakage`, each batch scored by the worker with the
//! same batch scorer and stored in IndexedDB under the dataset's and the model's identity
//! before the next one starts. Pause, reload, pick the same files, and the run continues.

mod store;
mod view;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::client::ModelClient;
use super::dom::{
    download, on, set_attr, set_body_data, set_disabled, set_hidden, set_text, value,
};
use super::dropped;
use super::events::{self, ModelReady, ShowSample};
use super::files::{PickedDataset, input_files, read_blob};
use super::idb::Database;
use super::time::now_ms;
use crate::datasets::{DatasetFormat, Sample, Strictness, load};
use crate::leakage::metrics::{self, Report};
use crate::leakage::run::{Finish, ResumePlan, RunIdentity, ScoreProgress, score_pending};
use crate::leakage::scores::ScoreLine;
use crate::leakage::store::ScoreStore;
use crate::util::format::human_duration;
use crate::util::hash::short_hash;
use store::IdbScoreStore;
use view::Sort;

/// Samples per message to the worker: large enough to batch the towers, small enough that a
/// pause takes effect quickly and a reload loses little.
const BATCH: usize = 16;

struct Loaded {
    picked: Rc<PickedDataset>,
    samples: Vec<Sample>,
    /// Hash of the dataset file: with the model's identity, names the stored run.
    fingerprint: String,
    name: String,
}

#[derive(Default)]
struct State {
    loaded: Option<Rc<Loaded>>,
    identity: Option<RunIdentity>,
    /// The scored lines against the samples; taken out while a run holds it.
    plan: Option<ResumePlan>,
    running: bool,
    paused: bool,
    report: Option<Rc<Report>>,
    sort: Sort,
}

pub struct DatasetPanel {
    client: ModelClient,
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

fn note(text: &str) {
    set_text("ds-progress-note", text);
}

impl DatasetPanel {
    /// Wires the panel; it takes part once a model is ready and a benchmark is picked (here or
    /// in the evaluation panel).
    pub fn start(client: ModelClient) {
        let panel = Rc::new(Self {
            client,
            state: RefCell::default(),
        });
        panel.wire();
        let ready = panel.clone();
        events::on_model_ready(move |event: &ModelReady| {
            ready.state.borrow_mut().identity = Some(event.identity.clone());
            ready.refresh_buttons();
            let panel = ready.clone();
            spawn_local(async move { panel.restore().await });
        });
        let picked = panel.clone();
        events::on_dataset_picked(move |dataset| {
            let panel = picked.clone();
            let dataset = dataset.clone();
            spawn_local(async move { panel.open(dataset).await });
        });
    }

    /// The key the run's lines are filed under: the dataset's fingerprint and the identity.
    fn run(&self) -> Option<(Rc<Loaded>, RunIdentity, String)> {
        let s = self.state.borrow();
        let loaded = s.loaded.clone()?;
        let mut identity = s.identity.clone()?;
        identity.dataset = loaded.name.clone();
        let key = format!("{}:{}", loaded.fingerprint, identity.key());
        Some((loaded, identity, key))
    }

    fn refresh_buttons(&self) {
        let s = self.state.borrow();
        let ready = s.loaded.is_some() && s.identity.is_some();
        set_disabled("ds-start", !ready || s.running);
        set_disabled("ds-pause", !s.running || s.paused);
        set_disabled("ds-resume", !s.running || !s.paused);
    }

    fn wire(self: &Rc<Self>) {
        for id in ["ds-folder", "ds-files"] {
            on(id, "change", move |event| {
                let files = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| input_files(&i))
                    .unwrap_or_default();
                if files.is_empty() {
                    return;
                }
                set_text("ds-status", "Reading the dataset…");
                spawn_local(async move {
                    let picked =
                        PickedDataset::from_files_with(files, is_dataset_file, false).await;
                    share(picked);
                });
            });
        }
        // Drop the benchmark's folder (or its data file with the images or archive) anywhere on
        // the panel.
        on("dataset", "dragover", |event| event.prevent_default());
        on("dataset", "drop", move |event| {
            event.prevent_default();
            let entries = event
                .dyn_ref::<web_sys::DragEvent>()
                .map(dropped::entries)
                .unwrap_or_default();
            if entries.is_empty() {
                return;
            }
            set_text("ds-status", "Reading the dropped folder…");
            spawn_local(async move {
                let picked = match dropped::walk(entries).await {
                    Ok(paths) if paths.is_empty() => Err("the drop held no files".to_string()),
                    Ok(paths) => {
                        PickedDataset::from_paths_with(paths, is_dataset_file, false).await
                    }
                    Err(e) => Err(e),
                };
                share(picked);
            });
        });
        for id in ["ds-start", "ds-resume"] {
            let panel = self.clone();
            on(id, "click", move |_| {
                let panel = panel.clone();
                spawn_local(async move { panel.score().await });
            });
        }
        let panel = self.clone();
        on("ds-pause", "click", move |_| {
            panel.state.borrow_mut().paused = true;
            panel.refresh_buttons();
            note("Pausing after the batch in flight…");
        });
        let panel = self.clone();
        on("ds-ranked", "click", move |event| {
            let button = |attribute: &str| {
                event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|el| el.closest(&format!("button[{attribute}]")).ok().flatten())
                    .and_then(|b| b.get_attribute(attribute))
            };
            if let Some(index) = button("data-show").and_then(|i| i.parse::<usize>().ok()) {
                let panel = panel.clone();
                spawn_local(async move { panel.show_in_demo(index).await });
            } else if let Some(key) = button("data-sort") {
                let sort = panel.state.borrow().sort.clicked(&key);
                panel.state.borrow_mut().sort = sort;
                panel.show_ranked();
            }
        });
        for (id, kind) in [
            ("ds-export-json", "json"),
            ("ds-export-groups", "groups"),
            ("ds-export-samples", "samples"),
            ("ds-export-scores", "scores"),
        ] {
            let panel = self.clone();
            on(id, "click", move |_| {
                if let Err(e) = panel.export(kind) {
                    note(&format!("Export failed: {e}"));
                }
            });
        }
    }

    fn export(&self, kind: &str) -> Result<(), String> {
        let s = self.state.borrow();
        let report = s.report.clone().ok_or("score the dataset first")?;
        match kind {
            "json" => {
                let text = serde_json::to_string_pretty(&*report).map_err(|e| e.to_string())?;
                download("vsil-report.json", "application/json", &text)
            }
            "groups" => download("vsil-groups.csv", "text/csv", &metrics::groups_csv(&report)),
            "samples" => download(
                "vsil-samples.csv",
                "text/csv",
                &metrics::samples_csv(&report),
            ),
            _ => {
                // The lines `leakscope leakage` writes to scores.jsonl, in dataset order.
                let plan = s
                    .plan
                    .as_ref()
                    .ok_or("the run is still going: pause it first")?;
                let mut text = String::new();
                for (_, line) in plan.scored() {
                    text.push_str(&serde_json::to_string(line).map_err(|e| e.to_string())?);
                    text.push('\n');
                }
                download("scores.jsonl", "application/x-ndjson", &text)
            }
        }
    }

    /// A benchmark picked in any panel: loaded as a dataset here (any supported format).
    async fn open(self: &Rc<Self>, picked: Rc<PickedDataset>) {
        if self.state.borrow().running {
            set_text(
                "ds-status",
                "A dataset run is going on: pause it before picking another benchmark.",
            );
            return;
        }
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
        if let Some(first) = loaded.skipped.first() {
            status.push_str(&format!(" {} rows skipped: {first}", loaded.skipped.len()));
        }
        set_text("ds-status", &status);
        set_body_data("ds-samples", &loaded.samples.len().to_string());
        {
            let mut s = self.state.borrow_mut();
            s.loaded = Some(Rc::new(Loaded {
                picked,
                samples: loaded.samples,
                fingerprint: short_hash(&bytes),
                name,
            }));
            s.plan = None;
            s.report = None;
        }
        set_hidden("ds-results", true);
        self.refresh_buttons();
        self.restore().await;
    }

    async fn store(key: String) -> IdbScoreStore {
        IdbScoreStore::new(Database::open().await.ok(), key)
    }

    /// Lines stored by an earlier visit for this dataset and model.
    async fn restore(self: &Rc<Self>) {
        let Some((loaded, _, key)) = self.run() else {
            return;
        };
        if self.state.borrow().running {
            return;
        }
        let stored = match Self::store(key).await.load().await {
            Ok(stored) => stored,
            Err(e) => {
                note(&format!("{e}: stored scores could not be read"));
                Default::default()
            }
        };
        let plan = ResumePlan::new(&loaded.samples, stored);
        let restored = plan.resumed;
        self.state.borrow_mut().plan = Some(plan);
        if restored > 0 {
            note(&format!(
                "{restored} of {} samples were scored on an earlier visit; Score continues from there.",
                loaded.samples.len()
            ));
            set_body_data("ds-restored", &restored.to_string());
            self.show_report();
        }
    }

    async fn score(self: &Rc<Self>) {
        let Some((loaded, _, key)) = self.run() else {
            return;
        };
        let plan = {
            let mut s = self.state.borrow_mut();
            if s.running && !s.paused {
                return;
            }
            s.running = true;
            s.paused = false;
            s.plan.take()
        };
        let mut plan = plan.unwrap_or_else(|| ResumePlan::new(&loaded.samples, Default::default()));
        self.refresh_buttons();
        set_body_data("ds-state", "running");
        set_hidden("ds-progress", false);
        note("");
        let store = Self::store(key).await;
        let client = self.client.clone();
        let batch_of = |indices: Vec<usize>| {
            let (loaded, client) = (loaded.clone(), client.clone());
            async move { score_in_worker(&client, &loaded, &indices).await }
        };
        let finish = score_pending(
            &mut plan,
            BATCH,
            &store,
            || std::time::Duration::from_secs_f64(now_ms() / 1000.0),
            || self.state.borrow().paused,
            batch_of,
            |plan, progress| self.batch_done(plan, progress, &store),
        )
        .await;
        let complete = plan.done() == plan.total();
        {
            let mut s = self.state.borrow_mut();
            s.plan = Some(plan);
            s.running = !complete && s.paused;
        }
        self.refresh_buttons();
        set_body_data("ds-state", if complete { "done" } else { "paused" });
        match finish {
            Ok(Finish::Complete) => note("All samples scored."),
            Ok(Finish::Stopped) => note("Paused. Resume continues; so does Score after a reload."),
            Err(e) => note(&format!("Stopped: {e}. Score continues from here.")),
        }
        if let Some(why) = store.degraded.borrow().as_ref() {
            note(&format!(
                "{why}: scores are kept in this tab only, export them"
            ));
        }
    }

    fn batch_done(&self, plan: &ResumePlan, progress: ScoreProgress, store: &IdbScoreStore) {
        let (done, total) = (progress.done, progress.total);
        set_attr("ds-progress", "max", &total.to_string());
        set_attr("ds-progress", "value", &done.to_string());
        let left = progress.eta().map_or(String::new(), |eta| {
            format!(" · about {} left", human_duration(eta))
        });
        set_text(
            "ds-progress-text",
            &format!(
                "{done} / {total} samples · {:.1} per second{left}",
                progress.rate()
            ),
        );
        set_body_data("ds-done", &done.to_string());
        if let Some(why) = store.degraded.borrow().as_ref() {
            note(&format!("{why}: scores are kept in this tab only"));
        }
        self.report_from(plan);
    }

    /// Opens sample `index` in the demo (its text, and its image when there is one).
    async fn show_in_demo(&self, index: usize) {
        let Some(loaded) = self.state.borrow().loaded.clone() else {
            return;
        };
        let Some(sample) = loaded.samples.get(index) else {
            return;
        };
        let mut image = None;
        if let Some(path) = &sample.image {
            match loaded.picked.image_blob(path.as_str()) {
                Ok(blob) => match read_blob(&blob).await {
                    Ok(bytes) => image = Some(bytes),
                    Err(e) => note(&format!("{path}: {e}")),
                },
                Err(e) => note(&e),
            }
        }
        events::show_sample(&ShowSample {
            text: sample.text.clone(),
            image,
        });
    }

    fn show_report(&self) {
        let s = self.state.borrow();
        if let Some(plan) = &s.plan {
            let plan = plan.clone();
            drop(s);
            self.report_from(&plan);
        }
    }

    fn report_from(&self, plan: &ResumePlan) {
        let Some(loaded) = self.state.borrow().loaded.clone() else {
            return;
        };
        match plan.report(&loaded.samples, false) {
            Ok((report, _)) => {
                view::show_report(&report);
                self.state.borrow_mut().report = Some(Rc::new(report));
                self.show_ranked();
            }
            Err(e) => set_text("ds-summary", &e.to_string()),
        }
    }

    fn show_ranked(&self) {
        let s = self.state.borrow();
        if let Some(report) = &s.report {
            view::show_ranked(report, &s.sort);
        }
    }
}

/// Hands a freshly picked benchmark to every panel that reads benchmarks.
fn share(picked: Result<PickedDataset, String>) {
    match picked {
        Ok(picked) => events::dataset_picked(&Rc::new(picked)),
        Err(e) => set_text(
            "ds-status",
            &format!("{e}: pick the benchmark's folder or its data file"),
        ),
    }
}

/// The score lines of samples `indices`: their images (as blobs, cheap to hand over) and texts
/// go to the worker in one message.
async fn score_in_worker(
    client: &ModelClient,
    loaded: &Loaded,
    indices: &[usize],
) -> Result<Vec<ScoreLine>, String> {
    let mut samples = Vec::with_capacity(indices.len());
    let mut has_image = Vec::with_capacity(indices.len());
    let mut blobs = Vec::new();
    for &i in indices {
        let sample = loaded.samples[i].clone();
        let blob = sample
            .image
            .as_ref()
            .and_then(|r| loaded.picked.image_blob(r.as_str()).ok());
        has_image.push(blob.is_some());
        blobs.extend(blob);
        samples.push(sample);
    }
    client
        .score_samples(samples, has_image, &blobs)
        .await
        .map(|reply| reply.lines)
        .map_err(|e| e.to_string())
}
