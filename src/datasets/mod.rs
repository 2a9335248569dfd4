//! Multimodal safety benchmarks, loaded from **bytes** (the browser has no file system).
//!
//! Every format becomes the same [`Sample`]. [`load`] reads one metadata file (JSON or CSV),
//! detecting its format from the content unless one is given ([`detect_format`]). Images are
//! never read here: a sample holds an [`ImageRef`], a path relative to the dataset's folder,
//! which the caller resolves in a folder the user picked or in an image archive indexed by
//! [`TarIndex`] (built from chunks, so a 2.45 GB `imgs.tar` is never held in memory).
//!
//! Bad rows are never dropped silently: in [`Strictness::Strict`] the first one is the error,
//! in [`Strictness::Lenient`] each one is returned in [`Loaded::skipped`] with its reason. Every
//! message names the file, the row (1-based) and, where it applies, the field.

mod csv;
mod figstep;
mod harmbench;
mod jailbreakv;
mod json;
mod mmsafetybench;
pub mod remote;
mod tar;
mod vlguard;
mod vlsbench;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use tar::{
    ByteSource, MAX_TAR_MEMBER_BYTES, MAX_TAR_META_BYTES, TarEntry, TarIndex, TarIndexBuilder,
};

/// One benchmark item: a text, the image it is paired with, and its labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unique within one loaded file (see each format for how it is formed).
    pub id: String,
    /// The text sent with the image (may be empty: VLSBench id 1685 is).
    pub text: String,
    /// Where the image lies, relative to the dataset's folder; `None` for a text-only item.
    pub image: Option<ImageRef>,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    /// The dataset's own source column where it has one, otherwise the benchmark's name.
    pub source: String,
    /// Every other field of the row, under its name in the file.
    #[serde(default)]
    pub extra: BTreeMap<String, Value>,
}

/// A normalised relative path inside a dataset: `/`-separated, no leading `./`, never
/// absolute, no `..` component. Resolve it with [`ImageRef::matches`] or [`TarIndex::find`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef(String);

impl ImageRef {
    /// Normalises `path` (`\` becomes `/`, `./` and repeated `/` go) and rejects empty,
    /// absolute and `..` paths.
    pub fn new(path: &str) -> Result<Self, String> {
        let unified = path.trim().replace('\\', "/");
        if unified.is_empty() {
            return Err("the image path is empty".into());
        }
        let b = unified.as_bytes();
        let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
        if unified.starts_with('/') || drive {
            return Err(format!(
                "the image path `{path}` is absolute; it must be relative"
            ));
        }
        let mut parts = Vec::new();
        for part in unified.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(format!("the image path `{path}` leaves the dataset (`..`)")),
                p => parts.push(p),
            }
        }
        if parts.is_empty() {
            return Err(format!("the image path `{path}` names no file"));
        }
        Ok(Self(parts.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `member` (a path in an archive or a picked folder, e.g. `vlsbench/imgs/0.png`)
    /// is this image: the same path, or one ending in `/` + this path.
    pub fn matches(&self, member: &str) -> bool {
        let member = member.strip_prefix("./").unwrap_or(member);
        member == self.0
            || (member.len() > self.0.len()
                && member.ends_with(&self.0)
                && member.as_bytes()[member.len() - self.0.len() - 1] == b'/')
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ImageRef {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::new(&s)
    }
}

impl From<ImageRef> for String {
    fn from(r: ImageRef) -> String {
        r.0
    }
}

/// The metadata formats [`load`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetFormat {
    /// VLSBench `data.json`: an array of objects with `instruction_id`, `instruction`,
    /// `image_path`, `category`, `sub_category`, `source` (2025: also `image_description`,
    /// `safety_reason`).
    #[serde(rename = "vlsbench")]
    VlsBench,
    /// FigStep's SafeBench CSV: `dataset,category_id,task_id,category_name,question,instruction`.
    #[serde(rename = "figstep")]
    FigStep,
    /// One MM-SafetyBench scenario file (`processed_questions/<scenario>.json`).
    #[serde(rename = "mm-safetybench")]
    MmSafetyBench,
    /// JailbreakV-28K CSV (full or mini).
    #[serde(rename = "jailbreakv-28k")]
    JailbreakV,
    /// VLGuard `train.json` / `test.json`.
    #[serde(rename = "vlguard")]
    VlGuard,
    /// HarmBench's multimodal behaviours CSV.
    #[serde(rename = "harmbench")]
    HarmBench,
}

impl DatasetFormat {
    pub const ALL: [DatasetFormat; 6] = [
        Self::VlsBench,
        Self::FigStep,
        Self::MmSafetyBench,
        Self::JailbreakV,
        Self::VlGuard,
        Self::HarmBench,
    ];

    /// The benchmark's usual name, as shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Self::VlsBench => "VLSBench",
            Self::FigStep => "FigStep (SafeBench)",
            Self::MmSafetyBench => "MM-SafetyBench",
            Self::JailbreakV => "JailbreakV-28K",
            Self::VlGuard => "VLGuard",
            Self::HarmBench => "HarmBench multimodal",
        }
    }

    /// The header columns a CSV format reads (every one it knows); empty for the JSON formats.
    pub fn csv_columns(self) -> &'static [&'static str] {
        match self {
            Self::FigStep => &figstep::COLUMNS,
            Self::JailbreakV => &jailbreakv::KNOWN,
            Self::HarmBench => &harmbench::REQUIRED,
            Self::VlsBench | Self::MmSafetyBench | Self::VlGuard => &[],
        }
    }

    /// The stable identifier (`vlsbench`, `figstep`, `mm-safetybench`, `jailbreakv-28k`,
    /// `vlguard`, `harmbench`), as in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::VlsBench => "vlsbench",
            Self::FigStep => "figstep",
            Self::MmSafetyBench => "mm-safetybench",
            Self::JailbreakV => "jailbreakv-28k",
            Self::VlGuard => "vlguard",
            Self::HarmBench => "harmbench",
        }
    }
}

