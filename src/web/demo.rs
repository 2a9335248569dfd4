//! The leakage demo: a gallery of the project's own samples, an editable query re-scored as the
//! person types (debounced), any image (upload, paste, drop, URL), three bars and the verdict
//! in plain words, words shaded by attribution, the relevance overlay (drawn by the worker's
//! WGSL shader), images blurred until revealed, and deep links (`#sample=…&text=…`). While a
//! model's image tower still downloads (text first), the text is scored and the image waits.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlInputElement};

use super::baked;
use super::client::{ModelClient, WorkerError};
use super::dom::{
    append, build, element, on, replace_children, set_attr, set_disabled, set_hidden, set_text,
    set_value, typed, value,
};
use super::events::{self, ShowSample};
use super::fetch::get;
use super::files::read_blob;
use super::url::deep_link;
use super::worker::protocol::ScoreReply;
use crate::leakage::bake::GalleryEntry;
use crate::leakage::guard::WordAttribution;
use crate::leakage::head::HeadScore;
use crate::util::deeplink::DeepLink;

/// The gallery's samples (www/gallery/samples.json; the images beside it are the project's own).
const SAMPLES_JSON: &str = include_str!("../../www/gallery/samples.json");
/// Quiet time after the last key press before the query is scored again.
const DEBOUNCE_MS: i32 = 300;

/// The gallery (a constant of the build: a parse error is a bug the page tests catch).
pub fn samples() -> Vec<GalleryEntry> {
    serde_json::from_str(SAMPLES_JSON).unwrap_or_default()
}

#[derive(Default)]
struct State {
    ready: bool,
    /// The model's text tower is in, its image tower not yet.
    text_only: bool,
    /// The image shown while the image tower downloads (and its gallery sample): it is scored
    /// when the tower is in.
    pending_image: Option<(Vec<u8>, Option<String>)>,
    sample: Option<String>,
    has_image: bool,
    /// Bumped by every new query or image: answers for older ones are dropped.
    generation: u32,
    timer: Option<i32>,
    timer_closure: Option<Closure<dyn FnMut()>>,
}

pub struct Demo {
    client: ModelClient,
    state: RefCell<State>,
    busy: Cell<u32>,
}

fn set_busy(demo: &Demo, delta: i32) {
    let n = (demo.busy.get() as i32 + delta).max(0) as u32;
    demo.busy.set(n);
    set_attr("demo", "data-busy", if n > 0 { "true" } else { "false" });
}

impl Demo {
    /// Wires the demo to the page's events: it comes alive when a model is ready and opens
    /// the samples other panels send it.
    pub fn start(client: ModelClient) {
        let demo = Rc::new(Self {
            client,
            state: RefCell::default(),
            busy: Cell::new(0),
        });
        if let Err(e) = demo.build_gallery() {
            set_text("verdict", &e);
        }
        let ready = demo.clone();
        events::on_model_ready(move |_| ready.model_ready());
        let text = demo.clone();
        events::on_text_ready(move |_| text.text_ready());
        let shown = demo.clone();
        events::on_show_sample(move |sample: &ShowSample| {
            let (demo, sample) = (shown.clone(), sample.clone());
            spawn_local(async move { demo.show_external(sample).await });
        });
        // Results computed ahead of time show at once, before any weight arrives: the bundle
        // and the opening sample's image are fetched side by side.
        spawn_local(async move {
            let linked = demo.linked_sample();
            let image = linked
                .as_ref()
                .and_then(|(id, _)| samples().into_iter().find(|s| &s.id == id))
                .map(|s| image_url(&s));
            let image = async move {
                match image {
                    Some(url) => Some(fetch_bytes(&url).await),
                    None => None,
                }
            };
            let (bundle, image) = futures_util::future::join(baked::load(), image).await;
            match bundle {
                Ok(Some(bundle)) => set_source(&format!(
                    "Computed ahead of time with {} (weights sha256 {}…); live scoring takes \
                     over once the model is loaded.",
                    bundle.set.model.repo,
                    bundle
                        .set
                        .model
                        .weights_sha256
                        .get(..12)
                        .unwrap_or_default()
                )),
                Ok(None) => set_source("Load a model to score the samples live."),
                Err(why) => set_source(&format!("{why}; load a model to score live.")),
            }
            let ready = demo.state.borrow().ready;
            if !ready && let Some((id, text)) = linked {
                demo.select_sample(&id, text, image).await;
            }
        });
    }

