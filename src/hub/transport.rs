//! What a download asks of the platform's [`HttpClient`](crate::platform::http::HttpClient): "GET this URL, from this byte on, and
//! hand me the body as it arrives" ([`GetRequest`]), and what it reads in the answer's headers
//! (lengths, ranges, validators, the sha256 the hub names). Everything else (resume, checks,
//! progress, cache) is the core's.

use crate::platform::http::{HttpRequest, header};

/// One GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetRequest {
    pub url: String,
    /// Extra headers (an `Authorization` token); never shown in messages.
    pub headers: Vec<(String, String)>,
    /// Ask for the body from this byte on (`Range: bytes=N-`).
    pub range_start: Option<u64>,
    /// … up to this byte, included (`Range: bytes=N-M`); only with `range_start`.
    pub range_end: Option<u64>,
}

impl GetRequest {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
            range_start: None,
            range_end: None,
        }
    }

    /// Every header to send, `Range` included.
    pub fn all_headers(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if let Some(start) = self.range_start {
            let end = self.range_end.map(|e| e.to_string()).unwrap_or_default();
            headers.push(("Range".into(), format!("bytes={start}-{end}")));
        }
        headers
    }

    /// The request the platform's HTTP client sends.
    pub fn into_http(self) -> HttpRequest {
        let headers = self.all_headers();
        HttpRequest {
            headers,
            ..HttpRequest::get(self.url)
        }
    }
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
    use crate::platform::http::header_list as h;

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
        request.range_end = Some(99);
        assert_eq!(request.all_headers(), h(&[("Range", "bytes=7-99")]));
    }
}