impl fmt::Display for DatasetFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DatasetFormat {
    type Err = String;
    /// Accepts [`DatasetFormat::key`] in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.key().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let keys: Vec<_> = Self::ALL.iter().map(|f| f.key()).collect();
                format!(
                    "unknown dataset format `{s}`; expected one of {}",
                    keys.join(", ")
                )
            })
    }
}

/// What to do with a row that cannot become a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strictness {
    /// The first bad row is the error.
    #[default]
    Strict,
    /// Bad rows are skipped and listed in [`Loaded::skipped`].
    Lenient,
}

/// A row that could not be loaded, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRow {
    pub file: String,
    /// 1-based: the data record of a CSV (the header not counted), the element of a JSON
    /// array, the entry of a JSON object.
    pub row: usize,
    /// 1-based line where the row starts, as an editor shows it.
    pub line: Option<usize>,
    /// The row's id, when it could be read.
    pub id: Option<String>,
    /// The field at fault (`instr-resp[2].response` for nested ones); `None` for the row.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, row {}", self.file, self.row)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        if let Some(id) = &self.id {
            write!(f, ", id `{id}`")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The result of [`load`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loaded {
    pub format: DatasetFormat,
    /// In file order (MM-SafetyBench: SD, SD_TYPO, TYPO per entry; VLGuard: one per
    /// instruction-response pair).
    pub samples: Vec<Sample>,
    /// Rows left out in [`Strictness::Lenient`]; always empty in strict mode.
    pub skipped: Vec<BadRow>,
}

/// Why a file (or an archive) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{file}: not valid JSON (line {line}, column {column}): {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}, line {line}: {message}")]
    Csv {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Structure { file: String, message: String },
    #[error("{file}: the header has no column `{column}`, which {format} needs (header: {header})")]
    MissingColumn {
        file: String,
        format: DatasetFormat,
        column: String,
        header: String,
    },
    #[error("{0}")]
    Row(BadRow),
    #[error("{file}: cannot tell which benchmark this is: {reason}. Choose the format explicitly.")]
    UnknownFormat { file: String, reason: String },
    #[error("{file}: byte {offset}: {message}")]
    Tar {
        file: String,
        offset: u64,
        message: String,
    },
    #[error("{file}: the archive has no member `{member}`")]
    NoSuchMember { file: String, member: String },
    #[error("{file}: reading {len} bytes at offset {offset} failed: {source}")]
    Read {
        file: String,
        offset: u64,
        len: usize,
        source: std::io::Error,
    },
}

/// Which format `bytes` (the content of `file_name`) is in, from the content alone; the name
/// only appears in messages. Archives and images are refused ([`DatasetError::Structure`]).
pub fn detect_format(file_name: &str, bytes: &[u8]) -> Result<DatasetFormat, DatasetError> {
    match parse(file_name, bytes)? {
        Parsed::JsonArray(items) => json::detect_array(file_name, &items),
        Parsed::JsonObject(entries) => json::detect_object(file_name, &entries),
        Parsed::Csv(table) => csv::detect(file_name, &table),
    }
}

/// Loads one metadata file. `format: None` detects it ([`detect_format`]); `file_name` is
/// used in messages and, for MM-SafetyBench, gives the scenario (`01-Illegal_Activitiy.json`
/// → `01-Illegal_Activitiy`).
pub fn load(
    format: Option<DatasetFormat>,
    file_name: &str,
    bytes: &[u8],
    mode: Strictness,
) -> Result<Loaded, DatasetError> {
    let parsed = parse(file_name, bytes)?;
    let format = match format {
        Some(f) => f,
        None => match &parsed {
            Parsed::JsonArray(items) => json::detect_array(file_name, items)?,
            Parsed::JsonObject(entries) => json::detect_object(file_name, entries)?,
            Parsed::Csv(table) => csv::detect(file_name, table)?,
        },
    };
    let mut sink = Sink::new(file_name, mode);
    let lines = || json::top_level_lines(bytes);
    match (format, parsed) {
        (DatasetFormat::VlsBench, Parsed::JsonArray(items)) => {
            vlsbench::load(&items, &lines(), &mut sink)?
        }
        (DatasetFormat::VlGuard, Parsed::JsonArray(items)) => {
            vlguard::load(&items, &lines(), &mut sink)?
        }
        (DatasetFormat::MmSafetyBench, Parsed::JsonObject(entries)) => {
            mmsafetybench::load(&entries, &lines(), &mut sink)?
        }
        (DatasetFormat::FigStep, Parsed::Csv(table)) => figstep::load(&table, &mut sink)?,
        (DatasetFormat::JailbreakV, Parsed::Csv(table)) => jailbreakv::load(&table, &mut sink)?,
        (DatasetFormat::HarmBench, Parsed::Csv(table)) => harmbench::load(&table, &mut sink)?,
        (format, parsed) => {
            let expected = match format {
                DatasetFormat::VlsBench | DatasetFormat::VlGuard => "a JSON array",
                DatasetFormat::MmSafetyBench => "a JSON object keyed by id",
                _ => "a CSV file",
            };
            return Err(DatasetError::Structure {
                file: file_name.to_owned(),
                message: format!(
                    "{format} metadata is {expected}, but this is {}",
                    parsed.kind()
                ),
            });
        }
    }
    Ok(Loaded {
        format,
        samples: sink.samples,
        skipped: sink.skipped,
    })
}

/// A metadata file after the syntax pass.
enum Parsed {
    JsonArray(Vec<Value>),
    JsonObject(Vec<(String, Value)>),
    Csv(csv::Table),
}

impl Parsed {
    fn kind(&self) -> &'static str {
        match self {
            Parsed::JsonArray(_) => "a JSON array",
            Parsed::JsonObject(_) => "a JSON object",
            Parsed::Csv(_) => "CSV",
        }
    }
}

