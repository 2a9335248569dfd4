//! `leakscope bench` runs end to end on the tiny shape (random weights, no files) and prints
//! its table and valid JSON. It asserts on what is reported, never on how long anything took.

use crate::common::leakscope;

#[test]
fn bench_prints_every_row_and_valid_json_on_the_tiny_shape() {
    let dir = std::env::temp_dir().join(format!("leakscope-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("bench.json");
    let json_arg = json.display().to_string();
    let (ok, stdout, stderr) = leakscope(&[
        "bench",
        "--config",
        "tiny",
        "--rows",
        "text,image,guard-text,guard-pair",
        "--batch",
        "2",
        "--iters",
        "1",
        "--warmup",
        "1",
        "--threads",
        "1",
        "--json",
        &json_arg,
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    for row in ["text", "image", "guard-text", "guard-pair"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(row) && l.contains("burn-flex")),
            "no {row} line in\n{stdout}"
        );
    }

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for m in results {
        assert_eq!(m["implementation"], "burn-flex");
        assert_eq!(m["batch"], 2);
        assert_eq!(m["threads"], 1);
        assert_eq!(m["samples_ms"].as_array().unwrap().len(), 1);
        for key in ["first_ms", "median_ms", "p90_ms"] {
            assert!(m[key].as_f64().unwrap() >= 0.0, "{key} in {m}");
        }
    }
    assert_eq!(report["model"], "tiny (random weights)");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_refuses_an_unknown_shape_before_timing_anything() {
    let (ok, _, stderr) = leakscope(&["bench", "--config", "vit-z-99"]);
    assert!(!ok);
    assert!(stderr.contains("vit-b-32, tiny"), "{stderr}");
}
