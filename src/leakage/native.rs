//! [`ScoreStore`] for native builds: a run folder's `scores.jsonl`, one line per sample,
//! appended batch by batch (one `write` per batch, flushed before the next batch starts), and
//! `run.json` beside it, the [`RunIdentity`] the lines were scored under.
//!
//! On open, a torn last line (an interrupted write) is cut off and a missing final newline is
//! added, so appends start on a fresh line; stored lines of another identity are refused.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::future::{LocalBoxFuture, ready};

use super::run::RunIdentity;
use super::scores::ScoreLine;
use super::store::{ScoreStore, ScoreStoreError, StoredScores, parse_jsonl};

pub struct JsonlScoreStore {
    path: PathBuf,
    file: RefCell<File>,
    stored: StoredScores,
    /// The folder held lines from an earlier run (of the same identity).
    pub resumed: bool,
}

fn io(path: &Path, e: std::io::Error) -> ScoreStoreError {
    ScoreStoreError::Io(format!("{}: {e}", path.display()))
}

impl JsonlScoreStore {
    /// Opens `dir`'s `scores.jsonl` for `identity`: with `fresh`, what the folder held is
    /// deleted first; otherwise its lines are kept if its `run.json` names the same identity.
    /// Writes `run.json`.
    pub fn open(dir: &Path, identity: &RunIdentity, fresh: bool) -> Result<Self, ScoreStoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let path = dir.join("scores.jsonl");
        let run_path = dir.join("run.json");
        if fresh {
            for p in [&path, &run_path] {
                if p.exists() {
                    std::fs::remove_file(p).map_err(|e| io(p, e))?;
                }
            }
        }
        let resumed = path.exists();
        if resumed && !run_path.exists() {
            // Lines without their run.json could be any model's: never adopt them.
            let held = std::fs::read(&path).map_err(|e| io(&path, e))?;
            if !held.iter().all(u8::is_ascii_whitespace) {
                return Err(ScoreStoreError::Mismatch(format!(
                    "{} holds scores but {} is missing, so nothing says which model, head and \
                     images scored them",
                    path.display(),
                    run_path.display()
                )));
            }
        }
        if resumed && let Ok(bytes) = std::fs::read(&run_path) {
            let before: RunIdentity = serde_json::from_slice(&bytes)
                .map_err(|e| ScoreStoreError::Mismatch(format!("{}: {e}", run_path.display())))?;
            if let Some(why) = before.mismatch(identity) {
                return Err(ScoreStoreError::Mismatch(format!(
                    "{} cannot be resumed: {why}",
                    path.display()
                )));
            }
        }
        let mut text = serde_json::to_string_pretty(identity)
            .map_err(|e| ScoreStoreError::Io(e.to_string()))?;
        text.push('\n');
        std::fs::write(&run_path, text).map_err(|e| io(&run_path, e))?;

        let bytes = if resumed {
            std::fs::read(&path).map_err(|e| io(&path, e))?
        } else {
            Vec::new()
        };
        let parsed = parse_jsonl(&path.display().to_string(), &bytes)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        if parsed.stored.torn_line.is_some() {
            file.set_len(parsed.keep_bytes as u64)
                .map_err(|e| io(&path, e))?;
        }
        if parsed.needs_newline {
            file.write_all(b"\n").map_err(|e| io(&path, e))?;
        }
        Ok(Self {
            path,
            file: RefCell::new(file),
            stored: parsed.stored,
            resumed,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ScoreStore for JsonlScoreStore {
    /// What the file held when it was opened (the lines appended since are the caller's).
    fn load(&self) -> LocalBoxFuture<'_, Result<StoredScores, ScoreStoreError>> {
        Box::pin(ready(Ok(self.stored.clone())))
    }

    fn append<'a>(
        &'a self,
        lines: &'a [ScoreLine],
    ) -> LocalBoxFuture<'a, Result<(), ScoreStoreError>> {
        let mut text = String::new();
        for line in lines {
            match serde_json::to_string(line) {
                Ok(json) => {
                    text.push_str(&json);
                    text.push('\n');
                }
                Err(e) => {
                    return Box::pin(ready(Err(ScoreStoreError::Io(format!(
                        "writing the score of `{}`: {e}",
                        line.id
                    )))));
                }
            }
        }
        let mut file = self.file.borrow_mut();
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| io(&self.path, e));
        Box::pin(ready(written))
    }
}
