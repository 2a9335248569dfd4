//! [`HttpClient`] for native builds: ureq (blocking, rustls) with each request on its own
//! thread, the body handed over in chunks through a bounded queue (a fast network does not pile
//! hundreds of MB up in memory while the consumer hashes). No async runtime is involved: the
//! futures are woken by the thread.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::Stream;
use futures_util::future::LocalBoxFuture;

use crate::platform::http::{
    HttpClient, HttpError, HttpErrorKind, HttpRequest, HttpResponse, StreamedResponse, Upload,
};

/// The largest chunk handed over.
const CHUNK: usize = 256 << 10;
/// Chunks read ahead of the consumer (16 MB).
const AHEAD: usize = 64;

/// The one native HTTP client: the model download, the evaluation's API calls and the official
/// judge template all go through it. Clones share the connection pool.
#[derive(Clone)]
pub struct UreqClient {
    agent: ureq::Agent,
}

impl Default for UreqClient {
    /// For downloads: a connection that sends nothing for 60 s is given up.
    fn default() -> Self {
        Self::stalling(Duration::from_secs(60))
    }
}

impl UreqClient {
    /// `timeout`: the whole exchange, body included, so a request the caller gave up on also
    /// ends its thread (API calls, small files).
    pub fn new(timeout: Duration) -> Self {
        Self::with_timeouts(Some(timeout), None, true)
    }

    /// For model APIs: as [`Self::new`], and a redirect is handed back as the answer instead
    /// of followed (a redirect to another server would take the request, or turn the POST
    /// into a GET whose answer looks like the model's).
    pub fn api(timeout: Duration) -> Self {
        Self::with_timeouts(Some(timeout), None, false)
    }

    /// `stall`: give up on a connection that sends nothing for this long (connect, answer, or
    /// between two reads of the body); a large file may take as long as it needs overall.
    pub fn stalling(stall: Duration) -> Self {
        Self::with_timeouts(None, Some(stall), true)
    }

    /// For a model API's large transfers (a batch file up or its results down): as
    /// [`Self::stalling`], and redirects are answers, as with [`Self::api`].
    pub fn api_transfer(stall: Duration) -> Self {
        Self::with_timeouts(None, Some(stall), false)
    }

    fn with_timeouts(total: Option<Duration>, stall: Option<Duration>, follow: bool) -> Self {
        let agent = ureq::Agent::config_builder()
            // 0: not followed, the 3xx is the answer (ureq's default follows 10).
            .max_redirects(if follow { 10 } else { 0 })
            // Every status is an answer; the caller reads it.
            .http_status_as_error(false)
            .timeout_global(total)
            .timeout_connect(stall)
            .timeout_recv_response(stall)
            .timeout_per_read(stall)
            // The evaluation keeps up to a few hundred requests in flight to one API.
            .max_idle_connections(256)
            .max_idle_connections_per_host(256)
            .build()
            .into();
        Self { agent }
    }
}

type Head = Result<(u16, Vec<(String, String)>), HttpError>;

#[derive(Default)]
struct Shared {
    head: Option<Head>,
    chunks: VecDeque<Result<Vec<u8>, HttpError>>,
    finished: bool,
    /// The consumer dropped the response or its body: the thread stops reading.
    cancelled: bool,
    waker: Option<Waker>,
}

#[derive(Default)]
struct Channel {
    shared: Mutex<Shared>,
    room: Condvar,
}

impl Channel {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut Shared)) {
        let mut s = self.lock();
        f(&mut s);
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
}

fn classify(e: &ureq::Error) -> HttpErrorKind {
    match e {
        ureq::Error::Timeout(_) => HttpErrorKind::Timeout,
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            HttpErrorKind::Request
        }
        _ => HttpErrorKind::Network,
    }
}

/// A failed body read: ureq's own error (a timeout) where it is one.
fn read_error(e: std::io::Error) -> HttpError {
    let kind = match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
    {
        Some(inner) => classify(inner),
        None if e.kind() == std::io::ErrorKind::TimedOut => HttpErrorKind::Timeout,
        None => HttpErrorKind::Network,
    };
    HttpError::new(kind, format!("connection broken: {e}"))
}

