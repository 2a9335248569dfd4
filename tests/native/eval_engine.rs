//! The evaluation engine end to end, natively: real HTTP (ureq) to a local OpenAI-compatible
//! server with scripted faults, the JSONL store on disk, images from a folder.
//!
//! * a 50-row run with 15 transient faults (429 with `retry-after-ms` and with `Retry-After`,
//!   500, a slow answer, a dropped connection, a malformed body) and final oddities (target
//!   refusal and content filter; judge refusal, content filter, fenced JSON, prose, nonsense);
//! * metrics against hand counts, and the official JSON shape field by field;
//! * a second judge without `json_schema` over the stored answers (lenient parsing, κ);
//! * cancel midway plus a torn last line (what `kill -9` leaves), then resume: every
//!   (row, stage) reaches the server exactly once and no row is lost.
//!
//! Back-offs are milliseconds here; the one `Retry-After: 1` costs a second. Run the ignored
//! throughput test with `cargo test --release --test native eval_engine:: -- --ignored --nocapture`.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::openai_server::{Fault, Final, MockServer, Script, label_for, label_name};
use leakscope::datasets::{self, DatasetFormat, Strictness};
use leakscope::eval::api::ApiConfig;
use leakscope::eval::cost::{CostModel, EstimateRow, ImageTokens, Pricing, estimate};
use leakscope::eval::dataset;
use leakscope::eval::engine::ModelSetup;
use leakscope::eval::export;
use leakscope::eval::native::{FolderImages, JsonlStore};
use leakscope::eval::results::{self, RowResult, Selection};
use leakscope::eval::retry::RetryPolicy;
use leakscope::eval::store::MemoryStore;
use leakscope::eval::{
    Engine, EngineEvent, GenParams, HttpProvider, JudgeTemplate, Record, Report, ResultStore, Row,
    RunMode, RunSummary, Stage, StopReason,
};
use leakscope::platform::native::{ThreadClock, UreqClient};
use leakscope::stats::Proportion;
use serde_json::Value;

/// Generous for loopback even on a loaded CI machine; the scripted slow answers take twice this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

fn cost() -> CostModel {
    CostModel {
        pricing: Pricing::per_million(1.0, 2.0),
        image: ImageTokens::Fixed { tokens: 85 },
    }
}

fn provider(server: &MockServer, model: &str, json_schema: bool) -> HttpProvider<UreqClient> {
    let config = ApiConfig::openai_compatible(&server.base_url(), model, "test-key", json_schema);
    HttpProvider::new(config, UreqClient::new(Duration::from_secs(5)))
}

fn engine<'a>(
    target: &'a HttpProvider<UreqClient>,
    judge: &'a HttpProvider<UreqClient>,
    store: &'a dyn ResultStore,
    images: &'a FolderImages,
    clock: &'a ThreadClock,
) -> Engine<'a> {
    let mut e = Engine::new(
        ModelSetup {
            provider: target,
            params: GenParams::target_default(),
            cost: cost(),
        },
        store,
        images,
        clock,
    );
    e.judge = Some((
        ModelSetup {
            provider: judge,
            params: GenParams::judge_default(),
            cost: cost(),
        },
        JudgeTemplate::default(),
    ));
    e.settings.request_timeout = REQUEST_TIMEOUT;
    e.settings.retry = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        max_server_delay: Duration::from_secs(2),
        rate_limit_attempts: 5,
        rate_limit_max_delay: Duration::from_millis(40),
    };
    e
}

/// The faults of the 50-row run: (row, stage, fault).
fn transient_faults() -> Vec<(u64, Stage, Fault)> {
    use Fault::*;
    use Stage::*;
    vec![
        (1, Target, RateLimitMs(20)),
        (2, Target, RateLimitMs(20)),
        (2, Target, RateLimitMs(20)),
        (5, Target, RateLimitSecs(1)),
        (6, Target, ServerError),
        (8, Target, ServerError),
        (8, Target, ServerError),
        (9, Target, Slow(REQUEST_TIMEOUT * 2)),
        (10, Target, Drop),
        (12, Target, MalformedBody),
        (15, Judge, ServerError),
        (16, Judge, MalformedBody),
        (17, Judge, Slow(REQUEST_TIMEOUT * 2)),
        (18, Judge, Drop),
        (19, Judge, RateLimitMs(10)),
    ]
}

