//! Soak: `leakscope eval` and `leakscope leakage` killed with SIGKILL at random moments and
//! started again each time, until they finish; then every (row, stage) or sample is stored
//! exactly once, the mock API was never paid twice for something already stored, and the report
//! equals that of a run that was never interrupted.
//!
//! * eval: rows × (target + judge) against the mock API with faults on 10% of the (row, stage)
//!   pairs: 429 with `retry-after-ms`, with `Retry-After` and with no hint, 500, dropped
//!   connections, answers slower than the client's timeout, malformed JSON, refusals and
//!   content-filter stops;
//! * leakage: a generated VLSBench-format dataset on the tiny test model, 1% of the images
//!   missing and 1% corrupt.
//!
//! `make test` runs a small size (the default); `make soak` the full one: `LEAKSCOPE_SOAK=full`
//! (eval 2,241 rows and 10 kills, leakage 3,000 samples and 10 kills). `LEAKSCOPE_SOAK_SEED`
//! changes the faults and the kill moments. The figures are printed (`--nocapture`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::openai_server::{Fault, Final, MockServer, Script};
use leakscope::eval::Stage;
use serde_json::{Value, json};

struct Size {
    eval_rows: u64,
    eval_kills: usize,
    leakage_samples: u64,
    leakage_kills: usize,
}

fn size() -> Size {
    if std::env::var("LEAKSCOPE_SOAK").is_ok_and(|v| v == "full") {
        Size {
            eval_rows: 2241,
            eval_kills: 10,
            leakage_samples: 3000,
            leakage_kills: 10,
        }
    } else {
        Size {
            eval_rows: 200,
            eval_kills: 3,
            leakage_samples: 160,
            leakage_kills: 3,
        }
    }
}

/// SplitMix64: the faults and the kill moments, the same for a given seed.
struct Rng(u64);

impl Rng {
    fn new(salt: u64) -> Self {
        let seed = std::env::var("LEAKSCOPE_SOAK_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed);
        Self(seed ^ salt)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `k` sorted fractions of the work, spread over (0.03, 0.97).
    fn moments(&mut self, k: usize) -> Vec<f64> {
        let mut m: Vec<f64> = (0..k)
            .map(|_| 0.03 + 0.94 * (self.below(1_000_000) as f64 / 1e6))
            .collect();
        m.sort_by(f64::total_cmp);
        m
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("soak")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("imgs")).unwrap();
    dir
}

/// Complete lines in a JSONL file (a torn last line not counted).
fn lines(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// Runs `cmd` and SIGKILLs it `delay` after `file` holds `at` lines (so the kill lands at a
/// random point between two writes, not just after one); `true` if it was killed, `false` if
/// it finished first (then it must have succeeded).
fn run_until(mut cmd: Command, file: &Path, at: usize, delay: Duration) -> bool {
    let mut child: Child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start leakscope");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            assert!(status.success(), "leakscope failed:\n{err}");
            return false;
        }
        if lines(file) >= at {
            std::thread::sleep(delay);
            if child.try_wait().expect("wait").is_some() {
                continue; // finished meanwhile: checked above
            }
            child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
            child.wait().expect("reap");
            return true;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1200),
            "no progress for 20 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_to_end(mut cmd: Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("run leakscope");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "leakscope failed:\n{stderr}\n{stdout}"
    );
    stdout.into_owned()
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

// ---- eval -------------------------------------------------------------------------------------

/// Faults on 10% of the (row, stage) pairs, each kind in turn, at most one per pair (so the
/// final outcome of every pair does not depend on which request a kill interrupted).
fn eval_script(rows: u64) -> (Script, usize) {
    let mut rng = Rng::new(1);
    let mut script = Script::default();
    let mut injected = 0;
    for row in 0..rows {
        for stage in [Stage::Target, Stage::Judge] {
            if rng.below(10) != 0 {
                continue;
            }
            injected += 1;
            match rng.below(9) {
                0 => script.fault(row, stage, Fault::RateLimitMs(40)),
                1 => script.fault(row, stage, Fault::RateLimitSecs(1)),
                2 => script.fault(row, stage, Fault::RateLimitNoHint),
                3 => script.fault(row, stage, Fault::ServerError),
                4 => script.fault(row, stage, Fault::Drop),
                5 => script.fault(row, stage, Fault::Slow(Duration::from_millis(1500))),
                6 => script.fault(row, stage, Fault::MalformedBody),
                7 => script.final_answer(row, stage, Final::Refusal("I can't help.".into())),
                _ => script.final_answer(row, stage, Final::ContentFilter),
            };
        }
    }
    (script, injected)
}

fn eval_dataset(rows: u64) -> PathBuf {
    let dir = scratch("eval");
    let rows = crate::support::rows(rows);
    crate::support::write_images(&dir, &rows);
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"instruction_id": r.id, "instruction": r.instruction,
                "image_path": r.image_path, "category": r.category,
                "sub_category": r.sub_category, "source": "soak"})
        })
        .collect();
    std::fs::write(dir.join("data.json"), Value::Array(data).to_string()).unwrap();
    dir
}

