//! [`HttpClient`] on the browser's `fetch`, read from the global scope so the same code works in
//! a page and in a worker: the model download, the evaluation's API calls and the official
//! judge template all go through it. The body is streamed, each `ReadableStream` chunk handed to
//! the caller as it arrives (progress, hashing and resume need nothing more).
//!
//! Callers time requests out with their own clock and drop the future or the body; dropping
//! aborts the fetch (an `AbortController` per request), so a timed-out or cancelled request
//! stops using a connection instead of finishing unseen in the background.

use futures_util::future::LocalBoxFuture;
use futures_util::stream;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, ReadableStream, ReadableStreamDefaultReader, Request, RequestCache,
    RequestInit, RequestRedirect, Response, ResponseType,
};

use crate::platform::http::{
    ByteStream, HttpClient, HttpError, HttpErrorKind, HttpRequest, StreamedResponse,
};

/// Why a `fetch` got no answer, in words that say what to check. The browser hides the reason
/// on purpose (a CORS refusal looks the same as a dead server).
const NO_ANSWER: &str = "the server is down or unreachable, it does not allow calls from this \
                         page (CORS), or the page's connect-src does not list it";

/// `fetch` with an abort on drop. `no_store` keeps the answer out of the HTTP cache (the model
/// is kept in the Cache API; the HTTP cache would hold a second copy). `api`: a redirect is not
/// followed (`redirect: "manual"`) and comes back as a 302 without its target, which the
/// browser hides (model APIs: a redirect to another server would take the request).
#[derive(Clone, Copy, Debug, Default)]
pub struct Fetch {
    pub no_store: bool,
    pub api: bool,
}

impl Fetch {
    /// For model APIs.
    pub fn api() -> Self {
        Self {
            no_store: false,
            api: true,
        }
    }
}

/// Aborts its fetch when dropped (a no-op once the body was read to the end).
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// The message of a JavaScript error value.
pub fn js_detail(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

fn request_error(e: &JsValue) -> HttpError {
    HttpError::new(HttpErrorKind::Request, js_detail(e))
}

fn no_answer(message: String) -> HttpError {
    HttpError {
        kind: HttpErrorKind::Network,
        message,
        hint: Some(NO_ANSWER),
    }
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
                    let error = no_answer(format!("the connection broke: {}", js_detail(&e)));
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

impl HttpClient for Fetch {
    fn fetch(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<StreamedResponse, HttpError>> {
        let (no_store, api) = (self.no_store, self.api);
        Box::pin(async move {
            let guard = AbortOnDrop(AbortController::new().ok());
            let init = RequestInit::new();
            init.set_method(request.method);
            if no_store {
                init.set_cache(RequestCache::NoStore);
            }
            if api {
                init.set_redirect(RequestRedirect::Manual);
            }
            if let Some(controller) = &guard.0 {
                init.set_signal(Some(&controller.signal()));
            }
            let headers = web_sys::Headers::new().map_err(|e| request_error(&e))?;
            for (name, value) in &request.headers {
                headers.append(name, value).map_err(|e| {
                    HttpError::new(
                        HttpErrorKind::Request,
                        format!("header {name}: {}", js_detail(&e)),
                    )
                })?;
            }
            init.set_headers(&headers);
            if !request.body.is_empty() {
                init.set_body(&Uint8Array::from(request.body.as_slice()));
            }
            let built = Request::new_with_str_and_init(&request.url, &init)
                .map_err(|e| request_error(&e))?;
            let promise = global_fetch(&built).map_err(|e| no_answer(js_detail(&e)))?;
            let response: Response = JsFuture::from(promise)
                .await
                .map_err(|e| no_answer(js_detail(&e)))?
                .dyn_into()
                .map_err(|_| no_answer("fetch gave no Response".into()))?;
            if response.type_() == ResponseType::Opaqueredirect {
                let hidden = "(another address; the browser does not show it)";
                return Ok(StreamedResponse {
                    status: 302,
                    headers: vec![("location".into(), hidden.into())],
                    body: chunks(None, guard),
                });
            }
            Ok(StreamedResponse {
                status: response.status(),
                headers: header_pairs(&response),
                body: chunks(response.body(), guard),
            })
        })
    }
}

/// The most a page-side download (an image by URL, a gallery picture, VLSBench's data.json or
/// one of its images) may be: a larger body is refused rather than held in the tab.
pub const DOWNLOAD_LIMIT: usize = 64 << 20;

/// GETs `url` whole (at most [`DOWNLOAD_LIMIT`] bytes), any status.
pub async fn get(url: &str) -> Result<crate::platform::http::HttpResponse, HttpError> {
    Fetch::default()
        .send(HttpRequest::get(url), DOWNLOAD_LIMIT)
        .await
}
