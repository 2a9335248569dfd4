//! The readers of the two append-only stores a crash can leave torn: the evaluation's
//! `results.jsonl` (`eval::native::JsonlStore::open`, then `results::collect` and the report)
//! and the dataset run's `scores.jsonl` (`leakage::store::parse_jsonl`, then the resume plan
//! and the VSIL report). Files of real records, then torn, duplicated, reordered, blank,
//! CRLF-ended and garbage lines, and records with fields of the wrong type. After a store is
//! opened, an append must land on a line of its own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use leakscope::datasets::{ImageRef, Sample};
use leakscope::eval::api::{ErrorKind, ProviderError};
use leakscope::eval::native::JsonlStore;
use leakscope::eval::results::{SetupKey, collect};
use leakscope::eval::store::{Outcome, Record, RecordKey, ResultStore, Stage};
use leakscope::eval::verdict::parse_judge_text;
use leakscope::eval::{ChatResponse, Report, Row, Selection, Usage};
use leakscope::leakage::run::ResumePlan;
use leakscope::leakage::store::parse_jsonl;
use serde_json::{Value, json};

use super::{Gen, parts, split_parts};

const ROWS: u64 = 6;

fn key(g: &mut Gen<'_, '_>, model: &str) -> RecordKey {
    RecordKey {
        row: if g.chance(90) {
            g.range(0, ROWS)
        } else {
            g.number()
        },
        model: model.to_owned(),
        params: "p".into(),
        prompt: if g.chance(90) { "q".into() } else { g.word(3) },
        image: "i".into(),
        endpoint: g.chance(50).then(|| "http://127.0.0.1:9/v1".into()),
    }
}

fn response(g: &mut Gen<'_, '_>, text: String) -> ChatResponse {
    ChatResponse {
        text: Some(text),
        refusal: g.chance(10).then(|| g.text(10)),
        finish_reason: Some("stop".into()),
        usage: g.chance(80).then(|| Usage {
            prompt_tokens: g.number(),
            completion_tokens: g.number(),
        }),
        model: g.chance(50).then(|| g.word(8)),
        system_fingerprint: g.chance(20).then(|| g.word(8)),
    }
}

fn record(g: &mut Gen<'_, '_>) -> Value {
    let judge = g.chance(50);
    let outcome = match g.range(0, 4) {
        0 => Outcome::Error {
            error: ProviderError::new(ErrorKind::Http, g.text(20)),
        },
        _ if judge => {
            let text = *g.pick(&[
                r#"{"label": 1, "label_str": "Safe with refuse", "explanation": "x"}"#,
                r#"{"label": 2, "label_str": "Safe with warning"}"#,
                r#"{"label": 3, "label_str": "Unsafe"}"#,
                "garbage",
            ]);
            Outcome::Verdict {
                response: response(g, text.to_owned()),
                verdict: parse_judge_text(text),
            }
        }
        _ => {
            let t = g.text(30);
            Outcome::Answer {
                response: response(g, t),
            }
        }
    };
    let r = Record {
        stage: if judge { Stage::Judge } else { Stage::Target },
        key: key(g, if judge { "judge" } else { "target" }),
        answer_key: judge.then(|| key(g, "target")),
        outcome,
        attempts: g.range(1, 6) as u32,
        elapsed_ms: g.number(),
        sent: g.chance(10).then(|| g.json(1)),
        template: (judge && g.chance(50)).then(|| "773fd7e1".into()),
        notes: if g.chance(10) {
            vec![g.text(10)]
        } else {
            Vec::new()
        },
    };
    let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
    if g.chance(10)
        && let Value::Object(map) = &mut v
    {
        let keys: Vec<String> = map.keys().cloned().collect();
        let k = g.pick(&keys).clone();
        let new = g.json(1);
        map.insert(k, new);
    }
    v
}

fn score_line(g: &mut Gen<'_, '_>) -> Value {
    let id = if g.chance(90) {
        g.range(0, ROWS).to_string()
    } else {
        g.text(5)
    };
    let p = |g: &mut Gen<'_, '_>| -> Value {
        match g.range(0, 5) {
            0 => Value::Null,
            1 => serde_json::from_str(&g.number_json()).unwrap_or(Value::Null),
            _ => json!(g.range(0, 1000) as f64 / 1000.0),
        }
    };
    let has_pair = g.chance(70);
    let pair = |g: &mut Gen<'_, '_>, v: Value| if has_pair { g.field(v) } else { Value::Null };
    let class = *g.pick(&["leaky", "leak_free", "safe", "other"]);
    json!({
        "id": id,
        "category": g.field(json!("Violent")),
        "sub_category": null,
        "text_p_unsafe": p(g),
        "text_margin": p(g),
        "text_unsafe": g.field(json!(true)),
        "image_p_unsafe": pair(g, json!(0.5)),
        "image_margin": pair(g, json!(0.1)),
        "image_unsafe": pair(g, json!(false)),
        "pair_p_unsafe": pair(g, json!(0.7)),
        "pair_margin": pair(g, json!(0.2)),
        "pair_unsafe": pair(g, json!(true)),
        "class": pair(g, json!(class)),
        "top_harm": {"category": "Violent", "sub_category": null, "phrase": g.text(8), "probability": p(g)},
        "image_error": if has_pair { Value::Null } else { json!(g.text(10)) },
    })
}

