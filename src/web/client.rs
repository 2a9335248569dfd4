//! The page's side of the model worker: one typed method per request
//! (`client.score(text) -> Result<ScoreReply, WorkerError>`), each awaiting the worker's final
//! answer; progress messages on the way go to a listener. One promise per request, resolved by
//! the worker's answer with the same id — or by an error, never left pending: an answer the
//! page cannot read fails its request, and a dead worker fails them all.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::worker::protocol::{
    AttributionReply, DeviceReply, Envelope, ImageReply, ModelChoice, OverlayReply, ProgressReply,
    ReadyReply, RelevanceReply, Request, Response, SampleScoresReply, ScoreReply, TextReadyReply,
};
use crate::compute::Precision;
use crate::datasets::Sample;
use crate::leakage::bake::ConceptSet;
use crate::preprocess::PreprocessConfig;
use crate::tokenizer::TokenizerMode;

type Listener = Box<dyn Fn(&ProgressReply)>;
type TextListener = Box<dyn Fn(&TextReadyReply)>;

/// Why a request to the worker gave no answer of its kind.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WorkerError {
    /// The worker tried and failed; its message says why.
    #[error("{0}")]
    Failed(String),
    /// A newer request of the same kind replaced this one before it started.
    #[error("replaced by a newer request")]
    Superseded,
    /// The worker could not be reached, or its answer could not be read.
    #[error("{0}")]
    Transport(String),
}

struct Inner {
    worker: Worker,
    next_id: Cell<u32>,
    /// Request id → the resolve function of its promise.
    waiting: RefCell<HashMap<u32, Function>>,
    listener: RefCell<Option<Listener>>,
    text_listener: RefCell<Option<TextListener>>,
    /// Resolves when the worker says it listens (its first message, id 0).
    ready: Promise,
    /// Resolves when the worker answered the `Init` that [`ModelClient::start`] sent; every
    /// other request waits for it, so none reaches a worker without a device.
    device_answered: Promise,
    /// That answer.
    device: RefCell<Option<Result<DeviceReply, WorkerError>>>,
}

/// The device the worker should open (the page's query: `?cpu`, `?precision=`, `?threads=`).
#[derive(Clone, Copy, Debug)]
pub struct DeviceSettings {
    pub prefer_gpu: bool,
    pub precision: Precision,
    /// The CPU backend's threads in the threaded build; `None`: as many as the browser has.
    pub threads: Option<usize>,
}

/// A handle on the worker; clones share it.
#[derive(Clone)]
pub struct ModelClient {
    inner: Rc<Inner>,
}

/// A message as the page hands it to a promise: `{json, bytes?}`.
fn message(response: &Envelope<Response>) -> Object {
    let json = serde_json::to_string(response).unwrap_or_else(|_| {
        // An error with a plain message always serialises; this keeps the shape regardless.
        r#"{"id":0,"body":{"type":"error","message":"unreadable answer"}}"#.into()
    });
    let message = Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(&message, &"json".into(), &json.into());
    message
}

impl Inner {
    /// Resolves request `id` (if it still waits) with `data`.
    fn resolve(&self, id: u32, data: &JsValue) {
        if let Some(resolve) = self.waiting.borrow_mut().remove(&id) {
            // The resolve function of a promise does not throw.
            let _ = resolve.call1(&JsValue::NULL, data);
        }
    }

    /// Fails every waiting request with `why` (the worker died or spoke another protocol).
    fn fail_all(&self, why: &str) {
        let error = message(&Envelope {
            id: 0,
            body: Response::Error {
                message: why.to_owned(),
            },
        });
        let waiting: Vec<u32> = self.waiting.borrow().keys().copied().collect();
        for id in waiting {
            self.resolve(id, &error);
        }
    }

    fn on_message(&self, data: JsValue) {
        let json = Reflect::get(&data, &JsValue::from_str("json"))
            .ok()
            .and_then(|v| v.as_string());
        let Some(json) = json else {
            self.fail_all("the model worker sent a message without its JSON: reload the page");
            return;
        };
        let envelope = match serde_json::from_str::<Envelope<Response>>(&json) {
            Ok(envelope) => envelope,
            Err(e) => {
                // Another version of the worker (a stale cache): fail the request it answers,
                // or all of them when even its id cannot be read.
                let why = format!(
                    "the model worker's answer cannot be read ({e}): reload the page, and clear \
                     the site's cache if it persists"
                );
                match serde_json::from_str::<Envelope<serde_json::Value>>(&json) {
                    Ok(raw) => self.resolve(
                        raw.id,
                        &message(&Envelope {
                            id: raw.id,
                            body: Response::Error { message: why },
                        }),
                    ),
                    Err(_) => self.fail_all(&why),
                }
                return;
            }
        };
        match &envelope.body {
            // The worker could not tell which request it was answering.
            Response::Error { message } if envelope.id == 0 => self.fail_all(message),
            Response::Progress(progress) => {
                if let Some(listener) = self.listener.borrow().as_ref() {
                    listener(progress);
                }
            }
            // On the way to a text-first load's answer.
            Response::TextReady(reply) => {
                if let Some(listener) = self.text_listener.borrow().as_ref() {
                    listener(reply);
                }
            }
            _ => self.resolve(envelope.id, &data),
        }
    }
}

