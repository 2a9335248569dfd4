//! The manifest: what the batch engine has written, uploaded and submitted, as an append-only
//! list of events (natively a JSONL file beside `results.jsonl`), replayed into each chunk's
//! state on start. It maps every line's `custom_id` to the record the line becomes, so results
//! are matched through it alone, in whatever order they arrive.
//!
//! Every step is written before or after the call it stands for, so a process killed anywhere
//! is followed by a run that knows what to do:
//!
//! | last event of a chunk | what the next run does |
//! | --- | --- |
//! | [`Event::Chunk`] (file complete) | uploads it (OpenAI) and submits it |
//! | [`Event::Uploaded`] | submits it |
//! | [`Event::Submitting`] | looks for the batch the provider may have created before the kill (OpenAI: by the chunk named in its `metadata`; Anthropic, which has no metadata: by time and size, with a warning), else submits it |
//! | [`Event::Submitted`] | polls it; once it ended, stores every line's result (a line already stored is not stored twice) |
//! | [`Event::Ended`] | nothing: its lines are records |

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::eval::api::ApiKind;
use crate::eval::protocol::GenParams;
use crate::eval::store::{RecordKey, Stage};

/// One line of a chunk: its `custom_id` and the record it becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub id: String,
    pub key: RecordKey,
    /// Judge lines: the key of the answer they judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_key: Option<RecordKey>,
    /// What was changed to meet the provider's limits (an image scaled down, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The most this request can cost (at the batch price).
    pub max_cost: f64,
}

/// A chunk whose file is complete: one future batch, one stage, one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkInfo {
    /// Its name (8 hex digits), also in every line's `custom_id`, the uploaded file's name
    /// and the OpenAI batch's metadata.
    pub chunk: String,
    /// The command's work it belongs to ([`super::job_id`]).
    pub job: String,
    pub stage: Stage,
    pub api: ApiKind,
    pub base_url: String,
    pub model: String,
    /// Its file in the batches folder.
    pub file: String,
    pub bytes: u64,
    /// The decoding settings every line was sent with (for reading the answers).
    pub params: GenParams,
    /// The decoding fields as they went out (stored with each record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Value>,
    /// Judge chunks: the template's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub lines: Vec<Line>,
}

impl ChunkInfo {
    /// The most the chunk can cost.
    pub fn max_cost(&self) -> f64 {
        self.lines.iter().map(|l| l.max_cost).sum()
    }
}

/// A batch's request counts as the provider gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: u64,
    pub succeeded: u64,
    pub errored: u64,
    pub expired: u64,
    pub cancelled: u64,
}

/// What the stored lines of an ended batch add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub answered: u64,
    pub errors: u64,
    /// Lines with no result in the batch's files (stored as errors).
    pub missing: u64,
    /// Lines already stored by an earlier run (read again after a kill).
    pub already: u64,
    /// Result lines no line of this chunk has (another batch's): ignored.
    pub foreign: u64,
    /// What the answered lines cost (usage at the batch price; a line without usage counts
    /// at its worst case).
    pub cost: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The chunk's file is complete.
    Chunk(ChunkInfo),
    /// OpenAI: the file is uploaded.
    Uploaded { chunk: String, file_id: String },
    /// The batch is about to be created (Unix seconds): written before the request, so a kill
    /// before its answer is known is noticed.
    Submitting { chunk: String, at: u64 },
    /// The batch exists. `adopted`: found after a kill rather than from the answer.
    Submitted {
        chunk: String,
        batch: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        adopted: bool,
    },
    /// The provider refused to create it (or it was not found after a kill): submit again.
    NotSubmitted { chunk: String, why: String },
    /// Every line's result is stored. `status`: the provider's final status.
    Ended {
        chunk: String,
        status: String,
        counts: Counts,
        tally: Tally,
    },
}

impl Event {
    pub fn chunk(&self) -> &str {
        match self {
            Event::Chunk(info) => &info.chunk,
            Event::Uploaded { chunk, .. }
            | Event::Submitting { chunk, .. }
            | Event::Submitted { chunk, .. }
            | Event::NotSubmitted { chunk, .. }
            | Event::Ended { chunk, .. } => chunk,
        }
    }
}

/// Where a chunk stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Written, not uploaded (OpenAI) or not submitted (Anthropic).
    Written,
    /// OpenAI: uploaded, no batch yet.
    Uploaded,
    /// A create request went out; its answer was never recorded.
    Submitting,
    /// The batch runs (or ended and is not collected yet).
    Submitted,
    Ended,
}

/// One chunk, replayed.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkState {
    pub info: ChunkInfo,
    pub file_id: Option<String>,
    pub submitting: Option<u64>,
    pub batch: Option<String>,
    pub ended: Option<(String, Counts, Tally)>,
}

