//! CLIP image preprocessing: transformers' `CLIPImageProcessor` (4.57) in pure Rust.
//!
//! The pipeline, with every parameter taken from a checkpoint's `preprocessor_config.json`
//! ([`PreprocessConfig`]), is the one transformers runs on a PIL image:
//!
//! 1. **decode + convert to RGB** the way Pillow 11 loads the file and `convert("RGB")`s it
//!    ([`decode_rgb`], [`rgb_from_rgba`]);
//! 2. **resize** so the shortest edge is `size.shortest_edge`, the other edge being
//!    `int(shortest_edge * long / short)` (float division, truncated, as transformers
//!    computes it), or to an exact `{height, width}`; with Pillow's resampling filters on
//!    8-bit data: separable two-pass (horizontal first, each pass rounded to `u8`), the
//!    kernel widened by the downscale factor (antialiasing), coefficients normalised in
//!    `f64` and rounded to 22-bit fixed point exactly as Pillow does, so the output is
//!    bit-identical (bicubic is the CLIP default; nearest, bilinear, box, hamming and lanczos
//!    are supported too);
//! 3. **center crop** to `crop_size` with transformers' offsets `top = (h - crop_h) // 2`
//!    (floor division); when the image is smaller than the crop, the missing border is
//!    zero-filled (black, i.e. `-mean/std` after normalisation) like transformers' padding;
//! 4. **rescale** `u8 as f64 * rescale_factor` rounded to `f32`, then **normalize**
//!    `(x - mean) / std` in `f32` — the same operations numpy performs, so values are equal
//!    to the reference to the last bit whenever the `u8` crop is;
//! 5. output channel-first `[3, H, W]` `f32` ([`PixelTensor`]).
//!
//! Only the crop window is ever resampled (each output pixel of Pillow's resize depends only on
//! its own coordinates), so an elongated image such as 1×10000, whose full resize would be
//! 224×2 240 000 pixels, costs no more memory than its crop. [`prepare_bytes`] /
//! [`prepare_rgba`] return that intermediate resized-and-cropped `u8` RGB image (for a GPU
//! reference or overlays); [`Geometry`] maps its pixels back to the source image.
//!
//! # Deliberate choices (all checked against Pillow 11.3 / transformers 4.57.1)
//!
//! * **EXIF orientation** is *ignored by default*: `CLIPImageProcessor` given a PIL image does
//!   not transpose it (only transformers' `load_image`, used for paths/URLs and by pipelines,
//!   calls `ImageOps.exif_transpose`). Set [`DecodeOptions::apply_exif_orientation`] to get the
//!   `load_image`/pipeline behaviour, which is also what a browser shows.
//! * **Alpha** is dropped, not composited: `convert("RGB")` of `RGBA`/`LA`/`PA` keeps the
//!   colour stored under transparent pixels, whatever it is. Same for [`preprocess_rgba`].
//! * **Palette** images are expanded through their palette (PNG `tRNS` transparency is
//!   ignored, as above). **GIF**: the first frame only, decoded as Pillow does: the canvas is
//!   the logical screen (grown if the frame sticks out), filled with the frame's transparent
//!   index (else index 0) where the frame does not cover it; missing palette entries are
//!   black; a GIF without a palette (or with the identity grey ramp) is greyscale.
//! * **Greyscale** (`L`, `LA`, 1/2/4-bit, grey JPEG) is replicated to R = G = B.
//! * **16-bit PNG**: Pillow opens 16-bit grey as mode `I;16` and its `convert("RGB")`
//!   *saturates* — values ≥ 255 become 255, the rest keep their low byte (so most 16-bit
//!   grey photos become nearly white); 16-bit RGB, RGBA and grey+alpha are opened as 8-bit by
//!   keeping the high byte (truncation, not rounding). Both are reproduced.
//! * **CMYK JPEG** decodes to RGB (zune-jpeg's Adobe-inverted CMYK conversion; within one
//!   level of Pillow's). **ICC profiles** are ignored by Pillow's `convert("RGB")` and here.
//! * **Decoders**: PNG, GIF and WebP (lossless and lossy, with or without alpha) decode
//!   bit-identically to Pillow on the fixtures. JPEG does not: zune-jpeg's IDCT and chroma
//!   upsampling differ from libjpeg-turbo's by a few levels in some pixels (after the resize:
//!   at most 4 levels, mean |Δ| ≤ 0.005 in normalised units on the fixtures). A truncated
//!   JPEG (no end-of-image marker) is an error, as in Pillow, not a grey-padded image.
//! * `do_convert_rgb: false` is accepted but the input is still converted to RGB: the output
//!   is always 3 channels (transformers would fail on non-RGB input in that case anyway).
//! * transformers guesses the channel axis of the numpy array and gets images of height 1 or
//!   3 wrong (a 1×1 image raises, 2×3 is scrambled); this module always knows the layout and
//!   matches transformers called with `input_data_format="channels_last"`.
//! * **Limits**: before any pixel buffer is allocated, the header dimensions are checked
//!   against [`DecodeOptions`] (default 65 535 per side, 64 Mi pixels, 1 GiB decoder
//!   allocations, also passed to the `image` crate's own `Limits`); resized edges are capped at
//!   2^24 (where Pillow's `f32` box coordinates stop being exact) and the output at
//!   `max_pixels`. Violations are a typed [`PreprocessError`], never an abort.
//! * Config `null` values count as absent (CLIP default). Unknown keys are ignored.
//!
//! Browser note: pixels read back from a canvas have been through the browser's decoder, EXIF
//! rotation and colour management, and translucent pixels lose precision through
//! premultiplication; for results identical to the Python reference pass the original file
//! bytes to [`preprocess_bytes`].

