//! The CLI's side of the plan ([`leakscope::eval::plan`], shared with the page): the image sizes
//! the estimate needs, read from the files' headers, and the plan printed before anything is
//! sent.

use leakscope::eval::Row;
use leakscope::eval::plan::{Plan, Work};

use super::EvalArgs;
use super::setup::Images;

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

/// `selected`: rows in the run (with and without work).
pub fn print_plan(
    args: &EvalArgs,
    selected: usize,
    plan: &Plan,
    target_priced: bool,
    judge_priced: bool,
) {
    let (full, judge_only, e) = (plan.full, plan.judge_only, &plan.estimate);
    let what = if args.no_judge {
        "a target answer"
    } else {
        "target + judge"
    };
    println!(
        "plan: {full} row(s) need {what}, {judge_only} only the judge, {} need nothing \
         (of {selected} selected){}",
        selected - full - judge_only,
        if plan.unreadable > 0 {
            format!("; {} without a readable image", plan.unreadable)
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
    if args.batch {
        println!(
            "  through the providers' batch APIs: half the list price (counted above), results \
             within 24 hours; --max-spend counts every batch this command submits, across \
             reruns"
        );
    }
    let all_priced = (full == 0 || target_priced) && (args.no_judge || judge_priced);
    println!(
        "  total {} (worst case: every answer uses its whole token budget){}",
        dollars(all_priced, e.total_cost_max()),
        match args.max_spend {
            Some(cap) => format!("; hard cap ${cap:.2} (--max-spend)"),
            None => "; no cap (--max-spend USD sets one)".to_owned(),
        }
    );
}
