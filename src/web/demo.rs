//! The leakage demo: a gallery of the project's own samples, an editable query re-scored as the
//! person types (debounced), any image (upload, paste, drop, URL), three bars and the verdict
//! in plain words, words shaded by attribution, the relevance overlay (drawn by the worker's
//! WGSL shader), images blurred until revealed, and deep links (`#sample=…&text=…`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlInputElement};

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
use crate::leakage::guard::WordAttribution;
use crate::leakage::head::HeadScore;
use crate::util::deeplink::DeepLink;

/// The gallery's samples (www/gallery/samples.json; the images beside it are the project's own).
const SAMPLES_JSON: &str = include_str!("../../www/gallery/samples.json");
/// Quiet time after the last key press before the query is scored again.
const DEBOUNCE_MS: i32 = 300;

#[derive(Clone, Debug, Deserialize)]
pub struct Sample {
    pub id: String,
    pub title: String,
    pub image: String,
    pub text: String,
    pub teaches: String,
}

pub fn samples() -> Vec<Sample> {
    serde_json::from_str(SAMPLES_JSON).unwrap_or_default()
}

#[derive(Default)]
struct State {
    ready: bool,
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
        let ready = demo.clone();
        events::on_model_ready(move |_| ready.model_ready());
        events::on_show_sample(move |sample: &ShowSample| {
            let (demo, sample) = (demo.clone(), sample.clone());
            spawn_local(async move { demo.show_external(sample).await });
        });
    }

    /// Called once a model is ready: enables the controls, opens the deep-linked (or first) sample.
    fn model_ready(self: &Rc<Self>) {
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
            self.build_gallery();
            super::vlsbench_samples::wire();
        }
        let link = deep_link();
        // An id the gallery does not know is ignored; the link's text still counts.
        let known = |id: &String| samples().iter().any(|s| &s.id == id);
        let sample = link
            .sample
            .filter(known)
            .or_else(|| self.state.borrow().sample.clone())
            .or_else(|| samples().first().map(|s| s.id.clone()));
        let text = link.text;
        if let Some(id) = sample {
            let demo = self.clone();
            spawn_local(async move { demo.select_sample(&id, text).await });
        }
    }

    fn build_gallery(self: &Rc<Self>) {
        let buttons: Result<Vec<_>, String> = samples().iter().map(gallery_button).collect();
        if let Err(e) = buttons.and_then(|b| replace_children("gallery", &b)) {
            set_text("verdict", &e);
        }
        let demo = self.clone();
        on("gallery", "click", move |event| {
            let id = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("button[data-sample]").ok().flatten())
                .and_then(|b| b.get_attribute("data-sample"));
            if let Some(id) = id {
                let demo = demo.clone();
                spawn_local(async move { demo.select_sample(&id, None).await });
            }
        });
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

    async fn select_sample(self: &Rc<Self>, id: &str, text: Option<String>) {
        let Some(sample) = samples().into_iter().find(|s| s.id == id) else {
            return;
        };
        self.state.borrow_mut().sample = Some(sample.id.clone());
        press_sample(Some(id));
        set_value("demo-text", text.as_deref().unwrap_or(&sample.text));
        set_text("demo-teaches", &sample.teaches);
        match fetch_bytes(&format!("gallery/{}", sample.image)).await {
            Ok(bytes) => self.use_image(bytes, Some(sample.id)).await,
            Err(e) => set_text("verdict", &e),
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
        match self.client.score(&text).await {
            Ok(reply) if current() => show_scores(&reply),
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
fn gallery_button(s: &Sample) -> Result<web_sys::Element, String> {
    let button = build(
        "button",
        &[
            ("type", "button"),
            ("data-sample", &s.id),
            ("aria-pressed", "false"),
        ],
        "",
    )?;
    let src = format!("gallery/{}", s.image);
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
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width, height)
        .map_err(|e| format!("{e:?}"))?;
    ctx.put_image_data(&image, 0.0, 0.0)
        .map_err(|e| format!("{e:?}"))
}
