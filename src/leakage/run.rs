//! Scoring a whole dataset with the guard — the one path `leakscope leakage`, the page's
//! dataset mode and `leakscope bench` share:
//!
//! - [`RunIdentity`]: what produced a set of score lines; stored lines are reused only under
//!   the same identity (`run.json` natively, the store's key in the page).
//! - [`ResumePlan`]: the stored lines matched to the dataset's samples **by sample id**; what is
//!   left to score, and the VSIL report of what is scored.
//! - [`score_pending`]: the batches of what is left, each scored by the caller's `score`
//!   (natively [`super::batch::score_batch`] in-process; in the page a message to the model
//!   worker, which calls the same function) and appended to the [`ScoreStore`] before the next
//!   one starts, with [`ScoreProgress`] (rate and ETA) after each.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::metrics::{self, MetricsError, Report};
use super::scores::{ScoreLine, judgement};
use super::store::{ScoreStore, ScoreStoreError, StoredScores};
use crate::compute::Precision;
use crate::datasets::Sample;
use crate::tokenizer::TokenizerMode;

/// What produced a run's scores. Two runs' lines mix only when [`RunIdentity::mismatch`] finds
/// nothing; `dataset` and `model` are names for people and are not compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub dataset: String,
    pub model: String,
    pub model_config_sha256: String,
    pub model_weights_bytes: u64,
    pub head_sha256: String,
    pub text_only: bool,
    /// What the model computed in: f16 scores differ from f32 ones in the third decimal.
    /// Absent in `run.json` files written before it existed: those were f32.
    #[serde(default)]
    pub precision: Precision,
    /// The tokenizer mode; absent in runs scored before there were modes (transformers 4's
    /// slow tokenizer), whose lines are not resumed.
    #[serde(default)]
    pub tokenizer: Option<TokenizerMode>,
    /// Where the images came from (the CLI: `folder …`, `archive <name> (<bytes>, <files>)` or
    /// `none`): another archive may hold other images, so its scores are another run's. Absent
    /// in older `run.json` files and in the page (which keys its runs by the dataset instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<String>,
}

impl RunIdentity {
    /// The first difference that makes `self`'s scores unusable for `now`.
    pub fn mismatch(&self, now: &RunIdentity) -> Option<String> {
        if self.text_only != now.text_only {
            let mode = |t: bool| if t { "text only" } else { "with images" };
            return Some(format!(
                "it was scored {} and this run is {}",
                mode(self.text_only),
                mode(now.text_only)
            ));
        }
        if self.model_config_sha256 != now.model_config_sha256
            || self.model_weights_bytes != now.model_weights_bytes
        {
            return Some(format!("it was scored with another model ({})", self.model));
        }
        if self.head_sha256 != now.head_sha256 {
            return Some("it was scored with another guard head".to_owned());
        }
        if self.precision != now.precision {
            return Some(format!(
                "it was scored in {} and this run computes in {}",
                self.precision, now.precision
            ));
        }
        if self.tokenizer != now.tokenizer {
            let name = |t: Option<TokenizerMode>| {
                t.map_or("the old slow tokenizer", TokenizerMode::as_str)
            };
            return Some(format!(
                "it was scored with the {} tokenizer and this run uses {}",
                name(self.tokenizer),
                name(now.tokenizer)
            ));
        }
        if let (Some(before), Some(now)) = (&self.images, &now.images)
            && before != now
        {
            return Some(format!(
                "it was scored with images from {before} and this run reads them from {now}"
            ));
        }
        None
    }

    /// A short key of the compared fields: the page files a run's lines under it (with the
    /// dataset's fingerprint), so another model's lines are never even read back.
    pub fn key(&self) -> String {
        let mut compared = format!(
            "{}\n{}\n{}\n{}\n{}\n{:?}",
            self.model_config_sha256,
            self.model_weights_bytes,
            self.head_sha256,
            self.text_only,
            self.precision,
            self.tokenizer
        );
        if let Some(images) = &self.images {
            compared.push('\n');
            compared.push_str(images);
        }
        crate::util::hash::short_hash(compared.as_bytes())
    }
}

/// A dataset's samples against what a store already holds for them.
#[derive(Clone, Debug)]
pub struct ResumePlan {
    /// Per sample (dataset order): its line, once scored.
    lines: Vec<Option<ScoreLine>>,
    index_of: HashMap<String, usize>,
    /// Lines found in the store at the start.
    pub resumed: usize,
    /// Stored lines of samples that are not in this dataset (kept, not reported).
    pub outside: usize,
    /// Repeated ids and a torn last line the store reported.
    pub duplicates: usize,
    pub torn_line: Option<usize>,
}

impl ResumePlan {
    pub fn new(samples: &[Sample], stored: StoredScores) -> Self {
        let index_of: HashMap<String, usize> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut plan = Self {
            lines: vec![None; samples.len()],
            index_of,
            resumed: 0,
            outside: 0,
            duplicates: stored.duplicates,
            torn_line: stored.torn_line,
        };
        for line in stored.lines {
            match plan.index_of.get(&line.id) {
                Some(&i) if plan.lines[i].is_none() => {
                    plan.lines[i] = Some(line);
                    plan.resumed += 1;
                }
                Some(_) => plan.duplicates += 1,
                None => plan.outside += 1,
            }
        }
        plan
    }

