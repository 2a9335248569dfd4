//! [`ImageSource`] for native builds: `image_path` relative to the folder that holds `data.json`.

use std::path::PathBuf;

use futures_util::future::{LocalBoxFuture, ready};

use crate::eval::dataset::Row;
use crate::eval::image::{ImageData, ImageError, ImageSource};

pub struct FolderImages {
    pub root: PathBuf,
}

impl FolderImages {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl ImageSource for FolderImages {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>> {
        let path = self.root.join(&row.image_path);
        let result = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| ImageData::from_bytes(&bytes))
            .map_err(|message| ImageError {
                row: row.id,
                path: path.display().to_string(),
                message,
            });
        Box::pin(ready(result))
    }
}
