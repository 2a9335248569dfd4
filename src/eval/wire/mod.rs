//! Wire formats: pure functions from a neutral request to HTTP bytes and from HTTP bytes back to
//! a neutral response or a typed error. No I/O here, so every case is testable as data.
//!
//! Bodies are written with [`Object`], field by field in the order the official clients send
//! them: serde_json's map (without `preserve_order`, which would change every stored hash)
//! sorts keys, and the judge's schema must keep its order ([`super::protocol::VERDICT_SCHEMA_WIRE`]).

pub mod anthropic;
pub mod openai;

use serde_json::Value;

use super::api::{ApiConfig, ApiKind, ChatResponse, ErrorKind, ProviderError, Usage};
use super::protocol::ChatRequest;
use crate::platform::http::{HttpRequest, HttpResponse, header};

/// A JSON object written in the order its fields are added.
pub struct Object(String);

impl Object {
    pub fn new() -> Self {
        Self(String::from("{"))
    }

    /// A field whose value is JSON text already.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&Value::from(key).to_string());
        self.0.push(':');
        self.0.push_str(json);
        self
    }

    /// A field with a plain value (a string, a number, a bool, or a small value whose own key
    /// order does not matter).
    pub fn field(self, key: &str, value: impl Into<Value>) -> Self {
        self.raw(key, &value.into().to_string())
    }

    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

/// `{"type":"text","text":…}`, the text part both APIs share.
pub fn text_part(text: &str) -> String {
    Object::new()
        .field("type", "text")
        .field("text", text)
        .finish()
}

/// A JSON array of values that are JSON text already.
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

/// `temperature` and `top_p` as they go out (`top_p` at its default 1.0 left out when
/// `drop_default_top_p`).
fn temperature_top_p(
    params: &super::protocol::GenParams,
    drop_default_top_p: bool,
) -> impl Iterator<Item = (&'static str, Value)> {
    let top_p = params.top_p.filter(|p| !(drop_default_top_p && *p == 1.0));
    [("temperature", params.temperature), ("top_p", top_p)]
        .into_iter()
        .filter_map(|(k, v)| Some((k, Value::from(v?))))
}

/// The sampling fields `config`'s API is sent for `request`, in wire order, as they go out:
/// what every stored record keeps as "sent".
pub fn sampling(config: &ApiConfig, request: &ChatRequest) -> Vec<(&'static str, Value)> {
    match config.kind {
        ApiKind::OpenAiChat => openai::sampling(request),
        ApiKind::AnthropicMessages => anthropic::sampling(request),
    }
}

/// The headers that carry the key (and Anthropic's API version) for `config`'s API.
pub fn auth_headers(config: &ApiConfig) -> Vec<(String, String)> {
    match config.kind {
        ApiKind::OpenAiChat => openai::auth_headers(config),
        ApiKind::AnthropicMessages => anthropic::auth_headers(config),
    }
}

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

/// A non-2xx answer as an error; the message is the API's `error.message` when there is one,
/// with its `code`, `type` and `param` (OpenAI: `{"error":{"message","type","param","code"}}`;
/// Anthropic: `{"type":"error","error":{"type","message"}}`). A redirect is never followed
/// (it could hand the key or the request to another server): it is an error naming where it
/// pointed.
pub fn status_error(response: &HttpResponse) -> ProviderError {
    if (300..400).contains(&response.status) {
        let to = header(&response.headers, "location").unwrap_or("(no Location header)");
        let message = format!(
            "the server answered with a redirect ({}) to {to}; API calls never follow \
             redirects, so the request and the key stay with the server you named: if that \
             address is right, use it as the base URL",
            response.status
        );
        return ProviderError::http(response.status, &response.headers, message);
    }
    let body = String::from_utf8_lossy(&response.body);
    let json = serde_json::from_str::<Value>(&body).ok();
    let text = |pointer: &str| {
        json.as_ref()
            .and_then(|v| v.pointer(pointer))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let message = text("/error/message").unwrap_or_else(|| body.chars().take(300).collect());
    let mut error = ProviderError::http(response.status, &response.headers, message);
    error.code = text("/error/code");
    error.error_type = text("/error/type");
    error.param = text("/error/param");
    error
}

/// Token counts as an API reports them; a count it leaves out makes the whole figure unknown
/// (the cost meter then charges the request's worst case), never a failed decode.
pub fn usage(input: Option<&Value>, output: Option<&Value>) -> Option<Usage> {
    Some(Usage {
        prompt_tokens: input?.as_u64()?,
        completion_tokens: output?.as_u64()?,
    })
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
    fn objects_keep_their_field_order() {
        let o = Object::new()
            .field("z", 1)
            .raw("a", r#"{"y":2,"b":3}"#)
            .field("m", "x\"y")
            .finish();
        assert_eq!(o, r#"{"z":1,"a":{"y":2,"b":3},"m":"x\"y"}"#);
        assert_eq!(array(["1".into(), "{}".into()]), "[1,{}]");
        assert_eq!(Object::new().finish(), "{}");
    }

    #[test]
    fn redirects_are_final_errors_that_name_the_target_and_api_errors_keep_their_code() {
        let moved = HttpResponse {
            status: 301,
            headers: h(&[("Location", "https://elsewhere.example/v1/chat/completions")]),
            body: Vec::new(),
        };
        let e = status_error(&moved);
        assert!(!e.retryable && e.message.contains("https://elsewhere.example"));
        let quota = HttpResponse {
            status: 429,
            headers: vec![],
            body: br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#.to_vec(),
        };
        let e = status_error(&quota);
        assert_eq!(
            (e.code.as_deref(), e.error_type.as_deref(), e.param),
            (Some("insufficient_quota"), Some("insufficient_quota"), None)
        );
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
