//! The guard: the [`GuardHead`] run on a loaded CLIP model.
//!
//! Concept embeddings are computed once per model and cached here. One sample costs one text
//! embedding and one image embedding: J(T), the image alone and J(T, I) all reuse them.
//! Word attribution is batched leave-one-word-out: every variant of the text with one word
//! removed goes through the text tower in one batch.

use crate::embedder::{ClipEmbedder, EmbedError, Embeddings};
use crate::preprocess::PixelTensor;

use super::head::{GuardHead, HeadScore, LeakClass, Modality, ScoreError};

/// Why the guard could not score.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("guard head: {0}")]
    Score(#[from] ScoreError),
}

/// The three readings of one sample and where it lands (see [`LeakClass`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleScore {
    /// J(T): the text alone.
    pub text: HeadScore,
    /// The image alone (when there is one).
    pub image: Option<HeadScore>,
    /// J(T, I) (when there is an image); without one the pair is the text.
    pub pair: Option<HeadScore>,
    pub class: LeakClass,
}

impl SampleScore {
    /// The concept the sample is most about: the pair's top harm concept, the text's without an
    /// image (what the relevance map draws).
    pub fn top_concept(&self) -> usize {
        self.pair.as_ref().unwrap_or(&self.text).top_harm.concept
    }
}

/// How much one word raises the text-only P(unsafe).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WordAttribution {
    /// The word as the tokenizer shows it (lower-cased, cleaned).
    pub word: String,
    /// Its token positions in the encoded text (0 is `<|startoftext|>`).
    pub tokens: std::ops::Range<usize>,
    /// P(unsafe | text) − P(unsafe | text without this word).
    pub delta: f32,
}

/// A loaded model with its guard head and cached concept embeddings.
#[derive(Debug)]
pub struct Guard {
    pub embedder: ClipEmbedder,
    pub head: GuardHead,
    /// Row-major `[concepts, dim]`, unit rows.
    concepts: Vec<f32>,
}

impl Guard {
    /// Embed every concept prompt once (batched) and keep the per-concept averages.
    pub async fn new(embedder: ClipEmbedder, head: GuardHead) -> Result<Self, GuardError> {
        let prompts: Vec<String> = head.prompts().into_iter().map(|p| p.text).collect();
        let embedded = embedder.text_embeddings(&prompts).await?;
        let concepts = head.concept_embeddings(&embedded.values, embedded.dim)?;
        Ok(Self {
            embedder,
            head,
            concepts,
        })
    }

    /// A guard from concept embeddings computed earlier for this model and head (the page keeps
    /// them in the browser's storage: on a CPU they take minutes to compute). Gives the embedder
    /// back when their size does not fit the model and head, or a value is not finite.
    pub fn with_concepts(
        embedder: ClipEmbedder,
        head: GuardHead,
        concepts: Vec<f32>,
    ) -> Result<Self, Box<ClipEmbedder>> {
        let expected = head.concept_count() * embedder.config.projection_dim;
        if concepts.len() != expected || !concepts.iter().all(|v| v.is_finite()) {
            return Err(Box::new(embedder));
        }
        Ok(Self {
            embedder,
            head,
            concepts,
        })
    }

    /// This guard with the vision tower loaded from the whole checkpoint (text first:
    /// [`ClipEmbedder::with_vision_tower`]); the concept embeddings need only the text tower
    /// and are kept.
    pub fn with_vision_tower(&self, safetensors: Vec<u8>) -> Result<Self, GuardError> {
        Ok(Self {
            embedder: self.embedder.with_vision_tower(safetensors)?,
            head: self.head.clone(),
            concepts: self.concepts.clone(),
        })
    }

    /// Concept embeddings, row-major `[concepts, dim]` (in [`GuardHead::concepts`] order).
    pub fn concept_embeddings(&self) -> &[f32] {
        &self.concepts
    }

    /// Replaces every concept embedding by `f(embedding)`, value for value (e.g. rounded as a
    /// trip through f16 rounds them).
    pub fn map_concepts(&mut self, f: impl Fn(f32) -> f32) {
        self.concepts.iter_mut().for_each(|v| *v = f(*v));
    }