fn eval_command(server: &MockServer, dir: &Path, out: &str) -> Command {
    let base = server.base_url();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakscope"));
    cmd.arg("eval")
        .arg(dir.join("data.json"))
        .arg("--out")
        .arg(dir.join(out))
        .args(["--target-base-url", &base, "--target-model", "target-model"])
        .args(["--judge-base-url", &base, "--judge-model", "judge-model"])
        .args([
            "--target-key-env",
            "SOAK_KEY",
            "--judge-key-env",
            "SOAK_KEY",
        ])
        .args(["--target-price", "1,2", "--judge-price", "1,2"])
        .args(["--concurrency", "16", "--timeout", "1", "--yes"])
        .env("SOAK_KEY", "sk-soak")
        .stdin(Stdio::null());
    cmd
}

/// (row, stage) of every record in a results.jsonl.
fn stored(path: &Path) -> Vec<(u64, Stage)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| {
            let stage = if r["stage"] == "judge" {
                Stage::Judge
            } else {
                Stage::Target
            };
            (r["key"]["row"].as_u64().unwrap(), stage)
        })
        .collect()
}

#[test]
fn eval_survives_sigkill_at_random_moments() {
    let size = size();
    let rows = size.eval_rows;
    let dir = eval_dataset(rows);
    let total = 2 * rows as usize;

    // The run nothing interrupts.
    let (script, injected) = eval_script(rows);
    let reference = MockServer::start(script);
    let started = Instant::now();
    run_to_end(eval_command(&reference, &dir, "reference"));
    let reference_secs = started.elapsed().as_secs_f64();

    // The same faults, and kills.
    let server = MockServer::start(eval_script(rows).0);
    let results = dir.join("soak/results.jsonl");
    let mut rng = Rng::new(2);
    let mut kills = 0;
    // Before each restart: what was stored, and how many requests the server had seen.
    let mut restarts: Vec<(HashSet<(u64, Stage)>, usize)> = Vec::new();
    for moment in rng.moments(size.eval_kills) {
        // Each kill after some progress of the run it interrupts.
        let at = ((moment * total as f64) as usize).max(lines(&results) + 1);
        restarts.push((stored(&results).into_iter().collect(), server.seen().len()));
        let delay = Duration::from_millis(rng.below(200));
        if run_until(eval_command(&server, &dir, "soak"), &results, at, delay) {
            kills += 1;
        }
    }
    restarts.push((stored(&results).into_iter().collect(), server.seen().len()));
    run_to_end(eval_command(&server, &dir, "soak"));

    // Every (row, stage) once.
    let all = stored(&results);
    let mut per_key: HashMap<(u64, Stage), usize> = HashMap::new();
    for key in &all {
        *per_key.entry(*key).or_default() += 1;
    }
    assert_eq!(per_key.len(), total, "every (row, stage) is stored");
    let twice: Vec<_> = per_key.iter().filter(|&(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");

    // No paid call for what was already stored when the process started.
    let seen = server.seen();
    let mut duplicates = Vec::new();
    for (stored_then, from) in &restarts {
        for s in seen[*from..].iter().filter(|s| s.paid()) {
            if stored_then.contains(&(s.row, s.stage)) {
                duplicates.push((s.row, s.stage));
            }
        }
    }
    assert!(
        duplicates.is_empty(),
        "paid again after a restart: {duplicates:?}"
    );
    let paid = seen.iter().filter(|s| s.paid()).count();
    let paid_reference = reference.seen().iter().filter(|s| s.paid()).count();

    // The same report and official export as the run nothing interrupted.
    let report = |out: &str| json_file(&dir.join(out).join("report.json"))["report"].clone();
    assert_eq!(report("soak"), report("reference"), "the reports differ");
    // The default template is not the official one, so the export is `official-format.json`.
    assert_eq!(
        json_file(&dir.join("soak/official-format.json")),
        json_file(&dir.join("reference/official-format.json"))
    );
    assert!(kills > 0, "no kill landed");
    eprintln!(
        "soak eval: {rows} rows × 2 stages, {injected} faults injected ({:.1}%), {kills} SIGKILLs, \
         {} requests, {paid} paid calls ({paid_reference} uninterrupted: {} paid again for \
         answers in flight at a kill), 0 duplicates of stored answers, reports equal; \
         uninterrupted run {reference_secs:.1} s",
        100.0 * injected as f64 / total as f64,
        seen.len(),
        paid.saturating_sub(paid_reference)
    );
}

// ---- leakage ----------------------------------------------------------------------------------

fn leakage_dataset(samples: u64) -> PathBuf {
    let dir = scratch("leakage");
    let mut rng = Rng::new(3);
    let mut rows = Vec::new();
    let categories = ["Violent", "Illegal Activity", "Self-Harm", "Privacy"];
    for i in 0..samples {
        let path = format!("imgs/{i}.png");
        match rng.below(100) {
            0 => {} // missing
            1 => std::fs::write(dir.join(&path), b"\x89PNG\r\n\x1a\ncut short").unwrap(),
            _ => {
                let c = rng.next().to_le_bytes();
                image::RgbImage::from_fn(16, 12, |x, y| {
                    image::Rgb([c[0] ^ x as u8, c[1] ^ y as u8, c[2]])
                })
                .save(dir.join(&path))
                .unwrap();
            }
        }
        rows.push(json!({
            "instruction_id": i,
            "instruction": format!("sample {i}: what should I do with what is shown?"),
            "image_path": path,
            "category": categories[(i % 4) as usize],
            "sub_category": format!("sub {}", i % 7),
            "source": "soak",
        }));
    }
    std::fs::write(dir.join("data.json"), Value::Array(rows).to_string()).unwrap();
    dir
}

fn leakage_command(dir: &Path, out: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakscope"));
    cmd.arg("leakage")
        .arg(dir.join("data.json"))
        .arg("--model")
        .arg(crate::common::fixture("tiny-clip"))
        .arg("--out")
        .arg(dir.join(out))
        .args(["--batch", "16"])
        .stdin(Stdio::null());
    cmd
}

#[test]
fn leakage_survives_sigkill_at_random_moments() {
    let size = size();
    let n = size.leakage_samples;
    let dir = leakage_dataset(n);
    let started = Instant::now();
    run_to_end(leakage_command(&dir, "reference"));
    let reference_secs = started.elapsed().as_secs_f64();

    let scores = dir.join("soak/scores.jsonl");
    let mut rng = Rng::new(4);
    let mut kills = 0;
    let mut torn = 0;
    for moment in rng.moments(size.leakage_kills) {
        let at = ((moment * n as f64) as usize).max(lines(&scores) + 1);
        let delay = Duration::from_millis(rng.below(400));
        if run_until(leakage_command(&dir, "soak"), &scores, at, delay) {
            kills += 1;
            let bytes = std::fs::read(&scores).unwrap_or_default();
            torn += usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
        }
    }
    let stdout = run_to_end(leakage_command(&dir, "soak"));
    assert!(stdout.contains(&format!("{n} samples")), "{stdout}");

    let text = std::fs::read_to_string(&scores).unwrap();
    let mut ids = HashSet::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("every line is whole");
        assert!(
            ids.insert(v["id"].as_str().unwrap().to_owned()),
            "scored twice: {line}"
        );
    }
    assert_eq!(ids.len() as u64, n, "every sample is scored");
    let report = |out: &str| json_file(&dir.join(out).join("report.json"));
    assert_eq!(report("soak"), report("reference"), "the reports differ");
    assert!(kills > 0, "no kill landed");
    eprintln!(
        "soak leakage: {n} samples (1% missing and 1% corrupt images), {kills} SIGKILLs, {torn} \
         torn last lines dropped, 0 samples scored twice, reports equal; uninterrupted run \
         {reference_secs:.1} s"
    );
}
