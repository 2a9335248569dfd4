//! One file, downloaded whole or not at all, whatever the connection does: a dropped
//! connection resumes with `Range: bytes=<received>-` (the server must answer 206 from exactly
//! that byte, with the same validator, or the file starts over), lengths are checked against
//! `Content-Length`/`Content-Range`, the sha256 is computed while bytes arrive and checked when
//! one is known. A 404 is an answer ([`Fetched::Missing`]), so the caller can fall back.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};

use super::HubError;
use super::transport::{GetRequest, content_length, content_range, etag};
use crate::platform::clock::Clock;
use crate::platform::http::HttpClient;
use crate::util::format::human_bytes;
use crate::util::hash::{Sha256, hex};

/// Largest file downloaded into memory when no smaller limit is known (the hub's listing, or
/// [`Target::limit`]): the largest CLIP checkpoint in f32 (ViT-bigG) is about 10 GB, more than
/// a browser tab or a 32-bit wasm memory can hold, so 4 GiB is the practical ceiling.
pub const MAX_DOWNLOAD_BYTES: u64 = 4 << 30;

/// A try that brings fewer new bytes than this counts as bringing nothing (a server that drops
/// every connection after a few bytes would otherwise be asked forever).
pub const MIN_PROGRESS_BYTES: u64 = 256 << 10;

/// How hard to try. Tries count only while they bring no real progress
/// ([`MIN_PROGRESS_BYTES`]): a flaky connection that makes progress goes on, up to
/// `max_requests` requests for the file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Tries in a row that bring nothing before giving up.
    pub tries: u32,
    /// Requests for one file in all, progress or not.
    pub max_requests: u32,
    /// The wait after the first failed try; doubles after each, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// A connection that sends nothing (no answer, no body bytes) for this long is dropped and
    /// resumed: mobile networks stall more often than they close. Detected within 1–2× this.
    pub stall: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            tries: 5,
            max_requests: 50,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            stall: Duration::from_secs(30),
        }
    }
}

/// What to download and what it must be.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub file: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// (sha256 hex, who said so) when known before the download.
    pub sha256: Option<(String, String)>,
    /// The size the hub's listing gives, when known: no more than this is read.
    pub size: Option<u64>,
    /// Most bytes to read when the listing gives no size; [`MAX_DOWNLOAD_BYTES`] when `None`.
    pub limit: Option<u64>,
    /// The repo's page, for the 403 message.
    pub page: Option<String>,
    /// Give up after the second failed try when nothing has answered yet in this load: a wrong
    /// host or a CORS refusal should not take half a minute of back-off to report.
    pub quick_fail: bool,
}

/// The first bytes of the file from an earlier attempt (the cache keeps them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partial {
    pub bytes: Vec<u8>,
    pub etag: Option<String>,
    pub total: Option<u64>,
}

/// What happened on the wire for one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileStats {
    pub requests: u32,
    /// The `Range` start of each resumed request.
    pub resumed_at: Vec<u64>,
    /// Times the file started over (a 200 to a Range request, a changed validator, a resumed
    /// file that failed its sha256).
    pub restarts: u32,
    /// Body bytes received over the network, restarts included.
    pub network_bytes: u64,
    /// Some request got an HTTP answer.
    pub answered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Downloaded {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub etag: Option<String>,
    /// Who named the sha256 the bytes were checked against; `None` when only lengths were.
    pub verified_by: Option<String>,
    pub total: u64,
    pub stats: FileStats,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    Done(Downloaded),
    /// 404 or 410.
    Missing(FileStats),
}

#[derive(Debug)]
pub struct Failure {
    pub error: HubError,
    /// The bytes so far, worth keeping when the connection gave up.
    pub partial: Option<Partial>,
    pub stats: FileStats,
}

/// What the download tells the progress line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileEvent {
    /// The file's size became known (or changed on a restart).
    Size(Option<u64>),
    /// `received` bytes of the file are in memory; `network` new bytes came in since the last
    /// event (restarts drop `received` back).
    Bytes { received: u64, network: u64 },
    /// A try failed and another follows.
    Retry(String),
}

