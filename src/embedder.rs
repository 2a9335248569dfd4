//! The CLIP runtime the app and the CLI call: a loaded model with its tokenizer and image
//! preprocessing, batched embedding and similarity calls, async read-back, and typed errors
//! for every bad input (it never panics on user data).

use burn::tensor::{Device, Tensor, TensorData};

use crate::compute::{ReadbackError, read_f32};
use crate::model::{ClipConfig, ClipModel, l2_normalize};
use crate::preprocess::{PixelTensor, PreprocessConfig, PreprocessError, preprocess_bytes};
use crate::tokenizer::{ClipTokenizer, TokenizerError, TokenizerMode};
use crate::weights::{WeightsError, load_clip_with_config, load_text_tower, load_vision_tower};

/// Largest batch sent to the device at once; longer inputs are split (bounds GPU memory).
pub const MAX_BATCH: usize = 32;

/// The files of a Hugging Face CLIP checkpoint, as bytes.
#[derive(Clone, Debug, Default)]
pub struct CheckpointFiles {
    pub config_json: Vec<u8>,
    pub model_safetensors: Vec<u8>,
    /// `vocab.json` + `merges.txt` and/or `tokenizer.json`; the tokenizer mode picks which
    /// (hub: tokenizer.json when present; original: the pair when present).
    pub vocab_json: Option<Vec<u8>>,
    pub merges_txt: Option<Vec<u8>>,
    pub tokenizer_json: Option<Vec<u8>>,
    /// `preprocessor_config.json`; CLIP's defaults when absent.
    pub preprocessor_config_json: Option<Vec<u8>>,
}

/// Why loading or embedding failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] TokenizerError),
    #[error(
        "the checkpoint has no tokenizer files: provide vocab.json and merges.txt (or tokenizer.json)"
    )]
    NoTokenizer,
    #[error(
        "the tokenizer's ids go up to {largest} but the model's vocabulary has {model} entries \
         (ids 0 to {}): vocab.json belongs to another checkpoint or is corrupt",
        .model.saturating_sub(1)
    )]
    VocabMismatch { largest: u64, model: usize },
    #[error(
        "token row {row} holds id {id}, outside the model's vocabulary of {model} (or is not \
         {context} ids long): tokenize with this model's tokenizer"
    )]
    BadTokenRow {
        row: usize,
        id: u64,
        model: usize,
        context: usize,
    },
    #[error(
        "preprocessor_config.json makes {height}×{width} images but config.json's model takes \
         {size}×{size}: use the preprocessor_config.json that came with these weights"
    )]
    PreprocessMismatch {
        height: u32,
        width: u32,
        size: usize,
    },
    #[error(
        "the model computed {what} that are not unit vectors of finite numbers (NaN, infinity or \
         zero): the weights or config.json hold values no trained CLIP has; load the checkpoint \
         again, or another one"
    )]
    NonFinite { what: &'static str },
    #[error("preprocessor_config.json: {0}")]
    PreprocessConfig(PreprocessError),
    #[error("image {index}: {error}")]
    Image {
        index: usize,
        error: PreprocessError,
    },
    #[error(
        "image {index} is {height}×{width} after preprocessing but the model takes \
         {size}×{size}: preprocessor_config.json does not match config.json"
    )]
    ImageSize {
        index: usize,
        height: usize,
        width: usize,
        size: usize,
    },
    #[error(transparent)]
    Readback(#[from] ReadbackError),
    /// Loaded text first ([`ClipEmbedder::load_text_tower`]); the vision tower is not in yet.
    #[error(
        "the image tower is still downloading: text scores work now, image scores once it is in"
    )]
    VisionPending,
}

/// L2-normalised embeddings, row-major `[rows, dim]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Embeddings {
    pub rows: usize,
    pub dim: usize,
    pub values: Vec<f32>,
}

impl Embeddings {
    fn empty(dim: usize) -> Self {
        Self {
            rows: 0,
            dim,
            values: Vec::new(),
        }
    }

    /// Row `i` (panics only if `i >= rows`, a caller bug).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// Cosine similarity of every row of `self` with every row of `other`: `[self.rows, other.rows]`.
    pub fn cosine(&self, other: &Embeddings) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows * other.rows);
        for i in 0..self.rows {
            for j in 0..other.rows {
                out.push(
                    self.row(i)
                        .iter()
                        .zip(other.row(j))
                        .map(|(a, b)| a * b)
                        .sum(),
                );
            }
        }
        out
    }
}

