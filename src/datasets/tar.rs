//! An index of a tar archive (member path → data offset and size) built by reading headers
//! only, fed in chunks of any size, so a multi-gigabyte `imgs.tar` is never in memory: the
//! builder keeps the current header (512 bytes) or the pending GNU long name / pax header,
//! and counts member data down without storing it. Members are then read by offset through
//! any [`ByteSource`] (a byte slice, a seekable reader, a browser `File`).
//!
//! Understood: POSIX ustar (with the `prefix` field), GNU long names (`L`), pax extended
//! headers (`x`: `path` and `size`), octal and GNU base-256 sizes. Only regular files are
//! indexed; directories, links and devices are passed over. A later member with the same path
//! replaces an earlier one, as `tar -x` does.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};

use super::{DatasetError, ImageRef};

const BLOCK: usize = 512;
/// Largest GNU long name or pax header accepted (they hold a path, not data).
pub const MAX_TAR_META_BYTES: u64 = 1 << 20;
/// Largest member read into memory: an image archive's members are images, and a header that
/// claims more (3 GiB, 2^63) is refused before anything is allocated.
pub const MAX_TAR_MEMBER_BYTES: u64 = 256 << 20;

/// Random access to the archive's bytes.
pub trait ByteSource {
    /// Exactly `len` bytes at `offset` (an error if fewer are available).
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
}

impl ByteSource for [u8] {
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let start = usize::try_from(offset).ok().filter(|&s| s <= self.len());
        match start.and_then(|s| Some(s..s.checked_add(len)?)) {
            Some(r) if r.end <= self.len() => Ok(self[r].to_vec()),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("only {} bytes available", self.len()),
            )),
        }
    }
}

impl ByteSource for Vec<u8> {
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        self.as_slice().read_at(offset, len)
    }
}

/// Any seekable reader (a `std::fs::File` natively), behind a `RefCell` for `&self` access.
/// The buffer grows with what is actually read, so a length beyond the end of the file costs
/// no more memory than the file has.
impl<R: Read + Seek> ByteSource for RefCell<R> {
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut r = self.borrow_mut();
        r.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len.min(64 << 10));
        (&mut *r).take(len as u64).read_to_end(&mut buf)?;
        if buf.len() != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("only {} of {len} bytes available", buf.len()),
            ));
        }
        Ok(buf)
    }
}

/// Where a member's data lies in the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TarEntry {
    /// Offset of the first data byte.
    pub offset: u64,
    pub size: u64,
}

/// Member path (as stored, `./` removed) → [`TarEntry`], for regular files.
#[derive(Clone, Debug)]
pub struct TarIndex {
    file: String,
    entries: BTreeMap<String, TarEntry>,
    /// Last path component → full paths, for [`TarIndex::find`].
    by_name: HashMap<String, Vec<String>>,
}

impl TarIndex {
    /// Index an archive given as chunks (any sizes).
    pub fn build<C: AsRef<[u8]>>(
        file: &str,
        chunks: impl IntoIterator<Item = C>,
    ) -> Result<Self, DatasetError> {
        let mut b = TarIndexBuilder::new(file);
        for c in chunks {
            b.push(c.as_ref())?;
        }
        b.finish()
    }

