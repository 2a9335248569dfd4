//! The providers' batch endpoints over the platform's one HTTP client: upload a file (OpenAI),
//! create a batch, read its state, list recent batches (to find one created just before a
//! kill), and read its results line by line as they stream in.
//!
//! OpenAI (`{base}` = `…/v1`): `POST {base}/files` (multipart, `purpose=batch`), `POST
//! {base}/batches` (`input_file_id`, `endpoint`, `completion_window: "24h"`, `metadata`), `GET
//! {base}/batches/{id}`, `GET {base}/batches?limit=&after=` (newest first), `GET
//! {base}/files/{id}/content`. Anthropic: `POST {base}/messages/batches` (`{"requests":[…]}`),
//! `GET {base}/messages/batches/{id}`, `GET {base}/messages/batches?limit=&after_id=` (newest
//! first), `GET {base}/messages/batches/{id}/results` (built here from the base URL rather than
//! taken from the answer's `results_url`, so the key only ever goes to the server the user
//! named). Errors are the live calls' ([`wire::status_error`], the key redacted).

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::manifest::{ChunkInfo, Counts};
use crate::eval::api::{ApiConfig, ApiKind, ProviderError};
use crate::eval::provider::redact;
use crate::eval::wire::{self, Object, decode_error};
use crate::platform::http::{ByteStream, HttpClient, HttpError, HttpRequest, Upload};
use crate::util::date;

use super::lines::OPENAI_ENDPOINT;

/// Answers to control calls are small; a list page of 100 batches is well under this.
const CONTROL_LIMIT: usize = 16 << 20;
/// A result line longer than this is not a chat answer.
const LINE_LIMIT: usize = 64 << 20;
/// The metadata key naming the chunk (OpenAI: at most 64 characters a key).
pub const CHUNK_KEY: &str = "leakscope_chunk";
pub const JOB_KEY: &str = "leakscope_job";

/// A batch's state, in both APIs' terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Validating,
    InProgress,
    Finalizing,
    Cancelling,
    Completed,
    /// OpenAI: the input failed validation; nothing ran.
    Failed,
    /// The 24-hour window closed first: what ran is in the results, the rest did not run.
    Expired,
    Cancelled,
}

