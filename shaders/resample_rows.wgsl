// First (horizontal) pass of Pillow's two-pass 8-bit resampling, restricted to the crop window.
//
// CPU reference: `resample_window` in src/preprocess.rs (the horizontal loop), dispatched by
// src/gpu/preprocess.rs. Pillow rounds every pass to 8 bits, so this pass writes 8-bit RGB,
// not floats: the second pass must read exactly what Pillow's second pass reads.
//
// The fixed-point weights are Pillow's (22 fractional bits), computed on the CPU by the very
// function the CPU path uses and uploaded; this kernel only accumulates and clamps, in i32 as
// Pillow does, so the result is bit-identical. An axis that is not resized, or a nearest-
// neighbour axis, arrives as one tap of weight 1.0 (or none, for a pixel outside the image).

// Source pixels, one u32 per pixel: R in the low byte, then G, B, A (A is ignored, like
// Pillow's convert("RGB")).
@group(0) @binding(0) var<storage, read_write> src: array<u32>;
// Per output column c: taps[3c] = first source column, taps[3c + 1] = tap count,
// taps[3c + 2] = index of its first weight in this same array.
@group(0) @binding(1) var<storage, read_write> taps: array<i32>;
// [columns, rows, first source row, source width, workgroups along x]
@group(0) @binding(2) var<storage, read_write> params: array<u32>;
// [rows, columns] of 8-bit RGB packed like `src` (alpha byte zero).
@group(0) @binding(3) var<storage, read_write> rows_out: array<u32>;

const PRECISION_BITS: u32 = 22u;
const HALF: i32 = 2097152; // 1 << (PRECISION_BITS - 1): Pillow's rounding term

fn clip8(acc: i32) -> u32 {
    return u32(clamp(acc >> PRECISION_BITS, 0, 255));
}

@compute @workgroup_size(64)
fn resample_rows(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let columns = params[0];
    let rows = params[1];
    let first_row = params[2];
    let src_width = params[3];
    let groups_x = params[4];
    let i = (group.y * groups_x + group.x) * 64u + local;
    if (i >= columns * rows) {
        return;
    }
    let r = i / columns;
    let c = i % columns;
    let first = u32(taps[3u * c]);
    let count = u32(taps[3u * c + 1u]);
    let offset = u32(taps[3u * c + 2u]);
    let base = (first_row + r) * src_width + first;
    var acc = vec3<i32>(HALF);
    for (var k = 0u; k < count; k++) {
        let p = src[base + k];
        let rgb = vec3<i32>(i32(p & 255u), i32((p >> 8u) & 255u), i32((p >> 16u) & 255u));
        acc += rgb * taps[offset + k];
    }
    rows_out[i] = clip8(acc.x) | (clip8(acc.y) << 8u) | (clip8(acc.z) << 16u);
}
