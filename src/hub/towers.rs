//! Text first: the checkpoint's text tower before its vision tower, so text can be scored
//! while the image tower still downloads.
//!
//! The weights file is fetched as one checked, resumable download, in two phases:
//!
//! 1. A stream from byte 0 with `Range: bytes=0-` brings the safetensors header, which says
//!    where every tensor sits ([`FileLayout`]); [`TowerPlan`] sorts the byte ranges into phase
//!    one (header, text tower, what both towers share such as `logit_scale`, and small gaps
//!    between them, [`MAX_GAP`]) and phase two (the rest: the vision tower).
//! 2. When phase one is the file's first bytes — every checkpoint written by `safetensors`,
//!    which orders tensors by name, so `text_*` before `vision_*` — the same stream simply goes
//!    on: the text part is handed over once its last byte is in, and the vision tower follows
//!    without another request. Otherwise, if the server answered 206, the stream stops after
//!    the header and phase one's ranges come with `Range: bytes=a-b` requests, then phase two's.
//!    A server without ranges (200) sends the whole file: the text part is handed over when its
//!    bytes are in, wherever they are.
//!
//! Either way the whole file ends in one buffer, its sha256 is checked over all of it, and the
//! caller caches the whole file. A failure keeps the file's first contiguous bytes, so a later
//! load resumes. The text part ([`FileLayout::extract`]) is handed over unchecked: the caller
//! uses it at once and trusts nothing of it until the whole file passed; `stale` says when the
//! download started over after handing it over (its bytes may belong to another version).

use std::cell::RefCell;
use std::ops::Range;

use super::HubError;
use super::download::{
    Failure, Fetched, FileEvent, FileStats, Partial, RetryPolicy, SpanOf, Streamed, Target,
    checksum, download, fetch_span, stream,
};
use super::progress::TowerProgress;
use crate::platform::clock::Clock;
use crate::platform::http::HttpClient;
use crate::util::hash::{hex, sha256};
use crate::weights::{FileLayout, Tower};

/// Gaps between phase one's ranges up to this size (and 1/64 of the file) are fetched with
/// them: a small tensor between text tensors (an old checkpoint's `position_ids`) is not worth
/// a request of its own.
pub const MAX_GAP: u64 = 1 << 20;

/// Which bytes of a safetensors checkpoint each phase of a text-first download fetches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TowerPlan {
    /// The file's size.
    pub total: u64,
    /// The header's end: the first tensor byte.
    pub header_end: u64,
    /// Each tower's tensors, as merged byte ranges of the file.
    pub text: Vec<Range<u64>>,
    pub vision: Vec<Range<u64>>,
    /// Tensors both towers use (`logit_scale`).
    pub shared: Vec<Range<u64>>,
    /// Phase one: the header, the text and shared tensors, and the small gaps between them
    /// ([`MAX_GAP`]).
    pub first: Vec<Range<u64>>,
    /// Phase two: the rest of the file.
    pub second: Vec<Range<u64>>,
}

impl TowerPlan {
    pub fn new(layout: &FileLayout) -> Self {
        let of = |tower: Tower| {
            merge(
                layout
                    .tensors
                    .iter()
                    .filter(|t| t.tower == tower)
                    .map(|t| t.bytes.clone()),
                0,
            )
        };
        let (text, vision, shared) = (of(Tower::Text), of(Tower::Vision), of(Tower::Shared));
        let header = std::iter::once(0..layout.header_end);
        let first = merge(
            header
                .chain(text.iter().cloned())
                .chain(shared.iter().cloned()),
            (layout.total / 64).min(MAX_GAP),
        );
        let second = complement(&first, layout.total);
        Self {
            total: layout.total,
            header_end: layout.header_end,
            text,
            vision,
            shared,
            first,
            second,
        }
    }

    /// `Some(end)` when phase one is the file's first `end` bytes: one stream from byte 0
    /// brings the text tower first.
    pub fn prefix_end(&self) -> Option<u64> {
        match self.first.as_slice() {
            [only] if only.start == 0 => Some(only.end),
            _ => None,
        }
    }

    /// The end of phase one's last range: a buffer of the file's first bytes this long holds
    /// the whole text part.
    pub fn first_end(&self) -> u64 {
        self.first.last().map_or(0, |r| r.end)
    }

