//! OpenAI chat completions (`POST {base}/chat/completions`), also spoken by most
//! OpenAI-compatible servers.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{decode_error, status_error};
use crate::eval::api::{ApiConfig, ChatResponse, ProviderError, Usage};
use crate::eval::protocol::{ChatRequest, Part};
use crate::platform::http::{HttpRequest, HttpResponse};

pub fn encode(config: &ApiConfig, request: &ChatRequest) -> HttpRequest {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    let content: Vec<Value> = request
        .user
        .iter()
        .map(|part| match part {
            Part::Text(text) => json!({"type": "text", "text": text}),
            Part::Image { mime, base64 } => json!({
                "type": "image_url",
                "image_url": {"url": format!("data:{mime};base64,{base64}")}
            }),
        })
        .collect();
    messages.push(json!({"role": "user", "content": content}));

    let mut body = Map::new();
    body.insert("model".into(), json!(config.model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("temperature".into(), json!(request.params.temperature));
    if let Some(top_p) = request.params.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    let max_key = if config.max_completion_tokens {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    body.insert(max_key.into(), json!(request.params.max_tokens));
    if let Some(schema) = request.schema.as_ref().filter(|_| config.json_schema) {
        body.insert(
            "response_format".into(),
            json!({
                "type": "json_schema",
                "json_schema": {"name": schema.name, "strict": true, "schema": schema.schema}
            }),
        );
    }

    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if !config.api_key.is_empty() {
        headers.push((
            "authorization".to_string(),
            format!("Bearer {}", config.api_key),
        ));
    }
    HttpRequest {
        method: "POST",
        url: format!("{}/chat/completions", config.base_url.trim_end_matches('/')),
        headers,
        body: Value::Object(body).to_string().into_bytes(),
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

pub fn decode(response: &HttpResponse) -> Result<ChatResponse, ProviderError> {
    if !(200..300).contains(&response.status) {
        return Err(status_error(response));
    }
    let completion: Completion = serde_json::from_slice(&response.body)
        .map_err(|e| decode_error(format!("not a chat completion: {e}"), &response.body))?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| decode_error("no choices", &response.body))?;
    let (text, refusal) = choice
        .message
        .map_or((None, None), |m| (m.content, m.refusal));
    Ok(ChatResponse {
        text,
        refusal,
        finish_reason: choice.finish_reason,
        usage: completion.usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::ErrorKind;
    use crate::eval::protocol::{GenParams, verdict_schema};

    fn request(schema: bool) -> ChatRequest {
        ChatRequest {
            system: Some("sys".into()),
            user: vec![
                Part::Text("hi".into()),
                Part::Image {
                    mime: "image/png".into(),
                    base64: "AAAA".into(),
                },
            ],
            params: GenParams::target_default(),
            schema: schema.then(verdict_schema),
        }
    }

    fn ok(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn encodes_messages_sampling_and_strict_schema() {
        let cfg = ApiConfig::openai_compatible("http://h:1/v1/", "m", "k", true);
        let http = encode(&cfg, &request(true));
        assert_eq!(http.url, "http://h:1/v1/chat/completions");
        assert!(
            http.headers
                .contains(&("authorization".into(), "Bearer k".into()))
        );
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "sys"})
        );
        assert_eq!(
            body["messages"][1]["content"][0],
            json!({"type": "text", "text": "hi"})
        );
        assert_eq!(
            body["messages"][1]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
        assert_eq!(
            (body["temperature"].as_f64(), body["top_p"].as_f64()),
            (Some(0.0), Some(1.0))
        );
        assert_eq!(body["max_tokens"], 128);
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(
            body["response_format"]["json_schema"]["name"],
            "VLSBENCHOUTPUT"
        );
    }

    #[test]
    fn schema_is_dropped_for_servers_without_support() {
        let mut cfg = ApiConfig::openai_compatible("http://h/v1", "m", "", false);
        cfg.max_completion_tokens = true;
        let http = encode(&cfg, &request(true));
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert!(body.get("response_format").is_none());
        assert_eq!(body["max_completion_tokens"], 128);
        assert!(!http.headers.iter().any(|(k, _)| k == "authorization"));
    }

    #[test]
    fn decodes_text_refusal_finish_reason_and_usage() {
        let r = decode(&ok(r#"{"choices":[{"message":{"role":"assistant","content":"yes","refusal":null},
            "finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}"#))
        .unwrap();
        assert_eq!(r.text.as_deref(), Some("yes"));
        assert_eq!(
            r.usage,
            Some(Usage {
                prompt_tokens: 10,
                completion_tokens: 2
            })
        );
        let r = decode(&ok(
            r#"{"choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":"stop"}]}"#,
        ))
        .unwrap();
        assert_eq!((r.text, r.refusal.as_deref()), (None, Some("no")));
        let r = decode(&ok(
            r#"{"choices":[{"message":{"content":""},"finish_reason":"content_filter"}]}"#,
        ))
        .unwrap();
        assert!(r.is_content_filtered());
    }

    #[test]
    fn malformed_bodies_are_retryable_decode_errors() {
        for body in ["{not json", r#"{"choices":[]}"#, "<html>bad gateway</html>"] {
            let e = decode(&ok(body)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Decode, "{body}");
            assert!(e.retryable);
        }
    }
}
