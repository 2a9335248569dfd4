//! A checkpoint from files the person picked or dropped: matched by name, only the needed ones
//! read, each in slices straight into one buffer (a 600 MB file never sits in the JS heap as a
//! whole second copy).

use std::collections::BTreeMap;

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList};

use crate::embedder::CheckpointFiles;
use crate::hub::HubError;
use crate::hub::files::{checkpoint_from_named, wanted};
use crate::web::fetch::js_detail;

const SLICE: f64 = (16 << 20) as f64;

/// The path a folder pick or a drop gives, else the name.
fn path_of(file: &File) -> String {
    js_sys::Reflect::get(file, &wasm_bindgen::JsValue::from_str("webkitRelativePath"))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

async fn read_all(file: &File, name: &str) -> Result<Vec<u8>, HubError> {
    let size = file.size();
    let mut bytes = Vec::new();
    if bytes.try_reserve_exact(size as usize).is_err() {
        return Err(HubError::OutOfMemory {
            file: name.into(),
            bytes: size as u64,
        });
    }
    let mut offset = 0.0;
    while offset < size {
        let end = (offset + SLICE).min(size);
        let read = |e: wasm_bindgen::JsValue| HubError::Read {
            file: name.into(),
            detail: js_detail(&e),
        };
        let part = file.slice_with_f64_and_f64(offset, end).map_err(read)?;
        let buffer = JsFuture::from(part.array_buffer()).await.map_err(read)?;
        bytes.extend_from_slice(&Uint8Array::new(&buffer).to_vec());
        offset = end;
    }
    Ok(bytes)
}

/// Joins picked files into a checkpoint (config.json, model.safetensors, vocab.json +
/// merges.txt or tokenizer.json, optional preprocessor_config.json); other files are skipped
/// unread. When a name appears twice (a dropped tree), the shallowest path wins.
pub async fn checkpoint_from_files(files: Vec<File>) -> Result<CheckpointFiles, HubError> {
    let names: Vec<String> = files.iter().map(path_of).collect();
    let mut chosen: BTreeMap<&'static str, (usize, &File)> = BTreeMap::new();
    for (path, file) in names.iter().zip(&files) {
        if let Some(name) = wanted(path) {
            let depth = path.matches('/').count();
            if chosen.get(name).is_none_or(|(d, _)| depth < *d) {
                chosen.insert(name, (depth, file));
            }
        }
    }
    let mut read = BTreeMap::new();
    for (name, (_, file)) in chosen {
        read.insert(name, read_all(file, name).await?);
    }
    checkpoint_from_named(read, &names)
}

/// [`checkpoint_from_files`] for an `<input type=file>`'s (or a drop's) `FileList`.
pub async fn checkpoint_from_file_list(list: &FileList) -> Result<CheckpointFiles, HubError> {
    let files = (0..list.length()).filter_map(|i| list.get(i)).collect();
    checkpoint_from_files(files).await
}
