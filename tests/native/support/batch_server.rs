//! The mock API's batch and file endpoints (a child module of `openai_server.rs`, whose
//! answers, faults, strict checks and protocol checks every batched request goes through, so a
//! batched request gets the answer a live one would):
//!
//! * OpenAI: `POST /v1/files` (multipart, `purpose=batch`), `GET /v1/files`, `GET
//!   /v1/files/{id}/content`, `POST /v1/batches` (validates the file as the real API does:
//!   JSON lines, unique `custom_id`s, `method` POST, `url` equal to the endpoint, one model,
//!   at most 50,000 lines and 200 MB; metadata at most 16 pairs of 64 / 512 characters; a file
//!   that fails is a batch with status `failed` and `errors`), `GET /v1/batches/{id}`, `GET
//!   /v1/batches?limit=&after=` (newest first), `POST /v1/batches/{id}/cancel`.
//! * Anthropic: `POST /v1/messages/batches` (custom ids `^[a-zA-Z0-9_-]{1,64}$`, unique, at most
//!   100,000 requests and 256 MB, else 400), `GET /v1/messages/batches/{id}`, `GET
//!   /v1/messages/batches?limit=&after_id=` (newest first), `GET
//!   /v1/messages/batches/{id}/results`, `POST /v1/messages/batches/{id}/cancel`.
//!
//! A batch ends after `batch_polls` reads of its state (0: at the first read), or at once on
//! `POST /__complete_batches`. Ending runs every line through the live answer (scripted
//! `bad_request` / `server_error` faults become errored lines); result files list the lines out
//! of order (sorted by a hash of the `custom_id`). The batches whose creation index (0-based,
//! both APIs counted together) is in `batch_expire` expire instead: the first half of their
//! lines run, the rest come back as `batch_expired` (OpenAI) or `expired` (Anthropic); those in
//! `batch_fail` (OpenAI) fail validation.
//! Executed lines are recorded in `/__seen` like live requests (with their batch), so a test
//! counts the requests that were paid for.
//!
//! A test can hold one batch call ([`Op`]) after it did its work and before it answers (the
//! content download after half the file), to kill the client at a known point.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use leakscope::eval::Stage;
use serde_json::{Value, json};

use super::{Api, Fault, Request, Seen, State, answer, check_protocol, error_body, identify};
use super::{key_refusal, respond, scripted};

/// A batch call a test can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `POST /v1/files`: held after the file is stored.
    Upload,
    /// `POST /v1/batches` or `/v1/messages/batches`: held after the batch is created.
    Create,
    /// A results download: held after half of the body went out.
    Results,
}

#[derive(Default)]
pub(super) struct Gate {
    armed: Option<(Op, usize)>,
    held: bool,
    released: bool,
}

struct File {
    id: String,
    filename: String,
    purpose: String,
    bytes: Vec<u8>,
    created_at: u64,
}

struct Batch {
    id: String,
    api: Api,
    index: usize,
    created_at: u64,
    /// The request lines as sent (OpenAI: the file's lines; Anthropic: each request).
    lines: Vec<String>,
    /// The create request's headers (its key answers for every line).
    headers: Vec<(String, String)>,
    reads: u32,
    status: &'static str,
    input_file_id: Option<String>,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
    metadata: Value,
    errors: Vec<Value>,
    /// Anthropic: the results, once ended.
    results: Vec<String>,
    counts: [u64; 4],
    cancel_initiated: bool,
}

#[derive(Default)]
pub(super) struct Batches {
    files: Vec<File>,
    batches: Vec<Batch>,
    calls: HashMap<Op, usize>,
    next_id: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A deterministic shuffle key: results come back in no particular order.
fn scramble(id: &str) -> String {
    leakscope::util::hash::short_hash(id.as_bytes())
}

fn query<'q>(request: &'q Request, key: &str) -> Option<&'q str> {
    request
        .query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn json_response(w: &mut TcpStream, status: u16, value: &Value) {
    respond(w, status, &[], value.to_string().as_bytes());
}

