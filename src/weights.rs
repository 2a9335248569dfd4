//! Load a Hugging Face CLIP checkpoint from **bytes** (the browser has no file system).
//!
//! 1. [`ClipConfig`] comes from `config.json`.
//! 2. The safetensors header is checked against [`expected_tensors`] (the checkpoint layout the
//!    config implies): every missing, unexpected or mis-shaped tensor is named in a typed error
//!    before anything is loaded.
//! 3. burn-store applies the tensors: [`KEY_REMAP`] renames keys, the PyTorch adapter
//!    transposes `Linear` weights and renames LayerNorm `weight/bias` to `gamma/beta`, f16 and
//!    bf16 are cast to f32, and 0-d tensors (`logit_scale`) become `[1]`.
//!
//! Text first: a download can hand over the text tower before the vision tower's bytes are in.
//! [`FileLayout`] reads where each tensor sits from the file's first bytes (the header) and
//! names its [`Tower`]; [`FileLayout::extract`] copies the text tower's tensors into a file of
//! their own; [`load_text_tower`] loads them (the vision tower's parameters stay lazily
//! uninitialised, no memory), and [`load_vision_tower`] adds the vision tower from the whole,
//! checked file later.

use std::ops::Range;

use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleContext, ModuleSnapshot, PathFilter,
    PyTorchToBurnAdapter, SafetensorsStore, burn_pack,
};
use burn::tensor::{DType, Device, Shape};
use safetensors::tensor::{Metadata, TensorView};
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
        "model.safetensors is not a safetensors file ({0}). Pick the checkpoint's \
         model.safetensors (for pytorch_model.bin, run `leakscope convert` first)."
    )]
    NotSafetensors(String),
    #[error(
        "model.safetensors is {size} bytes but its header says the file has at least {needed}: \
         the file is cut short (an interrupted download?); download it again"
    )]
    Truncated { size: u64, needed: u64 },
    #[error(
        "model.safetensors has {extra} bytes after its last tensor: the file is corrupt or two \
         files were joined; download it again"
    )]
    TrailingBytes { extra: u64 },
    #[error(
        "model.safetensors: the entry for `{tensor}` in the header is unusable: {why}. The file \
         is corrupt or was written by a broken exporter"
    )]
    BadEntry { tensor: String, why: String },
    #[error(
        "model.safetensors: `{tensor}` holds {value} at element {index}; a trained CLIP has only \
         finite weights: the file is corrupt"
    )]
    NonFinite {
        tensor: String,
        index: usize,
        value: String,
    },
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

/// Largest safetensors header read: a CLIP header is tens of kB (ViT-L/14: ~60 kB); the
/// format's own limit, 100 MB, would let a hostile file cost hundreds of MB of parsing.
pub const MAX_HEADER_BYTES: u64 = 4 << 20;

/// One header entry, checked.
struct Entry {
    name: String,
    dtype: String,
    element: usize,
    start: u64,
    end: u64,
}

/// Reads and checks the header and the data layout of a safetensors file, so that every
/// structure error names what is wrong (and which tensor) instead of one generic message:
/// the length prefix, the JSON, each entry's dtype, shape and offsets, gaps and overlaps
/// between tensors, and the data section's length.
fn check_layout(bytes: &[u8]) -> Result<Vec<Entry>, WeightsError> {
    let size = bytes.len() as u64;
    let Some(prefix) = bytes.first_chunk::<8>() else {
        return Err(WeightsError::Truncated { size, needed: 8 });
    };
    let n = u64::from_le_bytes(*prefix);
    if n > MAX_HEADER_BYTES {
        return Err(WeightsError::NotSafetensors(format!(
            "the first 8 bytes give a header length of {n}, over the {} MiB a CLIP header could \
             need",
            MAX_HEADER_BYTES >> 20
        )));
    }
    let body = 8 + n;
    if body > size {
        return Err(WeightsError::Truncated { size, needed: body });
    }
    let header = &bytes[8..body as usize];
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| {
            WeightsError::NotSafetensors(format!("the header is not a JSON object: {e}"))
        })?;
    let mut entries = Vec::with_capacity(json.len());
    for (name, value) in json {
        if name == "__metadata__" {
            continue;
        }
        entries.push(entry(name, &value)?);
    }
    entries.sort_by_key(|e| (e.start, e.end));
    let mut end = 0u64;
    let mut previous: Option<&str> = None;
    for e in &entries {
        if e.start != end {
            let why = match (previous, e.start < end) {
                (Some(p), true) => format!("its data overlaps that of `{p}`"),
                (Some(p), false) => {
                    format!("its data starts {} bytes after `{p}` ends", e.start - end)
                }
                (None, _) => format!("the first tensor's data starts at {} instead of 0", e.start),
            };
            return Err(WeightsError::BadEntry {
                tensor: e.name.clone(),
                why,
            });
        }
        end = e.end;
        previous = Some(&e.name);
    }
    let data = size - body;
    if end > data {
        return Err(WeightsError::Truncated {
            size,
            needed: body + end,
        });
    }
    if end < data {
        return Err(WeightsError::TrailingBytes { extra: data - end });
    }
    Ok(entries)
}

