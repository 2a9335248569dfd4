//! `leakscope leakage` and `leakscope calibrate` through the built binary, on the tiny
//! random-weight CLIP and the VLSBench-format fixture in `tests/fixtures/leakage/` (8 rows: 6
//! with a readable image, one unreadable, one missing).

use crate::common::*;
use leakscope::leakage::head::GuardHead;
use leakscope::leakage::metrics::Report;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// An empty folder of this test binary's own.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_leakage")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn data_json() -> String {
    fixture("leakage/data.json").display().to_string()
}

fn model() -> String {
    fixture("tiny-clip").display().to_string()
}

/// `leakscope leakage <fixture> --model tiny-clip --out <out> <extra>`; panics on failure.
fn leakage(out: &Path, extra: &[&str]) -> String {
    let (data, model, out) = (data_json(), model(), out.display().to_string());
    let mut args = vec!["leakage", &data, "--model", &model, "--out", &out];
    args.extend_from_slice(extra);
    let (ok, stdout, stderr) = leakscope(&args);
    assert!(ok, "leakscope {args:?} failed:\n{stderr}\n{stdout}");
    stdout
}

fn scores(out: &Path) -> Vec<Value> {
    let text = String::from_utf8(read(out.join("scores.jsonl"))).unwrap();
    assert!(text.ends_with('\n'), "every line ends with a newline");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn by_id(lines: &[Value]) -> HashMap<String, Value> {
    lines
        .iter()
        .map(|l| (l["id"].as_str().unwrap().to_owned(), l.clone()))
        .collect()
}

/// One full run over the fixture with `--images`, shared by the tests that read it.
fn folder_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = scratch("folder");
        let stdout = leakage(
            &out,
            &["--images", &fixture("leakage").display().to_string()],
        );
        assert!(stdout.contains("All"), "the table is printed:\n{stdout}");
        assert!(
            stdout.contains("2 samples had no usable image"),
            "missing and unreadable images are reported:\n{stdout}"
        );
        out
    })
}

