//! Files the person picks or drops, read as blobs; and a benchmark download as picked in the page
//! ([`PickedDataset`]): a folder (`data.json` + `imgs/`, or another benchmark's data file with its
//! images) through a directory input or drag and drop, or the data file + an image archive
//! (`imgs.tar`). Files are read lazily, one image at a time, so a 2.45 GB download never sits in
//! memory. One pick serves dataset mode and the evaluation panel alike
//! ([`super::events::dataset_picked`]).

use std::collections::HashMap;

use futures_util::future::LocalBoxFuture;
use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File};

use crate::datasets::{ImageRef, TarIndex, TarIndexBuilder};
use crate::eval::image::{ImageData, ImageError};
use crate::eval::{ImageSource, Row};

/// Reads all of `blob`.
pub async fn read_blob(blob: &Blob) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|e| format!("could not read the file: {e:?}"))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Reads `len` bytes of `file` from `offset`.
async fn read_range(file: &File, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    let part = file
        .slice_with_f64_and_f64(offset as f64, (offset + len) as f64)
        .map_err(|e| format!("could not slice the file: {e:?}"))?;
    read_blob(&part).await
}

/// Where the images are.
pub enum Images {
    /// Path relative to the dataset folder (`imgs/12.png`) → file.
    Folder(HashMap<String, File>),
    /// The archive and its index of member paths.
    Tar { file: File, index: TarIndex },
}

/// A picked dataset: the `data.json` file and the images.
pub struct PickedDataset {
    pub data_json: File,
    pub images: Images,
    /// For messages: the folder or archive name.
    pub label: String,
}

