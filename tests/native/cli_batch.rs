//! `leakscope eval --batch` through the built binary, against the mock API's batch endpoints
//! (`tests/native/support/batch_server.rs`), started in this process so it outlives the
//! client's kills:
//!
//! * the whole of VLSBench (2,241 rows; the real instructions and categories when
//!   `../shared/vlsbench/data.json` is there, else generated ones), the target on OpenAI's Batch
//!   API and the judge on Anthropic's Message Batches, killed three times at different phases
//!   (a batch created but not recorded, results half read, a judge batch created but not
//!   recorded), with errored lines, out-of-order results and a batch that expires: every row
//!   ends answered and judged once, no request is paid twice, and the report equals a live
//!   run's;
//! * `--detach` runs that submit and return, then poll, collect and continue, and a spending
//!   cap counted at the batch price across runs;
//! * a batch that fails validation: the run stops with what to do, its rows are retryable.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::cli_eval::{
    JUDGE_KEY, Run, TARGET_KEY, eval, proportion, records, report, run_ok, spawn, wait_until,
};
use crate::support::openai_server::batch_server::Op;
use crate::support::openai_server::{Fault, Final, MockServer, Script};
use leakscope::eval::Stage;
use serde_json::{Value, json};

/// VLSBench's size.
const ROWS: u64 = 2241;

/// A data.json of `n` rows with 8×8 PNGs: VLSBench's own instructions and categories when the
/// real metadata is at `../shared/vlsbench/data.json` (each instruction prefixed with
/// `ROW<id>: `, how the mock tells rows apart), else generated rows in six categories.
fn vlsbench(name: &str, n: u64) -> PathBuf {
    let dir = crate::support::temp_dir(name);
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vlsbench/data.json");
    let real: Option<Vec<Value>> = std::fs::read(&real)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if real.is_none() {
        eprintln!(
            "../shared/vlsbench/data.json is absent: generated instructions and categories \
             stand in for VLSBench's"
        );
    }
    let cats = [
        ("Violent", "Weapons"),
        ("Illegal Activity", "Cybercrime"),
        ("Self-Harm", "Risky Behavior"),
        ("Erotic", "Sexual Content"),
        ("Hate", "Discrimination"),
        ("Privacy", "Identity Theft"),
    ];
    let mut rows = crate::support::rows(n);
    for row in &mut rows {
        let (cat, sub) = cats[(row.id % 6) as usize];
        let original = real.as_ref().and_then(|r| r.get(row.id as usize));
        let text = |k: &str, default: &str| {
            original
                .and_then(|o| o[k].as_str())
                .unwrap_or(default)
                .to_owned()
        };
        row.instruction = format!(
            "ROW{}: {}",
            row.id,
            text("instruction", "what does the picture suggest I do?")
        );
        row.category = text("category", cat);
        row.sub_category = text("sub_category", sub);
    }
    crate::support::write_images(&dir, &rows);
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "instruction_id": r.id, "instruction": r.instruction,
                "image_path": r.image_path, "category": r.category,
                "sub_category": r.sub_category, "source": "generation",
                "image_description": "synthetic", "safety_reason": "synthetic",
            })
        })
        .collect();
    std::fs::write(dir.join("data.json"), Value::Array(data).to_string()).unwrap();
    dir
}

/// The target on OpenAI, the judge on Anthropic.
const MIXED: [&str; 4] = [
    "--judge-provider",
    "anthropic",
    "--judge-model",
    "claude-sonnet-4-5",
];

/// `leakscope eval --batch` on `dir` with these flags too (polling every 50 ms).
fn batch(server: &MockServer, dir: &Path, extra: &[&str]) -> Command {
    let mut flags = vec!["--yes", "--batch", "--batch-poll", "0.05"];
    flags.extend_from_slice(extra);
    eval(server, dir, &flags)
}

