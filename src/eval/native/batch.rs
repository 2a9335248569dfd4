//! The batch engine's loop (`leakscope eval --batch`): plan what the store still lacks, write
//! it into chunk files under the API's limits, upload and submit them, poll, and store every
//! result the moment it is read, then send the judge requests for the answers that came in.
//! The core pieces (request lines, chunking, the manifest, the providers' endpoints) are in
//! [`crate::eval::batch`]; this module owns the files.
//!
//! Files, in `<out>/batches/`: `manifest.jsonl` (every step, before or after the call it stands
//! for: see [`crate::eval::batch::manifest`]) and one file per chunk (`<chunk>.jsonl`, what is
//! uploaded, written while the rows are read and never held in memory; `.part` until it is
//! complete). Records go to the same store, under the same keys, as a live run's.
//!
//! A kill anywhere loses nothing and pays nothing twice: a written chunk is submitted by the
//! next run; a batch created just before the kill is found again (OpenAI: by the chunk named
//! in its metadata; Anthropic, which keeps none: by time and size, with a warning); a batch
//! whose results were being read is read again, its lines already stored skipped.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::select;

use super::store::JsonlLog;
use crate::eval::api::{ApiKind, ProviderError};
use crate::eval::batch::chunk::{ChunkWriter, Chunker, Fit};
use crate::eval::batch::lines::{Framing, decode_result, not_run, request_line};
use crate::eval::batch::manifest::{ChunkInfo, Counts, Event, Line, Manifest, Phase, Tally};
use crate::eval::batch::remote::{BatchApi, Input, RemoteBatch, Status};
use crate::eval::batch::{
    Limits, api_name, chunk_name, custom_id, job_id, note, noted_line, stage_name,
};
use crate::eval::control::RunControl;
use crate::eval::dataset::Row;
use crate::eval::engine::{Job, Plan, RunSummary, StageCounts, StopReason, outcome, plan};
use crate::eval::failure::{Halt, setup_cause};
use crate::eval::image::{ImageError, ImageSource};
use crate::eval::plan::EvalSetup;
use crate::eval::retry::Jitter;
use crate::eval::store::{Record, RecordKey, ResultStore, Stage, StoreError, StoreIndex};
use crate::platform::clock::Clock;
use crate::platform::http::Upload;

/// How the batch run behaves.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// Wait for the batches, polling, until every one is collected; otherwise return once
    /// everything that can be submitted is.
    pub wait: bool,
    /// Between two looks at the running batches.
    pub poll: Duration,
    /// At most this many requests per batch (never more than the API takes).
    pub max_requests: Option<usize>,
    /// At most this many bytes per batch (never more than the API takes).
    pub max_bytes: Option<u64>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            wait: true,
            poll: Duration::from_secs(30),
            max_requests: None,
            max_bytes: None,
        }
    }
}

/// Something worth showing while the batches run.
#[derive(Debug)]
pub enum BatchEvent<'r> {
    /// A chunk became a batch (`adopted`: found after a kill).
    Submitted {
        chunk: &'r ChunkInfo,
        batch: &'r str,
        adopted: bool,
    },
    /// A running batch, as last seen.
    Running {
        chunk: &'r ChunkInfo,
        batch: &'r RemoteBatch,
    },
    /// An ended batch whose every line is now stored.
    Collected {
        chunk: &'r ChunkInfo,
        batch: &'r RemoteBatch,
        tally: &'r Tally,
    },
    ImageFailed(&'r ImageError),
    /// No more chunk is submitted: the next could take the spend past the cap.
    CapReached {
        committed: f64,
        next: f64,
    },
    /// A recovery, a warning or anything else to say, in a sentence.
    Notice(String),
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Results can no longer be kept.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The batch files or the manifest cannot be written or read.
    #[error("{0}")]
    Files(String),
    /// The provider refused, or did not answer: what happened and what to do.
    #[error("{0}")]
    Provider(String),
}

/// What a batch run did.
#[derive(Clone, Debug, Default)]
pub struct BatchSummary {
    /// As a live run reports it: requests = lines submitted in this run; spent and usage of
    /// the batches collected in this run, at the batch price.
    pub summary: RunSummary,
    /// Batches submitted in this run.
    pub submitted: usize,
    /// Batches still running at the provider when the run returned.
    pub running: Vec<String>,
    /// Why no more was submitted, when the run stopped early (what to do included).
    pub stopped_because: Option<String>,
}

/// The APIs of a run: the target's, and the judge's when there is a judge.
pub struct BatchApis<'a> {
    pub target: BatchApi<'a>,
    pub judge: Option<BatchApi<'a>>,
}

