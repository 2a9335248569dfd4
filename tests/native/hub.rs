//! Model loading end to end, natively: the real download, cache and progress path (ureq, the
//! core's state machine, the in-memory cache) against a local server in Hugging Face's URL
//! layout serving tests/fixtures/tiny-clip, with scripted faults: a connection dropped mid-file
//! (resumed with Range, byte-identical), a 200 to a Range request (clean restart), 404s
//! (tokenizer.json fallback; missing weights), 401/403, wrong sha256s, a full cache, a server
//! that gives up (the next load resumes from the cached part). Back-offs are milliseconds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::hf_server::{HfFault, HfScript, HfServer, REPO, REVISION};
use leakscope::embedder::{CheckpointFiles, ClipEmbedder};
use leakscope::hub::cache::CacheErrorKind;
use leakscope::hub::{
    HubError, HubWarning, LoadOptions, LoadProgress, Loaded, MemoryCache, ModelCache, ModelSource,
    Platform, RetryPolicy, load_checkpoint,
};
use leakscope::platform::native::{ThreadClock, UreqClient};
use leakscope::util::hash::sha256_hex;

pub(crate) const WEIGHTS: &str = "model.safetensors";

pub(crate) fn tiny() -> PathBuf {
    crate::common::fixture("tiny-clip")
}

pub(crate) fn weights() -> Vec<u8> {
    crate::common::read(tiny().join(WEIGHTS))
}

pub(crate) fn options() -> LoadOptions {
    LoadOptions {
        retry: RetryPolicy {
            tries: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            stall: Duration::from_secs(5),
            ..RetryPolicy::default()
        },
        progress_every: Duration::ZERO,
        ..LoadOptions::default()
    }
}

pub(crate) fn source(server: &HfServer) -> ModelSource {
    ModelSource::mirror(&server.endpoint(), REPO, REVISION)
}

/// Loads `source` and records every progress event.
fn load(
    source: &ModelSource,
    options: &LoadOptions,
    cache: Option<&dyn ModelCache>,
) -> (Result<Loaded, HubError>, Vec<LoadProgress>) {
    let net = UreqClient::stalling(Duration::from_secs(10));
    let clock = ThreadClock::new();
    let platform = Platform {
        net: &net,
        cache,
        clock: &clock,
    };
    let mut events = Vec::new();
    let result = pollster::block_on(load_checkpoint(source, options, platform, &mut |p| {
        events.push(p.clone())
    }));
    (result, events)
}

pub(crate) fn assert_fixture(files: &CheckpointFiles) {
    let expected = crate::common::checkpoint_files(&tiny());
    assert_eq!(files.config_json, expected.config_json);
    assert!(
        files.model_safetensors == expected.model_safetensors,
        "weights differ"
    );
    assert_eq!(files.vocab_json, expected.vocab_json);
    assert_eq!(files.merges_txt, expected.merges_txt);
    assert_eq!(
        files.preprocessor_config_json,
        expected.preprocessor_config_json
    );
}

#[test]
fn a_clean_load_uses_the_listing_caches_everything_and_a_second_load_sends_nothing() {
    let server = HfServer::start(
        &tiny(),
        HfScript {
            listing: true,
            ..HfScript::default()
        },
    );
    let cache = MemoryCache::new();
    let (loaded, events) = load(&source(&server), &options(), Some(&cache));
    let loaded = loaded.unwrap();
    assert_fixture(&loaded.files);
    let total: u64 = [
        "config.json",
        "vocab.json",
        "merges.txt",
        "preprocessor_config.json",
        WEIGHTS,
    ]
    .iter()
    .map(|f| std::fs::metadata(tiny().join(f)).unwrap().len())
    .sum();
    // The listing gives every size before the first byte: the bar is exact from the start.
    assert!(
        events
            .iter()
            .all(|p| p.total_known && p.bytes_total == total)
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0].bytes_done <= w[1].bytes_done)
    );
    let last = events.last().unwrap();
    assert!(last.done && last.bytes_done == total && last.bytes_cached == 0);
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.verified_by.as_deref(), Some("the hub's listing"));
    assert_eq!(model.sha256, sha256_hex(&weights()));
    assert!(loaded.warnings.is_empty() && loaded.missing.is_empty());
    // One listing request and one per file, no 404 probing.
    assert_eq!(server.seen().len(), 6, "{:?}", server.seen());

    let before = server.seen().len();
    let (again, events) = load(&source(&server), &options(), Some(&cache));
    let again = again.unwrap();
    assert_fixture(&again.files);
    assert_eq!(
        server.seen().len(),
        before,
        "a cached model needs no request"
    );
    assert!(again.report.iter().all(|r| r.from_cache));
    let last = events.last().unwrap();
    assert_eq!((last.bytes_cached, last.bytes_done), (total, total));
    assert_eq!(last.to_string(), "1.21 MB of 1.21 MB (from the cache)");

    let models = pollster::block_on(cache.list()).unwrap();
    let summary = leakscope::hub::cache::summarize(&models);
    assert_eq!(summary.len(), 1);
    assert!(summary[0].complete && summary[0].bytes == total);
    assert_eq!(
        pollster::block_on(cache.delete_scope(&summary[0].scope)).unwrap(),
        6
    );
}