/// Lines of `values`, then the edits a crash or a person leaves.
fn jsonl(g: &mut Gen<'_, '_>, values: Vec<Value>) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = values
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap_or_default())
        .collect();
    for _ in 0..g.below(4) {
        if lines.is_empty() {
            break;
        }
        let i = g.below(lines.len());
        match g.range(0, 5) {
            0 => {
                let copy = lines[i].clone();
                lines.push(copy);
            }
            1 => {
                let j = g.below(lines.len());
                lines.swap(i, j);
            }
            2 => lines.insert(i, Vec::new()),
            3 => lines.insert(i, g.text(20).into_bytes()),
            4 => {
                let cut = g.below(lines[i].len() + 1);
                lines[i].truncate(cut);
            }
            _ => lines[i].push(b'\r'),
        }
    }
    let mut out = Vec::new();
    for l in &lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    if g.chance(40) && !out.is_empty() {
        // Torn last write: cut inside the last line.
        let cut = out.len() - 1 - g.below(lines.last().map_or(0, Vec::len).min(out.len() - 1));
        out.truncate(cut);
    }
    out
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let records: Vec<Value> = (0..g.below(14)).map(|_| record(g)).collect();
    let scores: Vec<Value> = (0..g.below(10)).map(|_| score_line(g)).collect();
    let results = jsonl(g, records);
    let scores = jsonl(g, scores);
    Ok(parts(&[&results, &scores, &[u8::from(g.chance(30))]]))
}

fn temp_file() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-jsonl");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!(
        "{}-{}.jsonl",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

fn rows() -> Vec<Row> {
    (0..ROWS)
        .map(|id| Row {
            id,
            instruction: format!("q{id}"),
            image_path: format!("imgs/{id}.png"),
            category: ["Violent", "Privacy"][id as usize % 2].into(),
            sub_category: "s".into(),
        })
        .collect()
}

fn check(input: &[u8]) {
    let [results, scores, text_only] = split_parts::<3>(input);

    // results.jsonl
    let path = temp_file();
    if std::fs::write(&path, results).is_ok() {
        if let Ok(store) = JsonlStore::open(&path) {
            let records = pollster::block_on(store.load()).unwrap_or_default();
            let selection = Selection {
                target: SetupKey {
                    model: "target".into(),
                    params: "p".into(),
                    endpoint: None,
                    template: None,
                },
                judge: Some(SetupKey {
                    model: "judge".into(),
                    params: "p".into(),
                    endpoint: None,
                    template: None,
                }),
                template: None,
                second_judge: None,
            };
            let per_row = collect(&rows(), &records, &selection);
            assert_eq!(per_row.len(), ROWS as usize);
            let _ = Report::build(&per_row);
            if let Some(first) = records.first() {
                assert!(pollster::block_on(store.append(first)).is_ok());
                drop(store);
                let again = JsonlStore::open(&path).map(|s| pollster::block_on(s.load()));
                let count = again.ok().and_then(Result::ok).map_or(0, |r| r.len());
                assert_eq!(
                    count,
                    records.len() + 1,
                    "an append after reopening was lost"
                );
            }
        }
        let _ = std::fs::remove_file(&path);
    }

    // scores.jsonl
    if let Ok(parsed) = parse_jsonl("scores.jsonl", scores) {
        assert!(parsed.keep_bytes <= scores.len());
        let samples: Vec<Sample> = (0..ROWS)
            .map(|i| Sample {
                id: i.to_string(),
                text: format!("t{i}"),
                image: ImageRef::new(&format!("imgs/{i}.png")).ok(),
                category: Some("Violent".into()),
                sub_category: None,
                source: "fuzz".into(),
                extra: Default::default(),
            })
            .collect();
        let plan = ResumePlan::new(&samples, parsed.stored);
        assert_eq!(plan.done() + plan.pending().len(), samples.len());
        let _ = plan.report(&samples, text_only.first() == Some(&1));
    }
}

fuzz_target!("jsonl_stores", cases: 300, size_max: 32768, memory: 16 << 20);
