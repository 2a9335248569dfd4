//! The first computation every page and test runs: a 2×2 matrix product followed by a softmax,
//! read back asynchronously. Small enough to check by hand, large enough to touch upload,
//! two kernels and read-back on every backend.

use burn::tensor::{Device, Tensor, activation::softmax};

use super::readback::{ReadbackError, read_f32};

/// `[[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]`, by hand.
pub const SMOKE_EXPECTED: [f32; 4] = [19.0, 22.0, 43.0, 50.0];

/// Result of [`smoke_check`]: the product and the row-wise softmax of the product.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SmokeResult {
    /// Row-major 2×2 product; equals [`SMOKE_EXPECTED`].
    pub product: Vec<f32>,
    /// Row-wise softmax of `product`; each row sums to 1.
    pub softmax: Vec<f32>,
}

/// Run the smoke computation on `device`. Async read-back only: a synchronous read-back
/// panics on WebGPU.
pub async fn smoke_check(device: &Device) -> Result<SmokeResult, ReadbackError> {
    let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], device);
    let b = Tensor::<2>::from_floats([[5.0, 6.0], [7.0, 8.0]], device);
    let product = a.matmul(b);
    let probabilities = softmax(product.clone(), 1);
    let product = read_f32(product).await?;
    let softmax = read_f32(probabilities).await?;
    Ok(SmokeResult { product, softmax })
}
