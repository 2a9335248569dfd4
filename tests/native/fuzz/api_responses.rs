//! The OpenAI and Anthropic response decoders and error bodies (`eval::wire::decode`,
//! `status_error`), then what the engine does with an answer: the judge's verdict parser and the
//! cost meter. Bodies are chat completions and Messages responses with every field of every
//! type, error objects, HTML error pages, truncated JSON; statuses and `Retry-After` values of
//! every kind; usage figures up to 2^64 − 1.

use leakscope::eval::api::ApiConfig;
use leakscope::eval::cost::{Budget, CostMeter, Pricing};
use leakscope::eval::retry::{Jitter, RetryPolicy};
use leakscope::eval::verdict::parse_judge;
use leakscope::eval::wire::{decode, status_error};
use leakscope::platform::http::HttpResponse;
use serde_json::{Value, json};

use super::{Gen, parts, split_parts};

fn usage(g: &mut Gen<'_, '_>, anthropic: bool) -> Value {
    let (a, b) = if anthropic {
        ("input_tokens", "output_tokens")
    } else {
        ("prompt_tokens", "completion_tokens")
    };
    let mut n = || serde_json::from_str::<Value>(&g.number_json()).unwrap_or(json!(1));
    let (x, y) = (n(), n());
    json!({a: x, b: y})
}

fn verdict_text(g: &mut Gen<'_, '_>) -> String {
    match g.range(0, 5) {
        0 => json!({"label": g.range(0, 4), "label_str": "Safe", "explanation": g.text(20)})
            .to_string(),
        1 => format!(
            "```json\n{{\"label\": {}, \"label_str\": \"{}\"}}\n```",
            g.number_json(),
            g.text(6)
        ),
        2 => format!("label: {} {}", g.number_json(), g.text(30)),
        3 => g.json(3).to_string(),
        _ => g.text(80),
    }
}

fn openai_body(g: &mut Gen<'_, '_>) -> Value {
    let content = verdict_text(g);
    let message = json!({"role": "assistant", "content": g.field(json!(content)),
        "refusal": g.field(Value::Null)});
    let finish = *g.pick(&["stop", "length", "content_filter", "tool_calls", ""]);
    let choice =
        json!({"index": 0, "message": g.field(message), "finish_reason": g.field(json!(finish))});
    let choices = match g.range(0, 5) {
        0 => json!([]),
        1 => g.json(2),
        _ => json!([choice]),
    };
    let u = usage(g, false);
    json!({"id": "x", "object": "chat.completion", "choices": choices, "usage": g.field(u)})
}

fn anthropic_body(g: &mut Gen<'_, '_>) -> Value {
    let mut blocks = Vec::new();
    for _ in 0..g.below(4) {
        let kind = *g.pick(&["text", "thinking", "tool_use", ""]);
        let t = verdict_text(g);
        blocks.push(json!({"type": g.field(json!(kind)), "text": g.field(json!(t))}));
    }
    let stop = *g.pick(&["end_turn", "max_tokens", "refusal", "stop_sequence"]);
    let u = usage(g, true);
    json!({"type": "message", "content": g.field(Value::Array(blocks)),
        "stop_reason": g.field(json!(stop)), "usage": g.field(u)})
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let anthropic = g.chance(50);
    let status: u16 = *g.pick(&[
        200, 200, 200, 200, 201, 204, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503,
        529, 599, 600, 0, 999,
    ]);
    let body = match g.range(0, 5) {
        0 | 1 if anthropic => anthropic_body(g).to_string(),
        0 | 1 => openai_body(g).to_string(),
        2 => {
            let m = g.text(60);
            json!({"error": {"message": g.field(json!(m)), "type": "rate_limit_error"}}).to_string()
        }
        3 => format!("<html><body>{}</body></html>", g.text(200)),
        4 => {
            let mut b = openai_body(g).to_string().into_bytes();
            g.mutate(&mut b, 4);
            String::from_utf8_lossy(&b).into_owned()
        }
        _ => g.text(50),
    };
    let retry = match g.range(0, 4) {
        0 => String::new(),
        1 => g.number_json(),
        2 => "Wed, 21 Oct 2015 07:28:00 GMT".to_owned(),
        _ => g.range(0, 120).to_string(),
    };
    let retry_ms = if g.chance(30) {
        g.number_json()
    } else {
        String::new()
    };
    Ok(parts(&[
        &[u8::from(anthropic)],
        &status.to_le_bytes(),
        body.as_bytes(),
        retry.as_bytes(),
        retry_ms.as_bytes(),
    ]))
}

fn check(input: &[u8]) {
    let [kind, status, body, retry, retry_ms] = split_parts::<5>(input);
    let config = if kind.first() == Some(&1) {
        ApiConfig::anthropic("m", "k", false)
    } else {
        ApiConfig::openai("m", "k")
    };
    let status = status
        .first_chunk::<2>()
        .map_or(200, |b| u16::from_le_bytes(*b));
    let mut headers = Vec::new();
    for (name, value) in [("retry-after", retry), ("retry-after-ms", retry_ms)] {
        if !value.is_empty() {
            headers.push((name.to_owned(), String::from_utf8_lossy(value).into_owned()));
        }
    }
    let response = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };
    let _ = status_error(&response);
    match decode(&config, &response) {
        Ok(answer) => {
            let _ = parse_judge(&answer);
            let _ = answer.answer_text();
            let meter = CostMeter::new(Some(5.0));
            let pricing = Pricing::per_million(2.5, 10.0);
            for _ in 0..3 {
                if let Budget::Granted(r) = meter.reserve(0.01) {
                    meter.settle(r, &pricing, answer.usage, true);
                }
            }
            assert!(meter.spent() >= 0.0);
        }
        Err(e) => {
            assert!(!e.message.is_empty() || status == 0 || body.is_empty() || e.status.is_some());
            // However long a server asks to wait, the engine waits at most its cap.
            let policy = RetryPolicy::default();
            if let Some(wait) = policy.delay(&e, 1, &Jitter::new(1)) {
                assert!(wait <= policy.max_server_delay.max(policy.max_delay));
            }
        }
    }
}

fuzz_target!("api_responses", cases: 500, size_max: 16384, memory: 16 << 20);
