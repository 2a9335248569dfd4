//! Messages between the page and the model worker. JSON text in `data.json`, plus bytes
//! (`data.bytes`, an image file) or picked files (`data.files`) where a message needs them:
//! JSON keeps the protocol readable in the browser's devtools and testable without a browser.

use serde::{Deserialize, Serialize};

use crate::compute::Precision;
use crate::datasets::Sample;
use crate::leakage::bake::ConceptSet;
use crate::leakage::guard::WordAttribution;
use crate::leakage::head::{HeadScore, LeakClass};
use crate::leakage::run::RunIdentity;
use crate::leakage::scores::ScoreLine;
use crate::preprocess::PreprocessConfig;
use crate::tokenizer::TokenizerMode;

/// Where the model comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelChoice {
    /// A Hugging Face repository (or any server in its URL layout under `base`).
    Hub {
        base: String,
        repo: String,
        revision: String,
        /// A Hugging Face access token for gated or private repositories (never stored).
        #[serde(default)]
        token: Option<String>,
    },
    /// Files the person picked or dropped (sent along as `data.files`).
    Files,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Probe WebGPU, initialise Burn once, run the smoke computation.
    Init {
        prefer_gpu: bool,
        /// What the GPU should compute in; f16 needs the adapter's shader-f16.
        #[serde(default)]
        precision: Precision,
    },
    LoadModel {
        choice: ModelChoice,
        /// The page's precomputed concept embeddings (their file comes along as `data.bytes`):
        /// used only when the loaded checkpoint and head are the ones they were baked for.
        #[serde(default)]
        baked: Option<ConceptSet>,
        /// Which tokenizer reference (the page's `?tokenizer=`; hub when absent).
        #[serde(default)]
        tokenizer: TokenizerMode,
    },
    /// Draw relevance `values` (`grid × grid`) over the image in `data.bytes`, as the demo's
    /// overlay, cropped the way `preprocess` crops: for precomputed readings, before (or
    /// without) a loaded model.
    Overlay {
        values: Vec<f32>,
        grid: u32,
        preprocess: PreprocessConfig,
    },
    /// Decode, preprocess and embed the image in `data.bytes`; it stays the current image.
    SetImage,
    /// Forget the current image.
    ClearImage,
    /// J(T), and with the current image the image alone and J(T, I).
    Score { text: String },
    /// Leave-one-word-out attribution of J(T).
    Attribute { text: String },
    /// Where in the current image the text's top harm concept shows (patch grid).
    Relevance { text: String },
    /// Score a batch of dataset samples; the images of those with `has_image` come along as
    /// blobs, in order.
    ScoreSamples {
        samples: Vec<Sample>,
        has_image: Vec<bool>,
    },
}

/// One message from the worker; `id` names the request it answers (0: unsolicited).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub id: u32,
    pub body: T,
}

/// The device the worker computes on (answers `Init`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceReply {
    /// "webgpu" or "flex".
    pub backend: String,
    /// The badge text, e.g. "WebGPU · google swiftshader".
    pub describe: String,
    /// Why the CPU runs, when it does.
    pub note: Option<String>,
    /// What the device computes in.
    #[serde(default)]
    pub precision: Precision,
    /// Why it is f32 when f16 was asked for.
    #[serde(default)]
    pub precision_note: Option<String>,
    /// The 2×2 smoke product.
    pub smoke: Vec<f32>,
}

/// A loaded model (answers `LoadModel`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadyReply {
    pub model: String,
    /// The tiny random-weight fixture: scores mean nothing.
    pub test_model: bool,
    /// Download excluded: weights to device plus concept embeddings.
    pub prepare_ms: f64,
    /// Concept embeddings came from this browser's cache.
    pub concepts_cached: bool,
    /// Where the concept embeddings came from.
    pub concepts: ConceptSource,
    /// What scores from this model, head and precision are filed under (dataset mode).
    pub identity: RunIdentity,
    /// Every file came from this browser's model cache (no download).
    pub from_cache: bool,
    /// Warnings worth showing (e.g. not cached: storage full).
    pub notes: Vec<String>,
    /// The tokenizer mode that scores with this model.
    pub tokenizer: TokenizerMode,
}

