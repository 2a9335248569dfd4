//! [`ResultStore`] in IndexedDB: one JSON text per record, appended the moment it arrives and
//! committed before the engine goes on, so a closed tab loses only the requests in flight.

use futures_util::future::LocalBoxFuture;

use crate::eval::store::StoreError;
use crate::eval::{Record, ResultStore};
use crate::web::idb::{Database, RECORDS};

pub struct IdbResultStore {
    db: Database,
}

impl IdbResultStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

impl ResultStore for IdbResultStore {
    fn load(&self) -> LocalBoxFuture<'_, Result<Vec<Record>, StoreError>> {
        Box::pin(async move {
            let texts = self
                .db
                .all_texts(RECORDS)
                .await
                .map_err(|e| StoreError(e.to_string()))?;
            // A text that does not parse (written by another version) is skipped, not fatal:
            // its row simply runs again.
            Ok(texts
                .iter()
                .filter_map(|t| serde_json::from_str(t).ok())
                .collect())
        })
    }

    fn append<'a>(&'a self, record: &'a Record) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let text = serde_json::to_string(record).map_err(|e| StoreError(e.to_string()))?;
            self.db
                .append(RECORDS, &text)
                .await
                .map_err(|e| StoreError(e.to_string()))
        })
    }
}