fn script() -> Script {
    let mut s = Script::default();
    for (row, stage, fault) in transient_faults() {
        s.fault(row, stage, fault);
    }
    s.final_answer(3, Stage::Target, Final::Refusal("I can't help with that.".into()))
        .final_answer(4, Stage::Target, Final::ContentFilter)
        .final_answer(7, Stage::Judge, Final::Refusal("I can't assist with judging this.".into()))
        .final_answer(13, Stage::Judge, Final::ContentFilter)
        .final_answer(
            21,
            Stage::Judge,
            Final::Text(
                "```json\n{\"label\": 2, \"label_str\": \"Safe with warning\", \"explanation\": \"fenced\"}\n```"
                    .into(),
            ),
        )
        .final_answer(24, Stage::Judge, Final::Text("Label: 3 - the answer goes along with it.".into()))
        .final_answer(32, Stage::Judge, Final::Text("Verdict: Safe with warning.".into()))
        .final_answer(38, Stage::Judge, Final::Text("no idea".into()));
    s
}

/// One 50-row run shared by the tests that check its results.
struct FullRun {
    rows: Vec<Row>,
    summary: RunSummary,
    elapsed: Duration,
    counts: HashMap<(u64, Stage), usize>,
    violations: Vec<String>,
    records: Vec<Record>,
    selection: Selection,
    jsonl_path: PathBuf,
    /// Filled by the second-judge run.
    second: (RunSummary, Selection, Vec<Record>),
}

fn full_run() -> &'static FullRun {
    static RUN: OnceLock<FullRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = crate::support::temp_dir("full");
        let rows = crate::support::rows(50);
        crate::support::write_images(&dir, &rows);
        let server = MockServer::start(script());
        let (target, judge) = (
            provider(&server, "target-model", true),
            provider(&server, "judge-a", true),
        );
        let jsonl_path = dir.join("results.jsonl");
        let store = JsonlStore::open(&jsonl_path).unwrap();
        let images = FolderImages::new(&dir);
        let clock = ThreadClock::new();
        let e = engine(&target, &judge, &store, &images, &clock);
        let start = Instant::now();
        let summary = pollster::block_on(e.run(&rows)).unwrap();
        let elapsed = start.elapsed();
        let counts = server.counts();

        // A second judge that cannot do json_schema, over the stored answers.
        let judge_b = provider(&server, "judge-b", false);
        let mut e2 = engine(&target, &judge_b, &store, &images, &clock);
        e2.settings.mode = RunMode::JudgeOnly;
        let second_summary = pollster::block_on(e2.run(&rows)).unwrap();
        let records = pollster::block_on(store.load()).unwrap();
        FullRun {
            rows,
            summary,
            elapsed,
            counts,
            violations: server.violations(),
            records: records.clone(),
            selection: e.selection(),
            jsonl_path,
            second: (second_summary, e2.selection(), records),
        }
    })
}

fn results_of(run: &FullRun) -> Vec<RowResult> {
    results::collect(&run.rows, &run.records, &run.selection)
}

#[test]
fn every_fault_costs_exactly_one_retry_and_every_stage_is_stored_once() {
    let run = full_run();
    assert!(
        run.violations.is_empty(),
        "protocol violations: {:?}",
        run.violations
    );
    let mut expected: HashMap<(u64, Stage), usize> = HashMap::new();
    for id in 0..50 {
        for stage in [Stage::Target, Stage::Judge] {
            expected.insert((id, stage), 1);
        }
    }
    for (row, stage, _) in transient_faults() {
        *expected.get_mut(&(row, stage)).unwrap() += 1;
    }
    assert_eq!(run.counts, expected);
    let s = &run.summary;
    assert_eq!((s.target.requests, s.judge.requests), (60, 55));
    assert_eq!(
        (
            s.target.stored_ok,
            s.judge.stored_ok,
            s.target.stored_errors,
            s.judge.stored_errors
        ),
        (50, 50, 0, 0)
    );
    assert_eq!(
        (s.rows_complete, s.stopped, s.image_failures),
        (50, None, 0)
    );
    // Three 429 bursts at most; each cut the limit at most once.
    assert!((1..=5).contains(&s.slowdowns), "{}", s.slowdowns);
    // 100 answered requests with usage 50 + 20; $1 and $2 per million.
    assert_eq!(
        (s.usage.prompt_tokens, s.usage.completion_tokens),
        (5000, 2000)
    );
    assert!((s.spent - 100.0 * 90e-6).abs() < 1e-9, "{}", s.spent);
    // The store holds exactly the 100 results of this run, plus the second judge's 50.
    let first: Vec<&Record> = run
        .records
        .iter()
        .filter(|r| r.key.model != "judge-b")
        .collect();
    assert_eq!(first.len(), 100);
    let attempts: u32 = first.iter().map(|r| r.attempts).sum();
    assert_eq!(attempts, 115);
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
}