    /// The deep-linked sample (`#sample=…&text=…`), else the current one, else the first; and
    /// the link's text.
    fn linked_sample(&self) -> Option<(String, Option<String>)> {
        let link = deep_link();
        // An id the gallery does not know is ignored; the link's text still counts.
        let known = |id: &String| samples().iter().any(|s| &s.id == id);
        let sample = link
            .sample
            .filter(known)
            .or_else(|| self.state.borrow().sample.clone())
            .or_else(|| samples().first().map(|s| s.id.clone()));
        sample.map(|id| (id, link.text))
    }

    fn open_linked_sample(self: &Rc<Self>) {
        if let Some((id, text)) = self.linked_sample() {
            let demo = self.clone();
            spawn_local(async move { demo.select_sample(&id, text, None).await });
        }
    }

    /// A model's text tower is in: the demo works on text; the image waits for its tower.
    fn text_ready(self: &Rc<Self>) {
        self.state.borrow_mut().text_only = true;
        self.start_demo();
    }

    /// Called once a model is ready: enables the controls, opens the deep-linked (or first)
    /// sample; after text first, scores the image that waited for the image tower.
    fn model_ready(self: &Rc<Self>) {
        let was_text_only = std::mem::replace(&mut self.state.borrow_mut().text_only, false);
        if was_text_only {
            let pending = self.state.borrow_mut().pending_image.take();
            if let Some((bytes, sample)) = pending {
                // Busy from now on, not from when the task starts: the text-only scores on
                // the page are not the last word.
                set_busy(self, 1);
                let demo = self.clone();
                spawn_local(async move {
                    demo.use_image(bytes, sample).await;
                    set_busy(&demo, -1);
                });
            }
            return;
        }
        self.start_demo();
    }

    /// Enables the controls and opens the deep-linked (or first) sample.
    fn start_demo(self: &Rc<Self>) {
        let first_time = !std::mem::replace(&mut self.state.borrow_mut().ready, true);
        for id in [
            "demo-text",
            "demo-upload",
            "demo-no-image",
            "demo-url",
            "demo-url-load",
            "vls-load",
        ] {
            set_disabled(id, false);
        }
        if first_time {
            self.wire();
            super::vlsbench_samples::wire();
        }
        set_source("Scored live in this browser by the loaded model.");
        self.open_linked_sample();
    }

