//! Pillow's resampling (`ImagingResample` on 8-bit data: separable, horizontal pass first, each
//! rounded to `u8`, 22-bit fixed-point taps), restricted to the crop window.

use super::config::Resample;
use super::pixels::{Geometry, Rgb8Image};

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
pub(super) fn resample_window(img: &Rgb8Image, g: &Geometry, f: Resample) -> Rgb8Image {
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
