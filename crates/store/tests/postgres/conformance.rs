//! The backend conformance suite (`caseload_store::conformance`) on `PgStore`, each test on a
//! database of its own.
//!
//! Without SearchCases' two tests: on PostgreSQL SearchCases is served by each server's search
//! index fed from the change log (issue 15), which is wired into the store apart from this
//! branch; until then `PgStore::search_cases` answers `Unavailable`. The suite runs them again
//! once it is.

use crate::harness::TestDb;
use caseload_domain::store::Store;
use caseload_store::postgres::PgStore;

/// A store on a fresh database, which is dropped after the store.
pub struct OnPostgres {
    store: PgStore,
    _db: TestDb,
}

impl std::ops::Deref for OnPostgres {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &self.store
    }
}

pub async fn make() -> Option<OnPostgres> {
    let db = TestDb::create().await?;
    let store = PgStore::open(&db.config())
        .await
        .unwrap_or_else(|e| panic!("opening a store on {}: {e}", db.name));
    Some(OnPostgres { store, _db: db })
}

caseload_store::conformance_tests!(optional make, without_search);
