//! Per-row results of one setup (target model and settings, judge model, settings and
//! template), read back from the stored records. The report and the exports work from these.
//!
//! A row's answer is the latest of the target setup's records whose prompt is the row's
//! instruction as it is now; its verdict, the latest of the judge setup's records on that
//! answer whose prompt is the judge's template filled with the row and that answer. Records of
//! the same models made with an older wording or another template are left out and counted
//! ([`RowResult::other_wording`], [`RowResult::other_template`]), so a report never mixes them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::api::{ChatResponse, ProviderError};
use super::dataset::Row;
use super::image::ImageData;
use super::protocol::{GenParams, JudgeTemplate, judge_request, target_request};
use super::store::{Record, RecordKey, Stage};
use super::verdict::JudgeOutcome;

/// A model and its parameter hash, as in the store keys, with the endpoint it was called at
/// and, for a judge, its template's [`JudgeTemplate::id`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SetupKey {
    pub model: String,
    pub params: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl SetupKey {
    /// Records without an endpoint (written before it was recorded) match any.
    fn matches(&self, key: &RecordKey) -> bool {
        key.model == self.model
            && key.params == self.params
            && (key.endpoint.is_none() || key.endpoint == self.endpoint)
    }
}

/// Which records make up one evaluation (from [`Engine::selection`](super::Engine::selection)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub target: SetupKey,
    pub judge: Option<SetupKey>,
    /// The judge's instructions: only verdicts made with them count (`None`: any).
    #[serde(default)]
    pub template: Option<JudgeTemplate>,
    /// A second judge of the same answers, for agreement (its records with its template,
    /// when its key names one).
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
    /// The target has answers to another wording of this row's instruction: left out.
    pub other_wording: bool,
    /// The judge has verdicts on this answer made with other instructions: left out.
    pub other_template: bool,
}

impl RowResult {
    pub fn verdict(&self) -> Option<&JudgeOutcome> {
        self.judged.as_ref().and_then(Judged::outcome)
    }

    pub fn second_verdict(&self) -> Option<&JudgeOutcome> {
        self.second.as_ref().and_then(Judged::outcome)
    }
}

/// Keeps the latest record per slot, a success over an error.
fn keep<'r, K: std::hash::Hash + Eq>(map: &mut HashMap<K, &'r Record>, slot: K, r: &'r Record) {
    match map.get(&slot) {
        Some(old) if !old.is_error() && r.is_error() => {}
        _ => {
            map.insert(slot, r);
        }
    }
}

/// One row per entry of `rows`, in that order. Later records win; a success wins over an error.
pub fn collect(rows: &[Row], records: &[Record], selection: &Selection) -> Vec<RowResult> {
    let image = ImageData::stand_in();
    let params = GenParams::target_default();
    let wording: HashMap<u64, String> = rows
        .iter()
        .map(|r| {
            let prompt = target_request(&r.instruction, &image, &params).prompt_hash();
            (r.id, prompt)
        })
        .collect();
    let mut answers: HashMap<u64, &Record> = HashMap::new();
    let mut other_wording: HashMap<u64, bool> = HashMap::new();
    // (second judge?, the answer judged) → the verdicts, latest last.
    let mut verdicts: HashMap<(bool, &RecordKey), Vec<&Record>> = HashMap::new();
    for r in records {
        match r.stage {
            Stage::Target if selection.target.matches(&r.key) => match wording.get(&r.key.row) {
                Some(p) if *p == r.key.prompt => keep(&mut answers, r.key.row, r),
                Some(_) => {
                    other_wording.insert(r.key.row, true);
                }
                None => {}
            },
            Stage::Judge => {
                let Some(answer_key) = &r.answer_key else {
                    continue;
                };
                let second = selection.second_judge.as_ref().filter(|j| {
                    j.matches(&r.key) && (j.template.is_none() || j.template == r.template)
                });
                let first = selection.judge.as_ref().filter(|j| j.matches(&r.key));
                for (is_second, judge) in [(false, first), (true, second)] {
                    if judge.is_some() {
                        verdicts.entry((is_second, answer_key)).or_default().push(r);
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
            let usable = answer.filter(|a| !a.is_error());
            // The judge's prompt for this answer, as the engine builds it.
            let expected = match (usable.and_then(|a| a.response()), &selection.template) {
                (Some(response), Some(template)) => Some(
                    judge_request(
                        template,
                        &row.instruction,
                        response.answer_text(),
                        &image,
                        &params,
                        false,
                    )
                    .prompt_hash(),
                ),
                _ => None,
            };
            let mut other_template = false;
            let mut pick = |second: bool| {
                let mut best: HashMap<(), &Record> = HashMap::new();
                for r in usable.and_then(|a| verdicts.get(&(second, &a.key)))? {
                    let fits = second || expected.as_ref().is_none_or(|e| *e == r.key.prompt);
                    if fits {
                        keep(&mut best, (), r);
                    } else {
                        other_template = true;
                    }
                }
                best.get(&()).and_then(|r| judged(r))
            };
            let (first, second) = (pick(false), pick(true));
            RowResult {
                row: row.clone(),
                answer: answer.and_then(|a| a.response().cloned()),
                target_error: answer.and_then(|a| a.error().cloned()),
                judged: first,
                second,
                other_wording: other_wording.contains_key(&row.id),
                other_template,
            }
        })
        .collect()
}
