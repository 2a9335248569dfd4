//! Loading a model in the worker: the checkpoint from the hub (through the downloader, with its
//! cache, Range resume and checksums) or from picked files, the weights onto the device, and
//! the guard's concept embeddings — the page's precomputed ones when they were baked for this
//! checkpoint and head, else from this browser's IndexedDB when this model, head and precision
//! computed them before (on a CPU they take minutes), else computed and stored.
//!
//! From the hub the weights come text tower first ([`crate::hub::towers`]): as soon as the
//! text tower is in, it goes onto the device and the concept embeddings (which need only the
//! text tower) are taken from the page's bundle or IndexedDB (when the weights' sha256 is known
//! up front, from the hub's listing) or computed while the image tower downloads
//! ([`Loaded::TextFirst`]);
//! the image tower is added when the whole file is in and checked. Concept embeddings are
//! stored only then, under the checked weights' sha256.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_util::future::{Either, LocalBoxFuture, poll_fn, select};

use crate::compute::{ComputeDevice, Precision};
use crate::embedder::{CheckpointFiles, ClipEmbedder};
use crate::leakage::guard::Guard;
use crate::leakage::head::GuardHead;
use crate::leakage::run::RunIdentity;
use crate::util::hash;
use crate::web::hub::{self, TextPart};
use crate::web::idb::Database;
use crate::web::time::now_ms;
use crate::web::url::HUB;

use super::protocol::{
    ConceptSource, ModelChoice, ProgressReply, ReadyReply, TextReadyReply, TowersReply,
};
use crate::leakage::bake::ConceptSet;
use crate::tokenizer::TokenizerMode;

/// The loaded model with its guard head.
pub(super) struct Model {
    pub guard: Guard,
}

/// What a load gave.
pub(super) enum Loaded {
    /// The whole model.
    Ready(Box<Model>, ReadyReply),
    /// Text first: the text tower is in (scores of text work); `rest` adds the image tower
    /// once the whole checkpoint is in and checked.
    TextFirst {
        model: Rc<Model>,
        reply: TextReadyReply,
        rest: LocalBoxFuture<'static, Result<(Model, ReadyReply), String>>,
    },
}

/// The whole load's download: the loader's future, or its result when it is already done.
type Download = LocalBoxFuture<'static, Result<hub::Loaded, hub::HubError>>;

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
    /// Text first: the download started over after the text part was handed over.
    stale_text: bool,
}

fn preparing(message: String) -> ProgressReply {
    ProgressReply {
        stage: "prepare".into(),
        done: 0,
        total: 1,
        rate: 0.0,
        eta_s: None,
        message,
        towers: None,
    }
}

/// The download's progress as the page shows it.
fn download_progress(p: &hub::LoadProgress) -> ProgressReply {
    let (done, total) = match p.fraction() {
        Some(f) => ((f * 1000.0) as u64, 1000),
        None => (0, 0),
    };
    ProgressReply {
        stage: "download".into(),
        done,
        total,
        rate: 0.0,
        eta_s: None,
        message: p.to_string(),
        towers: p.towers.map(|t| TowersReply {
            text_done: t.text_done,
            text_total: t.text_total,
            vision_done: t.vision_done,
            vision_total: t.vision_total,
            text_eta_s: t.text_eta.map(|d| d.as_secs_f64()),
        }),
    }
}

/// The text part, from the loader's callback to the load waiting for it.
#[derive(Clone, Default)]
struct Slot(Rc<RefCell<(Option<TextPart>, Option<Waker>)>>);

