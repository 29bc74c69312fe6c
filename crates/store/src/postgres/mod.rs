//! The PostgreSQL backend of the scale-out mode (many servers on one database).
//!
//! What exists:
//! - `store`: `PgStore`, the storage contract over these tables (`PgStore::open` runs the
//!   migrations), passing the conformance suite; every method one transaction, and each
//!   uniqueness, quota, version, reference-number and client-token rule held across servers by
//!   the database (see the module for how). Its SearchCases goes through the server's own
//!   search index (`PgStore::with_search`, a `PgSearch`), fed from `changelog`.
//! - `pool`: a bounded connection pool whose every wait is bounded, so a database that is down
//!   or restarting gives a retryable error (`PgError::Unavailable`) in seconds, never a hang.
//! - `migrate`: the schema (`migrations/postgres/`, the SQLite tables translated, plus the change
//!   log), versioned in `schema_migrations` and applied by the server itself under an advisory
//!   lock, so several servers may start at once.
//! - `changelog` and `snapshot`: the change log every server's search index tails, read in commit
//!   order (positions are sets of finished transactions, not sequence numbers); the "horizon now"
//!   a search takes for read-your-writes; per-node positions and pruning below the lowest live one.
//! - `index_log` and `search`: each node's Tantivy index (the same `index::SearchIndex` as the
//!   embedded mode's, with `Snapshot` positions) fed from the change log. `PgLog` is its
//!   `ChangeLog`: batches of changes with each changed case's row read in the same snapshot, the
//!   node's position recorded after every durable commit, the log pruned now and then, and
//!   `None` (rebuild from the tables) when the log was pruned past the index's position.
//!   `PgSearch` is the glue the store calls:
//!   ```text
//!   let search = PgSearch::open(pool.clone(), node_name, &data_dir.join("index"))?;
//!   // SearchCases: takes `horizon_now`, waits until the index covers it (at most `wait`,
//!   // else StoreError::Unavailable), then searches.
//!   let (total, ids) = search.search(&query, wait).await?;
//!   ```
//!   Node names must be stable across restarts and unique in the fleet: a node's recorded
//!   position holds back pruning, and one away longer than `LIVE_WITHIN` rebuilds on return.
//! - `rows`: the tables' rows as the domain's records.
//!
//! The server runs on this backend with `caseload serve --database-url`.

mod changelog;
mod error;
mod index_log;
mod migrate;
mod pool;
mod rows;
mod search;
mod snapshot;
mod store;

pub use changelog::{
    Batch, LoggedChange, Pruned, append, forget_node, horizon_now, prune, read_changes,
    read_changes_in, record_position, snapshot_transaction,
};
pub use error::{PgError, PgResult};
pub use index_log::{LIVE_WITHIN, PgLog};
pub use migrate::{MIGRATIONS, Migration, migrate, schema_version};
pub use pool::{PgConfig, PgPool, PoolUsage};
pub use search::PgSearch;
pub use snapshot::Snapshot;
pub use store::PgStore;
