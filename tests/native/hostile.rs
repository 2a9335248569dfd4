//! The hostile inputs of "tried as a new user would" (the issue behind `tests/native/fuzz/`), one
//! regression test each: what panicked, ran out of memory, hung, gave a wrong or silent result,
//! or said something misleading, and now gets a typed error that says what is wrong.

use std::cell::RefCell;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use leakscope::datasets::{ByteSource, TarIndex};
use leakscope::embedder::{ClipEmbedder, EmbedError};
use leakscope::hub::HubError;
use leakscope::hub::download::{Fetched, RetryPolicy, Target, download};
use leakscope::hub::progress::LoadProgress;
use leakscope::model::ClipConfig;
use leakscope::platform::clock::FakeClock;
use leakscope::platform::native::files::{Confined, FileError};
use leakscope::preprocess::{DecodeBudget, DecodeOptions, PreprocessConfig, prepare_bytes_in};
use leakscope::util::format::bytes_of;
use leakscope::weights::{WeightsError, check_checkpoint};
use serde_json::{Value, json};

use crate::common::*;
use crate::fuzz::http_headers::{Reply, Server};

/// An empty folder of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `leakscope <args>`, killed (and the test failed) if it runs past `limit`: a hang is a
/// failure, not a stuck CI job.
fn leakscope_within(
    args: &[&str],
    limit: Duration,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("HF_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run leakscope");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "leakscope {args:?} still ran after {} s (a hang):\n{}\n{}",
                limit.as_secs(),
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn tiny_files() -> leakscope::embedder::CheckpointFiles {
    checkpoint_files(&fixture("tiny-clip"))
}

/// A safetensors file as (header, data), and back.
fn split_safetensors(bytes: &[u8]) -> (serde_json::Map<String, Value>, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header.as_object().unwrap().clone(), bytes[8 + n..].to_vec())
}

fn join_safetensors(header: &serde_json::Map<String, Value>, data: &[u8]) -> Vec<u8> {
    let json = serde_json::to_vec(header).unwrap();
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out.extend_from_slice(data);
    out
}

fn offsets(header: &serde_json::Map<String, Value>, name: &str) -> (usize, usize) {
    let o = &header[name]["data_offsets"];
    (
        o[0].as_u64().unwrap() as usize,
        o[1].as_u64().unwrap() as usize,
    )
}

fn tiny_config() -> ClipConfig {
    ClipConfig::from_json_bytes(&tiny_files().config_json).unwrap()
}

// ---- Panics -----------------------------------------------------------------------------------

/// vocab.json ids past the model's embedding table (or at 2^31) used to reach the embedding
/// lookup (index out of bounds) or the cast to i32; the load compared entry counts only.
#[test]
fn vocab_ids_past_the_model_vocabulary_are_refused_at_load() {
    for id in [4514u64, 1 << 31, (1 << 32) - 1] {
        let mut files = tiny_files();
        let mut vocab: serde_json::Map<String, Value> =
            serde_json::from_slice(files.vocab_json.as_ref().unwrap()).unwrap();
        vocab.insert("a".into(), json!(id));
        files.vocab_json = Some(serde_json::to_vec(&vocab).unwrap());
        // Without tokenizer.json the hub mode reads the vocab.json / merges.txt pair too.
        files.tokenizer_json = None;
        let err = pollster::block_on(ClipEmbedder::load(files, &Device::flex())).unwrap_err();
        assert!(
            matches!(err, EmbedError::VocabMismatch { largest, model: 4514 } if largest == id),
            "{err}"
        );
        assert!(err.to_string().contains("ids 0 to 4513"), "{err}");
    }
    // Ids that bypass the tokenizer are checked too.
    let embedder = pollster::block_on(ClipEmbedder::load(tiny_files(), &Device::flex())).unwrap();
    let mut row = embedder.tokenize(&["a cat"])[0].clone();
    row[1] = 1 << 31;
    let err = pollster::block_on(embedder.text_embeddings_from_ids(&[row])).unwrap_err();
    assert!(
        matches!(err, EmbedError::BadTokenRow { row: 0, .. }),
        "{err}"
    );
}

// ---- Memory -----------------------------------------------------------------------------------

