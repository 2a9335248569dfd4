//! One file, downloaded whole or not at all, whatever the connection does: a dropped
//! connection resumes with `Range: bytes=<received>-` (the server must answer 206 from exactly
//! that byte, with the same validator, or the file starts over), lengths are checked against
//! `Content-Length`/`Content-Range`, the sha256 is computed while bytes arrive and checked when
//! one is known. A 404 is an answer ([`Fetched::Missing`]), so the caller can fall back.
//!
//! The same machinery moves part of a file for a text-first load ([`super::towers`]): a
//! stream from byte 0 that asks for a `Range` (a 206 says the server does ranges) and that a
//! watcher may stop once it has what it needs ([`stream`]), and one byte span into its place in
//! a buffer the size of the file ([`fetch_span`]), resumed within the span, which must come
//! from the same file (validator and size).

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};

use super::HubError;
use super::transport::{GetRequest, content_length, content_range, etag, sha256_from_headers};
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
    /// A text-first download's two parts so far ([`super::towers`]).
    Towers(super::progress::TowerProgress),
}

/// A [`stream`] its watcher stopped: the first bytes of the file and what the answer said.
#[derive(Debug)]
pub(super) struct Stopped {
    pub bytes: Vec<u8>,
    pub etag: Option<String>,
    pub total: Option<u64>,
    /// The sha256 the server named (`X-Linked-Etag`/`ETag`).
    pub header_sha: Option<String>,
    pub stats: FileStats,
}

/// How a [`stream`] ended well.
#[derive(Debug)]
pub(super) enum Streamed {
    Fetched(Fetched),
    Stopped(Stopped),
}

/// Looks at the file's first bytes after each chunk (and once before the first request, at a
/// resumed partial); `ranged`: the server answered with a 206; then the restarts so far.
/// Returns true to stop.
pub(super) type Watch<'w> = &'w mut dyn FnMut(&[u8], bool, u32) -> bool;

/// Why a try ended without the whole file.
enum TryEnd {
    /// Worth another try (a dropped connection, 5xx, 429): what happened, and the HTTP status
    /// when there was one.
    Transient(String, Option<u16>),
    Fatal(HubError),
}

/// How a try (or a whole run) ended well.
enum Ended {
    Complete,
    Missing,
    Stopped,
}

/// Where a download's bytes go.
enum Sink<'b> {
    /// The whole file, into a buffer that grows (a partial from an earlier attempt first).
    Whole(Vec<u8>),
    /// Bytes `start..start + buf.len()` of the file, into `buf`.
    Span {
        start: u64,
        buf: &'b mut [u8],
        filled: usize,
    },
}

struct State<'b> {
    sink: Sink<'b>,
    hasher: Sha256,
    etag: Option<String>,
    /// The file's size, as far as known.
    total: Option<u64>,
    /// The header-named sha256 (from `X-Linked-Etag`/`ETag`).
    header_sha: Option<String>,
    /// Send a `Range` even from byte 0: a 206 answer says the server does ranges.
    ask_range: bool,
    /// The last answer was a 206.
    ranged: bool,
    stats: FileStats,
}

impl<'b> State<'b> {
    fn new(sink: Sink<'b>, total: Option<u64>) -> Self {
        Self {
            sink,
            hasher: Sha256::new(),
            etag: None,
            total,
            header_sha: None,
            ask_range: false,
            ranged: false,
            stats: FileStats::default(),
        }
    }

    fn is_span(&self) -> bool {
        matches!(self.sink, Sink::Span { .. })
    }

    /// Bytes in the sink.
    fn received(&self) -> u64 {
        match &self.sink {
            Sink::Whole(bytes) => bytes.len() as u64,
            Sink::Span { filled, .. } => *filled as u64,
        }
    }

    /// The file offset of the sink's first byte.
    fn base(&self) -> u64 {
        match &self.sink {
            Sink::Whole(_) => 0,
            Sink::Span { start, .. } => *start,
        }
    }

    /// Bytes the sink holds when done: the file's size, or the span's length.
    fn wanted(&self) -> Option<u64> {
        match &self.sink {
            Sink::Whole(_) => self.total,
            Sink::Span { buf, .. } => Some(buf.len() as u64),
        }
    }

    fn restart(&mut self) {
        match &mut self.sink {
            Sink::Whole(bytes) => bytes.clear(),
            Sink::Span { filled, .. } => *filled = 0,
        }
        self.hasher = Sha256::new();
        self.stats.restarts += 1;
    }

