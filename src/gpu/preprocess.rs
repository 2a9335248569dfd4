//! CLIP preprocessing on the GPU: RGBA pixels in, the model input `[1, 3, H, W]` out as a Burn
//! tensor on the same device, never read back.
//!
//! The reference is the CPU path, [`crate::preprocess::preprocess_rgba_with`], and the result
//! is bit-identical to it (tests/native/shaders.rs checks every fixture with every filter): the
//! fixed-point taps come from the same function the CPU path calls, the two WGSL passes
//! (`shaders/resample_rows.wgsl`, `shaders/resample_columns.wgsl`) do Pillow's i32
//! accumulate-and-clamp, and the normalised values come from the CPU path's own table.
//!
//! Only the crop window is resampled, as on the CPU: pass 1 resizes horizontally the source
//! rows that pass 2's vertical taps touch, for the window's columns only.

use std::ops::Range;

use burn::tensor::{Device, Tensor};

use super::GpuError;
use super::kernel::{GpuContext, WgslKernel, groups_x};
use crate::preprocess::{
    DecodeOptions, PRECISION_BITS, PreprocessConfig, PreprocessError, Resample, Taps, check_buffer,
    inside, nearest_index, normalize_lut, output_geometry, taps,
};

const RESAMPLE_ROWS: WgslKernel = WgslKernel {
    entry: "resample_rows",
    source: include_str!("../../shaders/resample_rows.wgsl"),
};

const RESAMPLE_COLUMNS: WgslKernel = WgslKernel {
    entry: "resample_columns",
    source: include_str!("../../shaders/resample_columns.wgsl"),
};

/// The model input `[1, 3, H, W]` for an RGBA image (`width * height * 4` bytes, a canvas
/// `ImageData`), computed on `device`'s GPU. Same errors as the CPU path, plus
/// [`GpuError::NotGpu`] on the CPU backend and [`GpuError::TooLarge`] past one buffer's limit
/// (use [`model_input`] to fall back to the CPU in both cases).
pub fn preprocess_rgba_gpu(
    device: &Device,
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
    opts: &DecodeOptions,
) -> Result<Tensor<4>, GpuError> {
    opts.check_size(width.into(), height.into())?;
    check_buffer(width, height, 4, rgba.len())?;
    let g = output_geometry(cfg, width, height, opts)?;
    // As on the CPU: without a resize, both axes keep their size (identity taps).
    let filter = if cfg.do_resize {
        cfg.resample
    } else {
        Resample::Nearest
    };
    let (x0, x1) = inside(g.crop_left, g.width, g.resized_width);
    let (y0, y1) = inside(g.crop_top, g.height, g.resized_height);
    let horizontal = axis_taps(filter, width.into(), g.resized_width, x0..x1);
    let vertical = axis_taps(filter, height.into(), g.resized_height, y0..y1);
    let (first_row, end_row) = source_rows(&vertical);

    let columns = (x1 - x0) as usize;
    let window_rows = (y1 - y0) as usize;
    let rows = end_row - first_row;
    let (ow, oh) = (g.width as usize, g.height as usize);
    let h_taps = flatten(&horizontal);
    let v_taps = flatten(&vertical);
    GpuContext::check_size("source image", rgba.len() as u64)?;
    GpuContext::check_size("horizontally resized rows", 4 * (rows * columns) as u64)?;
    GpuContext::check_size("model input", 12 * (ow * oh) as u64)?;
    GpuContext::check_size("resampling taps", 4 * h_taps.len().max(v_taps.len()) as u64)?;
    // Every size is now under 2^25 words, so the u32 conversions below are exact.
    let u = |v: usize| v as u32;

    let gpu = GpuContext::of(device)?;
    let source = gpu.upload_bytes(rgba);
    let resized_rows = gpu.empty(rows * columns);
    let invocations = u(rows * columns);
    let params = gpu.upload(&[
        u(columns),
        u(rows),
        u(first_row),
        width,
        groups_x(invocations),
    ]);
    let h_taps = gpu.upload(&h_taps);
    gpu.launch(
        RESAMPLE_ROWS,
        invocations,
        &[&source, &h_taps, &params],
        &resized_rows,
    );

    let lut: Vec<f32> = normalize_lut(cfg).into_iter().flatten().collect();
    let lut = gpu.upload(&lut);
    let v_taps = gpu.upload(&v_taps);
    let invocations = u(ow * oh);
    let params = gpu.upload(&[
        u(ow),
        u(oh),
        (x0 as i64 - g.crop_left) as u32,
        (y0 as i64 - g.crop_top) as u32,
        u(columns),
        u(window_rows),
        u(first_row),
        groups_x(invocations),
    ]);
    let pixels = gpu.empty(3 * ow * oh);
    gpu.launch(
        RESAMPLE_COLUMNS,
        invocations,
        &[&resized_rows, &v_taps, &lut, &params],
        &pixels,
    );
    Ok(gpu.float_tensor(pixels, [1, 3, oh, ow]))
}

