//! Reading files a dataset or a person names, without trusting them: only regular files are
//! read (a FIFO would block for ever, `/dev/zero` never ends, a folder is a mistake), never more
//! than a stated limit (checked on the size before reading, and again while reading), and, for
//! paths a dataset gives, never outside the dataset's folder (a symbolic link that leads out is
//! refused, so a crafted dataset cannot make the tool read and report another file's bytes).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::util::format::human_bytes;

/// Why a file was not read; each message names the file and says what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{} not found", .0.display())]
    NotFound(PathBuf),
    #[error("{} is a folder, not a file", .0.display())]
    Directory(PathBuf),
    #[error("{} is a {kind}, not a regular file: only regular files are read", .path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error(
        "{} leads outside {} (to {}): files a dataset names must lie inside its folder",
        .path.display(), .root.display(), .target.display()
    )]
    Outside {
        path: PathBuf,
        root: PathBuf,
        target: PathBuf,
    },
    #[error("{} is {}, over the {} limit for this kind of file", .path.display(), human_bytes(*.size), human_bytes(*.limit))]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path, source: std::io::Error) -> FileError {
    if source.kind() == std::io::ErrorKind::NotFound {
        FileError::NotFound(path.to_owned())
    } else {
        FileError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// What kind of non-regular file `meta` describes.
fn kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("named pipe (FIFO)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("device");
        }
        if t.is_socket() {
            return Some("socket");
        }
    }
    Some("special file")
}

/// The whole of the regular file at `path`, at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let (file, size) = open_regular(path, limit)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The regular file at `path` opened for reading, with its size (at most `limit`). Nothing is
/// opened that is not a regular file, so a FIFO cannot block the caller.
pub fn open_regular(path: &Path, limit: u64) -> Result<(File, u64), FileError> {
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    match kind(&meta) {
        None => {}
        Some("folder") => return Err(FileError::Directory(path.to_owned())),
        Some(kind) => {
            return Err(FileError::NotRegular {
                path: path.to_owned(),
                kind,
            });
        }
    }
    let too_large = |size| FileError::TooLarge {
        path: path.to_owned(),
        size,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let file = File::open(path).map_err(|e| io(path, e))?;
    // The path may have been swapped since the check: look at what was opened.
    let opened = file.metadata().map_err(|e| io(path, e))?;
    if let Some(kind) = kind(&opened) {
        return Err(FileError::NotRegular {
            path: path.to_owned(),
            kind,
        });
    }
    if opened.len() > limit {
        return Err(too_large(opened.len()));
    }
    Ok((file, opened.len()))
}

/// A folder whose files may be read by relative path, never leaving it.
#[derive(Clone, Debug)]
pub struct Confined {
    root: PathBuf,
    /// `root` with every link resolved, what targets are compared with.
    canonical: PathBuf,
}

impl Confined {
    pub fn new(root: &Path) -> Result<Self, FileError> {
        let canonical = root.canonicalize().map_err(|e| io(root, e))?;
        if !canonical.is_dir() {
            return Err(FileError::NotRegular {
                path: root.to_owned(),
                kind: "file where a folder was expected",
            });
        }
        Ok(Self {
            root: root.to_owned(),
            canonical,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `relative` lies once links are followed, if inside the folder.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, FileError> {
        let path = self.root.join(relative);
        // A link to nothing reads as not found, like a missing file.
        std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let target = path.canonicalize().map_err(|e| io(&path, e))?;
        if !target.starts_with(&self.canonical) {
            return Err(FileError::Outside {
                path,
                root: self.root.clone(),
                target,
            });
        }
        Ok(target)
    }

    /// The regular file at `relative` inside the folder, at most `limit` bytes.
    pub fn read(&self, relative: &str, limit: u64) -> Result<Vec<u8>, FileError> {
        let target = self.resolve(relative)?;
        read_regular(&target, limit).map_err(|e| self.named(relative, e))
    }

    /// [`open_regular`] on `relative` inside the folder.
    pub fn open(&self, relative: &str, limit: u64) -> Result<(File, u64), FileError> {
        let target = self.resolve(relative)?;
        open_regular(&target, limit).map_err(|e| self.named(relative, e))
    }

    fn named(&self, relative: &str, e: FileError) -> FileError {
        match e {
            // Name the path the dataset gave, not where its links led.
            FileError::NotRegular { kind, .. } => FileError::NotRegular {
                path: self.root.join(relative),
                kind,
            },
            FileError::Directory(_) => FileError::Directory(self.root.join(relative)),
            other => other,
        }
    }
}
