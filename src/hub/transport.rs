//! The platform's part of a download: "GET this URL, from this byte on, and hand me the body
//! as it arrives". The browser streams `fetch` bodies, natively a ureq thread reads. Everything
//! else (resume, checks, progress, cache) is the core's. Futures and streams carry no `Send`
//! bound: in the browser they are `!Send`.

use futures_util::future::LocalBoxFuture;
use futures_util::stream::LocalBoxStream;

/// One GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetRequest {
    pub url: String,
    /// Extra headers (an `Authorization` token); never shown in messages.
    pub headers: Vec<(String, String)>,
    /// Ask for the body from this byte on (`Range: bytes=N-`).
    pub range_start: Option<u64>,
}

impl GetRequest {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
            range_start: None,
        }
    }

    /// Every header to send, `Range` included.
    pub fn all_headers(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if let Some(start) = self.range_start {
            headers.push(("Range".into(), format!("bytes={start}-")));
        }
        headers
    }
}

/// The body, chunk by chunk; an error item means the connection broke.
pub type ByteStream = LocalBoxStream<'static, Result<Vec<u8>, NetError>>;

/// A response of any status, its body not read yet.
pub struct GetResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ByteStream,
}

impl std::fmt::Debug for GetResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl GetResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// No HTTP answer, or a body cut short. In the browser a CORS refusal looks the same as an
/// unreachable server; the message says both.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NetError(pub String);

/// The platform's streaming GET.
pub trait ByteFetcher {
    fn get(&self, request: GetRequest) -> LocalBoxFuture<'static, Result<GetResponse, NetError>>;
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

pub fn content_length(headers: &[(String, String)]) -> Option<u64> {
    header(headers, "content-length").and_then(|v| v.parse().ok())
}

/// `Content-Range: bytes <first>-<last>/<total>` as (first, total); total `None` for `*`.
pub fn content_range(headers: &[(String, String)]) -> Option<(u64, Option<u64>)> {
    let value = header(headers, "content-range")?;
    let rest = value.strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (first, _last) = span.split_once('-')?;
    let first = first.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((first, total))
}

/// The validator that must not change between the first response and a resumed one.
pub fn etag(headers: &[(String, String)]) -> Option<String> {
    header(headers, "x-linked-etag")
        .or_else(|| header(headers, "etag"))
        .map(str::to_string)
}

/// A 64-hex-digit sha256, lower case, from an ETag-like value (quotes and `W/` removed).
pub fn as_sha256(value: &str) -> Option<String> {
    let v = value.trim().trim_start_matches("W/").trim_matches('"');
    (v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_ascii_lowercase())
}

/// The hub names an LFS file's sha256 in `X-Linked-Etag` (and mirrors or the CDN often in
/// `ETag`); a git blob id (40 hex) or an S3 MD5 is not one and is ignored.
pub fn sha256_from_headers(headers: &[(String, String)]) -> Option<String> {
    ["x-linked-etag", "etag"]
        .iter()
        .find_map(|name| header(headers, name).and_then(as_sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ranges_lengths_and_sha256_etags_are_read_leniently() {
        let headers = h(&[
            ("Content-Range", "bytes 500-999/1000"),
            ("content-length", " 500 "),
        ]);
        assert_eq!(content_range(&headers), Some((500, Some(1000))));
        assert_eq!(content_length(&headers), Some(500));
        assert_eq!(
            content_range(&h(&[("content-range", "bytes 0-9/*")])),
            Some((0, None))
        );
        assert_eq!(
            content_range(&h(&[("content-range", "items 0-9/10")])),
            None
        );
        let sha = "AB".repeat(32);
        assert_eq!(
            sha256_from_headers(&h(&[("ETag", &format!("W/\"{sha}\""))])),
            Some(sha.to_ascii_lowercase())
        );
        // A git blob id in ETag, the sha256 in X-Linked-Etag.
        let both = h(&[
            ("etag", &format!("\"{}\"", "c".repeat(40))),
            ("x-linked-etag", &format!("\"{}\"", "d".repeat(64))),
        ]);
        assert_eq!(sha256_from_headers(&both), Some("d".repeat(64)));
        assert_eq!(sha256_from_headers(&h(&[("etag", "\"abc-12\"")])), None);
        let mut request = GetRequest::new("u");
        request.range_start = Some(7);
        assert_eq!(request.all_headers(), h(&[("Range", "bytes=7-")]));
    }
}