pub struct BatchEngine<'a> {
    pub setup: EvalSetup<'a>,
    pub apis: BatchApis<'a>,
    pub store: &'a dyn ResultStore,
    pub images: &'a dyn ImageSource,
    pub clock: &'a dyn Clock,
    pub control: RunControl,
    /// The batches folder (`<out>/batches`).
    pub dir: PathBuf,
    pub options: BatchOptions,
    pub observer: Option<&'a dyn Fn(&BatchEvent<'_>)>,
}

/// A chunk being written.
struct OpenChunk {
    name: String,
    stage: Stage,
    kind: ApiKind,
    part: PathBuf,
    writer: ChunkWriter<BufWriter<File>>,
    chunker: Chunker,
    lines: Vec<Line>,
    cost: f64,
    /// Params, sent fields and template of its lines (the same for all: one stage, one model).
    params: crate::eval::protocol::GenParams,
    sent: Option<serde_json::Value>,
    template: Option<String>,
}

/// What the provider says about a chunk being submitted when the run before stopped.
enum Found {
    Batch(String),
    Nothing,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn files_error(path: &Path, e: impl std::fmt::Display) -> BatchError {
    BatchError::Files(format!("{}: {e}", path.display()))
}

/// How far back from a "submitting" mark to look for the batch it may have created: the
/// provider's clock may differ from this machine's.
const CLOCK_SLACK: u64 = 600;

impl BatchEngine<'_> {
    /// Plans, submits, polls and collects until every batch is collected (or, without
    /// [`BatchOptions::wait`], until everything that can be submitted is). Only failing files
    /// or a store error are errors; what the providers refuse stops the run with a message
    /// in [`BatchSummary::stopped_because`] or, for a refused submission, as
    /// [`BatchError::Provider`], with everything stored kept.
    pub async fn run(&self, rows: &[Row]) -> Result<BatchSummary, BatchError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| files_error(&self.dir, e))?;
        let path = self.dir.join("manifest.jsonl");
        let (mut log, loaded) =
            JsonlLog::<Event>::open(&path).map_err(|e| BatchError::Files(e.to_string()))?;
        log.sync = true;
        let mut run = Run {
            engine: self,
            manifest: Manifest::replay(loaded.values),
            log,
            summary: BatchSummary::default(),
            job: self.job(),
            jitter: Jitter::new(self.setup.engine.jitter_seed),
            cap_noted: false,
            unpollable_noted: HashSet::new(),
            sent: HashSet::new(),
        };
        run.summary.summary.rows = rows.len() as u64;
        if loaded.skipped_lines > 0 {
            run.notice(format!(
                "{}: {} unreadable line(s) skipped (a torn last line is what a kill leaves)",
                path.display(),
                loaded.skipped_lines
            ));
        }
        run.remove_partial_files();
        run.recover().await?;
        let mut changed = true;
        loop {
            if self.control.is_cancelled() {
                run.summary.summary.stopped = Some(StopReason::Cancelled);
                break;
            }
            changed |= run.poll().await?;
            if changed && run.summary.stopped_because.is_none() {
                run.submit_work(rows).await?;
                changed = false;
            }
            if run.running().is_empty() || !self.options.wait {
                break;
            }
            if run.summary.stopped_because.is_some() && run.summary.summary.halt.is_some() {
                break;
            }
            let sleep = self.clock.sleep(self.options.poll);
            select(sleep, self.control.cancelled()).await;
        }
        run.summary.running = run.running();
        if self.control.is_cancelled() {
            run.summary.summary.stopped = Some(StopReason::Cancelled);
        }
        Ok(run.summary)
    }

    /// The command's work ([`job_id`]): the setups' keys and the mode.
    fn job(&self) -> String {
        let selection = self.setup.selection();
        let text = serde_json::to_string(&selection).unwrap_or_default();
        let mode = serde_json::to_string(&self.setup.engine.mode).unwrap_or_default();
        job_id(&[&text, &mode])
    }

    fn api(&self, stage: Stage) -> Option<&BatchApi<'_>> {
        match stage {
            Stage::Target => Some(&self.apis.target),
            Stage::Judge => self.apis.judge.as_ref(),
        }
    }

    /// The API a chunk was sent to, when this run has it (a chunk of another setup may not):
    /// its stage's first (with that stage's key), else the other stage's at the same address.
    fn api_for(&self, info: &ChunkInfo) -> Option<&BatchApi<'_>> {
        let other = match info.stage {
            Stage::Target => Stage::Judge,
            Stage::Judge => Stage::Target,
        };
        [self.api(info.stage), self.api(other)]
            .into_iter()
            .flatten()
            .find(|a| a.config.kind == info.api && a.config.base_url == info.base_url)
    }
}

/// State of one run.
struct Run<'e, 'a> {
    engine: &'e BatchEngine<'a>,
    manifest: Manifest,
    log: JsonlLog<Event>,
    summary: BatchSummary,
    job: String,
    jitter: Jitter,
    cap_noted: bool,
    unpollable_noted: HashSet<String>,
    /// Lines this run submitted: each (stage, key) goes out at most once per run, as the live
    /// engine calls each stage at most once (so `--retry-errors` never loops on an error that
    /// comes back).
    sent: HashSet<(Stage, RecordKey)>,
}

