//! The safetensors header and layout check (`weights::check_checkpoint`), then the load into a
//! model, on files built from the layout a tiny config implies: the right names with wrong
//! shapes, dtypes and offsets, gaps and overlaps, absurd header lengths, NaN and infinite
//! values, cut and padded data sections.

use burn::tensor::Device;
use leakscope::model::ClipConfig;
use leakscope::weights::{check_checkpoint, expected_tensors, load_clip_with_config};
use serde_json::{Map, Value, json};

use super::{Gen, parts, split_parts};

/// A CLIP shape small enough that a whole valid checkpoint is a few kB.
pub const TINY_CONFIG: &str = r#"{"model_type":"clip","projection_dim":4,
  "text_config":{"vocab_size":40,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,
    "num_attention_heads":2,"max_position_embeddings":8},
  "vision_config":{"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,
    "num_attention_heads":2,"image_size":32,"patch_size":16}}"#;

pub fn tiny_config() -> ClipConfig {
    ClipConfig::from_json_bytes(TINY_CONFIG.as_bytes()).expect("the tiny config is valid")
}

const DTYPES: &[&str] = &[
    "F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "F8_E4M3", "F4", "f32", "",
];

fn dtype_size(d: &str) -> u64 {
    match d {
        "F64" | "I64" => 8,
        "F32" | "I32" => 4,
        "F16" | "BF16" => 2,
        _ => 1,
    }
}

/// A checkpoint: header JSON (from the expected layout, edited), then the data section.
fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let config = tiny_config();
    let mut tensors: Vec<(String, Vec<u64>)> = expected_tensors(&config)
        .into_iter()
        .map(|(n, s)| (n, s.into_iter().map(|d| d as u64).collect()))
        .collect();
    // Edits to the layout: drop, rename, reshape, add.
    for _ in 0..g.below(4) {
        if tensors.is_empty() {
            break;
        }
        let i = g.below(tensors.len());
        match g.range(0, 4) {
            0 => {
                tensors.remove(i);
            }
            1 => tensors[i].0 = g.text(20),
            2 => {
                let dims = g.below(4);
                tensors[i].1 = (0..dims).map(|_| g.number() % 70).collect();
            }
            3 => {
                let dims = 1 + g.below(3);
                tensors[i].1 = (0..dims).map(|_| g.number()).collect();
            }
            _ => tensors.push((format!("extra.{}", g.word(8)), vec![g.number() % 9])),
        }
    }
    let mut header = Map::new();
    let mut offset = 0u64;
    let float = *g.pick(&["F32", "F16", "BF16"]);
    // Half the files keep an honest layout (only the edits above): those reach the load.
    let honest = g.chance(50);
    let mut data = Vec::new();
    for (name, shape) in &tensors {
        let dtype = if !honest && g.chance(5) {
            *g.pick(DTYPES)
        } else {
            float
        };
        let n = shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .unwrap_or(u64::MAX);
        let bytes = n.saturating_mul(dtype_size(dtype));
        let (start, end) = match if honest { 99 } else { g.range(0, 19) } {
            0 => (
                offset.saturating_add(g.number() % 16),
                offset.saturating_add(bytes),
            ),
            1 => (g.number(), g.number()),
            2 => (offset, offset.saturating_add(bytes).saturating_sub(1)),
            _ => (offset, offset.saturating_add(bytes)),
        };
        offset = end;
        let shape_json: Value = if !honest && g.chance(3) {
            g.json(1)
        } else {
            json!(shape)
        };
        let mut entry = json!({"dtype": dtype, "shape": shape_json, "data_offsets": [start, end]});
        if !honest && g.chance(3) {
            entry = g.field(entry);
        }
        header.insert(name.clone(), entry);
        // Real data where it is small: values from a float pattern, sometimes NaN or inf.
        if bytes <= 4096 && data.len() < (1 << 20) {
            let value: u32 = match g.range(0, 99) {
                0 => 0x7FC0_0000,                            // NaN
                1 => 0x7F80_0000,                            // +inf
                2 => 0xFF80_0000,                            // -inf
                3 => g.range(0, u64::from(u32::MAX)) as u32, // anything
                _ => 0x3C23_D70A,                            // 0.01
            };
            let element = dtype_size(dtype) as usize;
            for k in 0..bytes as usize / element.max(1) {
                let v = if k == 0 { value } else { 0x3C23_D70A };
                let le = v.to_le_bytes();
                match element {
                    2 if dtype == "BF16" => data.extend_from_slice(&le[2..4]),
                    2 => data.extend_from_slice(&half_bits(v).to_le_bytes()),
                    4 => data.extend_from_slice(&le),
                    n => data.extend(std::iter::repeat_n(0u8, n)),
                }
            }
        }
    }
    if g.chance(10) {
        header.insert("__metadata__".into(), g.field(json!({"format": "pt"})));
    }
    let header_json = serde_json::to_vec(&Value::Object(header)).unwrap_or_default();
    let mut file = Vec::new();
    let len = match if honest { 99 } else { g.range(0, 14) } {
        0 => g.number(),
        1 => header_json.len() as u64 + 1,
        2 => u64::MAX,
        3 => 1 << 63,
        _ => header_json.len() as u64,
    };
    file.extend_from_slice(&len.to_le_bytes());
    file.extend_from_slice(&header_json);
    file.extend_from_slice(&data);
    if !honest && g.chance(20) {
        g.mutate(&mut file, 3);
    }
    let full_load = g.chance(20);
    Ok(parts(&[&file, &[u8::from(full_load)]]))
}

/// f32 bits → f16 bits (enough for the patterns above: NaN, ±inf, 0.01, anything).
fn half_bits(v: u32) -> u16 {
    let sign = ((v >> 16) & 0x8000) as u16;
    let exp = ((v >> 23) & 0xFF) as i32;
    let mant = v & 0x7F_FFFF;
    if exp == 0xFF {
        return sign | 0x7C00 | if mant != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1F {
        sign | 0x7C00
    } else if e <= 0 {
        sign
    } else {
        sign | ((e as u16) << 10) | ((mant >> 13) as u16)
    }
}

fn check(input: &[u8]) {
    let [file, full] = split_parts::<2>(input);
    let config = tiny_config();
    if check_checkpoint(&config, file).is_ok() && full.first() == Some(&1) {
        // What the check let through must load, and compute finite numbers.
        let model = load_clip_with_config(&config, file.to_vec(), &Device::flex());
        assert!(model.is_ok(), "checked but did not load: {:?}", model.err());
    }
}

fuzz_target!("safetensors", cases: 300, size_max: 32768, memory: 64 << 20);
