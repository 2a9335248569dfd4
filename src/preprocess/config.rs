//! The `CLIPImageProcessor` parameters from a checkpoint's `preprocessor_config.json`: where the
//! resize goes, the crop, Pillow's filter, mean and std; parsed leniently in every form
//! transformers writes, and checked.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::PreprocessError;

/// transformers' `OPENAI_CLIP_MEAN`.
pub const OPENAI_CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
/// transformers' `OPENAI_CLIP_STD`.
pub const OPENAI_CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];

/// Where the resize step goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeTarget {
    /// `{"shortest_edge": n}` (or a bare integer): shortest edge to `n`, aspect ratio kept.
    ShortestEdge(u32),
    /// `{"height": h, "width": w}` (or `[h, w]`): exactly this size.
    Exact {
        /// Output height.
        height: u32,
        /// Output width.
        width: u32,
    },
}

/// `crop_size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropSize {
    /// Crop height.
    pub height: u32,
    /// Crop width.
    pub width: u32,
}

/// Pillow's resampling filters, numbered as in `preprocessor_config.json`'s `resample`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resample {
    /// 0
    Nearest,
    /// 1
    Lanczos,
    /// 2
    Bilinear,
    /// 3 (CLIP's)
    Bicubic,
    /// 4
    Box,
    /// 5
    Hamming,
}

impl Resample {
    /// From Pillow's integer code.
    pub fn from_pil(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::Nearest,
            1 => Self::Lanczos,
            2 => Self::Bilinear,
            3 => Self::Bicubic,
            4 => Self::Box,
            5 => Self::Hamming,
            _ => return None,
        })
    }

    /// Pillow's integer code.
    pub fn to_pil(self) -> u8 {
        match self {
            Self::Nearest => 0,
            Self::Lanczos => 1,
            Self::Bilinear => 2,
            Self::Bicubic => 3,
            Self::Box => 4,
            Self::Hamming => 5,
        }
    }
}

/// The `CLIPImageProcessor` parameters. `Default` is CLIP's (openai/clip-vit-*).
///
/// (De)serialises as a `preprocessor_config.json`: accepts `size` as an integer (shortest
/// edge), `[h, w]`, `{"shortest_edge"}` (optionally with an ignored `longest_edge`, as CLIP's
/// resize ignores it) or `{"height", "width"}`; `crop_size` as an integer, `[h, w]` or
/// `{"height", "width"}`; `image_mean`/`image_std` as one number or three; the legacy
/// `use_square_size` flag. Missing or `null` keys take CLIP's defaults; unknown keys are
/// ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawConfig", into = "RawConfig")]
pub struct PreprocessConfig {
    /// Resize before cropping.
    pub do_resize: bool,
    /// Resize target.
    pub size: ResizeTarget,
    /// Resampling filter.
    pub resample: Resample,
    /// Center crop after resizing.
    pub do_center_crop: bool,
    /// Crop size.
    pub crop_size: CropSize,
    /// Multiply by `rescale_factor`.
    pub do_rescale: bool,
    /// Usually 1/255.
    pub rescale_factor: f64,
    /// Subtract `image_mean`, divide by `image_std`.
    pub do_normalize: bool,
    /// Per-channel mean (R, G, B).
    pub image_mean: [f64; 3],
    /// Per-channel standard deviation (R, G, B).
    pub image_std: [f64; 3],
    /// Recorded for round-tripping; the input is always converted to RGB (module docs).
    pub do_convert_rgb: bool,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        Self {
            do_resize: true,
            size: ResizeTarget::ShortestEdge(224),
            resample: Resample::Bicubic,
            do_center_crop: true,
            crop_size: CropSize {
                height: 224,
                width: 224,
            },
            do_rescale: true,
            rescale_factor: 1.0 / 255.0,
            do_normalize: true,
            image_mean: OPENAI_CLIP_MEAN,
            image_std: OPENAI_CLIP_STD,
            do_convert_rgb: true,
        }
    }
}

