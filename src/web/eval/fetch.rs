//! [`HttpClient`] on the browser's `fetch`, through gloo-net.
//!
//! The engine times requests out with its own clock and drops the future; dropping also aborts
//! the fetch (an `AbortController` per request), so a timed-out or cancelled request stops using
//! a connection instead of finishing unseen in the background.

use futures_util::future::LocalBoxFuture;
use gloo_net::http::{Method, RequestBuilder};
use js_sys::Uint8Array;

use crate::eval::provider::ErrorKind;
use crate::eval::{HttpClient, HttpRequest, HttpResponse, ProviderError};

#[derive(Clone, Copy, Debug, Default)]
pub struct FetchClient;

/// Aborts its fetch when dropped before the answer is complete.
struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// Why a fetch gave no HTTP answer, in words that say what to check. The browser hides the
/// reason on purpose (a CORS refusal looks the same as a dead server).
fn network_error(url: &str, detail: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Network,
        format!(
            "no answer from {url} ({detail}): the server is down or unreachable, it does not \
             allow calls from this page (CORS), or the page's connect-src does not list it"
        ),
    )
}

impl HttpClient for FetchClient {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ProviderError>> {
        Box::pin(async move {
            let controller = web_sys::AbortController::new().ok();
            let guard = AbortOnDrop(controller);
            let method = match request.method {
                "GET" => Method::GET,
                _ => Method::POST,
            };
            let mut builder = RequestBuilder::new(&request.url)
                .method(method)
                .abort_signal(guard.0.as_ref().map(|c| c.signal()).as_ref());
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            let built = if request.body.is_empty() {
                builder.build()
            } else {
                builder.body(Uint8Array::from(request.body.as_slice()))
            }
            .map_err(|e| ProviderError::new(ErrorKind::Request, e.to_string()))?;
            let response = built
                .send()
                .await
                .map_err(|e| network_error(&request.url, &e.to_string()))?;
            let status = response.status();
            let headers = response.headers().entries().collect();
            let body = response
                .binary()
                .await
                .map_err(|e| network_error(&request.url, &format!("body cut short: {e}")))?;
            // The answer is complete: nothing to abort any more.
            let mut guard = guard;
            guard.0 = None;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}
