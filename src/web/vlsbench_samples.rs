//! "VLSBench sample" in the demo: a real benchmark pair fetched at run time from the dataset's
//! Hugging Face repository (its `data.json` once, then one image per sample from its `imgs/`
//! folder), shown and scored like a gallery sample. The project redistributes no VLSBench
//! image; the person's browser fetches it from the dataset's own host.
//!
//! `?hub=<origin>` (shared with model loading) names a mirror; `?vlsbench=<owner/name>` another
//! repository in VLSBench's layout (the page tests serve a fixture that way).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;

use super::dom::{build, on, replace_children, set_attr, set_disabled, set_text, value};
use super::events::{self, ShowSample};
use super::fetch::get;
use super::url::{hub_base, query_value};
use crate::datasets::remote::{
    DatasetRepo, VLSBENCH_DATA, VLSBENCH_REPO, candidates, categories, pick, status_message,
};
use crate::datasets::{DatasetFormat, Sample, Strictness, load};

#[derive(Default)]
struct Loaded {
    samples: Vec<Sample>,
    /// How many samples were drawn so far: the next pick's index in the fixed shuffle.
    draws: u64,
}

/// Wires the "VLSBench sample" button and category filter (once, when a model is first ready).
pub fn wire() {
    let repo = DatasetRepo::new(
        &hub_base(),
        &query_value("vlsbench").unwrap_or_else(|| VLSBENCH_REPO.to_string()),
        "main",
    );
    let state: Rc<RefCell<Option<Loaded>>> = Rc::default();
    let busy = Rc::new(std::cell::Cell::new(false));
    on("vls-load", "click", move |_| {
        if busy.replace(true) {
            return;
        }
        let (repo, state, busy) = (repo.clone(), state.clone(), busy.clone());
        spawn_local(async move {
            set_disabled("vls-load", true);
            if let Err(message) = next_sample(&repo, &state).await {
                set_text("vls-status", &message);
                set_attr("vls-status", "data-state", "error");
            }
            set_disabled("vls-load", false);
            busy.set(false);
        });
    });
}

async fn next_sample(
    repo: &DatasetRepo,
    state: &Rc<RefCell<Option<Loaded>>>,
) -> Result<(), String> {
    if state.borrow().is_none() {
        set_text(
            "vls-status",
            &format!(
                "Fetching VLSBench's {VLSBENCH_DATA} from {}…",
                repo.page_url()
            ),
        );
        let bytes = fetch(repo, VLSBENCH_DATA).await?;
        let loaded = load(
            Some(DatasetFormat::VlsBench),
            VLSBENCH_DATA,
            &bytes,
            Strictness::Lenient,
        )
        .map_err(|e| format!("{VLSBENCH_DATA} from {}: {e}", repo.page_url()))?;
        fill_categories(&loaded.samples);
        *state.borrow_mut() = Some(Loaded {
            samples: loaded.samples,
            draws: 0,
        });
    }
    let category = Some(value("vls-category")).filter(|c| !c.is_empty());
    let sample = {
        let mut guard = state.borrow_mut();
        let loaded = guard.as_mut().ok_or("the dataset is not loaded")?;
        let pool = candidates(&loaded.samples, category.as_deref());
        let sample = pick(&pool, loaded.draws)
            .ok_or("No sample with an image in this category.")?
            .clone();
        loaded.draws += 1;
        sample
    };
    let image = sample.image.as_ref().ok_or("the sample has no image")?;
    set_text(
        "vls-status",
        &format!("Fetching the image of VLSBench #{}…", sample.id),
    );
    let bytes = fetch(repo, image.as_str()).await?;
    events::show_sample(&ShowSample {
        text: sample.text.clone(),
        image: Some(bytes),
    });
    let labels = [sample.category.as_deref(), sample.sub_category.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ");
    set_text(
        "vls-status",
        &format!(
            "VLSBench #{} · {labels} · source {}. Fetched from {}; nothing of it ships with this page.",
            sample.id,
            sample.source,
            repo.page_url()
        ),
    );
    set_attr("vls-status", "data-state", "shown");
    set_attr("vls-status", "data-id", &sample.id);
    Ok(())
}

fn fill_categories(samples: &[Sample]) {
    let mut options = vec![build("option", &[("value", "")], "any category")];
    for (name, count) in categories(samples) {
        options.push(build(
            "option",
            &[("value", &name)],
            &format!("{name} ({count})"),
        ));
    }
    let built: Result<Vec<_>, String> = options.into_iter().collect();
    if let Err(e) = built.and_then(|o| replace_children("vls-category", &o)) {
        set_text("vls-status", &e);
    }
    set_disabled("vls-category", false);
}

async fn fetch(repo: &DatasetRepo, path: &str) -> Result<Vec<u8>, String> {
    let url = repo.file_url(path);
    let response = get(&url).await.map_err(|e| {
        format!(
            "Could not fetch {url} ({e}). Open your own VLSBench download under “Measure a \
             whole benchmark” instead."
        )
    })?;
    if !(200..300).contains(&response.status) {
        return Err(status_message(repo, path, response.status));
    }
    Ok(response.body)
}
