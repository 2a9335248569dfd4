//! [`ByteFetcher`] for native builds: ureq on a thread per request, the body handed over in
//! chunks through a bounded queue (a fast network does not pile hundreds of MB up in memory
//! while the consumer hashes). No async runtime: the futures are woken by the thread.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::Stream;
use futures_util::future::LocalBoxFuture;

use super::transport::{ByteFetcher, GetRequest, GetResponse, NetError};

const CHUNK: usize = 256 << 10;
/// Chunks read ahead of the consumer (16 MB).
const AHEAD: usize = 64;

#[derive(Clone)]
pub struct UreqFetcher {
    agent: ureq::Agent,
}

impl Default for UreqFetcher {
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}

impl UreqFetcher {
    /// `stall`: give up on a connection that sends nothing for this long (connect, answer, or
    /// between two reads of the body); a large file may take as long as it needs overall.
    pub fn new(stall: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(stall))
            .timeout_recv_response(Some(stall))
            .timeout_per_read(Some(stall))
            .build()
            .into();
        Self { agent }
    }
}

type Head = Result<(u16, Vec<(String, String)>), NetError>;

#[derive(Default)]
struct Shared {
    head: Option<Head>,
    chunks: VecDeque<Result<Vec<u8>, NetError>>,
    finished: bool,
    /// The consumer dropped the body: the thread stops reading.
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

fn read_thread(agent: ureq::Agent, request: GetRequest, channel: Arc<Channel>) {
    let mut builder = agent.get(&request.url);
    for (k, v) in request.all_headers() {
        builder = builder.header(k, v);
    }
    let response = match builder.call() {
        Ok(r) => r,
        Err(e) => {
            channel.update(|s| {
                s.head = Some(Err(NetError(e.to_string())));
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
        let mut buf = vec![0; CHUNK];
        let item = match reader.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some(Ok(buf))
            }
            Err(e) => Some(Err(NetError(format!("connection broken: {e}")))),
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

impl ByteFetcher for UreqFetcher {
    fn get(&self, request: GetRequest) -> LocalBoxFuture<'static, Result<GetResponse, NetError>> {
        let channel = Arc::new(Channel::default());
        let agent = self.agent.clone();
        let filler = channel.clone();
        let spawned = std::thread::Builder::new()
            .name("leakscope-download".into())
            .spawn(move || read_thread(agent, request, filler));
        if let Err(e) = spawned {
            let error = NetError(format!("no thread for the download: {e}"));
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
    type Output = Result<GetResponse, NetError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(channel) = self.channel.clone() else {
            return Poll::Ready(Err(NetError("polled after completion".into())));
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
                Poll::Ready(Ok(GetResponse {
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
    type Item = Result<Vec<u8>, NetError>;
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
