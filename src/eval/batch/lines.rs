//! One request as a line of a batch, and one result line back: the bodies are the live
//! engine's ([`wire::openai::body`], [`wire::anthropic::body`], the official client's
//! requests field for field), the answers are read by the live engine's decoders
//! ([`wire::openai::decode`], [`wire::anthropic::decode`], [`wire::status_error`]). Nothing here
//! encodes a request a second way.
//!
//! * OpenAI: the input file is JSONL, one `{"custom_id","method":"POST","url":
//!   "/v1/chat/completions","body":…}` per line; output and error files hold
//!   `{"id","custom_id","response":{"status_code","request_id","body"},"error"}` lines, an
//!   error line having `response` with a non-2xx status or `error` with a `code` and `message`
//!   (`batch_expired` for a request an expired batch never ran).
//! * Anthropic: the batch is one JSON body `{"requests":[{"custom_id","params":…},…]}`; results
//!   are JSONL `{"custom_id","result":{"type":…}}` with `succeeded` (and the `message`),
//!   `errored` (and the API's error object), `canceled` or `expired`.

use serde::Deserialize;
use serde_json::Value;

use crate::eval::api::{ApiConfig, ApiKind, ChatResponse, ErrorKind, ProviderError};
use crate::eval::protocol::ChatRequest;
use crate::eval::wire::{self, Object};
use crate::platform::http::HttpResponse;

/// The endpoint every line of an OpenAI batch names.
pub const OPENAI_ENDPOINT: &str = "/v1/chat/completions";

/// `request` as one line of a batch for `config`'s API (no line break).
pub fn request_line(config: &ApiConfig, custom_id: &str, request: &ChatRequest) -> String {
    match config.kind {
        ApiKind::OpenAiChat => Object::new()
            .field("custom_id", custom_id)
            .field("method", "POST")
            .field("url", OPENAI_ENDPOINT)
            .raw("body", &wire::openai::body(config, request))
            .finish(),
        ApiKind::AnthropicMessages => Object::new()
            .field("custom_id", custom_id)
            .raw("params", &wire::anthropic::body(config, request))
            .finish(),
    }
}

/// How request lines are put together into what is uploaded: OpenAI's JSONL file, or
/// Anthropic's `{"requests":[…]}` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing(pub ApiKind);

impl Framing {
    /// Before the first line.
    pub fn head(self) -> &'static str {
        match self.0 {
            ApiKind::OpenAiChat => "",
            ApiKind::AnthropicMessages => r#"{"requests":["#,
        }
    }

    /// Before a line that is not the first.
    pub fn between(self) -> &'static str {
        match self.0 {
            ApiKind::OpenAiChat => "",
            ApiKind::AnthropicMessages => ",",
        }
    }

    /// After every line.
    pub fn after(self) -> &'static str {
        match self.0 {
            ApiKind::OpenAiChat => "\n",
            ApiKind::AnthropicMessages => "",
        }
    }

    /// After the last line.
    pub fn tail(self) -> &'static str {
        match self.0 {
            ApiKind::OpenAiChat => "",
            ApiKind::AnthropicMessages => "]}",
        }
    }

    /// The bytes a line of `len` bytes adds to a file that already holds `count` lines.
    pub fn cost(self, count: usize, len: u64) -> u64 {
        let sep = if count == 0 { 0 } else { self.between().len() };
        len + (sep + self.after().len()) as u64
    }

    /// The bytes of a file with no line yet.
    pub fn empty(self) -> u64 {
        (self.head().len() + self.tail().len()) as u64
    }
}

/// One line of a batch's results.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultLine {
    pub custom_id: String,
    /// The answer, or why there is none.
    pub result: Result<ChatResponse, ProviderError>,
}

#[derive(Deserialize)]
struct OpenAiLine {
    custom_id: String,
    response: Option<OpenAiResponse>,
    error: Option<LineError>,
}