/// A tar member of 3 GiB used to be read with `vec![0; len]`, which aborts the process.
#[test]
fn a_3_gib_tar_member_is_refused_before_anything_is_allocated() {
    use crate::fuzz::tar::{header, octal};
    let size = 3u64 << 30;
    let head = header("imgs/0.png", octal(size), b'0', "", false);
    let zeros = vec![0u8; 1 << 20];
    let chunks = std::iter::once(&head[..])
        .chain(std::iter::repeat_n(&zeros[..], (size >> 20) as usize))
        .chain(std::iter::once(&zeros[..1024]));
    let index = TarIndex::build("imgs.tar", chunks).unwrap();
    let (_, entry) = index.iter().next().unwrap();
    assert_eq!(entry.size, size);
    // Only the header exists on "disk": the read must fail on the size, not on the data.
    let file = RefCell::new(Cursor::new(head.to_vec()));
    crate::fuzz::alloc::start_case(64 << 20);
    let err = index.read_entry(&file, entry).unwrap_err();
    let used = crate::fuzz::alloc::end_case();
    assert!(err.to_string().contains("over the 256 MiB limit"), "{err}");
    assert!(used.largest < 1 << 20, "allocated {} bytes", used.largest);
    // A reader asked for more than the file holds grows with the file, not with the request.
    crate::fuzz::alloc::start_case(64 << 20);
    assert!(file.read_at(0, 1 << 30).is_err());
    assert!(crate::fuzz::alloc::end_case().peak < 2 << 20);
}

fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn fetch(server: &Server, target: &Target, policy: &RetryPolicy) -> Result<Fetched, HubError> {
    let clock = FakeClock::new();
    clock
        .block_on(download(server, &clock, policy, target, None, &mut |_| {}))
        .map_err(|f| f.error)
}

fn target(size: Option<u64>, limit: Option<u64>) -> Target {
    Target {
        file: "model.safetensors".into(),
        url: "https://mirror.invalid/model.safetensors".into(),
        size,
        limit,
        ..Target::default()
    }
}

/// `fetch-model` kept reading a body of unknown length, or longer than announced: 1.1 GB and
/// rising, 339 MB for a listed 21 MB file.
#[test]
fn a_download_stops_at_the_listed_size_or_the_limit() {
    let endless = || Reply {
        status: 200,
        endless: true,
        ..Reply::default()
    };
    // Listed at 21,000 bytes, sent without a length and without end.
    let server = Server::new(vec![endless()]);
    let err = fetch(&server, &target(Some(21_000), None), &quick_policy()).unwrap_err();
    assert!(
        matches!(err, HubError::Length { expected: 21_000, got, .. } if got <= 21_000 + 4096),
        "{err:?}"
    );
    // Announced longer than listed: refused before the body is read.
    let mut long = endless();
    long.headers = vec![("content-length".into(), "339000000".into())];
    let server = Server::new(vec![long]);
    let err = fetch(&server, &target(Some(21_000), None), &quick_policy()).unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Length {
                got: 339_000_000,
                ..
            }
        ),
        "{err:?}"
    );
    // No listing: the limit (4 GiB by default, 64 KiB here).
    let server = Server::new(vec![endless()]);
    let err = fetch(&server, &target(None, Some(64 << 10)), &quick_policy()).unwrap_err();
    assert!(
        matches!(err, HubError::TooLarge { limit, .. } if limit == 64 << 10),
        "{err:?}"
    );
    assert!(err.to_string().contains("larger than"), "{err}");
    assert_eq!(leakscope::hub::download::MAX_DOWNLOAD_BYTES, 4 << 30);
}

