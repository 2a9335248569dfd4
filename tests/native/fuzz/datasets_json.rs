//! The JSON loaders (VLSBench `data.json`, VLGuard, MM-SafetyBench) through `datasets::load`:
//! each format's fields with values of every type (ids as numbers, strings, 2^64, floats),
//! missing and extra fields, nested `instr-resp` lists, paths that leave the dataset, deep
//! nesting, duplicate ids, and the bytes cut or flipped.

use serde_json::{Map, Value, json};

use super::datasets_csv::check_load;
use super::{Gen, parts, split_parts};

fn path(g: &mut Gen<'_, '_>) -> Value {
    let p = *g.pick(&[
        "imgs/1.png",
        "./imgs/2.png",
        "../../etc/passwd",
        "/abs.png",
        "C:\\x.png",
        "",
        "imgs\\3.png",
        "a/./b//c.png",
    ]);
    g.field(json!(p))
}

fn vlsbench_row(g: &mut Gen<'_, '_>) -> Value {
    let id = match g.range(0, 3) {
        0 => json!(g.range(0, 20)),
        1 => json!(g.range(0, 20).to_string()),
        _ => serde_json::from_str(&g.number_json()).unwrap_or(Value::Null),
    };
    let mut m = Map::new();
    m.insert("instruction_id".into(), id);
    for key in [
        "instruction",
        "category",
        "sub_category",
        "source",
        "safety_reason",
    ] {
        if g.chance(90) {
            let t = g.text(20);
            m.insert(key.into(), g.field(json!(t)));
        }
    }
    m.insert("image_path".into(), path(g));
    Value::Object(m)
}

fn vlguard_row(g: &mut Gen<'_, '_>) -> Value {
    let mut pairs = Vec::new();
    for _ in 0..g.below(4) {
        let key = *g.pick(&[
            "instruction",
            "safe_instruction",
            "unsafe_instruction",
            "other",
        ]);
        let t = g.text(10);
        let r = g.text(10);
        pairs.push(json!({key: t, "response": g.field(json!(r))}));
    }
    let id = g.word(6);
    let safe = g.chance(50);
    let pairs = g.field(Value::Array(pairs));
    json!({
        "id": g.field(json!(id)),
        "image": path(g),
        "safe": g.field(json!(safe)),
        "harmful_category": g.text(6),
        "instr-resp": pairs,
    })
}

fn mm_entry(g: &mut Gen<'_, '_>) -> Value {
    let mut m = Map::new();
    for key in [
        "Question",
        "Changed Question",
        "Key Phrase",
        "Phrase Type",
        "Rephrased Question",
        "Rephrased Question(SD)",
    ] {
        if g.chance(85) {
            let t = g.text(12);
            m.insert(key.into(), g.field(json!(t)));
        }
    }
    Value::Object(m)
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let n = g.below(10);
    let value = match g.range(0, 4) {
        0 => Value::Array((0..n).map(|_| vlsbench_row(g)).collect()),
        1 => Value::Array((0..n).map(|_| vlguard_row(g)).collect()),
        2 => {
            let mut m = Map::new();
            for _ in 0..n {
                let key = if g.chance(80) {
                    g.range(0, 20).to_string()
                } else {
                    g.text(4)
                };
                m.insert(key, mm_entry(g));
            }
            Value::Object(m)
        }
        3 => g.json(3),
        _ => {
            // Deeper than serde_json's recursion limit.
            let depth = g.range(100, 3000) as usize;
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            return Ok(parts(&[text.as_bytes(), &[0, 0]]));
        }
    };
    let mut bytes = if g.chance(50) {
        serde_json::to_vec_pretty(&value)
    } else {
        serde_json::to_vec(&value)
    }
    .unwrap_or_default();
    if g.chance(15) {
        g.mutate(&mut bytes, 4);
    }
    let format = g.range(0, 6) as u8;
    let lenient = u8::from(g.chance(50));
    Ok(parts(&[&bytes, &[format, lenient]]))
}

fn check(input: &[u8]) {
    let [bytes, options] = split_parts::<2>(input);
    check_load(bytes, options);
}

fuzz_target!("datasets_json", cases: 400, size_max: 32768, memory: 32 << 20);