    /// J(T) for one text.
    pub async fn score_text(&self, text: &str) -> Result<HeadScore, GuardError> {
        let embedded = self.embedder.text_embeddings(&[text]).await?;
        Ok(self
            .head
            .score(&self.concepts, embedded.row(0), Modality::Text)?)
    }

    /// J(T), the image alone and J(T, I) for one sample (the text tower runs once).
    pub async fn score_sample(
        &self,
        text: &str,
        image: Option<&PixelTensor>,
    ) -> Result<SampleScore, GuardError> {
        let texts = self.embedder.text_embeddings(&[text]).await?;
        let images = match image {
            Some(pixels) => Some(
                self.embedder
                    .image_embeddings(std::slice::from_ref(pixels))
                    .await?,
            ),
            None => None,
        };
        self.score_embeddings(&texts, 0, images.as_ref().map(|e| (e, 0)))
    }

    /// Score already embedded rows: text row `t`, optionally image row `i` (batch reports use
    /// this to share one batched tower call across many samples).
    pub fn score_embeddings(
        &self,
        texts: &Embeddings,
        t: usize,
        image: Option<(&Embeddings, usize)>,
    ) -> Result<SampleScore, GuardError> {
        let text = self
            .head
            .score(&self.concepts, texts.row(t), Modality::Text)?;
        let Some((images, i)) = image else {
            let class = LeakClass::classify(text.is_unsafe, text.is_unsafe);
            return Ok(SampleScore {
                text,
                image: None,
                pair: None,
                class,
            });
        };
        let image = self
            .head
            .score(&self.concepts, images.row(i), Modality::Image)?;
        let pair = self
            .head
            .score_pair(&self.concepts, texts.row(t), images.row(i))?;
        Ok(SampleScore {
            class: LeakClass::classify(text.is_unsafe, pair.is_unsafe),
            text,
            image: Some(image),
            pair: Some(pair),
        })
    }

    /// Leave-one-word-out attribution of the text-only P(unsafe), one batch for all words.
    /// Words past the context length get 0 (the model never sees them).
    pub async fn word_attribution(&self, text: &str) -> Result<Vec<WordAttribution>, GuardError> {
        let tokenizer = &self.embedder.tokenizer;
        let context = self.embedder.model.context_length();
        let ids = tokenizer.encode(text);
        let words = tokenizer.words(text);
        let mut rows = vec![tokenizer.pad_ids(ids.clone(), context)];
        for (_, range) in &words {
            let mut without = ids[..range.start.min(ids.len())].to_vec();
            without.extend_from_slice(&ids[range.end.min(ids.len())..]);
            rows.push(tokenizer.pad_ids(without, context));
        }
        let embedded = self.embedder.text_embeddings_from_ids(&rows).await?;
        let p = |row: usize| {
            self.head
                .score(&self.concepts, embedded.row(row), Modality::Text)
                .map(|s| s.p_unsafe)
        };
        let full = p(0)?;
        let mut out = Vec::with_capacity(words.len());
        for (i, (word, range)) in words.into_iter().enumerate() {
            let delta = if range.start + 1 >= context {
                0.0
            } else {
                full - p(i + 1)?
            };
            out.push(WordAttribution {
                word,
                tokens: range,
                delta,
            });
        }
        Ok(out)
    }

    /// Cosine of every image patch with one concept, row-major over the patch grid
    /// (`grid × grid`, grid = image_size / patch_size): where in the image that concept shows.
    pub async fn relevance_map(
        &self,
        image: &PixelTensor,
        concept: usize,
    ) -> Result<Vec<f32>, GuardError> {
        let dim = self.embedder.config.projection_dim;
        let range = concept
            .checked_mul(dim)
            .and_then(|start| Some(start..start.checked_add(dim)?));
        let Some(target) = range.and_then(|r| self.concepts.get(r)) else {
            return Err(GuardError::Score(ScoreError::Empty));
        };
        let patches = self.embedder.patch_embeddings(image).await?;
        Ok((0..patches.rows)
            .map(|r| patches.row(r).iter().zip(target).map(|(a, b)| a * b).sum())
            .collect())
    }
}
