//! The guard head on a real (tiny, random-weight) CLIP model: the three readings of a sample,
//! batched attribution equal to one-by-one calls, and the patch relevance map's shape.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::Device;
use common::*;
use leakscope::embedder::{CheckpointFiles, ClipEmbedder};
use leakscope::leakage::guard::Guard;
use leakscope::leakage::head::{GuardHead, LeakClass, Modality};

fn guard() -> Guard {
    let dir = fixture("tiny-clip");
    let files = CheckpointFiles {
        config_json: read(dir.join("config.json")),
        model_safetensors: read(dir.join("model.safetensors")),
        vocab_json: Some(read(dir.join("vocab.json"))),
        merges_txt: Some(read(dir.join("merges.txt"))),
        tokenizer_json: None,
        preprocessor_config_json: Some(read(dir.join("preprocessor_config.json"))),
    };
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
