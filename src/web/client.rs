//! The page's side of the model worker: send a request, await its final answer; progress
//! messages on the way go to a listener. One promise per request, resolved by the worker's
//! answer with the same id, so `await` reads like a function call.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::worker::protocol::{Envelope, Request, Response};

type Listener = Box<dyn Fn(u32, &Response)>;

struct Inner {
    worker: Worker,
    next_id: Cell<u32>,
    /// Request id → the resolve function of its promise.
    waiting: RefCell<HashMap<u32, Function>>,
    listener: RefCell<Option<Listener>>,
    /// Resolves when the worker says it listens (its first message, id 0).
    ready: Promise,
}

/// A handle on the worker; clones share it.
#[derive(Clone)]
pub struct ModelClient {
    inner: Rc<Inner>,
}

/// Answers that end a request (the others are progress on the way).
fn is_final(response: &Response) -> bool {
    !matches!(response, Response::Progress { .. })
}

impl ModelClient {
    /// Starts `worker.js` (beside the page) as a module worker.
    pub fn start() -> Result<Self, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("worker.js", &options)
            .map_err(|e| format!("could not start the model worker: {e:?}"))?;
        let waiting: RefCell<HashMap<u32, Function>> = RefCell::default();
        let ready = Promise::new(&mut |resolve, _reject| {
            waiting.borrow_mut().insert(0, resolve);
        });
        let inner = Rc::new(Inner {
            worker,
            next_id: Cell::new(1),
            waiting,
            listener: RefCell::default(),
            ready,
        });
        let weak = Rc::downgrade(&inner);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(inner) = weak.upgrade() else { return };
            let Some(json) = Reflect::get(&event.data(), &JsValue::from_str("json"))
                .ok()
                .and_then(|v| v.as_string())
            else {
                return;
            };
            let Ok(envelope) = serde_json::from_str::<Envelope<Response>>(&json) else {
                return;
            };
            if let Some(listener) = inner.listener.borrow().as_ref() {
                listener(envelope.id, &envelope.body);
            }
            if is_final(&envelope.body)
                && let Some(resolve) = inner.waiting.borrow_mut().remove(&envelope.id)
            {
                let _ = resolve.call1(&JsValue::NULL, &event.data());
            }
        });
        inner
            .worker
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let weak = Rc::downgrade(&inner);
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            let Some(inner) = weak.upgrade() else { return };
            // The worker died (a panic, out of memory): fail every waiting request.
            let error = Envelope {
                id: 0,
                body: Response::Error {
                    message: "the model worker stopped (out of memory?): reload the page".into(),
                },
            };
            let json = serde_json::to_string(&error).unwrap_or_default();
            let message = Object::new();
            let _ = Reflect::set(&message, &"json".into(), &json.into());
            for (_, resolve) in inner.waiting.borrow_mut().drain() {
                let _ = resolve.call1(&JsValue::NULL, &message);
            }
        });
        inner
            .worker
            .set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(Self { inner })
    }

    /// Receives every message, progress included, with the id of its request.
    pub fn set_listener(&self, listener: impl Fn(u32, &Response) + 'static) {
        *self.inner.listener.borrow_mut() = Some(Box::new(listener));
    }

    /// Sends `request` (with image bytes, or files and blobs, where it needs them) and waits for
    /// its final answer.
    pub async fn call(
        &self,
        request: &Request,
        bytes: Option<&[u8]>,
        files: &[web_sys::Blob],
    ) -> Response {
        self.call_for_bytes(request, bytes, files).await.0
    }

    /// [`ModelClient::call`], also returning the bytes that came with the answer.
    pub async fn call_for_bytes(
        &self,
        request: &Request,
        bytes: Option<&[u8]>,
        files: &[web_sys::Blob],
    ) -> (Response, Option<Vec<u8>>) {
        let _ = JsFuture::from(self.inner.ready.clone()).await;
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id.wrapping_add(1).max(1));
        let json = match serde_json::to_string(&Envelope {
            id,
            body: request.clone(),
        }) {
            Ok(json) => json,
            Err(e) => {
                let message = e.to_string();
                return (Response::Error { message }, None);
            }
        };
        let message = Object::new();
        let _ = Reflect::set(&message, &"json".into(), &json.into());
        if let Some(bytes) = bytes {
            let _ = Reflect::set(&message, &"bytes".into(), &Uint8Array::from(bytes));
        }
        if !files.is_empty() {
            let list: Array = files.iter().collect();
            let _ = Reflect::set(&message, &"files".into(), &list);
        }
        let promise = Promise::new(&mut |resolve, _reject| {
            self.inner.waiting.borrow_mut().insert(id, resolve);
        });
        if let Err(e) = self.inner.worker.post_message(&message) {
            self.inner.waiting.borrow_mut().remove(&id);
            let message = format!("could not reach the model worker: {e:?}");
            return (Response::Error { message }, None);
        }
        let data = JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED);
        let field = |name: &str| Reflect::get(&data, &JsValue::from_str(name)).ok();
        let response = field("json")
            .and_then(|v| v.as_string())
            .and_then(|json| serde_json::from_str::<Envelope<Response>>(&json).ok())
            .map(|e| e.body)
            .unwrap_or(Response::Error {
                message: "the model worker sent no answer".into(),
            });
        let bytes = field("bytes")
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .map(|a| a.to_vec());
        (response, bytes)
    }
}