    /// Index an archive read sequentially from `reader`, 64 KiB at a time.
    pub fn from_reader(file: &str, mut reader: impl Read) -> Result<Self, DatasetError> {
        let mut b = TarIndexBuilder::new(file);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(DatasetError::Read {
                        file: file.to_owned(),
                        offset: b.position(),
                        len: buf.len(),
                        source,
                    });
                }
            };
            b.push(&buf[..n])?;
        }
        b.finish()
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Members in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, TarEntry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The member stored under exactly `path` (a leading `./` is ignored).
    pub fn get(&self, path: &str) -> Option<TarEntry> {
        self.entries.get(normalise(path)).copied()
    }

    /// The member holding `image`: the same path, else the shortest member path ending in
    /// `/` + that path (an archive made one folder up, e.g. `vlsbench/imgs/0.png`).
    pub fn find(&self, image: &ImageRef) -> Option<(&str, TarEntry)> {
        if let Some((k, v)) = self.entries.get_key_value(image.as_str()) {
            return Some((k.as_str(), *v));
        }
        let name = image.as_str().rsplit('/').next().unwrap_or_default();
        self.by_name
            .get(name)?
            .iter()
            .filter(|p| image.matches(p))
            .min_by_key(|p| p.len())
            .map(|p| (p.as_str(), self.entries[p]))
    }

    /// The bytes of the member stored under `path`.
    pub fn read<S: ByteSource + ?Sized>(
        &self,
        source: &S,
        path: &str,
    ) -> Result<Vec<u8>, DatasetError> {
        let entry = self.get(path).ok_or_else(|| DatasetError::NoSuchMember {
            file: self.file.clone(),
            member: path.to_owned(),
        })?;
        self.read_entry(source, entry)
    }

    /// The bytes of `image` (see [`TarIndex::find`]).
    pub fn read_image<S: ByteSource + ?Sized>(
        &self,
        source: &S,
        image: &ImageRef,
    ) -> Result<Vec<u8>, DatasetError> {
        let (_, entry) = self.find(image).ok_or_else(|| DatasetError::NoSuchMember {
            file: self.file.clone(),
            member: image.to_string(),
        })?;
        self.read_entry(source, entry)
    }

    pub fn read_entry<S: ByteSource + ?Sized>(
        &self,
        source: &S,
        entry: TarEntry,
    ) -> Result<Vec<u8>, DatasetError> {
        let too_large = || DatasetError::Tar {
            file: self.file.clone(),
            offset: entry.offset,
            message: format!(
                "a member of {} bytes is over the {} MiB limit for one image (is the archive \
                 damaged, or not an image archive?)",
                entry.size,
                MAX_TAR_MEMBER_BYTES >> 20
            ),
        };
        if entry.size > MAX_TAR_MEMBER_BYTES {
            return Err(too_large());
        }
        let len = usize::try_from(entry.size).map_err(|_| too_large())?;
        let read_err = |source| DatasetError::Read {
            file: self.file.clone(),
            offset: entry.offset,
            len,
            source,
        };
        let bytes = source.read_at(entry.offset, len).map_err(read_err)?;
        if bytes.len() != len {
            return Err(read_err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("got {} bytes", bytes.len()),
            )));
        }
        Ok(bytes)
    }
}

fn normalise(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            return p;
        }
    }
}

enum State {
    /// Collecting a 512-byte header in `TarIndexBuilder::header`.
    Header,
    /// Passing over member data; `pad` of the `left` bytes are the block padding.
    Skip { left: u64, pad: u64, member: String },
    /// Collecting a GNU long name or pax header's data (`left` still to come, then `pad`).
    Meta {
        kind: u8,
        data: Vec<u8>,
        left: u64,
        pad: u64,
    },
    /// After the end-of-archive block: the rest (zero padding) is ignored.
    End,
}

/// Builds a [`TarIndex`] from consecutive chunks; see the module docs.
pub struct TarIndexBuilder {
    file: String,
    /// Bytes consumed so far.
    pos: u64,
    state: State,
    header: Vec<u8>,
    long_name: Option<String>,
    pax_path: Option<String>,
    pax_size: Option<u64>,
    entries: BTreeMap<String, TarEntry>,
}