    pub fn total(&self) -> usize {
        self.lines.len()
    }

    pub fn done(&self) -> usize {
        self.lines.iter().filter(|l| l.is_some()).count()
    }

    /// Indices of the samples without a line, in dataset order.
    pub fn pending(&self) -> Vec<usize> {
        (0..self.lines.len())
            .filter(|&i| self.lines[i].is_none())
            .collect()
    }

    /// Files `line` under its sample; `false` if no sample has its id.
    pub fn record(&mut self, line: ScoreLine) -> bool {
        match self.index_of.get(&line.id) {
            Some(&i) => {
                self.lines[i] = Some(line);
                true
            }
            None => false,
        }
    }

    /// `(sample index, line)` of every scored sample, in dataset order.
    pub fn scored(&self) -> impl Iterator<Item = (usize, &ScoreLine)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i, l.as_ref()?)))
    }

    /// The VSIL report of the scored samples (`text_only`: J(T) stands for the pair), and the
    /// samples left out of it for want of an image score, with why.
    pub fn report(
        &self,
        samples: &[Sample],
        text_only: bool,
    ) -> Result<(Report, Vec<(String, String)>), MetricsError> {
        let mut judgements = Vec::new();
        let mut unjudged = Vec::new();
        for (i, line) in self.scored() {
            match judgement(i, line, text_only) {
                Some(j) => judgements.push(j),
                None => unjudged.push((
                    line.id.clone(),
                    line.image_error
                        .clone()
                        .unwrap_or_else(|| "no pair score".to_owned()),
                )),
            }
        }
        Ok((metrics::report(samples, &judgements)?, unjudged))
    }
}

/// How far a dataset run is, with its rate and the time left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreProgress {
    pub total: usize,
    /// Scored, stored ones included.
    pub done: usize,
    /// Scored by this run (the rate counts only these).
    pub done_now: usize,
    pub elapsed: Duration,
}

impl ScoreProgress {
    /// Samples per second in this run.
    pub fn rate(&self) -> f64 {
        self.done_now as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// Time left at the current rate; `None` before the first batch.
    pub fn eta(&self) -> Option<Duration> {
        if self.done_now == 0 {
            return None;
        }
        let left = self.total.saturating_sub(self.done) as f64 / self.rate().max(1e-9);
        Some(Duration::from_secs_f64(left.min(1e9)))
    }
}

/// Why [`score_pending`] stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ScoreRunError {
    /// Scoring a batch failed (the model, the device): its message.
    #[error("{0}")]
    Score(String),
    #[error(transparent)]
    Store(#[from] ScoreStoreError),
}

/// How a [`score_pending`] call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every sample has a line.
    Complete,
    /// `stop()` answered true between two batches.
    Stopped,
}