fn not_found(w: &mut TcpStream, api: Api, what: &str) {
    let kind = match api {
        Api::OpenAi => "invalid_request_error",
        Api::Anthropic => "not_found_error",
    };
    json_response(
        w,
        404,
        &serde_json::from_str(&error_body(
            api,
            kind,
            None,
            None,
            &format!("No such {what}"),
        ))
        .unwrap_or(Value::Null),
    );
}

impl State {
    /// Counts a call of `op`; holds it when a test armed the gate for this one.
    fn batch_call(&self, op: Op) {
        let n = {
            let mut b = self.batches.lock().unwrap();
            let n = b.calls.entry(op).or_default();
            *n += 1;
            *n
        };
        let mut gate = self.batch_gate.lock().unwrap();
        if gate.armed == Some((op, n)) {
            gate.held = true;
            self.batch_release.notify_all();
            while !gate.released {
                gate = self.batch_release.wait(gate).unwrap();
            }
        }
    }

    /// Arms the gate: the `nth` call of `op` from now is held.
    pub fn hold_batch(&self, op: Op, nth: usize) {
        let done = *self.batches.lock().unwrap().calls.get(&op).unwrap_or(&0);
        *self.batch_gate.lock().unwrap() = Gate {
            armed: Some((op, done + nth)),
            held: false,
            released: false,
        };
    }

    pub fn batch_held(&self) -> bool {
        self.batch_gate.lock().unwrap().held
    }

    pub fn release_batch(&self) {
        let mut gate = self.batch_gate.lock().unwrap();
        gate.released = true;
        gate.armed = None;
        self.batch_release.notify_all();
    }

    /// Ends every running batch now.
    pub fn complete_batches(&self) {
        let mut b = self.batches.lock().unwrap();
        let running: Vec<usize> = (0..b.batches.len())
            .filter(|&i| !ended(b.batches[i].status))
            .collect();
        for i in running {
            self.end_batch(&mut b, i);
        }
    }

