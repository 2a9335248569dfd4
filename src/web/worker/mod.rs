//! The model worker: the same wasm module, started by `www/worker.js` in a dedicated Web Worker,
//! owns the Burn device and the loaded model, so the page never freezes while the CPU backend
//! computes for seconds. Requests run one at a time in arrival order; a queued score,
//! attribution or relevance request is replaced by a newer one of the same kind (typing
//! re-scores on every pause, only the last text matters).

pub mod protocol;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::compute::{BackendKind, ComputeDevice, Precision, smoke_check};
use crate::datasets::Sample;
use crate::embedder::{CheckpointFiles, ClipEmbedder, Embeddings};
use crate::eval::hash;
use crate::gpu::overlay::render_overlay_on;
use crate::gpu::preprocess::model_input;
use crate::leakage::guard::Guard;
use crate::leakage::head::GuardHead;
use crate::leakage::scores::line;
use crate::overlay::{GridRect, OverlayOptions, OverlayPlan};
use crate::preprocess::{DecodeOptions, Geometry, decode_rgb, preprocess_rgba_with};
use crate::tokenizer::TokenizerMode;
use crate::web::gpu_probe::probe_webgpu;
use crate::web::hub;
use crate::web::idb::Database;
use crate::web::time::now_ms;

use protocol::{Envelope, ModelChoice, Request, Response, ScoreReply};

struct Model {
    guard: Guard,
}

struct CurrentImage {
    /// As decoded by the Rust decoder (the same pixels the model sees), RGBA.
    rgba: Vec<u8>,
    width: u32,
    height: u32,
    embedding: Embeddings,
}

struct Job {
    id: u32,
    request: Request,
    bytes: Option<Vec<u8>>,
    /// Files and blobs that came with the message (picked model files, dataset images).
    blobs: Vec<web_sys::Blob>,
}

