//! `pytorch_model.bin` → `model.safetensors`, for checkpoints published without safetensors
//! (native only: the browser loads safetensors, which need no unpickling).

use std::collections::BTreeMap;
use std::path::Path;

use burn::store::{ModuleStore, PytorchStore};
use burn::tensor::DType;
use safetensors::{Dtype, tensor::TensorView};

/// What a conversion did.
#[derive(Debug, Default)]
pub struct ConvertReport {
    pub written: usize,
    /// Buffers that are not weights (e.g. `position_ids`), left out on purpose.
    pub dropped: Vec<String>,
    pub bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("reading {path}: {message}. Is it a PyTorch checkpoint (pytorch_model.bin)?")]
    Read { path: String, message: String },
    #[error("`{tensor}` has dtype {dtype:?}, which safetensors output does not support here")]
    Dtype { tensor: String, dtype: DType },
    #[error("writing the safetensors file: {0}")]
    Write(String),
}

/// Convert a PyTorch checkpoint to safetensors bytes, keeping key names and dtypes.
pub fn pytorch_to_safetensors(path: &Path) -> Result<(Vec<u8>, ConvertReport), ConvertError> {
    let read_err = |message: String| ConvertError::Read {
        path: path.display().to_string(),
        message,
    };
    let mut store = PytorchStore::from_file(path);
    let tensors = store
        .get_all_tensors()
        .map_err(|e| read_err(e.to_string()))?
        .clone();
    let mut report = ConvertReport::default();
    let mut owned: BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for (name, tensor) in tensors {
        if name.ends_with(".position_ids") {
            report.dropped.push(name);
            continue;
        }
        let dtype = match tensor.dtype {
            DType::F32 => Dtype::F32,
            DType::F16 => Dtype::F16,
            DType::BF16 => Dtype::BF16,
            DType::F64 => Dtype::F64,
            DType::I64 => Dtype::I64,
            other => {
                return Err(ConvertError::Dtype {
                    tensor: name,
                    dtype: other,
                });
            }
        };
        let shape = tensor.shape.to_vec();
        let bytes = tensor
            .to_bytes()
            .map_err(|e| read_err(format!("{name}: {e}")))?;
        report.bytes += bytes.len();
        owned.insert(name, (dtype, shape, bytes.to_vec()));
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(name, (dtype, shape, bytes))| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| ConvertError::Write(format!("{name}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    report.written = views.len();
    let out =
        safetensors::serialize(views, None).map_err(|e| ConvertError::Write(e.to_string()))?;
    Ok((out, report))
}
