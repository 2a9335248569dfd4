//! The images and tensors the pipeline passes along: [`Rgb8Image`] (8-bit RGB), [`PixelTensor`]
//! (the model's `[3, H, W]` input) and [`Geometry`] (where the resized, cropped image lies in
//! the source).

use super::config::{PreprocessConfig, ResizeTarget};
use super::error::PreprocessError;

/// Longest edge the resize step may produce (Pillow keeps box coordinates in `f32`).
pub const MAX_RESIZED_SIDE: u64 = 1 << 24;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