use std::io::Cursor;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// transformers' `OPENAI_CLIP_MEAN`.
pub const OPENAI_CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
/// transformers' `OPENAI_CLIP_STD`.
pub const OPENAI_CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];
/// Default cap on decoded (and output) pixel count: 64 Mi pixels.
pub const DEFAULT_MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// Default cap on each image side.
pub const DEFAULT_MAX_SIDE: u32 = 65_535;
/// Default cap on a single decoder's allocations, passed to the `image` crate's `Limits`.
pub const DEFAULT_MAX_DECODE_ALLOC: u64 = 1 << 30;
/// Longest edge the resize step may produce (Pillow keeps box coordinates in `f32`).
pub const MAX_RESIZED_SIDE: u64 = 1 << 24;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Everything that can go wrong; each message says what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PreprocessError {
    /// `preprocessor_config.json` is not valid JSON or holds a value CLIP cannot use.
    #[error(
        "invalid preprocessor config: {0}; fix preprocessor_config.json (CLIP keys: do_resize, size, resample, do_center_crop, crop_size, do_rescale, rescale_factor, do_normalize, image_mean, image_std, do_convert_rgb)"
    )]
    Config(String),
    /// Zero bytes were passed.
    #[error("no image data (0 bytes); pass the contents of a PNG, JPEG, WebP or GIF file")]
    EmptyInput,
    /// The bytes are not any image format the `image` crate knows.
    #[error("unrecognised image data (starts with {0}); pass a PNG, JPEG, WebP or GIF file")]
    UnknownFormat(String),
    /// A known format that this build cannot decode.
    #[error("{0} images are not supported; convert the image to PNG, JPEG, WebP or GIF")]
    UnsupportedFormat(String),
    /// A feature of a supported format that the decoder does not implement.
    #[error(
        "unsupported {format} variant: {message}; re-encode the image (e.g. as 8-bit PNG or baseline JPEG)"
    )]
    UnsupportedContent {
        /// Container format.
        format: &'static str,
        /// Decoder message.
        message: String,
    },
    /// Truncated or corrupt file.
    #[error(
        "could not decode the {format} image: {message}; the file is probably truncated or corrupt, re-export or re-download it"
    )]
    Decode {
        /// Container format.
        format: &'static str,
        /// Decoder message.
        message: String,
    },
    /// The image has a zero side.
    #[error("the image has no pixels ({width}x{height}); pass a non-empty image")]
    EmptyImage {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
    },
    /// Over the [`DecodeOptions`] size limits; nothing was allocated.
    #[error(
        "the image is {width}x{height} pixels, over the limit of {max_side} pixels per side and {max_pixels} pixels in total; downscale it first (or raise DecodeOptions limits)"
    )]
    TooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// [`DecodeOptions::max_side`].
        max_side: u32,
        /// [`DecodeOptions::max_pixels`].
        max_pixels: u64,
    },
    /// The decoder would exceed [`DecodeOptions::max_decode_alloc`].
    #[error(
        "decoding the image needs more than {limit_bytes} bytes of memory; downscale it first (or raise DecodeOptions::max_decode_alloc)"
    )]
    MemoryLimit {
        /// The limit in bytes.
        limit_bytes: u64,
    },
    /// A raw pixel buffer ([`preprocess_rgba`] or an [`Rgb8Image`]) has the wrong length.
    #[error(
        "the pixel buffer holds {actual} bytes but {width}x{height} pixels need {expected} ({channels} bytes per pixel, rows top to bottom, no padding); pass the buffer with its own width and height (for a canvas: ImageData.data, .width, .height)"
    )]
    BufferLength {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes per pixel: 4 for RGBA, 3 for [`Rgb8Image`].
        channels: u8,
        /// `width * height * channels`.
        expected: u64,
        /// The slice length.
        actual: usize,
    },
    /// The resize target is absurdly large for this image (extreme aspect ratio).
    #[error(
        "resizing the {width}x{height} image gives a {resized_width}x{resized_height} image, over {max_side} pixels per side; crop the image to a less extreme aspect ratio"
    )]
    ResizeTooLarge {
        /// Source width.
        width: u32,
        /// Source height.
        height: u32,
        /// Resize width.
        resized_width: u64,
        /// Resize height.
        resized_height: u64,
        /// [`MAX_RESIZED_SIDE`].
        max_side: u64,
    },
    /// Without a center crop the output would be too large.
    #[error(
        "the preprocessed image would be {width}x{height} pixels, over the limit of {max_pixels}; enable do_center_crop or choose a smaller size"
    )]
    OutputTooLarge {
        /// Output width.
        width: u64,
        /// Output height.
        height: u64,
        /// [`DecodeOptions::max_pixels`].
        max_pixels: u64,
    },
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

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
        Ok(Self {
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
        })
    }
}

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

/// Decoding options and resource limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Rotate/flip per the EXIF orientation tag (JPEG, PNG `eXIf`, WebP). Default `false`,
    /// matching `CLIPImageProcessor` on a PIL image; `true` matches transformers'
    /// `load_image` (paths, URLs, pipelines) and browsers.
    pub apply_exif_orientation: bool,
    /// Maximum width and height, checked from the header before decoding.
    pub max_side: u32,
    /// Maximum pixel count of the decoded image and of the preprocessed output.
    pub max_pixels: u64,
    /// Maximum allocation of one decoder (the `image` crate's `Limits::max_alloc`).
    pub max_decode_alloc: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            apply_exif_orientation: false,
            max_side: DEFAULT_MAX_SIDE,
            max_pixels: DEFAULT_MAX_PIXELS,
            max_decode_alloc: DEFAULT_MAX_DECODE_ALLOC,
        }
    }
}