impl Status {
    pub fn ended(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Expired | Self::Cancelled
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Validating => "validating",
            Self::InProgress => "in progress",
            Self::Finalizing => "finalizing",
            Self::Cancelling => "cancelling",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A batch as the provider describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteBatch {
    pub id: String,
    pub status: Status,
    pub counts: Counts,
    /// OpenAI: the results (output file) and the failed requests (error file).
    pub output_file: Option<String>,
    pub error_file: Option<String>,
    /// OpenAI: why validation failed (`line N: code: message`).
    pub errors: Vec<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// OpenAI: the chunk named in its metadata.
    pub chunk: Option<String>,
    /// Anthropic: cancellation was asked for.
    pub cancel_initiated: bool,
}

/// What a batch is created from.
pub enum Input {
    /// OpenAI: the uploaded file.
    File(String),
    /// Anthropic: the `{"requests":[…]}` body, streamed from its file.
    Body(Upload),
}

/// One API's batch endpoints with the user's key.
pub struct BatchApi<'c> {
    pub config: ApiConfig,
    pub client: &'c dyn HttpClient,
}

#[derive(Deserialize)]
struct OpenAiBatch {
    id: String,
    status: String,
    #[serde(default)]
    request_counts: Option<OpenAiCounts>,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
    #[serde(default)]
    errors: Option<OpenAiErrors>,
    #[serde(default)]
    created_at: u64,
    #[serde(default)]
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct OpenAiCounts {
    total: u64,
    completed: u64,
    failed: u64,
}

#[derive(Deserialize)]
struct OpenAiErrors {
    #[serde(default)]
    data: Vec<Value>,
}

#[derive(Deserialize)]
struct AnthropicBatch {
    id: String,
    processing_status: String,
    request_counts: AnthropicCounts,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    cancel_initiated_at: Option<String>,
}

#[derive(Deserialize)]
struct AnthropicCounts {
    processing: u64,
    succeeded: u64,
    errored: u64,
    canceled: u64,
    expired: u64,
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

impl OpenAiBatch {
    fn into_remote(self) -> RemoteBatch {
        let status = match self.status.as_str() {
            "validating" => Status::Validating,
            "in_progress" => Status::InProgress,
            "finalizing" => Status::Finalizing,
            "cancelling" => Status::Cancelling,
            "completed" => Status::Completed,
            "failed" => Status::Failed,
            "expired" => Status::Expired,
            "cancelled" => Status::Cancelled,
            // A status added later: not ended, so it is asked again.
            _ => Status::InProgress,
        };
        let c = self.request_counts.unwrap_or(OpenAiCounts {
            total: 0,
            completed: 0,
            failed: 0,
        });
        let errors = self
            .errors
            .map(|e| e.data)
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
                let line = e.get("line").and_then(Value::as_u64);
                let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
                format!("{at}{}: {}", text("code"), text("message"))
            })
            .collect();
        let chunk = self
            .metadata
            .as_ref()
            .and_then(|m| m.get(CHUNK_KEY))
            .and_then(Value::as_str)
            .map(str::to_owned);
        RemoteBatch {
            id: self.id,
            status,
            counts: Counts {
                total: c.total,
                succeeded: c.completed,
                errored: c.failed,
                expired: 0,
                cancelled: 0,
            },
            output_file: self.output_file_id,
            error_file: self.error_file_id,
            errors,
            created_at: self.created_at,
            chunk,
            cancel_initiated: false,
        }
    }
}

impl AnthropicBatch {
    fn into_remote(self) -> RemoteBatch {
        let c = self.request_counts;
        let cancel_initiated = self.cancel_initiated_at.is_some();
        let status = match self.processing_status.as_str() {
            "ended" if c.canceled > 0 || cancel_initiated => Status::Cancelled,
            "ended" if c.expired > 0 => Status::Expired,
            "ended" => Status::Completed,
            "canceling" => Status::Cancelling,
            _ => Status::InProgress,
        };
        RemoteBatch {
            id: self.id,
            status,
            counts: Counts {
                total: c.processing + c.succeeded + c.errored + c.canceled + c.expired,
                succeeded: c.succeeded,
                errored: c.errored,
                expired: c.expired,
                cancelled: c.canceled,
            },
            output_file: None,
            error_file: None,
            errors: Vec::new(),
            created_at: self
                .created_at
                .as_deref()
                .and_then(date::unix_seconds)
                .unwrap_or(0),
            chunk: None,
            cancel_initiated,
        }
    }
}

/// A multipart/form-data body for OpenAI's file upload: `purpose=batch` and the file, streamed.
fn multipart(name: &str, file: Upload) -> (String, Upload) {
    let boundary = format!(
        "leakscope-{}",
        &crate::util::hash::short_hash(name.as_bytes())[..16]
    );
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() as u64 + file.length + tail.len() as u64;
    let reader = std::io::Read::chain(
        std::io::Read::chain(std::io::Cursor::new(head.into_bytes()), file.reader),
        std::io::Cursor::new(tail.into_bytes()),
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    (
        content_type,
        Upload {
            reader: Box::new(reader),
            length,
        },
    )
}

/// A result file, line by line as it streams in.
pub struct Lines {
    body: ByteStream,
    buffer: Vec<u8>,
    done: bool,
}

impl Lines {
    /// The next non-empty line; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, HttpError>> {
        loop {
            if let Some(i) = self.buffer.iter().position(|&b| b == b'\n') {
                let rest = self.buffer.split_off(i + 1);
                let mut line = std::mem::replace(&mut self.buffer, rest);
                line.truncate(i);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(Ok(line));
            }
            if self.done {
                let line = std::mem::take(&mut self.buffer);
                return (!line.iter().all(u8::is_ascii_whitespace)).then_some(Ok(line));
            }
            match self.body.next().await {
                Some(Ok(chunk)) => {
                    self.buffer.extend_from_slice(&chunk);
                    if self.buffer.len() > LINE_LIMIT {
                        self.done = true;
                        self.buffer.clear();
                        return Some(Err(HttpError::new(
                            crate::platform::http::HttpErrorKind::Network,
                            format!("a result line longer than {LINE_LIMIT} bytes"),
                        )));
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    self.buffer.clear();
                    return Some(Err(e));
                }
                None => self.done = true,
            }
        }
    }
}

impl BatchApi<'_> {
    fn base(&self) -> &str {
        self.config.base_url.trim_end_matches('/')
    }

    fn request(&self, method: &'static str, path: &str, body: Option<String>) -> HttpRequest {
        let mut headers = wire::auth_headers(&self.config);
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        HttpRequest {
            method,
            url: format!("{}{path}", self.base()),
            headers,
            body: body.map(String::into_bytes).unwrap_or_default(),
        }
    }

    fn fail(&self, error: ProviderError) -> ProviderError {
        redact(error, &self.config.api_key)
    }

    /// Sends `request` and reads a JSON answer of type `T`.
    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        request: HttpRequest,
        upload: Option<Upload>,
    ) -> Result<T, ProviderError> {
        let url = request.url.clone();
        let pending = match upload {
            Some(body) => self.client.upload(request, body, CONTROL_LIMIT),
            None => self.client.send(request, CONTROL_LIMIT),
        };
        let response = pending
            .await
            .map_err(|e| self.fail(ProviderError::no_answer(e, &url)))?;
        if !(200..300).contains(&response.status) {
            return Err(self.fail(wire::status_error(&response)));
        }
        serde_json::from_slice(&response.body).map_err(|e| {
            self.fail(decode_error(
                format!("{url}: not what the batch API answers: {e}"),
                &response.body,
            ))
        })
    }