/// The retry count was reset by any progress, so a server that drops every connection after a
/// few bytes was asked for ever.
#[test]
fn a_server_that_drops_every_connection_is_not_asked_forever() {
    let file: Vec<u8> = (0..20_000_000u32).map(|i| i as u8).collect();
    let dropping = |chunk: usize| {
        (0..60)
            .map(|i| Reply {
                status: if i == 0 { 200 } else { 206 },
                headers: vec![
                    ("content-length".into(), file.len().to_string()),
                    (
                        "content-range".into(),
                        format!("bytes {}-{}/{}", i * chunk, file.len() - 1, file.len()),
                    ),
                ],
                chunks: vec![file[i * chunk..(i + 1) * chunk].to_vec(), Vec::new()],
                endless: false,
            })
            .collect::<Vec<_>>()
    };
    // A few bytes a connection: gives up after the policy's tries in a row.
    let server = Server::new(dropping(10));
    let err = fetch(&server, &target(None, None), &quick_policy()).unwrap_err();
    assert!(matches!(err, HubError::Interrupted { .. }), "{err:?}");
    assert_eq!(server.requests(), RetryPolicy::default().tries);
    // Real progress on every connection: goes on, but not past max_requests.
    let server = Server::new(dropping(300 << 10));
    let err = fetch(&server, &target(None, None), &quick_policy()).unwrap_err();
    assert!(matches!(err, HubError::Interrupted { .. }), "{err:?}");
    assert_eq!(server.requests(), RetryPolicy::default().max_requests);
}

/// A PNG bomb just under the pixel limit cost 756 MB, and `leakage` decoded one image per core
/// (23 GB on 32 cores): decoding threads now share one budget of pixels in flight.
#[test]
fn parallel_decoding_holds_one_maximum_image_at_a_time() {
    // A 1-megapixel bomb: 1000 × 1000 zeros, a few kB compressed.
    let mut bomb = Vec::new();
    image::DynamicImage::new_rgb8(1000, 1000)
        .write_to(&mut Cursor::new(&mut bomb), image::ImageFormat::Png)
        .unwrap();
    assert!(bomb.len() < 20_000, "{} bytes", bomb.len());
    let cfg = PreprocessConfig::default();
    let opts = DecodeOptions {
        max_pixels: 1 << 20,
        ..DecodeOptions::default()
    };
    // Memory per decoded pixel at the peak, on one thread: what the stated limit rests on.
    let budget = DecodeBudget::new(1 << 20);
    crate::fuzz::alloc::start_case(256 << 20);
    prepare_bytes_in(&cfg, &bomb, &opts, &budget).unwrap();
    let used = crate::fuzz::alloc::end_case();
    let per_pixel = used.peak as f64 / 1e6;
    assert!(per_pixel < 16.0, "{per_pixel:.1} bytes a pixel");
    // Four threads, one budget of one image: never two in flight.
    let budget = DecodeBudget::new(1 << 20);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| prepare_bytes_in(&cfg, &bomb, &opts, &budget).unwrap());
        }
    });
    assert_eq!(budget.peak(), 1_000_000);
    assert_eq!(
        leakscope::preprocess::MAX_PIXELS_IN_FLIGHT,
        leakscope::preprocess::DEFAULT_MAX_PIXELS
    );
}

// ---- Hang, and files that are not images ------------------------------------------------------

/// The dataset of the next two tests: images that are a FIFO, a link to /dev/zero, a folder, a
/// link to a file outside the dataset, a link inside it, and a real image.
fn hostile_folder(name: &str) -> (PathBuf, PathBuf) {
    let root = scratch(name);
    let imgs = root.join("imgs");
    std::fs::create_dir_all(imgs.join("folder.png")).unwrap();
    std::fs::copy(fixture("leakage/imgs/0.png"), imgs.join("ok.png")).unwrap();
    let status = Command::new("mkfifo").arg(imgs.join("fifo.png")).status();
    assert!(status.is_ok_and(|s| s.success()), "mkfifo");
    let secret = root
        .parent()
        .unwrap()
        .join(format!("{name}-outside-secret.png"));
    std::fs::write(&secret, b"SECRET-BYTES-0123456789").unwrap();
    std::os::unix::fs::symlink("/dev/zero", imgs.join("zero.png")).unwrap();
    std::os::unix::fs::symlink(&secret, imgs.join("out.png")).unwrap();
    std::os::unix::fs::symlink("ok.png", imgs.join("inside.png")).unwrap();
    (root, secret)
}