impl ChunkState {
    pub fn phase(&self) -> Phase {
        match (&self.ended, &self.batch, self.submitting, &self.file_id) {
            (Some(_), ..) => Phase::Ended,
            (None, Some(_), ..) => Phase::Submitted,
            (None, None, Some(_), _) => Phase::Submitting,
            (None, None, None, Some(_)) => Phase::Uploaded,
            (None, None, None, None) => Phase::Written,
        }
    }

    /// What it counts against the cap: what it cost once ended, its worst case until then.
    pub fn committed(&self) -> f64 {
        match &self.ended {
            Some((_, _, tally)) => tally.cost,
            None => self.info.max_cost(),
        }
    }
}

/// Every chunk, in the order they were written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    chunks: Vec<ChunkState>,
    by_chunk: HashMap<String, usize>,
    /// `custom_id` → (chunk, line).
    by_line: HashMap<String, (usize, usize)>,
    /// Events about chunks it never saw (a torn chunk event): ignored, counted.
    pub orphan_events: usize,
}

impl Manifest {
    pub fn replay(events: impl IntoIterator<Item = Event>) -> Self {
        let mut m = Self::default();
        events.into_iter().for_each(|e| m.apply(e));
        m
    }

    pub fn apply(&mut self, event: Event) {
        if let Event::Chunk(info) = event {
            if self.by_chunk.contains_key(&info.chunk) {
                self.orphan_events += 1;
                return;
            }
            let at = self.chunks.len();
            for (i, line) in info.lines.iter().enumerate() {
                self.by_line.insert(line.id.clone(), (at, i));
            }
            self.by_chunk.insert(info.chunk.clone(), at);
            self.chunks.push(ChunkState {
                info,
                file_id: None,
                submitting: None,
                batch: None,
                ended: None,
            });
            return;
        }
        let Some(&at) = self.by_chunk.get(event.chunk()) else {
            self.orphan_events += 1;
            return;
        };
        let c = &mut self.chunks[at];
        match event {
            Event::Chunk(_) => {}
            Event::Uploaded { file_id, .. } => c.file_id = Some(file_id),
            Event::Submitting { at, .. } => c.submitting = Some(at),
            Event::Submitted { batch, .. } => c.batch = Some(batch),
            Event::NotSubmitted { .. } => c.submitting = None,
            Event::Ended {
                status,
                counts,
                tally,
                ..
            } => c.ended = Some((status, counts, tally)),
        }
    }

    pub fn chunks(&self) -> &[ChunkState] {
        &self.chunks
    }

    /// The chunks in `phase`, copied (the caller appends events while it goes through them).
    pub fn in_phase(&self, phase: Phase) -> Vec<ChunkState> {
        self.chunks
            .iter()
            .filter(|c| c.phase() == phase)
            .cloned()
            .collect()
    }

    pub fn get(&self, chunk: &str) -> Option<&ChunkState> {
        self.by_chunk.get(chunk).map(|&i| &self.chunks[i])
    }

    pub fn contains_chunk(&self, chunk: &str) -> bool {
        self.by_chunk.contains_key(chunk)
    }

    /// The chunk and line a `custom_id` stands for.
    pub fn line(&self, custom_id: &str) -> Option<(&ChunkState, &Line)> {
        let &(c, l) = self.by_line.get(custom_id)?;
        let chunk = &self.chunks[c];
        Some((chunk, &chunk.info.lines[l]))
    }

    /// Whether a batch with this id is already some chunk's.
    pub fn has_batch(&self, batch: &str) -> bool {
        self.chunks
            .iter()
            .any(|c| c.batch.as_deref() == Some(batch))
    }

    /// (stage, key) of every line whose chunk has not ended: requested already, so not
    /// requested again while its batch runs.
    pub fn pending(&self) -> HashSet<(Stage, RecordKey)> {
        self.chunks
            .iter()
            .filter(|c| c.phase() != Phase::Ended)
            .flat_map(|c| c.info.lines.iter().map(|l| (c.info.stage, l.key.clone())))
            .collect()
    }

    /// Keys of the target answers that came from ended chunks: answers this batch work
    /// obtained, whose judge `--retry-errors` also calls (the live engine's "fresh").
    pub fn collected_answers(&self) -> HashSet<RecordKey> {
        self.chunks
            .iter()
            .filter(|c| c.info.stage == Stage::Target && c.phase() == Phase::Ended)
            .flat_map(|c| c.info.lines.iter().map(|l| l.key.clone()))
            .collect()
    }

    /// What `job`'s chunks count against its cap: [`Self::spent`] + [`Self::reserved`].
    pub fn committed(&self, job: &str) -> f64 {
        self.spent(job) + self.reserved(job)
    }