    /// Appends a chunk; false when it does not fit (memory, or past the span's end).
    fn append(&mut self, chunk: &[u8]) -> bool {
        match &mut self.sink {
            Sink::Whole(bytes) => {
                if bytes.try_reserve(chunk.len()).is_err() {
                    return false;
                }
                bytes.extend_from_slice(chunk);
                self.hasher.update(chunk);
            }
            Sink::Span { buf, filled, .. } => {
                let Some(to) = buf.get_mut(*filled..*filled + chunk.len()) else {
                    return false;
                };
                to.copy_from_slice(chunk);
                *filled += chunk.len();
            }
        }
        self.stats.network_bytes += chunk.len() as u64;
        true
    }

    fn take_bytes(&mut self) -> Vec<u8> {
        match &mut self.sink {
            Sink::Whole(bytes) => std::mem::take(bytes),
            Sink::Span { .. } => Vec::new(),
        }
    }
}

/// The whole file (resumed from `resume` when it holds a usable partial).
pub async fn download(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    resume: Option<Partial>,
    on_event: &mut dyn FnMut(FileEvent),
) -> Result<Fetched, Failure> {
    match stream(net, clock, policy, target, resume, on_event, None).await? {
        Streamed::Fetched(fetched) => Ok(fetched),
        // Without a watcher nothing stops a download.
        Streamed::Stopped(stopped) => Err(Failure {
            error: not_stopped(target),
            partial: None,
            stats: stopped.stats,
        }),
    }
}

/// [`download`], and with a watcher: from byte 0 with a `Range` (so the answer says whether
/// the server does ranges), showing `watch` the bytes so far after every chunk; stops when it
/// says so.
pub(super) async fn stream(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    resume: Option<Partial>,
    on_event: &mut dyn FnMut(FileEvent),
    mut watch: Option<Watch<'_>>,
) -> Result<Streamed, Failure> {
    let mut state = whole(target, resume);
    if let (Some(watch), Sink::Whole(bytes)) = (watch.as_mut(), &state.sink) {
        // Asked for a Range from byte 0; a kept partial may hold what the watcher waits for.
        state.ask_range = true;
        watch(bytes, false, 0);
    }
    match run(net, clock, policy, target, &mut state, on_event, watch).await {
        Ok(Ended::Complete) => match finished(target, &mut state) {
            Ok(done) => Ok(Streamed::Fetched(Fetched::Done(done))),
            Err(error) => Err(fail(error, None, state)),
        },
        Ok(Ended::Missing) => Ok(Streamed::Fetched(Fetched::Missing(state.stats))),
        Ok(Ended::Stopped) => Ok(Streamed::Stopped(Stopped {
            bytes: state.take_bytes(),
            etag: state.etag,
            total: state.total,
            header_sha: state.header_sha,
            stats: state.stats,
        })),
        Err((error, partial)) => Err(failure(error, partial, state)),
    }
}

/// Only a watcher stops a download; anything else saying so is a bug, reported as this.
fn not_stopped(target: &Target) -> HubError {
    HubError::Ranges {
        url: target.url.clone(),
        detail: "the download stopped by itself".into(),
    }
}

/// What a span belongs to: a file of `total` bytes with validator `etag` (from the stream
/// that read its header).
pub(super) struct SpanOf<'a> {
    pub start: u64,
    pub total: u64,
    pub etag: Option<&'a str>,
}

/// Bytes `span.start..span.start + buf.len()` of the file into `buf`, with `Range: bytes=a-b`,
/// resumed within the span. [`HubError::Ranges`] when the server answers anything but that
/// range of that file; no sha256 here (the caller checks the whole file).
pub(super) async fn fetch_span(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    span: SpanOf<'_>,
    buf: &mut [u8],
    on_event: &mut dyn FnMut(FileEvent),
) -> Result<FileStats, Failure> {
    let mut state = State::new(
        Sink::Span {
            start: span.start,
            buf,
            filled: 0,
        },
        Some(span.total),
    );
    state.etag = span.etag.map(str::to_string);
    match run(net, clock, policy, target, &mut state, on_event, None).await {
        Ok(Ended::Complete) => Ok(state.stats),
        // A 404 in the middle of a file that answered a moment ago: it is gone.
        Ok(Ended::Missing) => Err(fail(
            HubError::NotFound {
                file: target.file.clone(),
                url: target.url.clone(),
            },
            None,
            state,
        )),
        Ok(Ended::Stopped) => Err(fail(not_stopped(target), None, state)),
        Err((error, _)) => Err(fail(error, None, state)),
    }
}

