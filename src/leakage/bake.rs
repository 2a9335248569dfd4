//! Results computed ahead of time for the page (`leakscope bake`): for one checkpoint (named by
//! its weights' sha256) and one guard head (by its JSON's sha256), the concept embeddings in
//! f16 and, for every gallery sample, what the demo shows — J(T), the image alone, J(T, I), the
//! word attribution and the relevance map. The page shows them before any weight arrives, and
//! when the model it loads is the same checkpoint with the same head, it takes the baked concept
//! embeddings instead of running the concept prompts through the text tower.
//!
//! The gallery results are computed with the concepts as the page will read them back (rounded
//! to f16), so a live score from the baked concepts equals the baked one. A bundle whose model,
//! head, concept file or version does not match is ignored with the reason
//! ([`Bundle::check`]), never trusted.

use serde::{Deserialize, Serialize};

use super::guard::{Guard, GuardError, SampleScore, WordAttribution};
use super::head::GuardHead;
use crate::embedder::ClipEmbedder;
use crate::preprocess::{PixelTensor, PreprocessConfig};
use crate::tokenizer::TokenizerMode;
use crate::util::hash::sha256_hex;

/// The bundle layout; a page reads only bundles of its own version.
pub const BUNDLE_VERSION: u32 = 1;
/// The manifest's and the concept file's names in the bundle's folder.
pub const MANIFEST: &str = "manifest.json";
pub const CONCEPTS_FILE: &str = "concepts.f16";

/// Which checkpoint the bundle was baked from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BakedModel {
    /// Hugging Face repository (or a name for people) and revision.
    pub repo: String,
    pub revision: String,
    /// sha256 of `model.safetensors`: the identity a load is compared with.
    pub weights_sha256: String,
    pub config_sha256: String,
}

/// The concept embeddings' file: `rows × dim` little-endian f16, row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BakedConcepts {
    pub file: String,
    pub rows: usize,
    pub dim: usize,
    pub sha256: String,
}

/// Where in the image the sample's top harm concept shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relevance {
    /// Row-major `grid × grid` cosines.
    pub values: Vec<f32>,
    pub grid: u32,
    /// The concept drawn.
    pub concept: String,
}

/// Everything the demo shows for one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub score: SampleScore,
    pub words: Vec<WordAttribution>,
    /// With an image only.
    pub relevance: Option<Relevance>,
}

/// One gallery sample's baked reading, with the text it was computed for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BakedSample {
    pub id: String,
    pub text: String,
    pub reading: Reading,
}

/// What a model load needs of a bundle: whose concepts these are, and their file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConceptSet {
    pub version: u32,
    pub model: BakedModel,
    pub head_sha256: String,
    /// The tokenizer mode the concept prompts were tokenized in.
    #[serde(default)]
    pub tokenizer: TokenizerMode,
    pub concepts: BakedConcepts,
}

/// `manifest.json` of a bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(flatten)]
    pub set: ConceptSet,
    /// The checkpoint's image preprocessing (the page draws the baked overlays with it before
    /// the checkpoint is loaded).
    pub preprocess: PreprocessConfig,
    pub samples: Vec<BakedSample>,
    /// The leakscope version that baked it.
    pub baked_with: String,
}

/// Why a bundle is not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("the precomputed results are of layout {found}, this page reads {BUNDLE_VERSION}")]
    Version { found: u32 },
    #[error("the precomputed results are for another checkpoint ({repo}, sha256 {short}…)")]
    OtherModel { repo: String, short: String },
    #[error("the precomputed results are for another guard head")]
    OtherHead,
    #[error("the precomputed results were tokenized in {baked} mode, this model in {now}")]
    OtherTokenizer {
        baked: TokenizerMode,
        now: TokenizerMode,
    },
    #[error("the precomputed concept file is damaged or incomplete ({0})")]
    Concepts(String),
    #[error("the precomputed results cannot be read: {0}")]
    Unreadable(String),
}

/// f32 → f16 (round to nearest even) → f32: what a value becomes after a trip through the
/// concept file.
pub fn round_f16(value: f32) -> f32 {
    half::f16::from_f32(value).to_f32()
}

fn to_f16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect()
}

impl Bundle {
    /// Parses a manifest.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        serde_json::from_slice(bytes).map_err(|e| BundleError::Unreadable(e.to_string()))
    }

    /// The baked reading of gallery sample `id`, if it was baked for exactly `text`.
    pub fn reading(&self, id: &str, text: &str) -> Option<&Reading> {
        self.samples
            .iter()
            .find(|s| s.id == id && s.text == text)
            .map(|s| &s.reading)
    }
}

impl ConceptSet {
    /// Whether this bundle belongs to the checkpoint with weights `weights_sha256` (when known)
    /// and the head with JSON `head_json`.
    pub fn check(&self, weights_sha256: Option<&str>, head_json: &str) -> Result<(), BundleError> {
        self.check_with(weights_sha256, head_json, self.tokenizer)
    }