    /// What `job`'s ended chunks cost.
    pub fn spent(&self, job: &str) -> f64 {
        self.of_job(job)
            .filter(|c| c.ended.is_some())
            .map(ChunkState::committed)
            .sum()
    }

    /// The worst case of `job`'s chunks that have not ended.
    pub fn reserved(&self, job: &str) -> f64 {
        self.of_job(job)
            .filter(|c| c.ended.is_none())
            .map(ChunkState::committed)
            .sum()
    }

    fn of_job<'m>(&'m self, job: &'m str) -> impl Iterator<Item = &'m ChunkState> {
        self.chunks.iter().filter(move |c| c.info.job == job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(row: u64) -> RecordKey {
        RecordKey {
            endpoint: Some("http://h/v1".into()),
            ..crate::eval::store::tests::key(row)
        }
    }

    fn chunk(name: &str, stage: Stage, rows: &[u64]) -> Event {
        Event::Chunk(ChunkInfo {
            chunk: name.into(),
            job: "job".into(),
            stage,
            api: ApiKind::OpenAiChat,
            base_url: "http://h/v1".into(),
            model: "m".into(),
            file: format!("{name}.jsonl"),
            bytes: 10,
            params: GenParams::target_default(),
            sent: None,
            template: None,
            lines: rows
                .iter()
                .map(|&row| Line {
                    id: super::super::custom_id(stage, row, name),
                    key: key(row),
                    answer_key: None,
                    notes: Vec::new(),
                    max_cost: 0.25,
                })
                .collect(),
        })
    }

    #[test]
    fn replay_follows_each_chunk_through_its_phases() {
        let mut m = Manifest::replay([
            chunk("aaaa0001", Stage::Target, &[1, 2]),
            chunk("aaaa0002", Stage::Target, &[3]),
            Event::Uploaded {
                chunk: "aaaa0001".into(),
                file_id: "file-1".into(),
            },
            Event::Submitting {
                chunk: "aaaa0001".into(),
                at: 100,
            },
        ]);
        let phase = |m: &Manifest, c: &str| m.get(c).unwrap().phase();
        assert_eq!(phase(&m, "aaaa0001"), Phase::Submitting);
        assert_eq!(phase(&m, "aaaa0002"), Phase::Written);
        assert_eq!(m.pending().len(), 3);
        assert_eq!(m.committed("job"), 0.75);

        let (c, line) = m.line("t2-aaaa0001").unwrap();
        assert_eq!((c.info.chunk.as_str(), line.key.row), ("aaaa0001", 2));
        assert!(m.line("t2-aaaa0002").is_none());

        m.apply(Event::Submitted {
            chunk: "aaaa0001".into(),
            batch: "batch_1".into(),
            adopted: true,
        });
        assert!(m.has_batch("batch_1"));
        m.apply(Event::Ended {
            chunk: "aaaa0001".into(),
            status: "completed".into(),
            counts: Counts::default(),
            tally: Tally {
                cost: 0.1,
                ..Tally::default()
            },
        });
        assert_eq!(phase(&m, "aaaa0001"), Phase::Ended);
        assert_eq!(
            m.pending()
                .into_iter()
                .map(|(_, k)| k.row)
                .collect::<Vec<_>>(),
            [3]
        );
        assert!((m.committed("job") - 0.35).abs() < 1e-12);
        assert_eq!((m.spent("job"), m.reserved("job")), (0.1, 0.25));
        assert_eq!(m.committed("other job"), 0.0);
        assert_eq!(m.collected_answers().len(), 2);

        // A refused create sends the chunk back to where it was.
        m.apply(Event::Submitting {
            chunk: "aaaa0002".into(),
            at: 5,
        });
        m.apply(Event::NotSubmitted {
            chunk: "aaaa0002".into(),
            why: "503".into(),
        });
        assert_eq!(phase(&m, "aaaa0002"), Phase::Written);
        // Events about an unknown chunk (its own event torn) are counted, not applied.
        m.apply(Event::Uploaded {
            chunk: "zzzz".into(),
            file_id: "f".into(),
        });
        assert_eq!(m.orphan_events, 1);
    }

    #[test]
    fn events_round_trip_as_json_lines() {
        let events = [
            chunk("aaaa0001", Stage::Judge, &[1]),
            Event::Submitted {
                chunk: "aaaa0001".into(),
                batch: "msgbatch_1".into(),
                adopted: false,
            },
        ];
        for e in events {
            let line = serde_json::to_string(&e).unwrap();
            assert!(!line.contains('\n') && !line.contains("adopted"));
            assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), e);
        }
    }
}
