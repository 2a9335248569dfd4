//! The model worker: the same wasm module, started by `www/worker.js` in a dedicated Web Worker,
//! owns the Burn device and the loaded model, so the page never freezes while the CPU backend
//! computes for seconds.
//!
//! This file is the transport: messages in, a queue, answers out. Requests run one at a time in
//! arrival order; a queued score, attribution or relevance request is replaced by a newer one of
//! the same kind (typing re-scores on every pause, only the last text matters). Every request
//! gets exactly one final answer — its reply, or an error — so no promise in the page waits
//! forever. A text-first model load answers `TextReady` first and leaves the queue then: its
//! final answer comes from the task that adds the image tower, while text requests run. What
//! each request does is in [`handlers`] and [`model`].

mod handlers;
mod model;
pub mod protocol;

use std::cell::RefCell;
use std::collections::VecDeque;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use protocol::{Envelope, ProgressReply, Request, Response};

/// One request with what came along with it.
pub(super) struct Job {
    pub id: u32,
    pub request: Request,
    /// An image file's bytes (`SetImage`).
    pub bytes: Option<Vec<u8>>,
    /// Files and blobs (picked model files, dataset images).
    pub blobs: Vec<web_sys::Blob>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    busy: bool,
}

thread_local! {
    static QUEUE: RefCell<Queue> = RefCell::default();
}

/// Posts `body` as the answer to request `id`, with `bytes` (e.g. an RGBA overlay) transferred,
/// not copied. An answer that cannot be written becomes an error answer.
fn post(id: u32, body: Response, bytes: Option<Vec<u8>>) {
    let json = serde_json::to_string(&Envelope { id, body: &body }).unwrap_or_else(|e| {
        let error = Response::Error {
            message: format!(
                "the worker could not write its `{}` answer: {e}",
                body.kind()
            ),
        };
        // An error with a plain message always serialises.
        serde_json::to_string(&Envelope { id, body: error }).unwrap_or_default()
    });
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let message = Object::new();
    let sent = Reflect::set(&message, &"json".into(), &json.into()).and_then(|_| match bytes {
        Some(bytes) => {
            let array = Uint8Array::from(bytes.as_slice());
            Reflect::set(&message, &"bytes".into(), &array)?;
            scope.post_message_with_transfer(&message, &Array::of1(&array.buffer()))
        }
        None => scope.post_message(&message),
    });
    if let Err(e) = sent {
        // Nothing else can reach the page; the console is where a developer looks.
        web_sys::console::error_1(
            &format!("leakscope worker: could not answer {id}: {e:?}").into(),
        );
    }
}

/// Progress on the way to request `id`'s answer.
fn post_progress(id: u32, progress: ProgressReply) {
    post(id, Response::Progress(progress), None);
}

/// Whether this wasm instance runs in a dedicated worker.
pub fn in_worker() -> bool {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// Reads one message from the page; a message it cannot read is answered with an error (to its
/// request when the id can be read, else to id 0, which fails every waiting request).
fn receive(data: JsValue) {
    let field = |name: &str| Reflect::get(&data, &JsValue::from_str(name)).ok();
    let Some(json) = field("json").and_then(|v| v.as_string()) else {
        let message = "the page sent a message without its JSON".to_owned();
        post(0, Response::Error { message }, None);
        return;
    };
    let envelope: Envelope<Request> = match serde_json::from_str(&json) {
        Ok(e) => e,
        Err(e) => {
            let id = serde_json::from_str::<Envelope<serde_json::Value>>(&json).map_or(0, |e| e.id);
            let message = format!("the page sent a request the worker cannot read: {e}");
            post(id, Response::Error { message }, None);
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
}

/// Installs the message handler.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler =
        Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| receive(event.data()));
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    // Tells the page the handler is in place: messages sent before could be lost.
    post(0, Response::Done, None);
}

/// Requests that only the latest matters of.
fn replaceable(request: &Request) -> bool {
    matches!(
        request,
        Request::Score { .. } | Request::Attribute { .. } | Request::Relevance { .. }
    )
}

fn enqueue(job: Job) {
    let start = QUEUE.with_borrow_mut(|q| {
        if replaceable(&job.request) {
            let kind = std::mem::discriminant(&job.request);
            q.jobs.retain(|queued| {
                let stale = std::mem::discriminant(&queued.request) == kind;
                if stale {
                    post(queued.id, Response::Superseded, None);
                }
                !stale
            });
        }
        q.jobs.push_back(job);
        !std::mem::replace(&mut q.busy, true)
    });
    if start {
        spawn_local(drain());
    }
}

async fn drain() {
    while let Some(job) = QUEUE.with_borrow_mut(|q| {
        let next = q.jobs.pop_front();
        if next.is_none() {
            q.busy = false;
        }
        next
    }) {
        let id = job.id;
        match handlers::handle(job).await {
            Ok(Some((body, bytes))) => post(id, body, bytes),
            // A task the request started answers it.
            Ok(None) => {}
            Err(message) => post(id, Response::Error { message }, None),
        }
    }
}
