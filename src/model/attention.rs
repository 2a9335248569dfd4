//! Multi-head self-attention with separate q/k/v/out projections (`CLIPAttention`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, activation::softmax};

/// Shape of one attention block.
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Number of heads; must divide `hidden_size`.
    pub num_heads: usize,
}

/// `CLIPAttention`: field names equal the checkpoint's (`q_proj`, `k_proj`, `v_proj`, `out_proj`).
#[derive(Module, Debug)]
pub struct Attention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub out_proj: Linear,
    #[module(skip)]
    num_heads: usize,
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
        }
    }
}

impl Attention {
    /// `x`: `[batch, seq, hidden]`; `mask`: additive `[seq, seq]` (0 or a very negative
    /// number), broadcast over batch and heads. Returns `[batch, seq, hidden]`.
    pub fn forward(&self, x: Tensor<3>, mask: Option<Tensor<2>>) -> Tensor<3> {
        let [batch, seq, hidden] = x.dims();
        let heads = self.num_heads;
        let head_dim = hidden / heads;
        // [batch, seq, hidden] -> [batch, heads, seq, head_dim]
        let split = |t: Tensor<3>| t.reshape([batch, seq, heads, head_dim]).swap_dims(1, 2);
        let q = split(self.q_proj.forward(x.clone()));
        let k = split(self.k_proj.forward(x.clone()));
        let v = split(self.v_proj.forward(x));

        let scale = (head_dim as f64).powf(-0.5);
        // [batch, heads, seq, seq]
        let mut scores = q.matmul(k.swap_dims(2, 3)) * scale;
        if let Some(mask) = mask {
            scores = scores + mask.unsqueeze::<4>();
        }
        let weights = softmax(scores, 3);
        let context = weights
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, seq, hidden]);
        self.out_proj.forward(context)
    }
}
