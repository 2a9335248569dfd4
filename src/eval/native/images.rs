//! [`ImageSource`]s for native builds: `image_path` relative to the folder that holds
//! `data.json`, or a member of an image archive (VLSBench's `imgs.tar`) read by offset. Both
//! also give an image's size from its header alone, for the cost estimate before a run.

use std::cell::RefCell;
use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use futures_util::future::{LocalBoxFuture, ready};

use crate::datasets::{ByteSource, ImageRef, TarIndex};
use crate::eval::dataset::Row;
use crate::eval::image::{ImageData, ImageError, ImageSource};
use crate::platform::native::files::Confined;
use crate::preprocess::MAX_ENCODED_BYTES;

/// Bytes read from an archive member to find the image's size: enough for a PNG or a JPEG
/// header; a JPEG whose metadata pushes its frame header further is read whole.
const HEADER_PREFIX: usize = 64 << 10;

pub struct FolderImages {
    pub root: PathBuf,
}

impl FolderImages {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder, confined: a path that leads out of it (a link), a FIFO, a device or an
    /// oversized file is refused ([`Confined`]).
    fn confined(&self) -> Result<Confined, String> {
        Confined::new(&self.root).map_err(|e| e.to_string())
    }

    /// Width and height from the file's header (the pixels are not decoded).
    pub fn dimensions(&self, row: &Row) -> Result<(u32, u32), String> {
        let path = self.root.join(&row.image_path);
        let (file, _) = self
            .confined()?
            .open(&row.image_path, MAX_ENCODED_BYTES)
            .map_err(|e| e.to_string())?;
        ::image::ImageReader::new(std::io::BufReader::new(file))
            .with_guessed_format()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .into_dimensions()
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl ImageSource for FolderImages {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>> {
        let path = self.root.join(&row.image_path);
        let result = self
            .confined()
            .and_then(|c| {
                c.read(&row.image_path, MAX_ENCODED_BYTES)
                    .map_err(|e| e.to_string())
            })
            .and_then(|bytes| ImageData::from_bytes(&bytes))
            .map_err(|message| ImageError {
                row: row.id,
                path: path.display().to_string(),
                message,
            });
        Box::pin(ready(result))
    }
}

/// Images inside a tar archive, found with [`TarIndex::find`] (so `imgs/3.png` also matches a
/// member stored as `./imgs/3.png` or `VLSBench/imgs/3.png`).
pub struct TarImages {
    path: PathBuf,
    index: TarIndex,
    file: RefCell<File>,
}

impl TarImages {
    /// `index` must describe the archive at `path` (see [`TarIndex::from_reader`]).
    pub fn new(path: &Path, index: TarIndex) -> std::io::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            file: RefCell::new(File::open(path)?),
            index,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Regular files in the archive.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn image_ref(row: &Row) -> Result<ImageRef, String> {
        ImageRef::new(&row.image_path)
    }

    /// Width and height from the member's first bytes (the whole member if need be).
    pub fn dimensions(&self, row: &Row) -> Result<(u32, u32), String> {
        let image = Self::image_ref(row)?;
        let (_, entry) = self
            .index
            .find(&image)
            .ok_or_else(|| format!("{image} is not in {}", self.path.display()))?;
        let size = |bytes: Vec<u8>| {
            ::image::ImageReader::new(Cursor::new(bytes))
                .with_guessed_format()
                .map_err(|e| e.to_string())?
                .into_dimensions()
                .map_err(|e| e.to_string())
        };
        let prefix = usize::try_from(entry.size).map_or(HEADER_PREFIX, |s| s.min(HEADER_PREFIX));
        let head = self
            .file
            .read_at(entry.offset, prefix)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        size(head).or_else(|_| {
            let all = self
                .index
                .read_entry(&self.file, entry)
                .map_err(|e| e.to_string())?;
            size(all).map_err(|e| format!("{image}: {e}"))
        })
    }
}

impl ImageSource for TarImages {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>> {
        let result = Self::image_ref(row)
            .and_then(|image| {
                self.index
                    .read_image(&self.file, &image)
                    .map_err(|e| e.to_string())
            })
            .and_then(|bytes| ImageData::from_bytes(&bytes))
            .map_err(|message| ImageError {
                row: row.id,
                path: format!("{} in {}", row.image_path, self.path.display()),
                message,
            });
        Box::pin(ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, path: &str) -> Row {
        Row {
            id,
            instruction: String::new(),
            image_path: path.into(),
            category: String::new(),
            sub_category: String::new(),
        }
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        ::image::RgbImage::new(w, h)
            .write_to(&mut out, ::image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    /// A one-member ustar archive.
    fn tar(name: &str, data: &[u8]) -> Vec<u8> {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        let mut out = header.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
        out
    }

    #[test]
    fn archive_members_load_and_report_their_size() {
        let dir = std::env::temp_dir().join(format!("leakscope-tarimages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("imgs.tar");
        std::fs::write(&path, tar("./imgs/7.png", &png(30, 20))).unwrap();
        let index = TarIndex::from_reader("imgs.tar", File::open(&path).unwrap()).unwrap();
        let images = TarImages::new(&path, index).unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images.dimensions(&row(7, "imgs/7.png")), Ok((30, 20)));
        let data = pollster::block_on(images.load(&row(7, "imgs/7.png"))).unwrap();
        assert_eq!(
            (data.width, data.height, data.mime.as_str()),
            (30, 20, "image/png")
        );
        let missing = pollster::block_on(images.load(&row(8, "imgs/8.png"))).unwrap_err();
        assert_eq!(missing.row, 8);
        assert!(images.dimensions(&row(8, "imgs/8.png")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
