//! The run: rows in parallel up to an adaptive limit, each row a target call then a judge call,
//! every result stored as it arrives, stored results never requested again.
//!
//! Spending right: each stage's first request goes alone (the others wait for its answer), and
//! a failure that no retry and no other row can fix ([`super::failure`]: quota, key, parameter,
//! model, address), or the first request failing for good, stops the run at once
//! ([`RunSummary::halt`]) after the requests in flight are stored. Images are fitted to each
//! provider's limits before sending; a target answer with no text because the token limit ran
//! out is an error that says which budget to raise.
//!
//! No runtime: [`Engine::run`] is one future that drives its rows with `FuturesUnordered` (from
//! futures-util, already in the build through Burn's runtime). Whoever awaits it drives it:
//! `pollster::block_on` natively, `wasm_bindgen_futures::spawn_local` in the browser,
//! [`FakeClock::block_on`](crate::platform::clock::FakeClock::block_on) in tests. Waiting (back-off,
//! timeouts) goes through the [`Clock`]; HTTP through the [`Provider`]s.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use futures_util::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};

use super::api::{ChatResponse, ErrorKind, ProviderError, Usage};
use super::control::{Notify, RunControl};
use super::cost::{Budget, CostMeter, CostModel};
use super::dataset::Row;
use super::failure::{Cause, Halt, setup_cause};
use super::image::{self, ImageData, ImageError, ImageSource};
use super::limiter::Limiter;
use super::protocol::{self, ChatRequest, GenParams, JudgeTemplate};
use super::provider::Provider;
use super::results::{Selection, SetupKey};
use super::retry::{Jitter, RetryPolicy};
use super::store::{
    Lookup, Outcome, Record, RecordKey, ResultStore, Stage, StoreError, StoreIndex,
};
use super::verdict::parse_judge;
use crate::platform::clock::Clock;

/// Which rows and stages a run calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Call every stage with no record yet; stages that failed before are left alone.
    #[default]
    Resume,
    /// Call only stages whose records are errors (and the judge of an answer obtained now).
    RetryErrors,
    /// Never call the target: judge the stored answers (e.g. with another judge).
    JudgeOnly,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineSettings {
    /// Rows in flight at most (the limit halves on 429 and grows back).
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// One HTTP request, from send to full answer.
    pub request_timeout: Duration,
    pub mode: RunMode,
    /// Stop starting requests that could take the spend (US dollars) past this.
    pub cost_cap: Option<f64>,
    pub jitter_seed: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(120),
            mode: RunMode::Resume,
            cost_cap: None,
            jitter_seed: 0x5eed,
        }
    }
}

/// A model with its decoding settings and cost model.
pub struct ModelSetup<'a> {
    pub provider: &'a dyn Provider,
    pub params: GenParams,
    pub cost: CostModel,
}

impl ModelSetup<'_> {
    fn setup_key(&self, schema: bool) -> SetupKey {
        let schema = schema.then(protocol::verdict_schema);
        SetupKey {
            model: self.provider.model().to_string(),
            params: protocol::params_key(&self.params, schema.as_ref()),
            endpoint: self.provider.endpoint().map(str::to_owned),
            template: None,
        }
    }
}