    fn build_gallery(self: &Rc<Self>) -> Result<(), String> {
        let buttons: Vec<_> = samples()
            .iter()
            .map(gallery_button)
            .collect::<Result<_, _>>()?;
        replace_children("gallery", &buttons)?;
        let demo = self.clone();
        on("gallery", "click", move |event| {
            let id = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("button[data-sample]").ok().flatten())
                .and_then(|b| b.get_attribute("data-sample"));
            if let Some(id) = id {
                let demo = demo.clone();
                spawn_local(async move { demo.select_sample(&id, None, None).await });
            }
        });
        Ok(())
    }

    fn wire(self: &Rc<Self>) {
        let demo = self.clone();
        on("demo-text", "input", move |_| demo.schedule_rescore());
        let demo = self.clone();
        on("demo-upload", "change", move |event| {
            let file = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0));
            if let Some(file) = file {
                let demo = demo.clone();
                spawn_local(async move {
                    match read_blob(&file).await {
                        Ok(bytes) => demo.use_image(bytes, None).await,
                        Err(e) => set_text("verdict", &e),
                    }
                });
            }
        });
        let demo = self.clone();
        on("demo-url-load", "click", move |_| {
            let demo = demo.clone();
            spawn_local(async move {
                let url = value("demo-url");
                match fetch_bytes(&url).await {
                    Ok(bytes) => demo.use_image(bytes, None).await,
                    Err(e) => set_text("verdict", &e),
                }
            });
        });
        let demo = self.clone();
        on("demo-no-image", "click", move |_| {
            let demo = demo.clone();
            spawn_local(async move {
                demo.state.borrow_mut().pending_image = None;
                if let Err(e) = demo.client.clear_image().await {
                    set_text("verdict", &e.to_string());
                    return;
                }
                demo.state.borrow_mut().has_image = false;
                clear_canvas("demo-canvas");
                set_hidden("demo-overlay", true);
                demo.rescore().await;
            });
        });
        on("demo-reveal", "click", |_| {
            if let Some(fig) = element("demo-figure") {
                let hidden = fig.class_list().toggle("blurred").unwrap_or(true);
                set_attr(
                    "demo-reveal",
                    "aria-pressed",
                    if hidden { "false" } else { "true" },
                );
                set_text(
                    "demo-reveal",
                    if hidden { "Show image" } else { "Blur image" },
                );
            }
        });
        on("demo-heat", "click", |_| {
            let shown = element("demo-overlay").is_some_and(|o| !o.has_attribute("hidden"));
            set_hidden("demo-overlay", shown);
            set_attr(
                "demo-heat",
                "aria-pressed",
                if shown { "false" } else { "true" },
            );
        });
        // Drop an image on the picture.
        on("demo-figure", "dragover", |event| event.prevent_default());
        let demo = self.clone();
        on("demo-figure", "drop", move |event| {
            event.prevent_default();
            let file = event
                .dyn_ref::<web_sys::DragEvent>()
                .and_then(|e| e.data_transfer())
                .and_then(|d| d.files())
                .and_then(|f| f.get(0));
            if let Some(file) = file {
                let demo = demo.clone();
                spawn_local(async move {
                    match read_blob(&file).await {
                        Ok(bytes) => demo.use_image(bytes, None).await,
                        Err(e) => set_text("verdict", &e),
                    }
                });
            }
        });
        // Paste an image anywhere on the page (text pastes go to the text box as usual).
        let demo = self.clone();
        let paste = Closure::<dyn FnMut(web_sys::ClipboardEvent)>::new(
            move |event: web_sys::ClipboardEvent| {
                let file = event
                    .clipboard_data()
                    .and_then(|d| d.files())
                    .and_then(|f| f.get(0))
                    .filter(|f| f.type_().starts_with("image/"));
                if let Some(file) = file {
                    event.prevent_default();
                    let demo = demo.clone();
                    spawn_local(async move {
                        match read_blob(&file).await {
                            Ok(bytes) => demo.use_image(bytes, None).await,
                            Err(e) => set_text("verdict", &e),
                        }
                    });
                }
            },
        );
        if let Some(doc) = super::dom::document() {
            let _ = doc.add_event_listener_with_callback("paste", paste.as_ref().unchecked_ref());
        }
        paste.forget();
    }

    /// Shows a benchmark sample (from dataset mode or VLSBench) in the demo: text and image.
    async fn show_external(self: &Rc<Self>, sample: ShowSample) {
        if !self.state.borrow().ready {
            return;
        }
        set_value("demo-text", &sample.text);
        if let Some(demo) = element("demo") {
            demo.scroll_into_view();
        }
        match sample.image {
            Some(bytes) => self.use_image(bytes, None).await,
            None => {
                if let Err(e) = self.client.clear_image().await {
                    set_text("verdict", &e.to_string());
                    return;
                }
                self.state.borrow_mut().has_image = false;
                self.state.borrow_mut().sample = None;
                press_sample(None);
                clear_canvas("demo-canvas");
                self.rescore().await;
            }
        }
    }

    /// Opens gallery sample `id` (with `text` instead of its own, from a deep link); `image`:
    /// its bytes when they were fetched already.
    async fn select_sample(
        self: &Rc<Self>,
        id: &str,
        text: Option<String>,
        image: Option<Result<Vec<u8>, String>>,
    ) {
        let Some(sample) = samples().into_iter().find(|s| s.id == id) else {
            return;
        };
        self.state.borrow_mut().sample = Some(sample.id.clone());
        press_sample(Some(id));
        let text = text.unwrap_or_else(|| sample.text.clone());
        set_value("demo-text", &text);
        set_text("demo-teaches", &sample.teaches);
        let image = match image {
            Some(image) => image,
            None => fetch_bytes(&image_url(&sample)).await,
        };
        let bytes = match image {
            Ok(bytes) => bytes,
            Err(e) => return set_text("verdict", &e),
        };
        if self.state.borrow().ready {
            self.use_image(bytes, Some(sample.id)).await;
        } else {
            self.show_baked(&sample.id, &text, &bytes).await;
        }
    }

    /// Before a model is ready: the sample's precomputed reading, if the page has one for
    /// exactly this text, drawn like a live one.
    async fn show_baked(&self, id: &str, text: &str, image: &[u8]) {
        if let Err(e) = draw_encoded("demo-canvas", image).await {
            set_text("verdict", &e);
        }
        let Some(bundle) = baked::bundle() else {
            return;
        };
        let Some(reading) = bundle.reading(id, text) else {
            return;
        };
        let score = &reading.score;
        show_scores(&ScoreReply {
            text: score.text.clone(),
            image: score.image.clone(),
            pair: score.pair.clone(),
            class: score.class,
            label: score.class.label().to_string(),
            explanation: score.class.explanation().to_string(),
            ms: 0.0,
        });
        set_text("demo-timing", "");
        show_words(text, &reading.words);
        set_attr("demo", "data-source", "baked");
        set_attr("demo", "data-baked", id);
        if let Some(relevance) = &reading.relevance {
            let overlay = self
                .client
                .overlay(
                    relevance.values.clone(),
                    relevance.grid,
                    bundle.preprocess.clone(),
                    image,
                )
                .await;
            match overlay {
                Ok((reply, rgba)) => {
                    if draw_rgba("demo-overlay", reply.width, reply.height, &rgba).is_ok() {
                        let label = format!("Where the image shows “{}”", relevance.concept);
                        set_disabled("demo-heat", false);
                        set_attr("demo-overlay", "aria-label", &label);
                        set_attr("demo-heat", "title", &label);
                    }
                }
                Err(e) => set_attr("demo-heat", "title", &e.to_string()),
            }
        }
    }

    /// Shows `bytes` and makes them the worker's current image, then scores again.
    async fn use_image(self: &Rc<Self>, bytes: Vec<u8>, sample: Option<String>) {
        if sample.is_none() {
            self.state.borrow_mut().sample = None;
            set_text("demo-teaches", "");
            press_sample(None);
        }
        set_busy(self, 1);
        if let Err(e) = draw_encoded("demo-canvas", &bytes).await {
            set_text("verdict", &e);
        }
        set_hidden("demo-overlay", true);
        set_attr("demo-heat", "aria-pressed", "false");
        set_disabled("demo-heat", true);
        if self.state.borrow().text_only {
            // The image tower is still downloading: the image is scored when it is in. Until
            // then a gallery sample shows its precomputed reading when the page has one for
            // this text; anything else gets its text scored now.
            let text = value("demo-text");
            let baked = sample
                .as_deref()
                .is_some_and(|id| baked::bundle().is_some_and(|b| b.reading(id, &text).is_some()));
            if baked && let Some(id) = sample.as_deref() {
                self.show_baked(id, &text, &bytes).await;
            }
            {
                let mut state = self.state.borrow_mut();
                state.pending_image = Some((bytes, sample));
                state.has_image = false;
            }
            set_busy(self, -1);
            if !baked {
                self.rescore().await;
            }
            return;
        }
        let answer = self.client.set_image(&bytes).await;
        set_busy(self, -1);
        match answer {
            Ok(image) => {
                // Timings as data attributes: tests/e2e/bench.mjs reads them.
                set_attr("demo", "data-image-ms", &format!("{:.1}", image.ms));
                self.state.borrow_mut().has_image = true;
                self.rescore().await;
            }
            Err(e) => set_text("verdict", &e.to_string()),
        }
    }

    fn schedule_rescore(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let mut state = self.state.borrow_mut();
        if let Some(t) = state.timer.take() {
            window.clear_timeout_with_handle(t);
        }
        let demo = self.clone();
        let closure = Closure::<dyn FnMut()>::new(move || {
            let demo = demo.clone();
            spawn_local(async move { demo.rescore().await });
        });
        state.timer = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                closure.as_ref().unchecked_ref(),
                DEBOUNCE_MS,
            )
            .ok();
        state.timer_closure = Some(closure);
    }

    /// Scores the current query (and image), then its attribution and the overlay.
    async fn rescore(self: &Rc<Self>) {
        let text = value("demo-text");
        let generation = {
            let mut s = self.state.borrow_mut();
            s.generation += 1;
            s.generation
        };
        let current = || self.state.borrow().generation == generation;
        update_link(self.state.borrow().sample.as_deref(), &text);
        set_busy(self, 1);
        let mut live = "text";
        match self.client.score(&text).await {
            Ok(reply) if current() => {
                if reply.pair.is_some() {
                    live = "pair";
                }
                show_scores(&reply);
                if self.state.borrow().pending_image.is_some() {
                    show_image_pending();
                }
            }
            Ok(_) | Err(WorkerError::Superseded) => {}
            Err(e) => set_text("verdict", &e.to_string()),
        }
        if current() {
            match self.client.attribute(&text).await {
                Ok(reply) if current() => {
                    show_words(&text, &reply.words);
                    set_attr("demo-words", "data-ms", &format!("{:.1}", reply.ms));
                }
                Ok(_) | Err(WorkerError::Superseded) => {}
                Err(e) => set_text("demo-words", &e.to_string()),
            }
        }
        if current() && self.state.borrow().has_image {
            match self.client.relevance(&text).await {
                Ok((reply, rgba)) if current() => {
                    match draw_rgba("demo-overlay", reply.width, reply.height, &rgba) {
                        Ok(()) => {
                            set_attr("demo-overlay", "data-ms", &format!("{:.1}", reply.ms));
                            let label = format!("Where the image shows “{}”", reply.concept);
                            set_disabled("demo-heat", false);
                            set_attr("demo-overlay", "aria-label", &label);
                            set_attr("demo-heat", "title", &label);
                        }
                        Err(e) => set_attr("demo-heat", "title", &e),
                    }
                }
                Ok(_) | Err(WorkerError::Superseded) => {}
                Err(e) => set_attr("demo-heat", "title", &e.to_string()),
            }
        }
        set_busy(self, -1);
        if current() {
            set_attr("demo", "data-source", "live");
            // What the live score covered: the text alone (the image tower still on its way, or
            // no image) or the text with its image. The first-visit timelines read it.
            set_attr("demo", "data-live", live);
            set_attr("demo", "data-scored", &generation.to_string());
        }
    }
}