    /// Runs one request line; returns (status, answer or error body, row, stage).
    fn execute(&self, api: Api, batch: &Batch, raw: &str, body: &Value) -> (u16, Value) {
        let path = match api {
            Api::OpenAi => "/v1/chat/completions",
            Api::Anthropic => "/v1/messages",
        };
        let http = Request {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: batch.headers.clone(),
            body: Vec::new(),
        };
        let (row, stage) = identify(body, api);
        let (refused, fault, finals) = scripted(
            &mut self.script.lock().unwrap(),
            &http,
            body,
            api,
            (row, stage),
        );
        if refused.is_none() {
            check_protocol(body, raw, api, stage, self);
        }
        let error = |status: u16, kind: &str, message: &str| {
            let text = error_body(api, kind, None, None, message);
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        };
        let (status, value) = match (&refused, &fault) {
            (Some((status, text)), _) => {
                (*status, serde_json::from_str(text).unwrap_or(Value::Null))
            }
            (_, Some(Fault::BadRequest)) => {
                error(400, "invalid_request_error", "Scripted bad request")
            }
            (_, Some(Fault::ServerError)) => error(500, "api_error", "The server had an error"),
            _ => {
                let text = answer(body, raw, api, row, stage, finals);
                (200, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
        };
        self.seen.lock().unwrap().push(Seen {
            row,
            stage,
            api,
            model: body["model"].as_str().unwrap_or("").to_string(),
            api_key: http.api_key(),
            fault,
            body: raw.to_owned(),
            status,
            batch: Some(batch.id.clone()),
        });
        (status, value)
    }

    /// Ends batch `i`: runs its lines (half of them when it is scripted to expire) and writes
    /// its results.
    fn end_batch(&self, b: &mut Batches, i: usize) {
        let expire = self
            .script
            .lock()
            .unwrap()
            .batch_expire
            .contains(&b.batches[i].index);
        let batch = &b.batches[i];
        let api = batch.api;
        let run = if expire {
            batch.lines.len() / 2
        } else {
            batch.lines.len()
        };
        let mut done: Vec<(String, String, bool)> = Vec::new(); // (sort key, line, ok)
        let mut counts = [0u64; 4]; // succeeded, errored, expired, cancelled
        for (n, raw) in batch.lines.iter().enumerate() {
            let Ok(line) = serde_json::from_str::<Value>(raw) else {
                continue;
            };
            let id = line["custom_id"].as_str().unwrap_or("").to_owned();
            let body = match api {
                Api::OpenAi => &line["body"],
                Api::Anthropic => &line["params"],
            };
            let out = if n >= run {
                counts[2] += 1;
                match api {
                    Api::OpenAi => json!({"id": format!("batch_req_{n}"), "custom_id": id,
                        "response": null, "error": {"code": "batch_expired",
                        "message": "This request could not be executed before the completion window expired."}}),
                    Api::Anthropic => json!({"custom_id": id, "result": {"type": "expired"}}),
                }
            } else {
                let (status, value) = self.execute(api, batch, raw, body);
                counts[usize::from(status != 200)] += 1;
                match (api, status) {
                    (Api::OpenAi, _) => json!({"id": format!("batch_req_{n}"), "custom_id": id,
                        "response": {"status_code": status, "request_id": format!("req_{n}"),
                        "body": value}, "error": null}),
                    (Api::Anthropic, 200) => {
                        json!({"custom_id": id, "result": {"type": "succeeded", "message": value}})
                    }
                    (Api::Anthropic, _) => {
                        json!({"custom_id": id, "result": {"type": "errored", "error": value}})
                    }
                }
            };
            let ok = out["response"]["status_code"] == 200;
            done.push((scramble(&id), out.to_string(), ok));
        }
        done.sort();
        let status = if expire { "expired" } else { "completed" };
        let created = now();
        let file = |b: &mut Batches, lines: Vec<String>| -> Option<String> {
            if lines.is_empty() {
                return None;
            }
            b.next_id += 1;
            let id = format!("file-out{}", b.next_id);
            let bytes = lines
                .iter()
                .flat_map(|l| l.bytes().chain(std::iter::once(b'\n')))
                .collect();
            b.files.push(File {
                id: id.clone(),
                filename: "batch_output.jsonl".into(),
                purpose: "batch_output".into(),
                bytes,
                created_at: created,
            });
            Some(id)
        };
        match api {
            Api::OpenAi => {
                let (ok, failed): (Vec<_>, Vec<_>) = done.into_iter().partition(|d| d.2);
                let output = file(b, ok.into_iter().map(|d| d.1).collect());
                let errors = file(b, failed.into_iter().map(|d| d.1).collect());
                let batch = &mut b.batches[i];
                batch.output_file_id = output;
                batch.error_file_id = errors;
            }
            Api::Anthropic => {
                b.batches[i].results = done.into_iter().map(|d| d.1).collect();
            }
        }
        let batch = &mut b.batches[i];
        batch.status = status;
        batch.counts = counts;
    }
}

fn ended(status: &str) -> bool {
    matches!(
        status,
        "completed" | "failed" | "expired" | "cancelled" | "ended"
    )
}

impl Batch {
    fn json(&self, host: &str) -> Value {
        let [succeeded, errored, expired, canceled] = self.counts;
        let total = self.lines.len() as u64;
        match self.api {
            Api::OpenAi => json!({
                "id": self.id, "object": "batch", "endpoint": "/v1/chat/completions",
                "errors": if self.errors.is_empty() { Value::Null }
                    else { json!({"object": "list", "data": self.errors}) },
                "input_file_id": self.input_file_id, "completion_window": "24h",
                "status": self.status, "output_file_id": self.output_file_id,
                "error_file_id": self.error_file_id, "created_at": self.created_at,
                "expires_at": self.created_at + 86_400,
                "request_counts": {"total": total, "completed": succeeded,
                    "failed": errored + expired + canceled},
                "metadata": self.metadata,
            }),
            Api::Anthropic => {
                let done = ended(self.status);
                json!({
                    "id": self.id, "type": "message_batch",
                    "processing_status": if done { "ended" } else { self.status },
                    "request_counts": {
                        "processing": if done { 0 } else { total },
                        "succeeded": succeeded, "errored": errored,
                        "canceled": canceled, "expired": expired},
                    "created_at": leakscope::util::date::rfc3339(self.created_at),
                    "expires_at": leakscope::util::date::rfc3339(self.created_at + 86_400),
                    "ended_at": if done { json!(leakscope::util::date::rfc3339(now())) } else { Value::Null },
                    "cancel_initiated_at": if self.cancel_initiated { json!(leakscope::util::date::rfc3339(now())) }
                        else { Value::Null },
                    "archived_at": null,
                    "results_url": if done {
                        json!(format!("http://{host}/v1/messages/batches/{}/results", self.id))
                    } else { Value::Null },
                })
            }
        }
    }
}

/// The parts of a multipart/form-data body: (name, filename, content).
fn multipart(request: &Request) -> Vec<(String, Option<String>, Vec<u8>)> {
    let Some(boundary) = request
        .header("content-type")
        .and_then(|t| t.split("boundary=").nth(1))
    else {
        return Vec::new();
    };
    let marker = format!("--{boundary}");
    let body = &request.body;
    let find = |from: usize, what: &[u8]| {
        body[from..]
            .windows(what.len())
            .position(|w| w == what)
            .map(|p| p + from)
    };
    let mut parts = Vec::new();
    let mut at = 0;
    while let Some(start) = find(at, marker.as_bytes()) {
        let head_start = start + marker.len() + 2;
        if head_start > body.len() || body[start + marker.len()..].starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(head_start, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&body[head_start..head_end]).into_owned();
        let content_start = head_end + 4;
        let end_marker = format!("\r\n{marker}");
        let Some(content_end) = find(content_start, end_marker.as_bytes()) else {
            break;
        };
        let field = |key: &str| {
            head.split(';')
                .filter_map(|p| p.trim().strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches('"').to_owned())
                .next()
        };
        if let Some(name) = field("name") {
            parts.push((
                name,
                field("filename"),
                body[content_start..content_end].to_vec(),
            ));
        }
        at = content_end + 2;
    }
    parts
}

/// Answers a batch or file request; `false` when `request` is none.
pub(super) fn route(w: &mut TcpStream, request: &Request, state: &State) -> bool {
    let path = request.path.as_str();
    let method = request.method.as_str();
    let api = if path.starts_with("/v1/messages/batches") {
        Api::Anthropic
    } else if path.starts_with("/v1/files") || path.starts_with("/v1/batches") {
        Api::OpenAi
    } else {
        return false;
    };
    let refused = key_refusal(&state.script.lock().unwrap(), request, api);
    if let Some((status, body)) = refused {
        respond(w, status, &[], body.as_bytes());
        return true;
    }
    let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, api, parts.as_slice()) {
        ("POST", Api::OpenAi, ["v1", "files"]) => upload(w, request, state),
        ("GET", Api::OpenAi, ["v1", "files"]) => {
            let b = state.batches.lock().unwrap();
            let purpose = query(request, "purpose");
            let data: Vec<Value> = b
                .files
                .iter()
                .rev()
                .filter(|f| purpose.is_none_or(|p| p == f.purpose))
                .map(file_json)
                .collect();
            json_response(
                w,
                200,
                &json!({"object": "list", "data": data, "has_more": false}),
            );
        }
        ("GET", Api::OpenAi, ["v1", "files", id, "content"]) => content(w, state, id),
        ("POST", Api::OpenAi, ["v1", "batches"]) => create_openai(w, request, state, &host),
        ("POST", Api::Anthropic, ["v1", "messages", "batches"]) => {
            create_anthropic(w, request, state, &host);
        }
        ("GET", _, ["v1", "batches"] | ["v1", "messages", "batches"]) => {
            list(w, request, state, api, &host);
        }
        ("GET", _, ["v1", "batches", id] | ["v1", "messages", "batches", id]) => {
            let polls = state.script.lock().unwrap().batch_polls;
            let mut b = state.batches.lock().unwrap();
            let Some(i) = b.batches.iter().position(|x| x.id == *id && x.api == api) else {
                drop(b);
                not_found(w, api, "batch");
                return true;
            };
            b.batches[i].reads += 1;
            if !ended(b.batches[i].status) && b.batches[i].reads > polls {
                state.end_batch(&mut b, i);
            } else if b.batches[i].status == "validating" {
                b.batches[i].status = "in_progress";
            }
            let value = b.batches[i].json(&host);
            drop(b);
            json_response(w, 200, &value);
        }
        ("GET", Api::Anthropic, ["v1", "messages", "batches", id, "results"]) => {
            let b = state.batches.lock().unwrap();
            let found = b.batches.iter().find(|x| x.id == *id && x.api == api);
            let Some(batch) = found.filter(|x| ended(x.status)) else {
                drop(b);
                not_found(w, api, "results");
                return true;
            };
            let bytes: Vec<u8> = batch
                .results
                .iter()
                .flat_map(|l| l.bytes().chain(std::iter::once(b'\n')))
                .collect();
            drop(b);
            stream(w, state, &bytes);
        }
        (
            "POST",
            _,
            ["v1", "batches", id, "cancel"] | ["v1", "messages", "batches", id, "cancel"],
        ) => {
            let mut b = state.batches.lock().unwrap();
            let Some(batch) = b.batches.iter_mut().find(|x| x.id == *id && x.api == api) else {
                drop(b);
                not_found(w, api, "batch");
                return true;
            };
            if !ended(batch.status) {
                batch.cancel_initiated = true;
                batch.counts[3] = batch.lines.len() as u64;
                batch.status = "cancelled";
            }
            let value = batch.json(&host);
            drop(b);
            json_response(w, 200, &value);
        }
        _ => not_found(w, api, "route"),
    }
    true
}

fn file_json(f: &File) -> Value {
    json!({"id": f.id, "object": "file", "bytes": f.bytes.len(), "created_at": f.created_at,
        "filename": f.filename, "purpose": f.purpose, "status": "processed"})
}

fn upload(w: &mut TcpStream, request: &Request, state: &State) {
    let parts = multipart(request);
    let purpose = parts
        .iter()
        .find(|p| p.0 == "purpose")
        .map(|p| String::from_utf8_lossy(&p.2).into_owned());
    let file = parts.into_iter().find(|p| p.0 == "file");
    let (Some(purpose), Some((_, filename, bytes))) = (purpose, file) else {
        let body = error_body(
            Api::OpenAi,
            "invalid_request_error",
            None,
            None,
            "'file' and 'purpose' are required",
        );
        respond(w, 400, &[], body.as_bytes());
        return;
    };
    let value = {
        let mut b = state.batches.lock().unwrap();
        b.next_id += 1;
        let f = File {
            id: format!("file-{}", b.next_id),
            filename: filename.unwrap_or_else(|| "upload".into()),
            purpose,
            bytes,
            created_at: now(),
        };
        let v = file_json(&f);
        b.files.push(f);
        v
    };
    state.batch_call(Op::Upload);
    json_response(w, 200, &value);
}

fn content(w: &mut TcpStream, state: &State, id: &str) {
    let bytes = {
        let b = state.batches.lock().unwrap();
        b.files.iter().find(|f| f.id == id).map(|f| f.bytes.clone())
    };
    match bytes {
        Some(bytes) => stream(w, state, &bytes),
        None => not_found(w, Api::OpenAi, "file"),
    }
}

/// Sends `bytes` as a results download: the first half, a possible hold, the rest.
fn stream(w: &mut TcpStream, state: &State, bytes: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
        bytes.len()
    );
    let half = bytes.len() / 2;
    let first = w
        .write_all(head.as_bytes())
        .and_then(|()| w.write_all(&bytes[..half]))
        .and_then(|()| w.flush());
    if first.is_err() {
        return;
    }
    state.batch_call(Op::Results);
    let _ = w.write_all(&bytes[half..]).and_then(|()| w.flush());
}

