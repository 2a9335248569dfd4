//! Loading a model in the worker: the checkpoint from the hub (through the downloader, with its
//! cache, Range resume and checksums) or from picked files, the weights onto the device, and
//! the guard's concept embeddings — from this browser's IndexedDB when this model, head and
//! precision computed them before (on a CPU they take minutes), else computed and stored.

use crate::compute::{ComputeDevice, Precision};
use crate::embedder::{CheckpointFiles, ClipEmbedder};
use crate::leakage::guard::Guard;
use crate::leakage::head::GuardHead;
use crate::leakage::run::RunIdentity;
use crate::util::hash;
use crate::web::hub;
use crate::web::idb::Database;
use crate::web::time::now_ms;
use crate::web::url::HUB;

use super::protocol::{ModelChoice, ProgressReply, ReadyReply};

/// The loaded model with its guard head.
pub(super) struct Model {
    pub guard: Guard,
}

/// A checkpoint's files and what the load learnt about them.
struct Fetched {
    files: CheckpointFiles,
    /// Shown to the person, e.g. `openai/clip-vit-base-patch32@main`.
    name: String,
    /// Every file came from this browser's model cache.
    from_cache: bool,
    /// Warnings worth showing (not cached: storage full, …).
    notes: Vec<String>,
    /// The weights' sha256 as the download checked it; `None` for picked files.
    weights_sha256: Option<String>,
}

fn preparing(message: String) -> ProgressReply {
    ProgressReply {
        stage: "prepare".into(),
        done: 0,
        total: 1,
        rate: 0.0,
        eta_s: None,
        message,
    }
}

/// The checkpoint from the hub (or a mirror in its URL layout under `base`).
async fn from_hub(
    base: &str,
    repo: &str,
    revision: &str,
    token: Option<String>,
    progress: &dyn Fn(ProgressReply),
) -> Result<Fetched, String> {
    let input = if base.trim_end_matches('/') == HUB {
        repo.to_string()
    } else {
        format!("{}/{repo}/resolve/{revision}/", base.trim_end_matches('/'))
    };
    let source = hub::ModelSource::parse(&input, revision).map_err(|e| e.to_string())?;
    let options = hub::LoadOptions {
        token,
        ..hub::LoadOptions::default()
    };
    let loaded = hub::load_checkpoint(&source, &options, |p| {
        let (done, total) = match p.fraction() {
            Some(f) => ((f * 1000.0) as u64, 1000),
            None => (0, 0),
        };
        progress(ProgressReply {
            stage: "download".into(),
            done,
            total,
            rate: 0.0,
            eta_s: None,
            message: p.to_string(),
        });
    })
    .await
    .map_err(|e| e.to_string())?;
    let weights_sha256 = loaded
        .report
        .iter()
        .find(|r| r.file.ends_with(".safetensors"))
        .map(|r| r.sha256.clone());
    Ok(Fetched {
        from_cache: !loaded.report.is_empty() && loaded.report.iter().all(|r| r.from_cache),
        notes: loaded.warnings.iter().map(ToString::to_string).collect(),
        files: loaded.files,
        name: format!("{repo}@{revision}"),
        weights_sha256,
    })
}

/// IndexedDB key of the concept embeddings of one model with one head, computed in one
/// precision (f16 ones differ from f32 ones in the third decimal). `weights_sha256`: the
/// weights' digest as the download checked it (64 hex digits); hashed here only for picked
/// files, which nothing checked.
fn concepts_key(
    files: &CheckpointFiles,
    weights_sha256: Option<&str>,
    head: &GuardHead,
    precision: Precision,
) -> String {
    let digest = weights_sha256
        .and_then(hash::from_hex)
        .unwrap_or_else(|| hash::sha256(&files.model_safetensors));
    let mut all = digest.to_vec();
    all.extend_from_slice(&files.config_json);
    all.extend_from_slice(head.to_json().as_bytes());
    if precision != Precision::F32 {
        // f32 keys stay as they were, so caches written before f16 existed still count.
        all.extend_from_slice(precision.label().as_bytes());
    }
    format!("concepts:{}", hash::short_hash(&all))
}

/// Loads `choice` onto `device` and prepares the guard; `picked`: the files that came with a
/// [`ModelChoice::Files`] request.
pub(super) async fn load(
    device: &ComputeDevice,
    choice: ModelChoice,
    picked: Vec<web_sys::File>,
    progress: &dyn Fn(ProgressReply),
) -> Result<(Model, ReadyReply), String> {
    let fetched = match choice {
        ModelChoice::Hub {
            base,
            repo,
            revision,
            token,
        } => from_hub(&base, &repo, &revision, token, progress).await?,
        ModelChoice::Files => Fetched {
            files: hub::checkpoint_from_files(picked)
                .await
                .map_err(|e| e.to_string())?,
            name: "picked files".into(),
            from_cache: false,
            notes: Vec::new(),
            weights_sha256: None,
        },
    };
    let files = fetched.files;
    let test_model = is_test_model(&files);
    let t0 = now_ms();
    progress(preparing(format!("Preparing on {}…", device.kind)));
    let head = GuardHead::builtin();
    let key = concepts_key(
        &files,
        fetched.weights_sha256.as_deref(),
        &head,
        device.precision,
    );
    let identity = RunIdentity {
        dataset: String::new(),
        model: fetched.name.clone(),
        model_config_sha256: hash::sha256_hex(&files.config_json),
        model_weights_bytes: files.model_safetensors.len() as u64,
        head_sha256: hash::sha256_hex(head.to_json().as_bytes()),
        text_only: false,
        precision: device.precision,
        images: None,
    };
    let embedder = ClipEmbedder::load(files, &device.device)
        .await
        .map_err(|e| e.to_string())?;
    let mut notes = fetched.notes;
    let db = match Database::open().await {
        Ok(db) => Some(db),
        Err(e) => {
            notes.push(format!(
                "{e}: the concept embeddings are not kept for next time"
            ));
            None
        }
    };
    let cached = match &db {
        Some(db) => db.get_bytes(&key).await.ok().flatten(),
        None => None,
    }
    .map(|bytes| {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<f32>>()
    });
    let reused = match cached {
        Some(concepts) => Guard::with_concepts(embedder, head.clone(), concepts),
        None => Err(Box::new(embedder)),
    };
    let (guard, concepts_cached) = match reused {
        Ok(guard) => (guard, true),
        Err(embedder) => {
            progress(preparing(format!(
                "Embedding the guard's {} concept prompts (once per model)…",
                head.prompts().len()
            )));
            let guard = Guard::new(*embedder, head)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(db) = &db {
                let bytes: Vec<u8> = guard
                    .concept_embeddings()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                if let Err(e) = db.put_bytes(&key, &bytes).await {
                    notes.push(format!(
                        "{e}: the concept embeddings are not kept for next time"
                    ));
                }
            }
            (guard, false)
        }
    };
    let reply = ReadyReply {
        model: fetched.name,
        test_model,
        prepare_ms: now_ms() - t0,
        concepts_cached,
        identity,
        from_cache: fetched.from_cache,
        notes,
    };
    Ok((Model { guard }, reply))
}

/// The tiny random-weight test checkpoints (text hidden size 64 or less): their scores are noise.
fn is_test_model(files: &CheckpointFiles) -> bool {
    serde_json::from_slice::<serde_json::Value>(&files.config_json)
        .ok()
        .and_then(|c| c["text_config"]["hidden_size"].as_u64())
        .is_some_and(|h| h <= 64)
}
