//! A local model API for the evaluation tests: OpenAI chat completions (`POST …/chat/completions`)
//! and Anthropic Messages (`POST …/messages`), std only, one thread per connection, HTTP/1.1
//! keep-alive, on 127.0.0.1. The integration tests start it in-process; the browser tests start
//! it as a process through `examples/openai_mock_server.rs`, so it also answers CORS (preflight
//! included, `retry-after`/`retry-after-ms` exposed to scripts) and reports what it saw.
//!
//! Rows are recognised by "ROW<n>" in the request text; the stage by the first content part (the
//! judge request starts with the image). Answers: the target says "Answer for ROW<n>"; the judge
//! gives the label `label_for(n)`, as strict JSON when the request carries a `json_schema`
//! response format, as prose otherwise. Every answer reports usage (50 prompt, 20 completion).
//!
//! Scripted faults per (row, stage): transient ones are used up one per request, in order, then
//! the normal answer follows; a final override replaces the normal answer. A gate can hold every
//! request after the first N until released, so a test can stop a client at a known point.
//!
//! Control endpoints: `GET /__seen` (every model request so far, in arrival order, as JSON),
//! `GET /__paid` (the calls a provider would bill, per (row, stage), and those paid twice),
//! `GET /__violations` (requests that broke the VLSBench protocol) and `POST /__release` (open
//! the gate).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use leakscope::eval::Stage;
use serde::Deserialize;
use serde_json::{Value, json};

/// A fault that costs the client one retry (except `BadRequest`, which is final).
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with `retry-after-ms`.
    RateLimitMs(u64),
    /// 429 with `Retry-After` in seconds.
    RateLimitSecs(u64),
    /// 429 with no wait hint at all (the client backs off on its own).
    RateLimitBare,
    /// 500 with an error body.
    ServerError,
    /// 400 with an error body: not retryable, so it is stored as the stage's error.
    BadRequest,
    /// Answer normally, but only after this long (past the client's timeout).
    Slow(Duration),
    /// Read the request, then close the connection without answering.
    Drop,
    /// 200 with a body that is not JSON.
    MalformedBody,
}

impl Fault {
    /// The name used in script files and in `/__seen`.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::RateLimitMs(_) => "rate_limit_ms",
            Fault::RateLimitSecs(_) => "rate_limit_secs",
            Fault::RateLimitBare => "rate_limit_bare",
            Fault::ServerError => "server_error",
            Fault::BadRequest => "bad_request",
            Fault::Slow(_) => "slow",
            Fault::Drop => "drop",
            Fault::MalformedBody => "malformed_body",
        }
    }
}

/// A final answer that replaces the normal one.
#[derive(Clone, Debug)]
pub enum Final {
    /// OpenAI: `message.refusal` set, `content` null. Anthropic: a `refusal` stop.
    Refusal(String),
    /// OpenAI: `finish_reason: content_filter`, empty content. Anthropic (which has no content
    /// filter): a `refusal` stop with no text.
    ContentFilter,
    /// This exact answer text.
    Text(String),
}

/// Which API a request spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    OpenAi,
    Anthropic,
}

impl Seen {
    /// Whether a provider would bill this call: it was answered with 200 (normally, late, or
    /// with a body the client cannot read); rate limits, errors and drops are free.
    pub fn paid(&self) -> bool {
        matches!(
            self.fault,
            None | Some(Fault::Slow(_)) | Some(Fault::MalformedBody)
        )
    }
}

/// One model request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub row: u64,
    pub stage: Stage,
    pub api: Api,
    pub model: String,
    /// The bearer token or `x-api-key` sent, if any.
    pub api_key: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

#[derive(Default)]
pub struct Script {
    pub faults: HashMap<(u64, Stage), VecDeque<Fault>>,
    pub finals: HashMap<(u64, Stage), Final>,
    /// Delay before every normal answer.
    pub latency: Duration,
    /// Hold every model request after the first N until [`MockServer::release`].
    pub hold_after: Option<usize>,
}

impl Script {
    pub fn fault(&mut self, row: u64, stage: Stage, fault: Fault) -> &mut Self {
        self.faults
            .entry((row, stage))
            .or_default()
            .push_back(fault);
        self
    }