    /// Bytes of each phase in `covered`, ranges of the file in memory.
    fn progress(&self, covered: &[Range<u64>]) -> TowerProgress {
        let text_total = length(&self.first);
        let text_done: u64 = covered.iter().map(|c| overlap(&self.first, c)).sum();
        let all: u64 = covered.iter().map(|c| c.end - c.start).sum();
        TowerProgress {
            text_done,
            text_total,
            vision_done: all.saturating_sub(text_done),
            vision_total: self.total.saturating_sub(text_total),
            text_eta: None,
        }
    }
}

/// Sorted, overlapping or touching ranges (and those less than `gap` apart) joined.
fn merge(ranges: impl Iterator<Item = Range<u64>>, gap: u64) -> Vec<Range<u64>> {
    let mut all: Vec<Range<u64>> = ranges.filter(|r| r.start < r.end).collect();
    all.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(all.len());
    for r in all {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// What of `0..total` sorted, disjoint `ranges` leave out.
fn complement(ranges: &[Range<u64>], total: u64) -> Vec<Range<u64>> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in ranges {
        if r.start > at {
            out.push(at..r.start);
        }
        at = at.max(r.end);
    }
    if at < total {
        out.push(at..total);
    }
    out
}

fn length(ranges: &[Range<u64>]) -> u64 {
    ranges.iter().map(|r| r.end - r.start).sum()
}

/// Bytes of `range` inside sorted `ranges`.
fn overlap(ranges: &[Range<u64>], range: &Range<u64>) -> u64 {
    ranges
        .iter()
        .map(|r| {
            r.end
                .min(range.end)
                .saturating_sub(r.start.max(range.start))
        })
        .sum()
}

/// `ranges` without their part below `from`.
fn from(ranges: &[Range<u64>], from: u64) -> Vec<Range<u64>> {
    ranges
        .iter()
        .filter(|r| r.end > from)
        .map(|r| r.start.max(from)..r.end)
        .collect()
}

/// How a text-first download went, beside its [`Fetched`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextFirst {
    /// The text part was handed over.
    pub handed_over: bool,
    /// … and then the download started over: that part may not match the checked file.
    pub stale: bool,
}

/// The layout and plan, once the header is in.
struct Planned {
    layout: FileLayout,
    plan: TowerPlan,
}

