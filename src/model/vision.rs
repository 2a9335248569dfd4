//! The vision tower (`CLIPVisionTransformer`): patch convolution, class token, position
//! embeddings, the LayerNorm before the encoder, and the LayerNorm on the class token after it.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor};

use super::config::VisionConfig;
use super::encoder::{Encoder, EncoderConfig};

/// `CLIPVisionEmbeddings`.
#[derive(Module, Debug)]
pub struct VisionEmbeddings {
    /// `[hidden]`: the learned class token.
    pub class_embedding: Param<Tensor<1>>,
    /// `[hidden, channels, patch, patch]`, stride = patch, no bias.
    pub patch_embedding: Conv2d,
    /// `[1 + (image/patch)², hidden]`
    pub position_embedding: Embedding,
}

/// `CLIPVisionTransformer` (`vision_model.*` in checkpoints).
#[derive(Module, Debug)]
pub struct VisionTransformer {
    pub embeddings: VisionEmbeddings,
    /// Spelled `pre_layrnorm` in transformers' checkpoints; renamed in [`crate::weights`].
    pub pre_layernorm: LayerNorm,
    pub encoder: Encoder,
    pub post_layernorm: LayerNorm,
}

impl VisionConfig {
    /// Number of patch tokens plus the class token.
    pub fn num_positions(&self) -> usize {
        let grid = self.image_size / self.patch_size;
        grid * grid + 1
    }

    /// A vision tower with this shape (weights are lazily initialised, then loaded).
    pub fn init(&self, device: &Device) -> VisionTransformer {
        let norm = || {
            LayerNormConfig::new(self.hidden_size)
                .with_epsilon(self.layer_norm_eps)
                .init(device)
        };
        VisionTransformer {
            embeddings: VisionEmbeddings {
                class_embedding: Param::from_tensor(Tensor::zeros([self.hidden_size], device)),
                patch_embedding: Conv2dConfig::new(
                    [self.num_channels, self.hidden_size],
                    [self.patch_size, self.patch_size],
                )
                .with_stride([self.patch_size, self.patch_size])
                .with_bias(false)
                .init(device),
                position_embedding: EmbeddingConfig::new(self.num_positions(), self.hidden_size)
                    .init(device),
            },
            pre_layernorm: norm(),
            encoder: EncoderConfig::new(
                self.hidden_size,
                self.intermediate_size,
                self.num_hidden_layers,
                self.num_attention_heads,
                self.layer_norm_eps,
                self.hidden_act,
            )
            .init(device),
            post_layernorm: norm(),
        }
    }
}

impl VisionTransformer {
    /// `pixels`: `[batch, channels, image, image]` (normalised). Returns
    /// `(last_hidden_state [batch, 1 + patches, hidden], pooled [batch, hidden])`, where
    /// `pooled` is the post-LayerNorm class token.
    pub fn forward(&self, pixels: Tensor<4>) -> (Tensor<3>, Tensor<2>) {
        let x = self.encoder.forward(self.embed(pixels), false);
        let [batch, _, hidden] = x.dims();
        let class_token = x.clone().narrow(1, 0, 1).reshape([batch, hidden]);
        let pooled = self.post_layernorm.forward(class_token);
        (x, pooled)
    }

    /// Only the pooled output of [`VisionTransformer::forward`], `[batch, hidden]`, for less
    /// work: the last layer runs for the class token alone (see
    /// [`Encoder::forward_first_token`]).
    pub fn pooled(&self, pixels: Tensor<4>) -> Tensor<2> {
        let class_token = self.encoder.forward_first_token(self.embed(pixels));
        self.post_layernorm.forward(class_token)
    }

    /// Patch and class tokens with position embeddings, after the pre-encoder LayerNorm:
    /// `[batch, 1 + patches, hidden]`.
    fn embed(&self, pixels: Tensor<4>) -> Tensor<3> {
        let [batch, _, _, _] = pixels.dims();
        let device = pixels.device();
        // [batch, hidden, grid, grid] -> [batch, patches, hidden]
        let patches = self.embeddings.patch_embedding.forward(pixels);
        let [_, hidden, gh, gw] = patches.dims();
        let patches = patches.reshape([batch, hidden, gh * gw]).swap_dims(1, 2);
        let class = self
            .embeddings
            .class_embedding
            .val()
            .reshape([1, 1, hidden])
            .expand([batch, 1, hidden]);
        let tokens = Tensor::cat(vec![class, patches], 1);
        let positions = Tensor::<1, Int>::arange(0..(gh * gw + 1) as i64, &device).unsqueeze::<2>();
        let x = tokens + self.embeddings.position_embedding.forward(positions);
        self.pre_layernorm.forward(x)
    }
}