impl TarIndexBuilder {
    /// `file` names the archive in messages.
    pub fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            pos: 0,
            state: State::Header,
            header: Vec::with_capacity(BLOCK),
            long_name: None,
            pax_path: None,
            pax_size: None,
            entries: BTreeMap::new(),
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Feeds the next bytes of the archive.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), DatasetError> {
        while !chunk.is_empty() {
            let taken = match &mut self.state {
                State::End => chunk.len(),
                State::Header => {
                    let n = (BLOCK - self.header.len()).min(chunk.len());
                    self.header.extend_from_slice(&chunk[..n]);
                    n
                }
                State::Skip { left, .. } => {
                    let n = (*left).min(chunk.len() as u64);
                    *left -= n;
                    n as usize
                }
                State::Meta { data, left, .. } => {
                    let n = (*left).min(chunk.len() as u64) as usize;
                    data.extend_from_slice(&chunk[..n]);
                    *left -= n as u64;
                    n
                }
            };
            chunk = &chunk[taken..];
            self.pos += taken as u64;
            self.step()?;
        }
        Ok(())
    }

    /// Moves to the next state once the current one is complete.
    fn step(&mut self) -> Result<(), DatasetError> {
        match &mut self.state {
            State::Header if self.header.len() == BLOCK => {
                let block = std::mem::replace(&mut self.header, Vec::with_capacity(BLOCK));
                self.on_header(&block)?;
            }
            State::Skip { left: 0, .. } => self.state = State::Header,
            State::Meta {
                kind,
                data,
                left: 0,
                pad,
            } => {
                let (kind, data, pad) = (*kind, std::mem::take(data), *pad);
                self.on_meta(kind, &data)?;
                self.state = skip(pad, String::new());
            }
            _ => {}
        }
        Ok(())
    }

    fn error(&self, offset: u64, message: impl Into<String>) -> DatasetError {
        DatasetError::Tar {
            file: self.file.clone(),
            offset,
            message: message.into(),
        }
    }

    fn on_header(&mut self, h: &[u8]) -> Result<(), DatasetError> {
        let at = self.pos - BLOCK as u64;
        if h.iter().all(|&b| b == 0) {
            self.state = State::End;
            return Ok(());
        }
        let stored = parse_octal(&h[148..156]);
        let unsigned: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        let signed: i64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    i64::from(b as i8)
                }
            })
            .sum();
        if stored.is_none_or(|s| s != unsigned && Some(s) != u64::try_from(signed).ok()) {
            let what = if at == 0 {
                "this is not a tar archive (the first header's checksum does not match)"
            } else {
                "corrupt tar header (checksum mismatch): is the archive damaged or truncated?"
            };
            return Err(self.error(at, what));
        }
        let size = parse_number(&h[124..136])
            .ok_or_else(|| self.error(at, "unreadable size field in a tar header"))?;
        let kind = h[156];
        match kind {
            b'L' | b'x' => {
                if size > MAX_TAR_META_BYTES {
                    return Err(self.error(at, format!("a {size}-byte long-name/pax header")));
                }
                let pad = padding(size);
                if size == 0 {
                    self.on_meta(kind, &[])?;
                    self.state = skip(pad, String::new());
                } else {
                    self.state = State::Meta {
                        kind,
                        data: Vec::with_capacity(size as usize),
                        left: size,
                        pad,
                    };
                }
            }
            b'0' | b'\0' | b'7' => {
                let name = self.take_name(h);
                let size = self.pax_size.take().unwrap_or(size);
                let total = size
                    .checked_add(padding(size))
                    .ok_or_else(|| self.error(at, "member size overflows"))?;
                let path = normalise(&name).to_owned();
                if !path.is_empty() && !path.ends_with('/') {
                    let entry = TarEntry {
                        offset: self.pos,
                        size,
                    };
                    self.entries.insert(path.clone(), entry);
                }
                self.state = State::Skip {
                    left: total,
                    pad: padding(size),
                    member: path,
                };
            }
            // Hard and symbolic links, devices, directories, FIFOs: no data.
            b'1'..=b'6' => {
                self.take_name(h);
                self.pax_size = None;
            }
            // Global pax headers and GNU long link names: data passed over, and the pending
            // name (a `K` may sit between an `L` and its member) is kept.
            b'g' | b'K' => {
                let pad = padding(size);
                let total = size
                    .checked_add(pad)
                    .ok_or_else(|| self.error(at, "header size overflows"))?;
                self.state = skip_total(total, pad, String::new());
            }
            // GNU sparse files, volume labels and unknown types: data passed over, not indexed.
            _ => {
                let name = self.take_name(h);
                let size = self.pax_size.take().unwrap_or(size);
                let pad = padding(size);
                let total = size
                    .checked_add(pad)
                    .ok_or_else(|| self.error(at, "member size overflows"))?;
                self.state = skip_total(total, pad, name);
            }
        }
        Ok(())
    }

    /// The member's path: pax `path`, else the GNU long name, else the header's (ustar:
    /// `prefix/name`). Clears the pending ones.
    fn take_name(&mut self, h: &[u8]) -> String {
        let long = self.long_name.take();
        if let Some(p) = self.pax_path.take() {
            return p;
        }
        if let Some(l) = long {
            return l;
        }
        let name = c_string(&h[0..100]);
        if &h[257..263] == b"ustar\0" {
            let prefix = c_string(&h[345..500]);
            if !prefix.is_empty() {
                return format!("{prefix}/{name}");
            }
        }
        name
    }

    fn on_meta(&mut self, kind: u8, data: &[u8]) -> Result<(), DatasetError> {
        if kind == b'L' {
            self.long_name = Some(c_string(data));
            return Ok(());
        }
        // pax: records "<len> <key>=<value>\n", len counting the whole record.
        let mut rest = data;
        while !rest.is_empty() && rest[0] != 0 {
            let bad = || self.error(self.pos, "malformed pax extended header");
            let space = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
            let len: usize = std::str::from_utf8(&rest[..space])
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|&l| l > space + 1 && l <= rest.len())
                .ok_or_else(bad)?;
            let record = &rest[space + 1..len];
            let record = record.strip_suffix(b"\n").ok_or_else(bad)?;
            let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
            let value = String::from_utf8_lossy(&record[eq + 1..]).into_owned();
            match &record[..eq] {
                b"path" => self.pax_path = Some(value),
                b"size" => {
                    self.pax_size = Some(value.trim().parse().map_err(|_| bad())?);
                }
                _ => {}
            }
            rest = &rest[len..];
        }
        Ok(())
    }

    /// The index, once every chunk has been pushed. An archive cut inside a header or a
    /// member's data is an error (padding after the last member's data may be missing).
    pub fn finish(self) -> Result<TarIndex, DatasetError> {
        let truncated = match &self.state {
            State::End => None,
            State::Header if self.header.is_empty() => None,
            State::Header => Some("inside a header".to_owned()),
            State::Skip { left, pad, .. } if left <= pad => None,
            State::Skip { left, pad, member } => Some(format!(
                "inside member `{member}` ({} bytes missing)",
                left - pad
            )),
            State::Meta { .. } => Some("inside a long-name or pax header".to_owned()),
        };
        if let Some(what) = truncated {
            let msg = format!("the archive ends {what}: is the download complete?");
            return Err(self.error(self.pos, msg));
        }
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for path in self.entries.keys() {
            let name = path.rsplit('/').next().unwrap_or_default();
            by_name
                .entry(name.to_owned())
                .or_default()
                .push(path.clone());
        }
        Ok(TarIndex {
            file: self.file,
            entries: self.entries,
            by_name,
        })
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn skip(pad: u64, member: String) -> State {
    skip_total(pad, pad, member)
}

fn skip_total(total: u64, pad: u64, member: String) -> State {
    if total == 0 {
        State::Header
    } else {
        State::Skip {
            left: total,
            pad,
            member,
        }
    }
}

/// Bytes up to the first NUL, as UTF-8 (lossy).
fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// An octal field: optional spaces, digits, then NUL or space.
fn parse_octal(b: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(b).ok()?;
    let s = s.trim_matches(|c| c == ' ' || c == '\0');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// A numeric field: octal, or GNU base-256 (first byte's high bit set, big-endian).
fn parse_number(b: &[u8]) -> Option<u64> {
    if b[0] & 0x80 == 0 {
        return parse_octal(b);
    }
    if b[0] & 0x40 != 0 {
        return None; // negative
    }
    let mut v: u64 = u64::from(b[0] & 0x3F);
    for &byte in &b[1..] {
        v = v.checked_mul(256)?.checked_add(u64::from(byte))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields() {
        assert_eq!(parse_octal(b"00000001750\0"), Some(1000));
        assert_eq!(parse_octal(b"     17 \0"), Some(15));
        assert_eq!(parse_octal(b"\0\0\0"), Some(0));
        assert_eq!(parse_octal(b"12x"), None);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[7] = 0x02; // 2 << 32
        assert_eq!(parse_number(&big), Some(2 << 32));
    }

    #[test]
    fn byte_sources_refuse_short_reads() {
        let data = vec![1u8, 2, 3, 4];
        assert_eq!(data.read_at(1, 2).unwrap(), vec![2, 3]);
        assert!(data.read_at(3, 2).is_err());
        assert!(data.read_at(u64::MAX, 1).is_err());
        let cursor = RefCell::new(std::io::Cursor::new(data));
        assert_eq!(cursor.read_at(2, 2).unwrap(), vec![3, 4]);
        assert!(cursor.read_at(3, 2).is_err());
    }

    #[test]
    fn not_a_tar_is_refused_at_the_first_header() {
        let junk = vec![b'x'; 1024];
        let err = TarIndex::build("junk.tar", [&junk]).unwrap_err();
        assert!(err.to_string().contains("not a tar archive"), "{err}");
    }
}
