//! The relevance overlay the page draws over an uploaded image: the guard's patch relevance grid
//! ([`crate::leakage::guard::Guard::relevance_map`]) upsampled to the displayed size, coloured
//! and alpha-blended over the pixels, optionally after a box blur (uploaded images may be
//! unsafe, so the page shows them blurred until the person asks to see them).
//!
//! This is the CPU implementation, used on the CPU backend, and the reference of the WGSL
//! shaders `shaders/box_blur.wgsl` and `shaders/relevance_overlay.wgsl` (launched by
//! [`crate::gpu::overlay`]). Both do integer arithmetic only, so they produce the same bytes;
//! everything in floating point (relevance scaled to 8-bit levels, the colour table, where the
//! grid lies on the image) is decided here once, in an [`OverlayPlan`], for both.
//!
//! Images are RGBA8, rows top to bottom, no padding: a canvas `ImageData`, ready for
//! `putImageData`.

use crate::preprocess::Geometry;

/// Largest relevance grid side (a ViT-B/32 at 224 px has 7, ViT-L/14 at 336 px has 24).
pub const MAX_GRID: u32 = 256;
/// Largest blur radius in pixels.
pub const MAX_BLUR_RADIUS: u32 = 255;
/// Largest displayed image side (keeps the shader's fixed-point positions inside `u32`).
pub const MAX_SIDE: u32 = 32_768;

/// Why an overlay could not be drawn; each message says what to pass instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverlayError {
    #[error(
        "the image is {width}x{height}; pass a non-empty image of at most {MAX_SIDE} pixels per side"
    )]
    ImageSize { width: u32, height: u32 },
    #[error(
        "the pixel buffer holds {actual} bytes but a {width}x{height} RGBA image needs {expected}; pass ImageData.data with its own width and height"
    )]
    BufferLength {
        width: u32,
        height: u32,
        expected: u64,
        actual: usize,
    },
    #[error(
        "the relevance grid has {values} values for {width}x{height} cells; pass the guard's relevance map with its grid size (1 to {MAX_GRID} per side)"
    )]
    Grid {
        values: usize,
        width: u32,
        height: u32,
    },
    #[error("the grid rectangle is empty ({width}x{height}); map the grid onto at least one pixel")]
    EmptyRect { width: u32, height: u32 },
    #[error("blur radius {0} is over {MAX_BLUR_RADIUS} pixels; downscale the image first")]
    BlurRadius(u32),
}

/// How relevance values become the 256 colour levels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RelevanceScale {
    /// The image's own lowest value is level 0 and its highest level 255: shows where in the
    /// image a concept is strongest, whatever the absolute values.
    MinMax,
    /// `low` is level 0 and `high` level 255, values outside clamped: comparable across images.
    Fixed { low: f32, high: f32 },
}

/// What the page chooses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayOptions {
    /// Alpha of the most relevant colour (0 draws no overlay); lower levels are more
    /// transparent in proportion, so irrelevant regions stay readable.
    pub opacity: u8,
    /// Box blur radius in pixels applied to the image first (0: none).
    pub blur_radius: u32,
    pub scale: RelevanceScale,
}

impl Default for OverlayOptions {
    fn default() -> Self {
        Self {
            opacity: 170,
            blur_radius: 0,
            scale: RelevanceScale::MinMax,
        }
    }
}

/// Where the relevance grid lies on the displayed image, in display pixels; it may extend past
/// the image (a crop padded around a small image) and the part outside is simply not drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridRect {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl GridRect {
    /// The grid stretched over the whole displayed image.
    pub fn whole(width: u32, height: u32) -> Self {
        Self {
            x: 0,
            y: 0,
            width,
            height,
        }
    }

    /// The model-input crop of `geometry` (what the relevance grid covers) on the source image
    /// displayed at `display_width`×`display_height`.
    pub fn from_geometry(geometry: &Geometry, display_width: u32, display_height: u32) -> Self {
        let sx = f64::from(display_width) / f64::from(geometry.source_width);
        let sy = f64::from(display_height) / f64::from(geometry.source_height);
        let (left, top) = geometry.to_source(0.0, 0.0);
        let (right, bottom) =
            geometry.to_source(f64::from(geometry.width), f64::from(geometry.height));
        let (x0, y0) = ((left * sx).round(), (top * sy).round());
        let (x1, y1) = ((right * sx).round(), (bottom * sy).round());
        Self {
            x: x0 as i32,
            y: y0 as i32,
            width: (x1 - x0).max(1.0) as u32,
            height: (y1 - y0).max(1.0) as u32,
        }
    }
}

