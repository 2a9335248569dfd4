//! HTTP as a platform service: one [`HttpClient`] trait for every request the crate makes (the
//! model download's streaming GETs with `Range`, the evaluation's API calls, the official
//! judge template). Natively [`super::native::UreqClient`] serves it (ureq on a thread per
//! request), in the browser `crate::web::fetch` (`fetch` with a streamed body).
//!
//! The client hands back the status and headers as soon as they arrive and the body as a
//! stream ([`StreamedResponse`]); [`HttpClient::send`] collects the body for callers that want
//! it whole. A request body can be streamed too ([`HttpClient::upload`]: a batch file of
//! hundreds of MB read from disk as it goes out). Futures and streams carry no `Send` bound: in
//! the browser they are `!Send`.

use std::io::Read;

use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use futures_util::stream::LocalBoxStream;

/// An HTTP request as bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    pub url: String,
    /// Never shown in messages (they may hold a key or a token).
    pub headers: Vec<(String, String)>,
    /// Sent only when not empty.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A GET of `url` with no headers.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: "GET",
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// A request body read as it goes out, with its length (sent as `Content-Length`, so the
/// server knows the size before the first byte, as file-upload endpoints want).
pub struct Upload {
    pub reader: Box<dyn Read + Send>,
    pub length: u64,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// An HTTP response with its whole body (any status).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The body, chunk by chunk; an error item means the connection broke.
pub type ByteStream = LocalBoxStream<'static, Result<Vec<u8>, HttpError>>;

/// A response of any status, its body not read yet. Dropping the body ends the request.
pub struct StreamedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ByteStream,
}

impl std::fmt::Debug for StreamedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl StreamedResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The whole body; more than `limit` bytes is an error (an answer that large is not what
    /// the caller asked for).
    pub async fn collect(self, limit: usize) -> Result<HttpResponse, HttpError> {
        let mut body = Vec::new();
        let mut chunks = self.body;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > limit {
                return Err(HttpError::new(
                    HttpErrorKind::Network,
                    format!("the answer is larger than {limit} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status: self.status,
            headers: self.headers,
            body,
        })
    }
}

/// Why there is no HTTP answer, or why the body was cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpErrorKind {
    /// The request could not be built or sent (bad URL, bad header, unknown method).
    Request,
    /// Connection refused or dropped, DNS, TLS; in the browser also a CORS refusal, which
    /// looks the same on purpose.
    Network,
    /// The client's own timeout ran out.
    Timeout,
}

/// No HTTP answer, or a body cut short.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    pub kind: HttpErrorKind,
    /// What the platform said, e.g. `Connection refused` or `Failed to fetch`.
    pub message: String,
    /// Where the platform knows more than the message says: in the browser, the reasons a
    /// `fetch` gets no answer (down, CORS, the page's `connect-src`). Callers that word their
    /// own advice (the model download) leave it out.
    pub hint: Option<&'static str>,
}

impl HttpError {
    pub fn new(kind: HttpErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
        }
    }
}

/// The platform's HTTP client. An error means no HTTP response at all: any status, 4xx and 5xx
/// included, is a response.
pub trait HttpClient {
    fn fetch(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<StreamedResponse, HttpError>>;

    /// [`HttpClient::fetch`] with the whole body, at most `limit` bytes of it.
    fn send(
        &self,
        request: HttpRequest,
        limit: usize,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, HttpError>> {
        let pending = self.fetch(request);
        Box::pin(async move { pending.await?.collect(limit).await })
    }

    /// `request` (a POST) with its body read from `body` as it goes out, the answer whole (at
    /// most `limit` bytes); `request.body` is ignored. This default reads the body into memory
    /// first (the browser sends nothing this large); the native client streams it.
    fn upload(
        &self,
        mut request: HttpRequest,
        body: Upload,
        limit: usize,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, HttpError>> {
        let mut bytes = Vec::new();
        let mut reader = body.reader;
        if let Err(e) = reader.read_to_end(&mut bytes) {
            let error = HttpError::new(HttpErrorKind::Request, format!("the body: {e}"));
            return Box::pin(futures_util::future::ready(Err(error)));
        }
        request.body = bytes;
        self.send(request, limit)
    }
}

/// First header named `name` (case-insensitive), trimmed.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Headers from `(name, value)` pairs, for tests.
#[cfg(test)]
pub(crate) fn header_list(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
