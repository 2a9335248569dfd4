//! Anthropic Messages (`POST {base}/messages`). No structured-output schema is sent: the judge's
//! answer is read leniently. A `refusal` stop reason becomes [`ChatResponse::refusal`].

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{decode_error, status_error};
use crate::eval::api::{ApiConfig, ChatResponse, ProviderError, Usage};
use crate::eval::protocol::{ChatRequest, Part};
use crate::platform::http::{HttpRequest, HttpResponse};

pub const API_VERSION: &str = "2023-06-01";

pub fn encode(config: &ApiConfig, request: &ChatRequest) -> HttpRequest {
    let content: Vec<Value> = request
        .user
        .iter()
        .map(|part| match part {
            Part::Text(text) => json!({"type": "text", "text": text}),
            Part::Image { mime, base64 } => json!({
                "type": "image",
                "source": {"type": "base64", "media_type": mime, "data": &**base64}
            }),
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(config.model));
    body.insert("max_tokens".into(), json!(request.params.max_tokens));
    if let Some(system) = &request.system {
        body.insert("system".into(), json!(system));
    }
    body.insert(
        "messages".into(),
        json!([{"role": "user", "content": content}]),
    );
    body.insert("temperature".into(), json!(request.params.temperature));
    // Newer models reject temperature and top_p together; 1.0 is the default anyway.
    if let Some(top_p) = request.params.top_p.filter(|p| *p != 1.0) {
        body.insert("top_p".into(), json!(top_p));
    }

    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-api-key".to_string(), config.api_key.clone()),
        ("anthropic-version".to_string(), API_VERSION.to_string()),
    ];
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
        body: Value::Object(body).to_string().into_bytes(),
    }
}

#[derive(Deserialize)]
struct Message {
    content: Vec<Block>,
    stop_reason: Option<String>,
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct AnthropicUsage {
    input_tokens: u64,
    output_tokens: u64,
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
    let usage = message.usage.map(|u| Usage {
        prompt_tokens: u.input_tokens,
        completion_tokens: u.output_tokens,
    });
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
        usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::protocol::{GenParams, verdict_schema};

    #[test]
    fn encodes_system_content_blocks_and_browser_header() {
        let cfg = ApiConfig::anthropic("claude-x", "key", true);
        let req = ChatRequest {
            system: Some("sys".into()),
            user: vec![
                Part::Text("hi".into()),
                Part::Image {
                    mime: "image/jpeg".into(),
                    base64: "AAAA".into(),
                },
            ],
            params: GenParams::target_default(),
            schema: Some(verdict_schema()),
        };
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
        let no_browser = encode(&ApiConfig::anthropic("m", "k", false), &req);
        assert!(
            !no_browser
                .headers
                .iter()
                .any(|(k, _)| k.starts_with("anthropic-dangerous"))
        );
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
            "stop_reason":"end_turn","usage":{"input_tokens":7,"output_tokens":3}}"#,
        ))
        .unwrap();
        assert_eq!(r.text.as_deref(), Some("ab"));
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