/// The keys of a setup (model, parameters, endpoint; the judge's template), to read its
/// results back from the store: what [`Engine::selection`] and the batch engine give.
pub fn selection(
    target: &ModelSetup<'_>,
    judge: Option<&(ModelSetup<'_>, JudgeTemplate)>,
) -> Selection {
    let key = judge.map(|(j, template)| {
        let mut key = j.setup_key(j.provider.supports_json_schema());
        key.template = Some(template.id());
        key
    });
    Selection {
        target: target.setup_key(false),
        judge: key,
        template: judge.map(|(_, t)| t.clone()),
        second_judge: None,
    }
}

/// Something worth showing while the run goes on.
#[derive(Debug)]
pub enum EngineEvent<'r> {
    Stored(&'r Record),
    /// Already stored: reused, not requested.
    Reused {
        row: u64,
        stage: Stage,
    },
    Retrying {
        row: u64,
        stage: Stage,
        retry: u32,
        delay: Duration,
        error: &'r ProviderError,
    },
    /// Rate limited (429): once per burst (until the next success), with the rows now
    /// allowed in flight.
    Slowed {
        limit: usize,
    },
    ImageFailed(&'r ImageError),
    CostCapReached {
        spent: f64,
        /// The worst case of the request that could not start.
        next: f64,
    },
    /// The run stops: nothing more will be sent.
    Halted(&'r Halt),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Cancelled,
    CostCap,
    /// A failure no retry can fix ([`RunSummary::halt`] says which and what to do).
    Halted,
}

/// Counts for one stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCounts {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    pub stored_ok: u64,
    pub stored_errors: u64,
    /// Found in the store and reused.
    pub reused: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub rows: u64,
    /// Rows whose last stage is stored as a success (the verdict; the answer without a judge).
    pub rows_complete: u64,
    pub target: StageCounts,
    pub judge: StageCounts,
    pub image_failures: u64,
    /// Times the concurrency limit was halved.
    pub slowdowns: u64,
    pub spent: f64,
    pub usage: Usage,
    pub stopped: Option<StopReason>,
    /// Why the run stopped at once, and what to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halt: Option<Halt>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Results can no longer be kept: the run stops rather than pay for answers it would lose.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Engine<'a> {
    pub settings: EngineSettings,
    pub target: ModelSetup<'a>,
    pub judge: Option<(ModelSetup<'a>, JudgeTemplate)>,
    pub store: &'a dyn ResultStore,
    pub images: &'a dyn ImageSource,
    pub clock: &'a dyn Clock,
    pub control: RunControl,
    pub observer: Option<&'a dyn Fn(&EngineEvent<'_>)>,
}

impl<'a> Engine<'a> {
    pub fn new(
        target: ModelSetup<'a>,
        store: &'a dyn ResultStore,
        images: &'a dyn ImageSource,
        clock: &'a dyn Clock,
    ) -> Self {
        Self {
            settings: EngineSettings::default(),
            target,
            judge: None,
            store,
            images,
            clock,
            control: RunControl::new(),
            observer: None,
        }
    }

    /// The keys of this setup (model, parameters, endpoint; the judge's template), to read
    /// its results back from the store.
    pub fn selection(&self) -> Selection {
        selection(&self.target, self.judge.as_ref())
    }

    /// Runs `rows`. Returns when every row is done, or after a cancel or the cost cap once the
    /// requests in flight are stored. Only a failing store is an error.
    pub async fn run(&self, rows: &[Row]) -> Result<RunSummary, EngineError> {
        let index = StoreIndex::new(self.store.load().await?);
        let run = Run {
            engine: self,
            index: RefCell::new(index),
            limiter: Limiter::new(self.settings.concurrency),
            meter: CostMeter::new(self.settings.cost_cap),
            jitter: Jitter::new(self.settings.jitter_seed),
            summary: RefCell::new(RunSummary {
                rows: rows.len() as u64,
                ..Default::default()
            }),
            stopped: Cell::new(None),
            fatal: RefCell::new(None),
            halt: RefCell::new(None),
            probes: Default::default(),
        };
        let mut pending = rows.iter();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < run.limiter.current() && !run.halted() {
                match pending.next() {
                    Some(row) => running.push(run.row(row)),
                    None => break,
                }
            }
            if running.next().await.is_none() {
                break;
            }
        }
        drop(running);
        if let Some(e) = run.fatal.take() {
            return Err(e.into());
        }
        let mut summary = run.summary.take();
        summary.slowdowns = run.limiter.cuts();
        summary.spent = run.meter.spent();
        summary.usage = run.meter.usage();
        summary.stopped = run
            .stopped
            .get()
            .or(self.control.is_cancelled().then_some(StopReason::Cancelled));
        summary.halt = run.halt.take();
        Ok(summary)
    }
}

/// State shared by the rows of one run (single-threaded).
struct Run<'e, 'a> {
    engine: &'e Engine<'a>,
    index: RefCell<StoreIndex>,
    limiter: Limiter,
    meter: CostMeter,
    jitter: Jitter,
    summary: RefCell<RunSummary>,
    stopped: Cell<Option<StopReason>>,
    fatal: RefCell<Option<StoreError>>,
    halt: RefCell<Option<Halt>>,
    /// Target, judge.
    probes: [Probe; 2],
}

/// A stage's first request goes alone: until one succeeds, the others wait for it.
#[derive(Default)]
struct Probe {
    proven: Cell<bool>,
    /// A request of this stage is out while none has succeeded.
    out: Cell<bool>,
    settled: Notify,
}

/// Marks the probe as back when its request ends, however it ends.
struct ProbeOut<'p>(Option<&'p Probe>);

