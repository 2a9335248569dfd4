//! Anthropic Messages (`POST {base}/messages`). No structured-output schema is sent: the judge's
//! answer is read leniently. A `refusal` stop reason becomes [`ChatResponse::refusal`].
//!
//! The body follows the Anthropic SDK's field order (`max_tokens`, `messages`, `model`,
//! `system`, `temperature`, `top_p`). What the API refuses is left out before sending: a text
//! block that is empty or only whitespace (400 "text content blocks must be non-empty",
//! e.g. VLSBench row 1685, whose instruction is empty; anthropics/anthropic-sdk-python#461),
//! and `top_p` at its default 1.0 (newer models refuse `temperature` and `top_p` together:
//! "`temperature` and `top_p` cannot both be specified for this model"). Images the API
//! refuses are fitted before they get here (`super::super::image::fit`).

use serde::Deserialize;
use serde_json::Value;

use super::{Object, array, decode_error, status_error, temperature_top_p, text_part, usage};
use crate::eval::api::{ApiConfig, ChatResponse, ProviderError};
use crate::eval::protocol::{ChatRequest, Part};
use crate::platform::http::{HttpRequest, HttpResponse};

pub const API_VERSION: &str = "2023-06-01";

/// The sampling fields, in the SDK's order.
pub fn sampling(request: &ChatRequest) -> Vec<(&'static str, Value)> {
    let p = &request.params;
    let mut out = vec![("max_tokens", Value::from(p.max_tokens))];
    out.extend(temperature_top_p(p, true));
    out
}

fn block(part: &Part) -> Option<String> {
    Some(match part {
        Part::Text(text) if text.trim().is_empty() => return None,
        Part::Text(text) => text_part(text),
        Part::Image { mime, base64 } => {
            let source = Object::new()
                .field("type", "base64")
                .field("media_type", mime.as_str())
                .field("data", &**base64)
                .finish();
            Object::new()
                .field("type", "image")
                .raw("source", &source)
                .finish()
        }
    })
}

/// The request body as text (what [`encode`] sends).
pub fn body(config: &ApiConfig, request: &ChatRequest) -> String {
    let content = array(request.user.iter().filter_map(block));
    let message = Object::new()
        .field("role", "user")
        .raw("content", &content)
        .finish();
    let mut sampling = sampling(request).into_iter();
    let mut body = Object::new();
    if let Some((key, value)) = sampling.next() {
        body = body.field(key, value); // max_tokens
    }
    body = body
        .raw("messages", &array([message]))
        .field("model", config.model.as_str());
    if let Some(system) = &request.system {
        body = body.field("system", system.as_str());
    }
    for (key, value) in sampling {
        body = body.field(key, value);
    }
    body.finish()
}

/// The key's and the API version's headers.
pub fn auth_headers(config: &ApiConfig) -> Vec<(String, String)> {
    vec![
        ("x-api-key".to_string(), config.api_key.clone()),
        ("anthropic-version".to_string(), API_VERSION.to_string()),
    ]
}

pub fn encode(config: &ApiConfig, request: &ChatRequest) -> HttpRequest {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(auth_headers(config));
    if config.browser_direct {
        headers.push((
            "anthropic-dangerous-direct-browser-access".to_string(),
            "true".to_string(),
        ));
    }
    HttpRequest {
        method: "POST",
        url: format!("{}/messages", config.base_url.trim_end_matches('/')),
        headers,
        body: body(config, request).into_bytes(),
    }
}

#[derive(Deserialize)]
struct Message {
    content: Vec<Block>,
    stop_reason: Option<String>,
    usage: Option<Value>,
    model: Option<String>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
}