impl DecodeOptions {
    pub(crate) fn check_size(&self, width: u64, height: u64) -> Result<(), PreprocessError> {
        if width == 0 || height == 0 {
            return Err(PreprocessError::EmptyImage { width, height });
        }
        if width > u64::from(self.max_side)
            || height > u64::from(self.max_side)
            || width.saturating_mul(height) > self.max_pixels
        {
            return Err(PreprocessError::TooLarge {
                width,
                height,
                max_side: self.max_side,
                max_pixels: self.max_pixels,
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Images and tensors
// ---------------------------------------------------------------------------------------------

/// An 8-bit RGB image, rows top to bottom, `[R, G, B]` per pixel, no padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgb8Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

impl Rgb8Image {
    /// Opaque RGBA bytes, e.g. for a canvas `ImageData`.
    pub fn to_rgba(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() / 3 * 4);
        for p in self.data.chunks_exact(3) {
            out.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        out
    }
}

/// Model input: `[3, height, width]` channel-first `f32`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct PixelTensor {
    /// `3 * height * width` values, channel R then G then B.
    pub data: Vec<f32>,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl PixelTensor {
    /// `[3, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        [3, self.height, self.width]
    }
}

/// Where the preprocessed image comes from in the source image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Source width.
    pub source_width: u32,
    /// Source height.
    pub source_height: u32,
    /// Size after the resize step (the source size if `do_resize` is off).
    pub resized_width: u64,
    /// Size after the resize step.
    pub resized_height: u64,
    /// Left edge of the crop in resized coordinates (negative: zero padding on the left).
    pub crop_left: i64,
    /// Top edge of the crop in resized coordinates (negative: zero padding on top).
    pub crop_top: i64,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
}

impl Geometry {
    /// Computes the geometry transformers would use for a `width`×`height` source.
    pub fn new(cfg: &PreprocessConfig, width: u32, height: u32) -> Result<Self, PreprocessError> {
        if width == 0 || height == 0 {
            return Err(PreprocessError::EmptyImage {
                width: width.into(),
                height: height.into(),
            });
        }
        let (rw, rh) = if cfg.do_resize {
            match cfg.size {
                ResizeTarget::Exact {
                    height: h,
                    width: w,
                } => (u64::from(w), u64::from(h)),
                ResizeTarget::ShortestEdge(s) => {
                    let (short, long) = if width <= height {
                        (width, height)
                    } else {
                        (height, width)
                    };
                    // Python: int(s * long / short) -- exact integer product, correctly rounded
                    // true division, truncation.
                    let new_long =
                        ((u64::from(s) * u64::from(long)) as f64 / f64::from(short)) as u64;
                    if width <= height {
                        (u64::from(s), new_long)
                    } else {
                        (new_long, u64::from(s))
                    }
                }
            }
        } else {
            (u64::from(width), u64::from(height))
        };
        if rw > MAX_RESIZED_SIDE || rh > MAX_RESIZED_SIDE {
            return Err(PreprocessError::ResizeTooLarge {
                width,
                height,
                resized_width: rw,
                resized_height: rh,
                max_side: MAX_RESIZED_SIDE,
            });
        }
        let (crop_left, crop_top, ow, oh) = if cfg.do_center_crop {
            let (cw, ch) = (cfg.crop_size.width, cfg.crop_size.height);
            (
                (rw as i64 - i64::from(cw)).div_euclid(2),
                (rh as i64 - i64::from(ch)).div_euclid(2),
                cw,
                ch,
            )
        } else {
            (0, 0, rw as u32, rh as u32)
        };
        Ok(Self {
            source_width: width,
            source_height: height,
            resized_width: rw,
            resized_height: rh,
            crop_left,
            crop_top,
            width: ow,
            height: oh,
        })
    }

    /// Maps a point of the output image (pixel centres at `x + 0.5`) to source-image
    /// coordinates, for drawing overlays on the original.
    pub fn to_source(&self, x: f64, y: f64) -> (f64, f64) {
        let sx = f64::from(self.source_width) / self.resized_width as f64;
        let sy = f64::from(self.source_height) / self.resized_height as f64;
        (
            (x + self.crop_left as f64) * sx,
            (y + self.crop_top as f64) * sy,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// Encoded image (PNG, JPEG, WebP, GIF) → `[3, H, W]` model input, default [`DecodeOptions`].
pub fn preprocess_bytes(
    cfg: &PreprocessConfig,
    bytes: &[u8],
) -> Result<PixelTensor, PreprocessError> {
    preprocess_bytes_with(cfg, bytes, &DecodeOptions::default())
}

/// [`preprocess_bytes`] with explicit options.
pub fn preprocess_bytes_with(
    cfg: &PreprocessConfig,
    bytes: &[u8],
    opts: &DecodeOptions,
) -> Result<PixelTensor, PreprocessError> {
    Ok(to_tensor(cfg, &prepare_bytes(cfg, bytes, opts)?))
}

/// Raw RGBA pixels (a canvas `ImageData`: `width * height * 4` bytes) → model input.
/// Alpha is dropped, like Pillow's `convert("RGB")`.
pub fn preprocess_rgba(
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
) -> Result<PixelTensor, PreprocessError> {
    preprocess_rgba_with(cfg, width, height, rgba, &DecodeOptions::default())
}

/// [`preprocess_rgba`] with explicit limits.
pub fn preprocess_rgba_with(
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
    opts: &DecodeOptions,
) -> Result<PixelTensor, PreprocessError> {
    Ok(to_tensor(
        cfg,
        &prepare_rgba(cfg, width, height, rgba, opts)?,
    ))
}

/// Encoded image → the resized and cropped 8-bit RGB image (before rescale/normalize).
pub fn prepare_bytes(
    cfg: &PreprocessConfig,
    bytes: &[u8],
    opts: &DecodeOptions,
) -> Result<Rgb8Image, PreprocessError> {
    let rgb = decode_rgb(bytes, opts)?;
    resize_and_crop(cfg, &rgb, opts)
}

/// RGBA pixels → the resized and cropped 8-bit RGB image (before rescale/normalize).
pub fn prepare_rgba(
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
    opts: &DecodeOptions,
) -> Result<Rgb8Image, PreprocessError> {
    let rgb = rgb_from_rgba(width, height, rgba, opts)?;
    resize_and_crop(cfg, &rgb, opts)
}

/// RGBA → RGB by dropping alpha, after checking limits and the buffer length.
pub fn rgb_from_rgba(
    width: u32,
    height: u32,
    rgba: &[u8],
    opts: &DecodeOptions,
) -> Result<Rgb8Image, PreprocessError> {
    opts.check_size(width.into(), height.into())?;
    check_buffer(width, height, 4, rgba.len())?;
    let mut data = Vec::with_capacity(rgba.len() / 4 * 3);
    for p in rgba.chunks_exact(4) {
        data.extend_from_slice(&p[..3]);
    }
    Ok(Rgb8Image {
        width,
        height,
        data,
    })
}

pub(crate) fn check_buffer(
    width: u32,
    height: u32,
    channels: u8,
    actual: usize,
) -> Result<(), PreprocessError> {
    let expected = u64::from(width) * u64::from(height) * u64::from(channels);
    if actual as u64 != expected {
        return Err(PreprocessError::BufferLength {
            width,
            height,
            channels,
            expected,
            actual,
        });
    }
    Ok(())
}

/// [`Geometry::new`] plus the output pixel limit (shared with the GPU path).
pub(crate) fn output_geometry(
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    opts: &DecodeOptions,
) -> Result<Geometry, PreprocessError> {
    let g = Geometry::new(cfg, width, height)?;
    let out_pixels = u64::from(g.width) * u64::from(g.height);
    if out_pixels > opts.max_pixels {
        return Err(PreprocessError::OutputTooLarge {
            width: g.width.into(),
            height: g.height.into(),
            max_pixels: opts.max_pixels,
        });
    }
    Ok(g)
}

/// Resize (if configured) and center crop (if configured), as transformers does.
pub fn resize_and_crop(
    cfg: &PreprocessConfig,
    img: &Rgb8Image,
    opts: &DecodeOptions,
) -> Result<Rgb8Image, PreprocessError> {
    check_buffer(img.width, img.height, 3, img.data.len())?;
    let g = output_geometry(cfg, img.width, img.height, opts)?;
    Ok(resample_window(
        img,
        &g,
        if cfg.do_resize {
            cfg.resample
        } else {
            Resample::Nearest
        },
    ))
}

/// The rescaled and normalised value of every 8-bit level, per channel `[R, G, B][level]`:
/// a table rather than arithmetic so that the GPU kernel, which looks its values up in the
/// same table, agrees to the last bit whatever its division rounds like.
pub fn normalize_lut(cfg: &PreprocessConfig) -> [[f32; 256]; 3] {
    let mut lut = [[0f32; 256]; 3];
    for (c, table) in lut.iter_mut().enumerate() {
        let mean = cfg.image_mean[c] as f32;
        let std = cfg.image_std[c] as f32;
        for (v, slot) in table.iter_mut().enumerate() {
            let mut x = if cfg.do_rescale {
                (v as f64 * cfg.rescale_factor) as f32
            } else {
                v as f32
            };
            if cfg.do_normalize {
                x = (x - mean) / std;
            }
            *slot = x;
        }
    }
    lut
}

/// Rescale and normalise a prepared image into the `[3, H, W]` tensor, with numpy's rounding.
pub fn to_tensor(cfg: &PreprocessConfig, img: &Rgb8Image) -> PixelTensor {
    let lut = normalize_lut(cfg);
    let hw = img.width as usize * img.height as usize;
    let mut data = vec![0f32; 3 * hw];
    let (r, rest) = data.split_at_mut(hw);
    let (g, b) = rest.split_at_mut(hw);
    // (A short buffer leaves zeros rather than panicking; `resize_and_crop` checks lengths.)
    for (((p, r), g), b) in img.data.chunks_exact(3).zip(r).zip(g).zip(b) {
        *r = lut[0][p[0] as usize];
        *g = lut[1][p[1] as usize];
        *b = lut[2][p[2] as usize];
    }
    PixelTensor {
        data,
        height: img.height as usize,
        width: img.width as usize,
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding with Pillow's mode semantics
// ---------------------------------------------------------------------------------------------

fn format_name(f: image::ImageFormat) -> &'static str {
    match f {
        image::ImageFormat::Png => "PNG",
        image::ImageFormat::Jpeg => "JPEG",
        image::ImageFormat::WebP => "WebP",
        image::ImageFormat::Gif => "GIF",
        _ => "image",
    }
}

fn map_image_error(
    e: image::ImageError,
    format: &'static str,
    opts: &DecodeOptions,
) -> PreprocessError {
    use image::error::{ImageError, LimitErrorKind};
    match e {
        ImageError::Limits(l) => match l.kind() {
            LimitErrorKind::InsufficientMemory => PreprocessError::MemoryLimit {
                limit_bytes: opts.max_decode_alloc,
            },
            _ => PreprocessError::Decode {
                format,
                message: l.to_string(),
            },
        },
        ImageError::Unsupported(u) => PreprocessError::UnsupportedContent {
            format,
            message: u.to_string(),
        },
        other => PreprocessError::Decode {
            format,
            message: other.to_string(),
        },
    }
}

/// Decodes PNG, JPEG, WebP or GIF bytes to RGB exactly as Pillow's `Image.open(...)
/// .convert("RGB")` does (module docs list the mode rules).
pub fn decode_rgb(bytes: &[u8], opts: &DecodeOptions) -> Result<Rgb8Image, PreprocessError> {
    if bytes.is_empty() {
        return Err(PreprocessError::EmptyInput);
    }
    let format = image::guess_format(bytes).map_err(|_| {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        PreprocessError::UnknownFormat(format!("bytes {}", head.join(" ")))
    })?;
    match format {
        image::ImageFormat::Gif => decode_gif(bytes, opts),
        image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP => {
            decode_with_image_crate(bytes, format, opts)
        }
        other => Err(PreprocessError::UnsupportedFormat(
            format!("{other:?}").to_uppercase(),
        )),
    }
}

/// PNG bit depth and colour type from the IHDR chunk, if this is a PNG.
fn png_ihdr(bytes: &[u8]) -> Option<(u8, u8)> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() >= 26 && bytes.starts_with(SIG) && &bytes[12..16] == b"IHDR" {
        Some((bytes[24], bytes[25]))
    } else {
        None
    }
}

/// Walks the JPEG marker segments (skipping entropy-coded data) and reports whether the
/// end-of-image marker is reached, i.e. whether the file is complete.
fn jpeg_reaches_eoi(b: &[u8]) -> bool {
    let mut i = 2; // after SOI
    loop {
        // Find the next marker, skipping stray bytes and 0xFF fill bytes.
        while i < b.len() && b[i] != 0xFF {
            i += 1;
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&m) = b.get(i) else { return false };
        i += 1;
        match m {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = b
            .get(i..i + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        i += len;
        if i > b.len() {
            return false;
        }
        if m == 0xDA {
            // Entropy-coded data: runs until a marker other than stuffing (FF 00) or RSTn.
            loop {
                match (b.get(i), b.get(i + 1)) {
                    (Some(0xFF), Some(&n))
                        if n != 0x00 && !(0xD0..=0xD7).contains(&n) && n != 0xFF =>
                    {
                        break;
                    }
                    (Some(_), Some(_)) => i += 1,
                    _ => return false,
                }
            }
        }
    }
}

fn decode_with_image_crate(
    bytes: &[u8],
    format: image::ImageFormat,
    opts: &DecodeOptions,
) -> Result<Rgb8Image, PreprocessError> {
    use image::ImageDecoder;
    let name = format_name(format);
    let err = |e| map_image_error(e, name, opts);

    let mut limits = image::Limits::default();
    limits.max_alloc = Some(opts.max_decode_alloc);
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(err)?;
    let (w, h) = decoder.dimensions();
    opts.check_size(w.into(), h.into())?;
    limits.max_image_width = Some(opts.max_side);
    limits.max_image_height = Some(opts.max_side);
    decoder.set_limits(limits).map_err(err)?;
    if format == image::ImageFormat::Jpeg && !jpeg_reaches_eoi(bytes) {
        // zune-jpeg pads a truncated scan with grey; Pillow (libjpeg) refuses the file.
        return Err(PreprocessError::Decode {
            format: name,
            message: "the data ends before the end-of-image marker".into(),
        });
    }
    let orientation = if opts.apply_exif_orientation {
        decoder
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms)
    } else {
        image::metadata::Orientation::NoTransforms
    };
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(err)?;
    img.apply_orientation(orientation);

    // Pillow opens 16-bit greyscale PNG (colour type 0, with or without tRNS) as "I;16",
    // whose convert("RGB") saturates at 255; every other 16-bit PNG keeps the high byte.
    let saturate_grey16 = matches!(png_ihdr(bytes), Some((16, 0)));
    Ok(dynamic_to_rgb(img, saturate_grey16))
}

fn dynamic_to_rgb(img: image::DynamicImage, saturate_grey16: bool) -> Rgb8Image {
    use image::DynamicImage as D;
    let (width, height) = (img.width(), img.height());
    let grey16 = |v: u16| {
        if saturate_grey16 {
            v.min(255) as u8
        } else {
            (v >> 8) as u8
        }
    };
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    match img {
        D::ImageRgb8(b) => data = b.into_raw(),
        D::ImageRgba8(b) => b
            .as_raw()
            .chunks_exact(4)
            .for_each(|p| data.extend_from_slice(&p[..3])),
        D::ImageLuma8(b) => b
            .as_raw()
            .iter()
            .for_each(|&v| data.extend_from_slice(&[v, v, v])),
        D::ImageLumaA8(b) => b
            .as_raw()
            .chunks_exact(2)
            .for_each(|p| data.extend_from_slice(&[p[0]; 3])),
        D::ImageLuma16(b) => b
            .as_raw()
            .iter()
            .for_each(|&v| data.extend_from_slice(&[grey16(v); 3])),
        D::ImageLumaA16(b) => b
            .as_raw()
            .chunks_exact(2)
            .for_each(|p| data.extend_from_slice(&[grey16(p[0]); 3])),
        D::ImageRgb16(b) => b.as_raw().iter().for_each(|&v| data.push((v >> 8) as u8)),
        D::ImageRgba16(b) => b.as_raw().chunks_exact(4).for_each(|p| {
            data.extend_from_slice(&[(p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8])
        }),
        other => data = other.to_rgb8().into_raw(),
    }
    Rgb8Image {
        width,
        height,
        data,
    }
}

/// First GIF frame, composed as Pillow composes it (module docs).
fn decode_gif(bytes: &[u8], opts: &DecodeOptions) -> Result<Rgb8Image, PreprocessError> {
    let derr = |e: gif::DecodingError| match e {
        gif::DecodingError::MemoryLimit => PreprocessError::MemoryLimit {
            limit_bytes: opts.max_decode_alloc,
        },
        other => PreprocessError::Decode {
            format: "GIF",
            message: other.to_string(),
        },
    };
    let mut o = gif::DecodeOptions::new();
    o.set_color_output(gif::ColorOutput::Indexed);
    if let Some(limit) = std::num::NonZeroU64::new(opts.max_decode_alloc) {
        o.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut dec = o.read_info(Cursor::new(bytes)).map_err(derr)?;
    let (sw, sh) = (u32::from(dec.width()), u32::from(dec.height()));
    let global = dec.global_palette().map(<[u8]>::to_vec);
    let Some(frame) = dec.next_frame_info().map_err(derr)? else {
        return Err(PreprocessError::Decode {
            format: "GIF",
            message: "the file has no image frame".into(),
        });
    };
    let (left, top) = (u32::from(frame.left), u32::from(frame.top));
    let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
    let transparent = frame.transparent;
    let palette = frame.palette.clone().or(global);
    // Pillow grows the canvas when the first frame sticks out of the logical screen.
    let (cw, ch) = (sw.max(left + fw), sh.max(top + fh));
    opts.check_size(cw.into(), ch.into())?;
    opts.check_size(fw.max(1).into(), fh.max(1).into())?;
    let mut indices = vec![0u8; dec.buffer_size()];
    dec.read_into_buffer(&mut indices).map_err(derr)?;

    let fill = transparent.unwrap_or(0);
    let mut canvas = vec![fill; cw as usize * ch as usize];
    for y in 0..fh as usize {
        let src = &indices[y * fw as usize..(y + 1) * fw as usize];
        let row = (top as usize + y) * cw as usize + left as usize;
        canvas[row..row + fw as usize].copy_from_slice(src);
    }
    // No palette, or the identity grey ramp: Pillow uses mode "L" (index = grey level).
    let is_ramp = |p: &[u8]| {
        p.chunks_exact(3)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&v| usize::from(v) == i))
    };
    let lut: Vec<[u8; 3]> = match palette.as_deref() {
        Some(p) if !is_ramp(p) => (0..256)
            .map(|i| {
                p.get(i * 3..i * 3 + 3)
                    .map_or([0, 0, 0], |c| [c[0], c[1], c[2]])
            })
            .collect(),
        _ => (0..=255u8).map(|i| [i, i, i]).collect(),
    };
    let mut data = Vec::with_capacity(canvas.len() * 3);
    for &i in &canvas {
        data.extend_from_slice(&lut[usize::from(i)]);
    }
    Ok(Rgb8Image {
        width: cw,
        height: ch,
        data,
    })
}

// ---------------------------------------------------------------------------------------------
// Pillow resampling, restricted to the crop window
// ---------------------------------------------------------------------------------------------

/// Pillow's `PRECISION_BITS` for 8-bit resampling.
pub(crate) const PRECISION_BITS: u32 = 32 - 8 - 2;

fn filter_support(f: Resample) -> f64 {
    match f {
        Resample::Box => 0.5,
        Resample::Bilinear | Resample::Hamming => 1.0,
        Resample::Bicubic => 2.0,
        Resample::Lanczos => 3.0,
        Resample::Nearest => 0.0,
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

/// Pillow's kernels, with its operation order (bit-exact in `f64`).
fn filter_weight(f: Resample, x: f64) -> f64 {
    match f {
        Resample::Box => {
            if x > -0.5 && x <= 0.5 {
                1.0
            } else {
                0.0
            }
        }
        Resample::Bilinear => {
            let x = x.abs();
            if x < 1.0 { 1.0 - x } else { 0.0 }
        }
        Resample::Hamming => {
            let x = x.abs();
            if x == 0.0 {
                1.0
            } else if x >= 1.0 {
                0.0
            } else {
                let x = x * std::f64::consts::PI;
                // Pillow writes the constants as C floats (0.54f, 0.46f).
                x.sin() / x * (f64::from(0.54f32) + f64::from(0.46f32) * x.cos())
            }
        }
        Resample::Bicubic => {
            const A: f64 = -0.5;
            let x = x.abs();
            if x < 1.0 {
                ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
            } else if x < 2.0 {
                (((x - 5.0) * x + 8.0) * x - 4.0) * A
            } else {
                0.0
            }
        }
        Resample::Lanczos => {
            if (-3.0..3.0).contains(&x) {
                sinc(x) * sinc(x / 3.0)
            } else {
                0.0
            }
        }
        Resample::Nearest => 0.0,
    }
}

/// Fixed-point taps for a range of output positions along one axis (also uploaded as is to
/// the GPU resampling kernel, `crate::gpu::preprocess`).
pub(crate) struct Taps {
    /// First source index per output position.
    pub(crate) first: Vec<usize>,
    /// `(offset into weights, count)` per output position.
    pub(crate) span: Vec<(usize, usize)>,
    pub(crate) weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for output positions `out_range`.
pub(crate) fn taps(
    f: Resample,
    in_size: u64,
    out_size: u64,
    out_range: std::ops::Range<u64>,
) -> Taps {
    // box = (0, in_size) held as C floats; in_size < 2^24 so exact.
    let scale = (in_size as f32 as f64) / out_size as f64;
    let filterscale = if scale < 1.0 { 1.0 } else { scale };
    let support = filter_support(f) * filterscale;
    let ss = 1.0 / filterscale;
    let n = (out_range.end - out_range.start) as usize;
    let mut t = Taps {
        first: Vec::with_capacity(n),
        span: Vec::with_capacity(n),
        weights: Vec::new(),
    };
    let mut k: Vec<f64> = Vec::new();
    for xx in out_range {
        let center = 0.0 + (xx as f64 + 0.5) * scale;
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
        let count = (xmax - xmin).max(0) as usize;
        k.clear();
        let mut ww = 0.0;
        for x in 0..count {
            let w = filter_weight(f, ((x as i64 + xmin) as f64 - center + 0.5) * ss);
            k.push(w);
            ww += w;
        }
        let offset = t.weights.len();
        for &w in &k {
            let w = if ww != 0.0 { w / ww } else { w };
            let scaled = w * f64::from(1u32 << PRECISION_BITS);
            t.weights.push(if w < 0.0 {
                (-0.5 + scaled) as i32
            } else {
                (0.5 + scaled) as i32
            });
        }
        t.first.push(xmin as usize);
        t.span.push((offset, count));
    }
    t
}

#[inline]
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Output positions `[start, end)` of the crop window that fall inside the resized image.
pub(crate) fn inside(crop_start: i64, crop_len: u32, resized: u64) -> (u64, u64) {
    let start = crop_start.clamp(0, resized as i64) as u64;
    let end = (crop_start + i64::from(crop_len)).clamp(0, resized as i64) as u64;
    (start, end.max(start))
}

/// Pillow's nearest-neighbour source indices (accumulated like `ImagingScaleAffine`).
pub(crate) fn nearest_index(
    in_size: u64,
    out_size: u64,
    range: std::ops::Range<u64>,
) -> Vec<Option<usize>> {
    let a = (in_size as f32 as f64) / out_size as f64;
    let mut pos = 0.0 + a * 0.5;
    let mut out = Vec::with_capacity((range.end - range.start) as usize);
    for x in 0..range.end {
        if x >= range.start {
            let i = if pos < 0.0 { -1 } else { pos as i64 };
            out.push((i >= 0 && (i as u64) < in_size).then_some(i as usize));
        }
        pos += a;
    }
    out
}

/// Resize `img` to the geometry's resized size, but only compute the crop window; pixels of
/// the window outside the resized image are zero.
fn resample_window(img: &Rgb8Image, g: &Geometry, f: Resample) -> Rgb8Image {
    let (iw, ih) = (u64::from(img.width), u64::from(img.height));
    let (rw, rh) = (g.resized_width, g.resized_height);
    let (ow, oh) = (g.width as usize, g.height as usize);
    let mut out = vec![0u8; ow * oh * 3];
    let (x0, x1) = inside(g.crop_left, g.width, rw);
    let (y0, y1) = inside(g.crop_top, g.height, rh);
    if x0 == x1 || y0 == y1 {
        return Rgb8Image {
            width: g.width,
            height: g.height,
            data: out,
        };
    }
    // Destination offset of resized position (x0, y0).
    let dx = (x0 as i64 - g.crop_left) as usize;
    let dy = (y0 as i64 - g.crop_top) as usize;
    let cols = (x1 - x0) as usize;
    let src = &img.data;
    let stride = img.width as usize * 3;

    let same_size = rw == iw && rh == ih;
    if f == Resample::Nearest || same_size {
        let xs = if rw == iw {
            (x0..x1).map(|x| Some(x as usize)).collect()
        } else {
            nearest_index(iw, rw, x0..x1)
        };
        let ys = if rh == ih {
            (y0..y1).map(|y| Some(y as usize)).collect()
        } else {
            nearest_index(ih, rh, y0..y1)
        };
        for (j, sy) in ys.iter().enumerate() {
            let Some(sy) = *sy else { continue };
            let row = &mut out[((dy + j) * ow + dx) * 3..];
            for (i, sx) in xs.iter().enumerate() {
                if let Some(sx) = *sx {
                    let s = sy * stride + sx * 3;
                    row[i * 3..i * 3 + 3].copy_from_slice(&src[s..s + 3]);
                }
            }
        }
        return Rgb8Image {
            width: g.width,
            height: g.height,
            data: out,
        };
    }

    // Vertical taps first: they decide which source rows the horizontal pass must produce.
    let need_vertical = rh != ih;
    let need_horizontal = rw != iw;
    let vt = need_vertical.then(|| taps(f, ih, rh, y0..y1));
    let (row_first, row_end) = match &vt {
        Some(t) => {
            let first = t.first[0];
            let last = t.first.len() - 1;
            (first, t.first[last] + t.span[last].1)
        }
        None => (y0 as usize, y1 as usize),
    };
    let rows = row_end.saturating_sub(row_first);

    // Horizontal pass: rows [row_first, row_end), resized columns [x0, x1), rounded to u8.
    let mut tmp = vec![0u8; rows * cols * 3];
    if need_horizontal {
        let ht = taps(f, iw, rw, x0..x1);
        for r in 0..rows {
            let srow = &src[(row_first + r) * stride..(row_first + r + 1) * stride];
            let trow = &mut tmp[r * cols * 3..(r + 1) * cols * 3];
            for c in 0..cols {
                let (off, n) = ht.span[c];
                let base = ht.first[c] * 3;
                let mut acc = [1i64 << (PRECISION_BITS - 1); 3];
                for (k, &w) in ht.weights[off..off + n].iter().enumerate() {
                    let p = &srow[base + k * 3..base + k * 3 + 3];
                    acc[0] += i64::from(p[0]) * i64::from(w);
                    acc[1] += i64::from(p[1]) * i64::from(w);
                    acc[2] += i64::from(p[2]) * i64::from(w);
                }
                trow[c * 3] = clip8(acc[0]);
                trow[c * 3 + 1] = clip8(acc[1]);
                trow[c * 3 + 2] = clip8(acc[2]);
            }
        }
    } else {
        for r in 0..rows {
            let s = (row_first + r) * stride + x0 as usize * 3;
            tmp[r * cols * 3..(r + 1) * cols * 3].copy_from_slice(&src[s..s + cols * 3]);
        }
    }

    // Vertical pass into the output window.
    let out_rows = (y1 - y0) as usize;
    for j in 0..out_rows {
        let dst = &mut out[((dy + j) * ow + dx) * 3..((dy + j) * ow + dx + cols) * 3];
        match &vt {
            Some(t) => {
                let (off, n) = t.span[j];
                let base = t.first[j] - row_first;
                for (c, px) in dst.chunks_exact_mut(3).enumerate() {
                    let mut acc = [1i64 << (PRECISION_BITS - 1); 3];
                    for (k, &w) in t.weights[off..off + n].iter().enumerate() {
                        let p = &tmp[((base + k) * cols + c) * 3..((base + k) * cols + c) * 3 + 3];
                        acc[0] += i64::from(p[0]) * i64::from(w);
                        acc[1] += i64::from(p[1]) * i64::from(w);
                        acc[2] += i64::from(p[2]) * i64::from(w);
                    }
                    px[0] = clip8(acc[0]);
                    px[1] = clip8(acc[1]);
                    px[2] = clip8(acc[2]);
                }
            }
            None => dst.copy_from_slice(&tmp[j * cols * 3..(j + 1) * cols * 3]),
        }
    }
    Rgb8Image {
        width: g.width,
        height: g.height,
        data: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(width: u32, height: u32, data: Vec<u8>) -> Rgb8Image {
        Rgb8Image {
            width,
            height,
            data,
        }
    }

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

    #[test]
    fn geometry_matches_transformers_rounding() {
        let c = PreprocessConfig::default();
        // 225x300: short 225 -> 224, long int(224 * 300 / 225) = int(298.67) = 298.
        let g = Geometry::new(&c, 225, 300).unwrap();
        assert_eq!((g.resized_width, g.resized_height), (224, 298));
        assert_eq!((g.crop_left, g.crop_top), (0, 37));
        let g = Geometry::new(&c, 1000, 7).unwrap();
        assert_eq!((g.resized_width, g.resized_height), (32000, 224));
        assert_eq!(g.crop_left, (32000 - 224) / 2);
        // Smaller than the crop: negative offset (zero padding), floor division.
        let small = PreprocessConfig {
            size: ResizeTarget::ShortestEdge(41),
            ..c.clone()
        };
        let g = Geometry::new(&small, 41, 41).unwrap();
        assert_eq!(g.crop_left, -92); // (41 - 224) // 2 = -91.5 floored
        let (x, y) = g.to_source(92.0, 92.0);
        assert_eq!((x, y), (0.0, 0.0));
    }

    #[test]
    fn resize_matches_pillow_values() {
        // Values from Pillow 11.3: Image.fromarray(row).resize((w, 1), BICUBIC) etc.
        let row = rgb(
            5,
            1,
            [0u8, 40, 200, 255, 10]
                .iter()
                .flat_map(|&v| [v, v, 255 - v])
                .collect(),
        );
        let cases: [(Resample, u32, &[u8]); 4] = [
            (Resample::Bicubic, 3, &[10, 189, 118]),
            (Resample::Bicubic, 8, &[0, 8, 47, 154, 235, 255, 109, 0]),
            (Resample::Lanczos, 3, &[1, 198, 122]),
            (Resample::Bilinear, 2, &[73, 155]),
        ];
        for (f, w, expect) in cases {
            let cfg = PreprocessConfig {
                size: ResizeTarget::Exact {
                    height: 1,
                    width: w,
                },
                resample: f,
                do_center_crop: false,
                ..PreprocessConfig::default()
            };
            let out = resize_and_crop(&cfg, &row, &DecodeOptions::default()).unwrap();
            let red: Vec<u8> = out.data.chunks_exact(3).map(|p| p[0]).collect();
            assert_eq!(red, expect, "{f:?} to width {w}");
        }
    }

    #[test]
    fn same_size_and_single_pixel_are_exact() {
        let data: Vec<u8> = (0..224 * 224 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let img = rgb(224, 224, data.clone());
        let out = resize_and_crop(
            &PreprocessConfig::default(),
            &img,
            &DecodeOptions::default(),
        )
        .unwrap();
        assert_eq!(out.data, data);
        let one = rgb(1, 1, vec![200, 120, 40]);
        let out = resize_and_crop(
            &PreprocessConfig::default(),
            &one,
            &DecodeOptions::default(),
        )
        .unwrap();
        assert!(out.data.chunks_exact(3).all(|p| p == [200, 120, 40]));
    }

    #[test]
    fn tensor_is_channel_first_and_normalised() {
        let img = rgb(2, 1, vec![0, 128, 255, 10, 20, 30]);
        let t = to_tensor(&PreprocessConfig::default(), &img);
        assert_eq!(t.shape(), [3, 1, 2]);
        let expect = |v: u8, c: usize| {
            ((v as f64 / 255.0) as f32 - OPENAI_CLIP_MEAN[c] as f32) / OPENAI_CLIP_STD[c] as f32
        };
        assert_eq!(t.data[0], expect(0, 0));
        assert_eq!(t.data[1], expect(10, 0));
        assert_eq!(t.data[2], expect(128, 1));
        assert_eq!(t.data[5], expect(30, 2));
    }

    #[test]
    fn rgba_input_checks_length_and_limits() {
        let c = PreprocessConfig::default();
        let e = preprocess_rgba(&c, 2, 2, &[0; 15]).unwrap_err();
        assert!(
            matches!(
                e,
                PreprocessError::BufferLength {
                    channels: 4,
                    expected: 16,
                    actual: 15,
                    ..
                }
            ),
            "{e}"
        );
        let e = preprocess_rgba(&c, 100_000, 100_000, &[]).unwrap_err();
        assert!(matches!(e, PreprocessError::TooLarge { .. }), "{e}");
        let e = preprocess_rgba(&c, 0, 5, &[]).unwrap_err();
        assert!(matches!(e, PreprocessError::EmptyImage { .. }), "{e}");
        // Alpha is dropped: a fully transparent red pixel stays red.
        let t = preprocess_rgba(&c, 1, 1, &[255, 0, 0, 0]).unwrap();
        assert!(t.data[0] > 1.9 && t.data[224 * 224] < -1.7);
    }

    #[test]
    fn bad_bytes_are_typed_errors() {
        let c = PreprocessConfig::default();
        assert_eq!(
            preprocess_bytes(&c, &[]).unwrap_err(),
            PreprocessError::EmptyInput
        );
        assert!(matches!(
            preprocess_bytes(&c, b"hello world").unwrap_err(),
            PreprocessError::UnknownFormat(_)
        ));
        let e = preprocess_bytes(&c, b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00")
            .unwrap_err();
        assert!(matches!(e, PreprocessError::UnsupportedFormat(_)), "{e}");
        let e = preprocess_bytes(&c, b"\x89PNG\r\n\x1a\n\x00\x00").unwrap_err();
        assert!(
            matches!(e, PreprocessError::Decode { format: "PNG", .. }),
            "{e}"
        );
        let e = preprocess_bytes(&c, b"GIF89a\x01").unwrap_err();
        assert!(
            matches!(e, PreprocessError::Decode { format: "GIF", .. }),
            "{e}"
        );
    }

    #[test]
    fn output_limit_without_crop() {
        let c = PreprocessConfig {
            size: ResizeTarget::Exact {
                height: 5000,
                width: 5000,
            },
            do_center_crop: false,
            ..PreprocessConfig::default()
        };
        let opts = DecodeOptions {
            max_pixels: 1_000_000,
            ..DecodeOptions::default()
        };
        let e = resize_and_crop(&c, &rgb(1, 1, vec![0; 3]), &opts).unwrap_err();
        assert!(matches!(e, PreprocessError::OutputTooLarge { .. }), "{e}");
    }
}
