//! Async read-back of tensors to the host. A synchronous read-back panics on WebGPU, so the
//! core only ever reads asynchronously; native callers block on the future.

use burn::tensor::Tensor;

/// The device could not return a tensor's data (device lost, out of memory, ...).
#[derive(Debug, thiserror::Error)]
#[error("reading a result back from the device failed: {0}")]
pub struct ReadbackError(pub String);

/// Read a float tensor of any rank into a row-major `Vec<f32>`.
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ReadbackError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| ReadbackError(e.to_string()))?;
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| ReadbackError(format!("{e:?}")))
}
