//! Text first, natively: the weights' text tower before their vision tower, through the real
//! download path (ureq, the core's loader, the in-memory cache) against the local hub server.
//! The range plan (which bytes are text, vision, shared); the text part handed over while the
//! server holds the vision bytes back, loadable on its own and equal to the whole model's text
//! tower; ranged requests when the text tower is not the file's first bytes; a server without
//! ranges; the sha256 checked over the whole file; a dropped span resumed; a kept partial and a
//! cached model.
// The plans are lists of byte ranges; a list of one range is what is meant.
#![allow(clippy::single_range_in_vec_init)]

use std::path::PathBuf;

use burn::tensor::Device;
use leakscope::embedder::{ClipEmbedder, EmbedError};
use leakscope::hub::towers::{TextFirst, TowerPlan};
use leakscope::hub::{
    HubError, LoadOptions, LoadProgress, Loaded, MemoryCache, ModelCache, ModelSource, Platform,
    TextPart, load_checkpoint_text_first,
};
use leakscope::platform::native::{ThreadClock, UreqClient};
use leakscope::util::hash::sha256_hex;
use leakscope::weights::{FileLayout, Tower};
use safetensors::SafeTensors;

use crate::hub::{WEIGHTS, assert_fixture, options, source, tiny, weights};
use crate::support::hf_server::{HfFault, HfScript, HfServer};

/// Loads text first, recording progress and handing each text part to `on_text`.
fn load(
    source: &ModelSource,
    options: &LoadOptions,
    cache: Option<&dyn ModelCache>,
    on_text: &mut dyn FnMut(TextPart),
) -> (Result<Loaded, HubError>, Vec<LoadProgress>) {
    let net = UreqClient::stalling(std::time::Duration::from_secs(10));
    let clock = ThreadClock::new();
    let platform = Platform {
        net: &net,
        cache,
        clock: &clock,
    };
    let mut events = Vec::new();
    let result = pollster::block_on(load_checkpoint_text_first(
        source,
        options,
        platform,
        &mut |p| events.push(p.clone()),
        on_text,
    ));
    (result, events)
}

fn plan(bytes: &[u8]) -> TowerPlan {
    TowerPlan::new(&FileLayout::from_prefix(bytes).unwrap().unwrap())
}

/// tiny-clip's weights with the tensors laid out in the order of `rank` (of the name and the
/// byte size; then by name): the same tensors and bytes, another file.
fn reordered(rank: impl Fn(&str, usize) -> usize) -> Vec<u8> {
    let bytes = weights();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().map(str::to_string).collect();
    names.sort_by_key(|n| (rank(n, file.tensor(n).unwrap().data().len()), n.clone()));
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for name in &names {
        let view = file.tensor(name).unwrap();
        let start = data.len();
        data.extend_from_slice(view.data());
        header.insert(
            name.clone(),
            serde_json::json!({
                "dtype": format!("{:?}", view.dtype()),
                "shape": view.shape(),
                "data_offsets": [start, data.len()],
            }),
        );
    }
    let mut json = serde_json::to_vec(&header).unwrap();
    json.resize(json.len().next_multiple_of(8), b' ');
    [(json.len() as u64).to_le_bytes().to_vec(), json, data].concat()
}

/// tiny-clip's folder with `weights` as its model.safetensors.
fn folder_with(name: &str, weights: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "leakscope-text-first-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "config.json",
        "vocab.json",
        "merges.txt",
        "preprocessor_config.json",
    ] {
        std::fs::copy(tiny().join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join(WEIGHTS), weights).unwrap();
    dir
}

/// The vision tower first, then `logit_scale`, then the text tower.
fn vision_first() -> Vec<u8> {
    reordered(|name, _| match Tower::of(name) {
        Tower::Vision => 0,
        Tower::Shared => 1,
        Tower::Text => 2,
    })
}

const TEXTS: [&str; 2] = ["a photo of a cat", "How do I pick a lock?"];

