//! The float type the model computes in on a GPU.
//!
//! f16 halves the bytes every kernel reads and writes, and the model is memory-bound at the
//! batch sizes the page uses. It needs the adapter's `shader-f16` feature (WebGPU) or
//! `shaderFloat16` (Vulkan); without it the device stays f32. Accuracy: LayerNorm and the
//! final L2 normalisation accumulate in f32 (Burn widens LayerNorm itself; see
//! `model::l2_normalize`); what f16 keeps is measured against the f32 reference in
//! tests/native/precision.rs and stated there.
//!
//! The CPU backend always computes in f32: flex has no f16 arithmetic worth having.

use burn::tensor::FloatDType;
use std::fmt;
use std::str::FromStr;

/// Float precision of a device's tensors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats everywhere (the reference's precision).
    #[default]
    F32,
    /// 16-bit floats for weights and activations, f32 accumulation where it matters.
    F16,
}

impl Precision {
    /// "f32" or "f16", as in URLs, flags and badges.
    pub fn label(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }

    /// Burn's dtype for it.
    pub fn dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::F16 => FloatDType::F16,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "f16" | "fp16" | "float16" | "half" => Ok(Precision::F16),
            other => Err(format!("unknown precision {other:?}: use f32 or f16")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_type_and_names_the_choices_otherwise() {
        assert_eq!("F16".parse::<Precision>(), Ok(Precision::F16));
        assert_eq!(" fp32 ".parse::<Precision>(), Ok(Precision::F32));
        let err = "bf16".parse::<Precision>().unwrap_err();
        assert!(err.contains("f32 or f16"), "{err}");
        assert_eq!(Precision::F16.to_string(), "f16");
    }
}