impl Drop for ProbeOut<'_> {
    fn drop(&mut self) {
        if let Some(probe) = self.0 {
            probe.out.set(false);
            probe.settled.notify();
        }
    }
}

/// One request of one row, with its store key: what the live engine sends and what the batch
/// engine ([`super::batch`]) writes into its files, built the same way for both.
pub struct Job<'j> {
    pub stage: Stage,
    pub key: RecordKey,
    /// Judge jobs: the answer being judged.
    pub answer_key: Option<RecordKey>,
    pub model: &'j ModelSetup<'j>,
    /// Holds the image as sent (fitted to the provider's limits).
    pub request: ChatRequest,
    /// The size of the image as sent, for the cost estimate.
    pub size: (u32, u32),
    pub template: Option<String>,
    pub notes: Vec<String>,
    /// Why the image cannot go to this provider (then nothing is sent and this is stored as
    /// the stage's error).
    pub unsendable: Option<String>,
}

impl<'j> Job<'j> {
    /// `image`: the row's image as loaded (its hash keys the record); `sent`: as it goes out,
    /// with the note saying how it was changed.
    #[allow(clippy::too_many_arguments)]
    fn new(
        stage: Stage,
        row: &Row,
        model: &'j ModelSetup<'j>,
        request: ChatRequest,
        image: &ImageData,
        sent: Result<(ImageData, Option<String>), String>,
        answer_key: Option<RecordKey>,
        template: Option<String>,
    ) -> Self {
        let key = RecordKey {
            row: row.id,
            model: model.provider.model().to_string(),
            params: request.params_hash(),
            prompt: request.prompt_hash(),
            image: image.hash.clone(),
            endpoint: model.provider.endpoint().map(str::to_owned),
        };
        let (size, notes, unsendable) = match sent {
            Ok((shown, note)) => (
                (shown.width, shown.height),
                note.into_iter().collect(),
                None,
            ),
            Err(why) => ((image.width, image.height), Vec::new(), Some(why)),
        };
        Self {
            stage,
            key,
            answer_key,
            model,
            request,
            size,
            template,
            notes,
            unsendable,
        }
    }

    /// The target request for `row`, its image (as loaded) fitted to the model's provider.
    pub fn target(model: &'j ModelSetup<'j>, row: &Row, image: &ImageData) -> Self {
        let sent = fitted(model.provider, image);
        let shown = sent.as_ref().map_or(image, |s| &s.0);
        let request = protocol::target_request(&row.instruction, shown, &model.params);
        Self::new(Stage::Target, row, model, request, image, sent, None, None)
    }

    /// The judge request for `answer` (stored under `answer_key`) to `row`.
    pub fn judge(
        model: &'j ModelSetup<'j>,
        template: &JudgeTemplate,
        row: &Row,
        image: &ImageData,
        answer: &ChatResponse,
        answer_key: RecordKey,
    ) -> Self {
        let schema = model.provider.supports_json_schema();
        let sent = fitted(model.provider, image);
        let shown = sent.as_ref().map_or(image, |s| &s.0);
        let request = protocol::judge_request(
            template,
            &row.instruction,
            answer.answer_text(),
            shown,
            &model.params,
            schema,
        );
        let template = Some(template.id());
        let key = Some(answer_key);
        Self::new(
            Stage::Judge,
            row,
            model,
            request,
            image,
            sent,
            key,
            template,
        )
    }

    /// The most this request can cost.
    pub fn max_cost(&self) -> f64 {
        self.model
            .cost
            .max_cost(&self.request, self.size.0, self.size.1)
    }