/// The weights file of `target`, text tower first: `on_text` receives a safetensors file of
/// the text tower's and the shared tensors ([`Tower::text_first`]) as soon as their bytes are
/// in, at most once; the whole file comes back as [`download`]'s would, checked.
#[allow(clippy::too_many_arguments)]
pub(super) async fn download_text_first(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    resume: Option<Partial>,
    on_event: &mut dyn FnMut(FileEvent),
    on_text: &mut dyn FnMut(Vec<u8>),
) -> Result<(Fetched, TextFirst), Failure> {
    let planned: RefCell<Option<Planned>> = RefCell::default();
    let mut gave_up = false;
    let mut fired_at: Option<u32> = None;
    let mut watch = |bytes: &[u8], ranged: bool, restarts: u32| -> bool {
        let mut planned = planned.borrow_mut();
        if planned.is_none() && !gave_up {
            match FileLayout::from_prefix(bytes) {
                Ok(Some(layout)) => {
                    let plan = TowerPlan::new(&layout);
                    *planned = Some(Planned { layout, plan });
                }
                Ok(None) => {}
                // Not a safetensors header: a plain download; loading it says what is wrong.
                Err(_) => gave_up = true,
            }
        }
        let Some(p) = planned.as_ref() else {
            return false;
        };
        if fired_at.is_none() && !gave_up && bytes.len() as u64 >= p.plan.first_end() {
            match p.layout.extract(bytes, Tower::text_first) {
                Ok(part) => {
                    fired_at = Some(restarts);
                    on_text(part);
                }
                Err(_) => gave_up = true,
            }
        }
        fired_at.is_none() && !gave_up && ranged && p.plan.prefix_end().is_none()
    };
    let mut events = |event: FileEvent| {
        let bytes = match &event {
            FileEvent::Bytes { received, .. } => Some(*received),
            _ => None,
        };
        on_event(event);
        if let (Some(received), Some(p)) = (bytes, planned.borrow().as_ref()) {
            let covered = Range {
                start: 0,
                end: received,
            };
            on_event(FileEvent::Towers(p.plan.progress(&[covered])));
        }
    };
    let streamed = stream(
        net,
        clock,
        policy,
        target,
        resume,
        &mut events,
        Some(&mut watch),
    )
    .await?;
    let stopped = match streamed {
        Streamed::Fetched(fetched) => {
            let stale = match (&fetched, fired_at) {
                (Fetched::Done(done), Some(at)) => done.stats.restarts > at,
                _ => false,
            };
            let text = TextFirst {
                handed_over: fired_at.is_some(),
                stale,
            };
            return Ok((fetched, text));
        }
        Streamed::Stopped(stopped) => stopped,
    };
    // The header is in, phase one is not the file's first bytes and the server does ranges.
    let Some(Planned { layout, plan }) = planned.into_inner() else {
        return fall_back(net, clock, policy, target, on_event, stopped.stats, false).await;
    };
    if stopped.total.is_some_and(|t| t != plan.total) {
        return fall_back(net, clock, policy, target, on_event, stopped.stats, false).await;
    }
    let mut ranges = Ranged {
        net,
        clock,
        policy,
        target,
        plan: &plan,
        file: Vec::new(),
        covered: vec![Range {
            start: 0,
            end: stopped.bytes.len() as u64,
        }],
        etag: stopped.etag,
        stats: stopped.stats,
    };
    let size = usize::try_from(plan.total).ok();
    if size.is_none_or(|n| ranges.file.try_reserve_exact(n).is_err()) {
        let error = HubError::OutOfMemory {
            file: target.file.clone(),
            bytes: plan.total,
        };
        return Err(Failure {
            error,
            partial: None,
            stats: ranges.stats,
        });
    }
    ranges.file.extend_from_slice(&stopped.bytes);
    ranges.file.resize(size.unwrap_or_default(), 0);
    drop(stopped.bytes);
    let k = ranges.covered[0].end;
    for (phase, spans) in [&plan.first, &plan.second].into_iter().enumerate() {
        for span in from(spans, k) {
            match ranges.fetch(span, on_event).await {
                Ok(()) => {}
                Err(f) if matches!(f.error, HubError::Ranges { .. }) => {
                    let handed_over = phase == 1;
                    return fall_back(net, clock, policy, target, on_event, f.stats, handed_over)
                        .await;
                }
                Err(f) => return Err(f),
            }
        }
        // The header read before is valid, so extracting cannot fail; if it did, the whole
        // file still comes.
        if phase == 0
            && let Ok(part) = layout.extract(&ranges.file, Tower::text_first)
        {
            on_text(part);
        }
    }
    let actual = hex(&sha256(&ranges.file));
    match checksum(target, stopped.header_sha.as_deref(), &actual) {
        Ok(verified_by) => {
            let bytes = std::mem::take(&mut ranges.file);
            let done = super::download::Downloaded {
                total: bytes.len() as u64,
                bytes,
                sha256: actual,
                etag: ranges.etag,
                verified_by,
                stats: ranges.stats,
            };
            let text = TextFirst {
                handed_over: true,
                stale: false,
            };
            Ok((Fetched::Done(done), text))
        }
        // Pieces of two versions, or a corrupted range: once, the whole file.
        Err(_) => fall_back(net, clock, policy, target, on_event, ranges.stats, true).await,
    }
}

/// The ranged phase: the file's buffer and which of its ranges are in.
struct Ranged<'a> {
    net: &'a dyn HttpClient,
    clock: &'a dyn Clock,
    policy: &'a RetryPolicy,
    target: &'a Target,
    plan: &'a TowerPlan,
    file: Vec<u8>,
    covered: Vec<Range<u64>>,
    etag: Option<String>,
    stats: FileStats,
}

