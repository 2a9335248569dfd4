//! `scores.jsonl`: one line per scored sample, appended batch by batch, and read back to resume
//! a run. `run.json` beside it records what produced the scores, so that a resumed run never
//! mixes scores from another model, head or mode.

use std::collections::HashSet;
use std::path::Path;

pub use leakscope::leakage::scores::ScoreLine;
use leakscope::tokenizer::TokenizerMode;
use serde::{Deserialize, Serialize};

/// What produced a `scores.jsonl` (`run.json`); a resumed run must match it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Where the scores came from (for people; not compared).
    pub dataset: String,
    pub model: String,
    /// Compared on resume.
    pub model_config_sha256: String,
    pub model_weights_bytes: u64,
    pub head_sha256: String,
    pub text_only: bool,
    /// The tokenizer mode; absent in runs scored before there were modes (transformers 4's
    /// slow tokenizer), which cannot be resumed.
    #[serde(default)]
    pub tokenizer: Option<TokenizerMode>,
}

impl RunInfo {
    /// The first difference that makes `self`'s scores unusable for `now`.
    pub fn mismatch(&self, now: &RunInfo) -> Option<String> {
        if self.text_only != now.text_only {
            let mode = |t: bool| if t { "--text-only" } else { "with images" };
            return Some(format!(
                "it was scored {} and this run is {}",
                mode(self.text_only),
                mode(now.text_only)
            ));
        }
        if self.model_config_sha256 != now.model_config_sha256
            || self.model_weights_bytes != now.model_weights_bytes
        {
            return Some(format!("it was scored with another model ({})", self.model));
        }
        if self.head_sha256 != now.head_sha256 {
            return Some("it was scored with another guard head".to_owned());
        }
        if self.tokenizer != now.tokenizer {
            let name = |t: Option<TokenizerMode>| {
                t.map_or("the old slow tokenizer", TokenizerMode::as_str)
            };
            return Some(format!(
                "it was scored with the {} tokenizer and this run uses {}",
                name(self.tokenizer),
                name(now.tokenizer)
            ));
        }
        None
    }
}

/// The lines of an existing `scores.jsonl`.
pub struct Existing {
    /// In file order, first occurrence of each id.
    pub lines: Vec<ScoreLine>,
    /// Lines repeating an id already seen (ignored).
    pub duplicates: usize,
    /// A torn last line (an interrupted write), dropped: its 1-based line number.
    pub torn_line: Option<usize>,
    /// Bytes to keep: everything after them is the torn line.
    pub keep_bytes: u64,
    /// The last kept line has no `\n` (it must get one before anything is appended).
    pub needs_newline: bool,
}

/// Reads `path`. A last line that does not parse is an interrupted write and is dropped; any
/// other bad line is an error that says how to go on.
pub fn read_existing(path: &Path) -> Result<Existing, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Existing {
        lines: Vec::new(),
        duplicates: 0,
        torn_line: None,
        keep_bytes: 0,
        needs_newline: false,
    };
    let mut seen = HashSet::new();
    let mut start = 0usize;
    let mut number = 0usize;
    while start < bytes.len() {
        number += 1;
        let (end, next, terminated) = match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(i) => (start + i, start + i + 1, true),
            None => (bytes.len(), bytes.len(), false),
        };
        let raw = &bytes[start..end];
        let last = next >= bytes.len();
        if raw.iter().all(u8::is_ascii_whitespace) {
            start = next;
            out.keep_bytes = next as u64;
            continue;
        }
        match serde_json::from_slice::<ScoreLine>(raw) {
            Ok(line) => {
                if seen.insert(line.id.clone()) {
                    out.lines.push(line);
                } else {
                    out.duplicates += 1;
                }
                out.keep_bytes = next as u64;
                out.needs_newline = !terminated;
            }
            Err(_) if last => {
                out.torn_line = Some(number);
                break;
            }
            Err(e) => {
                return Err(format!(
                    "{}, line {number}: not a score line ({e}); delete that line, or pass --fresh \
                     to score everything again",
                    path.display()
                ));
            }
        }
        start = next;
    }
    Ok(out)
}
