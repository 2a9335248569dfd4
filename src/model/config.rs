//! Model shape, read from a Hugging Face `CLIPModel` `config.json`.
//!
//! Missing keys take transformers' `CLIPTextConfig` / `CLIPVisionConfig` defaults (the
//! ViT-B/32 shape), so trimmed configs load the way transformers loads them.

use serde::Deserialize;

use super::activation::Activation;

/// `text_config` of a CLIP checkpoint.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// Context length (77 for every OpenAI checkpoint).
    pub max_position_embeddings: usize,
    pub hidden_act: Activation,
    pub layer_norm_eps: f64,
    pub bos_token_id: u32,
    /// `2` in OpenAI checkpoints, which selects the legacy argmax pooling.
    pub eos_token_id: u32,
    pub pad_token_id: u32,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            vocab_size: 49408,
            hidden_size: 512,
            intermediate_size: 2048,
            num_hidden_layers: 12,
            num_attention_heads: 8,
            max_position_embeddings: 77,
            hidden_act: Activation::QuickGelu,
            layer_norm_eps: 1e-5,
            bos_token_id: 49406,
            eos_token_id: 49407,
            pad_token_id: 1,
        }
    }
}

/// `vision_config` of a CLIP checkpoint.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default)]
pub struct VisionConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_channels: usize,
    pub image_size: usize,
    pub patch_size: usize,
    pub hidden_act: Activation,
    pub layer_norm_eps: f64,
}

impl Default for VisionConfig {
    fn default() -> Self {
        Self {
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            num_channels: 3,
            image_size: 224,
            patch_size: 32,
            hidden_act: Activation::QuickGelu,
            layer_norm_eps: 1e-5,
        }
    }
}

/// A whole `CLIPModel` config.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ClipConfig {
    #[serde(default)]
    pub text_config: TextConfig,
    #[serde(default)]
    pub vision_config: VisionConfig,
    /// Width of the shared embedding space.
    #[serde(default = "default_projection_dim")]
    pub projection_dim: usize,
    /// Initial value of `logit_scale` (the checkpoint's tensor overrides it).
    #[serde(default = "default_logit_scale")]
    pub logit_scale_init_value: f32,
}

fn default_projection_dim() -> usize {
    512
}

fn default_logit_scale() -> f32 {
    2.6592
}

/// A `config.json` that cannot describe a CLIP model we can run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "config.json is not valid CLIP config JSON: {0}. Pick the config.json of a CLIPModel checkpoint."
    )]
    Json(#[from] serde_json::Error),
    #[error(
        "config.json describes a `{0}` model, not CLIP: pick a CLIPModel checkpoint (model_type \"clip\")."
    )]
    WrongModelType(String),
    #[error("config.json: {0}")]
    Invalid(String),
}

impl ClipConfig {
    /// Parse and check a `config.json`.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        #[derive(Deserialize)]
        struct Probe {
            model_type: Option<String>,
        }
        let probe: Probe = serde_json::from_slice(bytes)?;
        if let Some(kind) = probe.model_type
            && kind != "clip"
        {
            return Err(ConfigError::WrongModelType(kind));
        }
        let config: ClipConfig = serde_json::from_slice(bytes)?;
        config.validate()?;
        Ok(config)
    }

    /// Reject shapes the towers cannot be built with (zero sizes, heads that do not divide
    /// the width, images not divisible into patches, absurd sizes from a corrupt file).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let t = &self.text_config;
        let v = &self.vision_config;
        let bad = |msg: String| Err(ConfigError::Invalid(msg));
        for (name, value) in [
            ("text_config.vocab_size", t.vocab_size),
            ("text_config.hidden_size", t.hidden_size),
            ("text_config.intermediate_size", t.intermediate_size),
            ("text_config.num_attention_heads", t.num_attention_heads),
            (
                "text_config.max_position_embeddings",
                t.max_position_embeddings,
            ),
            ("vision_config.hidden_size", v.hidden_size),
            ("vision_config.intermediate_size", v.intermediate_size),
            ("vision_config.num_attention_heads", v.num_attention_heads),
            ("vision_config.num_channels", v.num_channels),
            ("vision_config.image_size", v.image_size),
            ("vision_config.patch_size", v.patch_size),
            ("projection_dim", self.projection_dim),
        ] {
            if value == 0 {
                return bad(format!("{name} is 0"));
            }
            if value > 1 << 20 {
                return bad(format!("{name} = {value} is implausibly large"));
            }
        }
        if !t.hidden_size.is_multiple_of(t.num_attention_heads) {
            return bad(format!(
                "text hidden_size {} is not divisible by num_attention_heads {}",
                t.hidden_size, t.num_attention_heads
            ));
        }
        if !v.hidden_size.is_multiple_of(v.num_attention_heads) {
            return bad(format!(
                "vision hidden_size {} is not divisible by num_attention_heads {}",
                v.hidden_size, v.num_attention_heads
            ));
        }
        if !v.image_size.is_multiple_of(v.patch_size) {
            return bad(format!(
                "vision image_size {} is not a multiple of patch_size {}",
                v.image_size, v.patch_size
            ));
        }
        if t.num_hidden_layers > 256 || v.num_hidden_layers > 256 {
            return bad("more than 256 layers: this is not a CLIP config".into());
        }
        // A LayerNorm epsilon outside (0, 1) makes NaN or meaningless embeddings.
        for (name, eps) in [
            ("text_config.layer_norm_eps", t.layer_norm_eps),
            ("vision_config.layer_norm_eps", v.layer_norm_eps),
        ] {
            if !(eps.is_finite() && eps > 0.0 && eps < 1.0) {
                return bad(format!(
                    "{name} = {eps}: it must be a small positive number (CLIP uses 1e-5)"
                ));
            }
        }
        if !self.logit_scale_init_value.is_finite() {
            return bad(format!(
                "logit_scale_init_value = {} is not a finite number",
                self.logit_scale_init_value
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_vit_b_32() {
        let config = ClipConfig::from_json_bytes(b"{}").unwrap();
        assert_eq!(config.vision_config.patch_size, 32);
        assert_eq!(config.text_config.hidden_size, 512);
        assert_eq!(config.projection_dim, 512);
    }

    #[test]
    fn other_model_types_are_refused() {
        let err = ClipConfig::from_json_bytes(br#"{"model_type":"siglip"}"#).unwrap_err();
        assert!(err.to_string().contains("siglip"));
    }

    #[test]
    fn inconsistent_shapes_are_refused() {
        let err = ClipConfig::from_json_bytes(
            br#"{"vision_config":{"hidden_size":30,"num_attention_heads":4}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("divisible"), "{err}");
        assert!(ClipConfig::from_json_bytes(b"[1,2]").is_err());
        assert!(
            ClipConfig::from_json_bytes(br#"{"vision_config":{"hidden_act":"relu"}}"#).is_err()
        );
    }
}