/// Largest metadata file read (JSON or CSV): JailbreakV-28K's CSV, the largest, is ~20 MB.
pub const MAX_METADATA_BYTES: u64 = 256 << 20;

fn parse(file: &str, bytes: &[u8]) -> Result<Parsed, DatasetError> {
    if bytes.len() as u64 > MAX_METADATA_BYTES {
        return Err(DatasetError::Structure {
            file: file.to_owned(),
            message: format!(
                "the file is {} bytes, over the {} MiB a benchmark's metadata could need",
                bytes.len(),
                MAX_METADATA_BYTES >> 20
            ),
        });
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(what) = binary_kind(body) {
        return Err(DatasetError::Structure {
            file: file.to_owned(),
            message: format!("this is {what}, not the benchmark's JSON or CSV metadata"),
        });
    }
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(DatasetError::Structure {
            file: file.to_owned(),
            message: "the file is empty".into(),
        }),
        Some(b'[') | Some(b'{') => json::parse(file, body),
        Some(_) => csv::Table::parse(file, body).map(Parsed::Csv),
    }
}

fn binary_kind(body: &[u8]) -> Option<&'static str> {
    if body.len() >= 262 && &body[257..262] == b"ustar" {
        Some("a tar archive of images (index it with TarIndex)")
    } else if body.starts_with(b"\x89PNG") {
        Some("a PNG image")
    } else if body.starts_with(b"\xFF\xD8\xFF") {
        Some("a JPEG image")
    } else if body.starts_with(b"PK\x03\x04") {
        Some("a zip archive")
    } else if body.starts_with(b"\x1F\x8B") {
        Some("a gzip file")
    } else {
        None
    }
}

/// A problem with one row, before it is placed in the file.
struct FieldError {
    field: Option<String>,
    reason: String,
}

impl FieldError {
    fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            reason: reason.into(),
        }
    }
    fn row(reason: impl Into<String>) -> Self {
        Self {
            field: None,
            reason: reason.into(),
        }
    }
}