/// OpenAI's checks of an input file: `None` when it passes, else the errors a failed batch
/// carries.
fn validate_file(bytes: &[u8], endpoint: &str) -> (Vec<String>, Vec<Value>) {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    let mut models = HashSet::new();
    if bytes.len() > 200 * 1024 * 1024 {
        errors.push(json!({"code": "file_too_large", "message": "The file exceeds 200 MB."}));
    }
    for (n, raw) in String::from_utf8_lossy(bytes).lines().enumerate() {
        let at = n + 1;
        let bad = |code: &str, message: &str| json!({"code": code, "line": at, "message": message, "param": null});
        let Ok(line) = serde_json::from_str::<Value>(raw) else {
            errors.push(bad(
                "invalid_json_line",
                "This line is not parseable as valid JSON.",
            ));
            continue;
        };
        let id = line["custom_id"].as_str().unwrap_or("");
        if id.is_empty() || !ids.insert(id.to_owned()) {
            errors.push(bad(
                "duplicate_custom_id",
                "The custom_id for this request is a duplicate of another request.",
            ));
        }
        if line["method"] != "POST" || line["url"] != endpoint {
            errors.push(bad(
                "url_mismatch",
                "The provided URL does not match the endpoint.",
            ));
        }
        models.insert(line["body"]["model"].as_str().unwrap_or("").to_owned());
        lines.push(raw.to_owned());
    }
    if models.len() > 1 {
        errors.push(json!({"code": "model_mismatch", "line": null,
            "message": "All requests in a batch must use the same model."}));
    }
    if lines.len() > 50_000 {
        errors.push(json!({"code": "too_many_tasks", "message": "At most 50,000 requests."}));
    }
    if lines.is_empty() {
        errors.push(json!({"code": "empty_file", "message": "The input file is empty."}));
    }
    (lines, errors)
}