/// Why a try ended without the whole file.
enum TryEnd {
    /// Worth another try (a dropped connection, 5xx, 429): what happened, and the HTTP status
    /// when there was one.
    Transient(String, Option<u16>),
    Fatal(HubError),
}

struct State {
    bytes: Vec<u8>,
    hasher: Sha256,
    etag: Option<String>,
    total: Option<u64>,
    /// The header-named sha256 (from `X-Linked-Etag`/`ETag`).
    header_sha: Option<String>,
    stats: FileStats,
}

impl State {
    fn restart(&mut self) {
        self.bytes.clear();
        self.hasher = Sha256::new();
        self.stats.restarts += 1;
    }

    fn append(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        self.hasher.update(chunk);
        self.stats.network_bytes += chunk.len() as u64;
    }
}

pub async fn download(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    resume: Option<Partial>,
    on_event: &mut dyn FnMut(FileEvent),
) -> Result<Fetched, Failure> {
    let mut state = State {
        bytes: Vec::new(),
        hasher: Sha256::new(),
        etag: None,
        total: target.size,
        header_sha: None,
        stats: FileStats::default(),
    };
    if let Some(partial) = resume
        && !partial.bytes.is_empty()
        && partial
            .total
            .is_none_or(|t| partial.bytes.len() as u64 <= t)
    {
        state.hasher.update(&partial.bytes);
        state.bytes = partial.bytes;
        state.etag = partial.etag;
        state.total = state.total.or(partial.total);
    }
    on_event(FileEvent::Size(state.total));
    if !state.bytes.is_empty() {
        on_event(FileEvent::Bytes {
            received: state.bytes.len() as u64,
            network: 0,
        });
    }
    let mut idle_tries = 0u32;
    let mut rehashed = false;
    loop {
        let before = state.bytes.len();
        let end = one_try(net, clock, policy.stall, target, &mut state, on_event).await;
        let (detail, last_status) = match end {
            Ok(Some(missing)) => return Ok(missing),
            Ok(None) => match finish(target, &mut state) {
                Ok(done) => return Ok(Fetched::Done(done)),
                // A resumed file that fails its check may have joined two versions: once,
                // download it whole.
                Err(error @ HubError::Checksum { .. })
                    if !state.stats.resumed_at.is_empty() && !rehashed =>
                {
                    rehashed = true;
                    state.restart();
                    on_event(FileEvent::Bytes {
                        received: 0,
                        network: 0,
                    });
                    (error.to_string(), None)
                }
                Err(error) => return Err(fail(error, None, state)),
            },
            Err(TryEnd::Fatal(error)) => return Err(fail(error, None, state)),
            Err(TryEnd::Transient(detail, status)) => (detail, status),
        };
        if state.bytes.len() >= before + MIN_PROGRESS_BYTES as usize {
            idle_tries = 0;
        } else {
            idle_tries += 1;
        }
        let allowed = if target.quick_fail && !state.stats.answered {
            2
        } else {
            policy.tries
        };
        if idle_tries >= allowed || state.stats.requests >= policy.max_requests {
            let received = state.bytes.len() as u64;
            let error = if !state.stats.answered {
                HubError::Network {
                    url: target.url.clone(),
                    detail,
                }
            } else if let (Some(status), 0) = (last_status, received) {
                HubError::Http {
                    url: target.url.clone(),
                    status,
                }
            } else {
                HubError::Interrupted {
                    file: target.file.clone(),
                    received,
                    total: state.total,
                    tries: state.stats.requests,
                    detail,
                    kept: false,
                }
            };
            let partial = (received > 0).then(|| Partial {
                bytes: std::mem::take(&mut state.bytes),
                etag: state.etag.clone(),
                total: state.total,
            });
            return Err(fail(error, partial, state));
        }
        let delay = policy
            .first_delay
            .saturating_mul(1 << idle_tries.saturating_sub(1).min(16))
            .min(policy.max_delay);
        let at = state.bytes.len() as u64;
        on_event(FileEvent::Retry(if at > 0 {
            format!("{detail}; resuming at {}", human_bytes(at))
        } else {
            format!("{detail}; trying again")
        }));
        if !delay.is_zero() {
            clock.sleep(delay).await;
        }
    }
}

