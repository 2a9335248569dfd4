//! `CLIPModel`: both towers, their projections into the shared space, and `logit_scale`.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, FloatDType, Int, Tensor, TensorData};

use super::config::ClipConfig;
use super::dense::{self, WeightLayout, project};
use super::text::{TextPooling, TextTransformer};
use super::vision::VisionTransformer;

/// The dual encoder. Field names equal the checkpoint's top-level keys.
#[derive(Module, Debug)]
pub struct ClipModel {
    pub text_model: TextTransformer,
    pub vision_model: VisionTransformer,
    /// `[vision_hidden → projection_dim]`, no bias.
    pub(crate) visual_projection: Linear,
    /// `[text_hidden → projection_dim]`, no bias.
    pub(crate) text_projection: Linear,
    // Every `Linear` here and in the towers is called through `dense::project` (the weight may
    // be stored in panels on the CPU): use `project_visual` and `text_embeds`, never
    // `Linear::forward`.
    /// `[1]` (a 0-d tensor in checkpoints): log of the softmax temperature's inverse.
    pub logit_scale: Param<Tensor<1>>,
    #[module(skip)]
    pooling: TextPooling,
    #[module(skip)]
    context_length: usize,
    /// How the visual and the text projection store their weights (model::dense).
    #[module(skip)]
    pub(crate) projection_layouts: [WeightLayout; 2],
}

/// Everything a forward pass over texts and images yields (host-side, row-major).
#[derive(Clone, Debug, Default)]
pub struct ClipOutput {
    /// Projected text embeddings `[texts, projection_dim]`, before L2 normalisation.
    pub text_embeds: Vec<f32>,
    /// Projected image embeddings `[images, projection_dim]`, before L2 normalisation.
    pub image_embeds: Vec<f32>,
    /// `exp(logit_scale) · cos(image_i, text_j)`, `[images, texts]`.
    pub logits_per_image: Vec<f32>,
}

impl ClipConfig {
    /// A model with this shape; parameters are lazily initialised and replaced on load.
    pub fn init(&self, device: &Device) -> ClipModel {
        ClipModel {
            text_model: self.text_config.init(device),
            vision_model: self.vision_config.init(device),
            visual_projection: LinearConfig::new(
                self.vision_config.hidden_size,
                self.projection_dim,
            )
            .with_bias(false)
            .init(device),
            text_projection: LinearConfig::new(self.text_config.hidden_size, self.projection_dim)
                .with_bias(false)
                .init(device),
            logit_scale: Param::from_tensor(Tensor::from_floats(
                [self.logit_scale_init_value],
                device,
            )),
            pooling: TextPooling::from_eos_token_id(self.text_config.eos_token_id),
            context_length: self.text_config.max_position_embeddings,
            projection_layouts: [WeightLayout::Plain; 2],
        }
    }
}

impl ClipModel {
    /// Every projection's weight in panels (model::dense): what the CPU backend wants. Same
    /// values; results equal up to float summation order.
    pub fn with_cpu_layout(mut self) -> Self {
        self.text_to_cpu_layout();
        self.vision_to_cpu_layout();
        self
    }

    /// [`Self::with_cpu_layout`] for the text tower and its projection only (a model whose
    /// vision tower is not loaded yet: converting it would initialise it).
    pub fn text_to_cpu_layout(&mut self) {
        self.text_model.encoder.convert_to_cpu_layout();
        self.projection_layouts[1] = dense::convert(&mut self.text_projection);
    }

    /// [`Self::with_cpu_layout`] for the vision tower and its projection only.
    pub fn vision_to_cpu_layout(&mut self) {
        self.vision_model.encoder.convert_to_cpu_layout();
        self.projection_layouts[0] = dense::convert(&mut self.visual_projection);
    }

    /// Context length of the text tower (77 for OpenAI checkpoints).
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// The pooling rule this checkpoint's config selects.
    pub fn pooling(&self) -> TextPooling {
        self.pooling
    }