/// Whether every id `tokenizer` can produce has a row in `config`'s embedding table. The
/// entry count is not enough: a vocab.json may number its entries past it (or past 2^31).
pub fn check_tokenizer(tokenizer: &ClipTokenizer, config: &ClipConfig) -> Result<(), EmbedError> {
    let largest = u64::from(tokenizer.max_id());
    let model = config.text_config.vocab_size;
    if largest >= model as u64 {
        return Err(EmbedError::VocabMismatch { largest, model });
    }
    Ok(())
}

/// Whether `preprocess` makes the images `config`'s vision tower takes (checked once at load,
/// not on every image).
pub fn check_preprocess(
    preprocess: &PreprocessConfig,
    config: &ClipConfig,
) -> Result<(), EmbedError> {
    let size = config.vision_config.image_size;
    let Some((height, width)) = preprocess.output_size() else {
        return Ok(());
    };
    if height as usize != size || width as usize != size {
        return Err(EmbedError::PreprocessMismatch {
            height,
            width,
            size,
        });
    }
    Ok(())
}

/// `embeddings`, or the error a NaN, an infinity or a zero row in them is (each row must be a
/// unit vector): weights or settings that slipped past the load checks, e.g. finite weights so
/// large that the towers overflow, must not come out as numbers.
fn finite(embeddings: Embeddings, what: &'static str) -> Result<Embeddings, EmbedError> {
    let unit = |row: &[f32]| {
        let norm: f32 = row.iter().map(|v| v * v).sum();
        norm.is_finite() && (norm - 1.0).abs() < 0.05
    };
    if embeddings.dim > 0 && embeddings.values.chunks(embeddings.dim).all(unit) {
        Ok(embeddings)
    } else {
        Err(EmbedError::NonFinite { what })
    }
}

/// A loaded CLIP checkpoint on one device.
#[derive(Debug)]
pub struct ClipEmbedder {
    pub model: ClipModel,
    pub config: ClipConfig,
    pub tokenizer: ClipTokenizer,
    pub preprocess: PreprocessConfig,
    pub device: Device,
    logit_scale: f32,
    /// The vision tower is loaded (false between [`Self::load_text_tower`] and
    /// [`Self::with_vision_tower`]).
    vision: bool,
}

impl ClipEmbedder {
    /// Parse, check and load every file, with the default tokenizer mode ([`TokenizerMode::Hub`]);
    /// the weights buffer is consumed.
    pub async fn load(files: CheckpointFiles, device: &Device) -> Result<Self, EmbedError> {
        Self::load_with_tokenizer(files, device, TokenizerMode::default()).await
    }

    /// [`load`](Self::load) with the tokenizer following `mode`'s reference: hub reads
    /// `tokenizer.json` when the checkpoint has one, original the pair when it has one.
    pub async fn load_with_tokenizer(
        files: CheckpointFiles,
        device: &Device,
        mode: TokenizerMode,
    ) -> Result<Self, EmbedError> {
        let (config, tokenizer, preprocess) = parse_small_files(&files, mode)?;
        let model = load_clip_with_config(&config, files.model_safetensors, device)?;
        Self::ready(model, config, tokenizer, preprocess, device, true).await
    }

    /// Text first: `files` with `model_safetensors` holding the text tower's tensors (and
    /// `logit_scale`) only ([`crate::weights::FileLayout::extract`] of a download's first
    /// bytes). Text embeddings work at once; image embeddings answer
    /// [`EmbedError::VisionPending`] until [`Self::with_vision_tower`].
    pub async fn load_text_tower(
        files: CheckpointFiles,
        device: &Device,
        mode: TokenizerMode,
    ) -> Result<Self, EmbedError> {
        let (config, tokenizer, preprocess) = parse_small_files(&files, mode)?;
        let model = load_text_tower(&config, files.model_safetensors, device)?;
        Self::ready(model, config, tokenizer, preprocess, device, false).await
    }