/// The path a directory picker gives `file` (`vlsbench/imgs/12.png`), or its bare name.
pub fn picked_path(file: &File) -> String {
    // Not in web-sys's bindings; every current browser sets it for directory picks.
    let path = js_sys::Reflect::get(file, &wasm_bindgen::JsValue::from_str("webkitRelativePath"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    if path.is_empty() { file.name() } else { path }
}

/// `path` without its first component (the folder the user picked or dropped).
fn relative_path(path: &str) -> String {
    match path.split_once('/') {
        Some((_, rest)) => rest.to_string(),
        None => path.to_string(),
    }
}

impl PickedDataset {
    /// From the files of a picked folder (or of a drop, or several picked files): `data.json`
    /// (the shallowest one) plus either image files or an `imgs.tar`.
    pub async fn from_files(files: Vec<File>) -> Result<Self, String> {
        Self::from_files_with(files, |p| p == "data.json", true)
            .await
            .map_err(|e| match e.as_str() {
                "no dataset file" => "no data.json among the picked files: pick the VLSBench folder, or data.json with imgs.tar".to_string(),
                _ => e,
            })
    }

    /// Like [`PickedDataset::from_files`] with another rule for the dataset file (by file
    /// name); `need_images`: refuse a pick without images.
    pub async fn from_files_with(
        files: Vec<File>,
        is_dataset: impl Fn(&str) -> bool,
        need_images: bool,
    ) -> Result<Self, String> {
        let paths = files.into_iter().map(|f| (picked_path(&f), f)).collect();
        Self::from_paths_with(paths, is_dataset, need_images).await
    }

    /// Like [`PickedDataset::from_files_with`] with each file's path given (a dropped folder's
    /// walk, [`crate::web::dropped::walk`]): `folder/imgs/12.png`, or a bare name for a file
    /// dropped on its own.
    pub async fn from_paths_with(
        files: Vec<(String, File)>,
        is_dataset: impl Fn(&str) -> bool,
        need_images: bool,
    ) -> Result<Self, String> {
        let mut by_path: HashMap<String, File> = HashMap::new();
        for (path, f) in files {
            by_path.insert(relative_path(&path), f);
        }
        let data_key = by_path
            .keys()
            .filter(|p| is_dataset(p.rsplit('/').next().unwrap_or(p)))
            .min_by_key(|p| (p.matches('/').count(), p.len()))
            .cloned()
            .ok_or("no dataset file")?;
        let name = data_key.rsplit('/').next().unwrap_or(&data_key).to_string();
        let prefix = data_key[..data_key.len() - name.len()].to_string();
        let data_json = by_path
            .remove(&data_key)
            .ok_or("the dataset file vanished")?;
        let tar_key = by_path.keys().find(|p| p.ends_with(".tar")).cloned();
        if let Some(tar_key) = tar_key {
            let file = by_path.remove(&tar_key).ok_or("the archive vanished")?;
            let index = index_tar(&file).await?;
            return Ok(Self {
                data_json,
                label: file.name(),
                images: Images::Tar { file, index },
            });
        }
        let images: HashMap<String, File> = by_path
            .into_iter()
            .filter_map(|(p, f)| Some((p.strip_prefix(&prefix)?.to_string(), f)))
            .collect();
        if images.is_empty() && need_images {
            return Err("no images beside data.json: pick the whole VLSBench folder (with imgs/), or add imgs.tar".into());
        }
        Ok(Self {
            data_json,
            label: format!("{} images", images.len()),
            images: Images::Folder(images),
        })
    }

    /// The dataset file's name (data.json, a CSV, …).
    pub fn file_name(&self) -> String {
        self.data_json.name()
    }

    pub async fn read_data_json(&self) -> Result<Vec<u8>, String> {
        read_blob(&self.data_json).await
    }

    /// Bytes of the image at `path` (as written in data.json).
    pub async fn image_bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        match &self.images {
            Images::Folder(files) => {
                let key = path.trim_start_matches("./");
                let file = files
                    .get(key)
                    .ok_or_else(|| format!("{key} is not in the picked folder"))?;
                read_blob(file).await
            }
            Images::Tar { file, index } => {
                let image = ImageRef::new(path)?;
                let (_, entry) = index
                    .find(&image)
                    .ok_or_else(|| format!("{path} is not in {}", file.name()))?;
                read_range(file, entry.offset, entry.size).await
            }
        }
    }

    /// The image at `path` as a blob (a file, or a slice of the archive): cheap to hand to the
    /// worker, which reads it there.
    pub fn image_blob(&self, path: &str) -> Result<Blob, String> {
        match &self.images {
            Images::Folder(files) => files
                .get(path.trim_start_matches("./"))
                .map(|f| f.clone().into())
                .ok_or_else(|| format!("{path} is not in the picked folder")),
            Images::Tar { file, index } => {
                let image = ImageRef::new(path)?;
                let (_, entry) = index
                    .find(&image)
                    .ok_or_else(|| format!("{path} is not in {}", file.name()))?;
                file.slice_with_f64_and_f64(entry.offset as f64, (entry.offset + entry.size) as f64)
                    .map_err(|e| format!("could not slice the archive: {e:?}"))
            }
        }
    }

    /// The first `limit` bytes of an image: enough for its size, for the cost estimate.
    pub async fn image_head(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        match &self.images {
            Images::Folder(files) => {
                let file = files
                    .get(path.trim_start_matches("./"))
                    .ok_or_else(|| format!("{path} is not in the picked folder"))?;
                read_range(file, 0, limit.min(file.size() as u64)).await
            }
            Images::Tar { file, index } => {
                let image = ImageRef::new(path)?;
                let (_, entry) = index
                    .find(&image)
                    .ok_or_else(|| format!("{path} is not in {}", file.name()))?;
                read_range(file, entry.offset, entry.size.min(limit)).await
            }
        }
    }
}

/// Indexes the archive by reading it in 8 MiB slices (headers only are kept).
async fn index_tar(file: &File) -> Result<TarIndex, String> {
    const CHUNK: u64 = 8 << 20;
    let size = file.size() as u64;
    let mut builder = TarIndexBuilder::new(&file.name());
    let mut offset = 0;
    while offset < size {
        let len = CHUNK.min(size - offset);
        let bytes = read_range(file, offset, len).await?;
        builder.push(&bytes).map_err(|e| e.to_string())?;
        offset += len;
    }
    builder.finish().map_err(|e| e.to_string())
}

impl ImageSource for PickedDataset {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>> {
        Box::pin(async move {
            self.image_bytes(&row.image_path)
                .await
                .and_then(|bytes| ImageData::from_bytes(&bytes))
                .map_err(|message| ImageError {
                    row: row.id,
                    path: row.image_path.clone(),
                    message,
                })
        })
    }
}

/// The files of an `<input type=file>`, as a vector.
pub fn input_files(input: &web_sys::HtmlInputElement) -> Vec<File> {
    let Some(list) = input.files() else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}