impl Run<'_, '_> {
    fn emit(&self, event: BatchEvent<'_>) {
        if let Some(observer) = self.engine.observer {
            observer(&event);
        }
    }

    fn notice(&self, text: String) {
        self.emit(BatchEvent::Notice(text));
    }

    /// Records `event` in the manifest (durably) and applies it.
    fn record(&mut self, event: Event) -> Result<(), BatchError> {
        self.log
            .append(&event)
            .map_err(|e| BatchError::Files(e.to_string()))?;
        self.manifest.apply(event);
        Ok(())
    }

    fn counts(&mut self, stage: Stage) -> &mut StageCounts {
        match stage {
            Stage::Target => &mut self.summary.summary.target,
            Stage::Judge => &mut self.summary.summary.judge,
        }
    }

    /// Batches this run can poll that have not been collected.
    fn running(&self) -> Vec<String> {
        self.manifest
            .chunks()
            .iter()
            .filter(|c| c.phase() != Phase::Ended && self.engine.api_for(&c.info).is_some())
            .filter_map(|c| c.batch.clone())
            .collect()
    }

    fn remove_partial_files(&self) {
        let Ok(entries) = std::fs::read_dir(&self.engine.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "part") {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    /// Retries `call` as the live engine retries a request (rate limits, 5xx, no answer).
    async fn retrying<T, F>(&self, mut call: impl FnMut() -> F) -> Result<T, ProviderError>
    where
        F: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let policy = &self.engine.setup.engine.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            match policy.delay(&error, attempt, &self.jitter) {
                Some(delay) if !self.engine.control.is_cancelled() => {
                    let sleep = self.engine.clock.sleep(delay);
                    select(sleep, self.engine.control.cancelled()).await;
                }
                _ => return Err(error),
            }
        }
    }

    /// What went wrong with a chunk's batch, and what to do.
    fn failure(&self, info: &ChunkInfo, doing: &str, error: ProviderError) -> BatchError {
        let row = info.lines.first().map_or(0, |l| l.key.row);
        let what = format!(
            "chunk {} ({}, {} requests, rows {}…): {doing} at {}",
            info.chunk,
            stage_name(info.stage),
            info.lines.len(),
            row,
            info.base_url
        );
        let advice = match setup_cause(&error) {
            Some(cause) => {
                Halt::new(
                    info.stage,
                    row,
                    &info.model,
                    &info.base_url,
                    cause,
                    error.clone(),
                )
                .advice
            }
            None => "Run the same command again: nothing stored is lost and nothing is sent \
                     twice."
                .to_owned(),
        };
        BatchError::Provider(format!(
            "{what}: {}. {advice} The batch files are in {}.",
            error.to_string().trim_end_matches('.'),
            self.engine.dir.display()
        ))
    }

