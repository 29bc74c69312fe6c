//! The backend conformance suite (`caseload_store::conformance`) on `PgStore`, each test on a
//! database of its own, with SearchCases served by a search index of its own (in a temporary
//! directory) fed from that database's change log.

use crate::harness::TestDb;
use caseload_domain::store::Store;
use caseload_store::postgres::PgStore;
use std::path::PathBuf;

/// A store on a fresh database, which is dropped after the store, and its index directory.
pub struct OnPostgres {
    store: PgStore,
    _db: TestDb,
    index_dir: PathBuf,
}

impl std::ops::Deref for OnPostgres {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &self.store
    }
}

impl Drop for OnPostgres {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.index_dir);
    }
}

pub async fn make() -> Option<OnPostgres> {
    let db = TestDb::create().await?;
    // The database's name is unique to this test and run, and so is this directory.
    let index_dir = std::env::temp_dir().join(&db.name);
    let store = PgStore::open(&db.config())
        .await
        .and_then(|s| s.with_search("conformance", &index_dir))
        .unwrap_or_else(|e| panic!("opening a store on {}: {e}", db.name));
    Some(OnPostgres {
        store,
        _db: db,
        index_dir,
    })
}

caseload_store::conformance_tests!(optional make);
