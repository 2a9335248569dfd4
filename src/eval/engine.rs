//! The run: rows in parallel up to an adaptive limit, each row a target call then a judge call,
//! every result stored as it arrives, stored results never requested again.
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
use super::control::RunControl;
use super::cost::{CostMeter, CostModel};
use super::dataset::Row;
use super::image::{ImageData, ImageError, ImageSource};
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
        }
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
    /// The concurrency limit was cut after a 429.
    Slowed {
        limit: usize,
    },
    ImageFailed(&'r ImageError),
    CostCapReached {
        spent: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Cancelled,
    CostCap,
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

    /// The (model, parameters) keys of this setup, to read its results back from the store.
    pub fn selection(&self) -> Selection {
        Selection {
            target: self.target.setup_key(false),
            judge: self
                .judge
                .as_ref()
                .map(|(j, _)| j.setup_key(j.provider.supports_json_schema())),
            second_judge: None,
        }
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
}

/// One request of one row, with its store key.
struct Job<'j> {
    stage: Stage,
    key: RecordKey,
    /// Judge jobs: the answer being judged.
    answer_key: Option<RecordKey>,
    model: &'j ModelSetup<'j>,
    request: ChatRequest,
    image: &'j ImageData,
}

impl<'j> Job<'j> {
    fn new(
        stage: Stage,
        row: &Row,
        model: &'j ModelSetup<'j>,
        request: ChatRequest,
        image: &'j ImageData,
        answer_key: Option<RecordKey>,
    ) -> Self {
        let key = RecordKey {
            row: row.id,
            model: model.provider.model().to_string(),
            params: request.params_hash(),
            prompt: request.prompt_hash(),
            image: image.hash.clone(),
        };
        Self {
            stage,
            key,
            answer_key,
            model,
            request,
            image,
        }
    }
}

/// What to do about one stage of one row.
enum Plan<'r> {
    Call,
    Use(&'r ChatResponse),
    Skip,
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
        let target = &self.engine.target;
        let request = protocol::target_request(&row.instruction, &image, &target.params);
        let job = Job::new(Stage::Target, row, target, request, &image, None);
        let Some((answer, fresh)) = self.stage(&job, false).await else {
            return;
        };
        let Some((judge, template)) = &self.engine.judge else {
            self.summary.borrow_mut().rows_complete += 1;
            return;
        };
        let schema = judge.provider.supports_json_schema();
        let request = protocol::judge_request(
            template,
            &row.instruction,
            answer.answer_text(),
            &image,
            &judge.params,
            schema,
        );
        let judge_job = Job::new(Stage::Judge, row, judge, request, &image, Some(job.key));
        if self.stage(&judge_job, fresh).await.is_some() {
            self.summary.borrow_mut().rows_complete += 1;
        }
    }

    fn plan<'r>(&self, stage: Stage, lookup: &Lookup<'r>, upstream_fresh: bool) -> Plan<'r> {
        let mode = self.engine.settings.mode;
        match (lookup, mode, stage) {
            (Lookup::Done(r), ..) => r.response().map_or(Plan::Skip, Plan::Use),
            (_, RunMode::JudgeOnly, Stage::Target) => Plan::Skip,
            (Lookup::Missing, RunMode::Resume | RunMode::JudgeOnly, _) => Plan::Call,
            (Lookup::Failed(_), RunMode::RetryErrors, _) => Plan::Call,
            (Lookup::Missing, RunMode::RetryErrors, _) if upstream_fresh => Plan::Call,
            _ => Plan::Skip,
        }
    }

    /// One stage: reuse the stored success, or call, store and return the response. `None` when
    /// the row stops here (error, skipped, halted). The flag says whether the response is new.
    async fn stage(&self, job: &Job<'_>, upstream_fresh: bool) -> Option<(ChatResponse, bool)> {
        let (stage, key) = (job.stage, &job.key);
        {
            let index = self.index.borrow();
            match self.plan(stage, &index.lookup(stage, key), upstream_fresh) {
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
        let (result, attempts) = self.call(job).await?;
        let outcome = match result {
            Ok(response) if stage == Stage::Judge => {
                let verdict = parse_judge(&response);
                Outcome::Verdict { response, verdict }
            }
            Ok(response) => Outcome::Answer { response },
            Err(error) => Outcome::Error { error },
        };
        let record = Record {
            stage,
            key: key.clone(),
            answer_key: job.answer_key.clone(),
            outcome,
            attempts,
            elapsed_ms: (self.engine.clock.now().saturating_sub(started)).as_millis() as u64,
        };
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

    /// Sends the job's request with timeout, retries and budget. `None` when halted first.
    async fn call(&self, job: &Job<'_>) -> Option<(Result<ChatResponse, ProviderError>, u32)> {
        let (stage, row, model, request) = (job.stage, job.key.row, job.model, &job.request);
        let image = job.image;
        let engine = self.engine;
        let max_cost = model.cost.max_cost(request, image.width, image.height);
        let mut attempts = 0;
        loop {
            if self.halted() || !engine.control.proceed().await {
                return None;
            }
            let Some(reservation) = self.meter.reserve(max_cost) else {
                if self.stopped.replace(Some(StopReason::CostCap)).is_none() {
                    self.emit(EngineEvent::CostCapReached {
                        spent: self.meter.spent(),
                    });
                }
                return None;
            };
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
            let error = match result {
                Ok(response) => {
                    self.limiter.succeeded();
                    return Some((Ok(response), attempts));
                }
                Err(error) => error,
            };
            if error.is_rate_limit()
                && let Some(limit) = self.limiter.rate_limited(epoch)
            {
                self.emit(EngineEvent::Slowed { limit });
            }
            let Some(delay) = engine.settings.retry.delay(&error, attempts, &self.jitter) else {
                return Some((Err(error), attempts));
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
