//! Results as records, and where they are kept. Every target answer, verdict and final error is
//! appended the moment it arrives; on restart the engine reloads them and skips what is done.
//!
//! A record's key is (row id, model, parameters hash, prompt hash, image hash, endpoint):
//! change any of them (another model, another template, another image file, another base URL)
//! and the row is run again under a new key, while the old records stay valid for their own
//! setup. Records written before the endpoint was part of the key have none; they still match
//! any endpoint, so an existing run keeps its results.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::future::{LocalBoxFuture, ready};
use serde::{Deserialize, Serialize};

use super::api::{ChatResponse, ProviderError};
use super::verdict::JudgeOutcome;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordKey {
    pub row: u64,
    pub model: String,
    pub params: String,
    pub prompt: String,
    pub image: String,
    /// The API's base URL (normalised); `None` in records written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl RecordKey {
    /// The same key as records without an endpoint have it.
    pub fn legacy(&self) -> Option<RecordKey> {
        self.endpoint.as_ref()?;
        Some(RecordKey {
            endpoint: None,
            ..self.clone()
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The model under test answering the row.
    Target,
    /// The judge labelling that answer.
    Judge,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Answer {
        response: ChatResponse,
    },
    Verdict {
        response: ChatResponse,
        verdict: JudgeOutcome,
    },
    /// Retries used up or a final HTTP error; nothing usable was returned.
    Error {
        error: ProviderError,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub stage: Stage,
    pub key: RecordKey,
    /// Judge records: the key of the answer they judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_key: Option<RecordKey>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub attempts: u32,
    pub elapsed_ms: u64,
    /// The decoding fields as they went out (`max_tokens`, `temperature`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<serde_json::Value>,
    /// Judge records: SHA-256 (first 16 hex digits) of the judge template's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// What was changed to meet the provider's limits (an image re-encoded, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Record {
    pub fn is_error(&self) -> bool {
        matches!(self.outcome, Outcome::Error { .. })
    }

    /// What `--retry-errors` calls again: errors, and verdicts that could not be read.
    pub fn needs_retry(&self) -> bool {
        self.is_error()
            || matches!(
                self.outcome,
                Outcome::Verdict {
                    verdict: JudgeOutcome::Unparsable { .. },
                    ..
                }
            )
    }

    pub fn response(&self) -> Option<&ChatResponse> {
        match &self.outcome {
            Outcome::Answer { response } | Outcome::Verdict { response, .. } => Some(response),
            Outcome::Error { .. } => None,
        }
    }

    pub fn verdict(&self) -> Option<&JudgeOutcome> {
        match &self.outcome {
            Outcome::Verdict { verdict, .. } => Some(verdict),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&ProviderError> {
        match &self.outcome {
            Outcome::Error { error } => Some(error),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("result store: {0}")]
pub struct StoreError(pub String);

/// Where records live: a JSONL file natively, browser storage later. Appends must be durable
/// when the future completes (within what the platform offers).
pub trait ResultStore {
    fn load(&self) -> LocalBoxFuture<'_, Result<Vec<Record>, StoreError>>;
    fn append<'a>(&'a self, record: &'a Record) -> LocalBoxFuture<'a, Result<(), StoreError>>;
}

/// Records in memory (tests; a page without persistent storage).
#[derive(Default)]
pub struct MemoryStore {
    pub records: RefCell<Vec<Record>>,
}

impl ResultStore for MemoryStore {
    fn load(&self) -> LocalBoxFuture<'_, Result<Vec<Record>, StoreError>> {
        Box::pin(ready(Ok(self.records.borrow().clone())))
    }

    fn append<'a>(&'a self, record: &'a Record) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.records.borrow_mut().push(record.clone());
        Box::pin(ready(Ok(())))
    }
}

/// What the store knows about one (stage, key).
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    Missing,
    /// Only errors so far.
    Failed(&'a Record),
    /// The latest successful record.
    Done(&'a Record),
}

/// Loaded records by (stage, key): a success beats any error, a later success an earlier one.
#[derive(Default)]
pub struct StoreIndex {
    entries: HashMap<(Stage, RecordKey), Record>,
}

impl StoreIndex {
    pub fn new(records: impl IntoIterator<Item = Record>) -> Self {
        let mut index = Self::default();
        records.into_iter().for_each(|r| index.insert(r));
        index
    }

    pub fn insert(&mut self, record: Record) {
        let slot = (record.stage, record.key.clone());
        match self.entries.get(&slot) {
            Some(old) if !old.is_error() && record.is_error() => {}
            _ => {
                self.entries.insert(slot, record);
            }
        }
    }

    /// The record under `key`, else under its legacy form (no endpoint).
    pub fn lookup(&self, stage: Stage, key: &RecordKey) -> Lookup<'_> {
        let found = self
            .entries
            .get(&(stage, key.clone()))
            .or_else(|| key.legacy().and_then(|k| self.entries.get(&(stage, k))));
        match found {
            None => Lookup::Missing,
            Some(r) if r.is_error() => Lookup::Failed(r),
            Some(r) => Lookup::Done(r),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::eval::api::ErrorKind;

    pub(crate) fn key(row: u64) -> RecordKey {
        RecordKey {
            row,
            model: "m".into(),
            params: "p".into(),
            prompt: "q".into(),
            image: "i".into(),
            endpoint: None,
        }
    }

    fn answer(row: u64, text: &str) -> Record {
        Record {
            stage: Stage::Target,
            key: key(row),
            answer_key: None,
            outcome: Outcome::Answer {
                response: ChatResponse {
                    text: Some(text.into()),
                    ..Default::default()
                },
            },
            attempts: 1,
            elapsed_ms: 3,
            sent: None,
            template: None,
            notes: Vec::new(),
        }
    }

    fn error(row: u64) -> Record {
        Record {
            outcome: Outcome::Error {
                error: ProviderError::new(ErrorKind::Network, "reset"),
            },
            ..answer(row, "")
        }
    }

    #[test]
    fn success_beats_error_in_either_order() {
        let i = StoreIndex::new([error(1), answer(1, "a"), answer(2, "b"), error(2), error(3)]);
        assert!(matches!(i.lookup(Stage::Target, &key(1)), Lookup::Done(_)));
        assert!(
            matches!(i.lookup(Stage::Target, &key(2)), Lookup::Done(r) if r.response().unwrap().text.as_deref() == Some("b"))
        );
        assert!(matches!(
            i.lookup(Stage::Target, &key(3)),
            Lookup::Failed(_)
        ));
        assert_eq!(i.lookup(Stage::Judge, &key(1)), Lookup::Missing);
    }

    #[test]
    fn records_without_an_endpoint_match_any_endpoint() {
        let i = StoreIndex::new([answer(1, "old")]);
        let mut k = key(1);
        k.endpoint = Some("https://api.openai.com/v1".into());
        assert!(matches!(i.lookup(Stage::Target, &k), Lookup::Done(_)));
        let mut newer = answer(2, "new");
        newer.key.endpoint = Some("http://a/v1".into());
        let i = StoreIndex::new([newer]);
        let mut other = key(2);
        other.endpoint = Some("http://b/v1".into());
        assert_eq!(i.lookup(Stage::Target, &other), Lookup::Missing);
    }

    #[test]
    fn records_round_trip_as_one_json_line() {
        for r in [answer(1, "line\nbreak"), error(2)] {
            let line = serde_json::to_string(&r).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), r);
        }
    }
}