#[test]
fn a_connection_dropped_mid_file_resumes_with_range_and_the_bytes_are_identical() {
    // As on the hub: the weights redirect to a CDN that names the sha256 in its ETag.
    let mut script = HfScript {
        redirect_lfs: true,
        ..HfScript::default()
    };
    script.fault(WEIGHTS, HfFault::DropAfter(400_000));
    let server = HfServer::start(&tiny(), script);
    let (loaded, events) = load(&source(&server), &options(), None);
    let loaded = loaded.unwrap();
    assert_fixture(&loaded.files);
    let cdn: Vec<_> = server
        .seen_for(WEIGHTS)
        .into_iter()
        .filter(|s| s.path.starts_with("/cdn/"))
        .collect();
    assert_eq!(cdn.len(), 2, "{cdn:?}");
    assert_eq!((cdn[0].range.as_deref(), cdn[0].sent), (None, 400_000));
    assert_eq!(cdn[1].range.as_deref(), Some("bytes=400000-"));
    assert_eq!(
        (cdn[1].status, cdn[1].sent),
        (206, weights().len() - 400_000)
    );
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.resumed_at, [400_000]);
    assert_eq!(model.restarts, 0);
    // Not one byte twice.
    assert_eq!(model.network_bytes, weights().len() as u64);
    assert_eq!(model.verified_by.as_deref(), Some("the server's ETag"));
    let retry = events.iter().find(|p| p.retries == 1).unwrap();
    assert!(
        retry
            .note
            .as_deref()
            .unwrap()
            .contains("resuming at 400 kB"),
        "{retry:?}"
    );
    // Without the listing the total is known once the weights' response arrived.
    assert!(!events[0].total_known);
    assert!(events.last().unwrap().total_known);
}

#[test]
fn a_stalled_connection_is_dropped_and_resumed() {
    let mut script = HfScript::default();
    script.fault(
        WEIGHTS,
        HfFault::StallAfter(250_000, Duration::from_secs(3)),
    );
    let server = HfServer::start(&tiny(), script);
    let mut quick = options();
    quick.retry.stall = Duration::from_millis(300);
    let (loaded, events) = load(&source(&server), &quick, None);
    let loaded = loaded.unwrap();
    assert_fixture(&loaded.files);
    let seen = server.seen_for(WEIGHTS);
    assert_eq!(seen[1].range.as_deref(), Some("bytes=250000-"));
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.network_bytes, weights().len() as u64);
    let note = events.iter().find_map(|p| p.note.clone()).unwrap();
    assert!(note.starts_with("no data for 0.3 s"), "{note}");
}

#[test]
fn a_200_answer_to_a_range_request_starts_the_file_over_cleanly() {
    let mut script = HfScript::default();
    script
        .fault(WEIGHTS, HfFault::DropAfter(300_000))
        .fault(WEIGHTS, HfFault::IgnoreRange);
    let server = HfServer::start(&tiny(), script);
    let (loaded, _) = load(&source(&server), &options(), None);
    let loaded = loaded.unwrap();
    assert_fixture(&loaded.files);
    let seen = server.seen_for(WEIGHTS);
    assert_eq!(seen[1].range.as_deref(), Some("bytes=300000-"));
    assert_eq!(seen[1].status, 200);
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.restarts, 1);
    assert_eq!(model.network_bytes, 300_000 + weights().len() as u64);
}

