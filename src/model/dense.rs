//! The projections (`Linear` layers) and how their weights sit in memory on the CPU.
//!
//! Burn's `Linear` keeps `W` `[d_in, d_out]` row-major and computes `x · W`. On the CPU
//! (flex, whose matrix products are the `gemm` crate's) that is slow for the few-row products
//! this model does per sample — 50 image tokens, a dozen text tokens — once the weights are
//! larger than the caches: the product walks `W` down its rows, one 256-byte piece per row
//! 3–12 KB apart, and spends its time waiting for memory. Stored in **panels** instead —
//! `[d_out / P, d_in, P]`, each P-column slice of `W` contiguous — every panel is one
//! sequential stream and the panels are independent products that the two cores share.
//! Measured on this project's 2-core Xeon for a ViT-B/32 stack of 72 projections (340 MB, gemm
//! 0.19): 50 rows 162 → 70 ms, 7 rows 74 → 39 ms, 400 rows 435 → 380 ms, with P = 64 or 128
//! equally good and 256 worse. BENCHMARKS.md has the model-level figures.
//!
//! GPU kernels read `W` the way Burn stores it, so only the CPU backend converts
//! (`ClipModel::with_cpu_layout`, called by the weight loader, has every layer convert its own
//! projections with [`convert`]). Values never change, so neither do the results beyond float
//! summation order.

use burn::nn::Linear;
use burn::tensor::Tensor;

/// How a projection's weight is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightLayout {
    /// Burn's `[d_in, d_out]`; `Linear::forward` applies.
    #[default]
    Plain,
    /// `[d_out / width · d_in, width]` in the `Linear`'s weight: panel `j` holds columns
    /// `j·width .. (j+1)·width` of the plain weight, contiguous.
    Panels { width: usize },
}

/// Panel widths to try, widest first: 64 measured best (and is CLIP's head size); the smaller
/// ones let the small test models take the same path.
const PANEL_WIDTHS: [usize; 4] = [64, 32, 16, 8];

/// `x` `[rows, d_in]` through `linear` stored as `layout`: `[rows, d_out]`.
pub fn project(linear: &Linear, layout: WeightLayout, x: Tensor<2>) -> Tensor<2> {
    let WeightLayout::Panels { width } = layout else {
        return linear.forward(x);
    };
    let [rows, d_in] = x.dims();
    let [stacked, _] = linear.weight.dims();
    let panels = stacked / d_in;
    let weight = linear.weight.val().reshape([panels, d_in, width]);
    // [1, rows, d_in] · [panels, d_in, width] → [panels, rows, width]: one product per panel,
    // spread over the threads by the backend.
    let out = x
        .unsqueeze::<3>()
        .matmul(weight)
        .swap_dims(0, 1)
        .reshape([rows, panels * width]);
    match &linear.bias {
        Some(bias) => out + bias.val().unsqueeze::<2>(),
        None => out,
    }
}

/// `linear` with its weight moved into panels, and the layout to call [`project`] with; a
/// `d_out` no panel width divides stays plain.
fn to_panels(mut linear: Linear) -> (Linear, WeightLayout) {
    let [d_in, d_out] = linear.weight.dims();
    let Some(width) = PANEL_WIDTHS.into_iter().find(|w| d_out % w == 0) else {
        return (linear, WeightLayout::Plain);
    };
    let panels = d_out / width;
    linear.weight = linear.weight.map(|w| {
        // [d_in, panels, width] → [panels, d_in, width]: the reshape after the swap copies
        // into the new order.
        w.reshape([d_in, panels, width])
            .swap_dims(0, 1)
            .reshape([panels * d_in, width])
    });
    (linear, WeightLayout::Panels { width })
}

/// Converts `linear` in place and returns its layout.
pub(super) fn convert(linear: &mut Linear) -> WeightLayout {
    // The clone shares the tensor; the plain copy is freed when it is replaced.
    let (converted, layout) = to_panels(linear.clone());
    *linear = converted;
    layout
}
