// Second (vertical) pass of Pillow's two-pass 8-bit resampling, then transformers' rescale and
// normalise, writing the model input `[3, height, width]` f32 (channel-first).
//
// CPU reference: `resample_window` (the vertical loop) and `to_tensor` in src/preprocess.rs,
// dispatched by src/gpu/preprocess.rs. Every output pixel is written: pixels of the crop that
// fall outside the resized image (a crop larger than the image) are black, as in transformers'
// padding. The normalised value of each 8-bit level comes from a table the CPU fills with the
// CPU path's own arithmetic, so no GPU float rounding can make the two disagree.

// Output of the first pass: [window rows, window columns] of packed 8-bit RGB.
@group(0) @binding(0) var<storage, read_write> rows_in: array<u32>;
// Per output row j of the window: taps[3j] = first source row, taps[3j + 1] = tap count,
// taps[3j + 2] = index of its first weight in this same array.
@group(0) @binding(1) var<storage, read_write> taps: array<i32>;
// lut[256 * channel + level]: the rescaled, normalised value of an 8-bit level.
@group(0) @binding(2) var<storage, read_write> lut: array<f32>;
// [output width, output height, window x, window y, window columns, window rows,
//  first source row held by rows_in, workgroups along x]
@group(0) @binding(3) var<storage, read_write> params: array<u32>;
// [3, output height, output width]
@group(0) @binding(4) var<storage, read_write> pixels: array<f32>;

const PRECISION_BITS: u32 = 22u;
const HALF: i32 = 2097152; // 1 << (PRECISION_BITS - 1): Pillow's rounding term

fn clip8(acc: i32) -> u32 {
    return u32(clamp(acc >> PRECISION_BITS, 0, 255));
}

@compute @workgroup_size(64)
fn resample_columns(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let width = params[0];
    let height = params[1];
    let window_x = params[2];
    let window_y = params[3];
    let columns = params[4];
    let window_rows = params[5];
    let first_row = params[6];
    let groups_x = params[7];
    let plane = width * height;
    let i = (group.y * groups_x + group.x) * 64u + local;
    if (i >= plane) {
        return;
    }
    let y = i / width;
    let x = i % width;
    var rgb = vec3<u32>(0u);
    if (x >= window_x && x - window_x < columns && y >= window_y && y - window_y < window_rows) {
        let c = x - window_x;
        let j = y - window_y;
        let first = u32(taps[3u * j]);
        let count = u32(taps[3u * j + 1u]);
        let offset = u32(taps[3u * j + 2u]);
        var acc = vec3<i32>(HALF);
        for (var k = 0u; k < count; k++) {
            let p = rows_in[(first + k - first_row) * columns + c];
            let v = vec3<i32>(i32(p & 255u), i32((p >> 8u) & 255u), i32((p >> 16u) & 255u));
            acc += v * taps[offset + k];
        }
        rgb = vec3<u32>(clip8(acc.x), clip8(acc.y), clip8(acc.z));
    }
    pixels[i] = lut[rgb.x];
    pixels[plane + i] = lut[256u + rgb.y];
    pixels[2u * plane + i] = lut[512u + rgb.z];
}