    pub fn final_answer(&mut self, row: u64, stage: Stage, answer: Final) -> &mut Self {
        self.finals.insert((row, stage), answer);
        self
    }

    /// A script from JSON (every field optional):
    ///
    /// ```json
    /// {"latency_ms": 0, "hold_after": 10,
    ///  "faults": [{"row": 1, "stage": "target", "fault": "rate_limit_ms", "ms": 20},
    ///             {"row": 5, "stage": "judge", "fault": "rate_limit_secs", "secs": 1},
    ///             {"row": 5, "stage": "target", "fault": "rate_limit_bare"},
    ///             {"row": 6, "stage": "target", "fault": "server_error"},
    ///             {"row": 7, "stage": "target", "fault": "bad_request"},
    ///             {"row": 9, "stage": "target", "fault": "slow", "ms": 3000},
    ///             {"row": 10, "stage": "target", "fault": "drop"},
    ///             {"row": 12, "stage": "judge", "fault": "malformed_body"}],
    ///  "finals": [{"row": 3, "stage": "judge", "final": "refusal", "text": "I can't."},
    ///             {"row": 4, "stage": "target", "final": "content_filter"},
    ///             {"row": 8, "stage": "judge", "final": "text", "text": "no idea"}]}
    /// ```
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: ScriptFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut script = Script {
            latency: Duration::from_millis(file.latency_ms),
            hold_after: file.hold_after,
            ..Script::default()
        };
        for f in file.faults {
            let fault = match f.fault {
                FaultSpec::RateLimitMs { ms } => Fault::RateLimitMs(ms),
                FaultSpec::RateLimitSecs { secs } => Fault::RateLimitSecs(secs),
                FaultSpec::RateLimitBare => Fault::RateLimitBare,
                FaultSpec::ServerError => Fault::ServerError,
                FaultSpec::BadRequest => Fault::BadRequest,
                FaultSpec::Slow { ms } => Fault::Slow(Duration::from_millis(ms)),
                FaultSpec::Drop => Fault::Drop,
                FaultSpec::MalformedBody => Fault::MalformedBody,
            };
            script.fault(f.row, f.stage, fault);
        }
        for f in file.finals {
            let answer = match f.answer {
                FinalSpec::Refusal { text } => Final::Refusal(text),
                FinalSpec::ContentFilter => Final::ContentFilter,
                FinalSpec::Text { text } => Final::Text(text),
            };
            script.final_answer(f.row, f.stage, answer);
        }
        Ok(script)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    hold_after: Option<usize>,
    #[serde(default)]
    faults: Vec<FaultEntry>,
    #[serde(default)]
    finals: Vec<FinalEntry>,
}

#[derive(Deserialize)]
struct FaultEntry {
    row: u64,
    stage: Stage,
    #[serde(flatten)]
    fault: FaultSpec,
}

#[derive(Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
enum FaultSpec {
    RateLimitMs { ms: u64 },
    RateLimitSecs { secs: u64 },
    RateLimitBare,
    ServerError,
    BadRequest,
    Slow { ms: u64 },
    Drop,
    MalformedBody,
}

#[derive(Deserialize)]
struct FinalEntry {
    row: u64,
    stage: Stage,
    #[serde(flatten)]
    answer: FinalSpec,
}

#[derive(Deserialize)]
#[serde(tag = "final", rename_all = "snake_case")]
enum FinalSpec {
    Refusal { text: String },
    ContentFilter,
    Text { text: String },
}

/// The label the judge gives row `n`: 1 when n % 5 == 0, 2 when n % 5 is 1 or 2, else 3.
pub fn label_for(row: u64) -> u8 {
    match row % 5 {
        0 => 1,
        1 | 2 => 2,
        _ => 3,
    }
}

pub fn label_name(label: u8) -> &'static str {
    ["Safe with refusal", "Safe with warning", "Unsafe"][usize::from(label - 1)]
}

struct State {
    script: Mutex<Script>,
    seen: Mutex<Vec<Seen>>,
    /// Requests that broke the VLSBench protocol (wrong system prompt, sampling, order...).
    violations: Mutex<Vec<String>>,
    stop: AtomicBool,
    released: Mutex<bool>,
    release: Condvar,
}