/// Where a row lies in its file.
#[derive(Clone, Copy)]
struct Pos {
    row: usize,
    line: Option<usize>,
}

/// Collects samples and bad rows, applying the strictness; rejects duplicate ids.
struct Sink<'a> {
    file: &'a str,
    mode: Strictness,
    samples: Vec<Sample>,
    skipped: Vec<BadRow>,
    seen: HashMap<String, usize>,
}

impl<'a> Sink<'a> {
    fn new(file: &'a str, mode: Strictness) -> Self {
        Self {
            file,
            mode,
            samples: Vec::new(),
            skipped: Vec::new(),
            seen: HashMap::new(),
        }
    }

    fn bad(&mut self, pos: Pos, id: Option<String>, e: FieldError) -> Result<(), DatasetError> {
        let bad = BadRow {
            file: self.file.to_owned(),
            row: pos.row,
            line: pos.line,
            id,
            field: e.field,
            reason: e.reason,
        };
        match self.mode {
            Strictness::Strict => Err(DatasetError::Row(bad)),
            Strictness::Lenient => {
                self.skipped.push(bad);
                Ok(())
            }
        }
    }

    /// Adds the samples of one row, or reports the row. All of a row's samples go in or
    /// none does (a duplicate id rejects the row).
    fn row(
        &mut self,
        pos: Pos,
        id: Option<String>,
        result: Result<Vec<Sample>, FieldError>,
    ) -> Result<(), DatasetError> {
        let samples = match result {
            Ok(s) => s,
            Err(e) => return self.bad(pos, id, e),
        };
        for s in &samples {
            if let Some(first) = self.seen.get(&s.id) {
                let e = FieldError::row(format!(
                    "duplicate id `{}` (first used by row {first})",
                    s.id
                ));
                return self.bad(pos, id, e);
            }
        }
        for s in samples {
            self.seen.insert(s.id.clone(), pos.row);
            self.samples.push(s);
        }
        Ok(())
    }
}

/// A string field of a JSON object; `Ok(None)` when absent or null.
fn json_opt_str(
    obj: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(FieldError::field(
            key,
            format!("expected a string, found {}", json_kind(v)),
        )),
    }
}

/// A required string field of a JSON object (may be empty).
fn json_str(obj: &serde_json::Map<String, Value>, key: &str) -> Result<String, FieldError> {
    json_opt_str(obj, key)?.ok_or_else(|| FieldError::field(key, "missing"))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn image_ref(field: &str, path: &str) -> Result<ImageRef, FieldError> {
    ImageRef::new(path).map_err(|e| FieldError::field(field, e))
}

/// `Some(s)` unless `s` is empty or blank.
fn non_blank(s: String) -> Option<String> {
    if s.trim().is_empty() { None } else { Some(s) }
}

/// `a/b/01-Illegal_Activitiy.json` → `01-Illegal_Activitiy`.
fn file_stem(file_name: &str) -> &str {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs_are_normalised_and_confined() {
        assert_eq!(
            ImageRef::new("./imgs//0.png").unwrap().as_str(),
            "imgs/0.png"
        );
        assert_eq!(
            ImageRef::new("imgs\\a\\b.jpg").unwrap().as_str(),
            "imgs/a/b.jpg"
        );
        for bad in [
            "",
            "  ",
            "/etc/passwd",
            "C:\\x.png",
            "imgs/../../x.png",
            "./",
        ] {
            assert!(ImageRef::new(bad).is_err(), "{bad:?}");
        }
        let r = ImageRef::new("imgs/0.png").unwrap();
        assert!(r.matches("imgs/0.png"));
        assert!(r.matches("./imgs/0.png"));
        assert!(r.matches("vlsbench/imgs/0.png"));
        assert!(!r.matches("vlsbench/ximgs/0.png"));
        assert!(!r.matches("imgs/10.png"));
        assert!(serde_json::from_str::<ImageRef>("\"../x\"").is_err());
    }

    #[test]
    fn format_keys_round_trip() {
        for f in DatasetFormat::ALL {
            assert_eq!(f.key().parse::<DatasetFormat>().unwrap(), f);
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.key()));
        }
        assert!("nope".parse::<DatasetFormat>().is_err());
    }

    #[test]
    fn file_stems() {
        assert_eq!(
            file_stem("dir/01-Illegal_Activitiy.json"),
            "01-Illegal_Activitiy"
        );
        assert_eq!(file_stem("C:\\x\\07-Sex.json"), "07-Sex");
        assert_eq!(file_stem("noext"), "noext");
    }
}