#[derive(Deserialize)]
struct OpenAiResponse {
    status_code: u16,
    body: Value,
}

#[derive(Deserialize)]
struct LineError {
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct AnthropicLine {
    custom_id: String,
    result: AnthropicResult,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicResult {
    Succeeded { message: Value },
    Errored { error: Value },
    Canceled,
    Expired,
}

/// A request that the batch never ran: retryable, and nothing was charged for it.
pub fn not_run(message: impl Into<String>, code: Option<&str>) -> ProviderError {
    let mut e = ProviderError::new(ErrorKind::Batch, message);
    e.retryable = true;
    e.code = code.map(str::to_owned);
    e
}

/// The HTTP status Anthropic gives each error type (its errors reference), so an errored line
/// is classified as the live call's answer would be.
fn anthropic_status(error_type: &str) -> u16 {
    match error_type {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "overloaded_error" => 529,
        _ => 500,
    }
}

/// A JSON body as the HTTP answer the live decoders read.
fn as_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
    }
}

/// One result line of `kind`'s API; `Err` when the line is not a result line at all.
pub fn decode_result(kind: ApiKind, line: &[u8]) -> Result<ResultLine, String> {
    match kind {
        ApiKind::OpenAiChat => {
            let l: OpenAiLine = serde_json::from_slice(line).map_err(|e| e.to_string())?;
            let result = match (l.response, l.error) {
                (Some(r), _) => wire::openai::decode(&as_response(r.status_code, &r.body)),
                (None, Some(e)) => {
                    let code = e.code.unwrap_or_else(|| "error".to_owned());
                    let message = e.message.unwrap_or_default();
                    Err(not_run(format!("{code}: {message}"), Some(&code)))
                }
                (None, None) => return Err("neither a response nor an error".to_owned()),
            };
            Ok(ResultLine {
                custom_id: l.custom_id,
                result,
            })
        }
        ApiKind::AnthropicMessages => {
            let l: AnthropicLine = serde_json::from_slice(line).map_err(|e| e.to_string())?;
            let result = match l.result {
                AnthropicResult::Succeeded { message } => {
                    wire::anthropic::decode(&as_response(200, &message))
                }
                AnthropicResult::Errored { error } => {
                    let kind = error
                        .pointer("/error/type")
                        .and_then(Value::as_str)
                        .unwrap_or("api_error");
                    Err(wire::status_error(&as_response(
                        anthropic_status(kind),
                        &error,
                    )))
                }
                AnthropicResult::Canceled => Err(not_run(
                    "canceled: the batch was canceled before this request ran",
                    Some("canceled"),
                )),
                AnthropicResult::Expired => Err(not_run(
                    "expired: the batch reached its 24-hour limit before this request ran",
                    Some("expired"),
                )),
            };
            Ok(ResultLine {
                custom_id: l.custom_id,
                result,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::protocol::{GenParams, Part, verdict_schema};

    fn request() -> ChatRequest {
        ChatRequest {
            system: Some("You are a helpful assistant.".into()),
            user: vec![
                Part::Image {
                    mime: "image/png".into(),
                    base64: "iVBORw0KGgo".into(),
                },
                Part::Text("judge this".into()),
            ],
            params: GenParams::judge_default(),
            schema: Some(verdict_schema()),
        }
    }

    /// The body inside a line is byte for byte what the live engine sends.
    #[test]
    fn lines_carry_the_live_request_bodies() {
        let openai = ApiConfig::openai("gpt-4o", "k");
        let line = request_line(&openai, "j7-abcd0123", &request());
        let live = wire::encode(&openai, &request()).body;
        let expected = format!(
            r#"{{"custom_id":"j7-abcd0123","method":"POST","url":"/v1/chat/completions","body":{}}}"#,
            String::from_utf8(live).unwrap()
        );
        assert_eq!(line, expected);
        let anthropic = ApiConfig::anthropic("claude-sonnet-4-5", "k", false);
        let line = request_line(&anthropic, "j7-abcd0123", &request());
        let live = String::from_utf8(wire::encode(&anthropic, &request()).body).unwrap();
        assert_eq!(
            line,
            format!(r#"{{"custom_id":"j7-abcd0123","params":{live}}}"#)
        );
    }

    #[test]
    fn framing_makes_jsonl_and_one_json_body_and_counts_its_bytes() {
        for kind in [ApiKind::OpenAiChat, ApiKind::AnthropicMessages] {
            let f = Framing(kind);
            let lines = [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#];
            let mut text = f.head().to_owned();
            let mut bytes = f.empty();
            for (i, l) in lines.iter().enumerate() {
                bytes += f.cost(i, l.len() as u64);
                if i > 0 {
                    text.push_str(f.between());
                }
                text.push_str(l);
                text.push_str(f.after());
            }
            text.push_str(f.tail());
            assert_eq!(text.len() as u64, bytes, "{kind:?}");
            match kind {
                ApiKind::OpenAiChat => assert_eq!(text.lines().count(), 3),
                ApiKind::AnthropicMessages => {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["requests"].as_array().unwrap().len(), 3);
                }
            }
        }
    }

    #[test]
    fn openai_result_and_error_lines_decode_as_live_answers_or_retryable_errors() {
        let ok = br#"{"id":"batch_req_1","custom_id":"t3-x","response":{"status_code":200,"request_id":"r","body":{"choices":[{"message":{"content":"Answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2},"model":"gpt-4o-2024-08-06"}},"error":null}"#;
        let r = decode_result(ApiKind::OpenAiChat, ok).unwrap();
        assert_eq!(r.custom_id, "t3-x");
        let answer = r.result.unwrap();
        assert_eq!(answer.text.as_deref(), Some("Answer"));
        assert_eq!(answer.model.as_deref(), Some("gpt-4o-2024-08-06"));

        let bad = br#"{"id":"batch_req_2","custom_id":"t4-x","response":{"status_code":400,"request_id":"r","body":{"error":{"message":"Invalid image","type":"invalid_request_error","param":null,"code":"invalid_image"}}},"error":null}"#;
        let e = decode_result(ApiKind::OpenAiChat, bad)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_deref()),
            (Some(400), Some("invalid_image"))
        );

        let expired = br#"{"id":"batch_req_3","custom_id":"t5-x","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}"#;
        let e = decode_result(ApiKind::OpenAiChat, expired)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!(
            (e.kind, e.retryable, e.code.as_deref()),
            (ErrorKind::Batch, true, Some("batch_expired"))
        );
        assert!(decode_result(ApiKind::OpenAiChat, b"{\"custom_id\":\"x\"}").is_err());
        assert!(decode_result(ApiKind::OpenAiChat, b"not json").is_err());
    }

    #[test]
    fn anthropic_results_decode_every_type() {
        let ok = br#"{"custom_id":"j1-x","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","content":[{"type":"text","text":"label 3"}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":4},"model":"claude-sonnet-4-5-20250929"}}}"#;
        let r = decode_result(ApiKind::AnthropicMessages, ok).unwrap();
        assert_eq!(r.result.unwrap().text.as_deref(), Some("label 3"));
        let errored = br#"{"custom_id":"j2-x","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"messages: text content blocks must be non-empty"}}}}"#;
        let e = decode_result(ApiKind::AnthropicMessages, errored)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!(e.status, Some(400));
        assert_eq!(e.error_type.as_deref(), Some("invalid_request_error"));
        assert!(e.message.contains("non-empty"));
        for (kind, code) in [("canceled", "canceled"), ("expired", "expired")] {
            let line = format!(r#"{{"custom_id":"t9-x","result":{{"type":"{kind}"}}}}"#);
            let e = decode_result(ApiKind::AnthropicMessages, line.as_bytes())
                .unwrap()
                .result
                .unwrap_err();
            assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::Batch, Some(code)));
        }
    }
}
