// One axis of a separable box blur on an RGBA8 image: the page shows uploaded images blurred
// until the person chooses to see them (they may be unsafe).
//
// CPU reference: `box_blur` in src/overlay.rs, dispatched twice (horizontal, then vertical) by
// src/gpu/overlay.rs. Integer arithmetic only, so the GPU and the CPU agree exactly: each
// channel is the rounded mean of the 2r + 1 pixels around it along the axis, the image edge
// repeated beyond its border.

// Pixels, one u32 each: R in the low byte, then G, B, A.
@group(0) @binding(0) var<storage, read_write> src: array<u32>;
// [width, height, radius, axis (0: along x, 1: along y), workgroups along x]
@group(0) @binding(1) var<storage, read_write> params: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

fn channels(p: u32) -> vec4<u32> {
    return vec4<u32>(p & 255u, (p >> 8u) & 255u, (p >> 16u) & 255u, p >> 24u);
}

@compute @workgroup_size(64)
fn box_blur(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let width = params[0];
    let height = params[1];
    let radius = i32(params[2]);
    let along_y = params[3] == 1u;
    let groups_x = params[4];
    let i = (group.y * groups_x + group.x) * 64u + local;
    if (i >= width * height) {
        return;
    }
    let x = i32(i % width);
    let y = i32(i / width);
    var sum = vec4<u32>(0u);
    for (var k = -radius; k <= radius; k++) {
        var sx = x;
        var sy = y;
        if (along_y) {
            sy = clamp(y + k, 0, i32(height) - 1);
        } else {
            sx = clamp(x + k, 0, i32(width) - 1);
        }
        sum += channels(src[u32(sy) * width + u32(sx)]);
    }
    let n = u32(2 * radius + 1);
    let mean = (sum + vec4<u32>(n / 2u)) / n;
    dst[i] = mean.x | (mean.y << 8u) | (mean.z << 16u) | (mean.w << 24u);
}