impl PreprocessConfig {
    /// Parses a `preprocessor_config.json`.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, PreprocessError> {
        serde_json::from_slice(bytes).map_err(|e| PreprocessError::Config(e.to_string()))
    }

    /// Parses a `preprocessor_config.json` held in a string.
    pub fn from_json_str(text: &str) -> Result<Self, PreprocessError> {
        Self::from_json_bytes(text.as_bytes())
    }

    /// `(height, width)` of every output, when it does not depend on the image: the crop, or
    /// an exact resize without one.
    pub fn output_size(&self) -> Option<(u32, u32)> {
        match (self.do_center_crop, self.do_resize, self.size) {
            (true, _, _) => Some((self.crop_size.height, self.crop_size.width)),
            (false, true, ResizeTarget::Exact { height, width }) => Some((height, width)),
            _ => None,
        }
    }

    /// Serialises in the canonical transformers form.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(&RawConfig::from(self.clone())).unwrap_or_default()
    }
}

/// The JSON as written by transformers, before validation.
#[derive(Serialize, Deserialize, Default)]
struct RawConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    do_resize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resample: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    do_center_crop: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crop_size: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    do_rescale: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rescale_factor: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    do_normalize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_mean: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_std: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    do_convert_rgb: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    use_square_size: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_processor_type: Option<String>,
}

