//! OpenAI chat completions (`POST {base}/chat/completions`), also spoken by most
//! OpenAI-compatible servers.
//!
//! The body is the official client's request field for field, in the order the OpenAI SDK
//! writes it (`messages`, `model`, then the sampling fields alphabetically): the target's from
//! `models/load_openai.py` (`client.chat.completions.create(model, messages, max_tokens=128,
//! top_p=1.0, temperature=0.0)`), the judge's from `eval_utils.py`
//! (`client.beta.chat.completions.parse(model, messages, response_format=VLSBENCHOUTPUT,
//! temperature=0.0, max_tokens=128)`, whose schema the SDK turns into
//! `{"type":"json_schema","json_schema":{"schema","name","strict":true}}`). Content parts are
//! `{"type":"text","text"}` and `{"type":"image_url","image_url":{"url":"data:…"}}`. Reasoning
//! models' fields come from the model's profile (`super::super::profiles`).

use serde::Deserialize;
use serde_json::Value;

use super::{Object, array, decode_error, status_error, temperature_top_p, text_part, usage};
use crate::eval::api::{ApiConfig, ChatResponse, ProviderError};
use crate::eval::protocol::{ChatRequest, Part};
use crate::platform::http::{HttpRequest, HttpResponse};

/// The sampling fields, in the SDK's (alphabetical) order.
pub fn sampling(request: &ChatRequest) -> Vec<(&'static str, Value)> {
    let p = &request.params;
    let mut out = vec![(p.token_field.name(), Value::from(p.max_tokens))];
    if let Some(effort) = &p.reasoning_effort {
        out.push(("reasoning_effort", Value::from(effort.as_str())));
    }
    out.extend(temperature_top_p(p, false));
    out
}

fn part(part: &Part) -> String {
    match part {
        Part::Text(text) => text_part(text),
        Part::Image { mime, base64 } => {
            let url = Object::new()
                .field("url", format!("data:{mime};base64,{base64}"))
                .finish();
            Object::new()
                .field("type", "image_url")
                .raw("image_url", &url)
                .finish()
        }
    }
}

/// The request body as text (what [`encode`] sends).
pub fn body(config: &ApiConfig, request: &ChatRequest) -> String {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        let m = Object::new()
            .field("role", "system")
            .field("content", system.as_str());
        messages.push(m.finish());
    }
    let content = array(request.user.iter().map(part));
    messages.push(
        Object::new()
            .field("role", "user")
            .raw("content", &content)
            .finish(),
    );

    let mut body = Object::new()
        .raw("messages", &array(messages))
        .field("model", config.model.as_str());
    let sampling = sampling(request);
    let (before, after): (Vec<_>, Vec<_>) = sampling
        .into_iter()
        .partition(|(k, _)| *k < "response_format");
    for (key, value) in before {
        body = body.field(key, value);
    }
    if let Some(schema) = request.schema.as_ref().filter(|_| config.json_schema) {
        let json_schema = Object::new()
            .raw("schema", schema.wire)
            .field("name", schema.name.as_str())
            .field("strict", true)
            .finish();
        let format = Object::new()
            .field("type", "json_schema")
            .raw("json_schema", &json_schema)
            .finish();
        body = body.raw("response_format", &format);
    }
    for (key, value) in after {
        body = body.field(key, value);
    }
    body.finish()
}

/// The key's header, when there is a key (local servers may take none).
pub fn auth_headers(config: &ApiConfig) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if !config.api_key.is_empty() {
        headers.push((
            "authorization".to_string(),
            format!("Bearer {}", config.api_key),
        ));
    }
    headers
}