    /// Chunks whose batch may have been created before the last run stopped.
    async fn recover(&mut self) -> Result<(), BatchError> {
        for state in self.manifest.in_phase(Phase::Submitting) {
            let info = &state.info;
            if self.engine.api_for(info).is_none() {
                continue;
            }
            let at = state.submitting.unwrap_or(0);
            match self.find(info, at).await? {
                Found::Batch(batch) => {
                    self.record(Event::Submitted {
                        chunk: info.chunk.clone(),
                        batch: batch.clone(),
                        adopted: true,
                    })?;
                    self.emit(BatchEvent::Submitted {
                        chunk: info,
                        batch: &batch,
                        adopted: true,
                    });
                }
                Found::Nothing => {
                    self.notice(format!(
                        "chunk {} ({}) was being submitted when the last run stopped; no batch \
                         was created for it, so it is submitted now",
                        info.chunk,
                        stage_name(info.stage)
                    ));
                    self.record(Event::NotSubmitted {
                        chunk: info.chunk.clone(),
                        why: "not created before the last run stopped".into(),
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The batch the provider created for `info` at or after `at` (Unix seconds), if any.
    async fn find(&self, info: &ChunkInfo, at: u64) -> Result<Found, BatchError> {
        let Some(api) = self.engine.api_for(info) else {
            return Ok(Found::Nothing);
        };
        let since = at.saturating_sub(CLOCK_SLACK);
        let listed = self
            .retrying(|| api.list_since(since))
            .await
            .map_err(|e| self.failure(info, "listing recent batches", e))?;
        if info.api == ApiKind::OpenAiChat {
            let found = listed
                .into_iter()
                .find(|b| b.chunk.as_deref() == Some(&info.chunk));
            return Ok(found.map_or(Found::Nothing, |b| {
                self.notice(format!(
                    "chunk {} ({}): the batch created just before the last run stopped is {} \
                     (found by the chunk in its metadata); it is polled, not submitted again",
                    info.chunk,
                    stage_name(info.stage),
                    b.id
                ));
                Found::Batch(b.id)
            }));
        }
        // Anthropic keeps no metadata: a batch of this many requests, created since, that is
        // no other chunk's and was not cancelled.
        let size = info.lines.len() as u64;
        let candidates: Vec<RemoteBatch> = listed
            .into_iter()
            .filter(|b| b.counts.total == size && !b.cancel_initiated)
            .filter(|b| !self.manifest.has_batch(&b.id))
            .collect();
        match candidates.as_slice() {
            [] => Ok(Found::Nothing),
            [one] => {
                self.notice(format!(
                    "warning: chunk {} ({}, {size} requests) was being submitted when the last \
                     run stopped. Anthropic's Message Batches carry no metadata to confirm which \
                     batch is this chunk's, so {} (created at Unix time {}, {size} requests, \
                     the only such batch since) is taken as it: its results are matched by \
                     custom_id and lines of any other batch are ignored. If it is not this \
                     run's, cancel it in the Anthropic console.",
                    info.chunk,
                    stage_name(info.stage),
                    one.id,
                    one.created_at
                ));
                Ok(Found::Batch(one.id.clone()))
            }
            many => {
                let ids: Vec<&str> = many.iter().map(|b| b.id.as_str()).collect();
                Err(BatchError::Provider(format!(
                    "chunk {} ({}, {size} requests) was being submitted when the last run \
                     stopped, and {} batches of {size} requests were created since ({}). \
                     Anthropic's Message Batches carry no metadata to tell which is this \
                     chunk's: cancel the ones that are not this run's (Anthropic console, or \
                     POST /v1/messages/batches/<id>/cancel), then run the same command again",
                    info.chunk,
                    stage_name(info.stage),
                    many.len(),
                    ids.join(", ")
                )))
            }
        }
    }

    /// Looks at every running batch; stores the results of those that ended. Returns whether
    /// any did.
    async fn poll(&mut self) -> Result<bool, BatchError> {
        let mut ended = false;
        for state in self.manifest.in_phase(Phase::Submitted) {
            if self.engine.control.is_cancelled() {
                break;
            }
            let info = &state.info;
            let Some(api) = self.engine.api_for(info) else {
                if self.unpollable_noted.insert(info.chunk.clone()) {
                    self.notice(format!(
                        "batch {} ({}: {} at {}) belongs to another setup: run the command \
                         that submitted it to collect it",
                        state.batch.as_deref().unwrap_or("?"),
                        stage_name(info.stage),
                        info.model,
                        info.base_url
                    ));
                }
                continue;
            };
            let id = state.batch.clone().unwrap_or_default();
            let remote = self
                .retrying(|| api.get(&id))
                .await
                .map_err(|e| self.failure(info, &format!("reading batch {id}"), e))?;
            if !remote.status.ended() {
                self.emit(BatchEvent::Running {
                    chunk: info,
                    batch: &remote,
                });
                continue;
            }
            self.collect(info, &remote).await?;
            ended = true;
        }
        Ok(ended)
    }

    /// Stores the result of every line of an ended batch (a line stored by an earlier run
    /// is not stored again), then marks the chunk ended.
    async fn collect(&mut self, info: &ChunkInfo, remote: &RemoteBatch) -> Result<(), BatchError> {
        let Some(api) = self.engine.api_for(info) else {
            return Ok(());
        };
        let records = self.engine.store.load().await?;
        let already: HashSet<String> = records
            .iter()
            .flat_map(|r| r.notes.iter().filter_map(|n| noted_line(n)))
            .map(str::to_owned)
            .collect();
        drop(records);
        let mut tally = Tally::default();
        let mut done: HashSet<String> = HashSet::new();
        for path in api.result_paths(remote) {
            let mut lines = self
                .retrying(|| api.lines(&path))
                .await
                .map_err(|e| self.failure(info, &format!("reading {path}"), e))?;
            while let Some(line) = lines.next().await {
                let line = line.map_err(|e| {
                    self.failure(
                        info,
                        &format!("reading the results of batch {}", remote.id),
                        ProviderError::no_answer(e, &path),
                    )
                })?;
                let Ok(result) = decode_result(info.api, &line) else {
                    tally.foreign += 1;
                    continue;
                };
                let id = result.custom_id;
                let ours = self
                    .manifest
                    .line(&id)
                    .filter(|(c, _)| c.info.chunk == info.chunk)
                    .map(|(_, l)| l.clone());
                let Some(entry) = ours else {
                    tally.foreign += 1;
                    continue;
                };
                if !done.insert(id.clone()) {
                    continue;
                }
                if already.contains(&id) {
                    tally.already += 1;
                    continue;
                }
                self.store_line(info, &entry, remote, result.result, &mut tally)
                    .await?;
            }
        }
        for entry in &info.lines {
            if done.contains(&entry.id) || already.contains(&entry.id) {
                continue;
            }
            let error = missing(info, remote);
            tally.missing += 1;
            self.store_line(info, entry, remote, Err(error), &mut tally)
                .await?;
        }
        self.record(Event::Ended {
            chunk: info.chunk.clone(),
            status: remote.status.name().to_owned(),
            counts: remote.counts,
            tally,
        })?;
        self.summary.summary.spent += tally.cost;
        self.summary.summary.usage.prompt_tokens += tally.prompt_tokens;
        self.summary.summary.usage.completion_tokens += tally.completion_tokens;
        self.emit(BatchEvent::Collected {
            chunk: info,
            batch: remote,
            tally: &tally,
        });
        self.check_setup(info, remote, &tally).await
    }

    /// Stores one line's result as its record.
    async fn store_line(
        &mut self,
        info: &ChunkInfo,
        line: &Line,
        remote: &RemoteBatch,
        result: Result<crate::eval::ChatResponse, ProviderError>,
        tally: &mut Tally,
    ) -> Result<(), BatchError> {
        let pricing = self.pricing(info);
        if let Ok(response) = &result {
            match response.usage {
                Some(u) => {
                    tally.cost += pricing.cost(u.prompt_tokens, u.completion_tokens);
                    tally.prompt_tokens += u.prompt_tokens;
                    tally.completion_tokens += u.completion_tokens;
                }
                None => tally.cost += line.max_cost,
            }
        }
        let mut notes = line.notes.clone();
        notes.push(note(info.api, &remote.id, &line.id));
        let record = Record {
            stage: info.stage,
            key: line.key.clone(),
            answer_key: line.answer_key.clone(),
            outcome: outcome(info.stage, &info.params, result),
            attempts: 1,
            elapsed_ms: 0,
            sent: info.sent.clone(),
            template: info.template.clone(),
            notes,
        };
        self.engine.store.append(&record).await?;
        let error = record.is_error();
        let counts = self.counts(info.stage);
        if error {
            tally.errors += 1;
            counts.stored_errors += 1;
        } else {
            tally.answered += 1;
            counts.stored_ok += 1;
        }
        Ok(())
    }

    /// The batch price of `info`'s model (this run's setups; the list price halved).
    fn pricing(&self, info: &ChunkInfo) -> crate::eval::cost::Pricing {
        let setup = &self.engine.setup;
        let judge = setup.judge.as_ref().map(|(j, _)| j);
        let model = match info.stage {
            Stage::Target => Some(&setup.target),
            Stage::Judge => judge,
        };
        model
            .filter(|m| m.provider.model() == info.model)
            .map_or(crate::eval::cost::Pricing::per_million(0.0, 0.0), |m| {
                m.cost.pricing
            })
    }

    /// After a batch ended: stop submitting when it failed validation, or when not one of its
    /// requests was answered and the errors are ones no retry can fix (key, quota, model,
    /// parameter).
    async fn check_setup(
        &mut self,
        info: &ChunkInfo,
        remote: &RemoteBatch,
        tally: &Tally,
    ) -> Result<(), BatchError> {
        if self.summary.stopped_because.is_some() {
            return Ok(());
        }
        let what = format!(
            "batch {} (chunk {}, {}, {} requests)",
            remote.id,
            info.chunk,
            stage_name(info.stage),
            info.lines.len()
        );
        if remote.status == Status::Failed {
            let why = remote
                .errors
                .first()
                .map_or("no reason given", String::as_str);
            self.summary.stopped_because = Some(format!(
                "{what} failed validation ({why}); nothing in it ran or was charged. Its rows are \
                 stored as errors: fix what the provider names, then run with --retry-errors"
            ));
            self.summary.summary.stopped = Some(StopReason::Halted);
            return Ok(());
        }
        if tally.answered > 0 || tally.errors == 0 {
            return Ok(());
        }
        let records = self.engine.store.load().await?;
        let first_error = records.iter().rev().find_map(|r| {
            let marker = format!(" batch {}, line ", remote.id);
            let ours = r.stage == info.stage && r.notes.iter().any(|n| n.contains(&marker));
            r.error().filter(|_| ours).cloned()
        });
        let Some(error) = first_error else {
            return Ok(());
        };
        let Some(cause) = setup_cause(&error) else {
            return Ok(());
        };
        let row = info.lines.first().map_or(0, |l| l.key.row);
        let halt = Halt::new(info.stage, row, &info.model, &info.base_url, cause, error);
        self.summary.stopped_because = Some(format!(
            "every request of {what} failed: {halt} Its rows are stored as errors; --retry-errors \
             sends them again"
        ));
        self.summary.summary.halt = Some(halt);
        self.summary.summary.stopped = Some(StopReason::Halted);
        Ok(())
    }

    /// Submits what the store still lacks and no running batch holds: chunks written before
    /// a kill first, then the target requests of rows without an answer and the judge
    /// requests of answers without a verdict.
    async fn submit_work(&mut self, rows: &[Row]) -> Result<(), BatchError> {
        let left: Vec<String> = self
            .manifest
            .chunks()
            .iter()
            .filter(|c| matches!(c.phase(), Phase::Written | Phase::Uploaded))
            .filter(|c| c.info.job == self.job && self.engine.api_for(&c.info).is_some())
            .map(|c| c.info.chunk.clone())
            .collect();
        for chunk in left {
            if !self.file_of(&chunk).exists() {
                self.abandon(&chunk)?;
                continue;
            }
            self.submit(&chunk).await?;
        }

        let setup = &self.engine.setup;
        let mode = setup.engine.mode;
        let index = StoreIndex::new(self.engine.store.load().await?);
        let mut pending = self.manifest.pending();
        pending.extend(self.sent.iter().cloned());
        let fresh = self.manifest.collected_answers();
        let mut open: [Option<OpenChunk>; 2] = [None, None];
        for row in rows {
            if self.engine.control.is_cancelled() || self.summary.stopped_because.is_some() {
                break;
            }
            let image = match self.engine.images.load(row).await {
                Ok(image) => image,
                Err(e) => {
                    self.summary.summary.image_failures += 1;
                    self.emit(BatchEvent::ImageFailed(&e));
                    continue;
                }
            };
            let target = Job::target(&setup.target, row, &image);
            let lookup = index.lookup(Stage::Target, &target.key);
            let room = match plan(mode, Stage::Target, &lookup, false) {
                Plan::Call if !pending.contains(&(Stage::Target, target.key.clone())) => {
                    self.add(&mut open[0], &target).await?
                }
                Plan::Use(answer) => {
                    let Some((judge, template)) = &setup.judge else {
                        continue;
                    };
                    let job = Job::judge(judge, template, row, &image, answer, target.key.clone());
                    let fresh = fresh.contains(&target.key);
                    let lookup = index.lookup(Stage::Judge, &job.key);
                    let call = matches!(plan(mode, Stage::Judge, &lookup, fresh), Plan::Call)
                        && !pending.contains(&(Stage::Judge, job.key.clone()));
                    !call || self.add(&mut open[1], &job).await?
                }
                _ => true,
            };
            if !room {
                break;
            }
        }
        for slot in &mut open {
            if let Some(chunk) = slot.take() {
                if self.engine.control.is_cancelled() {
                    let _ = std::fs::remove_file(&chunk.part);
                } else {
                    self.seal_and_submit(chunk).await?;
                }
            }
        }
        Ok(())
    }

    fn file_of(&self, chunk: &str) -> PathBuf {
        self.engine.dir.join(format!("{chunk}.jsonl"))
    }

    /// A written chunk whose file is gone: its lines are planned again.
    fn abandon(&mut self, chunk: &str) -> Result<(), BatchError> {
        self.notice(format!(
            "chunk {chunk}: its file is gone before it was submitted; its rows are written again"
        ));
        self.record(Event::Ended {
            chunk: chunk.to_owned(),
            status: "abandoned".into(),
            counts: Counts::default(),
            tally: Tally::default(),
        })
    }

    /// A new chunk for `job`'s stage.
    fn open(&self, job: &Job<'_>) -> Result<OpenChunk, BatchError> {
        let api = self
            .engine
            .api(job.stage)
            .ok_or_else(|| BatchError::Files("no API for this stage".into()))?;
        let kind = api.config.kind;
        let name = loop {
            let seed = format!(
                "{}:{}:{:?}:{}",
                std::process::id(),
                now_unix(),
                SystemTime::now(),
                self.manifest.chunks().len()
            );
            let name = chunk_name(seed.as_bytes());
            if !self.manifest.contains_chunk(&name) && !self.file_of(&name).exists() {
                break name;
            }
        };
        let part = self.engine.dir.join(format!("{name}.jsonl.part"));
        let file = File::create(&part).map_err(|e| files_error(&part, e))?;
        let framing = Framing(kind);
        let writer =
            ChunkWriter::new(BufWriter::new(file), framing).map_err(|e| files_error(&part, e))?;
        let options = &self.engine.options;
        let limits = Limits::of(kind).narrowed(options.max_requests, options.max_bytes);
        Ok(OpenChunk {
            name,
            stage: job.stage,
            kind,
            part,
            writer,
            chunker: Chunker::new(limits, framing),
            lines: Vec::new(),
            cost: 0.0,
            params: job.request.params.clone(),
            sent: job.model.provider.sent(&job.request),
            template: job.template.clone(),
        })
    }

    /// Adds `job`'s request to its stage's open chunk: a full chunk is submitted and the next
    /// one opened. `false`: the cap leaves no room for it now (the chunk so far is submitted,
    /// and nothing more in this pass).
    async fn add(
        &mut self,
        slot: &mut Option<OpenChunk>,
        job: &Job<'_>,
    ) -> Result<bool, BatchError> {
        if let Some(error) = job.unsendable_error() {
            let record = job.record(job.outcome(Err(error)), 0, 0);
            self.engine.store.append(&record).await?;
            self.counts(job.stage).stored_errors += 1;
            return Ok(true);
        }
        let api = self
            .engine
            .api(job.stage)
            .ok_or_else(|| BatchError::Files("no API for this stage".into()))?;
        let config = api.config.clone();
        if slot.is_none() {
            *slot = Some(self.open(job)?);
        }
        let cost = job.max_cost();
        let mut chunk = slot
            .take()
            .ok_or_else(|| BatchError::Files("no chunk".into()))?;
        let mut line = request_line(
            &config,
            &custom_id(job.stage, job.key.row, &chunk.name),
            &job.request,
        );
        match chunk.chunker.fit(line.len() as u64) {
            Fit::Never => {
                *slot = Some(chunk);
                let limit = Limits::of(config.kind);
                let error = not_run(
                    format!(
                        "this request is {} bytes, more than one {} may hold ({} bytes): it was \
                         not sent; run this row without --batch",
                        line.len(),
                        api_name(config.kind),
                        limit.bytes
                    ),
                    Some("too_large"),
                );
                let mut record = job.record(job.outcome(Err(error)), 0, 0);
                if let crate::eval::store::Outcome::Error { error } = &mut record.outcome {
                    error.retryable = false;
                }
                self.engine.store.append(&record).await?;
                self.counts(job.stage).stored_errors += 1;
                return Ok(true);
            }
            Fit::Next => {
                self.seal_and_submit(chunk).await?;
                chunk = self.open(job)?;
                line = request_line(
                    &config,
                    &custom_id(job.stage, job.key.row, &chunk.name),
                    &job.request,
                );
            }
            Fit::Here => {}
        }
        if let Some(cap) = self.engine.setup.engine.cost_cap {
            // As the live engine's cap: batches running hold their worst case until collected
            // (then what they cost); a request that fits only once they end waits for that, one
            // that could not fit even then stops the work.
            let spent = self.manifest.spent(&self.job);
            let reserved = self.manifest.reserved(&self.job) + chunk.cost;
            let exhausted = spent + cost > cap;
            if exhausted || spent + reserved + cost > cap {
                if exhausted {
                    self.emit(BatchEvent::CapReached {
                        committed: spent + reserved,
                        next: cost,
                    });
                    self.summary.stopped_because = Some(format!(
                        "stopped at the spending cap: ${spent:.4} spent of ${cap:.2} (at the \
                         batch price), and the next request could cost up to ${cost:.4}. Raise \
                         --max-spend to continue (nothing already submitted is sent again)"
                    ));
                    self.summary.summary.stopped = Some(StopReason::CostCap);
                } else if !self.cap_noted {
                    self.cap_noted = true;
                    self.notice(format!(
                        "spending cap: the running batches hold ${reserved:.4} at their worst \
                         case; more is submitted as they end and their real cost frees room"
                    ));
                }
                if chunk.lines.is_empty() {
                    let _ = std::fs::remove_file(&chunk.part);
                } else {
                    self.seal_and_submit(chunk).await?;
                }
                return Ok(false);
            }
        }
        let id = custom_id(job.stage, job.key.row, &chunk.name);
        self.sent.insert((job.stage, job.key.clone()));
        chunk
            .writer
            .push(&line)
            .map_err(|e| files_error(&chunk.part, e))?;
        chunk.chunker.add(line.len() as u64);
        chunk.cost += cost;
        chunk.lines.push(Line {
            id,
            key: job.key.clone(),
            answer_key: job.answer_key.clone(),
            notes: job.notes.clone(),
            max_cost: cost,
        });
        *slot = Some(chunk);
        Ok(true)
    }

    /// Completes the chunk's file, records it in the manifest and submits it.
    async fn seal_and_submit(&mut self, chunk: OpenChunk) -> Result<(), BatchError> {
        if chunk.lines.is_empty() {
            let _ = std::fs::remove_file(&chunk.part);
            return Ok(());
        }
        let part = chunk.part.clone();
        let (out, bytes) = chunk.writer.finish().map_err(|e| files_error(&part, e))?;
        let file = out
            .into_inner()
            .map_err(|e| files_error(&part, e.error()))?;
        file.sync_all().map_err(|e| files_error(&part, e))?;
        drop(file);
        let path = self.file_of(&chunk.name);
        std::fs::rename(&part, &path).map_err(|e| files_error(&path, e))?;
        let api = self
            .engine
            .api(chunk.stage)
            .ok_or_else(|| BatchError::Files("no API for this stage".into()))?;
        let info = ChunkInfo {
            chunk: chunk.name.clone(),
            job: self.job.clone(),
            stage: chunk.stage,
            api: chunk.kind,
            base_url: api.config.base_url.clone(),
            model: api.config.model.clone(),
            file: format!("{}.jsonl", chunk.name),
            bytes,
            params: chunk.params,
            sent: chunk.sent,
            template: chunk.template,
            lines: chunk.lines,
        };
        self.record(Event::Chunk(info))?;
        self.submit(&chunk.name).await
    }

    /// The chunk's file as an upload, read as it goes out.
    fn upload_of(&self, info: &ChunkInfo) -> Result<Upload, BatchError> {
        let path = self.engine.dir.join(&info.file);
        let file = File::open(&path).map_err(|e| files_error(&path, e))?;
        let length = file.metadata().map_err(|e| files_error(&path, e))?.len();
        Ok(Upload {
            reader: Box::new(std::io::BufReader::new(file)),
            length,
        })
    }

    /// Uploads (OpenAI) and creates the batch of a written chunk. A create whose answer never
    /// came is looked for before it is sent again, so a batch is never created twice.
    async fn submit(&mut self, chunk: &str) -> Result<(), BatchError> {
        let Some(state) = self.manifest.get(chunk).cloned() else {
            return Ok(());
        };
        let info = &state.info;
        let Some(api) = self.engine.api_for(info) else {
            return Ok(());
        };
        let mut file_id = state.file_id.clone();
        if info.api == ApiKind::OpenAiChat && file_id.is_none() {
            let name = format!("leakscope-{}", info.file);
            let id = self
                .retrying(|| async {
                    let upload = self.upload_of(info).map_err(|e| {
                        ProviderError::new(crate::eval::api::ErrorKind::Request, e.to_string())
                    })?;
                    api.upload(&name, upload).await
                })
                .await
                .map_err(|e| self.failure(info, "uploading its file", e))?;
            self.record(Event::Uploaded {
                chunk: chunk.to_owned(),
                file_id: id.clone(),
            })?;
            file_id = Some(id);
        }
        let policy = self.engine.setup.engine.retry.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let at = now_unix();
            self.record(Event::Submitting {
                chunk: chunk.to_owned(),
                at,
            })?;
            let input = match &file_id {
                Some(id) => Input::File(id.clone()),
                None => Input::Body(self.upload_of(info)?),
            };
            let error = match api.create(info, input).await {
                Ok(remote) => {
                    self.record(Event::Submitted {
                        chunk: chunk.to_owned(),
                        batch: remote.id.clone(),
                        adopted: false,
                    })?;
                    self.summary.submitted += 1;
                    self.counts(info.stage).requests += info.lines.len() as u64;
                    self.emit(BatchEvent::Submitted {
                        chunk: info,
                        batch: &remote.id,
                        adopted: false,
                    });
                    return Ok(());
                }
                Err(e) => e,
            };
            // The batch may exist although no answer said so: look before sending again.
            if error.retryable
                && let Found::Batch(batch) = self.find(info, at).await?
            {
                self.record(Event::Submitted {
                    chunk: chunk.to_owned(),
                    batch: batch.clone(),
                    adopted: true,
                })?;
                self.summary.submitted += 1;
                self.counts(info.stage).requests += info.lines.len() as u64;
                self.emit(BatchEvent::Submitted {
                    chunk: info,
                    batch: &batch,
                    adopted: true,
                });
                return Ok(());
            }
            self.record(Event::NotSubmitted {
                chunk: chunk.to_owned(),
                why: error.to_string(),
            })?;
            match policy.delay(&error, attempt, &self.jitter) {
                Some(delay) if !self.engine.control.is_cancelled() => {
                    let sleep = self.engine.clock.sleep(delay);
                    select(sleep, self.engine.control.cancelled()).await;
                }
                _ => return Err(self.failure(info, "creating its batch", error)),
            }
        }
    }
}

/// Why a line has no result in an ended batch.
fn missing(info: &ChunkInfo, remote: &RemoteBatch) -> ProviderError {
    let head = format!(
        "batch {} ({}, {})",
        remote.id,
        api_name(info.api),
        stage_name(info.stage)
    );
    let (code, what) = match remote.status {
        Status::Failed => (
            "batch_failed",
            format!(
                "failed validation ({}), so this request never ran",
                if remote.errors.is_empty() {
                    "no reason given".to_owned()
                } else {
                    remote.errors.join("; ")
                }
            ),
        ),
        Status::Expired => (
            "batch_expired",
            "expired (24 hours) before this request ran".to_owned(),
        ),
        Status::Cancelled => (
            "batch_cancelled",
            "was cancelled before this request ran".to_owned(),
        ),
        _ => (
            "no_result",
            format!("{} without a result for this request", remote.status.name()),
        ),
    };
    not_run(
        format!("{head} {what}; nothing was charged for it: --retry-errors sends it again"),
        Some(code),
    )
}