fn positive_side(v: &Value, what: &str) -> Result<u32, String> {
    match v.as_u64() {
        Some(n) if (1..=u64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        _ => Err(format!("{what} must be a positive integer, got {v}")),
    }
}

fn parse_size(v: &Value) -> Result<ResizeTarget, String> {
    match v {
        Value::Number(_) => Ok(ResizeTarget::ShortestEdge(positive_side(v, "size")?)),
        Value::Array(a) if a.len() == 2 => Ok(ResizeTarget::Exact {
            height: positive_side(&a[0], "size[0] (height)")?,
            width: positive_side(&a[1], "size[1] (width)")?,
        }),
        Value::Object(m) => {
            let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
            keys.sort_unstable();
            match keys.as_slice() {
                ["shortest_edge"] | ["longest_edge", "shortest_edge"] => {
                    Ok(ResizeTarget::ShortestEdge(positive_side(
                        &m["shortest_edge"],
                        "size.shortest_edge",
                    )?))
                }
                ["height", "width"] => Ok(ResizeTarget::Exact {
                    height: positive_side(&m["height"], "size.height")?,
                    width: positive_side(&m["width"], "size.width")?,
                }),
                _ => Err(format!(
                    "size must have the keys {{shortest_edge}} or {{height, width}} for CLIP, got {v}"
                )),
            }
        }
        _ => Err(format!(
            "size must be an integer, [height, width] or an object with shortest_edge or height and width, got {v}"
        )),
    }
}

fn parse_crop(v: &Value) -> Result<CropSize, String> {
    match v {
        Value::Number(_) => {
            let n = positive_side(v, "crop_size")?;
            Ok(CropSize {
                height: n,
                width: n,
            })
        }
        Value::Array(a) if a.len() == 2 => Ok(CropSize {
            height: positive_side(&a[0], "crop_size[0] (height)")?,
            width: positive_side(&a[1], "crop_size[1] (width)")?,
        }),
        Value::Object(m) if m.len() == 2 && m.contains_key("height") && m.contains_key("width") => {
            Ok(CropSize {
                height: positive_side(&m["height"], "crop_size.height")?,
                width: positive_side(&m["width"], "crop_size.width")?,
            })
        }
        _ => Err(format!(
            "crop_size must be an integer, [height, width] or {{\"height\", \"width\"}}, got {v}"
        )),
    }
}

fn parse_triple(v: &Value, what: &str, nonzero: bool) -> Result<[f64; 3], String> {
    let check = |x: &Value| -> Result<f64, String> {
        match x.as_f64() {
            Some(f) if f.is_finite() && !(nonzero && f == 0.0) => Ok(f),
            _ if nonzero => Err(format!(
                "{what} values must be finite non-zero numbers, got {x}"
            )),
            _ => Err(format!("{what} values must be finite numbers, got {x}")),
        }
    };
    match v {
        Value::Number(_) => {
            let f = check(v)?;
            Ok([f; 3])
        }
        Value::Array(a) if a.len() == 3 => Ok([check(&a[0])?, check(&a[1])?, check(&a[2])?]),
        _ => Err(format!(
            "{what} must be a number or a list of 3 numbers (R, G, B), got {v}"
        )),
    }
}

impl TryFrom<RawConfig> for PreprocessConfig {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let d = Self::default();
        let mut size = match &raw.size {
            None | Some(Value::Null) => d.size,
            Some(v) => parse_size(v)?,
        };
        if raw.use_square_size == Some(true) {
            match size {
                ResizeTarget::ShortestEdge(n) => {
                    size = ResizeTarget::Exact {
                        height: n,
                        width: n,
                    }
                }
                ResizeTarget::Exact { .. } => {
                    return Err("use_square_size needs size.shortest_edge".to_owned());
                }
            }
        }
        let resample = match &raw.resample {
            None | Some(Value::Null) => d.resample,
            Some(v) => v.as_i64().and_then(Resample::from_pil).ok_or_else(|| {
                format!("resample must be a Pillow filter code 0-5 (3 = bicubic), got {v}")
            })?,
        };
        let crop_size = match &raw.crop_size {
            None | Some(Value::Null) => d.crop_size,
            Some(v) => parse_crop(v)?,
        };
        let rescale_factor = match &raw.rescale_factor {
            None | Some(Value::Null) => d.rescale_factor,
            Some(v) => v
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| format!("rescale_factor must be a finite number, got {v}"))?,
        };
        let image_mean = match &raw.image_mean {
            None | Some(Value::Null) => d.image_mean,
            Some(v) => parse_triple(v, "image_mean", false)?,
        };
        let image_std = match &raw.image_std {
            None | Some(Value::Null) => d.image_std,
            Some(v) => parse_triple(v, "image_std", true)?,
        };
        let config = Self {
            do_resize: raw.do_resize.unwrap_or(d.do_resize),
            size,
            resample,
            do_center_crop: raw.do_center_crop.unwrap_or(d.do_center_crop),
            crop_size,
            do_rescale: raw.do_rescale.unwrap_or(d.do_rescale),
            rescale_factor,
            do_normalize: raw.do_normalize.unwrap_or(d.do_normalize),
            image_mean,
            image_std,
            do_convert_rgb: raw.do_convert_rgb.unwrap_or(d.do_convert_rgb),
        };
        // Rescale and normalisation must give numbers a model can take: an absurd
        // rescale_factor or a tiny image_std gives infinities, and then NaN embeddings.
        let lut = super::normalize_lut(&config);
        if let Some(v) = lut
            .iter()
            .flatten()
            .find(|v| !v.is_finite() || v.abs() > MAX_INPUT_MAGNITUDE)
        {
            return Err(format!(
                "rescale_factor {}, image_mean {:?} and image_std {:?} turn pixel values into {v}, \
                 outside ±{MAX_INPUT_MAGNITUDE} (CLIP's inputs lie within about ±2)",
                config.rescale_factor, config.image_mean, config.image_std
            ));
        }
        Ok(config)
    }
}

/// Largest model input magnitude a preprocessor config may produce.
pub const MAX_INPUT_MAGNITUDE: f32 = 1e4;