    /// [`Self::check`] for a model that tokenizes in `tokenizer` mode.
    pub fn check_with(
        &self,
        weights_sha256: Option<&str>,
        head_json: &str,
        tokenizer: TokenizerMode,
    ) -> Result<(), BundleError> {
        if self.version != BUNDLE_VERSION {
            return Err(BundleError::Version {
                found: self.version,
            });
        }
        if let Some(sha) = weights_sha256
            && !sha.eq_ignore_ascii_case(&self.model.weights_sha256)
        {
            return Err(BundleError::OtherModel {
                repo: self.model.repo.clone(),
                short: self.model.weights_sha256.chars().take(12).collect(),
            });
        }
        if sha256_hex(head_json.as_bytes()) != self.head_sha256 {
            return Err(BundleError::OtherHead);
        }
        if tokenizer != self.tokenizer {
            return Err(BundleError::OtherTokenizer {
                baked: self.tokenizer,
                now: tokenizer,
            });
        }
        Ok(())
    }

    /// The concept embeddings from the concept file's bytes, row-major `[rows, dim]`, after
    /// checking its size and sha256 against the manifest.
    pub fn concepts_from(&self, bytes: &[u8]) -> Result<Vec<f32>, BundleError> {
        let c = &self.concepts;
        let want = c.rows.checked_mul(c.dim).and_then(|n| n.checked_mul(2));
        if want != Some(bytes.len()) {
            return Err(BundleError::Concepts(format!(
                "{} bytes where {} × {} f16 values were announced",
                bytes.len(),
                c.rows,
                c.dim
            )));
        }
        if sha256_hex(bytes) != c.sha256 {
            return Err(BundleError::Concepts("its sha256 differs".into()));
        }
        Ok(bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect())
    }
}

/// J(T), the image alone, J(T, I), the attribution and (with an image) the relevance map of the
/// pair's top harm concept (of the text's without an image) — what the demo shows for a sample.
pub async fn read_sample(
    guard: &Guard,
    text: &str,
    pixels: Option<&PixelTensor>,
) -> Result<Reading, GuardError> {
    let score = guard.score_sample(text, pixels).await?;
    let words = guard.word_attribution(text).await?;
    let relevance = match pixels {
        Some(pixels) => {
            let hit = score.top_concept();
            let values = guard.relevance_map(pixels, hit).await?;
            let concept = guard.head.concepts().get(hit).map(|c| c.phrase.clone());
            Some(Relevance {
                grid: (values.len() as f64).sqrt().round() as u32,
                values,
                concept: concept.unwrap_or_default(),
            })
        }
        None => None,
    };
    Ok(Reading {
        score,
        words,
        relevance,
    })
}

/// One entry of the page's gallery (`www/gallery/samples.json`; the images lie beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GalleryEntry {
    pub id: String,
    pub title: String,
    /// File name of the image, relative to the gallery's folder.
    pub image: String,
    pub text: String,
    /// What the sample teaches, in a sentence.
    pub teaches: String,
}

/// A gallery sample to bake: its id, text and preprocessed image.
pub struct GalleryInput {
    pub id: String,
    pub text: String,
    pub pixels: Option<PixelTensor>,
}

/// Bakes `gallery` with `embedder`'s checkpoint and `guard_head`: returns the manifest and the
/// concept file's bytes. The guard the readings come from uses the f16-rounded concepts.
pub async fn bake(
    embedder: ClipEmbedder,
    head: GuardHead,
    model: BakedModel,
    gallery: &[GalleryInput],
) -> Result<(Bundle, Vec<u8>), GuardError> {
    let preprocess = embedder.preprocess.clone();
    let dim = embedder.config.projection_dim;
    let tokenizer = embedder.tokenizer.mode();
    let mut guard = Guard::new(embedder, head).await?;
    let bytes = to_f16_bytes(guard.concept_embeddings());
    guard.map_concepts(round_f16);
    let head_json = guard.head.to_json();
    let rows = guard.head.concept_count();
    let mut samples = Vec::with_capacity(gallery.len());
    for sample in gallery {
        let reading = read_sample(&guard, &sample.text, sample.pixels.as_ref()).await?;
        samples.push(BakedSample {
            id: sample.id.clone(),
            text: sample.text.clone(),
            reading,
        });
    }
    let bundle = Bundle {
        set: ConceptSet {
            version: BUNDLE_VERSION,
            model,
            head_sha256: sha256_hex(head_json.as_bytes()),
            tokenizer,
            concepts: BakedConcepts {
                file: CONCEPTS_FILE.into(),
                rows,
                dim,
                sha256: sha256_hex(&bytes),
            },
        },
        preprocess,
        samples,
        baked_with: env!("CARGO_PKG_VERSION").into(),
    };
    Ok((bundle, bytes))
}
