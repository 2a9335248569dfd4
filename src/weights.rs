//! Load a Hugging Face CLIP checkpoint from **bytes** (the browser has no file system).
//!
//! 1. [`ClipConfig`] comes from `config.json`.
//! 2. The safetensors header is checked against [`expected_tensors`] (the checkpoint layout the
//!    config implies): every missing, unexpected or mis-shaped tensor is named in a typed error
//!    before anything is loaded.
//! 3. burn-store applies the tensors: [`KEY_REMAP`] renames keys, the PyTorch adapter
//!    transposes `Linear` weights and renames LayerNorm `weight/bias` to `gamma/beta`, f16 and
//!    bf16 are cast to f32, and 0-d tensors (`logit_scale`) become `[1]`.

use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleContext, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore, burn_pack,
};
use burn::tensor::{DType, Device, Shape};
use safetensors::{Dtype, SafeTensors};

use crate::model::{ClipConfig, ClipModel, ConfigError};

/// The one key-remap table: checkpoint key pattern (regex) → Burn module path.
/// transformers spells the vision tower's pre-encoder LayerNorm `pre_layrnorm`.
pub const KEY_REMAP: &[(&str, &str)] = &[(
    r"^vision_model\.pre_layrnorm\.",
    "vision_model.pre_layernorm.",
)];

/// Keys some checkpoints carry that are buffers, not weights (older transformers saved
/// `position_ids`); they are ignored rather than reported as unexpected.
const IGNORED_SUFFIXES: &[&str] = &[".position_ids"];

/// Why a checkpoint could not be loaded; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "model.safetensors is not a readable safetensors file ({0}). If it was downloaded, the \
         download is probably truncated: delete it and download it again."
    )]
    NotSafetensors(String),
    #[error(
        "model.safetensors lacks {count} tensor(s) this config needs, first `{tensor}` \
         (expected shape {expected:?}). The weights belong to a different model: pick the \
         config.json and model.safetensors of the same checkpoint."
    )]
    Missing {
        tensor: String,
        expected: Vec<usize>,
        count: usize,
    },
    #[error(
        "model.safetensors has {count} tensor(s) a CLIP model does not use, first `{tensor}`. \
         Is this a CLIPModel checkpoint (not a vision-only or text-only one)?"
    )]
    Unexpected { tensor: String, count: usize },
    #[error(
        "model.safetensors does not match config.json: `{tensor}` has shape {found:?}, the \
         config implies {expected:?}. Use the config.json that came with these weights."
    )]
    ShapeMismatch {
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error(
        "`{tensor}` is stored as {found}; only F32, F16 and BF16 weights are supported. \
         Convert the checkpoint to one of those."
    )]
    UnsupportedDtype { tensor: String, found: String },
    #[error("loading the weights into the model failed: {0}")]
    Apply(String),
}

/// The tensors a checkpoint for `config` must hold, with their shapes, in checkpoint layout
/// (PyTorch: `Linear` weights are `[out, in]`, `logit_scale` is 0-d).
pub fn expected_tensors(config: &ClipConfig) -> Vec<(String, Vec<usize>)> {
    let t = &config.text_config;
    let v = &config.vision_config;
    let mut out = Vec::new();
    let mut push = |name: String, shape: Vec<usize>| out.push((name, shape));
    push(
        "text_model.embeddings.token_embedding.weight".into(),
        vec![t.vocab_size, t.hidden_size],
    );
    push(
        "text_model.embeddings.position_embedding.weight".into(),
        vec![t.max_position_embeddings, t.hidden_size],
    );
    encoder_tensors(
        "text_model",
        t.num_hidden_layers,
        t.hidden_size,
        t.intermediate_size,
        &mut push,
    );
    push(
        "text_model.final_layer_norm.weight".into(),
        vec![t.hidden_size],
    );
    push(
        "text_model.final_layer_norm.bias".into(),
        vec![t.hidden_size],
    );
    push(
        "vision_model.embeddings.class_embedding".into(),
        vec![v.hidden_size],
    );
    push(
        "vision_model.embeddings.patch_embedding.weight".into(),
        vec![v.hidden_size, v.num_channels, v.patch_size, v.patch_size],
    );
    push(
        "vision_model.embeddings.position_embedding.weight".into(),
        vec![v.num_positions(), v.hidden_size],
    );
    push(
        "vision_model.pre_layrnorm.weight".into(),
        vec![v.hidden_size],
    );
    push("vision_model.pre_layrnorm.bias".into(), vec![v.hidden_size]);
    encoder_tensors(
        "vision_model",
        v.num_hidden_layers,
        v.hidden_size,
        v.intermediate_size,
        &mut push,
    );
    push(
        "vision_model.post_layernorm.weight".into(),
        vec![v.hidden_size],
    );
    push(
        "vision_model.post_layernorm.bias".into(),
        vec![v.hidden_size],
    );
    push(
        "visual_projection.weight".into(),
        vec![config.projection_dim, v.hidden_size],
    );
    push(
        "text_projection.weight".into(),
        vec![config.projection_dim, t.hidden_size],
    );
    push("logit_scale".into(), vec![]);
    out
}