/// The state of a whole-file download, from `resume` when it holds a usable partial.
fn whole(target: &Target, resume: Option<Partial>) -> State<'static> {
    let mut state = State::new(Sink::Whole(Vec::new()), target.size);
    if let Some(partial) = resume
        && !partial.bytes.is_empty()
        && partial
            .total
            .is_none_or(|t| partial.bytes.len() as u64 <= t)
    {
        state.hasher.update(&partial.bytes);
        state.sink = Sink::Whole(partial.bytes);
        state.etag = partial.etag;
        state.total = state.total.or(partial.total);
    }
    state
}

/// The tries: until the sink is complete and checked, a 404, a fatal answer, or too many tries
/// without new bytes (then the error, and whether the bytes so far are worth keeping).
async fn run(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    state: &mut State<'_>,
    on_event: &mut dyn FnMut(FileEvent),
    mut watch: Option<Watch<'_>>,
) -> Result<Ended, (HubError, bool)> {
    on_event(FileEvent::Size(state.total));
    if state.received() > 0 {
        on_event(FileEvent::Bytes {
            received: state.received(),
            network: 0,
        });
    }
    let mut idle_tries = 0u32;
    let mut rehashed = false;
    loop {
        let before = state.received();
        let end = one_try(
            net,
            clock,
            policy.stall,
            target,
            state,
            on_event,
            &mut watch,
        )
        .await;
        let (detail, last_status) = match end {
            Ok(Ended::Complete) => match check(target, state) {
                Ok(()) => return Ok(Ended::Complete),
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
                Err(error) => return Err((error, false)),
            },
            Ok(other) => return Ok(other),
            Err(TryEnd::Fatal(error)) => return Err((error, false)),
            Err(TryEnd::Transient(detail, status)) => (detail, status),
        };
        if state.received() >= before + MIN_PROGRESS_BYTES {
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
            let received = state.received();
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
                    received: state.base() + received,
                    total: state.total,
                    tries: state.stats.requests,
                    detail,
                    kept: false,
                }
            };
            return Err((error, received > 0));
        }
        let delay = policy
            .first_delay
            .saturating_mul(1 << idle_tries.saturating_sub(1).min(16))
            .min(policy.max_delay);
        let at = state.base() + state.received();
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

/// A failure with the bytes so far when they are worth keeping.
fn failure(error: HubError, keep: bool, mut state: State) -> Failure {
    let partial = keep.then(|| Partial {
        bytes: state.take_bytes(),
        etag: state.etag.clone(),
        total: state.total,
    });
    fail(error, partial, state)
}

