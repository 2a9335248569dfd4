//! [`ByteFetcher`] on `fetch` with a streamed body: each `ReadableStream` chunk is handed to the
//! core as it arrives (progress, hashing, resume need nothing more). Dropping the request or
//! its body aborts the fetch.

use futures_util::future::LocalBoxFuture;
use futures_util::stream;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, ReadableStream, ReadableStreamDefaultReader, Request, RequestCache,
    RequestInit, Response,
};

use crate::hub::transport::ByteStream;
use crate::hub::{ByteFetcher, GetRequest, GetResponse, NetError};

#[derive(Clone, Copy, Debug, Default)]
pub struct StreamingFetch;

/// Aborts its fetch when dropped (a no-op once the body was read to the end).
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

pub fn js_detail(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `fetch` from the global scope (a page or a worker).
fn global_fetch(request: &Request) -> Result<Promise, JsValue> {
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &JsValue::from_str("fetch"))?.dyn_into()?;
    fetch.call1(&global, request)?.dyn_into()
}

/// Every header the page may read (CORS hides the rest unless the server exposes them).
fn header_pairs(response: &Response) -> Vec<(String, String)> {
    let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// The chunks of `body`; `keep` lives as long as the stream (the fetch's abort guard).
pub fn chunks<K: 'static>(body: Option<ReadableStream>, keep: K) -> ByteStream {
    let reader = body.and_then(|b| ReadableStreamDefaultReader::new(&b).ok());
    Box::pin(stream::unfold(
        (reader, keep),
        |(reader, keep)| async move {
            let r = reader?;
            let result = match JsFuture::from(r.read()).await {
                Ok(result) => result,
                Err(e) => {
                    let error = NetError(format!("the connection broke: {}", js_detail(&e)));
                    return Some((Err(error), (None, keep)));
                }
            };
            let done = Reflect::get(&result, &JsValue::from_str("done"))
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                return None;
            }
            let value = Reflect::get(&result, &JsValue::from_str("value")).ok()?;
            let bytes = value.dyn_into::<Uint8Array>().ok()?.to_vec();
            Some((Ok(bytes), (Some(r), keep)))
        },
    ))
}

impl ByteFetcher for StreamingFetch {
    fn get(&self, request: GetRequest) -> LocalBoxFuture<'static, Result<GetResponse, NetError>> {
        Box::pin(async move {
            let guard = AbortOnDrop(AbortController::new().ok());
            let init = RequestInit::new();
            init.set_method("GET");
            // The model is kept in the Cache API; the HTTP cache would hold a second copy.
            init.set_cache(RequestCache::NoStore);
            if let Some(controller) = &guard.0 {
                init.set_signal(Some(&controller.signal()));
            }
            let headers = web_sys::Headers::new().map_err(|e| NetError(js_detail(&e)))?;
            for (name, value) in request.all_headers() {
                headers
                    .append(&name, &value)
                    .map_err(|e| NetError(format!("header {name}: {}", js_detail(&e))))?;
            }
            init.set_headers(&headers);
            let built = Request::new_with_str_and_init(&request.url, &init)
                .map_err(|e| NetError(js_detail(&e)))?;
            let promise = global_fetch(&built).map_err(|e| NetError(js_detail(&e)))?;
            let response: Response = JsFuture::from(promise)
                .await
                .map_err(|e| NetError(js_detail(&e)))?
                .dyn_into()
                .map_err(|_| NetError("fetch gave no Response".into()))?;
            Ok(GetResponse {
                status: response.status(),
                headers: header_pairs(&response),
                body: chunks(response.body(), guard),
            })
        })
    }
}
