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
//!   `max_pixels`; files over [`MAX_ENCODED_BYTES`] are refused unread. Decoding threads share
//!   one [`DecodeBudget`] of [`MAX_PIXELS_IN_FLIGHT`] (one maximum-size image at a time, not
//!   one per core). Violations are a typed [`PreprocessError`], never an abort.
//! * Config `null` values count as absent (CLIP default). Unknown keys are ignored.
//!
//! Browser note: pixels read back from a canvas have been through the browser's decoder, EXIF
//! rotation and colour management, and translucent pixels lose precision through
//! premultiplication; for results identical to the Python reference pass the original file
//! bytes to [`preprocess_bytes`].

mod config;
mod decode;
mod error;
mod pixels;
mod resample;

pub use config::{
    CropSize, MAX_INPUT_MAGNITUDE, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PreprocessConfig, Resample,
    ResizeTarget,
};
pub use decode::{
    DEFAULT_MAX_DECODE_ALLOC, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, DecodeBudget, DecodeOptions,
    DecodePermit, MAX_ENCODED_BYTES, MAX_PIXELS_IN_FLIGHT, decode_rgb, decode_rgb_in,
};
pub use error::PreprocessError;
pub use pixels::{Geometry, MAX_RESIZED_SIDE, PixelTensor, Rgb8Image};
use resample::resample_window;
// For the GPU kernels (crate::gpu::preprocess), which the threaded wasm build has not.
#[cfg(not(target_feature = "atomics"))]
pub(crate) use resample::{PRECISION_BITS, Taps, inside, nearest_index, taps};

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
    prepare_bytes_in(cfg, bytes, opts, DecodeBudget::global())
}

/// [`prepare_bytes`] within `budget`: the decoded image's pixels count until it is resized.
pub fn prepare_bytes_in(
    cfg: &PreprocessConfig,
    bytes: &[u8],
    opts: &DecodeOptions,
    budget: &DecodeBudget,
) -> Result<Rgb8Image, PreprocessError> {
    let (rgb, permit) = decode_rgb_in(bytes, opts, budget)?;
    let out = resize_and_crop(cfg, &rgb, opts);
    drop((rgb, permit));
    out
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
