//! Per-row results of one setup (target model and settings, judge model and settings), read
//! back from the stored records. The report and the exports work from these.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::api::{ChatResponse, ProviderError};
use super::dataset::Row;
use super::store::{Record, RecordKey, Stage};
use super::verdict::JudgeOutcome;

/// A model and its parameter hash, as in the store keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SetupKey {
    pub model: String,
    pub params: String,
}

impl SetupKey {
    fn matches(&self, key: &RecordKey) -> bool {
        key.model == self.model && key.params == self.params
    }
}

/// Which records make up one evaluation (from [`Engine::selection`](super::Engine::selection)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub target: SetupKey,
    pub judge: Option<SetupKey>,
    /// A second judge of the same answers, for agreement.
    pub second_judge: Option<SetupKey>,
}

/// A judge's result for one row.
#[derive(Clone, Debug, PartialEq)]
pub enum Judged {
    Verdict(JudgeOutcome),
    /// The judge call failed for good.
    Error(ProviderError),
}

impl Judged {
    pub fn outcome(&self) -> Option<&JudgeOutcome> {
        match self {
            Self::Verdict(v) => Some(v),
            Self::Error(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RowResult {
    pub row: Row,
    /// The target's answer; `None` when there is none (not run yet, or failed).
    pub answer: Option<ChatResponse>,
    pub target_error: Option<ProviderError>,
    pub judged: Option<Judged>,
    pub second: Option<Judged>,
}

impl RowResult {
    pub fn verdict(&self) -> Option<&JudgeOutcome> {
        self.judged.as_ref().and_then(Judged::outcome)
    }

    pub fn second_verdict(&self) -> Option<&JudgeOutcome> {
        self.second.as_ref().and_then(Judged::outcome)
    }
}

/// One row per entry of `rows`, in that order. Later records win; a success wins over an error.
pub fn collect(rows: &[Row], records: &[Record], selection: &Selection) -> Vec<RowResult> {
    // Latest record per (stage-specific slot), success over error.
    fn keep<'r, K: std::hash::Hash + Eq>(map: &mut HashMap<K, &'r Record>, slot: K, r: &'r Record) {
        match map.get(&slot) {
            Some(old) if !old.is_error() && r.is_error() => {}
            _ => {
                map.insert(slot, r);
            }
        }
    }
    let mut answers: HashMap<u64, &Record> = HashMap::new();
    let mut verdicts: HashMap<(bool, &RecordKey), &Record> = HashMap::new();
    for r in records {
        match r.stage {
            Stage::Target if selection.target.matches(&r.key) => keep(&mut answers, r.key.row, r),
            Stage::Judge => {
                let Some(answer_key) = &r.answer_key else {
                    continue;
                };
                for (second, judge) in [(false, &selection.judge), (true, &selection.second_judge)]
                {
                    if judge.as_ref().is_some_and(|j| j.matches(&r.key)) {
                        keep(&mut verdicts, (second, answer_key), r);
                    }
                }
            }
            Stage::Target => {}
        }
    }
    let judged = |r: &Record| match (r.verdict(), r.error()) {
        (Some(v), _) => Some(Judged::Verdict(v.clone())),
        (None, Some(e)) => Some(Judged::Error(e.clone())),
        _ => None,
    };
    rows.iter()
        .map(|row| {
            let answer = answers.get(&row.id);
            let lookup = |second: bool| {
                answer
                    .filter(|a| !a.is_error())
                    .and_then(|a| verdicts.get(&(second, &a.key)))
                    .and_then(|r| judged(r))
            };
            RowResult {
                row: row.clone(),
                answer: answer.and_then(|a| a.response().cloned()),
                target_error: answer.and_then(|a| a.error().cloned()),
                judged: lookup(false),
                second: lookup(true),
            }
        })
        .collect()
}