impl ModelClient {
    /// Starts `worker.js` (beside the page) as a module worker running the build the page runs
    /// (www/boot.js chose it: the threaded one from `threads/`, or the one beside it), and has
    /// it open its device with `settings`. The worker gets the page's compiled module as its
    /// first message: no second download and no second compile while the page draws.
    pub fn start(settings: DeviceSettings) -> Result<Self, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let script = if cfg!(target_feature = "atomics") {
            "worker.js?build=threads"
        } else {
            "worker.js"
        };
        let worker = Worker::new_with_options(script, &options)
            .map_err(|e| format!("could not start the model worker: {e:?}"))?;
        // worker.js waits for this before it loads anything (a message posted now is queued
        // until the worker listens).
        let module = Object::new();
        let _ = Reflect::set(&module, &"module".into(), &wasm_bindgen::module());
        worker
            .post_message(&module)
            .map_err(|e| format!("could not start the model worker: {e:?}"))?;
        let waiting: RefCell<HashMap<u32, Function>> = RefCell::default();
        let ready = Promise::new(&mut |resolve, _reject| {
            waiting.borrow_mut().insert(0, resolve);
        });
        let mut device_resolve = None;
        let device_answered = Promise::new(&mut |resolve, _reject| device_resolve = Some(resolve));
        let inner = Rc::new(Inner {
            worker,
            next_id: Cell::new(1),
            waiting,
            listener: RefCell::default(),
            text_listener: RefCell::default(),
            ready,
            device_answered,
            device: RefCell::default(),
        });
        let weak = Rc::downgrade(&inner);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                inner.on_message(event.data());
            }
        });
        inner
            .worker
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let weak = Rc::downgrade(&inner);
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            if let Some(inner) = weak.upgrade() {
                inner.fail_all("the model worker stopped (out of memory?): reload the page");
            }
        });
        inner
            .worker
            .set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        let client = Self { inner };
        let opening = client.clone();
        spawn_local(async move {
            let request = Request::Init {
                prefer_gpu: settings.prefer_gpu,
                precision: settings.precision,
                threads: settings.threads,
            };
            let answer = match opening.call(request, None, &[]).await {
                Ok((Response::Device(reply), _)) => Ok(reply),
                Ok((other, _)) => Err(unexpected(&other, "device")),
                Err(e) => Err(e),
            };
            *opening.inner.device.borrow_mut() = Some(answer);
            if let Some(resolve) = device_resolve {
                // The resolve function of a promise does not throw.
                let _ = resolve.call0(&JsValue::NULL);
            }
        });
        Ok(client)
    }

    /// The worker's device, once it is open (or why it could not be).
    pub async fn device(&self) -> Result<DeviceReply, WorkerError> {
        // Resolved only, by the task `start` spawned.
        let _ = JsFuture::from(self.inner.device_answered.clone()).await;
        self.inner
            .device
            .borrow()
            .clone()
            .unwrap_or_else(|| Err(WorkerError::Transport("the worker opened no device".into())))
    }

    /// Receives the progress of every request (model download and preparation).
    pub fn set_listener(&self, listener: impl Fn(&ProgressReply) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Box::new(listener));
    }

    /// Receives a text-first model load's `TextReady`: text can be scored while the image tower
    /// downloads; [`Self::load_model`] answers when it is in.
    pub fn set_text_ready_listener(&self, listener: impl Fn(&TextReadyReply) + 'static) {
        *self.inner.text_listener.borrow_mut() = Some(Box::new(listener));
    }

    /// Sends `request` (with bytes, or files and blobs, where it needs them) and waits for its
    /// final answer and the bytes that came with it.
    async fn call(
        &self,
        request: Request,
        bytes: Option<&[u8]>,
        files: &[web_sys::Blob],
    ) -> Result<(Response, Option<Vec<u8>>), WorkerError> {
        // The worker's "listening" and "device answered" promises never reject.
        let _ = JsFuture::from(self.inner.ready.clone()).await;
        if !matches!(request, Request::Init { .. }) {
            let _ = JsFuture::from(self.inner.device_answered.clone()).await;
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id.wrapping_add(1).max(1));
        let json = serde_json::to_string(&Envelope { id, body: request })
            .map_err(|e| WorkerError::Transport(format!("could not write the request: {e}")))?;
        let message = Object::new();
        let set = |name: &str, value: &JsValue| {
            Reflect::set(&message, &name.into(), value)
                .map(drop)
                .map_err(|e| WorkerError::Transport(format!("could not build the message: {e:?}")))
        };
        set("json", &json.into())?;
        if let Some(bytes) = bytes {
            set("bytes", &Uint8Array::from(bytes))?;
        }
        if !files.is_empty() {
            let list: Array = files.iter().collect();
            set("files", &list)?;
        }
        let promise = Promise::new(&mut |resolve, _reject| {
            self.inner.waiting.borrow_mut().insert(id, resolve);
        });
        if let Err(e) = self.inner.worker.post_message(&message) {
            self.inner.waiting.borrow_mut().remove(&id);
            return Err(WorkerError::Transport(format!(
                "could not reach the model worker: {e:?}"
            )));
        }
        // Resolved only (by an answer, or by an error built in `Inner`).
        let data = JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED);
        let field = |name: &str| Reflect::get(&data, &JsValue::from_str(name)).ok();
        let response = field("json")
            .and_then(|v| v.as_string())
            .and_then(|json| serde_json::from_str::<Envelope<Response>>(&json).ok())
            .map(|e| e.body)
            .ok_or_else(|| WorkerError::Transport("the model worker sent no answer".into()))?;
        let bytes = field("bytes")
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .map(|a| a.to_vec());
        match response {
            Response::Error { message } => Err(WorkerError::Failed(message)),
            Response::Superseded => Err(WorkerError::Superseded),
            response => Ok((response, bytes)),
        }
    }

    /// Loads a model; `baked`: the page's precomputed concept set and its file, which the worker
    /// uses only for the checkpoint and head they were baked for.
    pub async fn load_model(
        &self,
        choice: ModelChoice,
        tokenizer: TokenizerMode,
        files: &[web_sys::Blob],
        baked: Option<(ConceptSet, &[u8])>,
    ) -> Result<ReadyReply, WorkerError> {
        let (baked, bytes) = baked.unzip();
        let request = Request::LoadModel {
            choice,
            baked,
            tokenizer,
        };
        match self.call(request, bytes, files).await? {
            (Response::Ready(reply), _) => Ok(reply),
            (other, _) => Err(unexpected(&other, "ready")),
        }
    }

    /// Makes the encoded image `bytes` the worker's current image.
    pub async fn set_image(&self, bytes: &[u8]) -> Result<ImageReply, WorkerError> {
        match self.call(Request::SetImage, Some(bytes), &[]).await? {
            (Response::ImageReady(reply), _) => Ok(reply),
            (other, _) => Err(unexpected(&other, "image_ready")),
        }
    }

    pub async fn clear_image(&self) -> Result<(), WorkerError> {
        match self.call(Request::ClearImage, None, &[]).await? {
            (Response::Done, _) => Ok(()),
            (other, _) => Err(unexpected(&other, "done")),
        }
    }

    /// J(T), and with the current image the image alone and J(T, I).
    pub async fn score(&self, text: &str) -> Result<ScoreReply, WorkerError> {
        let request = Request::Score { text: text.into() };
        match self.call(request, None, &[]).await? {
            (Response::Scores(reply), _) => Ok(*reply),
            (other, _) => Err(unexpected(&other, "scores")),
        }
    }

    pub async fn attribute(&self, text: &str) -> Result<AttributionReply, WorkerError> {
        let request = Request::Attribute { text: text.into() };
        match self.call(request, None, &[]).await? {
            (Response::Attribution(reply), _) => Ok(reply),
            (other, _) => Err(unexpected(&other, "attribution")),
        }
    }

    /// The relevance map and its overlay (RGBA, `width × height × 4`).
    pub async fn relevance(&self, text: &str) -> Result<(RelevanceReply, Vec<u8>), WorkerError> {
        let request = Request::Relevance { text: text.into() };
        match self.call(request, None, &[]).await? {
            (Response::Relevance(reply), Some(rgba)) => Ok((reply, rgba)),
            (Response::Relevance(_), None) => Err(WorkerError::Transport(
                "the overlay's pixels did not come with the answer".into(),
            )),
            (other, _) => Err(unexpected(&other, "relevance")),
        }
    }

    /// Relevance `values` drawn over the encoded `image` (RGBA, `width × height × 4`).
    pub async fn overlay(
        &self,
        values: Vec<f32>,
        grid: u32,
        preprocess: PreprocessConfig,
        image: &[u8],
    ) -> Result<(OverlayReply, Vec<u8>), WorkerError> {
        let request = Request::Overlay {
            values,
            grid,
            preprocess,
        };
        match self.call(request, Some(image), &[]).await? {
            (Response::Overlay(reply), Some(rgba)) => Ok((reply, rgba)),
            (Response::Overlay(_), None) => Err(WorkerError::Transport(
                "the overlay's pixels did not come with the answer".into(),
            )),
            (other, _) => Err(unexpected(&other, "overlay")),
        }
    }

    /// Score lines of a batch of dataset samples; the images of those with `has_image` go
    /// along as blobs, in order.
    pub async fn score_samples(
        &self,
        samples: Vec<Sample>,
        has_image: Vec<bool>,
        blobs: &[web_sys::Blob],
    ) -> Result<SampleScoresReply, WorkerError> {
        let request = Request::ScoreSamples { samples, has_image };
        match self.call(request, None, blobs).await? {
            (Response::SampleScores(reply), _) => Ok(reply),
            (other, _) => Err(unexpected(&other, "sample_scores")),
        }
    }
}

fn unexpected(got: &Response, wanted: &str) -> WorkerError {
    WorkerError::Transport(format!(
        "the model worker answered `{}` where `{wanted}` was expected: reload the page",
        got.kind()
    ))
}