fn entry(name: String, value: &serde_json::Value) -> Result<Entry, WeightsError> {
    let bad = |why: String| WeightsError::BadEntry {
        tensor: name.clone(),
        why,
    };
    let dtype = value
        .get("dtype")
        .and_then(|d| d.as_str())
        .ok_or_else(|| bad("no `dtype` string".into()))?;
    let element = match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        other => return Err(bad(format!("unknown dtype {other:?}"))),
    };
    let shape: Vec<u64> = value
        .get("shape")
        .and_then(|s| s.as_array())
        .and_then(|dims| dims.iter().map(|d| d.as_u64()).collect())
        .ok_or_else(|| bad("`shape` is not a list of whole numbers".into()))?;
    let offsets = value
        .get("data_offsets")
        .and_then(|o| o.as_array())
        .filter(|o| o.len() == 2)
        .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
        .ok_or_else(|| bad("`data_offsets` is not [start, end]".into()))?;
    let (start, end) = offsets;
    if end < start {
        return Err(bad(format!(
            "its data ends ({end}) before it starts ({start})"
        )));
    }
    let bytes = shape
        .iter()
        .try_fold(element as u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("shape {shape:?} is too large to exist")))?;
    if end - start != bytes {
        return Err(bad(format!(
            "shape {shape:?} of {dtype} needs {bytes} bytes but data_offsets span {}",
            end - start
        )));
    }
    Ok(Entry {
        name,
        dtype: dtype.to_owned(),
        element,
        start,
        end,
    })
}

/// The first NaN or infinity among the float tensors, as an error.
fn check_finite(bytes: &[u8], entries: &[Entry]) -> Result<(), WeightsError> {
    let data = bytes.len() - entries.last().map_or(0, |e| e.end as usize);
    for e in entries {
        let Some(raw) = bytes.get(data + e.start as usize..data + e.end as usize) else {
            continue;
        };
        // Exponent bits all ones: NaN or infinity, in each float format.
        let bad = match e.dtype.as_str() {
            "F32" => raw.chunks_exact(4).position(|c| {
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]) & 0x7F80_0000 == 0x7F80_0000
            }),
            "F16" => raw
                .chunks_exact(2)
                .position(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7C00 == 0x7C00),
            "BF16" => raw
                .chunks_exact(2)
                .position(|c| u16::from_le_bytes([c[0], c[1]]) & 0x7F80 == 0x7F80),
            _ => None,
        };
        if let Some(index) = bad {
            let at = index * e.element;
            let value = if e.dtype == "F32" {
                f32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]).to_string()
            } else {
                let bits = u16::from_le_bytes([raw[at], raw[at + 1]]);
                let mantissa = if e.dtype == "F16" { 0x03FF } else { 0x007F };
                match (bits & mantissa, bits & 0x8000) {
                    (0, 0) => "inf".into(),
                    (0, _) => "-inf".into(),
                    _ => "NaN".into(),
                }
            };
            return Err(WeightsError::NonFinite {
                tensor: e.name.clone(),
                index,
                value,
            });
        }
    }
    Ok(())
}