/// An image path that was a FIFO blocked `embed` and `leakage` for ever; one that linked to
/// `/dev/zero` was read until allocation failed; a link out of `imgs/` was followed.
#[test]
fn images_that_are_fifos_devices_folders_or_links_out_are_not_read() {
    let (root, _) = hostile_folder("images-library");
    let dir = Confined::new(&root).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let dir2 = dir.clone();
    std::thread::spawn(move || {
        let results: Vec<_> = ["fifo", "zero", "folder", "out", "inside", "ok", "missing"]
            .iter()
            .map(|n| dir2.read(&format!("imgs/{n}.png"), 1 << 20))
            .collect();
        let _ = tx.send(results);
    });
    let r = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("reading the images hung");
    assert!(
        matches!(&r[0], Err(FileError::NotRegular { kind, .. }) if kind.contains("FIFO")),
        "{:?}",
        r[0]
    );
    assert!(
        matches!(&r[1], Err(FileError::Outside { .. })),
        "{:?}",
        r[1]
    );
    assert!(matches!(&r[2], Err(FileError::Directory(_))), "{:?}", r[2]);
    assert!(
        matches!(&r[3], Err(FileError::Outside { .. })),
        "{:?}",
        r[3]
    );
    assert!(r[4].is_ok() && r[5].is_ok());
    assert!(matches!(&r[6], Err(FileError::NotFound(_))), "{:?}", r[6]);
    assert!(
        matches!(
            dir.read("imgs/ok.png", 10),
            Err(FileError::TooLarge { limit: 10, .. })
        ),
        "the size limit"
    );
}

fn write_dataset(root: &Path, images: &[&str]) -> PathBuf {
    let rows: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, img)| {
            json!({"instruction_id": i, "instruction": format!("what is in picture {i}?"),
                "image_path": img, "category": "Violent", "sub_category": "Weapon",
                "source": "hostile"})
        })
        .collect();
    let path = root.join("data.json");
    std::fs::write(&path, serde_json::to_vec(&rows).unwrap()).unwrap();
    path
}

/// The same through `leakscope leakage`: it finishes, each image's reason says what it is,
/// the outside file's bytes appear nowhere, and `--images` is not the advice (it was, for a
/// FIFO or a folder).
#[test]
fn leakage_reports_what_each_unusable_image_is() {
    let (root, _) = hostile_folder("images-cli");
    let data = write_dataset(
        &root,
        &[
            "imgs/fifo.png",
            "imgs/zero.png",
            "imgs/folder.png",
            "imgs/out.png",
            "imgs/inside.png",
        ],
    );
    let out = root.join("report");
    let (data, model, out_s) = (
        data.display().to_string(),
        fixture("tiny-clip").display().to_string(),
        out.display().to_string(),
    );
    let (ok, stdout, stderr) = leakscope_within(
        &["leakage", &data, "--model", &model, "--out", &out_s],
        Duration::from_secs(300),
        &[],
    );
    assert!(ok, "{stderr}\n{stdout}");
    let scores = std::fs::read_to_string(out.join("scores.jsonl")).unwrap();
    let lines: Vec<Value> = scores
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let why = |id: &str| {
        lines
            .iter()
            .find(|l| l["id"] == id)
            .map(|l| l["image_error"].as_str().unwrap_or("").to_owned())
            .unwrap()
    };
    assert!(why("0").contains("named pipe"), "{}", why("0"));
    assert!(why("1").contains("leads outside"), "{}", why("1"));
    assert!(why("2").contains("is a folder"), "{}", why("2"));
    assert!(why("3").contains("leads outside"), "{}", why("3"));
    assert_eq!(why("4"), "", "a link inside the dataset is read");
    for text in [&scores, &stdout, &stderr] {
        assert!(
            !text.contains("SECRET") && !text.contains("53 45 43"),
            "{text}"
        );
    }
    assert!(!stdout.contains("--images DIR"), "{stdout}");
}

// ---- Wrong or silent results ------------------------------------------------------------------