pub fn decode(response: &HttpResponse) -> Result<ChatResponse, ProviderError> {
    if !(200..300).contains(&response.status) {
        return Err(status_error(response));
    }
    let message: Message = serde_json::from_slice(&response.body)
        .map_err(|e| decode_error(format!("not a Messages response: {e}"), &response.body))?;
    let text: String = message
        .content
        .iter()
        .filter(|b| b.kind == "text")
        .map(|b| b.text.as_str())
        .collect();
    let u = message.usage.as_ref();
    let refused = message.stop_reason.as_deref() == Some("refusal");
    Ok(ChatResponse {
        refusal: refused.then(|| {
            if text.is_empty() {
                "refusal".to_string()
            } else {
                text.clone()
            }
        }),
        text: (!refused).then_some(text),
        finish_reason: message.stop_reason,
        usage: usage(
            u.and_then(|u| u.get("input_tokens")),
            u.and_then(|u| u.get("output_tokens")),
        ),
        model: message.model,
        system_fingerprint: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::Usage;
    use crate::eval::protocol::{GenParams, verdict_schema};
    use serde_json::json;

    /// A target request: `text`, then an image.
    fn request(system: &str, text: &str, mime: &str, base64: &str) -> ChatRequest {
        ChatRequest {
            system: Some(system.into()),
            user: vec![
                Part::Text(text.into()),
                Part::Image {
                    mime: mime.into(),
                    base64: base64.into(),
                },
            ],
            params: GenParams::target_default(),
            schema: Some(verdict_schema()),
        }
    }

    #[test]
    fn encodes_system_content_blocks_and_browser_header() {
        let cfg = ApiConfig::anthropic("claude-x", "key", true);
        let req = request("sys", "hi", "image/jpeg", "AAAA");
        let http = encode(&cfg, &req);
        assert_eq!(http.url, "https://api.anthropic.com/v1/messages");
        for h in [
            ("x-api-key", "key"),
            ("anthropic-version", API_VERSION),
            ("anthropic-dangerous-direct-browser-access", "true"),
        ] {
            assert!(http.headers.contains(&(h.0.into(), h.1.into())), "{h:?}");
        }
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert_eq!(body["system"], "sys");
        assert_eq!(body["max_tokens"], 128);
        assert!(body.get("top_p").is_none() && body.get("response_format").is_none());
        let content = &body["messages"][0]["content"];
        assert_eq!(content[0], json!({"type": "text", "text": "hi"}));
        assert_eq!(
            content[1]["source"],
            json!({"type": "base64", "media_type": "image/jpeg", "data": "AAAA"})
        );
        assert!(
            String::from_utf8_lossy(&http.body).starts_with(
                r#"{"max_tokens":128,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},"#
            ),
            "the SDK's field order"
        );
        let no_browser = encode(&ApiConfig::anthropic("m", "k", false), &req);
        assert!(
            !no_browser
                .headers
                .iter()
                .any(|(k, _)| k.starts_with("anthropic-dangerous"))
        );
    }

    #[test]
    fn empty_text_blocks_are_left_out_and_the_judge_body_is_complete() {
        let cfg = ApiConfig::anthropic("claude-sonnet-4-5", "k", false);
        let system = "You are a helpful assistant.";
        let req = request(system, " \n", "image/png", "iVBORw0KGgo");
        let v: Value = serde_json::from_str(&body(&cfg, &req)).unwrap();
        assert_eq!(
            v,
            json!({
                "max_tokens": 128,
                "messages": [{"role": "user", "content": [{"type": "image", "source":
                    {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo"}}]}],
                "model": "claude-sonnet-4-5",
                "system": "You are a helpful assistant.",
                "temperature": 0.0,
            })
        );
        let mut no_temperature = req;
        no_temperature.params.temperature = None;
        assert_eq!(sampling(&no_temperature), [("max_tokens", json!(128))]);
    }

    #[test]
    fn decodes_text_usage_and_refusal_stops() {
        let ok = |body: &str| HttpResponse {
            status: 200,
            headers: vec![],
            body: body.into(),
        };
        let r = decode(&ok(
            r#"{"type":"message","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
            "stop_reason":"end_turn","usage":{"input_tokens":7,"output_tokens":3},
            "model":"claude-sonnet-4-5-20250929"}"#,
        ))
        .unwrap();
        assert_eq!(r.text.as_deref(), Some("ab"));
        assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        assert_eq!(
            r.usage,
            Some(Usage {
                prompt_tokens: 7,
                completion_tokens: 3
            })
        );
        let r = decode(&ok(r#"{"content":[],"stop_reason":"refusal"}"#)).unwrap();
        assert_eq!((r.text, r.refusal.as_deref()), (None, Some("refusal")));
        let overloaded = HttpResponse {
            status: 529,
            headers: vec![("retry-after".into(), "4".into())],
            body: br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                .to_vec(),
        };
        let e = decode(&overloaded).unwrap_err();
        assert!(e.retryable);
        assert_eq!(e.message, "Overloaded");
    }
}