/// Check a safetensors buffer against `config`: its layout (every structure error named), the
/// tensors' names, dtypes and shapes, and that every weight is a finite number. Nothing is
/// loaded.
pub fn check_checkpoint(config: &ClipConfig, safetensors: &[u8]) -> Result<(), WeightsError> {
    check_towers(config, safetensors, |_| true)
}

/// [`check_checkpoint`] for the tensors of the towers `keep` accepts: a file holding only
/// those ([`FileLayout::extract`]) passes.
fn check_towers(
    config: &ClipConfig,
    safetensors: &[u8],
    keep: impl Fn(Tower) -> bool,
) -> Result<(), WeightsError> {
    let entries = check_layout(safetensors)?;
    let file = SafeTensors::deserialize(safetensors)
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    let expected: Vec<_> = expected_tensors(config)
        .into_iter()
        .filter(|(name, _)| keep(Tower::of(name)))
        .collect();
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
        .filter(|name| keep(Tower::of(name)))
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
    check_finite(safetensors, &entries)
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
    apply(&mut model, safetensors, device, None)?;
    // The CPU's matrix products want the projection weights in panels (model::dense); GPU
    // kernels read Burn's own order.
    if *device == Device::flex() {
        model = model.with_cpu_layout();
    }
    Ok(model)
}

/// The text tower, its projection and `logit_scale` from `part`, a safetensors file holding
/// (at least) their tensors: [`FileLayout::extract`] of a download's first bytes. The vision
/// tower's parameters stay lazily uninitialised (no memory) until [`load_vision_tower`];
/// image embeddings must wait for it.
pub fn load_text_tower(
    config: &ClipConfig,
    part: Vec<u8>,
    device: &Device,
) -> Result<ClipModel, WeightsError> {
    check_towers(config, &part, Tower::text_first)?;
    let mut model = config.init(device);
    apply(&mut model, part, device, Some(is_text_path))?;
    if *device == Device::flex() {
        model.text_to_cpu_layout();
    }
    Ok(model)
}

/// `model` (from [`load_text_tower`]) with its vision tower and projection loaded from the
/// whole checkpoint `safetensors`, which is checked against `config` first as in
/// [`load_clip`]. The text tower is shared with `model`, not loaded again.
pub fn load_vision_tower(
    config: &ClipConfig,
    model: &ClipModel,
    safetensors: Vec<u8>,
    device: &Device,
) -> Result<ClipModel, WeightsError> {
    check_checkpoint(config, &safetensors)?;
    let mut model = model.clone();
    apply(&mut model, safetensors, device, Some(is_vision_path))?;
    if *device == Device::flex() {
        model.vision_to_cpu_layout();
    }
    Ok(model)
}

/// Module paths of the text tower's parameters (and the shared `logit_scale`).
fn is_text_path(path: &str, _container: &str) -> bool {
    Tower::of(path).text_first()
}

/// Module paths of the vision tower's parameters.
fn is_vision_path(path: &str, _container: &str) -> bool {
    Tower::of(path) == Tower::Vision
}

/// Loads the tensors of `safetensors` into `model`; `only`: the module paths to load (the rest
/// keep their values, or stay uninitialised), every one of which must receive a tensor.
fn apply(
    model: &mut ClipModel,
    safetensors: Vec<u8>,
    device: &Device,
    only: Option<fn(&str, &str) -> bool>,
) -> Result<(), WeightsError> {
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
    if let Some(only) = only {
        store = store.filter(PathFilter::from_predicate(only));
    }
    for (from, to) in KEY_REMAP {
        store = store.with_key_remapping(*from, *to);
    }
    let result = model
        .load_from(&mut store)
        .map_err(|e| WeightsError::Apply(e.to_string()))?;
    if !result.errors.is_empty() {
        return Err(WeightsError::Apply(format!("{:?}", result.errors)));
    }
    // The header check guarantees every parameter asked for has a tensor; a path Burn still
    // reports missing means the module and `expected_tensors` disagree (a bug, not bad input).
    // A part without the vision tower leaves its parameters missing, as it should.
    let wanted = |path: &str| only.is_none_or(|only| only(path, ""));
    if let Some((path, _)) = result.missing.iter().find(|(path, _)| wanted(path)) {
        return Err(WeightsError::Apply(format!(
            "internal: parameter `{path}` received no tensor (please report this)"
        )));
    }
    Ok(())
}

