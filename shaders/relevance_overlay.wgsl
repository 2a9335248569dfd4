// The guard's patch relevance drawn over the image: the relevance grid upsampled bilinearly to
// the displayed size, mapped through a colour table and alpha-blended over the pixels.
//
// CPU reference: `blend_relevance` in src/overlay.rs, dispatched by src/gpu/overlay.rs. The
// interpolation and the blend are fixed-point integer arithmetic (8 fractional bits per axis),
// so the GPU output equals the CPU output byte for byte; the grid arrives already quantised to
// 8-bit levels and the colour table already computed, both on the CPU.

// Displayed image, one u32 per pixel: R in the low byte, then G, B, A.
@group(0) @binding(0) var<storage, read_write> image: array<u32>;
// Relevance levels 0..=255, one per u32, row-major [grid height, grid width].
@group(0) @binding(1) var<storage, read_write> levels: array<u32>;
// colours[level]: packed RGBA; its alpha is how strongly the colour covers the pixel.
@group(0) @binding(2) var<storage, read_write> colours: array<u32>;
// [width, height, rect x (i32 bits), rect y (i32 bits), rect width, rect height,
//  grid width, grid height, workgroups along x]: the grid covers that rectangle of the image.
@group(0) @binding(3) var<storage, read_write> params: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

// Position of pixel `d` (0-based, inside the rectangle) on a grid axis of `cells` cells over
// `span` pixels, in 1/256 cell units from the first cell centre, clamped to the grid.
fn grid_position(d: u32, span: u32, cells: u32) -> u32 {
    let from_edge = ((2u * d + 1u) * cells * 128u) / span;
    return u32(clamp(i32(from_edge) - 128, 0, i32((cells - 1u) * 256u)));
}

fn level_at(gx: u32, gy: u32, grid_width: u32) -> u32 {
    return levels[gy * grid_width + gx];
}

@compute @workgroup_size(64)
fn relevance_overlay(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let width = params[0];
    let height = params[1];
    let rect_x = bitcast<i32>(params[2]);
    let rect_y = bitcast<i32>(params[3]);
    let rect_w = params[4];
    let rect_h = params[5];
    let grid_w = params[6];
    let grid_h = params[7];
    let groups_x = params[8];
    let i = (group.y * groups_x + group.x) * 64u + local;
    if (i >= width * height) {
        return;
    }
    let pixel = image[i];
    let dx = i32(i % width) - rect_x;
    let dy = i32(i / width) - rect_y;
    if (dx < 0 || dy < 0 || u32(dx) >= rect_w || u32(dy) >= rect_h) {
        out[i] = pixel;
        return;
    }
    let u = grid_position(u32(dx), rect_w, grid_w);
    let v = grid_position(u32(dy), rect_h, grid_h);
    let x0 = u >> 8u;
    let y0 = v >> 8u;
    let fx = u & 255u;
    let fy = v & 255u;
    let x1 = min(x0 + 1u, grid_w - 1u);
    let y1 = min(y0 + 1u, grid_h - 1u);
    let top = level_at(x0, y0, grid_w) * (256u - fx) + level_at(x1, y0, grid_w) * fx;
    let bottom = level_at(x0, y1, grid_w) * (256u - fx) + level_at(x1, y1, grid_w) * fx;
    let level = (top * (256u - fy) + bottom * fy + 32768u) >> 16u;
    let colour = colours[level];
    let alpha = colour >> 24u;
    var blended = pixel & 0xff000000u;
    for (var shift = 0u; shift < 24u; shift += 8u) {
        let under = (pixel >> shift) & 255u;
        let over = (colour >> shift) & 255u;
        blended |= ((under * (255u - alpha) + over * alpha + 127u) / 255u) << shift;
    }
    out[i] = blended;
}
