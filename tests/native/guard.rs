//! The guard head on a real (tiny, random-weight) CLIP model: the three readings of a sample,
//! batched attribution equal to one-by-one calls, and the patch relevance map's shape.

use crate::common::*;
use burn::tensor::Device;
use leakscope::embedder::ClipEmbedder;
use leakscope::leakage::guard::Guard;
use leakscope::leakage::head::{GuardHead, LeakClass, Modality};

fn guard() -> Guard {
    let dir = fixture("tiny-clip");
    let files = checkpoint_files(&dir);
    let embedder = pollster::block_on(ClipEmbedder::load(files, &Device::flex())).unwrap();
    pollster::block_on(Guard::new(embedder, GuardHead::builtin())).unwrap()
}

#[test]
fn a_sample_gets_text_image_and_pair_readings() {
    let guard = guard();
    let image = guard
        .embedder
        .preprocess_image(&read(
            fixture("tiny-clip").join("images/gradient_320x240.png"),
        ))
        .unwrap();
    let text = "How do I use the tool shown in the picture?";
    let sample = pollster::block_on(guard.score_sample(text, Some(&image))).unwrap();
    let (image_score, pair) = (
        sample.image.as_ref().unwrap(),
        sample.pair.as_ref().unwrap(),
    );
    for score in [&sample.text, image_score, pair] {
        assert!((0.0..=1.0).contains(&score.p_unsafe));
        assert!((score.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    assert_eq!(sample.text.modality, Modality::Text);
    assert_eq!(pair.modality, Modality::Pair);
    assert_eq!(
        sample.class,
        LeakClass::classify(sample.text.is_unsafe, pair.is_unsafe)
    );
    // Text-only equals the text reading of the full sample (the tower runs once per text).
    let alone = pollster::block_on(guard.score_text(text)).unwrap();
    assert!((alone.p_unsafe - sample.text.p_unsafe).abs() < 1e-6);
}

#[test]
fn batched_attribution_equals_one_call_per_variant() {
    let guard = guard();
    let text = "please describe the knife on the table";
    let words = pollster::block_on(guard.word_attribution(text)).unwrap();
    let tokenizer = &guard.embedder.tokenizer;
    assert_eq!(words.len(), tokenizer.words(text).len());
    let ids = tokenizer.encode(text);
    let context = guard.embedder.model.context_length();
    let full = pollster::block_on(guard.score_text(text)).unwrap().p_unsafe;
    for w in &words {
        let mut without = ids[..w.tokens.start].to_vec();
        without.extend_from_slice(&ids[w.tokens.end..]);
        let row = tokenizer.pad_ids(without, context);
        let embedded = pollster::block_on(guard.embedder.text_embeddings_from_ids(&[row])).unwrap();
        let p = guard
            .head
            .score(guard.concept_embeddings(), embedded.row(0), Modality::Text)
            .unwrap()
            .p_unsafe;
        assert!(
            (w.delta - (full - p)).abs() < 1e-5,
            "{}: {} vs {}",
            w.word,
            w.delta,
            full - p
        );
    }
}

#[test]
fn words_beyond_the_context_get_no_attribution() {
    let guard = guard();
    let text = "word ".repeat(100);
    let words = pollster::block_on(guard.word_attribution(&text)).unwrap();
    assert_eq!(words.len(), 100);
    assert!(words[90..].iter().all(|w| w.delta == 0.0));
}

#[test]
fn relevance_map_covers_the_patch_grid() {
    let guard = guard();
    let image = guard
        .embedder
        .preprocess_image(&read(
            fixture("tiny-clip").join("images/shapes_150x200.png"),
        ))
        .unwrap();
    let map = pollster::block_on(guard.relevance_map(&image, 0)).unwrap();
    assert_eq!(map.len(), 7 * 7, "224 px / patch 32");
    assert!(map.iter().all(|c| (-1.0001..=1.0001).contains(c)));
    assert!(pollster::block_on(guard.relevance_map(&image, usize::MAX / 1024)).is_err());
}

/// Timing of one live score (text alone + with image + word attribution) for the full
/// ViT-B/32 shape on the CPU backend. Prints figures; run it in release:
/// `cargo test --release --test native -- --ignored --nocapture guard::live_score_timing`.
#[test]
#[ignore = "timing: needs target/reference (scripts/make_reference.py --full) and a release build"]
fn live_score_timing_full_vit_b_32() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/reference/clip-vit-base-patch32-random");
    if !dir.join("model.safetensors").exists() {
        println!(
            "SKIP: {} not found (run scripts/make_reference.py --full)",
            dir.display()
        );
        return;
    }
    let files = checkpoint_files(&dir);
    let started = std::time::Instant::now();
    let embedder = pollster::block_on(ClipEmbedder::load(files, &Device::flex())).unwrap();
    let load = started.elapsed();
    let started = std::time::Instant::now();
    let guard = pollster::block_on(Guard::new(embedder, GuardHead::builtin())).unwrap();
    let concepts = started.elapsed();
    let image_bytes = read(fixture("tiny-clip").join("images/gradient_320x240.png"));
    let text = "What is the best way to use the item in the picture on my neighbour?";
    let mut rows = Vec::new();
    for _ in 0..3 {
        let t0 = std::time::Instant::now();
        let pixels = guard.embedder.preprocess_image(&image_bytes).unwrap();
        let t1 = std::time::Instant::now();
        let text_only = pollster::block_on(guard.score_text(text)).unwrap();
        let t2 = std::time::Instant::now();
        let sample = pollster::block_on(guard.score_sample(text, Some(&pixels))).unwrap();
        let t3 = std::time::Instant::now();
        let words = pollster::block_on(guard.word_attribution(text)).unwrap();
        let t4 = std::time::Instant::now();
        assert!(text_only.p_unsafe.is_finite() && sample.pair.is_some() && !words.is_empty());
        rows.push([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]);
    }
    rows.sort_by_key(|r| r[4]);
    let median = rows[1];
    println!(
        "ViT-B/32 on {} threads, flex: load {load:.2?}, concept cache ({} prompts) {concepts:.2?}; \
         median of 3 — preprocess {:.1?}, text alone {:.1?}, text + image {:.1?}, attribution ({} words, one batch) {:.1?}, total {:.1?}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        guard.head.prompts().len(),
        median[0],
        median[1],
        median[2],
        guard.embedder.tokenizer.words(text).len(),
        median[3],
        median[4]
    );
}

/// The samples whose guard scores are pinned in tests/fixtures/guard/expected.json; the browser
/// test (tests/web.rs) checks the same file, so native and browser agree within 1e-4.
const PINNED: &[(&str, Option<&str>)] = &[
    (
        "How do I use the tool shown in the picture?",
        Some("images/gradient_320x240.png"),
    ),
    (
        "what is happening in this photo",
        Some("images/shapes_150x200.png"),
    ),
    ("", Some("images/gray_97x61.png")),
    ("a recipe for banana bread", None),
];

/// Text, image and pair readings plus attribution of `(text, image path)` samples, as pinned.
fn readings(
    guard: &Guard,
    samples: &[(String, Option<std::path::PathBuf>)],
) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    for (text, image) in samples {
        let pixels = image
            .as_ref()
            .map(|p| guard.embedder.preprocess_image(&read(p)).unwrap());
        let s = pollster::block_on(guard.score_sample(text, pixels.as_ref())).unwrap();
        let attribution: Vec<f32> = pollster::block_on(guard.word_attribution(text))
            .unwrap()
            .iter()
            .map(|w| w.delta)
            .collect();
        let name = image.as_ref().map(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            match p.parent().and_then(|d| d.file_name()) {
                Some(dir) if dir == "images" => format!("images/{file}"),
                _ => file.into_owned(),
            }
        });
        rows.push(serde_json::json!({
            "text": text,
            "image": name,
            "text_p": s.text.p_unsafe,
            "text_margin": s.text.margin,
            "image_p": s.image.as_ref().map(|x| x.p_unsafe),
            "pair_p": s.pair.as_ref().map(|x| x.p_unsafe),
            "pair_margin": s.pair.as_ref().map(|x| x.margin),
            "class": s.class.label(),
            "attribution": attribution,
        }));
    }
    rows
}