/// Marks gallery button `id` pressed and the others not.
fn press_sample(id: Option<&str>) {
    let Some(buttons) =
        element("gallery").and_then(|g| g.query_selector_all("button[data-sample]").ok())
    else {
        return;
    };
    for i in 0..buttons.length() {
        if let Some(b) = buttons
            .get(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        {
            let pressed = id.is_some() && b.get_attribute("data-sample").as_deref() == id;
            let _ = b.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
        }
    }
}

/// One gallery button: the image and the title, as elements (the title as text).
fn gallery_button(s: &GalleryEntry) -> Result<web_sys::Element, String> {
    let button = build(
        "button",
        &[
            ("type", "button"),
            ("data-sample", &s.id),
            ("aria-pressed", "false"),
        ],
        "",
    )?;
    let src = image_url(s);
    let image = build(
        "img",
        &[
            ("src", &src),
            ("alt", ""),
            ("width", "96"),
            ("height", "96"),
        ],
        "",
    )?;
    append(&button, &image)?;
    append(&button, &build("span", &[], &s.title)?)?;
    Ok(button)
}

fn update_link(sample: Option<&str>, text: &str) {
    let default_text = sample
        .and_then(|id| samples().into_iter().find(|s| s.id == id))
        .map(|s| s.text);
    let link = DeepLink {
        sample: sample.map(str::to_owned),
        text: (default_text.as_deref() != Some(text)).then(|| text.to_owned()),
    };
    let hash = link.to_hash();
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let url = if hash.is_empty() {
            " ".to_string()
        } else {
            format!("#{hash}")
        };
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(url.trim()));
    }
}