    /// The stored outcome of an answer or a final error: a target answer emptied by its budget
    /// is an error, a judge's answer is read as a verdict.
    pub fn outcome(&self, result: Result<ChatResponse, ProviderError>) -> Outcome {
        outcome(self.stage, &self.request.params, result)
    }

    /// The record of this job's `outcome`.
    pub fn record(&self, outcome: Outcome, attempts: u32, elapsed_ms: u64) -> Record {
        Record {
            stage: self.stage,
            key: self.key.clone(),
            answer_key: self.answer_key.clone(),
            outcome,
            attempts,
            elapsed_ms,
            sent: self.model.provider.sent(&self.request),
            template: self.template.clone(),
            notes: self.notes.clone(),
        }
    }

    /// The error stored when the image cannot be sent (nothing was sent).
    pub fn unsendable_error(&self) -> Option<ProviderError> {
        let why = self.unsendable.as_ref()?;
        let mut e = ProviderError::new(
            ErrorKind::Image,
            format!(
                "the image cannot be sent to {}: {why}; nothing was sent for this row \
                 (replace its image file, then --retry-errors calls it again)",
                self.model.provider.model()
            ),
        );
        e.retryable = false;
        Some(e)
    }
}

/// The image as `provider` takes it, with a note when it was changed.
fn fitted(
    provider: &dyn Provider,
    image: &ImageData,
) -> Result<(ImageData, Option<String>), String> {
    match provider
        .image_limits()
        .map(|limits| image::fit(image, limits))
    {
        None | Some(Ok(None)) => Ok((image.clone(), None)),
        Some(Ok(Some((copy, note)))) => Ok((copy, Some(note))),
        Some(Err(e)) => Err(e),
    }
}

/// A target answer without text because the token limit ran out (a reasoning model's hidden
/// reasoning counts against it): an error naming the budget to raise, never an answer to judge.
fn empty_answer(response: &ChatResponse, params: &GenParams) -> Option<ProviderError> {
    let empty = response.answer_text().trim().is_empty() && response.is_cut_off();
    empty.then(|| {
        let field = params.token_field.name();
        let mut e = ProviderError::new(
            ErrorKind::Empty,
            format!(
                "no answer text: the completion budget ({field} {}) ran out first (reasoning \
                 tokens count against it); raise it, e.g. --target-param {field}={} (the form: \
                 Model under test → Parameters)",
                params.max_tokens,
                (params.max_tokens.saturating_mul(4)).max(super::profiles::REASONING_BUDGET)
            ),
        );
        e.retryable = false;
        e
    })
}

/// The stored outcome of one `stage` request sent with `params`: a target answer emptied by
/// its budget is an error, a judge's answer is read as a verdict.
pub fn outcome(
    stage: Stage,
    params: &GenParams,
    result: Result<ChatResponse, ProviderError>,
) -> Outcome {
    let result = result.and_then(|r| match empty_answer(&r, params) {
        Some(e) if stage == Stage::Target => Err(e),
        _ => Ok(r),
    });
    match result {
        Ok(response) if stage == Stage::Judge => {
            let verdict = parse_judge(&response);
            Outcome::Verdict { response, verdict }
        }
        Ok(response) => Outcome::Answer { response },
        Err(error) => Outcome::Error { error },
    }
}

/// What to do about one stage of one row.
pub enum Plan<'r> {
    Call,
    Use(&'r ChatResponse),
    Skip,
}

/// The rule both engines follow for one stage of one row in `mode`, given what the store
/// holds (`upstream_fresh`: the judge's answer came in this run).
pub fn plan<'r>(
    mode: RunMode,
    stage: Stage,
    lookup: &Lookup<'r>,
    upstream_fresh: bool,
) -> Plan<'r> {
    match (lookup, mode, stage) {
        (Lookup::Done(r), RunMode::RetryErrors, _) if r.needs_retry() => Plan::Call,
        (Lookup::Done(r), ..) => r.response().map_or(Plan::Skip, Plan::Use),
        (_, RunMode::JudgeOnly, Stage::Target) => Plan::Skip,
        (Lookup::Missing, RunMode::Resume | RunMode::JudgeOnly, _) => Plan::Call,
        (Lookup::Failed(_), RunMode::RetryErrors, _) => Plan::Call,
        (Lookup::Missing, RunMode::RetryErrors, _) if upstream_fresh => Plan::Call,
        _ => Plan::Skip,
    }
}

