//! The text tower (`CLIPTextTransformer`): token + position embeddings, causal pre-LN
//! encoder, final LayerNorm, pooling at the end-of-text token.
//!
//! Causal attention means position i never sees a later position, so the pooled feature only
//! depends on the tokens up to the pooled position: [`crate::model::ClipModel::text_pooled`]
//! runs the tower on that prefix only.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::config::TextConfig;
use super::encoder::{Encoder, EncoderConfig};

/// Where the pooled text feature is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextPooling {
    /// Position of the highest token id. OpenAI checkpoints declare `eos_token_id: 2` and
    /// transformers then uses this legacy rule, which works because `<|endoftext|>` is the
    /// largest id in CLIP's vocabulary.
    ArgmaxId,
    /// First position holding this end-of-text id (newer configs).
    FirstEos(u32),
}

impl TextPooling {
    /// The rule transformers applies for a given `text_config.eos_token_id`.
    pub fn from_eos_token_id(eos_token_id: u32) -> Self {
        if eos_token_id == 2 {
            TextPooling::ArgmaxId
        } else {
            TextPooling::FirstEos(eos_token_id)
        }
    }

    /// The pooled position in one row of token ids (falls back to the argmax when the end
    /// token is absent, as transformers' `argmax` of an all-zero row gives position 0 there;
    /// we take the last position instead only when the row is empty).
    pub fn position(self, ids: &[u32]) -> usize {
        match self {
            TextPooling::ArgmaxId => first_argmax(ids),
            TextPooling::FirstEos(eos) => ids.iter().position(|&id| id == eos).unwrap_or(0),
        }
    }
}

/// First index of the maximum (torch's `argmax` tie rule).
fn first_argmax(ids: &[u32]) -> usize {
    let mut best = 0;
    for (i, &id) in ids.iter().enumerate() {
        if id > ids[best] {
            best = i;
        }
    }
    best
}

/// `CLIPTextEmbeddings`.
#[derive(Module, Debug)]
pub struct TextEmbeddings {
    /// `[vocab_size, hidden]`
    pub token_embedding: Embedding,
    /// `[max_position_embeddings, hidden]`
    pub position_embedding: Embedding,
}

/// `CLIPTextTransformer` (`text_model.*` in checkpoints).
#[derive(Module, Debug)]
pub struct TextTransformer {
    pub embeddings: TextEmbeddings,
    pub encoder: Encoder,
    pub final_layer_norm: LayerNorm,
}

impl TextConfig {
    /// A text tower with this shape (weights are lazily initialised, then loaded).
    pub fn init(&self, device: &Device) -> TextTransformer {
        TextTransformer {
            embeddings: TextEmbeddings {
                token_embedding: EmbeddingConfig::new(self.vocab_size, self.hidden_size)
                    .init(device),
                position_embedding: EmbeddingConfig::new(
                    self.max_position_embeddings,
                    self.hidden_size,
                )
                .init(device),
            },
            encoder: EncoderConfig::new(
                self.hidden_size,
                self.intermediate_size,
                self.num_hidden_layers,
                self.num_attention_heads,
                self.layer_norm_eps,
                self.hidden_act,
            )
            .init(device),
            final_layer_norm: LayerNormConfig::new(self.hidden_size)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
        }
    }
}

impl TextTransformer {
    /// `ids`: `[batch, seq]` token ids (seq ≤ max positions). Returns the last hidden state
    /// `[batch, seq, hidden]` (after the final LayerNorm).
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, seq] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device).unsqueeze::<2>();
        let x = self.embeddings.token_embedding.forward(ids)
            + self.embeddings.position_embedding.forward(positions);
        let x = self.encoder.forward(x, true);
        self.final_layer_norm.forward(x)
    }

    /// Gather the pooled rows: `hidden` `[batch, seq, h]`, one position per row → `[batch, h]`.
    pub fn pool(hidden: Tensor<3>, positions: &[usize]) -> Tensor<2> {
        let [batch, _, h] = hidden.dims();
        let device = hidden.device();
        let index: Vec<i64> = positions
            .iter()
            .flat_map(|&p| std::iter::repeat_n(p as i64, h))
            .collect();
        let index = Tensor::<3, Int>::from_data(TensorData::new(index, [batch, 1, h]), &device);
        hidden.gather(1, index).reshape([batch, h])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_pooling_takes_the_first_highest_id() {
        let pooling = TextPooling::from_eos_token_id(2);
        assert_eq!(pooling.position(&[49406, 320, 49407, 49407, 49407]), 2);
    }

    #[test]
    fn eos_pooling_takes_the_first_end_token() {
        let pooling = TextPooling::from_eos_token_id(7);
        assert_eq!(pooling.position(&[6, 9, 7, 3, 7]), 2);
        assert_eq!(pooling.position(&[6, 9]), 0);
    }
}