#[derive(Default)]
struct State {
    device: Option<ComputeDevice>,
    model: Option<Rc<Model>>,
    image: Option<Rc<CurrentImage>>,
    queue: VecDeque<Job>,
    busy: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

fn post(id: u32, body: Response) {
    post_with_bytes(id, body, None);
}

/// Posts `body` with `bytes` (e.g. an RGBA overlay) transferred, not copied.
fn post_with_bytes(id: u32, body: Response, bytes: Option<Vec<u8>>) {
    let Ok(json) = serde_json::to_string(&Envelope { id, body }) else {
        return;
    };
    let message = Object::new();
    let _ = Reflect::set(&message, &"json".into(), &json.into());
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    match bytes {
        Some(bytes) => {
            let array = Uint8Array::from(bytes.as_slice());
            let _ = Reflect::set(&message, &"bytes".into(), &array);
            let transfer = Array::of1(&array.buffer());
            let _ = scope.post_message_with_transfer(&message, &transfer);
        }
        None => {
            let _ = scope.post_message(&message);
        }
    }
}

/// Whether this wasm instance runs in a dedicated worker.
pub fn in_worker() -> bool {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// Installs the message handler.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        let field = |name: &str| Reflect::get(&data, &JsValue::from_str(name)).ok();
        let Some(json) = field("json").and_then(|v| v.as_string()) else {
            return;
        };
        let envelope: Envelope<Request> = match serde_json::from_str(&json) {
            Ok(e) => e,
            Err(e) => {
                post(
                    0,
                    Response::Error {
                        message: format!("the page sent a message the worker cannot read: {e}"),
                    },
                );
                return;
            }
        };
        let bytes = field("bytes")
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .map(|a| a.to_vec());
        let blobs = field("files")
            .and_then(|v| v.dyn_into::<Array>().ok())
            .map(|a| a.iter().filter_map(|f| f.dyn_into().ok()).collect())
            .unwrap_or_default();
        enqueue(Job {
            id: envelope.id,
            request: envelope.body,
            bytes,
            blobs,
        });
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    // Tells the page the handler is in place: messages sent before could be lost.
    post(0, Response::Done);
}

/// Requests that only the latest matters of.
fn replaceable(request: &Request) -> bool {
    matches!(
        request,
        Request::Score { .. } | Request::Attribute { .. } | Request::Relevance { .. }
    )
}

fn enqueue(job: Job) {
    let start = STATE.with_borrow_mut(|s| {
        if replaceable(&job.request) {
            let kind = std::mem::discriminant(&job.request);
            s.queue.retain(|queued| {
                let stale = std::mem::discriminant(&queued.request) == kind;
                if stale {
                    post(queued.id, Response::Superseded);
                }
                !stale
            });
        }
        s.queue.push_back(job);
        !std::mem::replace(&mut s.busy, true)
    });
    if start {
        spawn_local(drain());
    }
}

async fn drain() {
    while let Some(job) = STATE.with_borrow_mut(|s| {
        let next = s.queue.pop_front();
        if next.is_none() {
            s.busy = false;
        }
        next
    }) {
        let id = job.id;
        match handle(job).await {
            Ok(()) => {}
            Err(message) => post(id, Response::Error { message }),
        }
    }
}

fn device() -> Result<ComputeDevice, String> {
    STATE
        .with_borrow(|s| s.device.clone())
        .ok_or_else(|| "the worker has no device yet".into())
}

fn model() -> Result<Rc<Model>, String> {
    STATE
        .with_borrow(|s| s.model.clone())
        .ok_or_else(|| "load a model first".into())
}

async fn handle(job: Job) -> Result<(), String> {
    let id = job.id;
    match job.request {
        Request::Init {
            prefer_gpu,
            precision,
        } => init(id, prefer_gpu, precision).await,
        Request::LoadModel { choice, tokenizer } => {
            let files = job
                .blobs
                .into_iter()
                .filter_map(|b| b.dyn_into().ok())
                .collect();
            load_model(id, choice, tokenizer, files).await
        }
        Request::ScoreSamples { samples, has_image } => {
            score_samples(id, samples, has_image, job.blobs).await
        }
        Request::SetImage => {
            let t0 = now_ms();
            let bytes = job.bytes.ok_or("no image bytes came with the message")?;
            let model = model()?;
            let device = device()?;
            let embedder = &model.guard.embedder;
            let (width, height, rgba, input) = prepare_image(&device, embedder, &bytes)?;
            let input_size = input.dims()[3] as u32;
            let embedding = embedder
                .image_embeddings_from_tensor(input)
                .await
                .map_err(|e| e.to_string())?;
            STATE.with_borrow_mut(|s| {
                s.image = Some(Rc::new(CurrentImage {
                    rgba,
                    width,
                    height,
                    embedding,
                }));
            });
            post(
                id,
                Response::ImageReady {
                    width,
                    height,
                    input_size,
                    ms: now_ms() - t0,
                },
            );
            Ok(())
        }
        Request::ClearImage => {
            STATE.with_borrow_mut(|s| s.image = None);
            post(id, Response::Done);
            Ok(())
        }
        Request::Score { text } => {
            let t0 = now_ms();
            let model = model()?;
            let image = STATE.with_borrow(|s| s.image.clone());
            let texts = model
                .guard
                .embedder
                .text_embeddings(&[text.as_str()])
                .await
                .map_err(|e| e.to_string())?;
            let score = model
                .guard
                .score_embeddings(&texts, 0, image.as_ref().map(|i| (&i.embedding, 0)))
                .map_err(|e| e.to_string())?;
            post(
                id,
                Response::Scores(Box::new(ScoreReply {
                    label: score.class.label().to_string(),
                    explanation: score.class.explanation().to_string(),
                    class: score.class,
                    text: score.text,
                    image: score.image,
                    pair: score.pair,
                    ms: now_ms() - t0,
                })),
            );
            Ok(())
        }
        Request::Attribute { text } => {
            let t0 = now_ms();
            let words = model()?
                .guard
                .word_attribution(&text)
                .await
                .map_err(|e| e.to_string())?;
            post(
                id,
                Response::Attribution {
                    words,
                    ms: now_ms() - t0,
                },
            );
            Ok(())
        }
        Request::Relevance { text } => {
            let t0 = now_ms();
            let model = model()?;
            let device = device()?;
            let image = STATE
                .with_borrow(|s| s.image.clone())
                .ok_or("no image to draw on")?;
            let guard = &model.guard;
            let texts = guard
                .embedder
                .text_embeddings(&[text.as_str()])
                .await
                .map_err(|e| e.to_string())?;
            let score = guard
                .score_embeddings(&texts, 0, Some((&image.embedding, 0)))
                .map_err(|e| e.to_string())?;
            let hit = score.pair.as_ref().unwrap_or(&score.text).top_harm.concept;
            let cfg = &guard.embedder.preprocess;
            let pixels = preprocess_rgba_with(
                cfg,
                image.width,
                image.height,
                &image.rgba,
                &DecodeOptions::default(),
            )
            .map_err(|e| e.to_string())?;
            let values = guard
                .relevance_map(&pixels, hit)
                .await
                .map_err(|e| e.to_string())?;
            let grid = (values.len() as f64).sqrt().round() as u32;
            let concept = guard
                .head
                .concepts()
                .get(hit)
                .map(|c| c.phrase.clone())
                .unwrap_or_default();
            // The heat map blended over the image by the overlay shader (CPU reference on flex).
            let geometry =
                Geometry::new(cfg, image.width, image.height).map_err(|e| e.to_string())?;
            let plan = OverlayPlan::new(
                image.width,
                image.height,
                &values,
                grid,
                grid,
                GridRect::from_geometry(&geometry, image.width, image.height),
                &OverlayOptions::default(),
            )
            .map_err(|e| e.to_string())?;
            let overlay = render_overlay_on(&device.device, &plan, &image.rgba)
                .await
                .map_err(|e| e.to_string())?;
            post_with_bytes(
                id,
                Response::Relevance {
                    values,
                    grid,
                    concept,
                    width: image.width,
                    height: image.height,
                    ms: now_ms() - t0,
                },
                Some(overlay),
            );
            Ok(())
        }
    }
}

/// Decodes `bytes` with the Rust decoder (the pixels the native path sees) and makes the model
/// input on the device: resized, cropped and normalised on the GPU when there is one (shaders/),
/// else on the CPU, the same values either way. Returns width, height, RGBA and the input.
fn prepare_image(
    device: &ComputeDevice,
    embedder: &ClipEmbedder,
    bytes: &[u8],
) -> Result<(u32, u32, Vec<u8>, burn::tensor::Tensor<4>), String> {
    let options = DecodeOptions::default();
    let rgb = decode_rgb(bytes, &options)
        .map_err(|e| format!("this file is not an image the app can read: {e}"))?;
    let rgba = rgb.to_rgba();
    let input = model_input(
        &device.device,
        &embedder.preprocess,
        rgb.width,
        rgb.height,
        &rgba,
        &options,
    )
    .map_err(|e| format!("could not prepare the image: {e}"))?;
    Ok((rgb.width, rgb.height, rgba, input))
}

async fn init(id: u32, prefer_gpu: bool, precision: Precision) -> Result<(), String> {
    let existing = STATE.with_borrow(|s| s.device.clone());
    let (device, note) = match existing {
        Some(d) => (d, None),
        None if !prefer_gpu => (
            ComputeDevice::flex(),
            Some("CPU chosen in the settings".into()),
        ),
        None => match probe_webgpu().await {
            Err(reason) => (ComputeDevice::flex(), Some(reason)),
            Ok(probe) => match ComputeDevice::gpu_with(precision).await {
                Ok(mut device) => {
                    if device.adapter.is_none() {
                        device.adapter = probe.label;
                    }
                    (device, None)
                }
                Err(e) => (ComputeDevice::flex(), Some(e.to_string())),
            },
        },
    };
    STATE.with_borrow_mut(|s| s.device = Some(device.clone()));
    let precision_note = (device.kind == BackendKind::WebGpu && device.precision != precision)
        .then(|| {
            format!(
                "computing in {}: this adapter has no shader-f16",
                device.precision
            )
        });
    let smoke = smoke_check(&device.device)
        .await
        .map_err(|e| e.to_string())?;
    post(
        id,
        Response::Device {
            backend: format!("{:?}", device.kind).to_lowercase(),
            describe: device.describe(),
            note,
            precision: device.precision,
            precision_note,
            smoke: smoke.product,
        },
    );
    Ok(())
}

fn progress(id: u32, stage: &str, done: u64, total: u64, message: String) {
    post(
        id,
        Response::Progress {
            stage: stage.into(),
            done,
            total,
            rate: 0.0,
            eta_s: None,
            message,
        },
    );
}

/// The checkpoint from the hub (or a mirror in its URL layout) through the downloader with its
/// cache, Range resume and checksums, reporting progress; and what to tell the person.
async fn files_from_hub(
    id: u32,
    base: &str,
    repo: &str,
    revision: &str,
    token: Option<String>,
) -> Result<(CheckpointFiles, bool, Vec<String>), String> {
    let input = if base.trim_end_matches('/') == crate::web::model_panel::HUB {
        repo.to_string()
    } else {
        format!("{}/{repo}/resolve/{revision}/", base.trim_end_matches('/'))
    };
    let source = hub::ModelSource::parse(&input, revision).map_err(|e| e.to_string())?;
    let options = hub::LoadOptions {
        token,
        ..hub::LoadOptions::default()
    };
    let loaded = hub::load_checkpoint(&source, &options, |p| {
        let (done, total) = match p.fraction() {
            Some(f) => ((f * 1000.0) as u64, 1000),
            None => (0, 0),
        };
        post(
            id,
            Response::Progress {
                stage: "download".into(),
                done,
                total,
                rate: 0.0,
                eta_s: None,
                message: p.to_string(),
            },
        );
    })
    .await
    .map_err(|e| e.to_string())?;
    let from_cache = !loaded.report.is_empty() && loaded.report.iter().all(|r| r.from_cache);
    let notes = loaded.warnings.iter().map(ToString::to_string).collect();
    Ok((loaded.files, from_cache, notes))
}

/// IndexedDB key of the concept embeddings of one model with one head, computed in one
/// precision (f16 ones differ from f32 ones in the third decimal) with one tokenizer mode.
fn concepts_key(
    files: &CheckpointFiles,
    head: &GuardHead,
    precision: Precision,
    tokenizer: TokenizerMode,
) -> String {
    let mut all = hash::sha256(&files.model_safetensors).to_vec();
    all.extend_from_slice(&files.config_json);
    all.extend_from_slice(head.to_json().as_bytes());
    if precision != Precision::F32 {
        // f32 keys stay as they were, so caches written before f16 existed still count.
        all.extend_from_slice(precision.label().as_bytes());
    }
    if tokenizer != TokenizerMode::Hub {
        // Hub keys stay as they were: the head's prompts are ASCII, where hub ids equal the
        // earlier tokenizer's.
        all.extend_from_slice(tokenizer.as_str().as_bytes());
    }
    format!("concepts:{}", hash::short_hash(&all))
}

async fn load_model(
    id: u32,
    choice: ModelChoice,
    tokenizer: TokenizerMode,
    picked: Vec<web_sys::File>,
) -> Result<(), String> {
    let device = device()?;
    let (files, name, from_cache, notes) = match &choice {
        ModelChoice::Hub {
            base,
            repo,
            revision,
            token,
        } => {
            let (files, from_cache, notes) =
                files_from_hub(id, base, repo, revision, token.clone()).await?;
            (files, format!("{repo}@{revision}"), from_cache, notes)
        }
        ModelChoice::Files => {
            let files = hub::checkpoint_from_files(picked)
                .await
                .map_err(|e| e.to_string())?;
            (files, "picked files".to_string(), false, Vec::new())
        }
    };
    let test_model = is_test_model(&files);
    let t0 = now_ms();
    progress(
        id,
        "prepare",
        0,
        1,
        format!("Preparing on {}…", device.kind),
    );
    let head = GuardHead::builtin();
    let key = concepts_key(&files, &head, device.precision, tokenizer);
    let embedder = ClipEmbedder::load_with_tokenizer(files, &device.device, tokenizer)
        .await
        .map_err(|e| e.to_string())?;
    let db = Database::open().await.ok();
    let cached = match &db {
        Some(db) => db.get_bytes(&key).await.ok().flatten(),
        None => None,
    }
    .map(|bytes| {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<f32>>()
    });
    let reused = match cached {
        Some(concepts) => Guard::with_concepts(embedder, head.clone(), concepts),
        None => Err(Box::new(embedder)),
    };
    let (guard, concepts_cached) = match reused {
        Ok(guard) => (guard, true),
        Err(embedder) => {
            progress(
                id,
                "prepare",
                0,
                1,
                format!(
                    "Embedding the guard's {} concept prompts (once per model)…",
                    head.prompts().len()
                ),
            );
            let guard = Guard::new(*embedder, head)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(db) = &db {
                let bytes: Vec<u8> = guard
                    .concept_embeddings()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                let _ = db.put_bytes(&key, &bytes).await;
            }
            (guard, false)
        }
    };
    STATE.with_borrow_mut(|s| {
        s.model = Some(Rc::new(Model { guard }));
        s.image = None;
    });
    post(
        id,
        Response::Ready {
            model: name,
            test_model,
            prepare_ms: now_ms() - t0,
            concepts_cached,
            model_key: key,
            from_cache,
            notes,
            tokenizer,
        },
    );
    Ok(())
}

/// One batch of dataset samples: texts through the text tower together, images through the
/// GPU preprocessing and the vision tower together; an unreadable image costs only its row
/// its image scores.
async fn score_samples(
    id: u32,
    samples: Vec<Sample>,
    has_image: Vec<bool>,
    blobs: Vec<web_sys::Blob>,
) -> Result<(), String> {
    let t0 = now_ms();
    let model = model()?;
    let device = device()?;
    let guard = &model.guard;
    let embedder = &guard.embedder;
    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let text_embeddings = embedder
        .text_embeddings(&texts)
        .await
        .map_err(|e| e.to_string())?;
    let mut blobs = blobs.into_iter();
    let mut inputs = Vec::new();
    // Per sample: its row in the image batch, or why it has none.
    let mut slots: Vec<Result<usize, String>> = Vec::with_capacity(samples.len());
    for (sample, with_image) in samples.iter().zip(&has_image) {
        if !with_image {
            let why = if sample.image.is_some() {
                "image not found"
            } else {
                "no image"
            };
            slots.push(Err(why.into()));
            continue;
        }
        let Some(blob) = blobs.next() else {
            slots.push(Err("image missing from the batch".into()));
            continue;
        };
        let prepared = async {
            let bytes = crate::web::eval::read_blob(&blob).await?;
            prepare_image(&device, embedder, &bytes).map(|(.., input)| input)
        }
        .await;
        match prepared {
            Ok(input) => {
                slots.push(Ok(inputs.len()));
                inputs.push(input);
            }
            Err(e) => slots.push(Err(e)),
        }
    }
    let image_embeddings = if inputs.is_empty() {
        None
    } else {
        Some(
            embedder
                .image_embeddings_from_tensor(burn::tensor::Tensor::cat(inputs, 0))
                .await
                .map_err(|e| e.to_string())?,
        )
    };
    let concepts = guard.head.concepts();
    let mut lines = Vec::with_capacity(samples.len());
    for (i, (sample, slot)) in samples.iter().zip(slots).enumerate() {
        let (image, error) = match (slot, &image_embeddings) {
            (Ok(row), Some(e)) => (Some((e, row)), None),
            (Ok(_), None) => (None, Some("image missing".to_string())),
            (Err(e), _) => (None, Some(e)),
        };
        let score = guard
            .score_embeddings(&text_embeddings, i, image)
            .map_err(|e| e.to_string())?;
        lines.push(line(sample, &score, &concepts, error));
    }
    post(
        id,
        Response::SampleScores {
            lines,
            ms: now_ms() - t0,
        },
    );
    Ok(())
}

/// The tiny random-weight fixture (hidden size 32 or less): its scores are noise.
fn is_test_model(files: &CheckpointFiles) -> bool {
    serde_json::from_slice::<serde_json::Value>(&files.config_json)
        .ok()
        .and_then(|c| c["text_config"]["hidden_size"].as_u64())
        .is_some_and(|h| h <= 64)
}
