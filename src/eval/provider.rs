//! Model providers: the [`Provider`] trait the engine calls, and [`HttpProvider`], which joins a
//! wire format to the platform's [`HttpClient`].
//!
//! Futures are `LocalBoxFuture` (no `Send` bound): in the browser every future is `!Send`.

use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use super::api::{ApiConfig, ApiKind, ChatResponse, ProviderError};
use super::image::{ANTHROPIC_IMAGES, ImageLimits, OPENAI_IMAGES};
use super::protocol::ChatRequest;
use super::wire;
use crate::platform::http::HttpClient;

/// Answers larger than this are refused (chat answers are a few kB).
pub const MAX_BODY: usize = 16 << 20;

/// Something that answers chat requests.
pub trait Provider {
    /// The model name, as stored with each record.
    fn model(&self) -> &str;
    /// Whether the API honours a strict `json_schema` response format.
    fn supports_json_schema(&self) -> bool;
    /// The API's base URL, part of each record's key (`None`: not an HTTP API, e.g. a test
    /// double).
    fn endpoint(&self) -> Option<&str> {
        None
    }
    /// What the API accepts as an image (`None`: anything).
    fn image_limits(&self) -> Option<&'static ImageLimits> {
        None
    }
    /// The decoding fields `request` goes out with, as stored with its record.
    fn sent(&self, request: &ChatRequest) -> Option<Value> {
        let _ = request;
        None
    }
    fn send<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>>;
}

/// Error messages are stored and exported; a server that echoes the key (some do, in a 401)
/// must not put it there.
pub(crate) fn redact(mut error: ProviderError, key: &str) -> ProviderError {
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

    fn endpoint(&self) -> Option<&str> {
        Some(&self.config.base_url)
    }

    fn image_limits(&self) -> Option<&'static ImageLimits> {
        Some(match self.config.kind {
            ApiKind::OpenAiChat => &OPENAI_IMAGES,
            ApiKind::AnthropicMessages => &ANTHROPIC_IMAGES,
        })
    }

    fn sent(&self, request: &ChatRequest) -> Option<Value> {
        let fields = wire::sampling(&self.config, request)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v));
        Some(Value::Object(fields.collect()))
    }

    fn send<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>> {
        let http = wire::encode(&self.config, request);
        let url = http.url.clone();
        let pending = self.client.send(http, MAX_BODY);
        Box::pin(async move {
            let key = self.config.api_key.as_str();
            pending
                .await
                .map_err(|e| ProviderError::no_answer(e, &url))
                .and_then(|response| wire::decode(&self.config, &response))
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