impl Ranged<'_> {
    /// One span into its place; a failure keeps the file's first contiguous bytes.
    async fn fetch(
        &mut self,
        span: Range<u64>,
        on_event: &mut dyn FnMut(FileEvent),
    ) -> Result<(), Failure> {
        let total = self.plan.total;
        let (Ok(start), Ok(end)) = (usize::try_from(span.start), usize::try_from(span.end)) else {
            return Err(self.failure(HubError::OutOfMemory {
                file: self.target.file.clone(),
                bytes: span.end,
            }));
        };
        if end > self.file.len() {
            return Err(self.failure(HubError::Length {
                file: self.target.file.clone(),
                url: self.target.url.clone(),
                expected: total,
                got: span.end,
            }));
        }
        let before = length(&self.covered);
        let (plan, covered) = (self.plan, &self.covered);
        let mut events = |event: FileEvent| match event {
            FileEvent::Bytes { received, network } => {
                on_event(FileEvent::Bytes {
                    received: before + received,
                    network,
                });
                let mut now = covered.clone();
                now.push(span.start..span.start + received);
                on_event(FileEvent::Towers(plan.progress(&now)));
            }
            FileEvent::Size(_) => on_event(FileEvent::Size(Some(total))),
            other => on_event(other),
        };
        let of = SpanOf {
            start: span.start,
            total,
            etag: self.etag.as_deref(),
        };
        let buf = &mut self.file[start..end];
        let result = fetch_span(
            self.net,
            self.clock,
            self.policy,
            self.target,
            of,
            buf,
            &mut events,
        )
        .await;
        match result {
            Ok(stats) => {
                add(&mut self.stats, stats);
                self.covered = merge(self.covered.drain(..).chain([span]), 0);
                Ok(())
            }
            Err(Failure { error, stats, .. }) => {
                add(&mut self.stats, stats);
                Err(self.failure(error))
            }
        }
    }

    /// `error` with the file's first contiguous bytes kept (when the download was interrupted).
    fn failure(&mut self, mut error: HubError) -> Failure {
        let prefix = match self.covered.first() {
            Some(r) if r.start == 0 => r.end,
            _ => 0,
        };
        let partial = match &mut error {
            HubError::Interrupted { received, .. } if prefix > 0 => {
                *received = length(&self.covered);
                let mut bytes = std::mem::take(&mut self.file);
                bytes.truncate(usize::try_from(prefix).unwrap_or(0));
                Some(Partial {
                    bytes,
                    etag: self.etag.clone(),
                    total: Some(self.plan.total),
                })
            }
            _ => None,
        };
        Failure {
            error,
            partial,
            stats: std::mem::take(&mut self.stats),
        }
    }
}

/// Adds one request series' figures to the file's.
fn add(all: &mut FileStats, more: FileStats) {
    all.requests += more.requests;
    all.resumed_at.extend(more.resumed_at);
    all.restarts += more.restarts;
    all.network_bytes += more.network_bytes;
    all.answered |= more.answered;
}

/// The server stopped answering ranges (or the pieces failed the checksum): the whole file
/// from byte 0, a restart. `handed_over`: the text part went out already (it is now stale).
async fn fall_back(
    net: &dyn HttpClient,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    target: &Target,
    on_event: &mut dyn FnMut(FileEvent),
    mut stats: FileStats,
    handed_over: bool,
) -> Result<(Fetched, TextFirst), Failure> {
    stats.restarts += 1;
    on_event(FileEvent::Bytes {
        received: 0,
        network: 0,
    });
    let text = TextFirst {
        handed_over,
        stale: handed_over,
    };
    match download(net, clock, policy, target, None, on_event).await {
        Ok(Fetched::Done(mut done)) => {
            add(&mut stats, std::mem::take(&mut done.stats));
            done.stats = stats;
            Ok((Fetched::Done(done), text))
        }
        Ok(Fetched::Missing(more)) => {
            add(&mut stats, more);
            Ok((Fetched::Missing(stats), text))
        }
        Err(mut failure) => {
            add(&mut stats, std::mem::take(&mut failure.stats));
            failure.stats = stats;
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_across_small_gaps_and_the_rest_is_phase_two() {
        assert_eq!(
            merge([5..7, 0..2, 2..3, 10..12].into_iter(), 0),
            [0..3, 5..7, 10..12]
        );
        assert_eq!(merge([5..7, 0..2, 11..12].into_iter(), 3), [0..7, 11..12]);
        assert_eq!(complement(&[0..3, 5..7], 10), [3..5, 7..10]);
        assert_eq!(complement(&[0..3, 3..10], 10), Vec::<Range<u64>>::new());
        assert_eq!(overlap(&[0..3, 5..7], &(2..6)), 2);
        assert_eq!(from(&[0..3, 5..7], 2), [2..3, 5..7]);
    }
}