fn call(
    agent: &ureq::Agent,
    request: HttpRequest,
    upload: Option<Upload>,
) -> Result<ureq::http::Response<ureq::Body>, HttpError> {
    if !matches!(request.method, "GET" | "POST") {
        return Err(HttpError::new(
            HttpErrorKind::Request,
            format!("method {} not supported", request.method),
        ));
    }
    let result = match (request.method, upload) {
        ("POST", Some(upload)) => {
            let mut builder = agent
                .post(&request.url)
                .header("content-length", upload.length.to_string());
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
            builder.send(ureq::SendBody::from_owned_reader(upload.reader))
        }
        (method, Some(_)) => {
            return Err(HttpError::new(
                HttpErrorKind::Request,
                format!("a streamed body with {method}"),
            ));
        }
        ("GET", None) => {
            let mut builder = agent.get(&request.url);
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
            builder.call()
        }
        (_, None) => {
            let mut builder = agent.post(&request.url);
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
            builder.send(&request.body[..])
        }
    };
    result.map_err(|e| HttpError::new(classify(&e), e.to_string()))
}

fn read_thread(
    agent: ureq::Agent,
    request: HttpRequest,
    upload: Option<Upload>,
    channel: Arc<Channel>,
) {
    let response = match call(&agent, request, upload) {
        Ok(r) => r,
        Err(e) => {
            channel.update(|s| {
                s.head = Some(Err(e));
                s.finished = true;
            });
            return;
        }
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    channel.update(|s| s.head = Some(Ok((status, headers))));
    let mut reader = response.into_body().into_reader();
    // One buffer per request, grown while reads fill it (an API answer is a few kB, a
    // checkpoint streams in full chunks); each chunk is copied out at its own size.
    let mut buf = vec![0; 16 << 10];
    loop {
        {
            let mut s = channel.lock();
            while s.chunks.len() >= AHEAD && !s.cancelled {
                s = channel.room.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            if s.cancelled {
                return;
            }
        }
        let item = match reader.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                let chunk = buf[..n].to_vec();
                if n == buf.len() && buf.len() < CHUNK {
                    buf.resize(2 * buf.len(), 0);
                }
                Some(Ok(chunk))
            }
            Err(e) => Some(Err(read_error(e))),
        };
        let last = !matches!(item, Some(Ok(_)));
        channel.update(|s| {
            if let Some(item) = item {
                s.chunks.push_back(item);
            }
            s.finished = last;
        });
        if last {
            return;
        }
    }
}

impl HttpClient for UreqClient {
    fn fetch(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<StreamedResponse, HttpError>> {
        self.start(request, None)
    }

    /// Streams the body from its reader on the request's thread: never whole in memory.
    fn upload(
        &self,
        request: HttpRequest,
        body: Upload,
        limit: usize,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, HttpError>> {
        let pending = self.start(request, Some(body));
        Box::pin(async move { pending.await?.collect(limit).await })
    }
}

impl UreqClient {
    fn start(
        &self,
        request: HttpRequest,
        upload: Option<Upload>,
    ) -> LocalBoxFuture<'static, Result<StreamedResponse, HttpError>> {
        let channel = Arc::new(Channel::default());
        let agent = self.agent.clone();
        let filler = channel.clone();
        let spawned = std::thread::Builder::new()
            .name("leakscope-http".into())
            .spawn(move || read_thread(agent, request, upload, filler));
        if let Err(e) = spawned {
            let error = HttpError::new(
                HttpErrorKind::Network,
                format!("no thread for the request: {e}"),
            );
            return Box::pin(futures_util::future::ready(Err(error)));
        }
        Box::pin(HeadFuture {
            channel: Some(channel),
        })
    }
}

struct HeadFuture {
    channel: Option<Arc<Channel>>,
}

impl Future for HeadFuture {
    type Output = Result<StreamedResponse, HttpError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(channel) = self.channel.clone() else {
            return Poll::Ready(Err(HttpError::new(
                HttpErrorKind::Request,
                "polled after completion",
            )));
        };
        let mut s = channel.lock();
        match s.head.take() {
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Some(Err(e)) => Poll::Ready(Err(e)),
            Some(Ok((status, headers))) => {
                drop(s);
                let body = ChunkStream {
                    channel: self.channel.take().expect("checked above"),
                };
                Poll::Ready(Ok(StreamedResponse {
                    status,
                    headers,
                    body: Box::pin(body),
                }))
            }
        }
    }
}

impl Drop for HeadFuture {
    fn drop(&mut self) {
        // Given up before the answer came (a stall): the thread must not wait for room forever.
        if let Some(channel) = self.channel.take() {
            channel.lock().cancelled = true;
            channel.room.notify_one();
        }
    }
}

struct ChunkStream {
    channel: Arc<Channel>,
}

impl Stream for ChunkStream {
    type Item = Result<Vec<u8>, HttpError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut s = self.channel.lock();
        if let Some(item) = s.chunks.pop_front() {
            self.channel.room.notify_one();
            return Poll::Ready(Some(item));
        }
        if s.finished {
            return Poll::Ready(None);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for ChunkStream {
    fn drop(&mut self) {
        self.channel.lock().cancelled = true;
        self.channel.room.notify_one();
    }
}
