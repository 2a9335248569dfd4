//! `Retry-After` (`eval::api::retry_after`), `Content-Length`, `Content-Range` and ETag parsing
//! (`hub::transport`), and the resumable download that acts on them (`hub::download`), against a
//! scripted server: each request gets a status (200, 206, 416, 5xx, ...), headers with lengths
//! and ranges that agree or lie, validators that change, and a body that is short, long,
//! endless, or breaks. The download must end with the file, a typed error or a retry, never
//! hold more than the file's limit, and never send more requests than its policy allows.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{LocalBoxFuture, ready};
use futures_util::stream::{self, StreamExt};
use leakscope::eval::api::retry_after;
use leakscope::hub::download::{Fetched, RetryPolicy, Target as File, download};
use leakscope::hub::transport::{as_sha256, content_length, content_range, etag};
use leakscope::platform::clock::FakeClock;
use leakscope::platform::http::{
    HttpClient, HttpError, HttpErrorKind, HttpRequest, StreamedResponse,
};

use super::Gen;

/// One scripted answer.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body chunks; an empty chunk stands for "the connection breaks here".
    pub chunks: Vec<Vec<u8>>,
    /// After the chunks, the same 4 kB chunk forever.
    pub endless: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Script {
    replies: Vec<Reply>,
    listed_size: Option<u64>,
    limit: u64,
    sha: Option<String>,
    header_values: Vec<String>,
}

/// A server that answers each request with the next [`Reply`], then refuses connections.
pub struct Server {
    replies: RefCell<VecDeque<Reply>>,
    requests: Rc<RefCell<u32>>,
}

impl Server {
    pub fn new(replies: Vec<Reply>) -> Self {
        Self {
            replies: RefCell::new(replies.into()),
            requests: Rc::default(),
        }
    }

    /// Requests received so far.
    pub fn requests(&self) -> u32 {
        *self.requests.borrow()
    }
}

impl HttpClient for Server {
    fn fetch(
        &self,
        _request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<StreamedResponse, HttpError>> {
        *self.requests.borrow_mut() += 1;
        let Some(reply) = self.replies.borrow_mut().pop_front() else {
            return Box::pin(ready(Err(HttpError::new(
                HttpErrorKind::Network,
                "connection refused",
            ))));
        };
        let mut items: Vec<Result<Vec<u8>, HttpError>> = Vec::new();
        for c in reply.chunks {
            if c.is_empty() {
                items.push(Err(HttpError::new(HttpErrorKind::Network, "reset")));
                break;
            }
            items.push(Ok(c));
        }
        let broke = items.last().is_some_and(Result::is_err);
        let head = stream::iter(items);
        let body = if reply.endless && !broke {
            head.chain(stream::repeat_with(|| Ok(vec![7u8; 4096])))
                .boxed_local()
        } else {
            head.boxed_local()
        };
        Box::pin(ready(Ok(StreamedResponse {
            status: reply.status,
            headers: reply.headers,
            body,
        })))
    }
}

fn header_value(g: &mut Gen<'_, '_>, size: u64) -> (String, String) {
    let sha = "ab".repeat(32);
    match g.range(0, 7) {
        0 => ("content-length".into(), size.to_string()),
        1 => ("content-length".into(), g.number_json()),
        2 => {
            let first = if g.chance(60) {
                0
            } else {
                g.number() % (size + 2)
            };
            let total = if g.chance(70) {
                size.to_string()
            } else {
                g.number_json()
            };
            let text = match g.range(0, 3) {
                0 => format!("bytes {first}-{}/{total}", size.saturating_sub(1)),
                1 => format!("bytes {first}-/{total}"),
                2 => format!("bytes */{total}"),
                _ => g.text(20),
            };
            ("content-range".into(), text)
        }
        3 => ("etag".into(), format!("\"{sha}\"")),
        4 => (
            "x-linked-etag".into(),
            if g.chance(50) {
                format!("W/\"{}\"", g.word(64))
            } else {
                g.text(70)
            },
        ),
        5 => ("retry-after".into(), g.number_json()),
        6 => ("etag".into(), format!("\"{}\"", g.word(10))),
        _ => ("retry-after-ms".into(), g.number_json()),
    }
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let size = g.range(0, 3000);
    let file: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut replies = Vec::new();
    for _ in 0..g.below(10) {
        let status = *g.pick(&[
            200, 200, 206, 206, 416, 500, 503, 429, 404, 401, 403, 302, 0,
        ]);
        let mut headers = Vec::new();
        for _ in 0..g.below(5) {
            headers.push(header_value(g, size));
        }
        let mut chunks = Vec::new();
        let start = g.below(file.len() + 1);
        let end = match g.range(0, 3) {
            0 => g.below(file.len() + 1).max(start),
            1 => file.len() + g.below(100),
            _ => file.len(),
        };
        let mut body: Vec<u8> = file
            .iter()
            .copied()
            .cycle()
            .skip(start)
            .take(end - start)
            .collect();
        if g.chance(10) {
            g.mutate(&mut body, 2);
        }
        for piece in body.chunks(1 + g.below(700)) {
            chunks.push(piece.to_vec());
        }
        if g.chance(25) {
            chunks.push(Vec::new());
        }
        let endless = g.chance(10);
        replies.push(Reply {
            status,
            headers,
            chunks,
            endless,
        });
    }
    let listed_size = if g.chance(50) { Some(size) } else { None };
    let sha = g
        .chance(20)
        .then(|| leakscope::util::hash::sha256_hex(&file));
    let mut header_values: Vec<String> = (0..4).map(|_| g.number_json()).collect();
    header_values.push(g.text(30));
    let script = Script {
        replies,
        listed_size,
        limit: 64 << 10,
        sha,
        header_values,
    };
    Ok(serde_json::to_vec(&script).unwrap_or_default())
}

fn check(input: &[u8]) {
    let Ok(script) = serde_json::from_slice::<Script>(input) else {
        return;
    };
    // The parsers alone, on every value.
    for v in &script.header_values {
        let h = vec![
            ("retry-after".to_owned(), v.clone()),
            ("retry-after-ms".to_owned(), v.clone()),
            ("content-length".to_owned(), v.clone()),
            ("content-range".to_owned(), format!("bytes {v}")),
            ("etag".to_owned(), v.clone()),
        ];
        let _ = (
            retry_after(&h),
            content_length(&h),
            content_range(&h),
            etag(&h),
        );
        let _ = as_sha256(v);
    }
    let server = Server::new(script.replies);
    let policy = RetryPolicy {
        tries: 3,
        max_requests: 12,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        stall: Duration::from_secs(5),
    };
    let target = File {
        file: "model.safetensors".into(),
        url: "https://example.invalid/model.safetensors".into(),
        sha256: script.sha.map(|s| (s, "you".to_owned())),
        size: script.listed_size,
        limit: Some(script.limit),
        ..File::default()
    };
    let clock = FakeClock::new();
    let result = clock.block_on(download(
        &server,
        &clock,
        &policy,
        &target,
        None,
        &mut |_| {},
    ));
    assert!(
        server.requests() <= policy.max_requests,
        "{} requests, over the policy's {}",
        server.requests(),
        policy.max_requests
    );
    if let Ok(Fetched::Done(done)) = result {
        assert!(done.bytes.len() as u64 <= script.limit);
        if let Some(size) = script.listed_size {
            assert_eq!(
                done.bytes.len() as u64,
                size,
                "a file of another size than listed"
            );
        }
    }
}

fuzz_target!("http_headers", cases: 400, size_max: 32768, memory: 16 << 20);
