//! Before `leakscope eval` sends anything: which rows still need a target call, which only a
//! judge call, and what that can cost at most, worked out from `results.jsonl` and printed.
//!
//! This follows the engine's rule for each (row, stage) — reuse a stored success, leave a stored
//! error alone unless `--retry-errors`, judge only stored answers with `--rejudge` — on record
//! keys without the image hash: the image files are not read whole here (only their headers, for
//! the size the token count needs). The engine, which does hash them, decides in the end; a row
//! whose image file changed since its answer is called again although the plan counted it done.

use std::collections::HashMap;

use leakscope::eval::cost::{self, Estimate, EstimateRow};
use leakscope::eval::engine::ModelSetup;
use leakscope::eval::protocol::{judge_request, target_request};
use leakscope::eval::{ChatRequest, ImageData, JudgeTemplate, Record, Row, RunMode, Stage};

use super::EvalArgs;
use super::setup::Images;

/// What one row needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Its target answer (then the judge, when there is one).
    Full,
    /// Only the judge, on the stored answer.
    Judge,
    /// Nothing: done, or stopped at a stored error that this mode leaves alone.
    Nothing,
}

/// A record key without the image hash: (row, model, parameters hash, prompt hash).
type Slot<'r> = (Stage, u64, &'r str, &'r str, &'r str);

/// The latest success per slot, else the latest error (the engine's [`StoreIndex`] rule).
///
/// [`StoreIndex`]: leakscope::eval::store::StoreIndex
struct Index<'r>(HashMap<Slot<'r>, &'r Record>);

impl<'r> Index<'r> {
    fn new(records: &'r [Record]) -> Self {
        let mut map: HashMap<Slot<'r>, &'r Record> = HashMap::new();
        for r in records {
            let k = &r.key;
            let slot = (r.stage, k.row, &*k.model, &*k.params, &*k.prompt);
            match map.get(&slot) {
                Some(old) if !old.is_error() && r.is_error() => {}
                _ => {
                    map.insert(slot, r);
                }
            }
        }
        Self(map)
    }

    fn get(&self, stage: Stage, row: u64, model: &str, request: &ChatRequest) -> Option<&Record> {
        let (params, prompt) = (request.params_hash(), request.prompt_hash());
        self.0
            .get(&(stage, row, model, params.as_str(), prompt.as_str()))
            .copied()
    }
}

/// The prompt hash ignores the image's bytes, so a stand-in image gives the real key.
fn no_image() -> ImageData {
    ImageData {
        mime: String::new(),
        width: 0,
        height: 0,
        hash: String::new(),
        base64: "".into(),
    }
}