fn encoder_tensors(
    tower: &str,
    layers: usize,
    hidden: usize,
    intermediate: usize,
    push: &mut impl FnMut(String, Vec<usize>),
) {
    for i in 0..layers {
        let p = format!("{tower}.encoder.layers.{i}");
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            push(format!("{p}.self_attn.{proj}.weight"), vec![hidden, hidden]);
            push(format!("{p}.self_attn.{proj}.bias"), vec![hidden]);
        }
        for norm in ["layer_norm1", "layer_norm2"] {
            push(format!("{p}.{norm}.weight"), vec![hidden]);
            push(format!("{p}.{norm}.bias"), vec![hidden]);
        }
        push(format!("{p}.mlp.fc1.weight"), vec![intermediate, hidden]);
        push(format!("{p}.mlp.fc1.bias"), vec![intermediate]);
        push(format!("{p}.mlp.fc2.weight"), vec![hidden, intermediate]);
        push(format!("{p}.mlp.fc2.bias"), vec![hidden]);
    }
}

/// Check a safetensors buffer against `config` without loading any data.
pub fn check_checkpoint(config: &ClipConfig, safetensors: &[u8]) -> Result<(), WeightsError> {
    let file = SafeTensors::deserialize(safetensors)
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    let expected = expected_tensors(config);
    let missing: Vec<_> = expected
        .iter()
        .filter(|(name, _)| file.tensor(name).is_err())
        .collect();
    if let Some((tensor, shape)) = missing.first() {
        return Err(WeightsError::Missing {
            tensor: tensor.clone(),
            expected: shape.clone(),
            count: missing.len(),
        });
    }
    for (name, shape) in &expected {
        let Ok(view) = file.tensor(name) else {
            continue;
        };
        if !matches!(view.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16) {
            return Err(WeightsError::UnsupportedDtype {
                tensor: name.clone(),
                found: format!("{:?}", view.dtype()),
            });
        }
        // A `[1]` logit_scale (some exports) is as good as a 0-d one.
        let same = view.shape() == shape.as_slice() || (shape.is_empty() && view.shape() == [1]);
        if !same {
            return Err(WeightsError::ShapeMismatch {
                tensor: name.clone(),
                expected: shape.clone(),
                found: view.shape().to_vec(),
            });
        }
    }
    let mut unexpected: Vec<_> = file
        .names()
        .into_iter()
        .filter(|name| !IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s)))
        .filter(|name| !expected.iter().any(|(e, _)| e == name))
        .collect();
    unexpected.sort_unstable();
    if let Some(first) = unexpected.first() {
        return Err(WeightsError::Unexpected {
            tensor: first.to_string(),
            count: unexpected.len(),
        });
    }
    Ok(())
}

/// Build the model for `config_json` and load `safetensors` into it, on `device`.
///
/// Both arguments are file contents: the same call works natively and in the browser.
pub fn load_clip(
    config_json: &[u8],
    safetensors: Vec<u8>,
    device: &Device,
) -> Result<ClipModel, WeightsError> {
    let config = ClipConfig::from_json_bytes(config_json)?;
    load_clip_with_config(&config, safetensors, device)
}

/// [`load_clip`] with an already parsed config.
pub fn load_clip_with_config(
    config: &ClipConfig,
    safetensors: Vec<u8>,
    device: &Device,
) -> Result<ClipModel, WeightsError> {
    check_checkpoint(config, &safetensors)?;
    let mut model = config.init(device);
    // Checkpoints may hold f32, f16 or bf16; the model computes in the device's float type
    // (f32, or f16 on a GPU set up for it: compute::Precision).
    let dtype: DType = device.settings().float_dtype.into();
    let adapter = PyTorchToBurnAdapter
        .chain(FloatCastAdapter::to(dtype))
        .chain(ScalarAsVector);
    let mut store = SafetensorsStore::from_bytes(Some(safetensors))
        .with_from_adapter(adapter)
        .allow_partial(true)
        .validate(false);
    for (from, to) in KEY_REMAP {
        store = store.with_key_remapping(*from, *to);
    }
    let result = model
        .load_from(&mut store)
        .map_err(|e| WeightsError::Apply(e.to_string()))?;
    if !result.errors.is_empty() {
        return Err(WeightsError::Apply(format!("{:?}", result.errors)));
    }
    // The header check above guarantees every parameter has a tensor; a path Burn still
    // reports missing means the module and `expected_tensors` disagree (a bug, not bad input).
    if let Some((path, _)) = result.missing.first() {
        return Err(WeightsError::Apply(format!(
            "internal: parameter `{path}` received no tensor (please report this)"
        )));
    }
    // The CPU's matrix products want the projection weights in panels (model::dense); GPU
    // kernels read Burn's own order.
    if *device == Device::flex() {
        model = model.with_cpu_layout();
    }
    Ok(model)
}

/// Checkpoints store `logit_scale` as a 0-d tensor; the module holds it as `[1]`.
#[derive(Clone, Debug)]
struct ScalarAsVector;

impl ModuleAdapter for ScalarAsVector {
    fn adapt(&self, mut tensor: burn_pack::Tensor, _ctx: ModuleContext<'_>) -> burn_pack::Tensor {
        if tensor.shape.num_dims() == 0 {
            tensor.shape = Shape::new([1]);
        }
        tensor
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(self.clone())
    }
}
