//! Model providers: the [`Provider`] trait the engine calls, the [`HttpClient`] trait the
//! platform supplies, and [`HttpProvider`], which joins a wire format to an HTTP client.
//!
//! Futures are `LocalBoxFuture` (no `Send` bound): in the browser every future is `!Send`.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use super::protocol::ChatRequest;
use super::wire;

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
}

impl ChatResponse {
    pub fn is_content_filtered(&self) -> bool {
        self.finish_reason.as_deref() == Some("content_filter")
    }

    /// What the judge is shown: the text, else the refusal message, else nothing.
    pub fn answer_text(&self) -> &str {
        self.text
            .as_deref()
            .or(self.refusal.as_deref())
            .unwrap_or("")
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
        }
    }

    /// An HTTP error status with its headers (for the retry hint).
    pub fn http(status: u16, headers: &[(String, String)], message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Http,
            status: Some(status),
            retry_after: wire::retry_after(headers),
            retryable: is_retryable_status(status),
            message: message.into(),
        }
    }

    pub fn is_rate_limit(&self) -> bool {
        self.status == Some(429)
    }
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

/// Something that answers chat requests.
pub trait Provider {
    /// The model name, as stored with each record.
    fn model(&self) -> &str;
    /// Whether the API honours a strict `json_schema` response format.
    fn supports_json_schema(&self) -> bool;
    fn send<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>>;
}

/// An HTTP request as bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An HTTP response as bytes (any status).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The platform's HTTP service: natively a blocking client on a thread, in the browser `fetch`.
/// An error means no HTTP response at all; use [`ErrorKind::Network`] or [`ErrorKind::Request`].
pub trait HttpClient {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ProviderError>>;
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
    /// OpenAI: send `max_completion_tokens` instead of `max_tokens` (reasoning models need it).
    pub max_completion_tokens: bool,
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
            max_completion_tokens: false,
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
            max_completion_tokens: false,
            browser_direct,
        }
    }

    pub fn encode(&self, request: &ChatRequest) -> HttpRequest {
        match self.kind {
            ApiKind::OpenAiChat => wire::openai::encode(self, request),
            ApiKind::AnthropicMessages => wire::anthropic::encode(self, request),
        }
    }

    pub fn decode(&self, response: &HttpResponse) -> Result<ChatResponse, ProviderError> {
        match self.kind {
            ApiKind::OpenAiChat => wire::openai::decode(response),
            ApiKind::AnthropicMessages => wire::anthropic::decode(response),
        }
    }
}

/// Error messages are stored and exported; a server that echoes the key (some do, in a 401)
/// must not put it there.
fn redact(mut error: ProviderError, key: &str) -> ProviderError {
    if key.len() >= 4 && error.message.contains(key) {
        error.message = error.message.replace(key, "[your key]");
    }
    error
}

/// A provider made of an API configuration and the platform's HTTP client.
pub struct HttpProvider<C> {
    pub config: ApiConfig,
    pub client: C,
}

impl<C: HttpClient> HttpProvider<C> {
    pub fn new(config: ApiConfig, client: C) -> Self {
        Self { config, client }
    }
}

impl<C: HttpClient> Provider for HttpProvider<C> {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn supports_json_schema(&self) -> bool {
        self.config.kind == ApiKind::OpenAiChat && self.config.json_schema
    }

    fn send<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>> {
        let http = self.config.encode(request);
        let pending = self.client.send(http);
        Box::pin(async move {
            let key = self.config.api_key.as_str();
            pending
                .await
                .and_then(|response| self.config.decode(&response))
                .map_err(|e| redact(e, key))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_key_never_reaches_the_error_message() {
        let e = ProviderError::http(401, &[], "Incorrect API key provided: sk-secret-123.");
        let e = redact(e, "sk-secret-123");
        assert_eq!(e.message, "Incorrect API key provided: [your key].");
        assert_eq!(e.status, Some(401));
    }
}
