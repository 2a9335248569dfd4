//! The guard head JSON (`GuardHead::from_json_bytes`): the built-in head with fields replaced by
//! values of every type (versions, pair rules, calibration numbers, thresholds, logit scales,
//! empty and huge concept lists, templates without `{}`), and byte edits. What loads must
//! survive its own round trip.

use std::sync::OnceLock;

use leakscope::leakage::head::GuardHead;
use serde_json::Value;

use super::Gen;

fn builtin() -> &'static Value {
    static HEAD: OnceLock<Value> = OnceLock::new();
    HEAD.get_or_init(|| {
        serde_json::from_str(&GuardHead::builtin().to_json()).expect("the built-in head is JSON")
    })
}

/// Replaces a random node of `v` (walking at most `depth` levels down) with `new`.
fn replace(g: &mut Gen<'_, '_>, v: &mut Value, depth: u32) {
    let descend = depth > 0 && g.chance(70);
    match v {
        Value::Object(map) if descend && !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = g.pick(&keys).clone();
            if let Some(child) = map.get_mut(&key) {
                replace(g, child, depth - 1);
            }
        }
        Value::Array(items) if descend && !items.is_empty() => {
            let i = g.below(items.len());
            replace(g, &mut items[i], depth - 1);
        }
        _ => {
            *v = match g.range(0, 4) {
                0 => serde_json::from_str(&g.number_json()).unwrap_or(Value::Null),
                1 => Value::String(g.text(20)),
                2 => Value::Array(Vec::new()),
                3 => Value::Null,
                _ => g.json(2),
            }
        }
    }
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut head = builtin().clone();
    for _ in 0..1 + g.below(3) {
        replace(g, &mut head, 5);
    }
    let mut bytes = serde_json::to_vec(&head).unwrap_or_default();
    if g.chance(10) {
        g.mutate(&mut bytes, 3);
    }
    Ok(bytes)
}

fn check(input: &[u8]) {
    if let Ok(head) = GuardHead::from_json_bytes(input) {
        let again = GuardHead::from_json_bytes(head.to_json().as_bytes());
        assert!(
            again.is_ok(),
            "a loaded head does not reload: {:?}",
            again.err()
        );
    }
}

fuzz_target!("guard_head", cases: 150, size_max: 8192, memory: 32 << 20);
