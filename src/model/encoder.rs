//! The pre-LayerNorm transformer encoder shared by both towers (`CLIPEncoder`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::activation::Activation;
use super::attention::{Attention, AttentionConfig};

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
    pub fc1: Linear,
    pub fc2: Linear,
    #[module(skip)]
    activation: Activation,
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
                },
                layer_norm2: norm(),
            })
            .collect();
        Encoder { layers }
    }
}

impl Encoder {
    /// `x`: `[batch, seq, hidden]`, `mask`: additive `[seq, seq]`. Returns the same shape.
    pub fn forward(&self, mut x: Tensor<3>, mask: Option<Tensor<2>>) -> Tensor<3> {
        for layer in &self.layers {
            let attended = layer
                .self_attn
                .forward(layer.layer_norm1.forward(x.clone()), mask.clone());
            x = x + attended;
            let transformed = layer.mlp.forward(layer.layer_norm2.forward(x.clone()));
            x = x + transformed;
        }
        x
    }
}

impl Mlp {
    /// `[batch, seq, hidden]` → `[batch, seq, hidden]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.fc2
            .forward(self.activation.forward(self.fc1.forward(x)))
    }
}
