//! Parity of `leakscope::tokenizer` with transformers' slow `CLIPTokenizer`.
//!
//! Expectations come from `scripts/reference/tokenizer.py build`:
//! * small vocabulary (committed): `tests/fixtures/tiny-clip/{vocab.json,merges.txt}`, the corpus
//!   `tests/fixtures/tokenizer/corpus.json` with `expected_small.json`, and per-instruction hashes of
//!   the VLSBench ids in `vlsbench_ids.json` (the instructions are read from
//!   `../shared/vlsbench/data.json`; that part is skipped when the file is absent);
//! * full CLIP vocabulary (git-ignored): the folder in `LEAKSCOPE_FULL_VOCAB`, else
//!   `target/reference/clip-vocab-full`, with `vocab.json`, `merges.txt`, `expected_full.json` and
//!   `vlsbench_ids_full.json`; skipped when absent.
//!
//! Run with `-- --nocapture` to see the "exact matches / total" lines.

use std::path::{Path, PathBuf};

use leakscope::tokenizer::{CONTEXT_LENGTH, ClipTokenizer};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn load(dir: &Path) -> ClipTokenizer {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    };
    ClipTokenizer::from_bytes(&read("vocab.json"), &read("merges.txt"))
        .unwrap_or_else(|e| panic!("loading the tokenizer in {}: {e}", dir.display()))
}

fn ids_of(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("an array of ids")
        .iter()
        .map(|x| {
            x.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .expect("an id")
        })
        .collect()
}

fn fnv1a64(ids: &[u32]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// VLSBench instructions as (instruction_id, text), or None (after a SKIP line) when absent.
fn vlsbench_rows() -> Option<Vec<(u64, String)>> {
    let path = root().join("../shared/vlsbench/data.json");
    if !path.exists() {
        println!("SKIP: ../shared/vlsbench/data.json not found");
        return None;
    }
    let rows = read_json(&path);
    let rows = rows.as_array().expect("data.json is an array");
    Some(
        rows.iter()
            .map(|r| {
                let id = r["instruction_id"].as_u64().expect("instruction_id");
                let text = r["instruction"].as_str().expect("instruction").to_owned();
                (id, text)
            })
            .collect(),
    )
}

#[derive(Default)]
struct Tally {
    exact: usize,
    total: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.total += 1;
        if ok {
            self.exact += 1;
        } else if self.failures.len() < 10 {
            self.failures.push(what());
        }
    }

    fn report(&self, label: &str) {
        println!("{label}: exact matches {} / {}", self.exact, self.total);
    }
}

/// Checks `encode`, `encode_padded(77)` and the consistency of `words` for one text.
fn check_text(
    tok: &ClipTokenizer,
    text: &str,
    want: &[u32],
    want_padded: Option<&[u32]>,
) -> Result<(), String> {
    let got = tok.encode(text);
    if got != want {
        return Err(format!("encode({text:?}) = {got:?}, expected {want:?}"));
    }
    let padded = tok.encode_padded(text, CONTEXT_LENGTH);
    let expected_padded: Vec<u32> = match want_padded {
        Some(p) => {
            let mut p = p.to_vec();
            p.resize(CONTEXT_LENGTH, tok.pad_id());
            p
        }
        None => {
            let body = &want[1..want.len() - 1];
            let mut p = vec![tok.bos_id()];
            p.extend_from_slice(&body[..body.len().min(CONTEXT_LENGTH - 2)]);
            p.push(tok.eos_id());
            p.resize(CONTEXT_LENGTH, tok.pad_id());
            p
        }
    };
    if padded != expected_padded {
        return Err(format!(
            "encode_padded({text:?}, 77) = {padded:?}, expected {expected_padded:?}"
        ));
    }
    let mut next = 1;
    for (word, range) in tok.words(text) {
        if range.start != next || range.end <= range.start {
            return Err(format!(
                "words({text:?}): {word:?} at {range:?}, expected to start at {next}"
            ));
        }
        next = range.end;
    }
    if next != got.len() - 1 {
        return Err(format!(
            "words({text:?}) end at {next}, encode has {} ids",
            got.len()
        ));
    }
    Ok(())
}

fn check_corpus(tok: &ClipTokenizer, expected: &Value, tally: &mut Tally) {
    let corpus = read_json(&root().join("tests/fixtures/tokenizer/corpus.json"));
    let corpus = corpus
        .as_array()
        .expect("corpus.json is an array of strings");
    let ids = expected["ids"].as_array().expect("ids");
    let padded = expected["padded"].as_array().expect("padded");
    assert_eq!(
        corpus.len(),
        ids.len(),
        "corpus and expectations differ in length; rerun the build script"
    );
    for ((text, want), want_padded) in corpus.iter().zip(ids).zip(padded) {
        let text = text.as_str().expect("corpus entries are strings");
        let r = check_text(tok, text, &ids_of(want), Some(&ids_of(want_padded)));
        tally.record(r.is_ok(), || r.err().unwrap_or_default());
    }
}