/// NaN or infinite weights, `layer_norm_eps: -1` and an absurd `rescale_factor` gave NaN
/// embeddings with exit 0.
#[test]
fn non_finite_weights_and_absurd_settings_are_refused() {
    let files = tiny_files();
    let (header, data) = split_safetensors(&files.model_safetensors);
    let (start, end) = offsets(&header, "text_projection.weight");
    for (at, value) in [(0, f32::NAN), (17, f32::INFINITY)] {
        let mut edited = data.clone();
        edited[start + 4 * at..start + 4 * at + 4].copy_from_slice(&value.to_le_bytes());
        let err =
            check_checkpoint(&tiny_config(), &join_safetensors(&header, &edited)).unwrap_err();
        assert!(
            matches!(&err, WeightsError::NonFinite { tensor, index, .. }
                if tensor == "text_projection.weight" && *index == at),
            "{err}"
        );
    }
    // Finite but absurd weights that overflow in the model: the embedding is an error, not NaN.
    let mut huge = data.clone();
    for c in huge[start..end].chunks_exact_mut(4) {
        c.copy_from_slice(&1e38f32.to_le_bytes());
    }
    let mut big = tiny_files();
    big.model_safetensors = join_safetensors(&header, &huge);
    let embedder = pollster::block_on(ClipEmbedder::load(big, &Device::flex())).unwrap();
    let err = pollster::block_on(embedder.text_embeddings(&["a cat"])).unwrap_err();
    assert!(matches!(err, EmbedError::NonFinite { .. }), "{err}");

    let mut config: Value = serde_json::from_slice(&files.config_json).unwrap();
    config["text_config"]["layer_norm_eps"] = json!(-1);
    let err = ClipConfig::from_json_bytes(&serde_json::to_vec(&config).unwrap()).unwrap_err();
    assert!(err.to_string().contains("layer_norm_eps = -1"), "{err}");
    for rescale in ["1e30", "-1e300", "1e-300"] {
        let json = format!(r#"{{"rescale_factor": {rescale}, "image_std": 1e-30}}"#);
        let err = PreprocessConfig::from_json_bytes(json.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("rescale_factor"),
            "{rescale}: {err}"
        );
    }
}

fn tar_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use crate::fuzz::tar::{header, octal};
    let mut tar = Vec::new();
    for (name, data) in members {
        tar.extend(header(name, octal(data.len() as u64), b'0', "", false));
        let mut d = data.clone();
        d.resize(data.len().div_ceil(512) * 512, 0);
        tar.extend(d);
    }
    tar.extend([0u8; 1024]);
    tar
}

/// An empty `--tar` was accepted, and a rerun with the right archive still reported 0 judged
/// (the image source was not in `run.json`).
#[test]
fn an_empty_tar_is_refused_and_another_archive_is_another_run() {
    let root = scratch("tar");
    let data = write_dataset(&root, &["imgs/0.png", "imgs/1.png"]);
    let empty = root.join("empty.tar");
    std::fs::write(&empty, [0u8; 1024]).unwrap();
    let png = |i: u32| read(fixture(&format!("leakage/imgs/{i}.png")));
    let one = root.join("one.tar");
    std::fs::write(&one, tar_of(&[("imgs/0.png", png(0))])).unwrap();
    let both = root.join("both.tar");
    std::fs::write(
        &both,
        tar_of(&[("imgs/0.png", png(0)), ("imgs/1.png", png(1))]),
    )
    .unwrap();
    let out = root.join("report");
    let (data, model, out) = (
        data.display().to_string(),
        fixture("tiny-clip").display().to_string(),
        out.display().to_string(),
    );
    let run = |tar: &Path, fresh: bool| {
        let tar = tar.display().to_string();
        let mut args = vec![
            "leakage", &data, "--model", &model, "--out", &out, "--tar", &tar,
        ];
        if fresh {
            args.push("--fresh");
        }
        leakscope_within(&args, Duration::from_secs(300), &[])
    };
    let (ok, stdout, stderr) = run(&empty, false);
    assert!(
        !ok && stderr.contains("holds no files"),
        "{stderr}\n{stdout}"
    );
    let (ok, stdout, stderr) = run(&one, true);
    assert!(
        ok && stdout.contains("1 samples judged"),
        "{stderr}\n{stdout}"
    );
    let (ok, _, stderr) = run(&both, false);
    assert!(!ok, "another archive must not resume");
    assert!(stderr.contains("images from archive one.tar"), "{stderr}");
    assert!(stderr.contains("--fresh"), "{stderr}");
    let (ok, stdout, stderr) = run(&both, true);
    assert!(
        ok && stdout.contains("2 samples judged"),
        "{stderr}\n{stdout}"
    );
}