    /// This embedder with the vision tower loaded from the whole checkpoint `safetensors`
    /// (checked against the config first); the text tower is shared, not loaded again.
    pub fn with_vision_tower(&self, safetensors: Vec<u8>) -> Result<Self, EmbedError> {
        let model = load_vision_tower(&self.config, &self.model, safetensors, &self.device)?;
        Ok(Self {
            model,
            config: self.config.clone(),
            tokenizer: self.tokenizer.clone(),
            preprocess: self.preprocess.clone(),
            device: self.device.clone(),
            logit_scale: self.logit_scale,
            vision: true,
        })
    }

    async fn ready(
        model: ClipModel,
        config: ClipConfig,
        tokenizer: ClipTokenizer,
        preprocess: PreprocessConfig,
        device: &Device,
        vision: bool,
    ) -> Result<Self, EmbedError> {
        let logit_scale = read_f32(model.logit_scale.val())
            .await?
            .first()
            .copied()
            .unwrap_or(0.0)
            .exp();
        if !logit_scale.is_finite() {
            return Err(EmbedError::NonFinite {
                what: "a logit scale",
            });
        }
        Ok(Self {
            model,
            config,
            tokenizer,
            preprocess,
            device: device.clone(),
            logit_scale,
            vision,
        })
    }

    /// The vision tower is loaded: image embeddings work.
    pub fn has_vision_tower(&self) -> bool {
        self.vision
    }

    fn vision_tower(&self) -> Result<(), EmbedError> {
        if self.vision {
            Ok(())
        } else {
            Err(EmbedError::VisionPending)
        }
    }

    /// `exp(logit_scale)`: multiplies cosines into logits (100 for OpenAI checkpoints).
    pub fn logit_scale(&self) -> f32 {
        self.logit_scale
    }

    /// Token ids of `texts`, padded/truncated to the model's context length.
    pub fn tokenize<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<u32>> {
        self.tokenizer
            .encode_batch(texts, self.model.context_length())
    }

    /// Normalised text embeddings, in batches of [`MAX_BATCH`].
    pub async fn text_embeddings<S: AsRef<str>>(
        &self,
        texts: &[S],
    ) -> Result<Embeddings, EmbedError> {
        let rows = self.tokenize(texts);
        self.text_embeddings_from_ids(&rows).await
    }

    /// Normalised text embeddings from token ids (each row `context_length` long).
    pub async fn text_embeddings_from_ids(
        &self,
        rows: &[Vec<u32>],
    ) -> Result<Embeddings, EmbedError> {
        let model = self.config.text_config.vocab_size;
        let context = self.model.context_length();
        for (row, ids) in rows.iter().enumerate() {
            let bad = ids.iter().find(|&&id| id as usize >= model);
            if bad.is_some() || ids.len() != context {
                return Err(EmbedError::BadTokenRow {
                    row,
                    id: bad.map_or(0, |&id| u64::from(id)),
                    model,
                    context,
                });
            }
        }
        let dim = self.config.projection_dim;
        let mut out = Embeddings::empty(dim);
        for chunk in rows.chunks(MAX_BATCH) {
            let embeds = l2_normalize(self.model.text_embeds(chunk, &self.device));
            out.values.extend(read_f32(embeds).await?);
            out.rows += chunk.len();
        }
        finite(out, "text embeddings")
    }

    /// Decode and preprocess an encoded image (PNG, JPEG, WebP, GIF).
    pub fn preprocess_image(&self, bytes: &[u8]) -> Result<PixelTensor, PreprocessError> {
        preprocess_bytes(&self.preprocess, bytes)
    }

    /// Normalised image embeddings, in batches of [`MAX_BATCH`].
    pub async fn image_embeddings(&self, images: &[PixelTensor]) -> Result<Embeddings, EmbedError> {
        self.vision_tower()?;
        let size = self.config.vision_config.image_size;
        for (index, image) in images.iter().enumerate() {
            if image.height != size || image.width != size || image.data.len() != 3 * size * size {
                return Err(EmbedError::ImageSize {
                    index,
                    height: image.height,
                    width: image.width,
                    size,
                });
            }
        }
        let mut out = Embeddings::empty(self.config.projection_dim);
        for chunk in images.chunks(MAX_BATCH) {
            let data: Vec<f32> = chunk.iter().flat_map(|p| p.data.iter().copied()).collect();
            let pixels = Tensor::<4>::from_data(
                TensorData::new(data, [chunk.len(), 3, size, size]),
                &self.device,
            );
            let embeds = l2_normalize(self.model.image_embeds(pixels));
            out.values.extend(read_f32(embeds).await?);
            out.rows += chunk.len();
        }
        finite(out, "image embeddings")
    }