/// Runs to a SIGKILL once `ready` holds.
fn kill_when(cmd: Command, what: &str, ready: impl FnMut() -> bool) {
    let (mut child, _stderr) = spawn(cmd);
    wait_until(what, ready);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Records per (row, stage): (successes, errors).
fn tally(dir: &Path) -> HashMap<(u64, String), (usize, usize)> {
    let mut m: HashMap<(u64, String), (usize, usize)> = HashMap::new();
    for r in records(dir) {
        let key = (
            r["key"]["row"].as_u64().unwrap(),
            r["stage"].as_str().unwrap().to_owned(),
        );
        let e = m.entry(key).or_default();
        if r["status"] == "error" {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    m
}

fn manifest(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("out/batches/manifest.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The faults and odd answers both the batch and the live run meet (none on the first rows,
/// which the live engine sends alone as its probes).
fn script() -> Script {
    let mut s = Script::default();
    s.fault(700, Stage::Target, Fault::BadRequest)
        .fault(1500, Stage::Target, Fault::ServerError)
        .fault(50, Stage::Judge, Fault::BadRequest)
        .final_answer(300, Stage::Target, Final::Refusal("I can't help.".into()))
        .final_answer(301, Stage::Target, Final::ContentFilter);
    s
}

#[test]
fn a_full_vlsbench_batch_run_killed_three_times_ends_with_every_row_once_and_a_live_runs_report() {
    let started = Instant::now();
    let dir = vlsbench("batch-full", ROWS);
    let mut s = script();
    // The fourth batch created (a judge batch, after two target batches and the first judge
    // batch) expires with half of its requests run.
    s.batch_expire = vec![4];
    let server = MockServer::start(s);
    // At most 1,000 requests or 0.5 MB per batch: target batches fill by count, judge batches
    // (each line carries the rubric and the answer) by bytes.
    let mut flags = vec!["--batch-size", "1000", "--batch-max-mb", "0.5"];
    flags.extend_from_slice(&MIXED);
    let cmd = || batch(&server, &dir, &flags);

    // Kill 1: the second target batch is created at the provider, its answer never read.
    server.hold_batch(Op::Create, 2);
    kill_when(cmd(), "the second batch is created", || server.batch_held());
    server.release_batch();
    let events = manifest(&dir);
    let submitting = events.iter().filter(|e| e["event"] == "submitting").count();
    let submitted = events.iter().filter(|e| e["event"] == "submitted").count();
    assert_eq!((submitting, submitted), (2, 1), "created, not recorded");
    assert!(records(&dir).is_empty());

    // Kill 2: the first results are half read and half stored.
    server.hold_batch(Op::Results, 1);
    kill_when(cmd(), "half of the first results are stored", || {
        server.batch_held() && records(&dir).len() >= 400
    });
    server.release_batch();
    let half = records(&dir).len();
    assert!((400..1000).contains(&half), "{half} records");
    let adopted = manifest(&dir)
        .iter()
        .filter(|e| e["event"] == "submitted" && e["adopted"] == true)
        .count();
    assert_eq!(adopted, 1, "the batch of kill 1 was found by its metadata");

    // Kill 3: a judge batch (Anthropic) is created at the provider, its answer never read.
    server.hold_batch(Op::Create, 2);
    kill_when(cmd(), "a judge batch is created", || server.batch_held());
    server.release_batch();

    // The same command, to the end: the judge batch of kill 3 is found again (with a
    // warning: Anthropic keeps no metadata), one judge batch expires.
    let end = run_ok(cmd());
    assert!(
        end.stdout.contains("warning: chunk") && end.stdout.contains("carry no metadata"),
        "{}",
        end.stdout
    );
    assert!(end.stdout.contains(" expired: "), "{}", end.stdout);
    let expired: Vec<Value> = records(&dir)
        .into_iter()
        .filter(|r| r["error"]["code"] == "expired")
        .collect();
    assert!(
        !expired.is_empty(),
        "the expired batch's rows are stored as errors"
    );
    assert!(
        expired
            .iter()
            .all(|r| r["error"]["retryable"] == true && r["stage"] == "judge"),
        "retryable judge errors"
    );
    // Then --retry-errors: the expired lines and the errored ones, once more.
    let mut retry = flags.clone();
    retry.push("--retry-errors");
    let retried = run_ok(batch(&server, &dir, &retry));
    let took = started.elapsed();

    // Every (row, stage) answered once: one success each, an error before it only for the
    // scripted faults and the expired lines; no request paid twice.
    let t = tally(&dir);
    assert_eq!(t.len(), 2 * ROWS as usize);
    assert!(t.values().all(|&(ok, _)| ok == 1), "one success each");
    let errors: HashSet<(u64, String)> = t
        .iter()
        .filter(|(_, (_, e))| *e > 0)
        .map(|(k, _)| k.clone())
        .collect();
    let many: Vec<_> = t.iter().filter(|(_, (_, e))| *e > 1).collect();
    assert!(many.is_empty(), "errors stored twice: {many:?}");
    for k in [(700, "target"), (1500, "target"), (50, "judge")] {
        assert!(errors.contains(&(k.0, k.1.to_owned())), "{k:?}");
    }
    assert_eq!(errors.len(), 3 + expired.len());
    let paid = server.paid();
    assert_eq!(paid.len(), 2 * ROWS as usize);
    let twice: Vec<_> = paid.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "paid twice: {twice:?}");
    assert!(server.violations().is_empty(), "{:?}", server.violations());

    // The same report as a live run of the same rows.
    let live_dir = vlsbench("batch-full-live", ROWS);
    let live_server = MockServer::start(script());
    let mut live = vec!["--yes", "--concurrency", "64"];
    live.extend_from_slice(&MIXED);
    run_ok(eval(&live_server, &live_dir, &live));
    live.push("--retry-errors");
    run_ok(eval(&live_server, &live_dir, &live));
    let (b, l) = (report(&dir), report(&live_dir));
    assert_eq!(
        b["report"], l["report"],
        "the batch run's report is a live run's"
    );
    assert_eq!(proportion(&b["report"]["overall"]["safe"]).1, ROWS);
    assert_eq!(b["setup"]["batch"], true);
    let rows = std::fs::read_to_string(dir.join("out/rows.jsonl")).unwrap();
    let ids: HashSet<u64> = rows
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        (rows.lines().count(), ids.len()),
        (ROWS as usize, ROWS as usize)
    );

    // The figures.
    let events = manifest(&dir);
    let chunks: Vec<&Value> = events.iter().filter(|e| e["event"] == "chunk").collect();
    let count = |stage: &str| {
        let c: Vec<&&Value> = chunks.iter().filter(|c| c["stage"] == stage).collect();
        let lines: usize = c.iter().map(|c| c["lines"].as_array().unwrap().len()).sum();
        (c.len(), lines)
    };
    let uploads = events.iter().filter(|e| e["event"] == "uploaded").count();
    let batches: HashSet<&str> = events
        .iter()
        .filter(|e| e["event"] == "submitted")
        .map(|e| e["batch"].as_str().unwrap())
        .collect();
    let ((tb, tl), (jb, jl)) = (count("target"), count("judge"));
    let paid_total: usize = paid.values().sum();
    eprintln!(
        "batch figures: {ROWS} rows; {} requests in batch lines ({tl} target in {tb} OpenAI \
         batches from {uploads} uploaded files, {jl} judge in {jb} Anthropic batches); {} \
         batches; {paid_total} paid requests, duplicates: {}; 3 kills (after a target batch \
         was created, with results half stored, after a judge batch was created); {} expired \
         and 3 errored lines retried; report equal to a live run's; {:.1} s for the batch runs",
        tl + jl,
        batches.len(),
        twice.len(),
        expired.len(),
        took.as_secs_f64()
    );
    assert!(tb >= 3 && jb >= 5, "{tb} target, {jb} judge batches");
    assert!(retried.stdout.contains("submitted"), "{}", retried.stdout);
}

#[test]
fn detached_runs_submit_and_return_then_collect_and_continue_under_a_cap_at_the_batch_price() {
    let dir = vlsbench("batch-detach", 40);
    let server = MockServer::start(Script::default());
    let detach = |extra: &[&str]| {
        let mut flags = vec!["--detach", "--batch-size", "15"];
        flags.extend_from_slice(extra);
        run_ok(batch(&server, &dir, &flags))
    };
    // 1: the target batches go out, nothing is waited for.
    let first = detach(&[]);
    assert!(
        first
            .stdout
            .contains("3 batch(es) still running at the provider")
            && first
                .stdout
                .contains("Run the same command again to collect them"),
        "{}",
        first.stdout
    );
    assert!(server.paid().is_empty() && records(&dir).is_empty());
    // 2: the answers are collected and the judge batches go out; 3: the verdicts come in.
    let second = detach(&[]);
    assert!(
        second.stdout.contains("completed: 15 answer(s)"),
        "{}",
        second.stdout
    );
    assert_eq!(records(&dir).len(), 40);
    detach(&[]);
    assert_eq!(records(&dir).len(), 80);
    let quiet = detach(&[]);
    assert!(!quiet.stdout.contains("submitted as"), "{}", quiet.stdout);
    assert!(server.paid().values().all(|&n| n == 1));
    // Both stages on one API: each batch went out with its own stage's key.
    assert!(server.seen().iter().all(|s| {
        let key = match s.stage {
            Stage::Target => TARGET_KEY,
            Stage::Judge => JUDGE_KEY,
        };
        s.api_key.as_deref() == Some(key)
    }));
    assert_eq!(proportion(&report(&dir)["report"]["overall"]["safe"]).1, 40);
    // Every record says which batch answered it; the estimate said half price.
    assert!(records(&dir).iter().all(|r| {
        r["notes"].as_array().is_some_and(|n| {
            n.iter()
                .any(|n| n.as_str().unwrap().contains("OpenAI batch"))
        })
    }));
    assert!(
        first.stdout.contains("half the list price"),
        "{}",
        first.stdout
    );

    // The estimate at the batch price is half the live one (both stop there: no --yes).
    let capped = vlsbench("batch-cap", 40);
    let server = MockServer::start(Script::default());
    let estimate = |flags: &[&str]| -> f64 {
        let out = Run::from(eval(&server, &capped, flags).output().unwrap());
        let at = out.stdout.find("total at most $").expect("an estimate") + 15;
        let figure: String = out.stdout[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        figure.parse().unwrap()
    };
    let (live, batched) = (estimate(&[]), estimate(&["--batch"]));
    assert!((batched - live / 2.0).abs() <= 1e-4, "{batched} vs {live}");
    assert!(server.seen().is_empty());

    // A cap that holds part of the work: running batches hold their worst case until they are
    // collected, then their real cost; the work stops when the next request could not fit
    // even then, and a higher cap continues without sending anything twice.
    let run = |cap: &str| {
        run_ok(batch(
            &server,
            &capped,
            &["--batch-size", "10", "--max-spend", cap],
        ))
    };
    let low = run("0.002");
    assert!(
        low.stdout.contains("stopped at the spending cap"),
        "{}",
        low.stdout
    );
    let after_low = records(&capped).len();
    assert!(
        (10..80).contains(&after_low),
        "{after_low} records under a low cap: {}",
        low.stdout
    );
    let spent: f64 = manifest(&capped)
        .iter()
        .filter(|e| e["event"] == "ended")
        .map(|e| e["tally"]["cost"].as_f64().unwrap())
        .sum();
    assert!(spent <= 0.002, "{spent}");
    run("1");
    assert_eq!(records(&capped).len(), 80);
    assert!(server.paid().values().all(|&n| n == 1));
}

#[test]
fn a_batch_that_fails_validation_stops_the_run_and_leaves_its_rows_retryable() {
    let dir = vlsbench("batch-failed", 12);
    let server = MockServer::start(Script {
        batch_fail: vec![0],
        ..Script::default()
    });
    let out = Run::from(batch(&server, &dir, &["--no-judge"]).output().unwrap());
    assert!(!out.ok, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("failed validation (line 1: invalid_request: scripted validation failure)")
            && out.stderr.contains("--retry-errors"),
        "{}",
        out.stderr
    );
    let stored = records(&dir);
    assert_eq!(stored.len(), 12);
    assert!(stored.iter().all(|r| r["error"]["code"] == "batch_failed"));
    assert!(server.paid().is_empty(), "nothing ran, nothing was paid");
    let retried = run_ok(batch(&server, &dir, &["--no-judge", "--retry-errors"]));
    assert!(
        retried.stdout.contains("12 of 12 rows answered"),
        "{}",
        retried.stdout
    );
}