fn bad_request(w: &mut TcpStream, api: Api, message: &str) {
    let body = error_body(api, "invalid_request_error", None, None, message);
    respond(w, 400, &[], body.as_bytes());
}

fn create_openai(w: &mut TcpStream, request: &Request, state: &State, host: &str) {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return bad_request(
            w,
            Api::OpenAi,
            "We could not parse the JSON body of your request.",
        );
    };
    let endpoint = body["endpoint"].as_str().unwrap_or("");
    if endpoint != "/v1/chat/completions" || body["completion_window"] != "24h" {
        return bad_request(
            w,
            Api::OpenAi,
            "endpoint and completion_window are not supported",
        );
    }
    let metadata = body.get("metadata").cloned().unwrap_or(Value::Null);
    if let Some(m) = metadata.as_object() {
        let long = m
            .iter()
            .any(|(k, v)| k.len() > 64 || v.as_str().is_none_or(|v| v.len() > 512));
        if m.len() > 16 || long {
            return bad_request(w, Api::OpenAi, "Invalid 'metadata'.");
        }
    }
    let file_id = body["input_file_id"].as_str().unwrap_or("").to_owned();
    let bytes = {
        let b = state.batches.lock().unwrap();
        let file = b
            .files
            .iter()
            .find(|f| f.id == file_id && f.purpose == "batch");
        file.map(|f| f.bytes.clone())
    };
    let Some(bytes) = bytes else {
        return bad_request(w, Api::OpenAi, &format!("No such File object: {file_id}"));
    };
    let (lines, mut errors) = validate_file(&bytes, endpoint);
    register(w, request, state, host, Api::OpenAi, lines, |batch| {
        if state
            .script
            .lock()
            .unwrap()
            .batch_fail
            .contains(&batch.index)
        {
            errors.push(
                json!({"code": "invalid_request", "line": 1, "param": "body.model",
                "message": "scripted validation failure"}),
            );
        }
        batch.status = if errors.is_empty() {
            "validating"
        } else {
            "failed"
        };
        batch.input_file_id = Some(file_id);
        batch.metadata = metadata;
        batch.errors = errors;
    });
}

