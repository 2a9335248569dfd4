//! What the worker does for each request, on the device and model it holds: initialise the
//! device, load a model ([`super::model`]), embed the demo's current image, score a query, its
//! word attribution and the relevance overlay, and score a batch of dataset samples through the
//! core's batch scorer (the one `leakscope leakage` runs).

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::{AbortHandle, abortable};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use super::model::{self, Loaded, Model};
use super::protocol::{
    AttributionReply, DeviceReply, ImageReply, OverlayReply, ProgressReply, RelevanceReply,
    Request, Response, SampleScoresReply, ScoreReply,
};
use super::{Job, post, post_progress};
use crate::compute::{BackendKind, ComputeDevice, Precision, smoke_check};
use crate::datasets::Sample;
use crate::embedder::{ClipEmbedder, EmbedError, Embeddings};
use crate::gpu::overlay::render_overlay_on;
use crate::gpu::preprocess::model_input;
use crate::leakage::batch::{SampleImage, problem, score_batch};
use crate::overlay::{GridRect, OverlayOptions, OverlayPlan};
use crate::preprocess::{
    DecodeOptions, Geometry, PreprocessConfig, PreprocessError, decode_rgb, preprocess_rgba_with,
};
use crate::web::files::read_blob;
use crate::web::gpu_probe::probe_webgpu;
use crate::web::time::now_ms;

/// The demo's current image.
struct CurrentImage {
    /// As decoded by the Rust decoder (the same pixels the model sees), RGBA.
    rgba: Vec<u8>,
    width: u32,
    height: u32,
    embedding: Embeddings,
}