/// What each row of `rows` needs, in order.
pub fn work(
    rows: &[Row],
    records: &[Record],
    target: &ModelSetup<'_>,
    judge: Option<(&ModelSetup<'_>, &JudgeTemplate)>,
    mode: RunMode,
) -> Vec<Work> {
    let index = Index::new(records);
    let image = no_image();
    let target_model = target.provider.model();
    rows.iter()
        .map(|row| {
            let request = target_request(&row.instruction, &image, &target.params);
            let answer = index.get(Stage::Target, row.id, target_model, &request);
            let answer = match (answer, mode) {
                (Some(r), _) if !r.is_error() => r.response(),
                (Some(_), RunMode::RetryErrors) | (None, RunMode::Resume) => return Work::Full,
                _ => return Work::Nothing,
            };
            let (Some(answer), Some((judge, template))) = (answer, judge) else {
                return Work::Nothing;
            };
            let request = judge_request(
                template,
                &row.instruction,
                answer.answer_text(),
                &image,
                &judge.params,
                judge.provider.supports_json_schema(),
            );
            match (
                index.get(Stage::Judge, row.id, judge.provider.model(), &request),
                mode,
            ) {
                (Some(r), _) if !r.is_error() => Work::Nothing,
                (Some(_), RunMode::RetryErrors) => Work::Judge,
                (None, RunMode::Resume | RunMode::JudgeOnly) => Work::Judge,
                _ => Work::Nothing,
            }
        })
        .collect()
}

/// The most the planned calls can cost: rows needing everything, plus judge calls alone for
/// rows that only need the judge. `sizes[i]`: the image size of `rows[i]` (`None`: unreadable,
/// the row will fail without a call).
pub fn estimate(
    rows: &[Row],
    work: &[Work],
    sizes: &[Option<(u32, u32)>],
    target: &ModelSetup<'_>,
    judge: Option<(&ModelSetup<'_>, usize)>,
) -> Estimate {
    let pick = |want: Work| -> Vec<EstimateRow<'_>> {
        rows.iter()
            .zip(work)
            .zip(sizes)
            .filter(|((_, w), _)| **w == want)
            .filter_map(|((row, _), size)| {
                let (width, height) = (*size)?;
                Some(EstimateRow {
                    instruction: &row.instruction,
                    width,
                    height,
                })
            })
            .collect()
    };
    let judge = judge.map(|(j, template_len)| (&j.cost, &j.params, template_len));
    let target = (&target.cost, &target.params);
    let mut total = cost::estimate(&pick(Work::Full), target, judge);
    let judge_only = cost::estimate(&pick(Work::Judge), target, judge);
    total.judge_input_tokens += judge_only.judge_input_tokens;
    total.judge_output_tokens_max += judge_only.judge_output_tokens_max;
    total.judge_cost_max += judge_only.judge_cost_max;
    total.rows += judge_only.rows;
    total
}

/// The image size of every row that has work (`None`: unreadable, or no work).
pub fn image_sizes(images: &Images, rows: &[Row], work: &[Work]) -> Vec<Option<(u32, u32)>> {
    let mut failed: Vec<String> = Vec::new();
    let sizes = rows
        .iter()
        .zip(work)
        .map(|(row, w)| {
            if *w == Work::Nothing {
                return None;
            }
            images
                .dimensions(row)
                .map_err(|e| failed.push(format!("row {}: {e}", row.id)))
                .ok()
        })
        .collect();
    if !failed.is_empty() {
        eprintln!(
            "warning: {} row(s) have no readable image and will be skipped without a request, \
             e.g. {} (--images DIR: the folder that holds imgs/; --tar: the image archive)",
            failed.len(),
            failed[0]
        );
    }
    sizes
}

pub fn print_plan(
    args: &EvalArgs,
    rows: &[Row],
    work: &[Work],
    sizes: &[Option<(u32, u32)>],
    e: &Estimate,
    target_priced: bool,
    judge_priced: bool,
) {
    let count = |w: Work| work.iter().filter(|x| **x == w).count();
    let (full, judge_only) = (count(Work::Full), count(Work::Judge));
    let unreadable = work
        .iter()
        .zip(sizes)
        .filter(|(w, s)| **w != Work::Nothing && s.is_none())
        .count();
    let what = if args.no_judge {
        "a target answer"
    } else {
        "target + judge"
    };
    println!(
        "plan: {full} row(s) need {what}, {judge_only} only the judge, {} need nothing \
         (of {} selected){}",
        rows.len() - full - judge_only,
        rows.len(),
        if unreadable > 0 {
            format!("; {unreadable} without a readable image")
        } else {
            String::new()
        }
    );
    let dollars = |priced: bool, v: f64| {
        if priced {
            format!("at most ${v:.4}")
        } else {
            "cost unknown".to_owned()
        }
    };
    if full > 0 {
        println!(
            "  target: ~{} input tokens + at most {} output tokens, {}",
            e.target_input_tokens,
            e.target_output_tokens_max,
            dollars(target_priced, e.target_cost_max)
        );
    }
    if !args.no_judge {
        println!(
            "  judge:  ~{} input tokens + at most {} output tokens, {}",
            e.judge_input_tokens,
            e.judge_output_tokens_max,
            dollars(judge_priced, e.judge_cost_max)
        );
    }
    let all_priced = (full == 0 || target_priced) && (args.no_judge || judge_priced);
    println!(
        "  total {} (worst case: every answer uses all 128 tokens){}",
        dollars(all_priced, e.total_cost_max()),
        match args.max_spend {
            Some(cap) => format!("; hard cap ${cap:.2} (--max-spend)"),
            None => "; no cap (--max-spend USD sets one)".to_owned(),
        }
    );
}