impl Slot {
    fn put(&self, part: TextPart) {
        let waker = {
            let mut slot = self.0.borrow_mut();
            slot.0 = Some(part);
            slot.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    async fn take(&self) -> TextPart {
        poll_fn(|cx| {
            let mut slot = self.0.borrow_mut();
            match slot.0.take() {
                Some(part) => Poll::Ready(part),
                None => {
                    slot.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// The checkpoint from the hub (or a mirror in its URL layout under `base`), text tower first.
async fn from_hub(
    device: &ComputeDevice,
    base: &str,
    repo: &str,
    revision: &str,
    token: Option<String>,
    concepts: Concepts,
    progress: Rc<dyn Fn(ProgressReply)>,
) -> Result<Loaded, String> {
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
    let name = format!("{repo}@{revision}");
    let slot = Slot::default();
    let download: Download = {
        let (slot, progress) = (slot.clone(), progress.clone());
        Box::pin(async move {
            let on_progress = |p: &hub::LoadProgress| progress(download_progress(p));
            hub::load_checkpoint_text_first(&source, &options, on_progress, |part| slot.put(part))
                .await
        })
    };
    let (part, download) = match select(download, Box::pin(slot.take())).await {
        // Done without a text part (from the cache) or before it was taken: the whole model.
        Either::Left((loaded, _)) => {
            let fetched = fetched(loaded.map_err(|e| e.to_string())?, name);
            let (model, reply) = Box::pin(prepare(device, fetched, concepts, &*progress)).await?;
            return Ok(Loaded::Ready(Box::new(model), reply));
        }
        Either::Right(pair) => pair,
    };
    // The text tower onto the device and the concept embeddings, while the download goes on.
    let tokenizer = concepts.tokenizer;
    let phase_one = Box::pin(prepare_text(
        device,
        part,
        &name,
        concepts.clone(),
        &*progress,
    ));
    let (text, download): (_, Download) = match select(phase_one, download).await {
        Either::Left((text, download)) => (text, download),
        // The download failed while the text tower was being prepared: no text ready.
        Either::Right((Err(e), _)) => return Err(e.to_string()),
        Either::Right((loaded, phase_one)) => (
            phase_one.await,
            Box::pin(futures_util::future::ready(loaded)),
        ),
    };
    let text = match text {
        Ok(text) => text,
        // The text tower alone did not load: loading the whole checkpoint says what is wrong.
        Err(_) => {
            let fetched = fetched(download.await.map_err(|e| e.to_string())?, name);
            let (model, reply) = Box::pin(prepare(device, fetched, concepts, &*progress)).await?;
            return Ok(Loaded::Ready(Box::new(model), reply));
        }
    };
    let model = Rc::new(Model { guard: text.guard });
    let reply = TextReadyReply {
        model: name.clone(),
        test_model: text.test_model,
        prepare_ms: text.prepare_ms,
        concepts: text.concepts,
        tokenizer,
    };
    let rest = {
        let (model, device) = (model.clone(), device.clone());
        let phase_one = PhaseOne {
            concepts: text.concepts,
            // Not checked yet (no sha256 up front): the whole file's sha256 decides.
            offer: if text.baked_checked {
                None
            } else {
                concepts.baked
            },
            prepare_ms: text.prepare_ms,
            test_model: text.test_model,
            notes: text.notes,
            tokenizer,
        };
        Box::pin(async move {
            let loaded = download.await.map_err(|e| e.to_string())?;
            Box::pin(add_vision(
                &device, &model, phase_one, loaded, name, &*progress,
            ))
            .await
        })
    };
    Ok(Loaded::TextFirst { model, reply, rest })
}

/// A whole load's result as the worker uses it.
fn fetched(loaded: hub::Loaded, name: String) -> Fetched {
    let weights_sha256 = loaded
        .report
        .iter()
        .find(|r| r.file.ends_with(".safetensors"))
        .map(|r| r.sha256.clone());
    Fetched {
        from_cache: !loaded.report.is_empty() && loaded.report.iter().all(|r| r.from_cache),
        notes: loaded.warnings.iter().map(ToString::to_string).collect(),
        stale_text: loaded.text_first.stale,
        files: loaded.files,
        name,
        weights_sha256,
    }
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
    tokenizer: TokenizerMode,
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
    if tokenizer != TokenizerMode::Hub {
        // Hub keys stay as they were: the head's prompts are ASCII, where hub ids equal the
        // earlier tokenizer's.
        all.extend_from_slice(tokenizer.as_str().as_bytes());
    }
    format!("concepts:{}", hash::short_hash(&all))
}

/// The page's precomputed concept set and its file, when the page has one.
type Offer = Option<(ConceptSet, Vec<u8>)>;

/// The page's precomputed concept embeddings for `embedder` and `head`, if they were baked for
/// this very checkpoint (`weights_sha256`) and head; else why not (the embedder comes back).
fn baked_guard(
    embedder: ClipEmbedder,
    head: &GuardHead,
    weights_sha256: &str,
    offer: Offer,
) -> Result<Guard, (Box<ClipEmbedder>, Option<String>)> {
    let Some((set, bytes)) = offer else {
        return Err((Box::new(embedder), None));
    };
    let mode = embedder.tokenizer.mode();
    let concepts = set
        .check_with(Some(weights_sha256), &head.to_json(), mode)
        .and_then(|()| set.concepts_from(&bytes));
    match concepts {
        Ok(concepts) => Guard::with_concepts(embedder, head.clone(), concepts).map_err(|e| {
            let why = "the precomputed concept embeddings do not fit this model".to_owned();
            (e, Some(why))
        }),
        Err(why) => Err((Box::new(embedder), Some(why.to_string()))),
    }
}

/// What a `LoadModel` request asks for.
pub(super) struct Load {
    pub choice: ModelChoice,
    /// The files that came with a [`ModelChoice::Files`] request.
    pub picked: Vec<web_sys::File>,
    /// The page's precomputed concept set and its file.
    pub baked: Offer,
    pub tokenizer: TokenizerMode,
}

/// How the guard's concept embeddings are asked for: the page's precomputed set (if any) and
/// the tokenizer mode the model scores with.
#[derive(Clone)]
struct Concepts {
    baked: Offer,
    tokenizer: TokenizerMode,
}

/// Loads a model onto `device` and prepares the guard. From the hub, the text tower first.
pub(super) async fn load(
    device: &ComputeDevice,
    load: Load,
    progress: Rc<dyn Fn(ProgressReply)>,
) -> Result<Loaded, String> {
    let Load {
        choice,
        picked,
        baked,
        tokenizer,
    } = load;
    let concepts = Concepts { baked, tokenizer };
    let fetched = match choice {
        ModelChoice::Hub {
            base,
            repo,
            revision,
            token,
        } => {
            let hub = from_hub(device, &base, &repo, &revision, token, concepts, progress);
            return Box::pin(hub).await;
        }
        ModelChoice::Files => Fetched {
            files: hub::checkpoint_from_files(picked)
                .await
                .map_err(|e| e.to_string())?,
            name: "picked files".into(),
            from_cache: false,
            notes: Vec::new(),
            weights_sha256: None,
            stale_text: false,
        },
    };
    let (model, reply) = Box::pin(prepare(device, fetched, concepts, &*progress)).await?;
    Ok(Loaded::Ready(Box::new(model), reply))
}

/// The weights' sha256 (the download's, or hashed here once for picked files), the concept
/// embeddings' IndexedDB key ([`concepts_key`]) and what the scores of this model, head,
/// precision and tokenizer are filed under.
fn keys(
    fetched: &Fetched,
    head: &GuardHead,
    precision: Precision,
    tokenizer: TokenizerMode,
) -> (String, String, RunIdentity) {
    let files = &fetched.files;
    let weights_sha256 = fetched
        .weights_sha256
        .clone()
        .unwrap_or_else(|| hash::sha256_hex(&files.model_safetensors));
    let key = concepts_key(files, Some(&weights_sha256), head, precision, tokenizer);
    let identity = RunIdentity {
        dataset: String::new(),
        model: fetched.name.clone(),
        model_config_sha256: hash::sha256_hex(&files.config_json),
        model_weights_bytes: files.model_safetensors.len() as u64,
        head_sha256: hash::sha256_hex(head.to_json().as_bytes()),
        text_only: false,
        precision,
        tokenizer: Some(tokenizer),
        images: None,
    };
    (weights_sha256, key, identity)
}

/// The answer to a load whose preparation (not download) took `prepare_ms`.
fn ready(
    model: String,
    test_model: bool,
    prepare_ms: f64,
    concepts: ConceptSource,
    identity: RunIdentity,
    from_cache: bool,
    notes: Vec<String>,
) -> ReadyReply {
    ReadyReply {
        model,
        test_model,
        prepare_ms,
        concepts_cached: concepts == ConceptSource::Cached,
        concepts,
        tokenizer: identity.tokenizer.unwrap_or_default(),
        identity,
        from_cache,
        notes,
    }
}

/// The whole checkpoint onto the device and the guard ready.
async fn prepare(
    device: &ComputeDevice,
    fetched: Fetched,
    concepts: Concepts,
    progress: &dyn Fn(ProgressReply),
) -> Result<(Model, ReadyReply), String> {
    let test_model = is_test_model(&fetched.files);
    let t0 = now_ms();
    progress(preparing(format!("Preparing on {}…", device.kind)));
    let head = GuardHead::builtin();
    let tokenizer = concepts.tokenizer;
    let (weights_sha256, key, identity) = keys(&fetched, &head, device.precision, tokenizer);
    let embedder = Box::pin(ClipEmbedder::load_with_tokenizer(
        fetched.files,
        &device.device,
        tokenizer,
    ))
    .await
    .map_err(|e| e.to_string())?;
    let mut notes = fetched.notes;
    let sources = Sources {
        baked: Some((weights_sha256.as_str(), concepts.baked)),
        key: Some(&key),
    };
    let (guard, source, db) =
        Box::pin(guard_for(embedder, head, sources, &mut notes, progress)).await?;
    if source == ConceptSource::Computed
        && let Some(db) = &db
    {
        store_concepts(db, &key, &guard, &mut notes).await;
    }
    let reply = ready(
        fetched.name,
        test_model,
        now_ms() - t0,
        source,
        identity,
        fetched.from_cache,
        notes,
    );
    Ok((Model { guard }, reply))
}

/// Phase one of a text-first load: the text tower and the guard.
struct TextTower {
    guard: Guard,
    concepts: ConceptSource,
    /// The weights' sha256 was known up front: the page's precomputed set was checked.
    baked_checked: bool,
    prepare_ms: f64,
    test_model: bool,
    notes: Vec<String>,
}

/// What phase two needs to know of phase one.
struct PhaseOne {
    concepts: ConceptSource,
    /// The page's precomputed set, when phase one could not check it.
    offer: Offer,
    prepare_ms: f64,
    test_model: bool,
    notes: Vec<String>,
    tokenizer: TokenizerMode,
}

/// The text part onto the device and the guard's concept embeddings: when the weights'
/// expected sha256 is known, the page's precomputed ones baked for them or the ones IndexedDB
/// keeps for them; else computed (and stored only once the whole file passed its check,
/// [`add_vision`]).
async fn prepare_text(
    device: &ComputeDevice,
    part: TextPart,
    name: &str,
    concepts: Concepts,
    progress: &dyn Fn(ProgressReply),
) -> Result<TextTower, String> {
    let t0 = now_ms();
    progress(preparing(format!(
        "Text tower in: preparing {name} on {}…",
        device.kind
    )));
    let test_model = is_test_model(&part.files);
    let head = GuardHead::builtin();
    let tokenizer = concepts.tokenizer;
    let expected = part.weights_sha256.clone();
    let key = expected
        .as_deref()
        .map(|sha| concepts_key(&part.files, Some(sha), &head, device.precision, tokenizer));
    let embedder = Box::pin(ClipEmbedder::load_text_tower(
        part.files,
        &device.device,
        tokenizer,
    ))
    .await
    .map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    let sources = Sources {
        baked: expected.as_deref().map(|sha| (sha, concepts.baked)),
        key: key.as_deref(),
    };
    let (guard, concepts, _) =
        Box::pin(guard_for(embedder, head, sources, &mut notes, progress)).await?;
    Ok(TextTower {
        guard,
        concepts,
        baked_checked: expected.is_some(),
        prepare_ms: now_ms() - t0,
        test_model,
        notes,
    })
}

/// Phase two of a text-first load: the whole checkpoint is in and checked; the image tower
/// joins the text tower (or, when the download started over after the text part, the whole
/// model loads again).
async fn add_vision(
    device: &ComputeDevice,
    text: &Model,
    phase_one: PhaseOne,
    loaded: hub::Loaded,
    name: String,
    progress: &dyn Fn(ProgressReply),
) -> Result<(Model, ReadyReply), String> {
    let fetched = fetched(loaded, name);
    if fetched.stale_text {
        let concepts = Concepts {
            baked: None,
            tokenizer: phase_one.tokenizer,
        };
        return Box::pin(prepare(device, fetched, concepts, progress)).await;
    }
    let t0 = now_ms();
    progress(preparing(format!(
        "Image tower in: preparing on {}…",
        device.kind
    )));
    let (weights_sha256, key, identity) = keys(
        &fetched,
        &text.guard.head,
        device.precision,
        phase_one.tokenizer,
    );
    let mut guard = text
        .guard
        .with_vision_tower(fetched.files.model_safetensors)
        .map_err(|e| e.to_string())?;
    let mut notes = fetched.notes;
    notes.extend(phase_one.notes);
    let mut concepts = phase_one.concepts;
    if phase_one.offer.is_some() {
        // The whole file's sha256 is known now: the page's precomputed set, if it is theirs.
        let (head, computed) = (guard.head.clone(), guard.concept_embeddings().to_vec());
        guard = match baked_guard(guard.embedder, &head, &weights_sha256, phase_one.offer) {
            Ok(baked) => {
                concepts = ConceptSource::Baked;
                baked
            }
            Err((embedder, why)) => {
                notes.extend(why.map(|why| format!("Precomputed results not used: {why}.")));
                Guard::with_concepts(*embedder, head, computed)
                    .map_err(|_| "the concept embeddings no longer fit the model".to_string())?
            }
        };
    }
    if concepts == ConceptSource::Computed
        && let Some(db) = open_db(&mut notes).await
    {
        store_concepts(&db, &key, &guard, &mut notes).await;
    }
    let reply = ready(
        fetched.name,
        phase_one.test_model,
        phase_one.prepare_ms + now_ms() - t0,
        concepts,
        identity,
        fetched.from_cache,
        notes,
    );
    Ok((Model { guard }, reply))
}

/// This browser's IndexedDB, or a note why the concept embeddings are not kept.
async fn open_db(notes: &mut Vec<String>) -> Option<Database> {
    match Database::open().await {
        Ok(db) => Some(db),
        Err(e) => {
            notes.push(format!(
                "{e}: the concept embeddings are not kept for next time"
            ));
            None
        }
    }
}

/// Where a guard's concept embeddings may come from, best first.
struct Sources<'a> {
    /// The page's precomputed set, used only when baked for this sha256 of the weights.
    baked: Option<(&'a str, Offer)>,
    /// This browser's IndexedDB under this key.
    key: Option<&'a str>,
}

/// The guard with its concept embeddings, from the first of `sources` that has them, else
/// computed; where they came from, and IndexedDB when it was opened (to store computed ones).
async fn guard_for(
    embedder: ClipEmbedder,
    head: GuardHead,
    sources: Sources<'_>,
    notes: &mut Vec<String>,
    progress: &dyn Fn(ProgressReply),
) -> Result<(Guard, ConceptSource, Option<Database>), String> {
    let embedder = match sources.baked {
        Some((sha, offer)) => match baked_guard(embedder, &head, sha, offer) {
            Ok(guard) => return Ok((guard, ConceptSource::Baked, None)),
            Err((embedder, why)) => {
                if let Some(why) = why {
                    notes.push(format!("Precomputed results not used: {why}."));
                }
                *embedder
            }
        },
        None => embedder,
    };
    let db = match sources.key {
        Some(_) => open_db(notes).await,
        None => None,
    };
    let cached = match (&db, sources.key) {
        (Some(db), Some(key)) => db.get_bytes(key).await.ok().flatten(),
        _ => None,
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
    match reused {
        Ok(guard) => Ok((guard, ConceptSource::Cached, db)),
        Err(embedder) => {
            progress(preparing(format!(
                "Embedding the guard's {} concept prompts (once per model)…",
                head.prompts().len()
            )));
            let guard = Guard::new(*embedder, head)
                .await
                .map_err(|e| e.to_string())?;
            Ok((guard, ConceptSource::Computed, db))
        }
    }
}

/// Keeps the guard's concept embeddings for the next load of this model.
async fn store_concepts(db: &Database, key: &str, guard: &Guard, notes: &mut Vec<String>) {
    let bytes: Vec<u8> = guard
        .concept_embeddings()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    if let Err(e) = db.put_bytes(key, &bytes).await {
        notes.push(format!(
            "{e}: the concept embeddings are not kept for next time"
        ));
    }
}

/// The tiny random-weight test checkpoints (text hidden size 64 or less): their scores are noise.
fn is_test_model(files: &CheckpointFiles) -> bool {
    serde_json::from_slice::<serde_json::Value>(&files.config_json)
        .ok()
        .and_then(|c| c["text_config"]["hidden_size"].as_u64())
        .is_some_and(|h| h <= 64)
}
