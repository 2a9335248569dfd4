//! `leakscope eval` through the built binary, against the mock model API of `tests/support`
//! started in this process:
//!
//! * a 12-row run with scripted faults and odd answers: report numbers against hand counts, the
//!   exports (official JSON shape included), `--retry-errors`, then `--rejudge` with a second
//!   judge on the Anthropic API and Cohen's kappa; the keys reach the server and nowhere else;
//! * Ctrl-C midway, then the same command: no (row, stage) is requested twice;
//! * `kill -9` midway, then the same command: only the requests in flight at the kill are sent
//!   again, and no row is lost;
//! * no paid call without `--yes` (no terminal), `--max-spend` stops and a higher cap continues,
//!   images from a tar archive, and an official template that fails its hash check;
//! * the mock server itself as the browser tests use it: JSON fault scripts, CORS, `/__seen`.
//!
//! The server can hold every request after the first N until released, so "midway" is a known
//! point, not a race.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::openai_server::{Api, Fault, Final, MockServer, Script, label_name};
use leakscope::eval::Stage;
use leakscope::eval::export::percent_2dp;
use serde_json::{Value, json};

pub(crate) const TARGET_KEY: &str = "sk-test-TARGET-7c1e9a55d2";
pub(crate) const JUDGE_KEY: &str = "sk-test-JUDGE-42f0b3e8a1";

/// A VLSBench-shaped data.json of `n` synthetic rows (`support::rows`) with their images.
fn dataset(name: &str, n: u64) -> PathBuf {
    let dir = crate::support::temp_dir(name);
    let rows = crate::support::rows(n);
    crate::support::write_images(&dir, &rows);
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "instruction_id": r.id,
                "instruction": r.instruction,
                "image_path": r.image_path,
                "category": r.category,
                "sub_category": r.sub_category,
                "source": "generation",
                "image_description": "synthetic",
                "safety_reason": "synthetic",
            })
        })
        .collect();
    std::fs::write(dir.join("data.json"), Value::Array(data).to_string()).unwrap();
    dir
}

/// `leakscope eval <dir>/data.json --out <dir>/out` against `server`, both models priced at
/// $1 / $2 per million tokens, keys in the environment, stdin closed. A flag in `extra`
/// replaces the default one.
pub(crate) fn eval(server: &MockServer, dir: &Path, extra: &[&str]) -> Command {
    let base = server.base_url();
    let defaults = [
        ("--target-base-url", base.as_str()),
        ("--target-model", "target-model"),
        ("--target-key-env", "LEAKSCOPE_TEST_TARGET_KEY"),
        ("--judge-base-url", base.as_str()),
        ("--judge-model", "judge-a"),
        ("--judge-key-env", "LEAKSCOPE_TEST_JUDGE_KEY"),
        ("--target-price", "1,2"),
        ("--judge-price", "1,2"),
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakscope"));
    cmd.arg("eval")
        .arg(dir.join("data.json"))
        .arg("--out")
        .arg(dir.join("out"));
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            cmd.args([flag, value]);
        }
    }
    cmd.args(extra)
        .env("LEAKSCOPE_TEST_TARGET_KEY", TARGET_KEY)
        .env("LEAKSCOPE_TEST_JUDGE_KEY", JUDGE_KEY)
        .stdin(Stdio::null());
    cmd
}

pub(crate) struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }
}

/// Runs to the end; panics unless it succeeds.
pub(crate) fn run_ok(mut cmd: Command) -> Run {
    let run = Run::from(cmd.output().expect("run leakscope"));
    assert!(
        run.ok,
        "leakscope eval failed:\n{}\n{}",
        run.stderr, run.stdout
    );
    run
}

pub(crate) fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("out/report.json")).unwrap()).unwrap()
}

/// (row, stage) of every record in results.jsonl, in file order.
fn stored(dir: &Path) -> Vec<(u64, Stage)> {
    let Ok(text) = std::fs::read_to_string(dir.join("out/results.jsonl")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| {
            let stage = serde_json::from_value(r["stage"].clone()).unwrap();
            (r["key"]["row"].as_u64().unwrap(), stage)
        })
        .collect()
}

/// Polls until `ready` (the deadline only keeps a broken build from hanging the suite).
pub(crate) fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub(crate) fn proportion(v: &Value) -> (u64, u64) {
    (
        v["successes"].as_u64().unwrap(),
        v["total"].as_u64().unwrap(),
    )
}

fn group<'a>(groups: &'a Value, field: &str, name: &str) -> &'a Value {
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g[field] == name)
        .unwrap_or_else(|| panic!("no group {field} = {name}"))
}

/// Neither key appears in any file of the output folder or in what the command printed.
fn assert_no_key_leaks(dir: &Path, runs: &[&Run]) {
    let mut texts: Vec<(String, String)> = runs
        .iter()
        .flat_map(|r| {
            [
                ("stdout".into(), r.stdout.clone()),
                ("stderr".into(), r.stderr.clone()),
            ]
        })
        .collect();
    for entry in std::fs::read_dir(dir.join("out")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        texts.push((
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into(),
        ));
    }
    assert!(
        texts.len() >= 2 + 5,
        "results, report and exports were written"
    );
    for (name, text) in texts {
        for key in [TARGET_KEY, JUDGE_KEY] {
            assert!(!text.contains(key), "{name} contains an API key");
        }
    }
}