/// Everything the CPU and GPU implementations take besides the pixels, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlayPlan {
    /// Displayed image size.
    pub width: u32,
    pub height: u32,
    pub rect: GridRect,
    pub grid_width: u32,
    pub grid_height: u32,
    /// Row-major `[grid_height, grid_width]` levels 0..=255.
    pub levels: Vec<u8>,
    /// `colours[level]` RGBA; alpha is how strongly it covers the pixel.
    pub colours: [[u8; 4]; 256],
    pub blur_radius: u32,
}

impl OverlayPlan {
    /// `relevance`: row-major `[grid_height, grid_width]`, e.g. the guard's relevance map.
    pub fn new(
        width: u32,
        height: u32,
        relevance: &[f32],
        grid_width: u32,
        grid_height: u32,
        rect: GridRect,
        options: &OverlayOptions,
    ) -> Result<Self, OverlayError> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(OverlayError::ImageSize { width, height });
        }
        let cells = u64::from(grid_width) * u64::from(grid_height);
        if !(1..=MAX_GRID).contains(&grid_width)
            || !(1..=MAX_GRID).contains(&grid_height)
            || relevance.len() as u64 != cells
        {
            return Err(OverlayError::Grid {
                values: relevance.len(),
                width: grid_width,
                height: grid_height,
            });
        }
        if rect.width == 0 || rect.height == 0 {
            return Err(OverlayError::EmptyRect {
                width: rect.width,
                height: rect.height,
            });
        }
        if options.blur_radius > MAX_BLUR_RADIUS {
            return Err(OverlayError::BlurRadius(options.blur_radius));
        }
        Ok(Self {
            width,
            height,
            rect,
            grid_width,
            grid_height,
            levels: relevance_levels(relevance, options.scale),
            colours: heat_colours(options.opacity),
            blur_radius: options.blur_radius,
        })
    }

    /// Only the blur (no relevance yet, or the overlay switched off).
    pub fn blur_only(width: u32, height: u32, blur_radius: u32) -> Result<Self, OverlayError> {
        let options = OverlayOptions {
            opacity: 0,
            blur_radius,
            scale: RelevanceScale::MinMax,
        };
        Self::new(
            width,
            height,
            &[0.0],
            1,
            1,
            GridRect::whole(width, height),
            &options,
        )
    }

    /// Checks that `rgba` is this plan's image.
    pub fn check_pixels(&self, rgba: &[u8]) -> Result<(), OverlayError> {
        let expected = u64::from(self.width) * u64::from(self.height) * 4;
        if rgba.len() as u64 != expected {
            return Err(OverlayError::BufferLength {
                width: self.width,
                height: self.height,
                expected,
                actual: rgba.len(),
            });
        }
        Ok(())
    }
}

/// The overlay on the CPU: [`box_blur`] (when the plan blurs), then [`blend_relevance`].
pub fn render_overlay(plan: &OverlayPlan, rgba: &[u8]) -> Result<Vec<u8>, OverlayError> {
    plan.check_pixels(rgba)?;
    if plan.blur_radius == 0 {
        return Ok(blend_relevance(plan, rgba));
    }
    let blurred = box_blur(plan.width, plan.height, rgba, plan.blur_radius);
    Ok(blend_relevance(plan, &blurred))
}

/// Relevance values to levels 0..=255 (round to nearest); non-finite values are level 0, and
/// so is everything when the scale has no width.
pub fn relevance_levels(values: &[f32], scale: RelevanceScale) -> Vec<u8> {
    let (low, high) = match scale {
        RelevanceScale::Fixed { low, high } => (low, high),
        RelevanceScale::MinMax => values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            }),
    };
    values
        .iter()
        .map(|&v| {
            let usable = high > low && v.is_finite();
            if !usable {
                return 0;
            }
            let t = ((v - low) / (high - low)).clamp(0.0, 1.0);
            (t * 255.0).round() as u8
        })
        .collect()
}