impl Run<'_, '_> {
    fn emit(&self, event: EngineEvent<'_>) {
        if let Some(observer) = self.engine.observer {
            observer(&event);
        }
    }

    fn halted(&self) -> bool {
        self.stopped.get().is_some()
            || self.fatal.borrow().is_some()
            || self.engine.control.is_cancelled()
    }

    fn probe(&self, stage: Stage) -> &Probe {
        &self.probes[usize::from(stage == Stage::Judge)]
    }

    /// Stops the run for `halt` (the first one wins) and wakes every waiting row.
    fn halt(&self, halt: Halt) {
        if self.halt.borrow().is_none() {
            self.emit(EngineEvent::Halted(&halt));
            *self.halt.borrow_mut() = Some(halt);
        }
        self.stopped.set(Some(StopReason::Halted));
        self.probes.iter().for_each(|p| p.settled.notify());
    }

    fn counts(&self, stage: Stage, f: impl FnOnce(&mut StageCounts)) {
        let mut s = self.summary.borrow_mut();
        f(match stage {
            Stage::Target => &mut s.target,
            Stage::Judge => &mut s.judge,
        });
    }

    async fn row(&self, row: &Row) {
        if self.halted() || !self.engine.control.proceed().await {
            return;
        }
        let image = match self.engine.images.load(row).await {
            Ok(image) => image,
            Err(e) => {
                self.summary.borrow_mut().image_failures += 1;
                self.emit(EngineEvent::ImageFailed(&e));
                return;
            }
        };
        let job = Job::target(&self.engine.target, row, &image);
        let Some((answer, fresh)) = self.stage(&job, false).await else {
            return;
        };
        let Some((judge, template)) = &self.engine.judge else {
            self.summary.borrow_mut().rows_complete += 1;
            return;
        };
        let judge_job = Job::judge(judge, template, row, &image, &answer, job.key);
        if self.stage(&judge_job, fresh).await.is_some() {
            self.summary.borrow_mut().rows_complete += 1;
        }
    }

    /// One stage: reuse the stored success, or call, store and return the response. `None` when
    /// the row stops here (error, skipped, halted). The flag says whether the response is new.
    async fn stage(&self, job: &Job<'_>, upstream_fresh: bool) -> Option<(ChatResponse, bool)> {
        let (stage, key) = (job.stage, &job.key);
        {
            let index = self.index.borrow();
            let mode = self.engine.settings.mode;
            match plan(mode, stage, &index.lookup(stage, key), upstream_fresh) {
                Plan::Use(response) => {
                    let response = response.clone();
                    drop(index);
                    self.counts(stage, |c| c.reused += 1);
                    self.emit(EngineEvent::Reused {
                        row: key.row,
                        stage,
                    });
                    return Some((response, false));
                }
                Plan::Skip => return None,
                Plan::Call => {}
            }
        }
        let started = self.engine.clock.now();
        let (result, attempts) = match job.unsendable_error() {
            Some(e) => (Err(e), 0),
            None => self.call(job).await?,
        };
        let elapsed = self.engine.clock.now().saturating_sub(started);
        let record = job.record(job.outcome(result), attempts, elapsed.as_millis() as u64);
        if let Err(e) = self.engine.store.append(&record).await {
            self.fatal.borrow_mut().get_or_insert(e);
            return None;
        }
        self.counts(stage, |c| {
            if record.is_error() {
                c.stored_errors += 1
            } else {
                c.stored_ok += 1
            }
        });
        self.emit(EngineEvent::Stored(&record));
        let response = record.response().cloned();
        self.index.borrow_mut().insert(record);
        response.map(|r| (r, true))
    }

    /// Waits until this job may send: the stage's first request goes alone. Returns whether
    /// this job is that first request, or `None` when the run stops meanwhile.
    async fn gate(&self, stage: Stage) -> Option<bool> {
        let probe = self.probe(stage);
        loop {
            if self.halted() || !self.engine.control.proceed().await {
                return None;
            }
            if probe.proven.get() {
                return Some(false);
            }
            if !probe.out.replace(true) {
                return Some(true);
            }
            let wait = probe.settled.wait();
            select(wait, self.engine.control.cancelled()).await;
        }
    }