fn percent(score: Option<&HeadScore>) -> String {
    score.map_or("–".into(), |s| format!("{:.0}%", s.p_unsafe * 100.0))
}

fn show_scores(reply: &ScoreReply) {
    for (which, score) in [
        ("text", Some(&reply.text)),
        ("image", reply.image.as_ref()),
        ("pair", reply.pair.as_ref()),
    ] {
        let meter = format!("meter-{which}");
        let out = format!("value-{which}");
        set_attr(
            &meter,
            "value",
            &score.map_or(0.0, |s| s.p_unsafe).to_string(),
        );
        set_text(&out, &percent(score));
        set_attr(
            &out,
            "data-p",
            &score.map_or(String::new(), |s| s.p_unsafe.to_string()),
        );
        set_attr(
            &out,
            "title",
            &score.map_or(String::new(), |s| {
                format!(
                    "P(unsafe) = {:.4}; closest harm concept: {}",
                    s.p_unsafe, s.top_harm.concept
                )
            }),
        );
    }
    set_text("verdict", &reply.explanation);
    set_attr(
        "verdict",
        "data-class",
        &serde_json::to_value(reply.class)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    );
    set_text("demo-timing", &format!("Scored in {:.0} ms.", reply.ms));
    set_attr("demo-timing", "data-ms", &format!("{:.1}", reply.ms));
}

