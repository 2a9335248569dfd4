//! The MLP activations CLIP checkpoints name in `hidden_act`.

use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

/// `hidden_act` of a CLIP tower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `x · σ(1.702 x)`: what OpenAI's CLIP was trained with.
    #[serde(rename = "quick_gelu")]
    QuickGelu,
    /// Exact (erf) GELU, as `torch.nn.functional.gelu` computes it.
    #[serde(rename = "gelu")]
    Gelu,
    /// tanh-approximated GELU (`gelu_new`, `gelu_pytorch_tanh`).
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh")]
    GeluTanh,
}

impl Activation {
    /// Apply element-wise; any shape.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::QuickGelu => x.clone() * activation::sigmoid(x * 1.702),
            Activation::Gelu => activation::gelu(x),
            Activation::GeluTanh => {
                // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
                let inner = (x.clone() + x.clone().powi_scalar(3) * 0.044715)
                    * (2.0f32 / std::f32::consts::PI).sqrt();
                x * (inner.tanh() + 1.0) * 0.5
            }
        }
    }
}
