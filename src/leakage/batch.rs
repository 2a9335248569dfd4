//! One batch of dataset samples through the guard: every text through the text tower in one
//! call, every usable image through the image tower in one call (both towers at once where the
//! backend allows it), then J(T), the image alone and J(T, I) per sample from the shared
//! embeddings. An unusable image costs only its own sample its image scores.

use burn::tensor::Tensor;

use super::guard::{Guard, GuardError};
use super::scores::{ScoreLine, line};
use crate::datasets::Sample;
use crate::embedder::{ClipEmbedder, EmbedError, Embeddings, MAX_BATCH};

/// One sample's image, as the platform prepared it.
pub enum SampleImage {
    /// A text-only run: no image is read, and none is missed.
    NotRead,
    /// Why the sample has no usable image (no image in the dataset, not found, undecodable):
    /// it is scored on its text alone, with this in `image_error`.
    Unusable(String),
    /// The model input `[1, 3, size, size]` on the guard's device (boxed: a tensor handle
    /// is large next to the other variants).
    Input(Box<Tensor<4>>),
}

/// What the page and the CLI say when a sample has no image or its file is missing (the other
/// reasons are the reader's or decoder's own words).
pub mod problem {
    pub const NO_IMAGE: &str = "the sample has no image";

    pub fn not_found(path: &str) -> String {
        format!("{path} not found")
    }
}

/// The score lines of `samples`, in order; `images[k]` belongs to `samples[k]`.
pub async fn score_batch(
    guard: &Guard,
    samples: &[Sample],
    images: Vec<SampleImage>,
) -> Result<Vec<ScoreLine>, GuardError> {
    debug_assert_eq!(samples.len(), images.len());
    let mut inputs = Vec::new();
    // Per sample: its row among the image embeddings, else why it has none (`None`: not read).
    let mut slots: Vec<Result<usize, Option<String>>> = Vec::with_capacity(samples.len());
    for image in images {
        slots.push(match image {
            SampleImage::NotRead => Err(None),
            SampleImage::Unusable(why) => Err(Some(why)),
            SampleImage::Input(input) => {
                inputs.push(*input);
                Ok(inputs.len() - 1)
            }
        });
    }
    let texts: Vec<&str> = samples.iter().map(|s| s.text.as_str()).collect();
    let (text_embeds, image_embeds) = embed_both(&guard.embedder, &texts, inputs).await;
    let text_embeds = text_embeds?;
    let image_embeds = image_embeds.transpose()?;
    let concepts = guard.head.concepts();
    let mut out = Vec::with_capacity(samples.len());
    for (k, (sample, slot)) in samples.iter().zip(slots).enumerate() {
        let (image, error) = match (slot, &image_embeds) {
            (Ok(row), Some(e)) => (Some((e, row)), None),
            (Ok(_), None) => (None, None),
            (Err(why), _) => (None, why),
        };
        let score = guard.score_embeddings(&text_embeds, k, image)?;
        out.push(line(sample, &score, &concepts, error));
    }
    Ok(out)
}

/// The image tower on model inputs, [`MAX_BATCH`] at a time.
async fn image_embeddings(
    embedder: &ClipEmbedder,
    inputs: Vec<Tensor<4>>,
) -> Result<Embeddings, EmbedError> {
    let mut out: Option<Embeddings> = None;
    let mut rest = inputs.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<Tensor<4>> = rest.by_ref().take(MAX_BATCH).collect();
        let part = embedder
            .image_embeddings_from_tensor(Tensor::cat(chunk, 0))
            .await?;
        match &mut out {
            Some(all) => {
                all.values.extend(part.values);
                all.rows += part.rows;
            }
            None => out = Some(part),
        }
    }
    Ok(out.unwrap_or(Embeddings {
        rows: 0,
        dim: embedder.config.projection_dim,
        values: Vec::new(),
    }))
}

type BothTowers = (
    Result<Embeddings, EmbedError>,
    Option<Result<Embeddings, EmbedError>>,
);

/// The text tower on `texts` and the image tower on `inputs` (none: `None`) at the same time.
/// Natively they run on two of rayon's threads: on the CPU neither keeps every core busy alone
/// (layer norms, activations and attention run on one thread between the parallel matrix
/// products), so the other tower's work fills the gaps; flex's products share that pool.
#[cfg(not(target_arch = "wasm32"))]
async fn embed_both(embedder: &ClipEmbedder, texts: &[&str], inputs: Vec<Tensor<4>>) -> BothTowers {
    rayon::join(
        || pollster::block_on(embedder.text_embeddings(texts)),
        || (!inputs.is_empty()).then(|| pollster::block_on(image_embeddings(embedder, inputs))),
    )
}

/// In the browser both towers' work is queued before either result is read back, so on
/// WebGPU the device runs them back to back without waiting for the page in between.
#[cfg(target_arch = "wasm32")]
async fn embed_both(embedder: &ClipEmbedder, texts: &[&str], inputs: Vec<Tensor<4>>) -> BothTowers {
    let text = embedder.text_embeddings(texts);
    if inputs.is_empty() {
        return (text.await, None);
    }
    let (text, images) = futures_util::future::join(text, image_embeddings(embedder, inputs)).await;
    (text, Some(images))
}