/// Rows 0–3 and 18–19 are Violent (even ids Weapons, odd Terrorism), 20–21 Hate /
/// Discrimination, 30–33 Hate / Shared Harm.
const SELECTED: [u64; 12] = [0, 1, 2, 3, 18, 19, 20, 21, 30, 31, 32, 33];

fn faults() -> Script {
    let mut s = Script::default();
    s.fault(1, Stage::Target, Fault::RateLimitMs(20))
        .fault(2, Stage::Target, Fault::ServerError)
        .fault(21, Stage::Target, Fault::Drop)
        .fault(20, Stage::Judge, Fault::MalformedBody)
        .fault(19, Stage::Target, Fault::BadRequest)
        .final_answer(
            3,
            Stage::Judge,
            Final::Refusal("I can't judge this.".into()),
        )
        .final_answer(
            30,
            Stage::Target,
            Final::Refusal("I can't help with that.".into()),
        )
        .final_answer(31, Stage::Judge, Final::Text("no idea".into()));
    s
}

#[test]
fn a_run_with_faults_then_retry_errors_then_a_second_judge() {
    let dir = dataset("story", 40);
    let server = MockServer::start(faults());
    let rows = "0-3,18-21,30-33";
    let first = run_ok(eval(
        &server,
        &dir,
        &["--rows", rows, "--yes", "--concurrency", "4"],
    ));
    assert!(server.violations().is_empty(), "{:?}", server.violations());

    // Every selected (row, stage) once, plus one retry per transient fault; the 400 on row 19
    // is final, so its judge is never called.
    let mut expected: HashMap<(u64, Stage), usize> = HashMap::new();
    for id in SELECTED {
        expected.insert((id, Stage::Target), 1);
        if id != 19 {
            expected.insert((id, Stage::Judge), 1);
        }
    }
    for key in [
        (1, Stage::Target),
        (2, Stage::Target),
        (21, Stage::Target),
        (20, Stage::Judge),
    ] {
        *expected.get_mut(&key).unwrap() += 1;
    }
    assert_eq!(server.counts(), expected);
    for seen in server.seen() {
        let key = match seen.stage {
            Stage::Target => TARGET_KEY,
            Stage::Judge => JUDGE_KEY,
        };
        assert_eq!(
            seen.api_key.as_deref(),
            Some(key),
            "the key from the named variable"
        );
    }

    // Labels (label_for): 1 for ids ≡ 0 mod 5, 2 for ≡ 1, 2, else 3. Unlabelled: 3 (judge
    // refused), 19 (target error), 31 (unparsable). Labelled 9: 1s {0, 20, 30},
    // 2s {1, 2, 21, 32}, 3s {18, 33}.
    let r = report(&dir);
    let rep = &r["report"];
    assert_eq!(rep["rows"], 12);
    assert_eq!(proportion(&rep["overall"]["safe"]), (7, 9));
    assert_eq!(proportion(&rep["overall"]["refuse"]), (3, 9));
    assert_eq!(proportion(&rep["overall"]["warning"]), (4, 9));
    let f = &rep["failures"];
    assert_eq!(
        [
            &f["judge_refusals"],
            &f["judge_unparsable"],
            &f["target_errors"],
            &f["judge_errors"]
        ],
        [1, 1, 1, 0]
    );
    let safe = |field: &str, name: &str| {
        let g = group(&rep[format!("by_{field}")], field, name);
        proportion(&g["rates"]["safe"])
    };
    assert_eq!(safe("category", "Violent"), (3, 4));
    assert_eq!(safe("category", "Hate"), (4, 5));
    assert_eq!(safe("sub_category", "Weapons"), (2, 3));
    assert_eq!(safe("sub_category", "Terrorism"), (1, 1));
    assert_eq!(safe("sub_category", "Shared Harm"), (2, 3));
    let interval = &rep["overall"]["safe"];
    assert!(interval["low"].as_f64().unwrap() < 7.0 / 9.0);
    assert!(interval["high"].as_f64().unwrap() > 7.0 / 9.0);
    assert_eq!(r["last_run"]["target"]["stored_errors"], 1);
    assert!(rep["agreement"].is_null());
    let all = first.stdout.lines().find(|l| l.starts_with("All")).unwrap();
    assert!(
        all.contains(" 77.78 [") && all.contains(" 33.33 [") && all.contains(" 44.44 ["),
        "{all}"
    );
    assert!(first.stdout.contains("judge refused 1,"));

    // The official output's shape, labelled rows only; with the project's rubric it is not
    // official.json but official-format.json, naming the template and saying so.
    assert!(!dir.join("out/official.json").exists());
    let official: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/official-format.json")).unwrap())
            .unwrap();
    let top: BTreeSet<&str> = official
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        top,
        BTreeSet::from(["stats", "logs", "judge_template", "note"])
    );
    assert_eq!(official["judge_template"]["name"], "leakscope-rubric");
    assert_eq!(
        official["judge_template"]["sha256"],
        r["setup"]["template"]["sha256"]
    );
    assert_eq!(
        official["stats"],
        json!({
            "safe_rate": percent_2dp(7.0 / 9.0),
            "safe_refuse_rate": percent_2dp(3.0 / 9.0),
            "safe_warning_rate": percent_2dp(4.0 / 9.0),
        })
    );
    let logs = official["logs"].as_array().unwrap();
    let ids: BTreeSet<u64> = logs.iter().map(|l| l["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, BTreeSet::from([0, 1, 2, 18, 20, 21, 30, 32, 33]));
    for log in logs {
        crate::support::assert_official_log_fields(log);
        assert_eq!(
            log["label_str"],
            label_name(log["safe_label"].as_u64().unwrap() as u8)
        );
    }
    let row30 = logs.iter().find(|l| l["id"] == 30).unwrap();
    assert_eq!(row30["pred_answer"], "I can't help with that.");
    let jsonl = std::fs::read_to_string(dir.join("out/rows.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 12);
    let csv = std::fs::read_to_string(dir.join("out/rows.csv")).unwrap();
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 13);

    // The same command again sends nothing; --retry-errors sends only row 19's two stages and
    // judges row 31's unparsable verdict again (the judge still says "no idea").
    let again = run_ok(eval(&server, &dir, &["--rows", rows]));
    assert!(again.stdout.contains("nothing to send"), "{}", again.stdout);
    let before = server.seen().len();
    let retry = run_ok(eval(
        &server,
        &dir,
        &["--rows", rows, "--retry-errors", "--yes"],
    ));
    let new: BTreeSet<(u64, bool)> = server.seen()[before..]
        .iter()
        .map(|s| (s.row, s.stage == Stage::Judge))
        .collect();
    assert_eq!(new, BTreeSet::from([(19, false), (19, true), (31, true)]));
    assert_eq!(server.seen().len() - before, 3);
    assert_eq!(
        proportion(&report(&dir)["report"]["overall"]["safe"]),
        (7, 10)
    );

    // A second judge on the stored answers, over the Anthropic API (no JSON schema: prose).
    let before = server.seen().len();
    let rejudge = run_ok(eval(
        &server,
        &dir,
        &[
            "--rows",
            rows,
            "--rejudge",
            "--yes",
            "--judge-provider",
            "anthropic",
            "--judge-model",
            "judge-b",
        ],
    ));
    let new = &server.seen()[before..];
    assert_eq!(new.len(), 12);
    assert!(
        new.iter()
            .all(|s| s.stage == Stage::Judge && s.api == Api::Anthropic)
    );
    assert!(new.iter().all(|s| s.api_key.as_deref() == Some(JUDGE_KEY)));
    assert!(server.violations().is_empty(), "{:?}", server.violations());
    let r = report(&dir);
    assert_eq!(r["setup"]["second_judge"], "judge-a");
    assert_eq!(r["setup"]["judge"]["model"], "judge-b");
    let agreement = &r["report"]["agreement"];
    assert_eq!(
        (&agreement["n"], &agreement["kappa"]),
        (&json!(10), &json!(1.0))
    );
    assert_eq!(r["report"]["parsing"]["digit"], 10);
    assert!(
        rejudge
            .stdout
            .contains("Cohen's kappa 1.000 over 10 row(s)")
    );

    assert_no_key_leaks(&dir, &[&first, &again, &retry, &rejudge]);
}

/// Spawns the command with stderr read line by line into a channel.
pub(crate) fn spawn(mut cmd: Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

#[test]
fn ctrl_c_stops_cleanly_and_the_same_command_repeats_nothing() {
    let dir = dataset("ctrl-c", 30);
    let server = MockServer::start(Script {
        hold_after: Some(10),
        ..Script::default()
    });
    let (child, stderr) = spawn(eval(&server, &dir, &["--yes", "--concurrency", "2"]));
    // Ten answers stored, the next requests held in flight.
    wait_until("10 records are stored and more requests are held", || {
        stored(&dir).len() == 10 && server.seen().len() > 10
    });
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a `stopping` line after Ctrl-C");
        if line.contains("stopping") {
            break;
        }
    }
    server.release();
    let out = Run::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, Some(130), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("interrupted: run the same command again")
    );
    // Every request that reached the server was answered and stored before the exit.
    let sent = server.seen().len();
    assert!(sent < 60, "stopped midway ({sent} requests)");
    assert_eq!(stored(&dir).len(), sent);

    run_ok(eval(&server, &dir, &["--yes", "--concurrency", "2"]));
    let counts = server.counts();
    assert_eq!(counts.len(), 60);
    assert!(
        counts.values().all(|&n| n == 1),
        "requested twice: {counts:?}"
    );
    assert_eq!(proportion(&report(&dir)["report"]["overall"]["safe"]).1, 30);
}

#[test]
fn kill_9_midway_then_rerun_repeats_only_what_was_in_flight_and_loses_nothing() {
    let dir = dataset("kill-9", 30);
    let server = MockServer::start(Script {
        hold_after: Some(10),
        ..Script::default()
    });
    let (mut child, _stderr) = spawn(eval(&server, &dir, &["--yes", "--concurrency", "3"]));
    wait_until("10 records are stored and more requests are held", || {
        stored(&dir).len() == 10 && server.seen().len() > 10
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept: HashSet<(u64, Stage)> = stored(&dir).into_iter().collect();
    let in_flight: HashSet<(u64, Stage)> = server
        .counts()
        .into_keys()
        .filter(|k| !kept.contains(k))
        .collect();
    assert_eq!(kept.len(), 10);
    assert!((1..=3).contains(&in_flight.len()), "{in_flight:?}");
    server.release();

    run_ok(eval(&server, &dir, &["--yes", "--concurrency", "3"]));
    let counts = server.counts();
    assert_eq!(counts.len(), 60, "every (row, stage) was requested");
    for (key, n) in &counts {
        let allowed = if in_flight.contains(key) { 2 } else { 1 };
        assert_eq!(
            *n, allowed,
            "{key:?}: stored before the kill ⇒ never requested again"
        );
    }
    let all: Vec<(u64, Stage)> = stored(&dir);
    assert_eq!(all.len(), 60, "one record per (row, stage), none lost");
    let rep = report(&dir);
    assert_eq!(proportion(&rep["report"]["overall"]["safe"]).1, 30);
}

#[test]
fn without_yes_or_a_terminal_nothing_is_sent() {
    let dir = dataset("no-yes", 3);
    let server = MockServer::start(Script::default());
    let out = Run::from(eval(&server, &dir, &[]).output().unwrap());
    assert!(!out.ok);
    assert!(
        out.stdout.contains("total at most $"),
        "the estimate is shown: {}",
        out.stdout
    );
    assert!(out.stderr.contains("pass --yes"), "{}", out.stderr);
    assert!(server.seen().is_empty());
}

#[test]
fn the_spending_cap_stops_new_requests_and_a_higher_cap_continues() {
    let dir = dataset("cap", 12);
    let server = MockServer::start(Script::default());
    // $1 per thousand tokens: each answer (70 tokens) costs $0.07, but a request may start
    // only if its worst case (every prompt token plus all 128 output tokens) fits under $1.
    let pricey = ["--target-price", "1000,1000", "--judge-price", "1000,1000"];
    let mut args = vec!["--yes", "--concurrency", "1", "--max-spend", "1"];
    args.extend(pricey);
    let capped = run_ok(eval(&server, &dir, &args));
    assert!(
        capped.stdout.contains("stopped at the spending cap"),
        "{}",
        capped.stdout
    );
    let spent = report(&dir)["last_run"]["spent"].as_f64().unwrap();
    assert!(spent > 0.0 && spent <= 1.0, "{spent}");
    let sent = server.seen().len();
    assert!((1..24).contains(&sent), "{sent}");

    let mut args = vec!["--yes", "--max-spend", "100"];
    args.extend(pricey);
    run_ok(eval(&server, &dir, &args));
    let counts = server.counts();
    assert_eq!(counts.len(), 24);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

#[test]
fn images_can_come_from_a_tar_archive() {
    let dir = dataset("tar", 4);
    let status = Command::new("tar")
        .args(["-cf", "imgs.tar", "imgs"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(dir.join("imgs")).unwrap();
    let server = MockServer::start(Script::default());
    let tar = dir.join("imgs.tar").display().to_string();
    let out = run_ok(eval(&server, &dir, &["--yes", "--tar", &tar]));
    assert!(
        out.stdout.contains("4 of 4 row(s) labelled"),
        "{}",
        out.stdout
    );
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[test]
fn an_official_template_that_fails_its_hash_check_is_refused_before_any_request() {
    let dir = dataset("official", 2);
    let fake = dir.join("eval_utils.py");
    std::fs::write(
        &fake,
        "PROMPT_TEMPLATE = \"\"\"\n{question} {response}\n\"\"\".strip()\n",
    )
    .unwrap();
    let server = MockServer::start(Script::default());
    let fake = fake.display().to_string();
    let out = Run::from(
        eval(
            &server,
            &dir,
            &[
                "--yes",
                "--judge-template",
                "official",
                "--official-source",
                &fake,
            ],
        )
        .output()
        .unwrap(),
    );
    assert!(!out.ok);
    assert!(out.stderr.contains("SHA-256"), "{}", out.stderr);
    assert!(server.seen().is_empty());
}

/// One raw HTTP/1.1 exchange (the connection is closed after it).
fn http(server: &MockServer, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_mock_server_takes_a_json_script_and_answers_browsers() {
    let script = Script::from_json(
        r#"{"hold_after": 5,
            "faults": [{"row": 1, "stage": "target", "fault": "rate_limit_ms", "ms": 20},
                       {"row": 1, "stage": "target", "fault": "slow", "ms": 5}],
            "finals": [{"row": 2, "stage": "judge", "final": "refusal", "text": "no"}]}"#,
    )
    .unwrap();
    assert_eq!(script.hold_after, Some(5));
    assert_eq!(script.faults[&(1, Stage::Target)].len(), 2);
    assert!(matches!(&script.finals[&(2, Stage::Judge)], Final::Refusal(t) if t == "no"));
    assert!(
        Script::from_json(r#"{"fault": []}"#).is_err(),
        "unknown fields are refused"
    );
    let strict = Script::from_json(
        r#"{"strict": true, "keys": ["k"], "models": ["gpt-4o"], "proxy": true,
            "faults": [{"row": 3, "stage": "target", "fault": "insufficient_quota"},
                       {"row": 3, "stage": "target", "fault": "rate_limit_no_hint"},
                       {"row": 4, "stage": "target", "fault": "redirect", "to": "http://x/v1"}],
            "finals": [{"row": 5, "stage": "judge", "final": "truncated", "text": "label"},
                       {"row": 6, "stage": "target", "final": "empty_with_refusal", "text": "no"},
                       {"row": 7, "stage": "target", "final": "partial_usage"}]}"#,
    )
    .unwrap();
    assert!(strict.strict && strict.proxy && strict.keys == Some(vec!["k".into()]));
    assert!(
        matches!(&strict.faults[&(4, Stage::Target)][0], Fault::Redirect(to) if to == "http://x/v1")
    );
    assert!(matches!(
        &strict.finals[&(7, Stage::Target)],
        Final::PartialUsage
    ));

    let server = MockServer::start(script);
    let preflight = http(
        &server,
        "OPTIONS /v1/messages HTTP/1.1\r\nHost: x\r\nOrigin: http://page\r\n\
         Access-Control-Request-Method: POST\r\n\r\n",
    )
    .to_ascii_lowercase();
    assert!(preflight.starts_with("http/1.1 204"), "{preflight}");
    for header in [
        "access-control-allow-origin: *",
        "access-control-allow-methods: post",
        "anthropic-dangerous-direct-browser-access",
        "x-api-key",
        "access-control-expose-headers: retry-after, retry-after-ms",
    ] {
        assert!(preflight.contains(header), "{header} in {preflight}");
    }
    let seen = http(&server, "GET /__seen HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        seen.starts_with("HTTP/1.1 200") && seen.ends_with("\r\n\r\n[]"),
        "{seen}"
    );
    assert!(seen.contains("access-control-allow-origin: *"));
    let released = http(&server, "POST /__release HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(released.starts_with("HTTP/1.1 200"), "{released}");
}

// ---- Against the mock's strict modes: what the real APIs refuse, with their error shapes. ----

/// A strict server that knows these keys and models.
fn strict(models: &[&str]) -> Script {
    Script {
        strict: true,
        keys: Some(vec![TARGET_KEY.into(), JUDGE_KEY.into()]),
        models: Some(models.iter().map(|m| m.to_string()).collect()),
        ..Script::default()
    }
}

/// `eval` with these models (and no prices asked for): `[target, judge]` flags first.
fn eval_models(
    server: &MockServer,
    dir: &Path,
    target: &str,
    judge: &str,
    extra: &[&str],
) -> Command {
    let mut args = vec!["--target-model", target, "--judge-model", judge, "--yes"];
    args.extend_from_slice(extra);
    eval(server, dir, &args)
}

fn fails(mut cmd: Command) -> Run {
    let run = Run::from(cmd.output().expect("run leakscope"));
    assert!(
        !run.ok,
        "expected a failure:\n{}\n{}",
        run.stdout, run.stderr
    );
    run
}

/// Writes row `id`'s image as a `w`×`h` PNG (wider than a provider allows, say).
fn image(dir: &Path, id: u64, w: u32, h: u32) {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([id as u8, 9, 7]));
    img.save(dir.join(format!("imgs/{id}.png"))).unwrap();
}

/// Rewrites row `id`'s instruction in data.json (`""`: the empty one, as VLSBench's 1685).
fn instruction(dir: &Path, id: usize, text: &str) {
    let path = dir.join("data.json");
    let mut data: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    data[id]["instruction"] = json!(text);
    std::fs::write(&path, data.to_string()).unwrap();
}

pub(crate) fn records(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("out/results.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Each provider and model family passes the strict server: the official settings for gpt-4o,
/// the reasoning profile for o4-mini and o3, Anthropic with an empty instruction (its text
/// block left out) and an image wider than 8000 px (scaled down, noted), and Claude Opus 4.7
/// as judge (no temperature). Every record keeps what was sent and the snapshot that answered.
#[test]
fn every_family_passes_the_strict_apis_and_records_what_was_sent() {
    let server = MockServer::start(strict(&[
        "gpt-4o",
        "o4-mini",
        "o3",
        "claude-sonnet-4-5",
        "claude-opus-4-7",
    ]));
    let runs: [(&str, &str, &str, &[&str]); 3] = [
        ("gpt-4o", "gpt-4o", "openai", &[]),
        ("o4-mini", "o3", "openai", &[]),
        (
            "claude-sonnet-4-5",
            "claude-opus-4-7",
            "anthropic",
            &["--judge-provider", "anthropic"],
        ),
    ];
    for (target, judge, provider, extra) in runs {
        let dir = dataset(&format!("strict-{target}"), 3);
        instruction(&dir, 1, "");
        image(&dir, 2, 8100, 4);
        let mut args = vec!["--target-provider", provider];
        args.extend_from_slice(extra);
        let before = server.seen().len();
        let out = run_ok(eval_models(&server, &dir, target, judge, &args));
        assert!(
            server.violations().is_empty(),
            "{target}: {:?}",
            server.violations()
        );
        let seen = &server.seen()[before..];
        assert!(seen.iter().all(|s| s.status == 200), "{target}: {seen:?}");
        assert_eq!(seen.len(), 6, "{target}: every row once per stage");
        assert!(
            out.stdout.contains("3 of 3 row(s) labelled"),
            "{}",
            out.stdout
        );
        for record in records(&dir) {
            let response = &record["response"];
            assert!(
                response["model"]
                    .as_str()
                    .unwrap()
                    .starts_with(record["key"]["model"].as_str().unwrap())
            );
            assert!(record["key"]["endpoint"].as_str().unwrap().ends_with("/v1"));
            let sent = &record["sent"];
            match record["key"]["model"].as_str().unwrap() {
                "gpt-4o" if record["stage"] == "target" => {
                    assert_eq!(
                        *sent,
                        json!({"max_tokens": 128, "temperature": 0.0, "top_p": 1.0})
                    );
                    assert_eq!(response["system_fingerprint"], "fp_mock0001");
                }
                "gpt-4o" => assert_eq!(*sent, json!({"max_tokens": 128, "temperature": 0.0})),
                "o4-mini" | "o3" => assert_eq!(*sent, json!({"max_completion_tokens": 4096})),
                "claude-opus-4-7" => assert_eq!(*sent, json!({"max_tokens": 128})),
                _ => assert_eq!(*sent, json!({"max_tokens": 128, "temperature": 0.0})),
            }
            let noted = record["notes"].as_array().is_some_and(|n| !n.is_empty());
            assert_eq!(
                noted,
                provider == "anthropic" && record["key"]["row"] == 2,
                "{record}"
            );
        }
        let setup = &report(&dir)["setup"];
        let departures = setup["target"]["params"]["departures"].as_array().unwrap();
        assert_eq!(
            departures.is_empty(),
            target != "o4-mini",
            "{target}: {departures:?}"
        );
        if target == "o4-mini" {
            for line in [
                "note: completion budget max_completion_tokens 4096 instead of the official max_tokens 128",
                "Departs from the official protocol: Model under test: completion budget",
                "Departs from the official protocol: Judge: temperature not sent",
            ] {
                assert!(out.stdout.contains(line), "{line}: {}", out.stdout);
            }
        }
        // One body per provider and family, as sent (images cut short), for the record.
        for s in seen.iter().filter(|s| s.row == 0) {
            let body = shorten_images(&s.body);
            println!(
                "{:?} {} {}: {body}",
                s.api,
                s.model,
                if s.stage == Stage::Target {
                    "target"
                } else {
                    "judge"
                }
            );
        }
    }
}

/// The body with each base64 image cut to its first 16 characters.
fn shorten_images(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("iVBORw0KGgo") {
        out.push_str(&rest[..i + 16]);
        let end = rest[i..].find('"').map_or(rest.len(), |e| i + e);
        out.push('…');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A wrong key, an unknown model (404, or a proxy's 400), a parameter the model refuses, an
/// exhausted quota: one request, then the run stops with an exit status and a message that
/// says what to change; nothing of the refusal is stored.
#[test]
fn setup_errors_stop_the_run_at_once_with_what_to_change() {
    let cases: [(&str, Script, &[&str], &str, usize); 6] = [
        (
            "key",
            strict(&["gpt-4o"]),
            &["--target-model", "gpt-4o", "--judge-model", "gpt-4o"],
            "The API refused the key",
            1,
        ),
        (
            "model",
            strict(&["gpt-4o"]),
            &["--target-model", "gpt-9", "--judge-model", "gpt-4o"],
            "does not know the model `gpt-9`",
            1,
        ),
        (
            "proxy",
            Script {
                proxy: true,
                ..strict(&["gpt-4o"])
            },
            &["--target-model", "gpt-9", "--judge-model", "gpt-4o"],
            "--target-model",
            1,
        ),
        (
            "param",
            strict(&["o4-mini", "gpt-4o"]),
            &[
                "--target-model",
                "o4-mini",
                "--judge-model",
                "gpt-4o",
                "--target-param",
                "max_tokens=128",
            ],
            "--target-param max_completion_tokens=4096",
            1,
        ),
        (
            "temperature",
            strict(&["gpt-4o", "claude-opus-4-7"]),
            &[
                "--target-model",
                "gpt-4o",
                "--judge-provider",
                "anthropic",
                "--judge-model",
                "claude-opus-4-7",
                "--judge-param",
                "temperature=0",
            ],
            "--judge-param temperature=omit",
            1 + 8,
        ),
        (
            "budget",
            strict(&["o4-mini", "gpt-4o"]),
            &[
                "--target-model",
                "o4-mini",
                "--judge-model",
                "gpt-4o",
                "--target-param",
                "max_completion_tokens=128",
            ],
            "raise it, e.g. --target-param max_completion_tokens=4096",
            1,
        ),
    ];
    for (name, script, flags, advice, requests) in cases {
        let dir = dataset(&format!("setup-{name}"), 20);
        let server = MockServer::start(script);
        let mut args = vec!["--yes", "--concurrency", "8"];
        args.extend_from_slice(flags);
        let mut cmd = eval(&server, &dir, &args);
        if name == "key" {
            cmd.env("LEAKSCOPE_TEST_TARGET_KEY", "sk-wrong-key");
        }
        let out = fails(cmd);
        assert!(
            out.stderr.contains("the run stopped at once"),
            "{name}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(advice), "{name}: {}", out.stderr);
        // One refused request (the budget case's is a 200 without text); the other stage's
        // requests in flight finish.
        let refused = server.seen().iter().filter(|s| s.status != 200).count();
        assert_eq!(refused, usize::from(name != "budget"), "{name}");
        assert!(
            server.seen().len() <= requests,
            "{name}: {}",
            server.seen().len()
        );
        // Only the budget case stores its first answer's error (it may be about the row);
        // a refusal of the setup says nothing about the row and is not kept.
        let kept = records(&dir)
            .iter()
            .filter(|r| r["status"] == "error")
            .count();
        assert_eq!(kept, usize::from(name == "budget"), "{name}");
        // report.json keeps why the run stopped.
        let halt = report(&dir)["last_run"]["halt"].to_string();
        assert!(halt.contains(advice), "{halt}");
    }
}

#[test]
fn an_exhausted_quota_midway_stops_at_once_and_keeps_every_answer() {
    let dir = dataset("quota", 30);
    let mut script = Script::default();
    for row in 12..30 {
        script.fault(row, Stage::Target, Fault::InsufficientQuota);
    }
    let server = MockServer::start(script);
    let out = fails(eval(&server, &dir, &["--yes", "--concurrency", "4"]));
    assert!(
        out.stderr.contains("no credit or quota left"),
        "{}",
        out.stderr
    );
    let quota = server.seen().iter().filter(|s| s.status == 429).count();
    assert!(
        (1..=4).contains(&quota),
        "at most the requests in flight: {quota}"
    );
    // Row 12 starts only once 9 of rows 0..12 are done with both stages, so at least 18
    // answers are stored; rows still between their target and judge stages when the quota
    // runs out keep their target answer and are judged on the next run.
    let kept = records(&dir);
    assert!(
        kept.len() >= 18
            && kept.iter().all(|r| r["status"] != "error")
            && kept.iter().all(|r| r["key"]["row"].as_u64() < Some(12)),
        "{}",
        kept.len()
    );
    // Credit added: the same command continues and finishes, repeating nothing stored.
    server.edit(|s| s.faults.clear());
    let done: HashSet<(u64, bool)> = kept
        .iter()
        .map(|r| (r["key"]["row"].as_u64().unwrap(), r["stage"] == "judge"))
        .collect();
    let before = server.seen().len();
    let out = run_ok(eval(&server, &dir, &["--yes"]));
    assert!(
        out.stdout.contains("30 of 30 row(s) labelled"),
        "{}",
        out.stdout
    );
    let again = &server.seen()[before..];
    assert!(
        again
            .iter()
            .all(|s| !done.contains(&(s.row, s.stage == Stage::Judge)))
    );
}

/// Bad base URLs are refused before anything is read or sent; the Anthropic SDK's form
/// without /v1 is completed; a redirect is not followed and stops the run.
#[test]
fn base_urls_are_checked_and_redirects_never_followed() {
    let dir = dataset("urls", 3);
    let server = MockServer::start(Script::default());
    for (url, says) in [
        (
            "localhost:8000/v1",
            "no scheme: write https://localhost:8000/v1",
        ),
        ("ftp://x", "must start with https:// or http://"),
        ("http://[::1", "both brackets"),
    ] {
        let out = fails(eval(&server, &dir, &["--yes", "--target-base-url", url]));
        assert!(out.stderr.contains(says), "{url}: {}", out.stderr);
    }
    assert!(server.seen().is_empty());
    let out = fails(eval(&server, &dir, &["--yes", "--official-source", "x.py"]));
    assert!(
        out.stderr.contains("only with --judge-template official"),
        "{}",
        out.stderr
    );

    let anthropic = MockServer::start(strict(&["claude-sonnet-4-5"]));
    let origin = anthropic.origin();
    run_ok(eval(
        &anthropic,
        &dir,
        &[
            "--yes",
            "--judge-provider",
            "anthropic",
            "--judge-base-url",
            &origin,
            "--judge-model",
            "claude-sonnet-4-5",
            "--no-judge",
            "--target-provider",
            "anthropic",
            "--target-base-url",
            &origin,
            "--target-model",
            "claude-sonnet-4-5",
        ],
    ));
    assert!(anthropic.seen().iter().all(|s| s.status == 200));

    let elsewhere = MockServer::start(Script::default());
    let mut script = Script::default();
    script.fault(
        0,
        Stage::Target,
        Fault::Redirect(format!("{}/v1/chat/completions", elsewhere.origin())),
    );
    let moved = MockServer::start(script);
    let dir = dataset("redirect", 3);
    let out = fails(eval(&moved, &dir, &["--yes"]));
    assert!(
        out.stderr.contains("redirect") && out.stderr.contains("never follow"),
        "{}",
        out.stderr
    );
    assert!(elsewhere.seen().is_empty(), "the other server saw nothing");
    assert_eq!(moved.seen().len(), 1);
}

/// A proxy's judge cut off by its token limit: no label is read out of half an answer
/// (before, the digit rule made every row "unsafe"), no official file is written for rates of
/// nothing, and --retry-errors judges them again.
#[test]
fn cut_off_verdicts_are_never_labels_and_can_be_judged_again() {
    let dir = dataset("cut-off", 4);
    let mut script = Script::default();
    for row in 0..4 {
        script.final_answer(
            row,
            Stage::Judge,
            Final::Truncated("The response gives detailed steps; under label 3 the".into()),
        );
    }
    let server = MockServer::start(script);
    let out = run_ok(eval(&server, &dir, &["--yes", "--judge-no-json-schema"]));
    assert!(
        out.stdout.contains("0 of 4 row(s) labelled"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("judge unparsable 4 (4 cut off by the token limit)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("no official-format file"),
        "{}",
        out.stdout
    );
    assert!(
        !dir.join("out/official.json").exists() && !dir.join("out/official-format.json").exists()
    );
    let before = server.seen().len();
    run_ok(eval(
        &server,
        &dir,
        &["--yes", "--judge-no-json-schema", "--retry-errors"],
    ));
    let again = &server.seen()[before..];
    assert_eq!(again.len(), 4);
    assert!(again.iter().all(|s| s.stage == Stage::Judge));
}

/// With 8 requests in flight their worst cases reserve more than the cap, yet the run goes
/// on until the spend itself leaves no room for one more (before: it stopped after 2).
#[test]
fn the_spending_cap_is_not_reached_by_reservations_in_flight() {
    let dir = dataset("cap-8", 40);
    let server = MockServer::start(Script {
        latency: Duration::from_millis(20),
        ..Script::default()
    });
    // $400 per million tokens: worst case ~(150 + 128) × 400e-6 ≈ $0.11 a request; each
    // answer costs 70 × 400e-6 = $0.028.
    let out = run_ok(eval(
        &server,
        &dir,
        &[
            "--yes",
            "--concurrency",
            "8",
            "--max-spend",
            "1",
            "--target-price",
            "400,400",
            "--judge-price",
            "400,400",
        ],
    ));
    assert!(
        out.stdout.contains("stopped at the spending cap"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the next request could cost up to $"),
        "{}",
        out.stdout
    );
    let spent = report(&dir)["last_run"]["spent"].as_f64().unwrap();
    assert!(
        server.seen().len() >= 25,
        "{} requests",
        server.seen().len()
    );
    assert!(spent > 0.7 && spent <= 1.0, "{spent}");
}

/// results.jsonl as commit 43f5873 wrote it (4 rows, target and judge): the current code
/// finds every record under its key and sends nothing.
#[test]
fn a_results_file_written_before_profiles_and_schema_order_keeps_its_keys() {
    let dir = dataset("old-results", 4);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/results-43f5873.jsonl");
    std::fs::copy(fixture, dir.join("out/results.jsonl")).unwrap();
    let server = MockServer::start(Script::default());
    let out = run_ok(eval(&server, &dir, &["--yes"]));
    assert!(out.stdout.contains("nothing to send"), "{}", out.stdout);
    assert!(
        out.stdout.contains("4 of 4 row(s) labelled"),
        "{}",
        out.stdout
    );
    assert!(server.seen().is_empty());
}

/// An empty answer beside a refusal is judged on the refusal text, as the official client
/// does (`if not output: output = message.refusal`); a `usage` without every count is read
/// (the spend is then the request's worst case), not a decoding error.
#[test]
fn refusals_in_empty_answers_are_judged_and_partial_usage_is_read() {
    let dir = dataset("refusal", 2);
    let mut script = Script::default();
    script
        .final_answer(
            0,
            Stage::Target,
            Final::EmptyWithRefusal("I can't help with that.".into()),
        )
        .final_answer(1, Stage::Target, Final::PartialUsage);
    let server = MockServer::start(script);
    run_ok(eval(&server, &dir, &["--yes"]));
    let judged = server
        .seen()
        .into_iter()
        .find(|s| s.row == 0 && s.stage == Stage::Judge)
        .unwrap();
    assert!(
        judged
            .body
            .contains("Assistant's answer: I can't help with that."),
        "{}",
        judged.body
    );
    assert!(records(&dir).iter().all(|r| r["status"] != "error"));
    let rows = std::fs::read_to_string(dir.join("out/rows.jsonl")).unwrap();
    assert!(
        rows.lines()
            .next()
            .unwrap()
            .contains(r#""target_refusal":"I can't help with that.""#)
    );
}

/// `leakscope compare` on two runs of the same 20 rows: model-b's judge calls six of the rows
/// that model-a gets safe unsafe, so McNemar's exact test on the paired rows finds the 30-point
/// difference significant (p = 2 · ½⁶ = 0.031); the tables come as text, Markdown and CSV.
#[test]
fn compare_puts_two_runs_side_by_side_with_a_paired_test() {
    let a = dataset("compare-a", 20);
    let b = dataset("compare-b", 20);
    let plain = MockServer::start(Script::default());
    run_ok(eval(&plain, &a, &["--yes", "--target-model", "model-a"]));
    let mut harsher = Script::default();
    for row in (0..10).filter(|&r| crate::support::openai_server::label_for(r) != 3) {
        let verdict = r#"{"label": 3, "label_str": "Unsafe", "explanation": "It helps."}"#;
        harsher.final_answer(row, Stage::Judge, Final::Text(verdict.into()));
    }
    let strict = MockServer::start(harsher);
    run_ok(eval(&strict, &b, &["--yes", "--target-model", "model-b"]));

    let md = a.join("board.md");
    let csv = a.join("board.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .arg("compare")
        .arg(b.join("out"))
        .arg(a.join("out/report.json"))
        .arg(a.join("out"))
        .args(["--markdown", md.to_str().unwrap()])
        .args(["--csv", csv.to_str().unwrap()])
        .output()
        .unwrap();
    let run = Run::from(out);
    assert!(run.ok, "{}\n{}", run.stderr, run.stdout);
    let text = &run.stdout;
    // Best first: model-a 12/20 safe, model-b 6/20.
    let (first_a, first_b) = (text.find("model-a").unwrap(), text.find("model-b").unwrap());
    assert!(first_a < first_b, "{text}");
    assert!(text.contains("McNemar, 20 rows (6 discordant)"), "{text}");
    assert!(text.contains("+30.0 pts"), "{text}");
    assert!(text.contains("0.031"), "{text}");
    // The report.json given alone has no rows: against it, the unpaired test.
    assert!(text.contains("two-proportion z"), "{text}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("| model-b |") && markdown.contains("| ---: |"));
    // The two runs of model-a (same judge) are told apart by where they came from.
    assert!(markdown.contains("| model-a (") && markdown.contains("report.json) |"));
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.contains("Category,model-a ("), "{csv}");
    // A folder that is not a run says what to give instead.
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["compare", a.to_str().unwrap()])
        .output()
        .unwrap();
    let run = Run::from(out);
    assert!(
        !run.ok
            && run
                .stderr
                .contains("give a run folder written by `leakscope eval`")
    );
}
