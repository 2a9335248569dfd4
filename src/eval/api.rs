//! What the evaluation's providers and wire formats share: the API configuration, a normalised
//! answer with its token counts, and a typed error with what the retry logic needs. A leaf: the
//! wire formats turn these into HTTP and back, the providers join a wire format to the
//! platform's HTTP client.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::platform::http::{HttpError, HttpErrorKind, header};

/// Token counts as the provider reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A provider's answer, normalised.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer text; `None` when the model sent none (e.g. a refusal).
    pub text: Option<String>,
    /// OpenAI's `message.refusal`, or the text of an Anthropic `refusal` stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// As the provider named it (`stop`, `length`, `content_filter`, `end_turn`, ...).
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    /// The model snapshot that answered, as the response names it (e.g. `gpt-4o-2024-08-06`
    /// for a request to `gpt-4o`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// OpenAI's `system_fingerprint`: the backend configuration that served the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
}

impl ChatResponse {
    pub fn is_content_filtered(&self) -> bool {
        self.finish_reason.as_deref() == Some("content_filter")
    }

    /// Whether the answer stopped at the token limit (OpenAI `length`, Anthropic `max_tokens`).
    pub fn is_cut_off(&self) -> bool {
        matches!(self.finish_reason.as_deref(), Some("length" | "max_tokens"))
    }

    /// What the judge is shown, as the official client takes it (`models/load_openai.py`:
    /// `output = message.content; if not output: output = message.refusal`): the text, else
    /// (no text, or an empty one) the refusal message, else nothing.
    pub fn answer_text(&self) -> &str {
        match (self.text.as_deref(), self.refusal.as_deref()) {
            (Some(t), _) if !t.is_empty() => t,
            (_, Some(r)) => r,
            (t, None) => t.unwrap_or(""),
        }
    }
}

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The server answered with a non-2xx status.
    Http,
    /// No HTTP answer: connection refused or dropped, DNS, TLS.
    Network,
    /// No answer within the per-request timeout.
    Timeout,
    /// A 2xx answer whose body could not be read.
    Decode,
    /// The request could not be built or sent (bad URL, bad header).
    Request,
    /// A 2xx answer with nothing usable in it: the token limit ran out before any text (a
    /// reasoning model's hidden reasoning counts against it).
    Empty,
    /// The row's image cannot go to this provider (nothing was sent).
    Image,
    /// A provider's batch ended without running this request: it expired, was cancelled, or
    /// failed validation (nothing was charged for it).
    Batch,
}

/// A failed call, with what the retry logic needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind:?}{}: {message}", status.map(|s| format!(" {s}")).unwrap_or_default())]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// From `retry-after-ms`, else `Retry-After` (seconds).
    #[serde(default, with = "opt_millis")]
    pub retry_after: Option<Duration>,
    /// 408, 409, 429, 5xx, network errors, timeouts and unreadable 2xx bodies.
    pub retryable: bool,
    pub message: String,
    /// The API's own error `code` (OpenAI: `insufficient_quota`, `invalid_api_key`,
    /// `model_not_found`, `unsupported_parameter`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The API's error `type` (OpenAI: `invalid_request_error`, `insufficient_quota`, ...;
    /// Anthropic: `authentication_error`, `not_found_error`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The request field the API names as the cause (OpenAI's `param`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Decode
        );
        Self {
            kind,
            status: None,
            retry_after: None,
            retryable,
            message: message.into(),
            code: None,
            error_type: None,
            param: None,
        }
    }

    /// An HTTP error status with its headers (for the retry hint).
    pub fn http(status: u16, headers: &[(String, String)], message: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            retry_after: retry_after(headers),
            retryable: is_retryable_status(status),
            ..Self::new(ErrorKind::Http, message)
        }
    }

    /// No HTTP answer from `url`: the platform's reason, with its advice where it has some
    /// (the browser's: down, CORS or `connect-src`).
    pub fn no_answer(error: HttpError, url: &str) -> Self {
        let kind = match error.kind {
            HttpErrorKind::Request => ErrorKind::Request,
            HttpErrorKind::Network => ErrorKind::Network,
            HttpErrorKind::Timeout => ErrorKind::Timeout,
        };
        let message = match error.hint {
            Some(hint) => format!("no answer from {url} ({}): {hint}", error.message),
            None => error.message,
        };
        Self::new(kind, message)
    }

    /// A 429 that waiting can fix (not an exhausted quota, see [`super::failure`]).
    pub fn is_rate_limit(&self) -> bool {
        self.status == Some(429) && self.retryable
    }
}

/// The server's wait hint: `retry-after-ms` (milliseconds) first, else `Retry-After` in seconds.
/// The HTTP-date form of `Retry-After` is not read (the caller falls back to back-off).
pub fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    // A value too large for a Duration (`1e300`) is no hint: back-off decides (found by
    // fuzzing: `from_secs_f64` panics on it).
    let parse = |v: &str, scale: f64| {
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .and_then(|x| Duration::try_from_secs_f64(x * scale).ok())
    };
    header(headers, "retry-after-ms")
        .and_then(|v| parse(v, 1e-3))
        .or_else(|| header(headers, "retry-after").and_then(|v| parse(v, 1.0)))
}

pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
}

mod opt_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// Which wire format an API speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// OpenAI chat completions, or any server that copies it (vLLM, Ollama, OpenRouter, ...).
    OpenAiChat,
    /// Anthropic Messages.
    AnthropicMessages,
}

/// One API endpoint and model, with the user's key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiConfig {
    pub kind: ApiKind,
    /// E.g. `https://api.openai.com/v1` or `https://api.anthropic.com/v1`; no trailing path.
    pub base_url: String,
    /// Never written out with the settings.
    #[serde(skip_serializing, default)]
    pub api_key: String,
    pub model: String,
    /// Send `response_format: json_schema` (OpenAI and compatible servers that support it).
    pub json_schema: bool,
    /// Anthropic: add `anthropic-dangerous-direct-browser-access: true` (calls from a page).
    pub browser_direct: bool,
}

impl ApiConfig {
    pub fn openai(model: &str, api_key: &str) -> Self {
        Self::openai_compatible("https://api.openai.com/v1", model, api_key, true)
    }

    pub fn openai_compatible(
        base_url: &str,
        model: &str,
        api_key: &str,
        json_schema: bool,
    ) -> Self {
        Self {
            kind: ApiKind::OpenAiChat,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            model: model.to_string(),
            json_schema,
            browser_direct: false,
        }
    }

    pub fn anthropic(model: &str, api_key: &str, browser_direct: bool) -> Self {
        Self {
            kind: ApiKind::AnthropicMessages,
            base_url: "https://api.anthropic.com/v1".to_string(),
            api_key: api_key.to_string(),
            model: model.to_string(),
            json_schema: false,
            browser_direct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::http::header_list as h;

    #[test]
    fn the_judge_sees_the_refusal_when_the_text_is_empty_as_the_official_client_does() {
        let r = |text: Option<&str>, refusal: Option<&str>| ChatResponse {
            text: text.map(str::to_string),
            refusal: refusal.map(str::to_string),
            ..ChatResponse::default()
        };
        assert_eq!(r(Some(""), Some("I can't")).answer_text(), "I can't");
        assert_eq!(r(None, Some("I can't")).answer_text(), "I can't");
        assert_eq!(r(Some("yes"), Some("I can't")).answer_text(), "yes");
        assert_eq!(r(Some(""), None).answer_text(), "");
        assert_eq!(r(None, None).answer_text(), "");
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
}