fn check_vlsbench(
    tok: &ClipTokenizer,
    rows: &[(u64, String)],
    expected: &Value,
    tally: &mut Tally,
) {
    let keys = expected["instruction_id"]
        .as_array()
        .expect("instruction_id");
    let by_id: std::collections::HashMap<u64, &str> =
        rows.iter().map(|(k, t)| (*k, t.as_str())).collect();
    assert_eq!(
        keys.len(),
        rows.len(),
        "data.json and the expectations differ in length"
    );
    for (i, key) in keys.iter().enumerate() {
        let key = key.as_u64().expect("instruction_id");
        let Some(text) = by_id.get(&key) else {
            tally.record(false, || {
                format!("instruction_id {key} missing from data.json")
            });
            continue;
        };
        let r = if let Some(ids) = expected.get("ids") {
            check_text(tok, text, &ids_of(&ids[i]), None)
        } else {
            let got = tok.encode(text);
            let (len, hash) = (expected["len"][i].as_u64(), expected["fnv1a64"][i].as_str());
            if len == Some(got.len() as u64) && hash == Some(fnv1a64(&got).as_str()) {
                check_text(tok, text, &got, None)
            } else {
                Err(format!(
                    "instruction_id {key}: {} ids with hash {}, expected {len:?} ids with hash {hash:?} \
                     (explicit ids: target/reference/clip-vocab-full/vlsbench_ids_small.json)",
                    got.len(),
                    fnv1a64(&got)
                ))
            }
        };
        tally.record(r.is_ok(), || {
            format!("instruction_id {key}: {}", r.err().unwrap_or_default())
        });
    }
}

fn finish(label: &str, tally: &Tally) {
    tally.report(label);
    assert!(
        tally.failures.is_empty(),
        "{label}: mismatches (first 10):\n{}",
        tally.failures.join("\n")
    );
}

#[test]
fn small_vocab_matches_reference() {
    let tok = load(&root().join("tests/fixtures/tiny-clip"));
    assert_eq!(tok.vocab_size(), 4514);
    let mut all = Tally::default();

    let mut corpus = Tally::default();
    check_corpus(
        &tok,
        &read_json(&root().join("tests/fixtures/tokenizer/expected_small.json")),
        &mut corpus,
    );
    corpus.report("small vocab, corpus");

    let mut vls = Tally::default();
    if let Some(rows) = vlsbench_rows() {
        let expected = read_json(&root().join("tests/fixtures/tokenizer/vlsbench_ids.json"));
        check_vlsbench(&tok, &rows, &expected, &mut vls);
        vls.report("small vocab, VLSBench");
    }

    for t in [&corpus, &vls] {
        all.exact += t.exact;
        all.total += t.total;
        all.failures.extend(t.failures.iter().cloned());
    }
    finish("small vocab, all", &all);
}

#[test]
fn full_vocab_matches_reference() {
    let dir = std::env::var_os("LEAKSCOPE_FULL_VOCAB")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/reference/clip-vocab-full"));
    let needed = ["vocab.json", "merges.txt", "expected_full.json"];
    if let Some(missing) = needed.iter().find(|f| !dir.join(f).exists()) {
        println!(
            "SKIP: full CLIP vocabulary check, {} not found (set LEAKSCOPE_FULL_VOCAB or run \
             `python scripts/reference/tokenizer.py all`)",
            dir.join(missing).display()
        );
        return;
    }
    let tok = load(&dir);
    assert_eq!(tok.vocab_size(), 49408);
    assert_eq!(
        (tok.bos_id(), tok.eos_id(), tok.pad_id()),
        (49406, 49407, 49407)
    );
    let mut all = Tally::default();
    check_corpus(&tok, &read_json(&dir.join("expected_full.json")), &mut all);
    all.report("full vocab, corpus");
    let vls_path = dir.join("vlsbench_ids_full.json");
    if !vls_path.exists() {
        println!("SKIP: {} not found", vls_path.display());
    } else if let Some(rows) = vlsbench_rows() {
        let before = (all.exact, all.total);
        check_vlsbench(&tok, &rows, &read_json(&vls_path), &mut all);
        println!(
            "full vocab, VLSBench: exact matches {} / {}",
            all.exact - before.0,
            all.total - before.1
        );
    }
    finish("full vocab, all", &all);
}