impl From<PreprocessConfig> for RawConfig {
    fn from(c: PreprocessConfig) -> Self {
        let size = match c.size {
            ResizeTarget::ShortestEdge(n) => serde_json::json!({ "shortest_edge": n }),
            ResizeTarget::Exact { height, width } => {
                serde_json::json!({ "height": height, "width": width })
            }
        };
        Self {
            do_resize: Some(c.do_resize),
            size: Some(size),
            resample: Some(Value::from(c.resample.to_pil())),
            do_center_crop: Some(c.do_center_crop),
            crop_size: Some(
                serde_json::json!({ "height": c.crop_size.height, "width": c.crop_size.width }),
            ),
            do_rescale: Some(c.do_rescale),
            rescale_factor: Some(Value::from(c.rescale_factor)),
            do_normalize: Some(c.do_normalize),
            image_mean: Some(Value::from(c.image_mean.to_vec())),
            image_std: Some(Value::from(c.image_std.to_vec())),
            do_convert_rgb: Some(c.do_convert_rgb),
            use_square_size: None,
            image_processor_type: Some("CLIPImageProcessor".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_clip() {
        let c = PreprocessConfig::default();
        assert_eq!(c.size, ResizeTarget::ShortestEdge(224));
        assert_eq!(
            c.crop_size,
            CropSize {
                height: 224,
                width: 224
            }
        );
        assert_eq!(c.resample, Resample::Bicubic);
        assert_eq!(PreprocessConfig::from_json_str("{}").unwrap(), c);
    }

    #[test]
    fn parses_legacy_and_current_clip_configs() {
        let legacy = r#"{"crop_size": 224, "do_center_crop": true, "do_normalize": true,
            "do_resize": true, "feature_extractor_type": "CLIPFeatureExtractor",
            "image_mean": [0.48145466, 0.4578275, 0.40821073],
            "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}"#;
        let current = r#"{"crop_size": {"height": 224, "width": 224}, "do_center_crop": true,
            "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
            "image_mean": [0.48145466, 0.4578275, 0.40821073],
            "image_processor_type": "CLIPImageProcessor",
            "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3,
            "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 224}}"#;
        let d = PreprocessConfig::default();
        let a = PreprocessConfig::from_json_str(legacy).unwrap();
        let b = PreprocessConfig::from_json_str(current).unwrap();
        assert_eq!(a, d);
        assert_eq!(b.size, d.size);
        assert_eq!(b.crop_size, d.crop_size);
        assert!((b.rescale_factor - d.rescale_factor).abs() < 1e-18);
        // Round trip through the canonical form.
        let again = PreprocessConfig::from_json_str(&b.to_json_string()).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn parses_other_forms() {
        let c = PreprocessConfig::from_json_str(
            r#"{"size": [300, 200], "crop_size": [100, 50], "image_mean": 0.5, "image_std": null,
                "resample": 2, "do_center_crop": null}"#,
        )
        .unwrap();
        assert_eq!(
            c.size,
            ResizeTarget::Exact {
                height: 300,
                width: 200
            }
        );
        assert_eq!(
            c.crop_size,
            CropSize {
                height: 100,
                width: 50
            }
        );
        assert_eq!(c.image_mean, [0.5; 3]);
        assert_eq!(c.image_std, OPENAI_CLIP_STD);
        assert_eq!(c.resample, Resample::Bilinear);
        assert!(c.do_center_crop);
        let sq = PreprocessConfig::from_json_str(
            r#"{"size": {"shortest_edge": 336}, "use_square_size": true}"#,
        )
        .unwrap();
        assert_eq!(
            sq.size,
            ResizeTarget::Exact {
                height: 336,
                width: 336
            }
        );
        let se = PreprocessConfig::from_json_str(
            r#"{"size": {"shortest_edge": 256, "longest_edge": 512}}"#,
        )
        .unwrap();
        assert_eq!(se.size, ResizeTarget::ShortestEdge(256));
    }

    #[test]
    fn rejects_bad_configs_with_clear_messages() {
        for (json, needle) in [
            (r#"{"size": {"longest_edge": 224}}"#, "shortest_edge"),
            (r#"{"size": 0}"#, "positive integer"),
            (r#"{"size": 224.5}"#, "positive integer"),
            (r#"{"crop_size": {"height": 224}}"#, "crop_size"),
            (r#"{"resample": 7}"#, "resample"),
            (r#"{"image_mean": [0.5, 0.5]}"#, "image_mean"),
            (r#"{"image_std": [0.5, 0, 0.5]}"#, "non-zero"),
            (r#"{"rescale_factor": "x"}"#, "rescale_factor"),
            (r#"{"do_resize": 1}"#, "invalid"),
            ("not json", "invalid"),
        ] {
            let e = PreprocessConfig::from_json_str(json).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, PreprocessError::Config(_)), "{json}: {msg}");
            assert!(msg.contains(needle), "{json}: {msg}");
        }
    }
}