    fn remote(&self, value: Value) -> Result<RemoteBatch, ProviderError> {
        let bad = |e: serde_json::Error| {
            decode_error(format!("not a batch: {e}"), value.to_string().as_bytes())
        };
        Ok(match self.config.kind {
            ApiKind::OpenAiChat => serde_json::from_value::<OpenAiBatch>(value.clone())
                .map_err(bad)?
                .into_remote(),
            ApiKind::AnthropicMessages => serde_json::from_value::<AnthropicBatch>(value.clone())
                .map_err(bad)?
                .into_remote(),
        })
    }

    fn batches_path(&self) -> &'static str {
        match self.config.kind {
            ApiKind::OpenAiChat => "/batches",
            ApiKind::AnthropicMessages => "/messages/batches",
        }
    }

    /// OpenAI: uploads a batch input file named `name`; returns its id.
    pub async fn upload(&self, name: &str, file: Upload) -> Result<String, ProviderError> {
        let (content_type, body) = multipart(name, file);
        let mut request = self.request("POST", "/files", None);
        request.headers.push(("content-type".into(), content_type));
        #[derive(Deserialize)]
        struct File {
            id: String,
        }
        Ok(self.call::<File>(request, Some(body)).await?.id)
    }

    /// Creates the batch of `chunk` (`job`: the command's work, in OpenAI's metadata).
    pub async fn create(
        &self,
        chunk: &ChunkInfo,
        input: Input,
    ) -> Result<RemoteBatch, ProviderError> {
        let value: Value = match input {
            Input::File(file_id) => {
                let metadata = json!({CHUNK_KEY: chunk.chunk, JOB_KEY: chunk.job});
                let body = Object::new()
                    .field("input_file_id", file_id)
                    .field("endpoint", OPENAI_ENDPOINT)
                    .field("completion_window", "24h")
                    .field("metadata", metadata)
                    .finish();
                let request = self.request("POST", self.batches_path(), Some(body));
                self.call(request, None).await?
            }
            Input::Body(upload) => {
                let mut request = self.request("POST", self.batches_path(), None);
                request
                    .headers
                    .push(("content-type".into(), "application/json".into()));
                self.call(request, Some(upload)).await?
            }
        };
        self.remote(value)
    }

    pub async fn get(&self, id: &str) -> Result<RemoteBatch, ProviderError> {
        let path = format!("{}/{id}", self.batches_path());
        let value: Value = self.call(self.request("GET", &path, None), None).await?;
        self.remote(value)
    }

    /// The batches created at or after `since` (Unix seconds), newest first.
    pub async fn list_since(&self, since: u64) -> Result<Vec<RemoteBatch>, ProviderError> {
        let cursor = match self.config.kind {
            ApiKind::OpenAiChat => "after",
            ApiKind::AnthropicMessages => "after_id",
        };
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        // 20 pages of 100: far more batches than a kill can leave behind.
        for _ in 0..20 {
            let query = match &after {
                Some(id) => format!("?limit=100&{cursor}={id}"),
                None => "?limit=100".to_owned(),
            };
            let path = format!("{}{query}", self.batches_path());
            let page: Page<Value> = self.call(self.request("GET", &path, None), None).await?;
            let mut older = false;
            for value in page.data {
                let batch = self.remote(value)?;
                older |= batch.created_at < since;
                if batch.created_at >= since {
                    out.push(batch);
                }
            }
            match page.last_id {
                Some(last) if page.has_more && !older => after = Some(last),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Where the results of an ended batch are: OpenAI's output and error files, Anthropic's
    /// results.
    pub fn result_paths(&self, batch: &RemoteBatch) -> Vec<String> {
        match self.config.kind {
            ApiKind::OpenAiChat => [&batch.output_file, &batch.error_file]
                .into_iter()
                .flatten()
                .map(|id| format!("/files/{id}/content"))
                .collect(),
            ApiKind::AnthropicMessages => {
                vec![format!("{}/{}/results", self.batches_path(), batch.id)]
            }
        }
    }

    /// One result file, as it streams in.
    pub async fn lines(&self, path: &str) -> Result<Lines, ProviderError> {
        let request = self.request("GET", path, None);
        let url = request.url.clone();
        let response = self
            .client
            .fetch(request)
            .await
            .map_err(|e| self.fail(ProviderError::no_answer(e, &url)))?;
        if !(200..300).contains(&response.status) {
            let whole = response
                .collect(CONTROL_LIMIT)
                .await
                .map_err(|e| self.fail(ProviderError::no_answer(e, &url)))?;
            return Err(self.fail(wire::status_error(&whole)));
        }
        Ok(Lines {
            body: response.body,
            buffer: Vec::new(),
            done: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::http::{HttpErrorKind, StreamedResponse};
    use futures_util::future::LocalBoxFuture;

    /// A client for tests that never reach the network.
    struct NoClient;

    impl HttpClient for NoClient {
        fn fetch(
            &self,
            _: HttpRequest,
        ) -> LocalBoxFuture<'static, Result<StreamedResponse, HttpError>> {
            let e = HttpError::new(HttpErrorKind::Network, "no network in this test");
            Box::pin(futures_util::future::ready(Err(e)))
        }
    }

    #[test]
    fn both_apis_batches_read_as_one_state() {
        let api = |kind| BatchApi {
            config: match kind {
                ApiKind::OpenAiChat => ApiConfig::openai("gpt-4o", "k"),
                ApiKind::AnthropicMessages => ApiConfig::anthropic("claude", "k", false),
            },
            client: &NoClient,
        };
        let openai = api(ApiKind::OpenAiChat)
            .remote(
                json!({"id": "batch_1", "object": "batch", "status": "failed",
                "request_counts": {"total": 3, "completed": 0, "failed": 0},
                "errors": {"object": "list", "data": [{"code": "model_mismatch", "line": 2,
                    "message": "one model per file"}]},
                "created_at": 1_711_471_533, "metadata": {"leakscope_chunk": "abcd0123"}}),
            )
            .unwrap();
        assert_eq!(openai.status, Status::Failed);
        assert_eq!(
            openai.errors,
            ["line 2: model_mismatch: one model per file"]
        );
        assert_eq!(openai.chunk.as_deref(), Some("abcd0123"));
        let anthropic = api(ApiKind::AnthropicMessages)
            .remote(json!({"id": "msgbatch_1", "type": "message_batch",
                "processing_status": "ended",
                "request_counts": {"processing": 0, "succeeded": 5, "errored": 1,
                    "canceled": 0, "expired": 4},
                "created_at": "2024-08-20T18:37:24.100435Z", "cancel_initiated_at": null,
                "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_1/results"}))
            .unwrap();
        assert_eq!(anthropic.status, Status::Expired);
        assert_eq!((anthropic.counts.total, anthropic.counts.expired), (10, 4));
        assert_eq!(anthropic.created_at, 1_724_179_044);
        assert_eq!(
            api(ApiKind::AnthropicMessages).result_paths(&anthropic),
            ["/messages/batches/msgbatch_1/results"]
        );
    }

    #[test]
    fn lines_come_whole_across_chunk_boundaries() {
        let chunks: Vec<Result<Vec<u8>, HttpError>> = vec![
            Ok(b"{\"a\":1}\n{\"b\"".to_vec()),
            Ok(b":2}\n\n".to_vec()),
            Ok(b"{\"c\":3}".to_vec()),
        ];
        let mut lines = Lines {
            body: Box::pin(futures_util::stream::iter(chunks)),
            buffer: Vec::new(),
            done: false,
        };
        let mut got = Vec::new();
        // The stream is ready at once: no executor needed.
        while let Some(Some(line)) = futures_util::FutureExt::now_or_never(lines.next()) {
            got.push(String::from_utf8(line.unwrap()).unwrap());
        }
        assert_eq!(got, [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#]);
    }

    #[test]
    fn the_upload_is_a_multipart_form_streamed_around_the_file() {
        let file = Upload {
            reader: Box::new(std::io::Cursor::new(b"{\"x\":1}\n".to_vec())),
            length: 8,
        };
        let (content_type, mut body) = multipart("leakscope-abcd0123.jsonl", file);
        let boundary = content_type.split("boundary=").nth(1).unwrap().to_owned();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut body.reader, &mut text).unwrap();
        assert_eq!(text.len() as u64, body.length);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"purpose\"\r\n\r\nbatch\r\n"));
        assert!(text.contains("filename=\"leakscope-abcd0123.jsonl\""));
        assert!(text.ends_with(&format!("{{\"x\":1}}\n\r\n--{boundary}--\r\n")));
    }
}
