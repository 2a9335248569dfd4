//! [`HttpClient`] for native builds: ureq (blocking, rustls) with each request on its own thread,
//! handing the response back through a one-shot slot that wakes the awaiting future. No async
//! runtime is involved; the engine stays runtime-free.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;

use crate::eval::provider::{ErrorKind, HttpClient, HttpRequest, HttpResponse, ProviderError};

/// Answers larger than this are refused (chat answers are a few kB).
const MAX_BODY: u64 = 16 << 20;

#[derive(Clone)]
pub struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    /// `timeout`: the whole exchange, so a request the engine gave up on also ends its thread.
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_idle_connections(256)
            .max_idle_connections_per_host(256)
            .build()
            .into();
        Self { agent }
    }

    fn send_blocking(
        agent: &ureq::Agent,
        request: HttpRequest,
    ) -> Result<HttpResponse, ProviderError> {
        let mut builder = match request.method {
            "POST" => agent.post(&request.url),
            other => {
                return Err(ProviderError::new(
                    ErrorKind::Request,
                    format!("method {other} not supported"),
                ));
            }
        };
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        let response = builder.send(&request.body[..]).map_err(classify)?;
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
        let body = response
            .into_body()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(classify)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn classify(e: ureq::Error) -> ProviderError {
    let kind = match &e {
        ureq::Error::Timeout(_) => ErrorKind::Timeout,
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            ErrorKind::Request
        }
        _ => ErrorKind::Network,
    };
    ProviderError::new(kind, e.to_string())
}

impl HttpClient for UreqClient {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, ProviderError>> {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let agent = self.agent.clone();
        let filler = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("leakscope-http".into())
            .spawn(move || {
                let result = Self::send_blocking(&agent, request);
                let mut s = filler.lock().unwrap_or_else(|e| e.into_inner());
                s.result = Some(result);
                if let Some(w) = s.waker.take() {
                    w.wake();
                }
            });
        if let Err(e) = spawned {
            let error = ProviderError::new(
                ErrorKind::Network,
                format!("no thread for the request: {e}"),
            );
            return Box::pin(futures_util::future::ready(Err(error)));
        }
        Box::pin(Pending { slot })
    }
}

#[derive(Default)]
struct Slot {
    result: Option<Result<HttpResponse, ProviderError>>,
    waker: Option<Waker>,
}

struct Pending {
    slot: Arc<Mutex<Slot>>,
}

impl Future for Pending {
    type Output = Result<HttpResponse, ProviderError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        match s.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