/// A black-red-yellow-white heat ramp, alpha rising with the level up to `opacity`.
pub fn heat_colours(opacity: u8) -> [[u8; 4]; 256] {
    let mut table = [[0u8; 4]; 256];
    for (level, colour) in table.iter_mut().enumerate() {
        let l = level as u32;
        let ramp = |start: u32| (3 * l).saturating_sub(start).min(255) as u8;
        let alpha = (u32::from(opacity) * l + 127) / 255;
        *colour = [ramp(0), ramp(255), ramp(510), alpha as u8];
    }
    table
}

/// Separable box blur: each channel (alpha too) becomes the rounded mean of the `2r + 1` pixels
/// around it along x, then along y, the edge pixel repeated past the border. A running sum
/// per line; the shader sums each window directly, and the two agree exactly.
pub fn box_blur(width: u32, height: u32, rgba: &[u8], radius: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut tmp = vec![0u8; rgba.len()];
    let mut out = vec![0u8; rgba.len()];
    for y in 0..h {
        blur_line(rgba, &mut tmp, y * w, 1, w, radius);
    }
    for x in 0..w {
        blur_line(&tmp, &mut out, x, w, h, radius);
    }
    out
}

/// Blurs the `len` pixels at `start`, `start + step`, ... of `src` into `dst`.
fn blur_line(src: &[u8], dst: &mut [u8], start: usize, step: usize, len: usize, radius: u32) {
    let r = radius as i64;
    let n = 2 * radius + 1;
    let at = |i: i64| (start + i.clamp(0, len as i64 - 1) as usize * step) * 4;
    let mut sum = [0u32; 4];
    for k in -r..=r {
        let p = at(k);
        for c in 0..4 {
            sum[c] += u32::from(src[p + c]);
        }
    }
    for i in 0..len as i64 {
        let d = at(i);
        for c in 0..4 {
            dst[d + c] = ((sum[c] + n / 2) / n) as u8;
        }
        let (enter, leave) = (at(i + r + 1), at(i - r));
        for c in 0..4 {
            sum[c] = sum[c] + u32::from(src[enter + c]) - u32::from(src[leave + c]);
        }
    }
}

/// The grid's level at display pixel offset `(dx, dy)` inside the rectangle: bilinear between
/// cell centres in 8-bit fixed point per axis, clamped at the grid's edge cells.
fn level_at(plan: &OverlayPlan, dx: u32, dy: u32) -> u32 {
    // Position in 1/256 cells from the first cell centre: ((d + 0.5) * cells / span - 0.5).
    let position = |d: u32, span: u32, cells: u32| {
        let from_edge = ((2 * d + 1) * cells * 128) / span;
        (from_edge as i32 - 128).clamp(0, ((cells - 1) * 256) as i32) as u32
    };
    let (gw, gh) = (plan.grid_width, plan.grid_height);
    let (u, v) = (
        position(dx, plan.rect.width, gw),
        position(dy, plan.rect.height, gh),
    );
    let (x0, y0, fx, fy) = (u >> 8, v >> 8, u & 255, v & 255);
    let (x1, y1) = ((x0 + 1).min(gw - 1), (y0 + 1).min(gh - 1));
    let cell = |x: u32, y: u32| u32::from(plan.levels[(y * gw + x) as usize]);
    let top = cell(x0, y0) * (256 - fx) + cell(x1, y0) * fx;
    let bottom = cell(x0, y1) * (256 - fx) + cell(x1, y1) * fx;
    (top * (256 - fy) + bottom * fy + 32768) >> 16
}