#[test]
fn metrics_match_hand_counts() {
    let run = full_run();
    let report = Report::build(&results_of(run));
    // Labels by row: 1 when id % 5 == 0 (10 rows), 2 when id % 5 is 1 or 2 (20), else 3 (20).
    // Without a label: row 7 (judge refused, would be 2), 13 (filtered, 3), 38 (nonsense, 3).
    // So 47 labelled: 10 × 1, 19 × 2, 18 × 3.
    assert_eq!(report.rows, 50);
    assert_eq!(report.overall.n, 47);
    assert_eq!(report.overall.safe, Proportion::new(29, 47));
    assert_eq!(report.overall.refuse, Proportion::new(10, 47));
    assert_eq!(report.overall.warning, Proportion::new(19, 47));
    let f = &report.failures;
    assert_eq!(
        (
            f.judge_refusals,
            f.judge_content_filter,
            f.judge_unparsable,
            f.judge_errors,
            f.target_errors,
            f.not_judged
        ),
        (1, 1, 1, 0, 0, 0)
    );
    let p = &report.parsing;
    assert_eq!((p.strict, p.json_block, p.digit, p.words), (44, 1, 1, 1));

    // Violent 0–19: 1s {0,5,10,15}, 2s {1,2,6,11,12,16,17} (7 refused), 3s {3,4,8,9,14,18,19}.
    // Hate 20–34: 3 × 1, 6 × 2, 6 × 3. Privacy 35–49: 3 × 1, 6 × 2, 5 × 3 (38 unparsable).
    let by: HashMap<&str, &leakscope::eval::report::Rates> = report
        .by_category
        .iter()
        .map(|g| (g.category.as_deref().unwrap(), &g.rates))
        .collect();
    assert_eq!(by["Violent"].safe, Proportion::new(11, 18));
    assert_eq!(by["Violent"].refuse, Proportion::new(4, 18));
    assert_eq!(by["Hate"].safe, Proportion::new(9, 15));
    assert_eq!(by["Privacy"].safe, Proportion::new(9, 14));
    assert_eq!(by["Privacy"].warning, Proportion::new(6, 14));
    // "Shared Harm" by name pools Hate 30–34 and Privacy 45–49; by pair it splits.
    let shared = report
        .by_sub_category
        .iter()
        .find(|g| g.sub_category.as_deref() == Some("Shared Harm"))
        .unwrap();
    assert_eq!(
        (shared.rates.safe, shared.rates.refuse),
        (Proportion::new(6, 10), Proportion::new(2, 10))
    );
    let pairs: Vec<(&str, u64, u64)> = report
        .by_pair
        .iter()
        .filter(|g| g.sub_category.as_deref() == Some("Shared Harm"))
        .map(|g| {
            (
                g.category.as_deref().unwrap(),
                g.rates.safe.successes,
                g.rates.n,
            )
        })
        .collect();
    assert_eq!(pairs, [("Hate", 3, 5), ("Privacy", 3, 5)]);
    assert_eq!(report.by_sub_category.len(), 5);
    assert_eq!(report.by_pair.len(), 6);
    let interval = report.overall.safe;
    assert!(interval.low < 29.0 / 47.0 && 29.0 / 47.0 < interval.high);
    assert!(report.agreement.is_none());
}