    /// The model input `[1, 3, size, size]` of one preprocessed image on this embedder's
    /// device, for [`Self::image_embeddings_from_tensor`] batches.
    pub fn model_input(&self, image: &PixelTensor) -> Result<Tensor<4>, EmbedError> {
        let size = self.config.vision_config.image_size;
        if image.height != size || image.width != size || image.data.len() != 3 * size * size {
            return Err(EmbedError::ImageSize {
                index: 0,
                height: image.height,
                width: image.width,
                size,
            });
        }
        Ok(Tensor::<4>::from_data(
            TensorData::new(image.data.clone(), [1, 3, size, size]),
            &self.device,
        ))
    }

    /// Normalised image embeddings of model inputs already on this embedder's device,
    /// `[batch, 3, size, size]` (e.g. from [`crate::gpu::preprocess::model_input`]): the
    /// pixels never come back to the CPU. One batch, so keep it at most [`MAX_BATCH`].
    pub async fn image_embeddings_from_tensor(
        &self,
        pixels: Tensor<4>,
    ) -> Result<Embeddings, EmbedError> {
        self.vision_tower()?;
        let size = self.config.vision_config.image_size;
        let [batch, channels, height, width] = pixels.dims();
        if channels != 3 || height != size || width != size {
            return Err(EmbedError::ImageSize {
                index: 0,
                height,
                width,
                size,
            });
        }
        let embeds = l2_normalize(self.model.image_embeds(pixels));
        finite(
            Embeddings {
                rows: batch,
                dim: self.config.projection_dim,
                values: read_f32(embeds).await?,
            },
            "image embeddings",
        )
    }

    /// Normalised embeddings of every patch token of one image, `[grid·grid, projection_dim]`
    /// in row-major grid order: each final patch token goes through the same post-LayerNorm
    /// and projection as the class token, so it lives in the shared space and can be compared
    /// with text (a coarse relevance map, not an attribution method).
    pub async fn patch_embeddings(&self, image: &PixelTensor) -> Result<Embeddings, EmbedError> {
        self.vision_tower()?;
        let pixels = self.model_input(image)?;
        let (hidden, _) = self.model.vision_model.forward(pixels);
        let [_, tokens, width] = hidden.dims();
        let patches = hidden.narrow(1, 1, tokens - 1).reshape([tokens - 1, width]);
        let projected = self
            .model
            .project_visual(self.model.vision_model.post_layernorm.forward(patches));
        finite(
            Embeddings {
                rows: tokens - 1,
                dim: self.config.projection_dim,
                values: read_f32(l2_normalize(projected)).await?,
            },
            "patch embeddings",
        )
    }

    /// `exp(logit_scale) · cos(image_i, text_j)`, row-major `[images, texts]` — transformers'
    /// `logits_per_image`.
    pub fn logits_per_image(&self, images: &Embeddings, texts: &Embeddings) -> Vec<f32> {
        images
            .cosine(texts)
            .into_iter()
            .map(|c| c * self.logit_scale)
            .collect()
    }
}

/// The config, the tokenizer (following `mode`'s reference) and the preprocessing from a
/// checkpoint's small files.
fn parse_small_files(
    files: &CheckpointFiles,
    mode: TokenizerMode,
) -> Result<(ClipConfig, ClipTokenizer, PreprocessConfig), EmbedError> {
    let config = ClipConfig::from_json_bytes(&files.config_json).map_err(WeightsError::from)?;
    let tokenizer = match ClipTokenizer::load(
        mode,
        files.vocab_json.as_deref(),
        files.merges_txt.as_deref(),
        files.tokenizer_json.as_deref(),
    ) {
        Err(TokenizerError::NoFiles(_)) => return Err(EmbedError::NoTokenizer),
        other => other?,
    };
    check_tokenizer(&tokenizer, &config)?;
    let preprocess = match &files.preprocessor_config_json {
        Some(json) => {
            PreprocessConfig::from_json_bytes(json).map_err(EmbedError::PreprocessConfig)?
        }
        None => PreprocessConfig::default(),
    };
    check_preprocess(&preprocess, &config)?;
    Ok((config, tokenizer, preprocess))
}
