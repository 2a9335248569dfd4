//! Wire formats: pure functions from a neutral request to HTTP bytes and from HTTP bytes back to
//! a neutral response or a typed error. No I/O here, so every case is testable as data.

pub mod anthropic;
pub mod openai;

use std::time::Duration;

use serde_json::Value;

use super::provider::{ErrorKind, HttpResponse, ProviderError};

/// First header named `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The server's wait hint: `retry-after-ms` (milliseconds) first, else `Retry-After` in seconds.
/// The HTTP-date form of `Retry-After` is not read (the caller falls back to back-off).
pub fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let parse = |v: &str, scale: f64| {
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(|x| Duration::from_secs_f64(x * scale))
    };
    header(headers, "retry-after-ms")
        .and_then(|v| parse(v, 1e-3))
        .or_else(|| header(headers, "retry-after").and_then(|v| parse(v, 1.0)))
}

/// A non-2xx answer as an error; the message is the API's `error.message` when there is one.
pub fn status_error(response: &HttpResponse) -> ProviderError {
    let body = String::from_utf8_lossy(&response.body);
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(300).collect());
    ProviderError::http(response.status, &response.headers, message)
}

/// A 2xx body that is not what the API promised.
pub fn decode_error(what: impl std::fmt::Display, body: &[u8]) -> ProviderError {
    let head: String = String::from_utf8_lossy(body).chars().take(200).collect();
    ProviderError::new(ErrorKind::Decode, format!("{what}; body starts {head:?}"))
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
    fn retry_after_prefers_milliseconds_then_seconds() {
        let both = h(&[("Retry-After", "3"), ("retry-after-ms", "250")]);
        assert_eq!(retry_after(&both), Some(Duration::from_millis(250)));
        assert_eq!(
            retry_after(&h(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&h(&[("Retry-After", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&h(&[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")])),
            None
        );
        assert_eq!(retry_after(&h(&[("retry-after-ms", "-1")])), None);
    }

    #[test]
    fn status_errors_classify_and_keep_the_api_message() {
        let r = |status: u16, body: &str| HttpResponse {
            status,
            headers: h(&[("retry-after", "1")]),
            body: body.as_bytes().to_vec(),
        };
        let e = status_error(&r(
            429,
            r#"{"error":{"message":"slow down","type":"rate"}}"#,
        ));
        assert!(e.retryable && e.is_rate_limit());
        assert_eq!(e.message, "slow down");
        assert_eq!(e.retry_after, Some(Duration::from_secs(1)));
        for s in [408, 409, 500, 502, 503, 529] {
            assert!(status_error(&r(s, "")).retryable, "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!status_error(&r(s, "x")).retryable, "{s}");
        }
    }
}
