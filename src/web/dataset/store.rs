//! [`ScoreStore`] in IndexedDB for dataset mode: one JSON text per score line, filed under the
//! run's key (the dataset's fingerprint and the [`RunIdentity`](crate::leakage::run::RunIdentity)
//! key), each batch committed before the next one starts, so a reload continues where it
//! stopped. When the browser gives no storage, or a write fails, the lines are kept in this tab
//! (and the panel says so) rather than stopping the run.

use std::cell::RefCell;
use std::collections::HashSet;

use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use crate::leakage::scores::ScoreLine;
use crate::leakage::store::{MemoryScoreStore, ScoreStore, ScoreStoreError, StoredScores};
use crate::web::idb::{Database, VSIL};

#[derive(Serialize, Deserialize)]
struct StoredLine {
    run: String,
    line: ScoreLine,
}

pub struct IdbScoreStore {
    db: Option<Database>,
    run: String,
    /// Lines whose write failed (kept here; the tab still has them).
    fallback: MemoryScoreStore,
    /// Why storage stopped working, once it did.
    pub degraded: RefCell<Option<String>>,
}

impl IdbScoreStore {
    /// `db`: `None` when the browser gives no IndexedDB (private windows, some settings).
    pub fn new(db: Option<Database>, run: String) -> Self {
        Self {
            degraded: RefCell::new(
                db.is_none()
                    .then(|| "this browser gives the page no storage".to_owned()),
            ),
            db,
            run,
            fallback: MemoryScoreStore::default(),
        }
    }
}

impl ScoreStore for IdbScoreStore {
    fn load(&self) -> LocalBoxFuture<'_, Result<StoredScores, ScoreStoreError>> {
        Box::pin(async move {
            let mut stored = self.fallback.load().await?;
            let Some(db) = &self.db else {
                return Ok(stored);
            };
            let texts = db
                .all_texts(VSIL)
                .await
                .map_err(|e| ScoreStoreError::Io(e.to_string()))?;
            let mut seen: HashSet<String> = stored.lines.iter().map(|l| l.id.clone()).collect();
            // A text of another run, or written by another version, is not this run's.
            for line in texts
                .iter()
                .filter_map(|t| serde_json::from_str::<StoredLine>(t).ok())
                .filter(|s| s.run == self.run)
                .map(|s| s.line)
            {
                if seen.insert(line.id.clone()) {
                    stored.lines.push(line);
                } else {
                    stored.duplicates += 1;
                }
            }
            Ok(stored)
        })
    }

    fn append<'a>(
        &'a self,
        lines: &'a [ScoreLine],
    ) -> LocalBoxFuture<'a, Result<(), ScoreStoreError>> {
        Box::pin(async move {
            let healthy = self.degraded.borrow().is_none();
            if let (Some(db), true) = (&self.db, healthy) {
                let texts: Result<Vec<String>, _> = lines
                    .iter()
                    .map(|line| {
                        serde_json::to_string(&StoredLine {
                            run: self.run.clone(),
                            line: line.clone(),
                        })
                    })
                    .collect();
                let written = match texts {
                    Ok(texts) => db.append_all(VSIL, &texts).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match written {
                    Ok(()) => return Ok(()),
                    Err(e) => *self.degraded.borrow_mut() = Some(e),
                }
            }
            self.fallback.append(lines).await
        })
    }
}