/// Compares `rows` with the pinned file within 1e-4 (or rewrites it with LEAKSCOPE_BLESS=1).
fn check_pinned(rows: &[serde_json::Value], file: &str) {
    let path = fixture(file);
    if std::env::var_os("LEAKSCOPE_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(rows).unwrap() + "\n").unwrap();
        println!("wrote {}", path.display());
        return;
    }
    let expected: Vec<serde_json::Value> = serde_json::from_slice(&read(&path)).unwrap();
    assert_eq!(expected.len(), rows.len());
    let num = |v: &serde_json::Value| v.as_f64().map(|x| x as f32);
    for (got, want) in rows.iter().zip(&expected) {
        for key in ["text_p", "text_margin", "image_p", "pair_p", "pair_margin"] {
            match (num(&got[key]), num(&want[key])) {
                (Some(g), Some(w)) => assert!(
                    (g - w).abs() <= 1e-4,
                    "{key}: {g} vs {w} ({})",
                    want["text"]
                ),
                (g, w) => assert_eq!(g.is_none(), w.is_none(), "{key}"),
            }
        }
        let floats = |v: &serde_json::Value| -> Vec<f32> {
            v.as_array().unwrap().iter().filter_map(num).collect()
        };
        let (g, w) = (floats(&got["attribution"]), floats(&want["attribution"]));
        assert_eq!(g.len(), w.len());
        assert!(g.iter().zip(&w).all(|(a, b)| (a - b).abs() <= 1e-4));
    }
}

#[test]
fn guard_scores_match_the_pinned_expectations() {
    let samples: Vec<_> = PINNED
        .iter()
        .map(|(text, image)| {
            (
                text.to_string(),
                image.map(|p| fixture("tiny-clip").join(p)),
            )
        })
        .collect();
    check_pinned(&readings(&guard(), &samples), "guard/expected.json");
}

/// The page's gallery (www/gallery) scored by the test model: the page test checks that the
/// worker in Chromium shows these numbers (tests/e2e/demo.test.mjs).
#[test]
fn gallery_scores_match_the_pinned_expectations() {
    let gallery = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/gallery");
    let listed: Vec<serde_json::Value> =
        serde_json::from_slice(&read(gallery.join("samples.json"))).unwrap();
    let samples: Vec<_> = listed
        .iter()
        .map(|s| {
            (
                s["text"].as_str().unwrap().to_string(),
                Some(gallery.join(s["image"].as_str().unwrap())),
            )
        })
        .collect();
    check_pinned(&readings(&guard(), &samples), "guard/gallery.json");
}
