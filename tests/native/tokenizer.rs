//! Parity of `leakscope::tokenizer` with its two references, per mode (hub: transformers 5 /
//! tokenizers; original: OpenAI's tokenizer with ftfy), and of the text embeddings with
//! transformers 5.
//!
//! Expectations come from `scripts/reference/tokenizer.py` (its docs say how):
//! * small vocabulary (committed): `tests/fixtures/tiny-clip/{vocab.json,merges.txt}` and the
//!   tokenizer.json transformers 5 saves for it (`tests/fixtures/tokenizer/tiny-clip.tokenizer.json`),
//!   the corpus `corpus.json` with both modes' ids in `expected.json`, per-instruction hashes of
//!   the VLSBench ids in `vlsbench_ids.json` (the instructions are read from
//!   `../shared/vlsbench/data.json`; that part is skipped when the file is absent), and text
//!   embeddings of the two tiny checkpoints in `embeddings.json`;
//! * full CLIP vocabulary (git-ignored): the folder in `LEAKSCOPE_FULL_VOCAB`, else
//!   `target/reference/clip-vocab-full`, with `vocab.json`, `merges.txt`, `expected.json` and
//!   `vlsbench_{hub,original}_full.json`; skipped when absent.
//!
//! Run with `-- --nocapture` to see the "exact matches / total" lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use leakscope::embedder::ClipEmbedder;
use leakscope::tokenizer::{CONTEXT_LENGTH, ClipTokenizer, TokenizerMode};
use serde_json::Value;

use crate::common::{checkpoint_files, fixture, max_abs_diff, read};