/// Deleting `run.json` let a rerun with another model adopt the old model's scores.
#[test]
fn scores_without_their_run_json_are_never_adopted() {
    let root = scratch("runjson");
    std::fs::create_dir_all(root.join("imgs")).unwrap();
    std::fs::copy(fixture("leakage/imgs/0.png"), root.join("imgs/0.png")).unwrap();
    let data = write_dataset(&root, &["imgs/0.png"]);
    let out = root.join("report");
    let (data, out) = (data.display().to_string(), out.display().to_string());
    let run = |model: &str, fresh: bool| {
        let model = fixture(model).display().to_string();
        let mut args = vec!["leakage", &data, "--model", &model, "--out", &out];
        if fresh {
            args.push("--fresh");
        }
        leakscope_within(&args, Duration::from_secs(300), &[])
    };
    let (ok, _, stderr) = run("tiny-clip", false);
    assert!(ok, "{stderr}");
    std::fs::remove_file(Path::new(&out).join("run.json")).unwrap();
    let (ok, _, stderr) = run("tiny-clip-gelu", false);
    assert!(!ok, "adopted scores without run.json");
    assert!(stderr.contains("run.json is missing"), "{stderr}");
    let (ok, _, stderr) = run("tiny-clip-gelu", true);
    assert!(ok, "{stderr}");
}

// ---- Misleading messages ----------------------------------------------------------------------

/// Every safetensors structure error blamed a truncated download (even a 2^63 header length)
/// and named the wrong tensor.
#[test]
fn safetensors_structure_errors_say_what_is_wrong_and_name_the_tensor() {
    let config = tiny_config();
    let weights = tiny_files().model_safetensors;
    let (header, data) = split_safetensors(&weights);

    let mut absurd = weights.clone();
    absurd[..8].copy_from_slice(&(1u64 << 63).to_le_bytes());
    let err = check_checkpoint(&config, &absurd).unwrap_err();
    assert!(matches!(err, WeightsError::NotSafetensors(_)), "{err}");
    assert!(
        err.to_string()
            .contains("header length of 9223372036854775808"),
        "{err}"
    );
    assert!(!err.to_string().contains("download"), "{err}");

    let err = check_checkpoint(&config, &weights[..weights.len() - 100]).unwrap_err();
    assert!(matches!(err, WeightsError::Truncated { .. }), "{err}");

    let mut longer = weights.clone();
    longer.extend([0u8; 64]);
    let err = check_checkpoint(&config, &longer).unwrap_err();
    assert!(
        matches!(err, WeightsError::TrailingBytes { extra: 64 }),
        "{err}"
    );

    // One tensor's offsets moved onto its neighbour's: that tensor is named.
    let mut by_start: Vec<(usize, String)> = header
        .keys()
        .filter(|k| *k != "__metadata__")
        .map(|k| (offsets(&header, k).0, k.clone()))
        .collect();
    by_start.sort();
    let (victim, before) = (by_start[5].1.clone(), by_start[4].1.clone());
    let mut moved = header.clone();
    let (s, e) = offsets(&header, &victim);
    moved[&victim]["data_offsets"] = json!([s - 4, e - 4]);
    let err = check_checkpoint(&config, &join_safetensors(&moved, &data)).unwrap_err();
    assert!(
        matches!(&err, WeightsError::BadEntry { tensor, why } if *tensor == victim && why.contains(&before)),
        "{err}"
    );

    let mut shape = header.clone();
    shape[&victim]["shape"] = json!([3, 3]);
    let err = check_checkpoint(&config, &join_safetensors(&shape, &data)).unwrap_err();
    assert!(
        matches!(&err, WeightsError::BadEntry { tensor, why } if *tensor == victim && why.contains("[3, 3]")),
        "{err}"
    );
    assert_eq!(leakscope::weights::MAX_HEADER_BYTES, 4 << 20);
}

