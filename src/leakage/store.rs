//! Where a dataset run keeps its score lines: one [`ScoreLine`] per sample, appended batch by
//! batch and read back to resume. The platform supplies the store — a JSONL file natively
//! ([`super::native::JsonlScoreStore`], the CLI's `scores.jsonl`), IndexedDB in the page — and
//! [`MemoryScoreStore`] serves tests and a browser without storage.
//!
//! Every store holds the lines of one run (one [`super::run::RunIdentity`]); matching them to
//! samples is [`super::run::ResumePlan`]'s job.

use std::cell::RefCell;
use std::collections::HashSet;

use futures_util::future::{LocalBoxFuture, ready};

use super::scores::ScoreLine;

/// Why a store could not be read or written; the message names the file or storage.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScoreStoreError {
    /// A line that is not a score line and not the torn end of an interrupted write.
    #[error("{source_name}, line {line}: not a score line ({why})")]
    BadLine {
        source_name: String,
        line: usize,
        why: String,
    },
    /// The stored lines were scored by something else (another model, head or mode).
    #[error("{0}")]
    Mismatch(String),
    #[error("{0}")]
    Io(String),
}

/// What a store held when it was opened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredScores {
    /// In stored order, the first line of each sample id.
    pub lines: Vec<ScoreLine>,
    /// Lines repeating an id already seen (ignored).
    pub duplicates: usize,
    /// A torn last line (an interrupted write) that was dropped: its 1-based line number.
    pub torn_line: Option<usize>,
}

/// The platform's storage for one run's score lines.
pub trait ScoreStore {
    /// Every line stored so far (see [`StoredScores`]).
    fn load(&self) -> LocalBoxFuture<'_, Result<StoredScores, ScoreStoreError>>;
    /// Appends one batch's lines; done when they would survive the process or tab ending.
    fn append<'a>(
        &'a self,
        lines: &'a [ScoreLine],
    ) -> LocalBoxFuture<'a, Result<(), ScoreStoreError>>;
}

/// The lines of a JSONL text, as [`StoredScores`], with where its readable part ends.
#[derive(Debug)]
pub struct ParsedJsonl {
    pub stored: StoredScores,
    /// Bytes to keep: everything after them is the torn last line.
    pub keep_bytes: usize,
    /// The last kept line has no `\n` (it needs one before anything is appended).
    pub needs_newline: bool,
}

/// Reads score lines from JSONL bytes. A last line that does not parse is an interrupted write
/// and is dropped; any other bad line is an error (`source_name` names the file in it).
pub fn parse_jsonl(source_name: &str, bytes: &[u8]) -> Result<ParsedJsonl, ScoreStoreError> {
    let mut out = ParsedJsonl {
        stored: StoredScores::default(),
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
        if raw.iter().all(u8::is_ascii_whitespace) {
            start = next;
            out.keep_bytes = next;
            continue;
        }
        match serde_json::from_slice::<ScoreLine>(raw) {
            Ok(line) => {
                if seen.insert(line.id.clone()) {
                    out.stored.lines.push(line);
                } else {
                    out.stored.duplicates += 1;
                }
                out.keep_bytes = next;
                out.needs_newline = !terminated;
            }
            Err(_) if next >= bytes.len() => {
                out.stored.torn_line = Some(number);
                break;
            }
            Err(e) => {
                return Err(ScoreStoreError::BadLine {
                    source_name: source_name.to_owned(),
                    line: number,
                    why: e.to_string(),
                });
            }
        }
        start = next;
    }
    Ok(out)
}

/// Lines kept in memory (tests, and the page when the browser gives it no storage).
#[derive(Default)]
pub struct MemoryScoreStore {
    lines: RefCell<Vec<ScoreLine>>,
}

impl ScoreStore for MemoryScoreStore {
    fn load(&self) -> LocalBoxFuture<'_, Result<StoredScores, ScoreStoreError>> {
        let mut seen = HashSet::new();
        let mut stored = StoredScores::default();
        for line in self.lines.borrow().iter() {
            if seen.insert(line.id.clone()) {
                stored.lines.push(line.clone());
            } else {
                stored.duplicates += 1;
            }
        }
        Box::pin(ready(Ok(stored)))
    }

    fn append<'a>(
        &'a self,
        lines: &'a [ScoreLine],
    ) -> LocalBoxFuture<'a, Result<(), ScoreStoreError>> {
        self.lines.borrow_mut().extend_from_slice(lines);
        Box::pin(ready(Ok(())))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::leakage::scores::TopHarm;
    use futures_util::FutureExt;

    pub(crate) fn line(id: &str) -> ScoreLine {
        ScoreLine {
            id: id.into(),
            category: None,
            sub_category: None,
            text_p_unsafe: 0.5,
            text_margin: 0.0,
            text_unsafe: false,
            image_p_unsafe: None,
            image_margin: None,
            image_unsafe: None,
            pair_p_unsafe: None,
            pair_margin: None,
            pair_unsafe: None,
            class: None,
            top_harm: TopHarm {
                category: None,
                sub_category: None,
                phrase: String::new(),
                probability: 0.0,
            },
            image_error: None,
        }
    }

    fn jsonl(ids: &[&str]) -> String {
        ids.iter()
            .map(|id| serde_json::to_string(&line(id)).unwrap() + "\n")
            .collect()
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_repeats_are_counted() {
        let mut text = jsonl(&["a", "b", "a"]);
        let keep = text.len();
        text.push_str("{\"id\":\"c\",\"text_p");
        let parsed = parse_jsonl("scores.jsonl", text.as_bytes()).unwrap();
        let ids: Vec<&str> = parsed.stored.lines.iter().map(|l| &*l.id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(parsed.stored.duplicates, 1);
        assert_eq!(parsed.stored.torn_line, Some(4));
        assert_eq!(parsed.keep_bytes, keep);
        assert!(!parsed.needs_newline);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error_that_names_it() {
        let text = format!("{}garbage\n{}", jsonl(&["a"]), jsonl(&["b"]));
        let err = parse_jsonl("x/scores.jsonl", text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, ScoreStoreError::BadLine { line: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().starts_with("x/scores.jsonl, line 2"));
    }

    #[test]
    fn a_complete_last_line_without_newline_is_kept_and_flagged() {
        let text = jsonl(&["a"]);
        let parsed = parse_jsonl("s", text.trim_end().as_bytes()).unwrap();
        assert_eq!(parsed.stored.lines.len(), 1);
        assert!(parsed.needs_newline);
    }

    #[test]
    fn the_memory_store_returns_first_lines_per_id() {
        let store = MemoryScoreStore::default();
        let (first, again) = ([line("a"), line("b")], [line("a")]);
        store.append(&first).now_or_never().unwrap().unwrap();
        store.append(&again).now_or_never().unwrap().unwrap();
        let stored = store.load().now_or_never().unwrap().unwrap();
        assert_eq!(stored.lines.len(), 2);
        assert_eq!(stored.duplicates, 1);
    }
}