/// transformers 5 vs the Burn port on flex, max abs over normalised text embeddings.
const EMBED_TOL: f32 = 1e-6;

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path))
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn load(dir: &Path, mode: TokenizerMode) -> ClipTokenizer {
    let (vocab, merges) = (read(dir.join("vocab.json")), read(dir.join("merges.txt")));
    ClipTokenizer::load(mode, Some(&vocab), Some(&merges), None)
        .unwrap_or_else(|e| panic!("loading the {mode} tokenizer in {}: {e}", dir.display()))
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

/// FNV-1a (64-bit) of the ids as little-endian u32 bytes, its low 32 bits as 8 hex digits.
fn fnv1a32(ids: &[u32]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{:08x}", h & 0xffff_ffff)
}

/// VLSBench instructions as (instruction_id, text), or None (after a SKIP line) when absent.
fn vlsbench_rows() -> Option<Vec<(u64, String)>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vlsbench/data.json");
    if !path.exists() {
        println!(
            "SKIP: VLSBench instructions, {} not found (the rest of the corpus still ran)",
            path.display()
        );
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

/// The corpus as (category, text).
fn corpus() -> Vec<(String, String)> {
    let corpus = read_json(&fixture("tokenizer/corpus.json"));
    corpus["texts"]
        .as_array()
        .expect("corpus.json has texts")
        .iter()
        .map(|pair| {
            let s = |i: usize| pair[i].as_str().expect("[category, text]").to_owned();
            (s(0), s(1))
        })
        .collect()
}

/// The expected ids of `mode` in an expected.json (original: null means "as hub").
fn expected_ids(expected: &Value, mode: TokenizerMode) -> Vec<Vec<u32>> {
    let hub = expected["hub"]["ids"].as_array().expect("hub ids");
    let own = expected[mode.as_str()]["ids"].as_array().expect("ids");
    hub.iter()
        .zip(own)
        .map(|(h, o)| ids_of(if o.is_null() { h } else { o }))
        .collect()
}

#[derive(Default)]
struct Tally {
    exact: usize,
    total: usize,
    failures: Vec<String>,
    by_category: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    fn record(&mut self, category: &str, result: Result<(), String>) {
        self.total += 1;
        let entry = self.by_category.entry(category.to_owned()).or_default();
        entry.1 += 1;
        match result {
            Ok(()) => {
                self.exact += 1;
                entry.0 += 1;
            }
            Err(e) if self.failures.len() < 10 => self.failures.push(format!("[{category}] {e}")),
            Err(_) => {}
        }
    }

    fn finish(&self, label: &str) {
        println!("{label}: exact matches {} / {}", self.exact, self.total);
        if self.by_category.len() > 1 {
            let cats: Vec<String> = self
                .by_category
                .iter()
                .map(|(c, (ok, n))| format!("{c} {ok}/{n}"))
                .collect();
            println!("    {}", cats.join(", "));
        }
        assert!(
            self.failures.is_empty(),
            "{label}: mismatches (first 10):\n{}",
            self.failures.join("\n")
        );
    }
}

/// Checks `encode`, the padded row (the documented rule: bos, the first 75 ids, eos, pad; the row
/// `encode_padded` returns, built from `encode`'s ids without tokenizing again) and the
/// consistency of `words` for one text.
fn check_text(tok: &ClipTokenizer, text: &str, want: &[u32]) -> Result<(), String> {
    let got = tok.encode(text);
    if got != want {
        return Err(format!("encode({text:?}) = {got:?}, expected {want:?}"));
    }
    let body = &want[1..want.len() - 1];
    let mut padded = vec![tok.bos_id()];
    padded.extend_from_slice(&body[..body.len().min(CONTEXT_LENGTH - 2)]);
    padded.push(tok.eos_id());
    padded.resize(CONTEXT_LENGTH, tok.pad_id());
    if tok.pad_ids(got.clone(), CONTEXT_LENGTH) != padded {
        return Err(format!(
            "encode_padded({text:?}, 77) breaks the truncation rule"
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

fn check_corpus(tok: &ClipTokenizer, expected: &Value, label: &str) {
    let corpus = corpus();
    let want = expected_ids(expected, tok.mode());
    assert_eq!(
        corpus.len(),
        want.len(),
        "corpus and expectations differ in length; rerun the generator"
    );
    let mut tally = Tally::default();
    for ((category, text), want) in corpus.iter().zip(&want) {
        tally.record(category, check_text(tok, text, want));
    }
    tally.finish(label);
}

#[test]
fn corpus_matches_both_references_with_the_small_vocabulary() {
    let dir = fixture("tiny-clip");
    let expected = read_json(&fixture("tokenizer/expected.json"));
    for mode in TokenizerMode::ALL {
        let tok = load(&dir, mode);
        assert_eq!((tok.vocab_size(), tok.mode()), (4514, mode));
        check_corpus(&tok, &expected, &format!("{mode}, small vocab, corpus"));
    }
    // Hub mode from the tokenizer.json transformers 5 saves, and from the same file with the
    // split pattern transformers' converter writes (openai/clip-vit-large-patch14's).
    let json = read(fixture("tokenizer/tiny-clip.tokenizer.json"));
    let tok = ClipTokenizer::from_tokenizer_json(&json).expect("tokenizer.json loads");
    check_corpus(&tok, &expected, "hub, tokenizer.json, corpus");
    let mut converter: Value = serde_json::from_slice(&json).expect("JSON");
    let pattern = &mut converter["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"];
    let without = pattern
        .as_str()
        .expect("a split pattern")
        .replace(r"<\|startoftext\|>|<\|endoftext\|>|", "");
    *pattern = without.into();
    let tok = ClipTokenizer::from_tokenizer_json(converter.to_string().as_bytes())
        .expect("converter pattern loads");
    check_corpus(
        &tok,
        &expected,
        "hub, tokenizer.json (converter pattern), corpus",
    );
}

#[test]
fn vlsbench_matches_both_references() {
    let Some(rows) = vlsbench_rows() else {
        return;
    };
    let expected = read_json(&fixture("tokenizer/vlsbench_ids.json"));
    let keys = expected["instruction_id"]
        .as_array()
        .expect("instruction_id");
    assert_eq!(
        keys.len(),
        rows.len(),
        "data.json and the hashes differ in length"
    );
    let by_id: BTreeMap<u64, &str> = rows.iter().map(|(k, t)| (*k, t.as_str())).collect();
    for mode in TokenizerMode::ALL {
        let tok = load(&fixture("tiny-clip"), mode);
        let hashes = expected[mode.as_str()].as_array().expect("hashes");
        let mut tally = Tally::default();
        for (key, hash) in keys.iter().zip(hashes) {
            let key = key.as_u64().expect("instruction_id");
            let result = match by_id.get(&key) {
                None => Err(format!("instruction_id {key} missing from data.json")),
                Some(text) => {
                    let got = tok.encode(text);
                    if hash.as_str() == Some(fnv1a32(&got).as_str()) {
                        check_text(&tok, text, &got)
                    } else {
                        Err(format!(
                            "instruction_id {key}: ids hash to {}, expected {hash} (explicit ids: \
                             target/reference/clip-vocab-full/vlsbench_{mode}_small.json)",
                            fnv1a32(&got)
                        ))
                    }
                }
            };
            tally.record("vlsbench", result);
        }
        tally.finish(&format!("{mode}, small vocab, VLSBench"));
    }
}

#[test]
fn full_vocabulary_matches_both_references() {
    let dir = std::env::var_os("LEAKSCOPE_FULL_VOCAB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/reference/clip-vocab-full")
        });
    let needed = ["vocab.json", "merges.txt", "expected.json"];
    if let Some(missing) = needed.iter().find(|f| !dir.join(f).exists()) {
        println!(
            "SKIP: full CLIP vocabulary check, {} not found (set LEAKSCOPE_FULL_VOCAB or run \
             `python scripts/reference/tokenizer.py all`)",
            dir.join(missing).display()
        );
        return;
    }
    let expected = read_json(&dir.join("expected.json"));
    for mode in TokenizerMode::ALL {
        let tok = load(&dir, mode);
        assert_eq!(tok.vocab_size(), 49408);
        assert_eq!((tok.bos_id(), tok.eos_id()), (49406, 49407));
        check_corpus(&tok, &expected, &format!("{mode}, full vocab, corpus"));
        let vls = dir.join(format!("vlsbench_{mode}_full.json"));
        if !vls.exists() {
            println!("SKIP: {} not found", vls.display());
            continue;
        }
        let Some(rows) = vlsbench_rows() else {
            continue;
        };
        let vls = read_json(&vls);
        let by_id: BTreeMap<u64, &str> = rows.iter().map(|(k, t)| (*k, t.as_str())).collect();
        let mut tally = Tally::default();
        for (key, ids) in vls["instruction_id"]
            .as_array()
            .expect("instruction_id")
            .iter()
            .zip(vls["ids"].as_array().expect("ids"))
        {
            let key = key.as_u64().expect("instruction_id");
            let result = match by_id.get(&key) {
                Some(text) => check_text(&tok, text, &ids_of(ids)),
                None => Err(format!("instruction_id {key} missing from data.json")),
            };
            tally.record("vlsbench", result);
        }
        tally.finish(&format!("{mode}, full vocab, VLSBench"));
    }
}

/// The committed checkpoints' text embeddings equal transformers 5's, for texts in many scripts
/// tokenized by each mode (the ids are checked on the way).
#[test]
fn text_embeddings_match_transformers_5() {
    let reference = read_json(&fixture("tokenizer/embeddings.json"));
    let texts: Vec<&str> = reference["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(|t| t.as_str().expect("text"))
        .collect();
    let device = Device::flex();
    for name in ["tiny-clip", "tiny-clip-gelu"] {
        for mode in TokenizerMode::ALL {
            let files = checkpoint_files(&fixture(name));
            let embedder =
                pollster::block_on(ClipEmbedder::load_with_tokenizer(files, &device, mode))
                    .unwrap_or_else(|e| panic!("{name} ({mode}): {e}"));
            let want = &reference[name][mode.as_str()];
            let rows: Vec<Vec<u32>> = want["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(ids_of)
                .collect();
            assert_eq!(embedder.tokenize(&texts), rows, "{name} ({mode}): ids");
            let got = pollster::block_on(embedder.text_embeddings(&texts)).expect("embeddings");
            let want: Vec<f32> = want["embeds"]
                .as_array()
                .expect("embeds")
                .iter()
                .flat_map(|row| row.as_array().expect("a row").iter())
                .map(|v| v.as_f64().expect("a number") as f32)
                .collect();
            let diff = max_abs_diff(&got.values, &want);
            println!("{name} ({mode}): text embeddings vs transformers 5, max abs diff {diff:.2e}");
            assert!(
                diff <= EMBED_TOL,
                "{name} ({mode}): max abs diff {diff:e} > {EMBED_TOL:e}"
            );
        }
    }
}
