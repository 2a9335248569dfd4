//! Folders and files dropped on the page, walked into `(path, File)` pairs with the same paths a
//! directory picker gives (`webkitRelativePath`: `vlsbench/imgs/12.png`), so a dropped VLSBench
//! folder reads exactly like a picked one.
//!
//! A drop's items can only be read while its event runs, so [`entries`] takes them at once; the
//! walk through directories ([`walk`]) is asynchronous (the entries API answers by callbacks,
//! turned into promises here) and may take a moment for thousands of images.

use js_sys::{Array, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, File, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry};

/// The dropped items' file-system entries; call it inside the drop handler.
pub fn entries(event: &DragEvent) -> Vec<FileSystemEntry> {
    let Some(items) = event.data_transfer().map(|d| d.items()) else {
        return Vec::new();
    };
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// Every file under `entries`, depth first, with its path from the dropped item on.
pub async fn walk(entries: Vec<FileSystemEntry>) -> Result<Vec<(String, File)>, String> {
    let mut out = Vec::new();
    let mut stack = entries;
    while let Some(entry) = stack.pop() {
        if entry.is_file() {
            let file = file_of(entry.unchecked_ref()).await?;
            let path = entry.full_path();
            let path = path.trim_start_matches('/');
            let path = if path.is_empty() {
                file.name()
            } else {
                path.to_string()
            };
            out.push((path, file));
        } else if entry.is_directory() {
            let reader = entry
                .unchecked_ref::<FileSystemDirectoryEntry>()
                .create_reader();
            // readEntries answers in slices (100 at a time in Chromium) until an empty one.
            loop {
                let batch = JsFuture::from(Promise::new(&mut |resolve, reject| {
                    if let Err(e) =
                        reader.read_entries_with_callback_and_callback(&resolve, &reject)
                    {
                        let _ = reject.call1(&JsValue::UNDEFINED, &e);
                    }
                }))
                .await
                .map_err(|e| format!("could not read the folder {}: {e:?}", entry.full_path()))?;
                let batch: Array = batch.unchecked_into();
                if batch.length() == 0 {
                    break;
                }
                stack.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
            }
        }
    }
    Ok(out)
}

async fn file_of(entry: &FileSystemFileEntry) -> Result<File, String> {
    let file = JsFuture::from(Promise::new(&mut |resolve, reject| {
        entry.file_with_callback_and_callback(&resolve, &reject);
    }))
    .await
    .map_err(|e| {
        format!(
            "could not open {}: {e:?}",
            entry.unchecked_ref::<FileSystemEntry>().full_path()
        )
    })?;
    file.dyn_into::<File>()
        .map_err(|_| "a dropped entry did not give a file".to_string())
}