/// The text part loads on its own, embeds text exactly as the whole model does and refuses
/// images until the vision tower comes; with it, images embed as the whole model's do.
fn check_text_part(part: TextPart, whole: Vec<u8>) {
    let device = Device::flex();
    let full = pollster::block_on(ClipEmbedder::load(
        crate::common::checkpoint_files(&tiny()),
        &device,
    ))
    .unwrap();
    let text = pollster::block_on(ClipEmbedder::load_text_tower(
        part.files,
        &device,
        leakscope::tokenizer::TokenizerMode::default(),
    ))
    .unwrap();
    assert!(!text.has_vision_tower());
    let a = pollster::block_on(text.text_embeddings(&TEXTS)).unwrap();
    let b = pollster::block_on(full.text_embeddings(&TEXTS)).unwrap();
    assert_eq!(a, b);
    assert_eq!(text.logit_scale(), full.logit_scale());
    let image = crate::common::read(tiny().join("images/shapes_150x200.png"));
    let pixels = full.preprocess_image(&image).unwrap();
    let refused = pollster::block_on(text.image_embeddings(std::slice::from_ref(&pixels)));
    assert!(
        matches!(refused, Err(EmbedError::VisionPending)),
        "{refused:?}"
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("the image tower is still downloading")
    );
    let both = text.with_vision_tower(whole).unwrap();
    let a = pollster::block_on(both.image_embeddings(std::slice::from_ref(&pixels))).unwrap();
    let b = pollster::block_on(full.image_embeddings(std::slice::from_ref(&pixels))).unwrap();
    assert_eq!(a, b);
    let a = pollster::block_on(both.text_embeddings(&TEXTS)).unwrap();
    assert_eq!(
        a.values,
        pollster::block_on(full.text_embeddings(&TEXTS))
            .unwrap()
            .values
    );
}

#[test]
fn the_plan_puts_the_header_text_and_logit_scale_first_and_the_vision_tower_second() {
    let bytes = weights();
    let layout = FileLayout::from_prefix(&bytes).unwrap().unwrap();
    let range = |name: &str| {
        let t = layout.tensors.iter().find(|t| t.name == name).unwrap();
        t.bytes.clone()
    };
    let plan = TowerPlan::new(&layout);
    assert_eq!(plan.total, bytes.len() as u64);
    // safetensors orders by name: logit_scale, text_model.*, text_projection, vision_model.*,
    // visual_projection.
    let ls = range("logit_scale");
    assert_eq!(ls.start, plan.header_end);
    assert_eq!(plan.shared, std::slice::from_ref(&ls));
    let text_end = range("text_projection.weight").end;
    assert_eq!(plan.text, [ls.end..text_end]);
    assert_eq!(plan.vision, [text_end..plan.total]);
    assert_eq!(plan.first, [0..text_end]);
    assert_eq!(plan.second, [text_end..plan.total]);
    assert_eq!(plan.prefix_end(), Some(text_end));
    // Not enough bytes for the header yet, then exactly enough.
    assert!(FileLayout::from_prefix(&bytes[..100]).unwrap().is_none());
    let header = usize::try_from(plan.header_end).unwrap();
    assert!(FileLayout::from_prefix(&bytes[..header]).unwrap().is_some());
    assert!(FileLayout::from_prefix(b"{not a safetensors header").is_err());

    // Another layout: the vision tower first. Phase one is two ranges, the header and
    // logit_scale + text tower; phase two the vision tower between them.
    let other = vision_first();
    let layout = FileLayout::from_prefix(&other).unwrap().unwrap();
    let plan = TowerPlan::new(&layout);
    let first_text = layout
        .tensors
        .iter()
        .find(|t| t.tower != Tower::Vision)
        .unwrap()
        .bytes
        .start;
    assert_eq!(plan.first, [0..plan.header_end, first_text..plan.total]);
    assert_eq!(plan.second, [plan.header_end..first_text]);
    assert_eq!(plan.prefix_end(), None);
    // Interleaved towers (ordered by size): vision tensors closer than 1/64 of the file
    // between text tensors are fetched with them, farther ones are not.
    let interleaved = reordered(|_, size| size);
    let layout_b = FileLayout::from_prefix(&interleaved).unwrap().unwrap();
    let plan_b = TowerPlan::new(&layout_b);
    let gap = plan_b.total / 64;
    assert!(plan_b.first.len() > 1 && plan_b.first.len() < plan_b.text.len());
    assert!(plan_b.first.windows(2).all(|w| w[1].start - w[0].end > gap));
    assert!(
        layout_b
            .tensors
            .iter()
            .filter(|t| t.tower.text_first())
            .all(|t| {
                plan_b
                    .first
                    .iter()
                    .any(|r| r.start <= t.bytes.start && t.bytes.end <= r.end)
            })
    );
    // The text part of either file is a safetensors file of the text tower and logit_scale.
    let part = layout.extract(&other, Tower::text_first).unwrap();
    let part = SafeTensors::deserialize(&part).unwrap();
    assert!(part.names().iter().all(|n| Tower::of(n).text_first()));
    assert!(part.names().contains(&"logit_scale"));
    let original = SafeTensors::deserialize(&other).unwrap();
    let name = "text_model.final_layer_norm.weight";
    assert_eq!(
        part.tensor(name).unwrap().data(),
        original.tensor(name).unwrap().data()
    );
}