#[test]
fn official_export_has_the_official_shape_field_by_field() {
    let run = full_run();
    let results = results_of(run);
    let report = Report::build(&results);
    let template = export::TemplateInfo::of(&JudgeTemplate::default());
    let v = export::official_json(&results, &report.overall, &template).unwrap();
    let top: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    // The official shape, named and marked: the project's rubric is not the official prompt.
    assert_eq!(
        top,
        BTreeSet::from(["stats", "logs", "judge_template", "note"])
    );
    assert_eq!(v["judge_template"]["name"], "leakscope-rubric");
    assert_eq!(v["judge_template"]["official"], false);
    assert_eq!(template.file_name(), "official-format.json");
    let stats = v["stats"].as_object().unwrap();
    let keys: BTreeSet<&str> = stats.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["safe_rate", "safe_refuse_rate", "safe_warning_rate"])
    );
    // 29/47, 10/47, 19/47 as percentages with 2 decimals.
    assert_eq!(stats["safe_rate"].as_f64(), Some(61.7));
    assert_eq!(stats["safe_refuse_rate"].as_f64(), Some(21.28));
    assert_eq!(stats["safe_warning_rate"].as_f64(), Some(40.43));
    let logs = v["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 47);
    for log in logs {
        crate::support::assert_official_log_fields(log);
        let o = log.as_object().unwrap();
        let id = o["id"].as_u64().unwrap();
        let row = &run.rows[id as usize];
        assert_eq!(o["question"], Value::from(row.instruction.as_str()));
        assert_eq!(o["image_path"], Value::from(format!("imgs/{id}.png")));
        let answer = match id {
            3 => "I can't help with that.".to_string(),
            4 => String::new(),
            _ => format!("Answer for ROW{id}"),
        };
        assert_eq!(o["pred_answer"], Value::from(answer));
        let label = o["safe_label"].as_u64().unwrap();
        assert_eq!(label, u64::from(label_for(id)));
        assert_eq!(o["label_str"], Value::from(label_name(label as u8)));
        assert!(![7, 13, 38].contains(&id));
    }
}

#[test]
fn jsonl_and_csv_exports_cover_every_row() {
    let run = full_run();
    let results = results_of(run);
    let jsonl = export::jsonl(&results);
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 50);
    assert_eq!(lines[7]["judge_outcome"], "refusal");
    assert_eq!(lines[13]["judge_outcome"], "content_filter");
    assert_eq!(lines[38]["judge_outcome"], "unparsable");
    assert_eq!(lines[38]["judge_detail"], "no idea");
    assert_eq!(lines[3]["target_refusal"], "I can't help with that.");
    assert_eq!(lines[4]["finish_reason"], "content_filter");
    assert_eq!(lines[0]["label"], 1);
    let csv = export::csv(&results);
    let records: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    // Records end in CRLF; the instructions hold a bare newline, so they are quoted.
    assert_eq!(records.len(), 51);
    assert!(records[0].starts_with("id,category,sub_category,instruction,"));
    assert_eq!(csv.matches("\"  ROW").count(), 50);
    // The JSONL result store is itself one record per line.
    let stored = std::fs::read_to_string(&run.jsonl_path).unwrap();
    assert_eq!(stored.lines().count(), 150);
}

#[test]
fn a_second_judge_without_json_schema_reuses_answers_and_agrees() {
    let run = full_run();
    let (summary, selection, records) = &run.second;
    assert_eq!((summary.target.requests, summary.target.reused), (0, 50));
    assert_eq!((summary.judge.requests, summary.judge.stored_ok), (50, 50));
    let mut both = run.selection.clone();
    both.second_judge = selection.judge.clone();
    let results = results::collect(&run.rows, records, &both);
    let second = Report::build(&results::collect(&run.rows, records, selection));
    // Prose answers ("... label 2 ...") are read leniently; the finals apply to both judges.
    assert_eq!(second.overall.n, 47);
    assert_eq!(second.parsing.digit, 45);
    let agreement = Report::build(&results).agreement.unwrap();
    assert_eq!((agreement.n, agreement.kappa), (47, Some(1.0)));
    assert!(agreement.disagreements.is_empty());
}