/// Scores every pending sample of `plan` in batches of `batch`: `score(indices)` gives the
/// lines of one batch (in order), which go to `store` and into `plan` before the next batch
/// starts; then `on_batch` sees the progress. `stop()` is asked before each batch (pause);
/// `now()` is the platform's clock.
pub async fn score_pending<F, Fut>(
    plan: &mut ResumePlan,
    batch: usize,
    store: &dyn ScoreStore,
    now: impl Fn() -> Duration,
    stop: impl Fn() -> bool,
    mut score: F,
    mut on_batch: impl FnMut(&ResumePlan, ScoreProgress),
) -> Result<Finish, ScoreRunError>
where
    F: FnMut(Vec<usize>) -> Fut,
    Fut: Future<Output = Result<Vec<ScoreLine>, String>>,
{
    let started = now();
    let pending = plan.pending();
    let mut done_now = 0;
    for indices in pending.chunks(batch.max(1)) {
        if stop() {
            return Ok(Finish::Stopped);
        }
        let lines = score(indices.to_vec())
            .await
            .map_err(ScoreRunError::Score)?;
        if lines.len() != indices.len() {
            return Err(ScoreRunError::Score(format!(
                "{} lines came back for a batch of {}",
                lines.len(),
                indices.len()
            )));
        }
        store.append(&lines).await?;
        done_now += lines.len();
        for line in lines {
            plan.record(line);
        }
        let progress = ScoreProgress {
            total: plan.total(),
            done: plan.done(),
            done_now,
            elapsed: now().saturating_sub(started),
        };
        on_batch(plan, progress);
    }
    Ok(Finish::Complete)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use futures_util::FutureExt;

    use super::*;
    use crate::leakage::store::MemoryScoreStore;

    fn sample(id: &str) -> Sample {
        Sample {
            id: id.into(),
            text: format!("text {id}"),
            image: None,
            category: None,
            sub_category: None,
            source: "test".into(),
            extra: Default::default(),
        }
    }

    fn line(id: &str) -> ScoreLine {
        crate::leakage::store::tests::line(id)
    }

    fn identity() -> RunIdentity {
        RunIdentity {
            dataset: "d".into(),
            model: "m".into(),
            model_config_sha256: "c".into(),
            model_weights_bytes: 10,
            head_sha256: "h".into(),
            text_only: false,
            precision: Precision::F32,
            tokenizer: Some(TokenizerMode::Hub),
            images: None,
        }
    }

    #[test]
    fn resume_matches_stored_lines_by_id_not_position() {
        let samples: Vec<Sample> = ["a", "b", "c"].map(sample).into();
        let stored = StoredScores {
            lines: vec![line("c"), line("zz"), line("a")],
            duplicates: 0,
            torn_line: None,
        };
        let plan = ResumePlan::new(&samples, stored);
        assert_eq!((plan.resumed, plan.outside), (2, 1));
        assert_eq!(plan.pending(), [1]);
        let ids: Vec<_> = plan.scored().map(|(i, l)| (i, l.id.as_str())).collect();
        assert_eq!(ids, [(0, "a"), (2, "c")]);
    }

    #[test]
    fn batches_are_stored_before_the_next_and_stop_pauses_between_them() {
        let samples: Vec<Sample> = (0..5).map(|i| sample(&i.to_string())).collect();
        let mut plan = ResumePlan::new(&samples, StoredScores::default());
        let store = MemoryScoreStore::default();
        let calls = Cell::new(0);
        let score = |batch: Vec<usize>| {
            calls.set(calls.get() + 1);
            let lines: Vec<ScoreLine> = batch.iter().map(|&i| line(&samples[i].id)).collect();
            async move { Ok(lines) }
        };
        let mut seen = Vec::new();
        let finish = score_pending(
            &mut plan,
            2,
            &store,
            || Duration::from_secs(calls.get()),
            || calls.get() == 2,
            score,
            |_, p| seen.push((p.done, p.done_now)),
        )
        .now_or_never()
        .unwrap()
        .unwrap();
        assert_eq!(finish, Finish::Stopped);
        assert_eq!(seen, [(2, 2), (4, 4)]);
        let stored = store.load().now_or_never().unwrap().unwrap();
        assert_eq!(stored.lines.len(), 4);
        // A second run resumes with the last sample only.
        let mut plan = ResumePlan::new(&samples, stored);
        assert_eq!(plan.pending(), [4]);
        let finish = score_pending(
            &mut plan,
            2,
            &store,
            || Duration::ZERO,
            || false,
            |batch: Vec<usize>| {
                let lines: Vec<ScoreLine> = batch.iter().map(|&i| line(&samples[i].id)).collect();
                async move { Ok(lines) }
            },
            |_, _| {},
        )
        .now_or_never()
        .unwrap()
        .unwrap();
        assert_eq!(finish, Finish::Complete);
        assert_eq!(plan.done(), 5);
    }

    #[test]
    fn progress_has_a_rate_and_an_eta_once_something_is_scored() {
        let mut p = ScoreProgress {
            total: 100,
            done: 40,
            done_now: 0,
            elapsed: Duration::from_secs(1),
        };
        assert_eq!(p.eta(), None);
        p.done_now = 20;
        p.elapsed = Duration::from_secs(10);
        assert_eq!(p.rate(), 2.0);
        assert_eq!(p.eta(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn identities_differ_by_model_head_mode_and_precision_only() {
        let a = identity();
        let mut b = a.clone();
        b.dataset = "elsewhere".into();
        b.model = "renamed".into();
        assert_eq!(a.mismatch(&b), None);
        assert_eq!(a.key(), b.key());
        for change in [
            |r: &mut RunIdentity| r.text_only = true,
            |r: &mut RunIdentity| r.model_weights_bytes = 11,
            |r: &mut RunIdentity| r.head_sha256 = "x".into(),
            |r: &mut RunIdentity| r.precision = Precision::F16,
            |r: &mut RunIdentity| r.tokenizer = Some(TokenizerMode::Original),
            |r: &mut RunIdentity| r.tokenizer = None,
        ] {
            let mut c = a.clone();
            change(&mut c);
            assert!(a.mismatch(&c).is_some());
            assert_ne!(a.key(), c.key());
        }
        // run.json files from before `precision` existed read as f32; from before tokenizer
        // modes, as the old tokenizer's (not resumed).
        let old = r#"{"dataset":"d","model":"m","model_config_sha256":"c",
            "model_weights_bytes":10,"head_sha256":"h","text_only":false,"tokenizer":"hub"}"#;
        let old: RunIdentity = serde_json::from_str(old).unwrap();
        assert_eq!(old.mismatch(&a), None);
        let older = r#"{"dataset":"d","model":"m","model_config_sha256":"c",
            "model_weights_bytes":10,"head_sha256":"h","text_only":false}"#;
        let older: RunIdentity = serde_json::from_str(older).unwrap();
        assert!(older.mismatch(&a).unwrap().contains("old slow tokenizer"));
    }
}