/// Which tower a checkpoint tensor (or module path) belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tower {
    /// `text_model.*`, `text_projection.*`.
    Text,
    /// `vision_model.*`, `visual_projection.*`.
    Vision,
    /// Everything else (`logit_scale`): both towers' scores use it.
    Shared,
}

impl Tower {
    pub fn of(name: &str) -> Self {
        let under = |prefix: &str| {
            name.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        };
        if under("text_model") || under("text_projection") {
            Self::Text
        } else if under("vision_model") || under("visual_projection") {
            Self::Vision
        } else {
            Self::Shared
        }
    }

    /// Needed before the first text can be scored: the text tower and what is shared.
    pub fn text_first(self) -> bool {
        self != Self::Vision
    }
}

/// One tensor's place in a safetensors file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorBytes {
    pub name: String,
    pub tower: Tower,
    /// Byte range in the file (the header included in the offsets).
    pub bytes: Range<u64>,
}

/// Where every tensor of a safetensors file sits, read from the file's first bytes: what a
/// download needs to fetch one tower's bytes before the other's.
#[derive(Clone, Debug)]
pub struct FileLayout {
    /// The 8-byte length and the JSON header: the first tensor byte's offset.
    pub header_end: u64,
    /// The file's size.
    pub total: u64,
    /// In file order.
    pub tensors: Vec<TensorBytes>,
    metadata: Metadata,
}

/// The largest header read (safetensors' own limit).
const MAX_HEADER: u64 = 100_000_000;

impl FileLayout {
    /// The layout from the first bytes of a safetensors file (or all of it); `Ok(None)` while
    /// the header is not all in yet.
    pub fn from_prefix(prefix: &[u8]) -> Result<Option<Self>, WeightsError> {
        let not = |why: String| WeightsError::NotSafetensors(why);
        let Some(length) = prefix.get(..8) else {
            return Ok(None);
        };
        let mut n = [0u8; 8];
        n.copy_from_slice(length);
        let n = u64::from_le_bytes(n);
        if n > MAX_HEADER {
            return Err(not(format!("a header of {n} bytes")));
        }
        let header_end = 8 + n;
        let Some(header) = usize::try_from(header_end)
            .ok()
            .and_then(|end| prefix.get(8..end))
        else {
            return Ok(None);
        };
        let metadata: Metadata = serde_json::from_slice(header).map_err(|e| not(e.to_string()))?;
        let mut tensors: Vec<TensorBytes> = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let (start, end) = info.data_offsets;
                TensorBytes {
                    tower: Tower::of(&name),
                    name,
                    bytes: header_end + start as u64..header_end + end as u64,
                }
            })
            .collect();
        tensors.sort_by_key(|t| t.bytes.start);
        Ok(Some(Self {
            header_end,
            total: header_end + metadata.data_len() as u64,
            tensors,
            metadata,
        }))
    }

    /// A safetensors file of the tensors whose tower `keep` accepts, copied out of `file`:
    /// the whole file or any buffer that holds those tensors' bytes at their offsets (a
    /// download's first bytes, or a buffer the size of the file not yet filled elsewhere).
    pub fn extract(
        &self,
        file: &[u8],
        keep: impl Fn(Tower) -> bool,
    ) -> Result<Vec<u8>, WeightsError> {
        let mut views = Vec::new();
        for t in self.tensors.iter().filter(|t| keep(t.tower)) {
            let bytes = usize::try_from(t.bytes.start)
                .ok()
                .zip(usize::try_from(t.bytes.end).ok())
                .and_then(|(start, end)| file.get(start..end))
                .ok_or_else(|| {
                    WeightsError::NotSafetensors(format!("`{}` lies past the bytes read", t.name))
                })?;
            let info = self.metadata.info(&t.name).ok_or_else(|| {
                WeightsError::NotSafetensors(format!("`{}` left the header", t.name))
            })?;
            let view = TensorView::new(info.dtype, info.shape.clone(), bytes)
                .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
            views.push((t.name.as_str(), view));
        }
        safetensors::serialize(views.iter().map(|(name, view)| (*name, view)), None)
            .map_err(|e| WeightsError::NotSafetensors(e.to_string()))
    }
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