    /// Token ids (each row exactly `context_length` long) → a `[batch, seq]` tensor plus the
    /// pooled position of each row.
    pub fn ids_tensor(&self, rows: &[Vec<u32>], device: &Device) -> (Tensor<2, Int>, Vec<usize>) {
        let seq = rows.first().map_or(0, Vec::len);
        let flat: Vec<i64> = rows.iter().flatten().map(|&id| id as i64).collect();
        let positions = rows.iter().map(|row| self.pooling.position(row)).collect();
        let ids = Tensor::from_data(TensorData::new(flat, [rows.len(), seq]), device);
        (ids, positions)
    }

    /// Pooled text features before projection: `[batch, text_hidden]`.
    ///
    /// `rows`: token ids, every row the same length ≤ `context_length` (the tokenizer pads
    /// to 77); `vocab_size` is checked by the caller that owns the tokenizer.
    ///
    /// The tower runs on the columns up to the batch's last pooled position only: attention
    /// is causal, so later columns (padding, mostly) cannot change a pooled feature. A
    /// 15-token query costs 15 positions, not 77; the result is the full-length one.
    pub fn text_pooled(&self, rows: &[Vec<u32>], device: &Device) -> Tensor<2> {
        let keep = rows
            .iter()
            .map(|row| self.pooling.position(row) + 1)
            .max()
            .unwrap_or(0);
        // The pooled position of a prefix that contains it is the same (first maximum, first
        // end token).
        let trimmed: Vec<Vec<u32>> = rows
            .iter()
            .map(|row| row[..keep.min(row.len())].to_vec())
            .collect();
        let (ids, positions) = self.ids_tensor(&trimmed, device);
        let hidden = self.text_model.forward(ids);
        TextTransformer::pool(hidden, &positions)
    }

    /// Projected text embeddings `[batch, projection_dim]`, not normalised.
    pub fn text_embeds(&self, rows: &[Vec<u32>], device: &Device) -> Tensor<2> {
        self.project_text(self.text_pooled(rows, device))
    }

    /// Projected image embeddings `[batch, projection_dim]` from normalised pixels
    /// `[batch, 3, image, image]`, not normalised.
    pub fn image_embeds(&self, pixels: Tensor<4>) -> Tensor<2> {
        self.project_visual(self.vision_model.pooled(pixels))
    }

    /// `text_projection` of `[rows, text_hidden]` → `[rows, projection_dim]` (see
    /// [`ClipModel::project_visual`]).
    pub fn project_text(&self, features: Tensor<2>) -> Tensor<2> {
        let [_, text] = self.projection_layouts;
        project(&self.text_projection, text, features)
    }

    /// `visual_projection` of `[rows, vision_hidden]` → `[rows, projection_dim]`. Call this,
    /// not the `Linear` itself: on the CPU its weight is stored in panels (model::dense).
    pub fn project_visual(&self, features: Tensor<2>) -> Tensor<2> {
        let [visual, _] = self.projection_layouts;
        project(&self.visual_projection, visual, features)
    }

    /// `exp(logit_scale)` as a `[1, 1]` tensor, for broadcasting.
    pub fn logit_scale_exp(&self) -> Tensor<2> {
        self.logit_scale.val().exp().reshape([1, 1])
    }

    /// `exp(logit_scale) · cos` between every image and every text: `[images, texts]`.
    pub fn logits_per_image(&self, image_embeds: Tensor<2>, text_embeds: Tensor<2>) -> Tensor<2> {
        let images = l2_normalize(image_embeds);
        let texts = l2_normalize(text_embeds);
        images.matmul(texts.transpose()) * self.logit_scale_exp()
    }
}

/// Row-wise L2 normalisation `[n, d]` → `[n, d]` (as transformers: `x / ‖x‖`, no epsilon).
///
/// Computed in f32 whatever the input's type: in f16 a sum of 512 squares overflows once the
/// components average above ~11. The result has the input's type.
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let dtype = x.dtype();
    let wide = x.cast(FloatDType::F32);
    let norm = wide.clone().powi_scalar(2).sum_dim(1).sqrt();
    (wide / norm).cast(FloatDType::from(dtype))
}