/// tiny-clip with tokenizer.json (the one transformers 5 saves for it) instead of the pair.
fn folder_with_tokenizer_json() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakscope-hub-tokjson-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "config.json",
        "preprocessor_config.json",
        WEIGHTS,
        "merges.txt",
    ] {
        std::fs::copy(tiny().join(f), dir.join(f)).unwrap();
    }
    std::fs::copy(
        crate::common::fixture("tokenizer/tiny-clip.tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
    dir
}

#[test]
fn a_missing_vocab_falls_back_to_tokenizer_json_and_tokenizes_the_same() {
    let dir = folder_with_tokenizer_json();
    let server = HfServer::start(&dir, HfScript::default());
    let (loaded, _) = load(&source(&server), &options(), None);
    let loaded = loaded.unwrap();
    assert_eq!(loaded.missing, ["vocab.json"]);
    assert!(loaded.files.vocab_json.is_none() && loaded.files.merges_txt.is_none());
    assert!(loaded.files.tokenizer_json.is_some());
    // merges.txt was never asked for once vocab.json was missing.
    assert!(server.seen_for("merges.txt").is_empty());
    assert_eq!(server.seen_for("vocab.json")[0].status, 404);
    let device = burn::tensor::Device::flex();
    let from_json = pollster::block_on(ClipEmbedder::load(loaded.files, &device)).unwrap();
    let from_pair = pollster::block_on(ClipEmbedder::load(
        crate::common::checkpoint_files(&tiny()),
        &device,
    ))
    .unwrap();
    let texts = ["a photo of a cat", "How do I pick a lock?"];
    assert_eq!(from_json.tokenize(&texts), from_pair.tokenize(&texts));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_weights_and_a_missing_preprocessor_config_are_told_apart() {
    // No preprocessor_config.json: CLIP's defaults, no error.
    let mut script = HfScript::default();
    script.missing("preprocessor_config.json");
    let server = HfServer::start(&tiny(), script);
    let (loaded, _) = load(&source(&server), &options(), None);
    let loaded = loaded.unwrap();
    assert_eq!(loaded.files.preprocessor_config_json, None);
    assert_eq!(loaded.missing, ["preprocessor_config.json"]);

    let mut script = HfScript::default();
    script.missing(WEIGHTS);
    let server = HfServer::start(&tiny(), script);
    let (result, _) = load(&source(&server), &options(), None);
    let error = result.unwrap_err();
    assert!(matches!(&error, HubError::NotFound { file, .. } if file == WEIGHTS));
    let text = error.to_string();
    assert!(
        text.contains("check the repo id and the revision"),
        "{text}"
    );
    assert!(text.contains("leakscope convert"), "{text}");

    // With the listing, the missing weights are known before any file moves.
    let mut script = HfScript {
        listing: true,
        ..HfScript::default()
    };
    script.missing(WEIGHTS);
    let server = HfServer::start(&tiny(), script);
    let (result, _) = load(&source(&server), &options(), None);
    assert!(matches!(result, Err(HubError::NotFound { file, .. }) if file == WEIGHTS));
    assert_eq!(server.seen().len(), 1, "only the listing");
}

#[test]
fn gated_repos_and_wrong_repo_ids_say_what_to_do() {
    let server = HfServer::start(
        &tiny(),
        HfScript {
            token: Some("hf_right".into()),
            ..HfScript::default()
        },
    );
    let (result, _) = load(&source(&server), &options(), None);
    let error = result.unwrap_err();
    assert!(matches!(
        error,
        HubError::Unauthorized {
            token_sent: false,
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .contains("paste a Hugging Face access token"),
        "{error}"
    );

    let mut wrong = options();
    wrong.token = Some("hf_wrong".into());
    let (result, _) = load(&source(&server), &wrong, None);
    let error = result.unwrap_err();
    assert!(matches!(
        error,
        HubError::Forbidden {
            token_sent: true,
            ..
        }
    ));
    assert!(
        error.to_string().contains("accept its conditions"),
        "{error}"
    );

    let mut right = options();
    right.token = Some("hf_right".into());
    let (result, _) = load(&source(&server), &right, None);
    assert_fixture(&result.unwrap().files);
    assert!(
        server
            .seen_for(WEIGHTS)
            .iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer hf_right"))
    );

    // The hub answers 401 for a repo that does not exist.
    let open = HfServer::start(&tiny(), HfScript::default());
    let other = ModelSource::mirror(&open.endpoint(), "nobody/nothing", "main");
    let (result, _) = load(&other, &options(), None);
    let error = result.unwrap_err();
    assert!(
        error.to_string().contains("or the repo id is wrong"),
        "{error}"
    );
    assert_eq!(open.seen().len(), 2, "the listing and config.json only");
}

#[test]
fn a_wrong_sha256_from_the_caller_or_the_server_is_an_error() {
    let server = HfServer::start(&tiny(), HfScript::default());
    let mut given = options();
    given.sha256.insert(WEIGHTS.into(), "ab".repeat(32));
    let (result, _) = load(&source(&server), &given, None);
    let error = result.unwrap_err();
    assert!(
        matches!(&error, HubError::Checksum { origin, expected, .. } if origin == "you" && *expected == "ab".repeat(32)),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&sha256_hex(&weights())),
        "{error}"
    );

    // The right sha256 from the caller passes (upper case is fine).
    let mut right = options();
    right
        .sha256
        .insert(WEIGHTS.into(), sha256_hex(&weights()).to_uppercase());
    let (result, _) = load(&source(&server), &right, None);
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
    let (result, _) = load(&source(&server), &options(), None);
    assert!(
        matches!(result, Err(HubError::Checksum { origin, .. }) if origin == "the server's ETag")
    );
}

#[test]
fn a_full_cache_still_loads_and_says_the_model_was_not_saved() {
    let server = HfServer::start(&tiny(), HfScript::default());
    let cache = MemoryCache::with_quota(200_000);
    let (loaded, _) = load(&source(&server), &options(), Some(&cache));
    let loaded = loaded.unwrap();
    assert_fixture(&loaded.files);
    let [HubWarning::NotCached { error, estimate }] = &loaded.warnings[..] else {
        panic!("{:?}", loaded.warnings);
    };
    assert_eq!(error.kind, CacheErrorKind::Quota);
    assert!(estimate.is_some());
    let text = loaded.warnings[0].to_string();
    assert!(
        text.contains("storage is full") && text.contains("delete cached models"),
        "{text}"
    );
}

#[test]
fn a_download_that_gives_up_is_kept_and_the_next_load_resumes_it() {
    let mut script = HfScript::default();
    script.fault(WEIGHTS, HfFault::DropAfter(500_000));
    for _ in 0..3 {
        script.fault(WEIGHTS, HfFault::Status(503));
    }
    let server = HfServer::start(&tiny(), script);
    let cache = MemoryCache::new();
    let (result, _) = load(&source(&server), &options(), Some(&cache));
    let error = result.unwrap_err();
    assert!(
        matches!(
            error,
            HubError::Interrupted {
                received: 500_000,
                kept: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("it resumes where it stopped"),
        "{error}"
    );

    let before = server.seen().len();
    let (loaded, _) = load(&source(&server), &options(), Some(&cache));
    let loaded = loaded.unwrap();
    assert_fixture(&loaded.files);
    let after: Vec<_> = server.seen()[before..]
        .iter()
        .filter(|s| s.path.contains("/resolve/"))
        .cloned()
        .collect();
    // The small files came from the cache; the weights resumed at the kept byte.
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].range.as_deref(), Some("bytes=500000-"));
    assert_eq!(after[0].status, 206);
    let model = loaded.report.iter().find(|r| r.file == WEIGHTS).unwrap();
    assert_eq!(model.network_bytes, weights().len() as u64 - 500_000);
}

#[test]
fn an_unreachable_server_is_reported_quickly_as_a_network_problem() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let source = ModelSource::mirror(&format!("http://127.0.0.1:{port}"), REPO, REVISION);
    let mut slow = options();
    slow.retry.tries = 50;
    let (result, _) = load(&source, &slow, None);
    let error = result.unwrap_err();
    assert!(matches!(error, HubError::Network { .. }), "{error:?}");
    // Natively there is no CORS: the advice is about the connection (the browser's message,
    // which names CORS, is checked by tests/e2e/hub.test.mjs).
    let message = error.to_string();
    assert!(!message.contains("Access-Control"), "{message}");
    assert!(message.contains("refused"), "{message}");
}

#[test]
fn picked_files_become_a_checkpoint_by_name() {
    let dir: &Path = &tiny();
    let mut named = BTreeMap::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = format!("tiny-clip/{}", path.file_name().unwrap().to_string_lossy());
        if let Some(file) = leakscope::hub::files::wanted(&name) {
            named.insert(file, std::fs::read(&path).unwrap());
        }
        names.push(name);
    }
    let files = leakscope::hub::files::checkpoint_from_named(named, &names).unwrap();
    assert_fixture(&files);
}

#[test]
fn the_cli_fetches_a_checkpoint_into_a_folder_that_loads() {
    let mut script = HfScript::default();
    script.fault(WEIGHTS, HfFault::DropAfter(600_000));
    let server = HfServer::start(&tiny(), script);
    let out = std::env::temp_dir().join(format!("leakscope-hub-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["fetch-model", "--repo"])
        .arg(format!("{}/{REPO}/resolve/{REVISION}/", server.endpoint()))
        .arg("--out")
        .arg(&out)
        .env_remove("HF_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_fixture(&crate::common::checkpoint_files(&out));
    assert!(stderr.contains("the server's ETag"), "{stderr}");
    assert_eq!(
        server.seen_for(WEIGHTS)[1].range.as_deref(),
        Some("bytes=600000-")
    );
    let _ = std::fs::remove_dir_all(out);
}