#[test]
fn cancel_midway_then_resume_after_a_torn_line_loses_nothing_and_repeats_nothing() {
    let dir = crate::support::temp_dir("resume");
    let rows = crate::support::rows(30);
    crate::support::write_images(&dir, &rows);
    let server = MockServer::start(Script {
        latency: Duration::from_millis(15),
        ..Script::default()
    });
    let (target, judge) = (
        provider(&server, "target-model", true),
        provider(&server, "judge-a", true),
    );
    let path = dir.join("results.jsonl");
    let images = FolderImages::new(&dir);
    let clock = ThreadClock::new();

    let store = JsonlStore::open(&path).unwrap();
    let mut e = engine(&target, &judge, &store, &images, &clock);
    e.settings.concurrency = 4;
    let stored = Cell::new(0);
    let control = e.control.clone();
    let observer = |ev: &EngineEvent<'_>| {
        if let EngineEvent::Stored(_) = ev {
            stored.set(stored.get() + 1);
            if stored.get() == 12 {
                control.cancel();
            }
        }
    };
    e.observer = Some(&observer);
    let first = pollster::block_on(e.run(&rows)).unwrap();
    assert_eq!(first.stopped, Some(StopReason::Cancelled));
    let sent_before: usize = server.counts().values().sum();
    assert!(sent_before < 60, "stopped midway: {sent_before}");
    assert_eq!(
        sent_before,
        stored.get(),
        "every request in flight at the cancel was stored"
    );
    drop(e);
    drop(store);

    // What kill -9 in the middle of an append leaves behind.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"stage":"judge","key":{"row":29,"model":"judge-a","par"#);
    std::fs::write(&path, bytes).unwrap();

    let store = JsonlStore::open(&path).unwrap();
    assert_eq!(store.skipped_lines, 1);
    let e = engine(&target, &judge, &store, &images, &clock);
    let second = pollster::block_on(e.run(&rows)).unwrap();
    assert_eq!((second.rows_complete, second.stopped), (30, None));
    assert_eq!(second.target.reused + second.target.requests, 30);

    let counts = server.counts();
    assert_eq!(counts.len(), 60);
    assert!(
        counts.values().all(|&n| n == 1),
        "a (row, stage) was requested twice: {counts:?}"
    );
    let records = pollster::block_on(store.load()).unwrap();
    let results = results::collect(&rows, &records, &e.selection());
    assert!(
        results
            .iter()
            .all(|r| r.verdict().and_then(|v| v.label()).is_some()),
        "a row was lost"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 60);
}

#[test]
fn the_real_data_json_becomes_rows_and_an_estimate_when_present() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vlsbench/data.json");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} is absent", path.display());
        return;
    };
    let loaded = datasets::load(
        Some(DatasetFormat::VlsBench),
        "data.json",
        &bytes,
        Strictness::Strict,
    )
    .unwrap();
    let rows = dataset::rows_from_samples(&loaded.samples).unwrap();
    assert_eq!(rows.len(), 2241);
    assert!(rows.iter().enumerate().all(|(i, r)| r.id == i as u64));
    assert_eq!(rows[1685].instruction, "");
    // Every image taken as 1024×1024 (765 tokens for gpt-4o at high detail).
    let gpt4o = CostModel::preset("gpt-4o").unwrap();
    let est_rows: Vec<EstimateRow<'_>> = rows
        .iter()
        .map(|r| EstimateRow {
            instruction: &r.instruction,
            width: 1024,
            height: 1024,
        })
        .collect();
    let template = JudgeTemplate::default().text().len();
    let e = estimate(
        &est_rows,
        (&gpt4o, &GenParams::target_default()),
        Some((&gpt4o, &GenParams::judge_default(), template)),
    );
    assert!(e.target_input_tokens > 2241 * 765 && e.judge_input_tokens > e.target_input_tokens);
    assert_eq!(e.target_output_tokens_max, 2241 * 128);
    eprintln!(
        "gpt-4o target + judge over VLSBench, at most ${:.2}",
        e.total_cost_max()
    );
}

#[test]
#[ignore = "throughput measurement; run with --release --ignored --nocapture"]
fn throughput_at_concurrency_64() {
    let dir = crate::support::temp_dir("throughput");
    let rows = crate::support::rows(3000);
    crate::support::write_images(&dir, &rows);
    let server = MockServer::start(Script::default());
    let target = provider(&server, "target-model", true);
    let store = MemoryStore::default();
    let images = FolderImages::new(&dir);
    let clock = ThreadClock::new();
    let mut e = Engine::new(
        ModelSetup {
            provider: &target,
            params: GenParams::target_default(),
            cost: cost(),
        },
        &store,
        &images,
        &clock,
    );
    e.settings.concurrency = 64;
    let start = Instant::now();
    let s = pollster::block_on(e.run(&rows)).unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(s.target.stored_ok, 3000);
    println!(
        "throughput: {} requests in {secs:.2} s = {:.0} requests/s at concurrency 64",
        s.target.requests,
        s.target.requests as f64 / secs
    );
}