/// One request: `Complete` when the body ended where it should.
async fn one_try(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    stall: Duration,
    target: &Target,
    state: &mut State<'_>,
    on_event: &mut dyn FnMut(FileEvent),
    watch: &mut Option<Watch<'_>>,
) -> Result<Ended, TryEnd> {
    let start = state.received();
    // A partial that is already whole (the connection broke after the last byte).
    if (start > 0 || state.is_span()) && state.wanted() == Some(start) {
        return Ok(Ended::Complete);
    }
    let at = state.base() + start;
    let span_end = match &state.sink {
        Sink::Span { start, buf, .. } => Some(start + buf.len() as u64),
        Sink::Whole(_) => None,
    };
    let request = GetRequest {
        url: target.url.clone(),
        headers: target.headers.clone(),
        range_start: (at > 0 || state.ask_range || span_end.is_some()).then_some(at),
        range_end: span_end.map(|end| end - 1),
    };
    state.stats.requests += 1;
    if start > 0 {
        state.stats.resumed_at.push(at);
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
    let ranges = |detail: &str| {
        TryEnd::Fatal(HubError::Ranges {
            url: target.url.clone(),
            detail: detail.into(),
        })
    };
    match status {
        200 => {
            if state.is_span() {
                return Err(ranges("the whole file came"));
            }
            if start > 0 {
                // The server ignored the Range: take the whole body from byte 0.
                state.restart();
            }
            state.ranged = false;
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
            let same_size = !state.is_span()
                || match (range.and_then(|(_, total)| total), state.total) {
                    (Some(now), Some(before)) => now == before,
                    _ => true,
                };
            match range {
                Some((first, total)) if first == at && same_file && same_size => {
                    if total.is_some() {
                        state.total = total;
                    }
                    if state.etag.is_none() {
                        state.etag = etag(headers);
                    }
                    state.ranged = true;
                }
                _ if state.is_span() => {
                    return Err(ranges(if same_file && same_size {
                        "another range came"
                    } else {
                        "the file changed on the server"
                    }));
                }
                _ => {
                    // Not the continuation of our bytes: start over without a Range.
                    state.restart();
                    state.ask_range = false;
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
            if state.is_span() {
                return Err(ranges("the server refused the range"));
            }
            state.restart();
            state.ask_range = false;
            return Err(TryEnd::Transient(
                "the server refused the range".into(),
                None,
            ));
        }
        404 | 410 => return Ok(Ended::Missing),
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
    if let Some(sha) = sha256_from_headers(headers) {
        state.header_sha = Some(sha);
    }
    on_event(FileEvent::Size(state.total));
    on_event(FileEvent::Bytes {
        received: state.received(),
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
    if let (Sink::Whole(bytes), Some(total)) = (&mut state.sink, state.total) {
        let more = total.saturating_sub(bytes.len() as u64);
        let fits = usize::try_from(more)
            .ok()
            .is_some_and(|more| bytes.try_reserve_exact(more).is_ok());
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
        let after = state.received() + chunk.len() as u64;
        if state.base() + after > cap {
            return Err(TryEnd::Fatal(over(state.base() + after)));
        }
        if let Some(wanted) = state.wanted()
            && after > wanted
        {
            if status == 200 && start == 0 {
                // Longer than announced on a plain GET: compressed in transit (see above).
                state.total = None;
                on_event(FileEvent::Size(None));
            } else {
                return Err(TryEnd::Fatal(HubError::Length {
                    file: target.file.clone(),
                    url: target.url.clone(),
                    expected: wanted,
                    got: after,
                }));
            }
        }
        if !state.append(&chunk) {
            return Err(TryEnd::Fatal(HubError::OutOfMemory {
                file: target.file.clone(),
                bytes: state.base() + after,
            }));
        }
        // The watcher first: what it learns (the header) goes with this chunk's progress.
        let stop = match (watch.as_mut(), &state.sink) {
            (Some(watch), Sink::Whole(bytes)) => watch(bytes, state.ranged, state.stats.restarts),
            _ => false,
        };
        on_event(FileEvent::Bytes {
            received: state.received(),
            network: chunk.len() as u64,
        });
        if stop {
            return Ok(Ended::Stopped);
        }
    }
    // Shorter than the listing is incomplete too (a compressed transfer leaves no other length).
    match state.wanted().or(target.size) {
        Some(wanted) if state.received() < wanted => Err(TryEnd::Transient(
            format!(
                "the connection closed after {} of {} bytes",
                state.base() + state.received(),
                state.total.unwrap_or(state.base() + wanted)
            ),
            None,
        )),
        _ => Ok(Ended::Complete),
    }
}

fn stalled(stall: Duration, what: &str) -> String {
    format!("no {what} for {} s", stall.as_secs_f32())
}

/// The sha256 to check the file against, and who named it.
fn expected_sha(target: &Target, header_sha: Option<&str>) -> Option<(String, String)> {
    target
        .sha256
        .clone()
        .or_else(|| header_sha.map(|s| (s.to_string(), "the server's ETag".to_string())))
}

/// A complete body: for a whole file, its sha256 against the best-informed source.
fn check(target: &Target, state: &mut State) -> Result<(), HubError> {
    if state.is_span() {
        return Ok(());
    }
    let actual = hex(&state.hasher.finish());
    checksum(target, state.header_sha.as_deref(), &actual).map(drop)
}

/// `actual` against the expected sha256; who named it, when someone did.
pub(super) fn checksum(
    target: &Target,
    header_sha: Option<&str>,
    actual: &str,
) -> Result<Option<String>, HubError> {
    let expected = expected_sha(target, header_sha);
    if let Some((sha, origin)) = &expected
        && !sha.eq_ignore_ascii_case(actual)
    {
        return Err(HubError::Checksum {
            file: target.file.clone(),
            url: target.url.clone(),
            expected: sha.to_ascii_lowercase(),
            actual: actual.to_string(),
            origin: origin.clone(),
        });
    }
    Ok(expected.map(|(_, origin)| origin))
}

/// The checked whole file, taken out of `state` (or why it is not the expected one).
fn finished(target: &Target, state: &mut State) -> Result<Downloaded, HubError> {
    let actual = hex(&state.hasher.finish());
    let verified_by = checksum(target, state.header_sha.as_deref(), &actual)?;
    let bytes = state.take_bytes();
    Ok(Downloaded {
        total: bytes.len() as u64,
        bytes,
        sha256: actual,
        etag: state.etag.clone(),
        verified_by,
        stats: std::mem::take(&mut state.stats),
    })
}