/// The model input `[1, 3, H, W]` on `device`: computed there when it is a GPU, else (the CPU
/// backend, or an image over one GPU buffer) by the CPU path and uploaded. What the page
/// calls; the values are the same either way.
pub fn model_input(
    device: &Device,
    cfg: &PreprocessConfig,
    width: u32,
    height: u32,
    rgba: &[u8],
    opts: &DecodeOptions,
) -> Result<Tensor<4>, PreprocessError> {
    match preprocess_rgba_gpu(device, cfg, width, height, rgba, opts) {
        Ok(pixels) => Ok(pixels),
        Err(GpuError::Preprocess(e)) => Err(e),
        Err(_) => super::model_input_cpu(device, cfg, width, height, rgba, opts),
    }
}

/// One axis as the CPU path resamples it (`resample_window`): an axis that keeps its size is
/// copied, a nearest-neighbour axis picks one source pixel (none outside the image), any
/// other uses Pillow's taps. The first two become single taps of weight 1.0 in fixed point,
/// which the shaders' accumulate-and-shift returns unchanged.
fn axis_taps(f: Resample, in_size: u64, out_size: u64, range: Range<u64>) -> Taps {
    let one = 1i32 << PRECISION_BITS;
    let picks: Vec<Option<usize>> = if in_size == out_size {
        range.map(|x| Some(x as usize)).collect()
    } else if f == Resample::Nearest {
        nearest_index(in_size, out_size, range)
    } else {
        return taps(f, in_size, out_size, range);
    };
    let mut t = Taps {
        first: Vec::with_capacity(picks.len()),
        span: Vec::with_capacity(picks.len()),
        weights: Vec::with_capacity(picks.len()),
    };
    for pick in picks {
        let offset = t.weights.len();
        match pick {
            Some(i) => {
                t.first.push(i);
                t.span.push((offset, 1));
                t.weights.push(one);
            }
            None => {
                t.first.push(0);
                t.span.push((offset, 0));
            }
        }
    }
    t
}

/// The source rows the vertical taps read: `[first, end)` (empty when they read none).
fn source_rows(t: &Taps) -> (usize, usize) {
    let used = t.first.iter().zip(&t.span).filter(|(_, s)| s.1 > 0);
    let first = used.clone().map(|(f, _)| *f).min();
    let end = used.map(|(f, s)| f + s.1).max();
    match (first, end) {
        (Some(first), Some(end)) => (first, end),
        _ => (0, 0),
    }
}

/// The shaders' layout: `[first, count, weight index]` per output position, then the weights,
/// indices counted from the start of the array.
fn flatten(t: &Taps) -> Vec<i32> {
    let header = 3 * t.first.len();
    let mut out = Vec::with_capacity(header + t.weights.len());
    for (first, (offset, count)) in t.first.iter().zip(&t.span) {
        out.extend([*first as i32, *count as i32, (header + offset) as i32]);
    }
    out.extend_from_slice(&t.weights);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_nearest_axes_are_single_taps() {
        let t = axis_taps(Resample::Bicubic, 5, 5, 1..4);
        assert_eq!(t.first, [1, 2, 3]);
        assert!(t.span.iter().all(|s| s.1 == 1));
        assert!(t.weights.iter().all(|&w| w == 1 << 22));
        let t = axis_taps(Resample::Nearest, 4, 2, 0..2);
        assert_eq!(t.first, [1, 3]);
        assert_eq!(source_rows(&t), (1, 4));
    }

    #[test]
    fn flattened_taps_index_their_weights() {
        let t = axis_taps(Resample::Bilinear, 10, 4, 0..4);
        let flat = flatten(&t);
        for (j, (offset, count)) in t.span.iter().enumerate() {
            assert_eq!(flat[3 * j] as usize, t.first[j]);
            assert_eq!(flat[3 * j + 1] as usize, *count);
            let at = flat[3 * j + 2] as usize;
            assert_eq!(&flat[at..at + count], &t.weights[*offset..offset + count]);
        }
        assert_eq!(
            source_rows(&Taps {
                first: vec![0],
                span: vec![(0, 0)],
                weights: vec![],
            }),
            (0, 0)
        );
    }
}
