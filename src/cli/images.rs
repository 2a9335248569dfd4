//! Where `leakscope leakage` finds a sample's image: a folder on disk, or a tar archive indexed
//! once by streaming it and then read member by member (never loaded whole). `leakscope eval`
//! shares the indexing.

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use leakscope::datasets::{ImageRef, TarIndex};
use leakscope::platform::native::files::Confined;
use leakscope::preprocess::MAX_ENCODED_BYTES;

pub enum ImageSource {
    /// `--text-only`: no image is read.
    None,
    /// Image paths are relative to this folder, and never lead out of it.
    Dir(Confined),
    /// Members of an archive, found with [`TarIndex::find`].
    Tar {
        path: PathBuf,
        index: TarIndex,
        file: RefCell<File>,
    },
}

impl ImageSource {
    /// An archive indexed by [`index_tar`].
    pub fn tar(path: &Path) -> Result<Self, String> {
        let index = index_tar(path)?;
        if index.is_empty() {
            return Err(format!(
                "{} holds no files: --tar takes the benchmark's image archive (VLSBench's \
                 imgs.tar), or leave it out to read images from a folder",
                path.display()
            ));
        }
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self::Tar {
            path: path.to_owned(),
            index,
            file: RefCell::new(file),
        })
    }

    /// One line for the run's header.
    pub fn describe(&self) -> String {
        match self {
            ImageSource::None => "none (--text-only: J(T) only)".to_owned(),
            ImageSource::Dir(dir) => format!("folder {}", dir.root().display()),
            ImageSource::Tar { path, index, .. } => {
                format!("archive {} ({} files)", path.display(), index.len())
            }
        }
    }

    /// The encoded bytes of a sample's image, or why there are none.
    pub fn read(&self, image: Option<&ImageRef>) -> Result<Vec<u8>, String> {
        let Some(image) = image else {
            return Err("the sample has no image".to_owned());
        };
        match self {
            ImageSource::None => Err("text-only run".to_owned()),
            ImageSource::Dir(dir) => dir
                .read(image.as_str(), MAX_ENCODED_BYTES)
                .map_err(|e| e.to_string()),
            ImageSource::Tar { index, file, .. } => {
                index.read_image(file, image).map_err(|e| e.to_string())
            }
        }
    }
}

/// Indexes the archive at `path` by reading it once from start to end, 64 KiB at a time, with a
/// progress bar in bytes (a 2.45 GB `imgs.tar` takes a while on a slow disk).
pub fn index_tar(path: &Path) -> Result<TarIndex, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template(
            "indexing {msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .map_err(|e| e.to_string())?,
    );
    bar.set_message(file_name(path));
    let index =
        TarIndex::from_reader(&path.display().to_string(), bar.wrap_read(file)).map_err(|e| {
            format!("{e} (--tar takes the benchmark's image archive, e.g. VLSBench's imgs.tar)")
        })?;
    bar.finish_and_clear();
    Ok(index)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
