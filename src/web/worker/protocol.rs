//! Messages between the page and the model worker. JSON text in `data.json`, plus bytes
//! (`data.bytes`, an image file) or picked files (`data.files`) where a message needs them:
//! JSON keeps the protocol readable in the browser's devtools and testable without a browser.

use serde::{Deserialize, Serialize};

use crate::compute::Precision;
use crate::datasets::Sample;
use crate::leakage::guard::WordAttribution;
use crate::leakage::head::{HeadScore, LeakClass};
use crate::leakage::scores::ScoreLine;
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
        /// Which tokenizer reference (the page's `?tokenizer=`; hub when absent).
        #[serde(default)]
        tokenizer: TokenizerMode,
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
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Device {
        /// "webgpu" or "flex".
        backend: String,
        /// The badge text, e.g. "WebGPU · google swiftshader".
        describe: String,
        /// Why the CPU runs, when it does.
        note: Option<String>,
        /// What the device computes in.
        #[serde(default)]
        precision: Precision,
        /// Why it is f32 when f16 was asked for.
        #[serde(default)]
        precision_note: Option<String>,
        /// The 2×2 smoke product.
        smoke: Vec<f32>,
    },
    /// Model download / preparation progress (answers a `LoadModel`).
    Progress {
        stage: String,
        done: u64,
        total: u64,
        /// Bytes per second.
        rate: f64,
        eta_s: Option<f64>,
        message: String,
    },
    Ready {
        model: String,
        /// The tiny random-weight fixture: scores mean nothing.
        test_model: bool,
        /// Download excluded: weights to device plus concept embeddings.
        prepare_ms: f64,
        /// Concept embeddings came from this browser's cache.
        concepts_cached: bool,
        /// Identifies the model and guard head (stored dataset scores are kept under it).
        model_key: String,
        /// Every file came from this browser's model cache (no download).
        from_cache: bool,
        /// Warnings worth showing (e.g. not cached: storage full).
        notes: Vec<String>,
        /// The tokenizer mode that scores with this model.
        #[serde(default)]
        tokenizer: TokenizerMode,
    },
    SampleScores {
        lines: Vec<ScoreLine>,
        ms: f64,
    },
    ImageReady {
        width: u32,
        height: u32,
        /// Side of the square model input the image was resized and cropped to.
        input_size: u32,
        ms: f64,
    },
    Scores(Box<ScoreReply>),
    Attribution {
        words: Vec<WordAttribution>,
        ms: f64,
    },
    Relevance {
        /// Row-major `grid × grid` cosines.
        values: Vec<f32>,
        grid: u32,
        /// The concept whose relevance is drawn.
        concept: String,
        /// Size of the overlay image sent along as RGBA bytes.
        width: u32,
        height: u32,
        ms: f64,
    },
    /// A queued request replaced by a newer one of the same kind before it started.
    Superseded,
    Done,
    Error {
        message: String,
    },
}
