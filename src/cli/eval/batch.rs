//! `leakscope eval --batch`: the providers' batch APIs instead of live calls, on the core's
//! batch engine (`leakscope::eval::native::batch`). What it submits, polls and stores is
//! printed as it happens; the same command run again continues (collects what ended, submits
//! what follows), so the process may exit or be killed at any point.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use leakscope::eval::api::ApiConfig;
use leakscope::eval::batch::remote::{BatchApi, Status};
use leakscope::eval::batch::{api_name, stage_name};
use leakscope::eval::native::batch::{
    BatchApis, BatchEngine, BatchEvent, BatchOptions, BatchSummary,
};
use leakscope::eval::plan::EvalSetup;
use leakscope::eval::{ResultStore, Row, StopReason};
use leakscope::platform::native::{ThreadClock, UreqClient};

use super::setup::Images;
use super::{EvalArgs, Finish, catch_ctrl_c};

/// The APIs of the run, with their keys.
pub struct Apis<'a> {
    pub target: &'a ApiConfig,
    pub judge: Option<&'a ApiConfig>,
}

/// Runs the batch engine; prints what happens.
pub fn run(
    args: &EvalArgs,
    setup: EvalSetup<'_>,
    apis: Apis<'_>,
    store: &dyn ResultStore,
    images: &Images,
    clock: &ThreadClock,
    rows: &[Row],
) -> Result<BatchSummary, String> {
    // Files of hundreds of MB go up and come down: no overall timeout, only a stall one.
    let stall = Duration::from_secs_f64(args.timeout.max(60.0));
    let client = UreqClient::api_transfer(stall);
    let api = |config: &ApiConfig| BatchApi {
        config: config.clone(),
        client: &client,
    };
    let options = BatchOptions {
        wait: !args.detach,
        poll: Duration::from_secs_f64(args.batch_poll),
        max_requests: args.batch_size,
        max_bytes: args.batch_max_mb.map(|mb| (mb * 1e6) as u64),
    };
    let shown: RefCell<HashMap<String, (Status, u64)>> = RefCell::default();
    let observer = |event: &BatchEvent<'_>| show(event, &shown);
    let engine = BatchEngine {
        setup,
        apis: BatchApis {
            target: api(apis.target),
            judge: apis.judge.map(api),
        },
        store,
        images,
        clock,
        control: leakscope::eval::RunControl::new(),
        dir: args.out.join("batches"),
        options,
        observer: Some(&observer),
    };
    catch_ctrl_c(&engine.control);
    pollster::block_on(engine.run(rows)).map_err(|e| {
        format!(
            "{e}\nEverything received before is kept in {}.",
            args.out.join("results.jsonl").display()
        )
    })
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// One line per event; a running batch only when its state or count changes.
fn show(event: &BatchEvent<'_>, shown: &RefCell<HashMap<String, (Status, u64)>>) {
    match event {
        BatchEvent::Submitted {
            chunk,
            batch,
            adopted,
        } => {
            let how = if *adopted {
                "found again (created before the last run stopped)"
            } else {
                "submitted"
            };
            println!(
                "{} chunk {} {how} as {batch}: {} request(s), {} ({})",
                stage_name(chunk.stage),
                chunk.chunk,
                chunk.lines.len(),
                megabytes(chunk.bytes),
                api_name(chunk.api)
            );
        }
        BatchEvent::Running { chunk, batch } => {
            let done = batch.counts.succeeded + batch.counts.errored;
            let state = (batch.status, done);
            if shown.borrow_mut().insert(batch.id.clone(), state) != Some(state) {
                println!(
                    "{} ({}): {}, {done} of {} done",
                    batch.id,
                    stage_name(chunk.stage),
                    batch.status.name(),
                    chunk.lines.len()
                );
            }
        }
        BatchEvent::Collected {
            chunk,
            batch,
            tally,
        } => {
            let mut parts = vec![
                format!("{} answer(s)", tally.answered),
                format!("{} error(s)", tally.errors),
            ];
            if tally.missing > 0 {
                parts.push(format!("{} without a result", tally.missing));
            }
            if tally.already > 0 {
                parts.push(format!("{} stored before", tally.already));
            }
            if tally.foreign > 0 {
                parts.push(format!(
                    "{} line(s) of no request of this chunk",
                    tally.foreign
                ));
            }
            println!(
                "{} ({}, chunk {}) {}: {} stored; ${:.4} at the batch price",
                batch.id,
                stage_name(chunk.stage),
                chunk.chunk,
                batch.status.name(),
                parts.join(", "),
                tally.cost
            );
            if matches!(
                batch.status,
                Status::Expired | Status::Cancelled | Status::Failed
            ) {
                let c = &batch.counts;
                println!(
                    "  {} {} (the provider counts {} request(s): {} succeeded, {} errored, {} \
                     expired, {} cancelled); the requests it did not run are stored as \
                     retryable errors: --retry-errors sends them again",
                    batch.id,
                    batch.status.name(),
                    c.total,
                    c.succeeded,
                    c.errored,
                    c.expired,
                    c.cancelled
                );
            }
        }
        BatchEvent::ImageFailed(e) => eprintln!("warning: {e}; the row is skipped"),
        BatchEvent::CapReached { committed, next } => println!(
            "spending cap: ${committed:.4} committed, the next request could cost up to \
             ${next:.4}; no more is submitted"
        ),
        BatchEvent::Notice(text) => println!("{text}"),
    }
}

/// What this run submitted and collected.
pub fn print_totals(end: &BatchSummary, cap: Option<f64>, priced: bool) {
    let s = &end.summary;
    let stage = |name: &str, c: &leakscope::eval::engine::StageCounts| {
        format!(
            "{name}: {} request(s) submitted, {} stored, {} error(s)",
            c.requests, c.stored_ok, c.stored_errors
        )
    };
    println!(
        "{} batch(es) submitted; {}; {}",
        end.submitted,
        stage("target", &s.target),
        stage("judge", &s.judge)
    );
    let spent = if priced {
        format!("spent ${:.4} at the batch price", s.spent)
    } else {
        "spend unknown (no price for a model)".to_owned()
    };
    println!(
        "{spent}{} in the batches collected by this run ({} prompt + {} completion tokens); \
         image failures {}",
        cap.map(|c| format!(" (cap ${c:.2})")).unwrap_or_default(),
        s.usage.prompt_tokens,
        s.usage.completion_tokens,
        s.image_failures
    );
}

/// How the command ends after a batch run and its report.
pub fn finish(end: BatchSummary, store_path: &Path) -> Result<Finish, String> {
    if !end.running.is_empty() {
        println!(
            "{} batch(es) still running at the provider ({}); they end within 24 hours of \
             submission. Run the same command again to collect them: nothing is sent twice",
            end.running.len(),
            end.running.join(", ")
        );
    }
    if let Some(why) = &end.stopped_because {
        if end.summary.stopped == Some(StopReason::Halted) {
            return Err(format!(
                "{why}. Everything received before is kept in {}.",
                store_path.display()
            ));
        }
        println!("{why}");
    }
    if end.summary.stopped == Some(StopReason::Cancelled) {
        println!("interrupted: run the same command again to continue");
        return Ok(Finish::Interrupted);
    }
    Ok(Finish::Done)
}