#[test]
fn the_text_tower_is_handed_over_while_the_vision_bytes_are_held_back() {
    let text_end = plan(&weights()).prefix_end().unwrap();
    let server = HfServer::start(
        &tiny(),
        HfScript {
            listing: true,
            hold: Some((WEIGHTS.into(), usize::try_from(text_end).unwrap())),
            ..HfScript::default()
        },
    );
    let cache = MemoryCache::new();
    let mut parts = Vec::new();
    let (loaded, events) = load(&source(&server), &options(), Some(&cache), &mut |part| {
        // The server has sent nothing past the text tower yet.
        assert!(!server.released() && !server.timed_out());
        parts.push(part);
        server.release();
    });
    let loaded = loaded.unwrap();
    assert!(
        !server.timed_out(),
        "the text part came only with the vision bytes"
    );
    assert_fixture(&loaded.files);
    assert_eq!(
        loaded.text_first,
        TextFirst {
            handed_over: true,
            stale: false
        }
    );
    // One request for the weights, from byte 0 with a Range: the stream just goes on.
    let seen = server.seen_for(WEIGHTS);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].range.as_deref(), seen[0].status),
        (Some("bytes=0-"), 206)
    );
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.verified_by.as_deref(), Some("the hub's listing"));
    assert_eq!(model.network_bytes, weights().len() as u64);
    // The progress showed the text tower in while the vision tower was still on its way.
    let held = events
        .iter()
        .find_map(|p| p.towers.filter(|t| t.text_ready()).map(|t| (t, p)))
        .unwrap();
    assert_eq!(held.0.text_total, text_end);
    assert!(held.0.vision_done < held.0.vision_total, "{:?}", held.0);
    assert!(
        held.1.to_string().contains("text tower in, image tower"),
        "{}",
        held.1
    );
    let last = events.last().unwrap().towers.unwrap();
    assert_eq!(last.vision_done, last.vision_total);
    let [part] = &parts[..] else {
        panic!("{} text parts", parts.len())
    };
    assert_eq!(
        part.weights_sha256.as_deref(),
        Some(sha256_hex(&weights()).as_str())
    );
    let part = parts.pop().unwrap();
    check_text_part(part, loaded.files.model_safetensors);

    // The cache holds the whole file; a second load needs no request and hands over nothing.
    let scope = source(&server).cache_scope();
    let cached = pollster::block_on(cache.get(&scope, WEIGHTS))
        .unwrap()
        .unwrap();
    assert!(cached.entry.complete && cached.bytes == weights());
    let before = server.seen().len();
    let (again, _) = load(&source(&server), &options(), Some(&cache), &mut |_| {
        panic!("nothing is handed over from a cached model")
    });
    assert_fixture(&again.unwrap().files);
    assert_eq!(server.seen().len(), before);
}

