//! CLIP dual encoder (text tower + vision tower in one embedding space), ported from
//! Hugging Face transformers' `CLIPModel` so that the same checkpoint gives the same numbers.
//!
//! Module field names equal the checkpoint's key names (`text_model.encoder.layers.0.mlp.fc1`),
//! so loading needs only the PyTorch layout adapter and the remap table in
//! [`crate::weights`].

mod activation;
mod attention;
mod clip;
mod config;
mod dense;
mod encoder;
mod presets;
mod text;
mod vision;

pub use activation::Activation;
pub use clip::{ClipModel, ClipOutput, l2_normalize};
pub use config::{ClipConfig, ConfigError, TextConfig, VisionConfig};
pub use dense::WeightLayout;
pub use presets::{PRESETS, Preset, preset};
pub use text::{TextPooling, TextTransformer};
pub use vision::VisionTransformer;