/// `fetch-model` took `--token` on the command line (where `ps` shows it), checked `--sha256`
/// and `--out` only after the whole download, and gave browser CORS advice for a refused
/// connection.
#[test]
fn fetch_model_checks_its_arguments_first_and_reads_the_token_from_the_environment() {
    let root = scratch("fetch");
    let out = root.join("out").display().to_string();
    // A port that takes connections but is never answered: a request would show as one.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let repo = format!(
        "http://127.0.0.1:{}/m",
        listener.local_addr().unwrap().port()
    );
    let quick = Duration::from_secs(60);

    let (ok, _, stderr) = leakscope_within(
        &[
            "fetch-model",
            "--repo",
            &repo,
            "--out",
            &out,
            "--token",
            "hf_secret",
        ],
        quick,
        &[],
    );
    assert!(!ok && stderr.contains("HF_TOKEN"), "{stderr}");
    assert!(!stderr.contains("hf_secret"), "{stderr}");

    let bad_sha = format!("model.safetensors={}", "z".repeat(64));
    let (ok, _, stderr) = leakscope_within(
        &[
            "fetch-model",
            "--repo",
            &repo,
            "--out",
            &out,
            "--sha256",
            &bad_sha,
        ],
        quick,
        &[],
    );
    assert!(!ok && stderr.contains("hexadecimal"), "{stderr}");

    let blocker = root.join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let under_file = blocker.join("out").display().to_string();
    let (ok, _, stderr) = leakscope_within(
        &["fetch-model", "--repo", &repo, "--out", &under_file],
        quick,
        &[],
    );
    assert!(!ok && stderr.contains("--out"), "{stderr}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a request went out before the arguments were checked"
    );
    drop(listener);

    // Nothing listens any more: a refused connection, described natively.
    let (ok, _, stderr) =
        leakscope_within(&["fetch-model", "--repo", &repo, "--out", &out], quick, &[]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(!stderr.contains("Access-Control"), "{stderr}");
}

/// "21.4 MB of 21.4 MB" was printed with bytes missing.
#[test]
fn progress_never_rounds_missing_bytes_away() {
    assert_eq!(
        bytes_of(21_399_873, 21_400_000),
        "21,399,873 of 21,400,000 bytes"
    );
    assert_eq!(bytes_of(21_400_000, 21_400_000), "21.4 MB of 21.4 MB");
    assert_eq!(bytes_of(12_300_000, 21_400_000), "12.3 MB of 21.4 MB");
    let err = HubError::Interrupted {
        file: "model.safetensors".into(),
        received: 21_399_873,
        total: Some(21_400_000),
        tries: 5,
        detail: "reset".into(),
        kept: false,
    };
    assert!(
        err.to_string().contains("21,399,873 of 21,400,000 bytes"),
        "{err}"
    );
    let progress = LoadProgress {
        bytes_done: 21_399_873,
        bytes_total: 21_400_000,
        total_known: true,
        ..LoadProgress::default()
    };
    assert!(
        progress
            .to_string()
            .starts_with("21,399,873 of 21,400,000 bytes"),
        "{progress}"
    );
}

// ---- The stated limits ------------------------------------------------------------------------