/// Where a loaded guard's concept embeddings came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptSource {
    /// The page's precomputed bundle (`leakscope bake`) for this checkpoint and head.
    Baked,
    /// This browser's IndexedDB, from an earlier visit.
    Cached,
    /// The concept prompts ran through the text tower now.
    Computed,
}

impl ConceptSource {
    pub fn label(self) -> &'static str {
        match self {
            ConceptSource::Baked => "baked",
            ConceptSource::Cached => "cached",
            ConceptSource::Computed => "computed",
        }
    }
}

/// A drawn overlay (answers `Overlay`); its RGBA comes along as `data.bytes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverlayReply {
    pub width: u32,
    pub height: u32,
}

/// The text tower is in (text first): text scores and word attribution work; the final
/// [`ReadyReply`] (or an error) follows when the image tower is. Sent with the `LoadModel`
/// request's id before its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextReadyReply {
    pub model: String,
    /// The tiny random-weight fixture: scores mean nothing.
    pub test_model: bool,
    /// Text tower to device plus concept embeddings.
    pub prepare_ms: f64,
    /// Where the concept embeddings came from.
    pub concepts: ConceptSource,
    /// The tokenizer mode that scores with this model.
    pub tokenizer: TokenizerMode,
}

/// The current image, decoded and embedded (answers `SetImage`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageReply {
    pub width: u32,
    pub height: u32,
    /// Side of the square model input the image was resized and cropped to.
    pub input_size: u32,
    pub ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreReply {
    pub text: HeadScore,
    pub image: Option<HeadScore>,
    pub pair: Option<HeadScore>,
    pub class: LeakClass,
    pub label: String,
    pub explanation: String,
    /// Time spent in the worker for this score.
    pub ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributionReply {
    pub words: Vec<WordAttribution>,
    pub ms: f64,
}

/// Where the text's top harm concept shows in the current image; the overlay comes along as
/// RGBA bytes (`data.bytes`, `width × height × 4`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelevanceReply {
    /// Row-major `grid × grid` cosines.
    pub values: Vec<f32>,
    pub grid: u32,
    /// The concept whose relevance is drawn.
    pub concept: String,
    /// Size of the overlay image.
    pub width: u32,
    pub height: u32,
    pub ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleScoresReply {
    pub lines: Vec<ScoreLine>,
    pub ms: f64,
}

/// Model download / preparation progress, on the way to a `LoadModel` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressReply {
    pub stage: String,
    pub done: u64,
    pub total: u64,
    /// Bytes per second.
    pub rate: f64,
    pub eta_s: Option<f64>,
    pub message: String,
    /// A text-first download: the text and image towers' bytes.
    #[serde(default)]
    pub towers: Option<TowersReply>,
}

/// The two parts of a text-first download (see `crate::hub::TowerProgress`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TowersReply {
    pub text_done: u64,
    pub text_total: u64,
    pub vision_done: u64,
    pub vision_total: u64,
    /// Seconds until the text tower is in.
    pub text_eta_s: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Device(DeviceReply),
    Progress(ProgressReply),
    TextReady(TextReadyReply),
    Ready(ReadyReply),
    SampleScores(SampleScoresReply),
    ImageReady(ImageReply),
    Scores(Box<ScoreReply>),
    Attribution(AttributionReply),
    Relevance(RelevanceReply),
    Overlay(OverlayReply),
    /// A queued request replaced by a newer one of the same kind before it started.
    Superseded,
    Done,
    Error {
        message: String,
    },
}

impl Response {
    /// The variant's name, for messages about an answer of the wrong kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Response::Device(_) => "device",
            Response::Progress(_) => "progress",
            Response::TextReady(_) => "text_ready",
            Response::Ready(_) => "ready",
            Response::SampleScores(_) => "sample_scores",
            Response::ImageReady(_) => "image_ready",
            Response::Scores(_) => "scores",
            Response::Attribution(_) => "attribution",
            Response::Relevance(_) => "relevance",
            Response::Overlay(_) => "overlay",
            Response::Superseded => "superseded",
            Response::Done => "done",
            Response::Error { .. } => "error",
        }
    }
}