#[test]
fn another_layout_is_fetched_by_ranges_text_tower_first() {
    let bytes = vision_first();
    let plan = plan(&bytes);
    let dir = folder_with("ranges", &bytes);
    let mut script = HfScript {
        listing: true,
        ..HfScript::default()
    };
    // The text tower's range is cut once and resumed within itself.
    script
        .fault(WEIGHTS, HfFault::Pass)
        .fault(WEIGHTS, HfFault::DropAfter(100_000));
    let server = HfServer::start(&dir, script);
    let mut parts = Vec::new();
    let (loaded, _) = load(&source(&server), &options(), None, &mut |part| {
        // Only the header's stream and the text tower's range were asked for.
        let asked: Vec<_> = server
            .seen_for(WEIGHTS)
            .into_iter()
            .map(|s| s.range)
            .collect();
        assert_eq!(asked.len(), 3, "{asked:?}");
        parts.push(part);
    });
    let loaded = loaded.unwrap();
    assert!(loaded.files.model_safetensors == bytes);
    let text = &plan.first[1];
    let ranges: Vec<_> = server
        .seen_for(WEIGHTS)
        .into_iter()
        .map(|s| (s.range.unwrap_or_default(), s.status))
        .collect();
    let (first, last) = (text.start, text.end - 1);
    assert_eq!(ranges[0], ("bytes=0-".to_string(), 206));
    assert_eq!(ranges[1], (format!("bytes={first}-{last}"), 206));
    assert_eq!(
        ranges[2],
        (format!("bytes={}-{last}", first + 100_000), 206)
    );
    // Then the vision tower, from wherever the header's stream stopped.
    let vision = &ranges[3];
    assert_eq!(vision.1, 206);
    assert!(
        vision.0.ends_with(&format!("-{}", plan.second[0].end - 1)),
        "{ranges:?}"
    );
    assert_eq!(ranges.len(), 4, "{ranges:?}");
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.verified_by.as_deref(), Some("the hub's listing"));
    assert_eq!(model.resumed_at, [first + 100_000]);
    assert_eq!(model.sha256, sha256_hex(&bytes));
    assert!(loaded.text_first.handed_over && !loaded.text_first.stale);
    let [_] = &parts[..] else {
        panic!("{} text parts", parts.len())
    };
    check_text_part(parts.pop().unwrap(), weights());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn without_ranges_the_whole_file_comes_in_one_answer_and_the_text_part_still_first() {
    // The usual layout: the text part is handed over while the vision bytes are held back.
    let text_end = plan(&weights()).prefix_end().unwrap();
    let server = HfServer::start(
        &tiny(),
        HfScript {
            no_ranges: true,
            hold: Some((WEIGHTS.into(), usize::try_from(text_end).unwrap())),
            ..HfScript::default()
        },
    );
    let mut parts = 0;
    let (loaded, _) = load(&source(&server), &options(), None, &mut |_| {
        assert!(!server.released());
        parts += 1;
        server.release();
    });
    assert_fixture(&loaded.unwrap().files);
    assert!(!server.timed_out());
    assert_eq!(parts, 1);
    let seen = server.seen_for(WEIGHTS);
    assert_eq!((seen.len(), seen[0].status), (1, 200), "{seen:?}");

    // Another layout: no ranges to ask for, so the text part comes with the whole file.
    let bytes = vision_first();
    let dir = folder_with("no-ranges", &bytes);
    let server = HfServer::start(
        &dir,
        HfScript {
            no_ranges: true,
            ..HfScript::default()
        },
    );
    let mut parts = Vec::new();
    let (loaded, _) = load(&source(&server), &options(), None, &mut |part| {
        parts.push(part)
    });
    let loaded = loaded.unwrap();
    assert!(loaded.files.model_safetensors == bytes);
    let seen = server.seen_for(WEIGHTS);
    assert_eq!((seen.len(), seen[0].status), (1, 200), "{seen:?}");
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.verified_by.as_deref(), Some("the server's ETag"));
    assert_eq!(parts.len(), 1);
    check_text_part(parts.pop().unwrap(), weights());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_sha256_is_checked_over_the_whole_file() {
    // One stream: a wrong sha256 from the caller fails the load after the text part went out.
    let server = HfServer::start(&tiny(), HfScript::default());
    let mut wrong = options();
    wrong.sha256.insert(WEIGHTS.into(), "ab".repeat(32));
    let mut parts = 0;
    let (result, _) = load(&source(&server), &wrong, None, &mut |_| parts += 1);
    assert!(
        matches!(&result, Err(HubError::Checksum { origin, .. }) if origin == "you"),
        "{result:?}"
    );
    assert_eq!(parts, 1);

    // Ranges: the assembled file fails, the whole file is fetched once more, and fails again.
    let bytes = vision_first();
    let dir = folder_with("checksum", &bytes);
    let server = HfServer::start(&dir, HfScript::default());
    let (result, _) = load(&source(&server), &wrong, None, &mut |_| {});
    let error = result.unwrap_err();
    assert!(
        matches!(&error, HubError::Checksum { actual, .. } if *actual == sha256_hex(&bytes)),
        "{error:?}"
    );
    let seen = server.seen_for(WEIGHTS);
    let last = seen.last().unwrap();
    assert_eq!(
        (last.range.as_deref(), last.status),
        (None, 200),
        "{seen:?}"
    );

    // The right one passes; a wrong one in the server's ETag does not.
    let mut right = options();
    right.sha256.insert(WEIGHTS.into(), sha256_hex(&bytes));
    let (result, _) = load(&source(&server), &right, None, &mut |_| {});
    let model = result
        .unwrap()
        .report
        .into_iter()
        .find(|r| r.file == WEIGHTS)
        .unwrap();
    assert_eq!(model.verified_by.as_deref(), Some("you"));
    let mut script = HfScript::default();
    script.fault(WEIGHTS, HfFault::WrongEtag);
    let server = HfServer::start(&tiny(), script);
    let (result, _) = load(&source(&server), &options(), None, &mut |_| {});
    assert!(
        matches!(&result, Err(HubError::Checksum { origin, .. }) if origin == "the server's ETag"),
        "{result:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_kept_partial_hands_over_the_text_part_before_any_request_and_resumes() {
    let text_end = usize::try_from(plan(&weights()).prefix_end().unwrap()).unwrap();
    let mut script = HfScript::default();
    script.fault(WEIGHTS, HfFault::DropAfter(text_end + 1_000));
    for _ in 0..3 {
        script.fault(WEIGHTS, HfFault::Status(503));
    }
    let server = HfServer::start(&tiny(), script);
    let cache = MemoryCache::new();
    let mut parts = 0;
    let (result, _) = load(&source(&server), &options(), Some(&cache), &mut |_| {
        parts += 1
    });
    assert!(
        matches!(result, Err(HubError::Interrupted { kept: true, .. })),
        "{result:?}"
    );
    assert_eq!(parts, 1);

    let before = server.seen_for(WEIGHTS).len();
    let mut asked = None;
    let (loaded, _) = load(&source(&server), &options(), Some(&cache), &mut |_| {
        asked = Some(server.seen_for(WEIGHTS).len());
    });
    assert_fixture(&loaded.unwrap().files);
    assert_eq!(
        asked,
        Some(before),
        "handed over from the cache, before any request"
    );
    let seen = server.seen_for(WEIGHTS);
    let last = seen.last().unwrap();
    assert_eq!(
        last.range.as_deref(),
        Some(format!("bytes={}-", text_end + 1_000).as_str())
    );
}
