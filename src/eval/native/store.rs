//! [`ResultStore`] for native builds: an append-only JSONL file, one record per line.
//!
//! Each record is written with a single `write` call of one complete line on a file opened in
//! append mode, so a killed process (even `kill -9`) leaves at worst one partial last line. On
//! open, a partial last line (no trailing newline, or not valid JSON) is cut off, so later
//! appends start on a fresh line; unreadable lines elsewhere are skipped and counted.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures_util::future::{LocalBoxFuture, ready};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::eval::store::{Record, ResultStore, StoreError};

pub struct JsonlStore {
    log: JsonlLog<Record>,
    /// Everything in the file, appends included (what `load` returns).
    records: Mutex<Vec<Record>>,
    /// Lines that could not be read (a torn last line included).
    pub skipped_lines: usize,
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError(format!("{}: {e}", path.display()))
}

/// An append-only JSONL file of `T` values, one per line, written with one `write` call per
/// line on a file opened in append mode. What [`JsonlStore`] keeps its records in, and the
/// batch engine its manifest.
pub struct JsonlLog<T> {
    path: PathBuf,
    file: Mutex<File>,
    /// Also `fsync` each line (survives power loss, not only a killed process).
    pub sync: bool,
    kind: PhantomData<fn(T)>,
}

/// What [`JsonlLog::open`] read.
pub struct Loaded<T> {
    pub values: Vec<T>,
    /// Lines that could not be read (a torn last line included).
    pub skipped_lines: usize,
}

impl<T: Serialize + DeserializeOwned> JsonlLog<T> {
    /// Opens (or creates) the file and reads what it holds; a torn last line is cut off.
    pub fn open(path: impl Into<PathBuf>) -> Result<(Self, Loaded<T>), StoreError> {
        let path = path.into();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| io_error(&path, e))?;

        let mut values = Vec::new();
        let mut skipped_lines = 0;
        let mut good_end = 0;
        let mut start = 0;
        while start < bytes.len() {
            let (line, next, complete) = match bytes[start..].iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[start..start + i], start + i + 1, true),
                None => (&bytes[start..], bytes.len(), false),
            };
            match serde_json::from_slice::<T>(line) {
                Ok(r) if complete => {
                    values.push(r);
                    good_end = next;
                }
                _ if line.iter().all(u8::is_ascii_whitespace) && complete => good_end = next,
                _ => {
                    skipped_lines += 1;
                    if complete {
                        good_end = next;
                    }
                }
            }
            start = next;
        }
        if good_end < bytes.len() {
            // A torn last line: cut it so the next value starts on its own line.
            file.set_len(good_end as u64)
                .map_err(|e| io_error(&path, e))?;
            file.seek(SeekFrom::End(0))
                .map_err(|e| io_error(&path, e))?;
        }
        let log = Self {
            path,
            file: Mutex::new(file),
            sync: false,
            kind: PhantomData,
        };
        Ok((
            log,
            Loaded {
                values,
                skipped_lines,
            },
        ))
    }

    /// Appends `value` as one line (durable against a killed process when this returns).
    pub fn append(&self, value: &T) -> Result<(), StoreError> {
        let mut line = serde_json::to_vec(value).map_err(|e| StoreError(e.to_string()))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line).map_err(|e| io_error(&self.path, e))?;
        if self.sync {
            file.sync_data().map_err(|e| io_error(&self.path, e))?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl JsonlStore {
    /// Opens (or creates) the file and reads what it holds.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let (log, loaded) = JsonlLog::open(path)?;
        Ok(Self {
            log,
            records: Mutex::new(loaded.values),
            skipped_lines: loaded.skipped_lines,
        })
    }

    pub fn path(&self) -> &Path {
        self.log.path()
    }

    /// Also `fsync` each record (survives power loss, not only a killed process).
    pub fn set_sync(&mut self, sync: bool) {
        self.log.sync = sync;
    }
}

impl ResultStore for JsonlStore {
    fn load(&self) -> LocalBoxFuture<'_, Result<Vec<Record>, StoreError>> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        Box::pin(ready(Ok(records.clone())))
    }

    fn append<'a>(&'a self, record: &'a Record) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        let result = self.log.append(record).map(|()| {
            self.records
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(record.clone());
        });
        Box::pin(ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::ChatResponse;
    use crate::eval::store::{Outcome, RecordKey, Stage};

    fn record(row: u64) -> Record {
        Record {
            stage: Stage::Target,
            key: RecordKey {
                row,
                model: "m".into(),
                params: "p".into(),
                prompt: "q".into(),
                image: "i".into(),
                endpoint: None,
            },
            answer_key: None,
            outcome: Outcome::Answer {
                response: ChatResponse {
                    text: Some("a".into()),
                    ..Default::default()
                },
            },
            attempts: 1,
            elapsed_ms: 0,
            sent: None,
            template: None,
            notes: Vec::new(),
        }
    }

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("leakscope-{}-{name}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_before_the_next_append() {
        let path = temp("torn");
        let store = JsonlStore::open(&path).unwrap();
        for row in [1, 2] {
            pollster::block_on(store.append(&record(row))).unwrap();
        }
        drop(store);
        // What kill -9 in the middle of a write can leave.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"stage":"target","key":{"row":3,"mod"#)
            .unwrap();
        drop(f);

        let store = JsonlStore::open(&path).unwrap();
        assert_eq!(store.skipped_lines, 1);
        let rows: Vec<u64> = pollster::block_on(store.load())
            .unwrap()
            .iter()
            .map(|r| r.key.row)
            .collect();
        assert_eq!(rows, [1, 2]);
        pollster::block_on(store.append(&record(3))).unwrap();
        assert_eq!(pollster::block_on(store.load()).unwrap().len(), 3);
        drop(store);

        let store = JsonlStore::open(&path).unwrap();
        assert_eq!(store.skipped_lines, 0);
        let rows: Vec<u64> = pollster::block_on(store.load())
            .unwrap()
            .iter()
            .map(|r| r.key.row)
            .collect();
        assert_eq!(rows, [1, 2, 3]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_garbled_middle_line_is_skipped_not_fatal() {
        let path = temp("garbled");
        let good = serde_json::to_string(&record(1)).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n\n{good}\n")).unwrap();
        let store = JsonlStore::open(&path).unwrap();
        assert_eq!(
            (
                store.skipped_lines,
                pollster::block_on(store.load()).unwrap().len()
            ),
            (1, 2)
        );
        std::fs::remove_file(&path).unwrap();
    }
}
