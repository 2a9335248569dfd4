//! Wire formats: pure functions from a neutral request to HTTP bytes and from HTTP bytes back to
//! a neutral response or a typed error. No I/O here, so every case is testable as data.

pub mod anthropic;
pub mod openai;

use serde_json::Value;

use super::api::{ApiConfig, ApiKind, ChatResponse, ErrorKind, ProviderError};
use super::protocol::ChatRequest;
use crate::platform::http::{HttpRequest, HttpResponse};

/// `request` as HTTP for `config`'s API.
pub fn encode(config: &ApiConfig, request: &ChatRequest) -> HttpRequest {
    match config.kind {
        ApiKind::OpenAiChat => openai::encode(config, request),
        ApiKind::AnthropicMessages => anthropic::encode(config, request),
    }
}

/// `config`'s API's answer, normalised, or the error it says.
pub fn decode(config: &ApiConfig, response: &HttpResponse) -> Result<ChatResponse, ProviderError> {
    match config.kind {
        ApiKind::OpenAiChat => openai::decode(response),
        ApiKind::AnthropicMessages => anthropic::decode(response),
    }
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
    use std::time::Duration;

    use super::*;
    use crate::platform::http::header_list as h;

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
