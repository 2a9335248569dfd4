//! `config.json` (`ClipConfig::from_json_bytes`) and `preprocessor_config.json`
//! (`PreprocessConfig::from_json_bytes`): every known key with values of every type and size.
//! What either accepts must give finite model inputs and a model whose shapes Burn can build.

use leakscope::model::ClipConfig;
use leakscope::preprocess::{DecodeOptions, PreprocessConfig, preprocess_rgba_with};
use serde_json::{Map, Value, json};

use super::{Gen, parts, split_parts};

const TEXT_KEYS: &[(&str, i64)] = &[
    ("vocab_size", 49408),
    ("hidden_size", 512),
    ("intermediate_size", 2048),
    ("num_hidden_layers", 12),
    ("num_attention_heads", 8),
    ("max_position_embeddings", 77),
    ("bos_token_id", 49406),
    ("eos_token_id", 49407),
    ("pad_token_id", 1),
];

const VISION_KEYS: &[(&str, i64)] = &[
    ("hidden_size", 768),
    ("intermediate_size", 3072),
    ("num_hidden_layers", 12),
    ("num_attention_heads", 12),
    ("num_channels", 3),
    ("image_size", 224),
    ("patch_size", 32),
];

fn tower(g: &mut Gen<'_, '_>, keys: &[(&str, i64)]) -> Value {
    let mut map = Map::new();
    for &(key, good) in keys {
        if g.chance(70) {
            let v = g.field(json!(good));
            map.insert(key.into(), v);
        }
    }
    for (key, good) in [
        ("layer_norm_eps", json!(1e-5)),
        ("hidden_act", json!("quick_gelu")),
    ] {
        if g.chance(50) {
            let v = if g.chance(50) {
                serde_json::from_str(&g.number_json()).unwrap_or(Value::Null)
            } else {
                g.field(good)
            };
            map.insert(key.into(), v);
        }
    }
    Value::Object(map)
}

fn preprocessor(g: &mut Gen<'_, '_>) -> Value {
    let mut map = Map::new();
    let side = |g: &mut Gen<'_, '_>| -> Value {
        match g.range(0, 3) {
            0 => json!(224),
            1 => json!(g.number()),
            2 => json!(g.range(1, 64)),
            _ => serde_json::from_str(&g.number_json()).unwrap_or(Value::Null),
        }
    };
    let size = match g.range(0, 4) {
        0 => side(g),
        1 => json!({"shortest_edge": side(g)}),
        2 => json!({"height": side(g), "width": side(g)}),
        3 => json!([side(g), side(g)]),
        _ => g.json(2),
    };
    let crop = match g.range(0, 3) {
        0 => side(g),
        1 => json!({"height": side(g), "width": side(g)}),
        2 => json!([side(g), side(g)]),
        _ => g.json(2),
    };
    let triple = |g: &mut Gen<'_, '_>| -> Value {
        let n = |g: &mut Gen<'_, '_>| serde_json::from_str(&g.number_json()).unwrap_or(json!(0.5));
        match g.range(0, 2) {
            0 => json!([n(g), n(g), n(g)]),
            1 => n(g),
            _ => json!([0.48, 0.45, 0.40]),
        }
    };
    for (key, value) in [
        ("size", size),
        ("crop_size", crop),
        ("image_mean", triple(g)),
        ("image_std", triple(g)),
    ] {
        if g.chance(70) {
            map.insert(key.into(), value);
        }
    }
    for key in [
        "do_resize",
        "do_center_crop",
        "do_rescale",
        "do_normalize",
        "do_convert_rgb",
        "use_square_size",
    ] {
        if g.chance(40) {
            let b = g.chance(50);
            let v = g.field(json!(b));
            map.insert(key.into(), v);
        }
    }
    if g.chance(60) {
        let v = serde_json::from_str(&g.number_json()).unwrap_or(json!(3));
        map.insert("rescale_factor".into(), v);
    }
    if g.chance(50) {
        let r = g.range(0, 6);
        let v = g.field(json!(r));
        map.insert("resample".into(), v);
    }
    Value::Object(map)
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut config = Map::new();
    if g.chance(80) {
        config.insert("text_config".into(), tower(g, TEXT_KEYS));
    }
    if g.chance(80) {
        config.insert("vision_config".into(), tower(g, VISION_KEYS));
    }
    if g.chance(50) {
        let v = g.field(json!(512));
        config.insert("projection_dim".into(), v);
    }
    if g.chance(30) {
        let v = serde_json::from_str(&g.number_json()).unwrap_or(json!(2.6592));
        config.insert("logit_scale_init_value".into(), v);
    }
    if g.chance(20) {
        let v = g.field(json!("clip"));
        config.insert("model_type".into(), v);
    }
    let mut a = serde_json::to_vec(&Value::Object(config)).unwrap_or_default();
    let mut b = serde_json::to_vec(&preprocessor(g)).unwrap_or_default();
    if g.chance(10) {
        g.mutate(&mut a, 4);
    }
    if g.chance(10) {
        g.mutate(&mut b, 4);
    }
    Ok(parts(&[&a, &b]))
}

fn check(input: &[u8]) {
    let [config, pre] = split_parts::<2>(input);
    if let Ok(c) = ClipConfig::from_json_bytes(config) {
        for eps in [c.text_config.layer_norm_eps, c.vision_config.layer_norm_eps] {
            assert!(
                eps.is_finite() && eps > 0.0,
                "accepted layer_norm_eps {eps}"
            );
        }
        assert!(c.logit_scale_init_value.is_finite());
    }
    if let Ok(p) = PreprocessConfig::from_json_bytes(pre) {
        // Every accepted config must turn pixels into finite model inputs; sizes are limited
        // here so one case stays cheap (the size limits have their own tests).
        let opts = DecodeOptions {
            max_pixels: 1 << 16,
            ..DecodeOptions::default()
        };
        let rgba = [
            0u8, 255, 7, 255, 255, 0, 128, 0, 1, 2, 3, 4, 250, 251, 252, 253,
        ];
        if let Ok(t) = preprocess_rgba_with(&p, 2, 2, &rgba, &opts) {
            assert!(
                t.data.iter().all(|v| v.is_finite() && v.abs() <= 1e4),
                "accepted preprocessor config gives {:?}",
                t.data.iter().find(|v| !v.is_finite() || v.abs() > 1e4)
            );
        }
    }
}

fuzz_target!("config_json", cases: 400, size_max: 16384, memory: 48 << 20);