    /// A reservation for `max_cost`, waiting for requests in flight to settle when they hold
    /// the room; `None` when the cap is reached or the run stops.
    async fn reserve(&self, max_cost: f64) -> Option<super::cost::Reservation> {
        loop {
            if self.halted() {
                return None;
            }
            match self.meter.reserve(max_cost) {
                Budget::Granted(r) => return Some(r),
                Budget::Exhausted => {
                    if self.stopped.replace(Some(StopReason::CostCap)).is_none() {
                        self.emit(EngineEvent::CostCapReached {
                            spent: self.meter.spent(),
                            next: max_cost,
                        });
                    }
                    return None;
                }
                Budget::Wait => {
                    let settled = self.meter.settled();
                    select(settled, self.engine.control.cancelled()).await;
                }
            }
        }
    }

    /// Sends the job's request with timeout, retries and budget. `None` when halted first, or
    /// when the error stops the run and is not the row's to keep.
    async fn call(&self, job: &Job<'_>) -> Option<(Result<ChatResponse, ProviderError>, u32)> {
        let (stage, row, model, request) = (job.stage, job.key.row, job.model, &job.request);
        let engine = self.engine;
        let first = self.gate(stage).await?;
        let probe = self.probe(stage);
        let _out = ProbeOut(first.then_some(probe));
        let max_cost = job.max_cost();
        let mut attempts = 0;
        loop {
            if self.halted() || !engine.control.proceed().await {
                return None;
            }
            let reservation = self.reserve(max_cost).await?;
            let epoch = self.limiter.epoch();
            attempts += 1;
            self.counts(stage, |c| c.requests += 1);
            let timeout = engine.clock.sleep(engine.settings.request_timeout);
            let result = match select(model.provider.send(request), timeout).await {
                Either::Left((result, _)) => result,
                Either::Right(_) => Err(ProviderError::new(
                    ErrorKind::Timeout,
                    format!("no answer within {:?}", engine.settings.request_timeout),
                )),
            };
            let usage = result.as_ref().ok().and_then(|r| r.usage);
            self.meter
                .settle(reservation, &model.cost.pricing, usage, result.is_ok());
            let result = result.and_then(|r| match empty_answer(&r, &request.params) {
                Some(e) if stage == Stage::Target => Err(e),
                _ => Ok(r),
            });
            let error = match result {
                Ok(response) => {
                    self.limiter.succeeded();
                    probe.proven.set(true);
                    return Some((Ok(response), attempts));
                }
                Err(error) => error,
            };
            let endpoint = model.provider.endpoint().unwrap_or("the API");
            let name = model.provider.model();
            if let Some(cause) = setup_cause(&error) {
                self.halt(Halt::new(stage, row, name, endpoint, cause, error));
                return None;
            }
            if error.is_rate_limit()
                && let Some(limit) = self.limiter.rate_limited(epoch)
            {
                self.emit(EngineEvent::Slowed { limit });
            }
            let Some(delay) = engine.settings.retry.delay(&error, attempts, &self.jitter) else {
                if probe.proven.get() {
                    return Some((Err(error), attempts));
                }
                // The stage's first request failed for good: the rest would fail alike. No
                // answer at all says nothing about the row and is not stored; an answer (a
                // 4xx, a 5xx after every retry) may be about it and is.
                let unreachable = matches!(error.kind, ErrorKind::Network | ErrorKind::Timeout);
                let cause = if unreachable {
                    Cause::Unreachable
                } else {
                    Cause::FirstRequest
                };
                self.halt(Halt::new(stage, row, name, endpoint, cause, error.clone()));
                return (!unreachable).then_some((Err(error), attempts));
            };
            self.emit(EngineEvent::Retrying {
                row,
                stage,
                retry: attempts,
                delay,
                error: &error,
            });
            // A cancel ends the wait at once; the loop head then gives up.
            select(engine.clock.sleep(delay), engine.control.cancelled()).await;
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