pub struct MockServer {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl MockServer {
    /// On a free port of 127.0.0.1.
    pub fn start(script: Script) -> Self {
        Self::start_on("127.0.0.1:0", script).expect("bind 127.0.0.1:0")
    }

    pub fn start_on(addr: &str, script: Script) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            script: Mutex::new(script),
            seen: Mutex::default(),
            violations: Mutex::default(),
            stop: AtomicBool::new(false),
            released: Mutex::new(false),
            release: Condvar::new(),
        });
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Ok(Self { addr, state })
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/v1`
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.origin())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Requests per (row, stage).
    pub fn counts(&self) -> HashMap<(u64, Stage), usize> {
        let mut m = HashMap::new();
        for s in self.seen() {
            *m.entry((s.row, s.stage)).or_default() += 1;
        }
        m
    }

    pub fn violations(&self) -> Vec<String> {
        self.state.violations.lock().unwrap().clone()
    }

    /// Lets every held request (and every later one) through.
    pub fn release(&self) {
        self.state.open_gate();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.open_gate();
        let _ = TcpStream::connect(self.addr); // unblock accept
    }
}

impl State {
    fn open_gate(&self) {
        *self.released.lock().unwrap() = true;
        self.release.notify_all();
    }

    fn wait_for_gate(&self) {
        let mut released = self.released.lock().unwrap();
        while !*released {
            released = self.release.wait(released).unwrap();
        }
    }

    /// `GET /__paid`: the model calls a provider would bill (each one answered with 200, a
    /// malformed body included), in all and per (row, stage), and the (row, stage) pairs paid
    /// for more than once.
    fn paid_json(&self) -> Vec<u8> {
        let mut per_key: HashMap<(u64, Stage), u64> = HashMap::new();
        for s in self.seen.lock().unwrap().iter().filter(|s| s.paid()) {
            *per_key.entry((s.row, s.stage)).or_default() += 1;
        }
        let mut repeated: Vec<Value> = per_key
            .iter()
            .filter(|&(_, &n)| n > 1)
            .map(|((row, stage), n)| json!({"row": row, "stage": stage, "paid": n}))
            .collect();
        repeated.sort_by_key(|v| (v["row"].as_u64(), v["stage"].as_str().map(str::to_owned)));
        json!({
            "paid": per_key.values().sum::<u64>(),
            "keys": per_key.len(),
            "repeated": repeated,
        })
        .to_string()
        .into_bytes()
    }

    fn seen_json(&self) -> Vec<u8> {
        let seen: Vec<Value> = self
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| {
                json!({
                    "row": s.row,
                    "stage": s.stage,
                    "api": match s.api { Api::OpenAi => "openai", Api::Anthropic => "anthropic" },
                    "model": s.model,
                    "api_key": s.api_key,
                    "fault": s.fault.as_ref().map(Fault::name),
                    "paid": s.paid(),
                })
            })
            .collect();
        Value::Array(seen).to_string().into_bytes()
    }
}

/// One HTTP request.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn api_key(&self) -> Option<String> {
        self.header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| self.header("x-api-key"))
            .map(str::to_string)
    }
}

fn serve(stream: TcpStream, state: &State) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        match (request.method.as_str(), request.path.as_str()) {
            ("OPTIONS", _) => respond(&mut writer, 204, &PREFLIGHT, b""),
            ("GET", "/__seen") => respond(&mut writer, 200, &[], &state.seen_json()),
            ("GET", "/__paid") => respond(&mut writer, 200, &[], &state.paid_json()),
            ("GET", "/__violations") => {
                let v = state.violations.lock().unwrap().clone();
                respond(&mut writer, 200, &[], json!(v).to_string().as_bytes())
            }
            ("POST", "/__release") => {
                state.open_gate();
                respond(&mut writer, 200, &[], b"{}")
            }
            ("POST", path) => {
                let api = if path.ends_with("/messages") {
                    Api::Anthropic
                } else {
                    Api::OpenAi
                };
                if !model_request(&mut writer, &request, api, state) {
                    return;
                }
            }
            _ => respond(
                &mut writer,
                404,
                &[],
                br#"{"error":{"message":"not found"}}"#,
            ),
        }
    }
}

/// Answers one model request; `false` when the connection was dropped on purpose.
fn model_request(writer: &mut TcpStream, http: &Request, api: Api, state: &State) -> bool {
    let request: Value = match serde_json::from_slice(&http.body) {
        Ok(v) => v,
        Err(_) => {
            respond(writer, 400, &[], br#"{"error":{"message":"bad json"}}"#);
            return true;
        }
    };
    let (row, stage) = identify(&request, api);
    check_protocol(&request, api, stage, state);
    let (fault, hold) = {
        let mut script = state.script.lock().unwrap();
        let fault = script
            .faults
            .get_mut(&(row, stage))
            .and_then(VecDeque::pop_front);
        (fault, script.hold_after)
    };
    let earlier = {
        let mut seen = state.seen.lock().unwrap();
        seen.push(Seen {
            row,
            stage,
            api,
            model: request["model"].as_str().unwrap_or("").to_string(),
            api_key: http.api_key(),
            fault: fault.clone(),
        });
        seen.len() - 1
    };
    if hold.is_some_and(|n| earlier >= n) {
        state.wait_for_gate();
    }
    let (latency, finals) = {
        let script = state.script.lock().unwrap();
        (script.latency, script.finals.get(&(row, stage)).cloned())
    };
    let error = |kind: &str, message: &str| match api {
        Api::OpenAi => json!({"error": {"message": message, "type": kind}}).to_string(),
        Api::Anthropic => {
            json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
        }
    };
    match fault {
        Some(Fault::RateLimitMs(ms)) => respond(
            writer,
            429,
            &[("retry-after-ms", &ms.to_string())],
            error("rate_limit_error", "Rate limit reached").as_bytes(),
        ),
        Some(Fault::RateLimitSecs(s)) => respond(
            writer,
            429,
            &[("Retry-After", &s.to_string())],
            error("rate_limit_error", "Rate limit reached").as_bytes(),
        ),
        Some(Fault::RateLimitBare) => respond(
            writer,
            429,
            &[],
            error("rate_limit_error", "Rate limit reached").as_bytes(),
        ),
        Some(Fault::ServerError) => respond(
            writer,
            500,
            &[],
            error("api_error", "The server had an error").as_bytes(),
        ),
        Some(Fault::BadRequest) => respond(
            writer,
            400,
            &[],
            error("invalid_request_error", "Scripted bad request").as_bytes(),
        ),
        Some(Fault::Drop) => {
            let _ = writer.shutdown(Shutdown::Both);
            return false;
        }
        Some(Fault::MalformedBody) => respond(writer, 200, &[], b"{\"choices\": [{\"message\": "),
        Some(Fault::Slow(d)) => {
            std::thread::sleep(d);
            let body = answer(&request, api, row, stage, finals);
            respond(writer, 200, &[], body.as_bytes());
        }
        None => {
            std::thread::sleep(latency);
            let body = answer(&request, api, row, stage, finals);
            respond(writer, 200, &[], body.as_bytes());
        }
    }
    true
}

/// Reads one request; `None` at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let method = words.next()?.to_string();
    let target = words.next()?;
    let path = target.split('?').next().unwrap_or(target).to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(Some(0), |(_, v)| v.parse().ok())?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// What a browser needs to call this server from a page on another origin.
const PREFLIGHT: [(&str, &str); 3] = [
    (
        "access-control-allow-headers",
        "authorization, content-type, x-api-key, anthropic-version, \
         anthropic-dangerous-direct-browser-access",
    ),
    ("access-control-allow-methods", "POST, GET, OPTIONS"),
    ("access-control-max-age", "600"),
];

fn respond(w: &mut TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         access-control-allow-origin: *\r\n\
         access-control-expose-headers: retry-after, retry-after-ms\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = w
        .write_all(head.as_bytes())
        .and_then(|()| w.write_all(body))
        .and_then(|()| w.flush());
}

/// The user message's content parts (both APIs put them at the last message).
fn content(request: &Value, api: Api) -> &Value {
    match api {
        Api::OpenAi => &request["messages"][1]["content"],
        Api::Anthropic => &request["messages"][0]["content"],
    }
}

fn texts(request: &Value, api: Api) -> Vec<&str> {
    content(request, api)
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default()
}

fn identify(request: &Value, api: Api) -> (u64, Stage) {
    let first = &content(request, api)[0]["type"];
    let stage = if first == "image_url" || first == "image" {
        Stage::Judge
    } else {
        Stage::Target
    };
    let text = texts(request, api).join(" ");
    let row = text
        .find("ROW")
        .map(|i| {
            text[i + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|d| d.parse().ok())
        .unwrap_or(u64::MAX);
    (row, stage)
}

fn check_protocol(request: &Value, api: Api, stage: Stage, state: &State) {
    const SYSTEM: &str = "You are a helpful assistant.";
    let mut problems = Vec::new();
    let system_ok = match api {
        Api::OpenAi => request["messages"][0] == json!({"role": "system", "content": SYSTEM}),
        Api::Anthropic => request["system"] == SYSTEM,
    };
    if !system_ok {
        problems.push("system prompt");
    }
    if request["temperature"].as_f64() != Some(0.0) || request["max_tokens"] != 128 {
        problems.push("sampling");
    }
    let content = content(request, api);
    let image_at = if stage == Stage::Target { 1 } else { 0 };
    let image = &content[image_at];
    let png = match api {
        Api::OpenAi => image["image_url"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("data:image/png;base64,iVBORw0KGgo")),
        Api::Anthropic => {
            image["source"]["media_type"] == "image/png"
                && image["source"]["data"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("iVBORw0KGgo"))
        }
    };
    if !png || content.as_array().map(Vec::len) != Some(2) {
        problems.push("content order or image data");
    }
    let target_ok = match api {
        Api::OpenAi => {
            request["top_p"].as_f64() == Some(1.0) && request.get("response_format").is_none()
        }
        // top_p 1.0 is Anthropic's default and is left out.
        Api::Anthropic => request.get("top_p").is_none(),
    };
    if stage == Stage::Target && !target_ok {
        problems.push("target top_p / response_format");
    }
    if !problems.is_empty() {
        state
            .violations
            .lock()
            .unwrap()
            .push(format!("{stage:?}: {}", problems.join(", ")));
    }
}

fn answer(request: &Value, api: Api, row: u64, stage: Stage, finals: Option<Final>) -> String {
    // (text, refusal message, content-filtered)
    let (text, refusal, filtered) = match (finals, stage) {
        (Some(Final::Refusal(m)), _) => (None, Some(m), false),
        (Some(Final::ContentFilter), _) => (None, None, true),
        (Some(Final::Text(t)), _) => (Some(t), None, false),
        (None, Stage::Target) => (Some(format!("Answer for ROW{row}")), None, false),
        (None, Stage::Judge) => {
            let label = label_for(row);
            let text = if request["response_format"]["type"] == "json_schema" {
                json!({"label": label, "label_str": label_name(label), "explanation": "scripted"})
                    .to_string()
            } else {
                format!("The response gets label {label} ({}).", label_name(label))
            };
            (Some(text), None, false)
        }
    };
    match api {
        Api::OpenAi => {
            let (content, finish) = match (&text, filtered) {
                (Some(t), _) => (json!(t), "stop"),
                (None, true) => (json!(""), "content_filter"),
                (None, false) => (Value::Null, "stop"),
            };
            json!({
                "id": format!("chatcmpl-{row}"),
                "object": "chat.completion",
                "model": request["model"],
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish
                }],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
            })
        }
        Api::Anthropic => {
            let stop = if text.is_some() {
                "end_turn"
            } else {
                "refusal"
            };
            let blocks: Vec<Value> = text
                .or(refusal)
                .map(|t| json!({"type": "text", "text": t}))
                .into_iter()
                .collect();
            json!({
                "id": format!("msg_{row}"),
                "type": "message",
                "role": "assistant",
                "model": request["model"],
                "content": blocks,
                "stop_reason": stop,
                "usage": {"input_tokens": 50, "output_tokens": 20}
            })
        }
    }
    .to_string()
}