fn fail(error: HubError, partial: Option<Partial>, state: State) -> Failure {
    Failure {
        error,
        partial,
        stats: state.stats,
    }
}

/// One request: `Ok(Some(_))` for a missing file, `Ok(None)` when the body ended where it should.
async fn one_try(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    stall: Duration,
    target: &Target,
    state: &mut State,
    on_event: &mut dyn FnMut(FileEvent),
) -> Result<Option<Fetched>, TryEnd> {
    let start = state.bytes.len() as u64;
    // A partial that is already whole (the connection broke after the last byte).
    if start > 0 && state.total == Some(start) {
        return Ok(None);
    }
    let request = GetRequest {
        url: target.url.clone(),
        headers: target.headers.clone(),
        range_start: (start > 0).then_some(start),
    };
    state.stats.requests += 1;
    if start > 0 {
        state.stats.resumed_at.push(start);
    }
    let response = match select(net.fetch(request.into_http()), clock.sleep(stall)).await {
        Either::Left((response, _)) => response.map_err(|e| TryEnd::Transient(e.message, None))?,
        Either::Right(_) => return Err(TryEnd::Transient(stalled(stall, "an answer"), None)),
    };
    state.stats.answered = true;
    let token_sent = target
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    let headers = &response.headers;
    let status = response.status;
    match status {
        200 => {
            if start > 0 {
                // The server ignored the Range: take the whole body from byte 0.
                state.restart();
            }
            state.etag = etag(headers);
            // A body longer than Content-Length would mean transfer compression: then the
            // length cannot be checked, only the sha256 (if one is known).
            if let Some(announced) = content_length(headers) {
                state.total = Some(announced);
            }
        }
        206 => {
            let range = content_range(headers);
            let same_file = match (&state.etag, etag(headers)) {
                (Some(before), Some(now)) => *before == now,
                _ => true,
            };
            match range {
                Some((first, total)) if first == start && same_file => {
                    if total.is_some() {
                        state.total = total;
                    }
                    if state.etag.is_none() {
                        state.etag = etag(headers);
                    }
                }
                _ => {
                    // Not the continuation of our bytes: start over without a Range.
                    state.restart();
                    on_event(FileEvent::Bytes {
                        received: 0,
                        network: 0,
                    });
                    let detail = if same_file {
                        "the server resumed at the wrong byte"
                    } else {
                        "the file changed on the server"
                    };
                    return Err(TryEnd::Transient(detail.into(), None));
                }
            }
        }
        416 => {
            state.restart();
            return Err(TryEnd::Transient(
                "the server refused the range".into(),
                None,
            ));
        }
        404 | 410 => return Ok(Some(Fetched::Missing(state.stats.clone()))),
        401 => {
            return Err(TryEnd::Fatal(HubError::Unauthorized {
                url: target.url.clone(),
                token_sent,
            }));
        }
        403 => {
            return Err(TryEnd::Fatal(HubError::Forbidden {
                url: target.url.clone(),
                page: target.page.clone(),
                token_sent,
            }));
        }
        408 | 425 | 429 | 500..=599 => {
            return Err(TryEnd::Transient(format!("HTTP {status}"), Some(status)));
        }
        _ => {
            return Err(TryEnd::Fatal(HubError::Http {
                url: target.url.clone(),
                status,
            }));
        }
    }
    if let Some(sha) = super::transport::sha256_from_headers(headers) {
        state.header_sha = Some(sha);
    }
    on_event(FileEvent::Size(state.total));
    on_event(FileEvent::Bytes {
        received: state.bytes.len() as u64,
        network: 0,
    });
    // The most this file may be: the hub's listing, else the limit.
    let cap = target
        .size
        .unwrap_or_else(|| target.limit.unwrap_or(MAX_DOWNLOAD_BYTES));
    let over = |got: u64| match target.size {
        Some(expected) => HubError::Length {
            file: target.file.clone(),
            url: target.url.clone(),
            expected,
            got,
        },
        None => HubError::TooLarge {
            file: target.file.clone(),
            limit: cap,
        },
    };
    if let Some(total) = state.total
        && total > cap
    {
        return Err(TryEnd::Fatal(over(total)));
    }
    if let Some(total) = state.total {
        let more = total.saturating_sub(state.bytes.len() as u64);
        let fits = usize::try_from(more)
            .ok()
            .is_some_and(|more| state.bytes.try_reserve_exact(more).is_ok());
        if !fits {
            return Err(TryEnd::Fatal(HubError::OutOfMemory {
                file: target.file.clone(),
                bytes: total,
            }));
        }
    }
    let mut body = response.body;
    // One timer per stall period, not per chunk: when it fires, the connection stalled only if
    // nothing arrived since it was set.
    let mut watchdog = clock.sleep(stall);
    let mut arrived = false;
    loop {
        let chunk = match select(body.next(), &mut watchdog).await {
            Either::Left((Some(chunk), _)) => chunk,
            Either::Left((None, _)) => break,
            Either::Right(((), _)) if arrived => {
                arrived = false;
                watchdog = clock.sleep(stall);
                continue;
            }
            Either::Right(_) => return Err(TryEnd::Transient(stalled(stall, "data"), None)),
        };
        arrived = true;
        let chunk = chunk.map_err(|e| TryEnd::Transient(e.message, None))?;
        let got = state.bytes.len() as u64 + chunk.len() as u64;
        if got > cap {
            return Err(TryEnd::Fatal(over(got)));
        }
        if let Some(total) = state.total
            && state.bytes.len() as u64 + chunk.len() as u64 > total
        {
            if status == 200 && start == 0 {
                // Longer than announced on a plain GET: compressed in transit (see above).
                state.total = None;
                on_event(FileEvent::Size(None));
            } else {
                return Err(TryEnd::Fatal(HubError::Length {
                    file: target.file.clone(),
                    url: target.url.clone(),
                    expected: total,
                    got: state.bytes.len() as u64 + chunk.len() as u64,
                }));
            }
        }
        if state.bytes.try_reserve(chunk.len()).is_err() {
            return Err(TryEnd::Fatal(HubError::OutOfMemory {
                file: target.file.clone(),
                bytes: state.bytes.len() as u64 + chunk.len() as u64,
            }));
        }
        state.append(&chunk);
        on_event(FileEvent::Bytes {
            received: state.bytes.len() as u64,
            network: chunk.len() as u64,
        });
    }
    // Shorter than the listing is incomplete too (a compressed transfer leaves no other length).
    match state.total.or(target.size) {
        Some(total) if (state.bytes.len() as u64) < total => Err(TryEnd::Transient(
            format!(
                "the connection closed after {} of {} bytes",
                state.bytes.len(),
                total
            ),
            None,
        )),
        _ => Ok(None),
    }
}

fn stalled(stall: Duration, what: &str) -> String {
    format!("no {what} for {} s", stall.as_secs_f32())
}

/// The body is complete: check the sha256 against the best-informed source.
fn finish(target: &Target, state: &mut State) -> Result<Downloaded, HubError> {
    let actual = hex(&state.hasher.finish());
    let expected = target.sha256.clone().or_else(|| {
        state
            .header_sha
            .clone()
            .map(|s| (s, "the server's ETag".to_string()))
    });
    if let Some((sha, origin)) = &expected
        && !sha.eq_ignore_ascii_case(&actual)
    {
        return Err(HubError::Checksum {
            file: target.file.clone(),
            url: target.url.clone(),
            expected: sha.to_ascii_lowercase(),
            actual,
            origin: origin.clone(),
        });
    }
    let bytes = std::mem::take(&mut state.bytes);
    Ok(Downloaded {
        total: bytes.len() as u64,
        bytes,
        sha256: actual,
        etag: state.etag.clone(),
        verified_by: expected.map(|(_, origin)| origin),
        stats: state.stats.clone(),
    })
}
