//! `leakscope bake` on the tiny test checkpoint: the bundle's gallery results equal what the
//! page computes live from the bundle's concept embeddings (within 1e-5 on the CPU backend),
//! and a bundle of another checkpoint, head, version or a damaged concept file is refused.

use std::path::Path;

use leakscope::compute::ComputeDevice;
use leakscope::embedder::ClipEmbedder;
use leakscope::leakage::bake::{
    BUNDLE_VERSION, Bundle, BundleError, GalleryEntry, Reading, read_sample,
};
use leakscope::leakage::guard::Guard;
use leakscope::leakage::head::{GuardHead, HeadScore};
use leakscope::preprocess::preprocess_bytes;
use leakscope::util::hash::sha256_hex;

use crate::common::{checkpoint_files, fixture, leakscope, read};
use crate::support::temp_dir;

fn gallery() -> Vec<GalleryEntry> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/gallery");
    serde_json::from_slice(&read(dir.join("samples.json"))).unwrap()
}

/// Largest difference between two readings' numbers (scores, attribution, relevance).
fn worst(a: &Reading, b: &Reading) -> f32 {
    let scores = |r: &Reading| -> Vec<HeadScore> {
        [
            Some(&r.score.text),
            r.score.image.as_ref(),
            r.score.pair.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    };
    let mut worst = 0f32;
    let (sa, sb) = (scores(a), scores(b));
    assert_eq!(sa.len(), sb.len());
    for (x, y) in sa.iter().zip(&sb) {
        worst = worst.max((x.p_unsafe - y.p_unsafe).abs());
        worst = worst.max((x.margin - y.margin).abs());
        assert_eq!(x.is_unsafe, y.is_unsafe);
        assert_eq!(x.top_harm.concept, y.top_harm.concept);
    }
    assert_eq!(a.score.class, b.score.class);
    assert_eq!(a.words.len(), b.words.len());
    for (x, y) in a.words.iter().zip(&b.words) {
        assert_eq!(x.word, y.word);
        worst = worst.max((x.delta - y.delta).abs());
    }
    match (&a.relevance, &b.relevance) {
        (Some(x), Some(y)) => {
            assert_eq!((x.grid, &x.concept), (y.grid, &y.concept));
            for (p, q) in x.values.iter().zip(&y.values) {
                worst = worst.max((p - q).abs());
            }
        }
        (x, y) => assert_eq!(x.is_some(), y.is_some()),
    }
    worst
}

#[test]
fn baked_results_equal_live_ones_and_other_bundles_are_refused() {
    let out = temp_dir("bake");
    let model = fixture("tiny-clip");
    let (ok, stdout, stderr) = leakscope(&[
        "bake",
        "--model",
        model.to_str().unwrap(),
        "--repo",
        "leakscope/tiny-clip-test",
        "--out",
        out.to_str().unwrap(),
        "--gallery",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("www/gallery")
            .to_str()
            .unwrap(),
    ]);
    assert!(ok, "{stderr}\n{stdout}");
    let bundle = Bundle::from_json(&read(out.join("manifest.json"))).unwrap();
    let concepts_file = read(out.join("concepts.f16"));
    let files = checkpoint_files(&model);
    let weights = sha256_hex(&files.model_safetensors);
    let head = GuardHead::builtin();
    bundle.set.check(Some(&weights), &head.to_json()).unwrap();
    assert_eq!(bundle.samples.len(), gallery().len());

    // Live, as the page does it with a matching bundle: the baked concepts, then each sample.
    let device = ComputeDevice::flex();
    let embedder = pollster::block_on(ClipEmbedder::load(files.clone(), &device.device)).unwrap();
    let concepts = bundle.set.concepts_from(&concepts_file).unwrap();
    let guard = Guard::with_concepts(embedder, head.clone(), concepts).unwrap();
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/gallery");
    let mut max = 0f32;
    for entry in gallery() {
        let pixels =
            preprocess_bytes(&guard.embedder.preprocess, &read(images.join(&entry.image))).unwrap();
        let live = pollster::block_on(read_sample(&guard, &entry.text, Some(&pixels))).unwrap();
        let baked = bundle.reading(&entry.id, &entry.text).unwrap();
        max = max.max(worst(baked, &live));
        assert!(bundle.reading(&entry.id, "another text").is_none());
    }
    assert!(max <= 1e-5, "baked vs live: {max}");

    // What the f16 concepts cost against concepts computed live in f32.
    let exact = pollster::block_on(Guard::new(guard.embedder, head.clone())).unwrap();
    let mut drift = 0f32;
    for entry in gallery() {
        let pixels =
            preprocess_bytes(&exact.embedder.preprocess, &read(images.join(&entry.image))).unwrap();
        let live = pollster::block_on(exact.score_sample(&entry.text, Some(&pixels))).unwrap();
        let baked = &bundle.reading(&entry.id, &entry.text).unwrap().score;
        drift = drift.max((live.text.p_unsafe - baked.text.p_unsafe).abs());
    }
    println!(
        "bake: {} samples, baked = live within {max:.1e}; f16 concepts vs f32 ones: P(unsafe | text) within {drift:.1e}",
        bundle.samples.len()
    );

    // Refused: another checkpoint, another head, another layout, a damaged concept file.
    let other = bundle.set.check(Some(&"0".repeat(64)), &head.to_json());
    assert!(
        matches!(other, Err(BundleError::OtherModel { .. })),
        "{other:?}"
    );
    assert!(
        other
            .unwrap_err()
            .to_string()
            .contains("leakscope/tiny-clip-test")
    );
    let mut changed = head.clone();
    changed.calibration.text.a += 1.0;
    assert_eq!(
        bundle.set.check(Some(&weights), &changed.to_json()),
        Err(BundleError::OtherHead)
    );
    let mut newer = bundle.clone();
    newer.set.version = BUNDLE_VERSION + 1;
    assert!(matches!(
        newer.set.check(None, &head.to_json()),
        Err(BundleError::Version { .. })
    ));
    let mut damaged = concepts_file.clone();
    damaged[0] ^= 1;
    assert!(matches!(
        bundle.set.concepts_from(&damaged),
        Err(BundleError::Concepts(_))
    ));
    assert!(matches!(
        bundle.set.concepts_from(&concepts_file[1..]),
        Err(BundleError::Concepts(_))
    ));
    assert!(Bundle::from_json(b"{\"version\": 1}").is_err());
}