pub fn encode(config: &ApiConfig, request: &ChatRequest) -> HttpRequest {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(auth_headers(config));
    HttpRequest {
        method: "POST",
        url: format!("{}/chat/completions", config.base_url.trim_end_matches('/')),
        headers,
        body: body(config, request).into_bytes(),
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    /// Read field by field ([`usage`]): some servers leave a count out.
    usage: Option<Value>,
    model: Option<String>,
    system_fingerprint: Option<String>,
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
    let u = completion.usage.as_ref();
    Ok(ChatResponse {
        text,
        refusal,
        finish_reason: choice.finish_reason,
        usage: usage(
            u.and_then(|u| u.get("prompt_tokens")),
            u.and_then(|u| u.get("completion_tokens")),
        ),
        model: completion.model,
        system_fingerprint: completion.system_fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::{ErrorKind, Usage};
    use crate::eval::protocol::{GenParams, TokenField, verdict_schema};
    use serde_json::json;

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

    /// Field for field what the official client sends (see the module note), with its key
    /// order; the schema's properties in declaration order.
    #[test]
    fn target_and_judge_bodies_are_the_official_requests() {
        let cfg = ApiConfig::openai("gpt-4o", "k");
        let image = Part::Image {
            mime: "image/png".into(),
            base64: "iVBORw0KGgo".into(),
        };
        let target = ChatRequest {
            system: Some("You are a helpful assistant.".into()),
            user: vec![Part::Text("How?".into()), image.clone()],
            params: GenParams::target_default(),
            schema: None,
        };
        let url = json!({"url": "data:image/png;base64,iVBORw0KGgo"});
        let text = body(&cfg, &target);
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": [
                        {"type": "text", "text": "How?"},
                        {"type": "image_url", "image_url": url},
                    ]},
                ],
                "model": "gpt-4o",
                "max_tokens": 128,
                "temperature": 0.0,
                "top_p": 1.0,
            })
        );
        assert!(text.starts_with(r#"{"messages":[{"role":"system","content":"#));
        assert!(
            text.ends_with(r#""model":"gpt-4o","max_tokens":128,"temperature":0.0,"top_p":1.0}"#)
        );

        let judge = ChatRequest {
            user: vec![image, Part::Text("filled template".into())],
            params: GenParams::judge_default(),
            schema: Some(verdict_schema()),
            ..target
        };
        let body = body(&cfg, &judge);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["messages"][1]["content"][0]["type"], "image_url");
        assert_eq!(v["messages"][1]["content"][1]["text"], "filled template");
        let schema: Value = serde_json::from_str(verdict_schema().wire).unwrap();
        let format = json!({"type": "json_schema",
            "json_schema": {"schema": schema, "name": "VLSBENCHOUTPUT", "strict": true}});
        assert_eq!(v["response_format"], format);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "max_tokens",
                "messages",
                "model",
                "response_format",
                "temperature"
            ],
            "nothing else is sent (serde_json lists keys sorted)"
        );
        assert!(body.contains(&format!(
            r#""max_tokens":128,"response_format":{{"type":"json_schema","json_schema":{{"schema":{},"name":"VLSBENCHOUTPUT","strict":true}}}},"temperature":0.0}}"#,
            verdict_schema().wire
        )));
        let order =
            ["\"label\":{", "\"label_str\":{", "\"explanation\":{"].map(|k| body.find(k).unwrap());
        assert!(order[0] < order[1] && order[1] < order[2], "{order:?}");
    }

    #[test]
    fn reasoning_models_get_their_own_fields() {
        let mut r = request(false);
        r.params.token_field = TokenField::MaxCompletionTokens;
        r.params.max_tokens = 4096;
        r.params.temperature = None;
        r.params.top_p = None;
        r.params.reasoning_effort = Some("low".into());
        let body = body(&ApiConfig::openai("o4-mini", "k"), &r);
        assert!(
            body.ends_with(
                r#""model":"o4-mini","max_completion_tokens":4096,"reasoning_effort":"low"}"#
            ),
            "{body}"
        );
        assert_eq!(
            sampling(&r),
            [
                ("max_completion_tokens", json!(4096)),
                ("reasoning_effort", json!("low"))
            ]
        );
    }

    #[test]
    fn schema_is_dropped_for_servers_without_support() {
        let cfg = ApiConfig::openai_compatible("http://h/v1", "m", "", false);
        let mut r = request(true);
        r.params.token_field = TokenField::MaxCompletionTokens;
        let http = encode(&cfg, &r);
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert!(body.get("response_format").is_none());
        assert_eq!(body["max_completion_tokens"], 128);
        assert!(!http.headers.iter().any(|(k, _)| k == "authorization"));
    }

    #[test]
    fn decodes_text_refusal_finish_reason_usage_and_the_snapshot() {
        let r = decode(&ok(r#"{"choices":[{"message":{"role":"assistant","content":"yes","refusal":null},
            "finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12},
            "model":"gpt-4o-2024-08-06","system_fingerprint":"fp_50cad350e4"}"#))
        .unwrap();
        assert_eq!(r.text.as_deref(), Some("yes"));
        assert_eq!(r.model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(r.system_fingerprint.as_deref(), Some("fp_50cad350e4"));
        // A server that leaves a count out: usage unknown, the answer still read.
        let partial = decode(&ok(
            r#"{"choices":[{"message":{"content":"a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10}}"#,
        ))
        .unwrap();
        assert_eq!((partial.text.as_deref(), partial.usage), (Some("a"), None));
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
