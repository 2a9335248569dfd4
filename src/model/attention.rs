//! Multi-head self-attention with separate q/k/v/out projections (`CLIPAttention`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Tensor};

use super::dense::{self, WeightLayout, project};

/// Shape of one attention block.
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Number of heads; must divide `hidden_size`.
    pub num_heads: usize,
}

/// `CLIPAttention`: field names equal the checkpoint's (`q_proj`, `k_proj`, `v_proj`, `out_proj`).
/// The projections are crate-private: on the CPU their weights are stored in panels
/// (model::dense), so only `dense::project` may call them.
#[derive(Module, Debug)]
pub struct Attention {
    pub(crate) q_proj: Linear,
    pub(crate) k_proj: Linear,
    pub(crate) v_proj: Linear,
    pub(crate) out_proj: Linear,
    #[module(skip)]
    num_heads: usize,
    /// How q, k, v and out store their weights (model::dense).
    #[module(skip)]
    pub(crate) layouts: [WeightLayout; 4],
}

impl AttentionConfig {
    pub fn init(&self, device: &Device) -> Attention {
        let linear = || LinearConfig::new(self.hidden_size, self.hidden_size).init(device);
        Attention {
            q_proj: linear(),
            k_proj: linear(),
            v_proj: linear(),
            out_proj: linear(),
            num_heads: self.num_heads,
            layouts: [WeightLayout::Plain; 4],
        }
    }
}

impl Attention {
    /// q, k, v and out in the CPU's layout (model::dense).
    pub(super) fn convert_to_cpu_layout(&mut self) {
        self.layouts = [
            dense::convert(&mut self.q_proj),
            dense::convert(&mut self.k_proj),
            dense::convert(&mut self.v_proj),
            dense::convert(&mut self.out_proj),
        ];
    }
}

impl Attention {
    /// Self-attention. `x`: `[batch·seq, hidden]`, the tokens of `batch` sequences one after
    /// the other; `causal`: position i attends to positions ≤ i only (the text tower).
    /// Returns `[batch·seq, hidden]`.
    pub fn forward(&self, x: Tensor<2>, batch: usize, causal: bool) -> Tensor<2> {
        self.attend(x.clone(), x, batch, causal)
    }

    /// Attention of some tokens over whole sequences: `queries` `[batch·q, hidden]` (q
    /// tokens per sequence) read the keys and values of `context` `[batch·seq, hidden]`.
    /// Returns `[batch·q, hidden]`. With `causal`, query i sits at position `seq − q + i`
    /// (Burn aligns the queries with the end of the sequence).
    ///
    /// Scores, mask and softmax are Burn's attention op: flex runs it as one blocked kernel
    /// per (batch, head), without `[batch, heads, q, seq]` intermediates for the scaled
    /// scores, the mask sum and the softmax. Its causal mask is −∞ where transformers adds
    /// `f32::MIN`; both give exactly 0 after the softmax. The scale is the op's default,
    /// `1/√head_dim`, transformers' `head_dim ** -0.5`.
    pub fn attend(
        &self,
        queries: Tensor<2>,
        context: Tensor<2>,
        batch: usize,
        causal: bool,
    ) -> Tensor<2> {
        let [query_tokens, hidden] = queries.dims();
        let [tokens, _] = context.dims();
        let heads = self.num_heads;
        let head_dim = hidden / heads;
        // [batch·n, hidden] -> [batch, heads, n, head_dim]
        let split = |t: Tensor<2>, n: usize| t.reshape([batch, n, heads, head_dim]).swap_dims(1, 2);
        let [q_layout, k_layout, v_layout, out_layout] = self.layouts;
        let q = split(
            project(&self.q_proj, q_layout, queries),
            query_tokens / batch,
        );
        let k = split(
            project(&self.k_proj, k_layout, context.clone()),
            tokens / batch,
        );
        let v = split(project(&self.v_proj, v_layout, context), tokens / batch);
        let options = AttentionModuleOptions {
            is_causal: causal,
            ..AttentionModuleOptions::default()
        };
        // [batch, heads, q, head_dim] -> [batch·q, hidden]
        let out = attention(q, k, v, None, None, options)
            .swap_dims(1, 2)
            .reshape([query_tokens, hidden]);
        project(&self.out_proj, out_layout, out)
    }
}
