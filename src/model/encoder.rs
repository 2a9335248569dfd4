//! The pre-LayerNorm transformer encoder shared by both towers (`CLIPEncoder`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::activation::Activation;
use super::attention::{Attention, AttentionConfig};
use super::dense::{self, WeightLayout, project};

/// Shape of one tower's encoder.
#[derive(Config, Debug)]
pub struct EncoderConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub layer_norm_eps: f64,
    pub activation: Activation,
}

/// `CLIPMLP`: `fc2(act(fc1(x)))`.
#[derive(Module, Debug)]
pub struct Mlp {
    pub(crate) fc1: Linear,
    pub(crate) fc2: Linear,
    #[module(skip)]
    activation: Activation,
    /// How fc1 and fc2 store their weights (model::dense).
    #[module(skip)]
    pub(crate) layouts: [WeightLayout; 2],
}

/// `CLIPEncoderLayer`: `x + attn(ln1(x))`, then `x + mlp(ln2(x))`.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    pub self_attn: Attention,
    pub layer_norm1: LayerNorm,
    pub mlp: Mlp,
    pub layer_norm2: LayerNorm,
}

/// `CLIPEncoder`: a stack of [`EncoderLayer`]s (`encoder.layers.{i}` in checkpoints).
#[derive(Module, Debug)]
pub struct Encoder {
    pub layers: Vec<EncoderLayer>,
}

impl EncoderConfig {
    pub fn init(&self, device: &Device) -> Encoder {
        let norm = || {
            LayerNormConfig::new(self.hidden_size)
                .with_epsilon(self.layer_norm_eps)
                .init(device)
        };
        let layers = (0..self.num_layers)
            .map(|_| EncoderLayer {
                self_attn: AttentionConfig::new(self.hidden_size, self.num_heads).init(device),
                layer_norm1: norm(),
                mlp: Mlp {
                    fc1: LinearConfig::new(self.hidden_size, self.intermediate_size).init(device),
                    fc2: LinearConfig::new(self.intermediate_size, self.hidden_size).init(device),
                    activation: self.activation,
                    layouts: [WeightLayout::Plain; 2],
                },
                layer_norm2: norm(),
            })
            .collect();
        Encoder { layers }
    }
}

impl Encoder {
    /// Every layer's projections in the CPU's layout (model::dense).
    pub(super) fn convert_to_cpu_layout(&mut self) {
        for layer in &mut self.layers {
            layer.self_attn.convert_to_cpu_layout();
            layer.mlp.layouts = [
                dense::convert(&mut layer.mlp.fc1),
                dense::convert(&mut layer.mlp.fc2),
            ];
        }
    }

    /// `x`: `[batch, seq, hidden]`; `causal` for the text tower. Returns the same shape.
    ///
    /// Inside, the tokens are rows of one `[batch·seq, hidden]` matrix: every projection is
    /// then a single matrix product over all tokens of the batch (one large product
    /// parallelises and tiles better than `batch` small ones), and only attention looks at
    /// the sequences separately.
    pub fn forward(&self, x: Tensor<3>, causal: bool) -> Tensor<3> {
        let [batch, seq, hidden] = x.dims();
        let mut x = x.reshape([batch * seq, hidden]);
        for layer in &self.layers {
            x = layer.forward(x, batch, causal);
        }
        x.reshape([batch, seq, hidden])
    }

    /// The first token of every sequence after the last layer, `[batch, hidden]`, for
    /// `[batch, seq, hidden]` without a causal mask (the vision tower's class token): equal
    /// to `forward(x, false)` at position 0.
    ///
    /// Every layer but the last runs on all tokens, whose keys and values the next layer
    /// reads. The last layer needs every token's keys and values but the query, attention
    /// output and MLP of the first token only: that skips about 5/6 of its work.
    pub fn forward_first_token(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, seq, hidden] = x.dims();
        let first = |t: Tensor<2>| {
            t.reshape([batch, seq, hidden])
                .narrow(1, 0, 1)
                .reshape([batch, hidden])
        };
        let mut x = x.reshape([batch * seq, hidden]);
        let Some((last, rest)) = self.layers.split_last() else {
            return first(x);
        };
        for layer in rest {
            x = layer.forward(x, batch, false);
        }
        let normed = last.layer_norm1.forward(x.clone());
        let attended = last
            .self_attn
            .attend(first(normed.clone()), normed, batch, false);
        let x = first(x) + attended;
        let transformed = last.mlp.forward(last.layer_norm2.forward(x.clone()));
        x + transformed
    }
}

impl EncoderLayer {
    /// `x`: `[batch·seq, hidden]`, the tokens of `batch` sequences. Returns the same shape.
    pub fn forward(&self, x: Tensor<2>, batch: usize, causal: bool) -> Tensor<2> {
        let attended = self
            .self_attn
            .forward(self.layer_norm1.forward(x.clone()), batch, causal);
        let x = x + attended;
        let transformed = self.mlp.forward(self.layer_norm2.forward(x.clone()));
        x + transformed
    }
}

impl Mlp {
    /// `[tokens, hidden]` → `[tokens, hidden]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [fc1, fc2] = self.layouts;
        let hidden = self.activation.forward(project(&self.fc1, fc1, x));
        project(&self.fc2, fc2, hidden)
    }
}