/// The image waits for the image tower: its bars say so.
fn show_image_pending() {
    for which in ["image", "pair"] {
        set_text(&format!("value-{which}"), "…");
        set_attr(
            &format!("value-{which}"),
            "title",
            "The image tower is still downloading: this score follows when it is in.",
        );
    }
    set_text(
        "verdict",
        "Text alone scored. The image tower is still downloading: the image and the pair are \
         scored when it is in.",
    );
    set_attr("verdict", "data-class", "image-pending");
}

/// The query with each word shaded: red raises the text-only unsafe score, blue lowers it.
fn show_words(text: &str, words: &[WordAttribution]) {
    if words.is_empty() {
        set_text("demo-words", text.trim());
        return;
    }
    if let Err(e) = word_spans(words).and_then(|spans| replace_children("demo-words", &spans)) {
        set_text("demo-words", &e);
    }
}

/// A span per word (its text as text), each followed by a space.
fn word_spans(words: &[WordAttribution]) -> Result<Vec<web_sys::Element>, String> {
    let max = words.iter().map(|w| w.delta.abs()).fold(0.0f32, f32::max);
    let mut spans = Vec::with_capacity(2 * words.len());
    for w in words {
        let level = if max > 0.0 {
            (3.0 * w.delta.abs() / max).ceil() as u32
        } else {
            0
        };
        let class = match (w.delta > 0.0, level) {
            (_, 0) => String::new(),
            (true, l) => format!("up{}", l.min(3)),
            (false, l) => format!("down{}", l.min(3)),
        };
        let title = format!("{:+.3}", w.delta);
        spans.push(build(
            "span",
            &[("class", &class), ("title", &title)],
            &w.word,
        )?);
        spans.push(build("span", &[], " ")?);
    }
    Ok(spans)
}

/// The address of a gallery sample's image, beside the page.
fn image_url(sample: &GalleryEntry) -> String {
    format!("gallery/{}", sample.image)
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    if url.trim().is_empty() {
        return Err("Type the image's address first.".into());
    }
    let response = get(url).await.map_err(|e| {
        format!("Could not fetch {url}: {e}. Download the image and drop it here instead.")
    })?;
    if !(200..300).contains(&response.status) {
        return Err(format!("Could not fetch {url}: HTTP {}", response.status));
    }
    Ok(response.body)
}

fn context(id: &str) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
    let canvas: HtmlCanvasElement = typed(id)?;
    let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    Some((canvas, ctx))
}

fn clear_canvas(id: &str) {
    if let Some((canvas, ctx)) = context(id) {
        ctx.clear_rect(0.0, 0.0, canvas.width().into(), canvas.height().into());
    }
}

/// Draws an encoded image (decoded by the browser, for display only) on canvas `id`.
async fn draw_encoded(id: &str, bytes: &[u8]) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|e| format!("{e:?}"))?;
    let promise = window
        .create_image_bitmap_with_blob(&blob)
        .map_err(|e| format!("{e:?}"))?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| "The browser cannot show this image (is it an image file?)".to_string())?
        .dyn_into()
        .map_err(|_| "not an image")?;
    let (canvas, ctx) = context(id).ok_or("no canvas")?;
    canvas.set_width(bitmap.width());
    canvas.set_height(bitmap.height());
    ctx.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)
        .map_err(|e| format!("{e:?}"))?;
    bitmap.close();
    Ok(())
}

fn draw_rgba(id: &str, width: u32, height: u32, rgba: &[u8]) -> Result<(), String> {
    let (canvas, ctx) = context(id).ok_or("no canvas")?;
    canvas.set_width(width);
    canvas.set_height(height);
    // A copy, not a view of the module's memory: in the threaded build that memory is a
    // SharedArrayBuffer, and ImageData refuses views of shared memory.
    let pixels = js_sys::Uint8ClampedArray::new_with_length(rgba.len() as u32);
    pixels.copy_from(rgba);
    let image = web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(&pixels, width, height)
        .map_err(|e| format!("{e:?}"))?;
    ctx.put_image_data(&image, 0.0, 0.0)
        .map_err(|e| format!("{e:?}"))
}

/// The line under the demo that says where its results come from.
fn set_source(text: &str) {
    set_text("demo-source", text);
}