#[test]
fn report_files_agree_with_the_scores() {
    let out = folder_run();
    let lines = scores(out);
    assert_eq!(lines.len(), 8);

    // Missing and unreadable images: text scored, reason kept, no pair.
    let ids = by_id(&lines);
    for id in ["5", "6"] {
        let l = &ids[id];
        assert!(l["text_p_unsafe"].is_number(), "{l}");
        assert!(l["pair_p_unsafe"].is_null() && l["class"].is_null(), "{l}");
        assert!(l["image_error"].is_string(), "{l}");
    }
    assert!(
        ids["6"]["image_error"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    assert!(ids["0"]["image_error"].is_null());
    assert!(ids["0"]["top_harm"]["phrase"].is_string());

    // R1 and R2 by hand from scores.jsonl.
    let judged: Vec<&Value> = lines
        .iter()
        .filter(|l| !l["pair_unsafe"].is_null())
        .collect();
    let flag = |l: &Value, k: &str| l[k].as_bool().unwrap();
    let a1 = judged.iter().filter(|l| flag(l, "pair_unsafe")).count() as u64;
    let a2 = judged
        .iter()
        .filter(|l| flag(l, "pair_unsafe") && flag(l, "text_unsafe"))
        .count() as u64;
    let n = judged.len() as u64;
    assert_eq!(n, 6);
    let report: Report = serde_json::from_slice(&read(out.join("report.json"))).unwrap();
    assert_eq!((report.judged, report.unjudged), (6, 2));
    assert_eq!(
        (report.overall.r1.successes, report.overall.r1.total),
        (a1, n)
    );
    assert_eq!(
        (report.overall.r2.successes, report.overall.r2.total),
        (a2, n)
    );
    assert!((report.overall.r1.rate - a1 as f64 / n as f64).abs() < 1e-12);
    assert!((report.overall.r2.rate - a2 as f64 / n as f64).abs() < 1e-12);
    // The class in each line is the paper's rule.
    for l in &judged {
        let expected = match (flag(l, "text_unsafe"), flag(l, "pair_unsafe")) {
            (_, false) => "safe",
            (true, true) => "leaky",
            (false, true) => "leak_free",
        };
        assert_eq!(l["class"], expected, "{l}");
    }

    let groups = String::from_utf8(read(out.join("groups.csv"))).unwrap();
    assert!(
        groups.starts_with("scope,category,sub_category,n,"),
        "{groups}"
    );
    let samples = String::from_utf8(read(out.join("samples.csv"))).unwrap();
    assert_eq!(samples.lines().count(), 1 + 6, "header + judged samples");
    let run: Value = serde_json::from_slice(&read(out.join("run.json"))).unwrap();
    assert_eq!(run["text_only"], false);
    // The tokenizer mode that scored the run, in both files (hub by default).
    assert_eq!(run["tokenizer"], "hub");
    let report: Value = serde_json::from_slice(&read(out.join("report.json"))).unwrap();
    assert_eq!(report["tokenizer"], "hub");
}

#[test]
fn resume_after_limit_scores_each_id_once() {
    let out = scratch("resume");
    let first = leakage(&out, &["--limit", "3"]);
    assert!(!first.contains("resumed"), "{first}");
    assert_eq!(scores(&out).len(), 3);
    let second = leakage(&out, &[]);
    assert!(second.contains("resumed 3 of 8 samples"), "{second}");
    let lines = scores(&out);
    let ids: HashSet<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(lines.len(), 8, "each id exactly once");
    assert_eq!(ids.len(), 8);
    // Resumed and fresh lines give the same numbers as one uninterrupted run (within 1e-5: the
    // text tower runs up to the batch's longest query, so another batch sums in another order).
    let whole = by_id(&scores(folder_run()));
    for l in &lines {
        let w = &whole[l["id"].as_str().unwrap()];
        let (a, b) = (
            l["text_p_unsafe"].as_f64().unwrap(),
            w["text_p_unsafe"].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-5, "{l}: {a} vs {b}");
        assert_eq!(l["pair_unsafe"], w["pair_unsafe"], "{l}");
    }
    let report: Report = serde_json::from_slice(&read(out.join("report.json"))).unwrap();
    assert_eq!(report.judged + report.unjudged, 8);
}

/// A copy of the shared folder run's `scores.jsonl` and `run.json` in a new report folder.
fn copy_of_folder_run(name: &str) -> PathBuf {
    let out = scratch(name);
    for file in ["scores.jsonl", "run.json"] {
        std::fs::copy(folder_run().join(file), out.join(file)).unwrap();
    }
    out
}

#[test]
fn a_torn_last_line_is_dropped_and_scored_again() {
    let out = copy_of_folder_run("torn");
    let path = out.join("scores.jsonl");
    let bytes = read(&path);
    std::fs::write(&path, &bytes[..bytes.len() - 25]).unwrap();
    let stdout = leakage(
        &out,
        &["--images", &fixture("leakage").display().to_string()],
    );
    assert!(stdout.contains("torn last line (line 8)"), "{stdout}");
    assert!(stdout.contains("resumed 7 of 8 samples"), "{stdout}");
    let (now, whole) = (scores(&out), scores(folder_run()));
    assert_eq!(now.len(), 8);
    for (a, b) in now.iter().zip(&whole) {
        assert_eq!(a["id"], b["id"]);
        let p = |l: &Value| l["text_p_unsafe"].as_f64().unwrap();
        assert!((p(a) - p(b)).abs() < 1e-6, "{a} vs {b}");
    }
}

/// A ustar archive of `members` (path, bytes), as `tar -cf` writes one.
fn tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, data) in members {
        let mut h = [0u8; 512];
        h[..path.len()].copy_from_slice(path.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[test]
fn tar_gives_the_same_scores_as_the_folder() {
    let out = scratch("tar");
    // One folder up, as an archive of the download folder would be: `vlsbench/imgs/0.png`.
    let members: Vec<(String, Vec<u8>)> = (0..5)
        .map(|k| {
            let name = format!("imgs/{k}.png");
            (
                format!("vlsbench/{name}"),
                read(fixture("leakage").join(name)),
            )
        })
        .collect();
    let archive = out.join("imgs.tar");
    std::fs::write(&archive, tar(&members)).unwrap();
    let report = out.join("report");
    leakage(&report, &["--tar", &archive.display().to_string()]);
    let from_tar = by_id(&scores(&report));
    let from_folder = by_id(&scores(folder_run()));
    assert_eq!(from_tar.len(), 8);
    for (id, f) in &from_folder {
        let t = &from_tar[id];
        for key in ["text_p_unsafe", "image_p_unsafe", "pair_p_unsafe"] {
            match (f[key].as_f64(), t[key].as_f64()) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{id} {key}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{id} {key}"),
            }
        }
        assert_eq!(f["class"], t["class"], "{id}");
    }
    assert!(
        from_tar["6"]["image_error"]
            .as_str()
            .unwrap()
            .contains("no member")
    );
}

#[test]
fn resume_refuses_scores_from_another_mode_until_fresh() {
    let out = copy_of_folder_run("modes");
    let dir = out.display().to_string();
    let (data, model) = (data_json(), model());
    let (ok, _, stderr) = leakscope(&[
        "leakage",
        &data,
        "--model",
        &model,
        "--out",
        &dir,
        "--text-only",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("--text-only") && stderr.contains("--fresh"),
        "{stderr}"
    );
    // Nor scores from the other tokenizer mode.
    let (ok, _, stderr) = leakscope(&[
        "leakage",
        &data,
        "--model",
        &model,
        "--out",
        &dir,
        "--tokenizer",
        "original",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("hub tokenizer and this run uses original"),
        "{stderr}"
    );

    let stdout = leakage(&out, &["--text-only", "--limit", "2", "--fresh"]);
    assert!(!stdout.contains("resumed"), "{stdout}");
    assert!(stdout.contains("text-only run"), "{stdout}");
    let lines = scores(&out);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["pair_p_unsafe"].is_null()));
    let whole = by_id(&scores(folder_run()));
    for l in &lines {
        assert_eq!(
            l["text_p_unsafe"],
            whole[l["id"].as_str().unwrap()]["text_p_unsafe"]
        );
    }
    let report: Report = serde_json::from_slice(&read(out.join("report.json"))).unwrap();
    assert_eq!(report.judged, 2, "text-only: J(T) stands for the pair");
    assert_eq!(report.overall.r1, report.overall.r2);
}

#[test]
fn calibrate_fits_the_text_calibration() {
    // Labels that the text margin separates: the 4 texts the built-in head finds most unsafe.
    let whole = by_id(&scores(folder_run()));
    let rows: Vec<Value> = serde_json::from_slice(&read(fixture("leakage/data.json"))).unwrap();
    let mut p: Vec<f64> = whole
        .values()
        .map(|l| l["text_p_unsafe"].as_f64().unwrap())
        .collect();
    p.sort_by(f64::total_cmp);
    let cut = p[4];
    let out = scratch("calibrate");
    let mut labelled = String::new();
    for (k, row) in rows.iter().enumerate() {
        let id = row["instruction_id"].to_string();
        let unsafe_ = whole[&id]["text_p_unsafe"].as_f64().unwrap() >= cut;
        // Images on 3 lines only: too few for the image and pair calibrations.
        let image = if k < 3 {
            Value::from(format!("imgs/{k}.png"))
        } else {
            Value::Null
        };
        // Every accepted label spelling.
        let label = match k % 3 {
            0 => Value::from(unsafe_),
            1 => Value::from(u8::from(unsafe_)),
            _ => Value::from(if unsafe_ { "unsafe" } else { "safe" }),
        };
        let line = serde_json::json!({"text": row["instruction"], "image": image, "label": label});
        labelled.push_str(&format!("{line}\n"));
    }
    let file = out.join("labelled.jsonl");
    std::fs::write(&file, labelled).unwrap();
    let head_path = out.join("head.json");
    let (ok, stdout, stderr) = leakscope(&[
        "calibrate",
        &file.display().to_string(),
        "--model",
        &model(),
        "--images",
        &fixture("leakage").display().to_string(),
        "--out",
        &head_path.display().to_string(),
    ]);
    assert!(ok, "{stderr}\n{stdout}");
    println!("{stdout}");
    assert!(stdout.contains("kept: needs at least 2"), "{stdout}");

    let head = GuardHead::from_json_bytes(&read(&head_path)).unwrap();
    let builtin = GuardHead::builtin();
    assert_ne!(head.calibration.text, builtin.calibration.text);
    assert!(head.calibration.text.a > 0.0);
    assert_eq!(head.calibration.image, builtin.calibration.image);
    assert_eq!(head.calibration.pair, builtin.calibration.pair);
    assert!(
        head.calibration
            .note
            .as_deref()
            .unwrap()
            .contains("labelled.jsonl")
    );
    assert_eq!(head.harm, builtin.harm, "only the calibration changes");
}

#[test]
fn calibrate_errors_name_the_line_and_the_fix() {
    let out = scratch("calibrate-errors");
    let file = out.join("bad.jsonl");
    let run = |body: &str| {
        std::fs::write(&file, body).unwrap();
        let (ok, _, stderr) = leakscope(&[
            "calibrate",
            &file.display().to_string(),
            "--model",
            &model(),
        ]);
        assert!(!ok);
        stderr
    };
    let stderr =
        run("{\"text\": \"a\", \"label\": true}\n\n{\"text\": \"b\", \"label\": \"maybe\"}\n");
    assert!(
        stderr.contains("line 3") && stderr.contains("\"unsafe\"/\"safe\""),
        "{stderr}"
    );
    let stderr = run("{\"text\": \"a\", \"image\": \"nowhere.png\", \"label\": 1}\n");
    assert!(
        stderr.contains("nowhere.png") && stderr.contains("--images"),
        "{stderr}"
    );
    let stderr = run("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"\n");
    assert!(
        stderr.contains("line 2") && stderr.contains("not valid JSON"),
        "{stderr}"
    );
}

/// The whole VLSBench data.json (2,241 rows), text-only, on the tiny model: elapsed time and
/// peak memory of the child (from `/usr/bin/time -v` when installed). Prints, asserts nothing
/// about time. `cargo test --release --test native cli_leakage:: -- --ignored --nocapture`
#[test]
#[ignore = "timing: needs ../shared/vlsbench/data.json; run in release"]
fn vlsbench_text_only_timing() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vlsbench/data.json");
    if !data.exists() {
        println!("SKIP: {} not found", data.display());
        return;
    }
    let out = scratch("vlsbench-text-only");
    let args = [
        "leakage".to_owned(),
        data.display().to_string(),
        "--model".into(),
        model(),
        "--out".into(),
        out.display().to_string(),
        "--text-only".into(),
        "--fresh".into(),
    ];
    let time = Path::new("/usr/bin/time");
    let started = std::time::Instant::now();
    let output = if time.exists() {
        Command::new(time)
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_leakscope"))
            .args(&args)
            .output()
    } else {
        Command::new(env!("CARGO_BIN_EXE_leakscope"))
            .args(&args)
            .output()
    }
    .expect("run leakscope");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(scores(&out).len(), 2241);
    let peak = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|kb| kb.trim().parse::<f64>().ok());
    println!(
        "VLSBench text-only report, 2,241 rows, tiny-clip on flex: {:.1} s, peak RSS {}",
        elapsed.as_secs_f64(),
        peak.map_or("unknown (no /usr/bin/time)".to_owned(), |kb| format!(
            "{:.0} MiB",
            kb / 1024.0
        ))
    );
}