#[derive(Default)]
struct State {
    device: Option<ComputeDevice>,
    model: Option<Rc<Model>>,
    image: Option<Rc<CurrentImage>>,
    /// A text-first load whose image tower is still on its way, and its load's number.
    rest: Option<(AbortHandle, u32)>,
    /// Model loads so far: a load that finishes late touches the state only if it is the last.
    loads: u32,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

fn device() -> Result<ComputeDevice, String> {
    STATE
        .with_borrow(|s| s.device.clone())
        .ok_or_else(|| "the worker has no device yet".into())
}

fn loaded() -> Result<Rc<Model>, String> {
    STATE
        .with_borrow(|s| s.model.clone())
        .ok_or_else(|| "load a model first".into())
}

fn current_image() -> Option<Rc<CurrentImage>> {
    STATE.with_borrow(|s| s.image.clone())
}

/// An answer and the bytes that go with it (the overlay's RGBA).
pub(super) type Answer = (Response, Option<Vec<u8>>);

/// Runs one request: its answer, or `None` when a task it started answers later (a text-first
/// model load answers `TextReady` at once and `Ready` when the image tower is in).
pub(super) async fn handle(job: Job) -> Result<Option<Answer>, String> {
    let id = job.id;
    let reply = match job.request {
        Request::Init {
            prefer_gpu,
            precision,
        } => Response::Device(init(prefer_gpu, precision).await?),
        Request::LoadModel {
            choice,
            baked,
            tokenizer,
        } => {
            let files = job
                .blobs
                .into_iter()
                .filter_map(|b| b.dyn_into().ok())
                .collect();
            let load = model::Load {
                choice,
                picked: files,
                baked: baked.zip(job.bytes),
                tokenizer,
            };
            return Box::pin(load_model(id, load)).await;
        }
        Request::ScoreSamples { samples, has_image } => {
            Response::SampleScores(score_samples(samples, has_image, job.blobs).await?)
        }
        Request::SetImage => {
            let bytes = job.bytes.ok_or("no image bytes came with the message")?;
            Response::ImageReady(set_image(&bytes).await?)
        }
        Request::ClearImage => {
            STATE.with_borrow_mut(|s| s.image = None);
            Response::Done
        }
        Request::Score { text } => Response::Scores(Box::new(score(&text).await?)),
        Request::Attribute { text } => {
            let t0 = now_ms();
            let words = loaded()?
                .guard
                .word_attribution(&text)
                .await
                .map_err(|e| e.to_string())?;
            Response::Attribution(AttributionReply {
                words,
                ms: now_ms() - t0,
            })
        }
        Request::Relevance { text } => {
            let (reply, overlay) = relevance(&text).await?;
            return Ok(Some((Response::Relevance(reply), Some(overlay))));
        }
        Request::Overlay {
            values,
            grid,
            preprocess,
        } => {
            let bytes = job.bytes.ok_or("no image bytes came with the message")?;
            let rgb = decode_rgb(&bytes, &DecodeOptions::default())
                .map_err(|e| format!("this file is not an image the app can read: {e}"))?;
            let rgba = rgb.to_rgba();
            let overlay = draw_overlay(
                &device()?,
                &preprocess,
                rgb.width,
                rgb.height,
                &rgba,
                &values,
                grid,
            )
            .await?;
            let reply = OverlayReply {
                width: rgb.width,
                height: rgb.height,
            };
            return Ok(Some((Response::Overlay(reply), Some(overlay))));
        }
    };
    Ok(Some((reply, None)))
}

/// Loads a model. Text first, the request gets `TextReady` as soon as text can be scored and
/// its answer (`Ready`, or the error) from a task that adds the image tower while the queue
/// goes on; a newer load stops that task (its request is answered `Superseded`).
async fn load_model(id: u32, load: model::Load) -> Result<Option<Answer>, String> {
    let number = STATE.with_borrow_mut(|s| {
        if let Some((rest, _)) = s.rest.take() {
            rest.abort();
        }
        s.loads += 1;
        s.loads
    });
    let progress: Rc<dyn Fn(ProgressReply)> = Rc::new(move |p| post_progress(id, p));
    let current = move |s: &State| s.loads == number;
    match Box::pin(model::load(&device()?, load, progress)).await? {
        Loaded::Ready(model, reply) => {
            STATE.with_borrow_mut(|s| {
                s.model = Some(Rc::new(*model));
                s.image = None;
            });
            Ok(Some((Response::Ready(reply), None)))
        }
        Loaded::TextFirst { model, reply, rest } => {
            let (rest, handle) = abortable(rest);
            STATE.with_borrow_mut(|s| {
                s.model = Some(model);
                s.image = None;
                s.rest = Some((handle, number));
            });
            post(id, Response::TextReady(reply), None);
            spawn_local(async move {
                let body = match rest.await {
                    Err(_aborted) => Response::Superseded,
                    Ok(Ok((model, reply))) => {
                        STATE.with_borrow_mut(|s| {
                            if current(s) {
                                s.model = Some(Rc::new(model));
                                s.rest = None;
                            }
                        });
                        Response::Ready(reply)
                    }
                    Ok(Err(message)) => {
                        // The text tower came from bytes that never passed their check.
                        STATE.with_borrow_mut(|s| {
                            if current(s) {
                                s.model = None;
                                s.image = None;
                                s.rest = None;
                            }
                        });
                        Response::Error { message }
                    }
                };
                post(id, body, None);
            });
            Ok(None)
        }
    }
}

async fn init(prefer_gpu: bool, precision: Precision) -> Result<DeviceReply, String> {
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
    Ok(DeviceReply {
        backend: format!("{:?}", device.kind).to_lowercase(),
        describe: device.describe(),
        note,
        precision: device.precision,
        precision_note,
        smoke: smoke.product,
    })
}

/// Decodes `bytes` with the Rust decoder (the pixels the native path sees) and makes the model
/// input on the device: resized, cropped and normalised on the GPU when there is one (shaders/),
/// else on the CPU, the same values either way. Returns width, height, RGBA and the input.
fn model_input_of(
    device: &ComputeDevice,
    embedder: &ClipEmbedder,
    bytes: &[u8],
) -> Result<(u32, u32, Vec<u8>, burn::tensor::Tensor<4>), PreprocessError> {
    let options = DecodeOptions::default();
    let rgb = decode_rgb(bytes, &options)?;
    let rgba = rgb.to_rgba();
    let input = model_input(
        &device.device,
        &embedder.preprocess,
        rgb.width,
        rgb.height,
        &rgba,
        &options,
    )?;
    Ok((rgb.width, rgb.height, rgba, input))
}

async fn set_image(bytes: &[u8]) -> Result<ImageReply, String> {
    let t0 = now_ms();
    let model = loaded()?;
    let device = device()?;
    let embedder = &model.guard.embedder;
    if !embedder.has_vision_tower() {
        return Err(EmbedError::VisionPending.to_string());
    }
    let (width, height, rgba, input) = model_input_of(&device, embedder, bytes)
        .map_err(|e| format!("this file is not an image the app can read: {e}"))?;
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
    Ok(ImageReply {
        width,
        height,
        input_size,
        ms: now_ms() - t0,
    })
}

async fn score(text: &str) -> Result<ScoreReply, String> {
    let t0 = now_ms();
    let model = loaded()?;
    let image = current_image();
    let texts = model
        .guard
        .embedder
        .text_embeddings(&[text])
        .await
        .map_err(|e| e.to_string())?;
    let score = model
        .guard
        .score_embeddings(&texts, 0, image.as_ref().map(|i| (&i.embedding, 0)))
        .map_err(|e| e.to_string())?;
    Ok(ScoreReply {
        label: score.class.label().to_string(),
        explanation: score.class.explanation().to_string(),
        class: score.class,
        text: score.text,
        image: score.image,
        pair: score.pair,
        ms: now_ms() - t0,
    })
}

/// Where in the current image the text's top harm concept shows, and the heat map blended
/// over the image by the overlay shader (CPU reference on flex), as RGBA.
async fn relevance(text: &str) -> Result<(RelevanceReply, Vec<u8>), String> {
    let t0 = now_ms();
    let model = loaded()?;
    let device = device()?;
    let image = current_image().ok_or("no image to draw on")?;
    let guard = &model.guard;
    let texts = guard
        .embedder
        .text_embeddings(&[text])
        .await
        .map_err(|e| e.to_string())?;
    let score = guard
        .score_embeddings(&texts, 0, Some((&image.embedding, 0)))
        .map_err(|e| e.to_string())?;
    let hit = score.top_concept();
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
    let overlay = draw_overlay(
        &device,
        cfg,
        image.width,
        image.height,
        &image.rgba,
        &values,
        grid,
    )
    .await?;
    let reply = RelevanceReply {
        values,
        grid,
        concept,
        width: image.width,
        height: image.height,
        ms: now_ms() - t0,
    };
    Ok((reply, overlay))
}

/// The heat map of `values` (`grid × grid` patch cosines) blended over the `width × height`
/// RGBA image by the overlay shader (its CPU reference on flex), placed where `cfg`'s resize
/// and crop put the patches.
async fn draw_overlay(
    device: &ComputeDevice,
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
    values: &[f32],
    grid: u32,
) -> Result<Vec<u8>, String> {
    let geometry = Geometry::new(cfg, width, height).map_err(|e| e.to_string())?;
    let plan = OverlayPlan::new(
        width,
        height,
        values,
        grid,
        grid,
        GridRect::from_geometry(&geometry, width, height),
        &OverlayOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    render_overlay_on(&device.device, &plan, rgba)
        .await
        .map_err(|e| e.to_string())
}

/// One batch of dataset samples through the core's batch scorer: images decoded by the Rust
/// decoder and made model inputs on the device; an unreadable image costs only its row its
/// image scores.
async fn score_samples(
    samples: Vec<Sample>,
    has_image: Vec<bool>,
    blobs: Vec<web_sys::Blob>,
) -> Result<SampleScoresReply, String> {
    let t0 = now_ms();
    let model = loaded()?;
    let device = device()?;
    let guard = &model.guard;
    let mut blobs = blobs.into_iter();
    let mut images = Vec::with_capacity(samples.len());
    for (sample, with_image) in samples.iter().zip(&has_image) {
        let blob = if *with_image { blobs.next() } else { None };
        let image = match (&sample.image, with_image, blob) {
            (None, ..) => SampleImage::Unusable(problem::NO_IMAGE.into()),
            (Some(path), false, _) => SampleImage::Unusable(problem::not_found(path.as_str())),
            (Some(_), true, None) => SampleImage::Unusable("image missing from the batch".into()),
            (Some(_), true, Some(blob)) => {
                let bytes = read_blob(&blob).await?;
                match model_input_of(&device, &guard.embedder, &bytes) {
                    Ok((.., input)) => SampleImage::Input(Box::new(input)),
                    Err(e) => SampleImage::Unusable(e.to_string()),
                }
            }
        };
        images.push(image);
    }
    let lines = score_batch(guard, &samples, images)
        .await
        .map_err(|e| e.to_string())?;
    Ok(SampleScoresReply {
        lines,
        ms: now_ms() - t0,
    })
}
