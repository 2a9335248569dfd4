//! The tokenizer's files: `vocab.json` + `merges.txt` (`ClipTokenizer::from_bytes`) and
//! `tokenizer.json` (`from_tokenizer_json`), built from the tiny checkpoint's and edited: ids of
//! every size and type (2^31, 2^32, negative, fractional, strings), missing special tokens,
//! merge lines with one or three fields, a missing header, bytes that are not UTF-8. What
//! loads must encode any text, and a tokenizer the load check accepts for a model never
//! produces an id outside that model's vocabulary.

use std::sync::OnceLock;

use leakscope::embedder::check_tokenizer;
use leakscope::model::ClipConfig;
use leakscope::tokenizer::ClipTokenizer;
use serde_json::{Map, Value, json};

use super::{Gen, parts, split_parts};

struct Files {
    vocab: Map<String, Value>,
    merges: Vec<String>,
}

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = crate::common::fixture("tiny-clip");
        let vocab: Value = serde_json::from_slice(&crate::common::read(dir.join("vocab.json")))
            .expect("tiny vocab.json");
        let merges = String::from_utf8(crate::common::read(dir.join("merges.txt")))
            .expect("tiny merges.txt");
        Files {
            vocab: vocab.as_object().cloned().unwrap_or_default(),
            merges: merges.lines().map(str::to_owned).collect(),
        }
    })
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let f = files();
    let mut vocab = f.vocab.clone();
    let keys: Vec<String> = vocab.keys().cloned().collect();
    for _ in 0..g.below(6) {
        let key = g.pick(&keys).clone();
        match g.range(0, 5) {
            0 => {
                vocab.remove(&key);
            }
            1 => {
                let id = *g.pick(&[
                    4514u64,
                    4600,
                    49408,
                    (1 << 31) - 1,
                    1 << 31,
                    1 << 32,
                    u64::MAX,
                ]);
                vocab.insert(key, json!(id));
            }
            2 => {
                let v = serde_json::from_str(&g.number_json()).unwrap_or(Value::Null);
                vocab.insert(key, v);
            }
            3 => {
                let t = g.text(8);
                let id = g.number();
                vocab.insert(t, json!(id));
            }
            4 => {
                let special = *g.pick(&["<|startoftext|>", "<|endoftext|>"]);
                vocab.remove(special);
            }
            _ => {
                let v = g.json(1);
                vocab.insert(key, v);
            }
        }
    }
    let mut merges: Vec<String> = f.merges.clone();
    for _ in 0..g.below(4) {
        let at = g.below(merges.len() + 1);
        let line = match g.range(0, 4) {
            0 => g.word(3),
            1 => format!("{} {} {}", g.word(2), g.word(2), g.word(2)),
            2 => String::new(),
            3 => format!("{} {}", g.text(3), g.text(3)),
            _ => format!("{} {}", g.word(2), g.word(2)),
        };
        merges.insert(at, line);
    }
    if g.chance(10) {
        merges.remove(0); // no header line
    }
    let use_json = g.chance(30);
    let mut vocab_bytes = serde_json::to_vec(&Value::Object(vocab.clone())).unwrap_or_default();
    let mut merges_bytes = merges.join("\n").into_bytes();
    if g.chance(10) {
        g.mutate(&mut vocab_bytes, 3);
    }
    if g.chance(10) {
        g.mutate(&mut merges_bytes, 3);
    }
    let tokenizer_json = if use_json {
        let list: Vec<Value> = merges
            .iter()
            .skip(1)
            .map(|m| {
                if g.chance(50) {
                    json!(m)
                } else {
                    json!(m.split_whitespace().collect::<Vec<_>>())
                }
            })
            .collect();
        let kind = if g.chance(95) {
            json!("BPE")
        } else {
            g.json(1)
        };
        let mut root = json!({"model": {"type": kind, "vocab": vocab, "merges": list}});
        if g.chance(20) {
            root = g.field(root);
        }
        serde_json::to_vec(&root).unwrap_or_default()
    } else {
        Vec::new()
    };
    let text = g.text(60);
    let vocab_size = *g.pick(&[4514u64, 4513, 40, 49408, 1 << 20]);
    Ok(parts(&[
        &vocab_bytes,
        &merges_bytes,
        &tokenizer_json,
        text.as_bytes(),
        &vocab_size.to_le_bytes(),
    ]))
}

fn check(input: &[u8]) {
    let [vocab, merges, tokenizer_json, text, vocab_size] = split_parts::<5>(input);
    let tokenizer = if tokenizer_json.is_empty() {
        ClipTokenizer::from_bytes(vocab, merges)
    } else {
        ClipTokenizer::from_tokenizer_json(tokenizer_json)
    };
    let Ok(tokenizer) = tokenizer else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let ids = tokenizer.encode(&text);
    let max = tokenizer.max_id();
    assert!(ids.iter().all(|&id| id <= max), "an id above max_id {max}");
    let size = vocab_size
        .first_chunk::<8>()
        .map_or(4514, |b| u64::from_le_bytes(*b));
    let config = ClipConfig::from_json_bytes(
        format!(r#"{{"text_config":{{"vocab_size":{size}}}}}"#).as_bytes(),
    );
    if let Ok(config) = config
        && check_tokenizer(&tokenizer, &config).is_ok()
    {
        let padded = tokenizer.encode_padded(&text, 77);
        assert!(
            padded.iter().all(|&id| (id as u64) < size),
            "the load check passed a tokenizer whose ids leave a {size}-entry vocabulary"
        );
    }
}

fuzz_target!("tokenizer_files", cases: 120, size_max: 16384, memory: 96 << 20);