/// Every memory limit the README states, one past it (and, where a value at it is cheap, at it).
#[test]
fn every_stated_limit_is_enforced() {
    use leakscope::datasets::{
        MAX_METADATA_BYTES, MAX_TAR_MEMBER_BYTES, MAX_TAR_META_BYTES, Strictness, load,
    };
    use leakscope::preprocess::{MAX_ENCODED_BYTES, PreprocessError, decode_rgb};
    use leakscope::util::deeplink::{DeepLink, MAX_HASH_BYTES};
    use leakscope::weights::MAX_HEADER_BYTES;

    // An image file: refused on its length, before anything is read (the zeros stay unmapped).
    let big = vec![0u8; MAX_ENCODED_BYTES as usize + 1];
    let err = decode_rgb(&big, &DecodeOptions::default()).unwrap_err();
    assert!(matches!(err, PreprocessError::FileTooLarge { .. }), "{err}");
    drop(big);

    // A safetensors header: one byte past the limit is not a CLIP header; at the limit, the
    // file is merely cut short.
    let config = tiny_config();
    for (n, past) in [(MAX_HEADER_BYTES + 1, true), (MAX_HEADER_BYTES, false)] {
        let mut file = n.to_le_bytes().to_vec();
        file.extend_from_slice(b"{}");
        let err = check_checkpoint(&config, &file).unwrap_err();
        assert_eq!(
            matches!(err, WeightsError::NotSafetensors(_)),
            past,
            "{n}: {err}"
        );
        assert_eq!(
            matches!(err, WeightsError::Truncated { .. }),
            !past,
            "{n}: {err}"
        );
    }

    // A tar member one byte past the limit (its data pushed as chunks, never held).
    use crate::fuzz::tar::{header, octal};
    let size = MAX_TAR_MEMBER_BYTES + 1;
    let head = header("imgs/0.png", octal(size), b'0', "", false);
    let zeros = vec![0u8; 1 << 20];
    let tail = vec![0u8; (size % (1 << 20)) as usize + 1024 + 511];
    let chunks = std::iter::once(&head[..])
        .chain(std::iter::repeat_n(&zeros[..], (size >> 20) as usize))
        .chain(std::iter::once(&tail[..]));
    let index = TarIndex::build("imgs.tar", chunks).unwrap();
    let (_, entry) = index.iter().next().unwrap();
    let err = index
        .read_entry(&RefCell::new(Cursor::new(Vec::new())), entry)
        .unwrap_err();
    assert!(err.to_string().contains("over the 256 MiB limit"), "{err}");
    // A GNU long name one byte past its limit.
    let long = header(
        "././@LongLink",
        octal(MAX_TAR_META_BYTES + 1),
        b'L',
        "",
        false,
    );
    let err = TarIndex::build("imgs.tar", [&long[..]]).unwrap_err();
    assert!(err.to_string().contains("long-name/pax header"), "{err}");

    // Dataset metadata.
    let big = vec![b' '; MAX_METADATA_BYTES as usize + 1];
    let err = load(None, "data.json", &big, Strictness::Strict).unwrap_err();
    assert!(err.to_string().contains("over the 256 MiB"), "{err}");
    drop(big);

    // A model API's answer: one without end is cut at MAX_BODY and is an error.
    use leakscope::eval::protocol::{ChatRequest, GenParams, Part};
    use leakscope::eval::provider::{HttpProvider, MAX_BODY, Provider};
    let endless = Server::new(vec![Reply {
        status: 200,
        endless: true,
        ..Reply::default()
    }]);
    let provider = HttpProvider::new(
        leakscope::eval::ApiConfig::openai_compatible("http://mock.invalid/v1", "m", "k", false),
        endless,
    );
    let request = ChatRequest {
        system: None,
        user: vec![Part::Text("ROW1".into())],
        params: GenParams::target_default(),
        schema: None,
    };
    crate::fuzz::alloc::start_case(64 << 20);
    let err = pollster::block_on(provider.send(&request)).unwrap_err();
    let used = crate::fuzz::alloc::end_case();
    assert!(
        err.message
            .contains(&format!("larger than {MAX_BODY} bytes")),
        "{}",
        err.message
    );
    assert!(used.peak < 3 * MAX_BODY, "{} bytes held", used.peak);

    // The hub's listing: an endless one is dropped at MAX_LISTING (the load goes on without it).
    let listing = Server::new(vec![Reply {
        status: 200,
        endless: true,
        ..Reply::default()
    }]);
    let clock = FakeClock::new();
    let source = leakscope::hub::ModelSource::mirror("http://hub.invalid", "o/m", "main");
    let options = leakscope::hub::LoadOptions {
        retry: quick_policy(),
        ..leakscope::hub::LoadOptions::default()
    };
    let platform = leakscope::hub::Platform {
        net: &listing,
        cache: None,
        clock: &clock,
    };
    crate::fuzz::alloc::start_case(64 << 20);
    let result = clock.block_on(leakscope::hub::load_checkpoint(
        &source,
        &options,
        platform,
        &mut |_| {},
    ));
    let used = crate::fuzz::alloc::end_case();
    assert!(result.is_err(), "nothing else was served");
    assert!(
        used.peak < 4 * leakscope::hub::load::MAX_LISTING,
        "{} bytes held",
        used.peak
    );

    // A deep link: read up to MAX_HASH_BYTES, the rest ignored.
    let hash = format!("#text={}&sample=late", "a".repeat(MAX_HASH_BYTES));
    let link = DeepLink::parse(&hash);
    assert_eq!(link.sample, None, "past the limit");
    assert_eq!(
        link.text.map(|t| t.len()),
        Some(leakscope::util::deeplink::MAX_TEXT_CHARS)
    );
}