/// The coloured relevance blended over `rgba` inside the plan's rectangle; alpha kept.
pub fn blend_relevance(plan: &OverlayPlan, rgba: &[u8]) -> Vec<u8> {
    let mut out = rgba.to_vec();
    let w = plan.width as usize;
    for (i, px) in out.chunks_exact_mut(4).enumerate() {
        let dx = (i % w) as i64 - i64::from(plan.rect.x);
        let dy = (i / w) as i64 - i64::from(plan.rect.y);
        if dx < 0 || dy < 0 || dx >= i64::from(plan.rect.width) || dy >= i64::from(plan.rect.height)
        {
            continue;
        }
        let colour = plan.colours[level_at(plan, dx as u32, dy as u32) as usize];
        let alpha = u32::from(colour[3]);
        for c in 0..3 {
            let (under, over) = (u32::from(px[c]), u32::from(colour[c]));
            px[c] = ((under * (255 - alpha) + over * alpha + 127) / 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_scale_and_survive_bad_values() {
        let v = [1.0, 5.0, 3.0, f32::NAN];
        assert_eq!(
            relevance_levels(&v, RelevanceScale::MinMax),
            [0, 255, 128, 0]
        );
        assert_eq!(
            relevance_levels(
                &v,
                RelevanceScale::Fixed {
                    low: 1.0,
                    high: 3.0
                }
            ),
            [0, 255, 255, 0]
        );
        assert_eq!(relevance_levels(&[0.5; 3], RelevanceScale::MinMax), [0; 3]);
    }

    #[test]
    fn blur_keeps_flat_images_and_averages_edges() {
        let flat = [9u8, 80, 200, 255].repeat(12);
        assert_eq!(box_blur(4, 3, &flat, 2), flat);
        // One row 0, 0, 255: radius 1 along x gives 0, 85, 170 (edge repeated).
        let row: Vec<u8> = [0u8, 0, 255].iter().flat_map(|&v| [v, v, v, 255]).collect();
        let out = box_blur(3, 1, &row, 1);
        let red: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
        assert_eq!(red, [0, 85, 170]);
    }

    #[test]
    fn zero_opacity_leaves_the_image_unchanged() {
        let img: Vec<u8> = (0..5 * 4 * 4).map(|i| (i * 37 % 256) as u8).collect();
        let plan = OverlayPlan::blur_only(5, 4, 0).unwrap();
        assert_eq!(render_overlay(&plan, &img).unwrap(), img);
    }

    #[test]
    fn the_hottest_cell_gets_the_strongest_colour() {
        let grid = [0.0, 0.0, 0.0, 1.0];
        let opts = OverlayOptions {
            opacity: 255,
            ..OverlayOptions::default()
        };
        let plan = OverlayPlan::new(8, 8, &grid, 2, 2, GridRect::whole(8, 8), &opts).unwrap();
        let out = render_overlay(&plan, &[0u8; 8 * 8 * 4]).unwrap();
        // Bottom-right corner is white (level 255, opaque); top-left stays black.
        assert_eq!(&out[(63 * 4)..(63 * 4 + 3)], &[255, 255, 255]);
        assert_eq!(&out[..3], &[0, 0, 0]);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let opts = OverlayOptions::default();
        let rect = GridRect::whole(4, 4);
        assert!(matches!(
            OverlayPlan::new(4, 4, &[0.0; 3], 2, 2, rect, &opts),
            Err(OverlayError::Grid { .. })
        ));
        assert!(matches!(
            OverlayPlan::new(0, 4, &[0.0; 4], 2, 2, rect, &opts),
            Err(OverlayError::ImageSize { .. })
        ));
        let plan = OverlayPlan::new(4, 4, &[0.0; 4], 2, 2, rect, &opts).unwrap();
        assert!(matches!(
            render_overlay(&plan, &[0; 10]),
            Err(OverlayError::BufferLength { .. })
        ));
    }

    #[test]
    fn grid_rect_follows_the_centre_crop() {
        use crate::preprocess::PreprocessConfig;
        // 300x225 source, shortest edge 224 -> 298x224, crop 224 at x = 37: source x
        // 37.25..262.75, so x 74.5..525.5 on the image shown at twice its size.
        let g = Geometry::new(&PreprocessConfig::default(), 300, 225).unwrap();
        let r = GridRect::from_geometry(&g, 600, 450);
        assert_eq!((r.y, r.height), (0, 450));
        assert!(
            (r.x - 74).abs() <= 1 && (r.width as i32 - 451).abs() <= 1,
            "{r:?}"
        );
    }
}