/// Creates a batch of `lines` for `api` (`fill` sets what is particular to it), then answers
/// with it.
fn register(
    w: &mut TcpStream,
    request: &Request,
    state: &State,
    host: &str,
    api: Api,
    lines: Vec<String>,
    fill: impl FnOnce(&mut Batch),
) {
    let mut b = state.batches.lock().unwrap();
    b.next_id += 1;
    let prefix = match api {
        Api::OpenAi => "batch",
        Api::Anthropic => "msgbatch",
    };
    let mut batch = Batch {
        id: format!("{prefix}_{:04}", b.next_id),
        api,
        index: b.batches.len(),
        created_at: now(),
        lines,
        headers: request.headers.clone(),
        reads: 0,
        status: "in_progress",
        input_file_id: None,
        output_file_id: None,
        error_file_id: None,
        metadata: Value::Null,
        errors: Vec::new(),
        results: Vec::new(),
        counts: [0; 4],
        cancel_initiated: false,
    };
    fill(&mut batch);
    let value = batch.json(host);
    b.batches.push(batch);
    drop(b);
    state.batch_call(Op::Create);
    json_response(w, 200, &value);
}

fn create_anthropic(w: &mut TcpStream, request: &Request, state: &State, host: &str) {
    if request.body.len() > 256 * 1024 * 1024 {
        return bad_request(w, Api::Anthropic, "request_too_large");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return bad_request(w, Api::Anthropic, "invalid JSON body");
    };
    let Some(requests) = body["requests"].as_array() else {
        return bad_request(w, Api::Anthropic, "requests: Field required");
    };
    if requests.is_empty() || requests.len() > 100_000 {
        return bad_request(w, Api::Anthropic, "requests: between 1 and 100000 items");
    }
    let mut ids = HashSet::new();
    for (i, r) in requests.iter().enumerate() {
        let id = r["custom_id"].as_str().unwrap_or("");
        let valid = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if !valid {
            return bad_request(
                w,
                Api::Anthropic,
                &format!(
                    "requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                ),
            );
        }
        if !ids.insert(id) {
            return bad_request(
                w,
                Api::Anthropic,
                &format!("requests.{i}: custom_id '{id}' is not unique"),
            );
        }
    }
    let lines = requests.iter().map(Value::to_string).collect();
    register(w, request, state, host, Api::Anthropic, lines, |_| {});
}

fn list(w: &mut TcpStream, request: &Request, state: &State, api: Api, host: &str) {
    let limit: usize = query(request, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20);
    let cursor = match api {
        Api::OpenAi => query(request, "after"),
        Api::Anthropic => query(request, "after_id"),
    };
    let b = state.batches.lock().unwrap();
    let newest_first: Vec<&Batch> = b.batches.iter().rev().filter(|x| x.api == api).collect();
    let start = cursor
        .and_then(|c| newest_first.iter().position(|x| x.id == c))
        .map_or(0, |p| p + 1);
    let page: Vec<&Batch> = newest_first
        .iter()
        .skip(start)
        .take(limit)
        .copied()
        .collect();
    let has_more = start + page.len() < newest_first.len();
    let value = json!({
        "object": "list",
        "data": page.iter().map(|x| x.json(host)).collect::<Vec<_>>(),
        "first_id": page.first().map(|x| x.id.clone()),
        "last_id": page.last().map(|x| x.id.clone()),
        "has_more": has_more,
    });
    drop(b);
    json_response(w, 200, &value);
}

/// Requests paid for: the (row, stage) of every request answered with 200, live or batched.
pub fn paid(seen: &[Seen]) -> HashMap<(u64, Stage), usize> {
    let mut m = HashMap::new();
    for s in seen.iter().filter(|s| s.status == 200) {
        *m.entry((s.row, s.stage)).or_default() += 1;
    }
    m
}
