//! The PostgreSQL backend of the scale-out mode (many servers on one database).
//!
//! What exists:
//! - `store`: `PgStore`, the storage contract over these tables (`PgStore::open` runs the
//!   migrations), passing the conformance suite; every method one transaction, and each
//!   uniqueness, quota, version, reference-number and client-token rule held across servers by
//!   the database (see the module for how). Its SearchCases answers `Unavailable` until each
//!   server's search index, fed from `changelog`, is wired in.
//! - `pool`: a bounded connection pool whose every wait is bounded, so a database that is down
//!   or restarting gives a retryable error (`PgError::Unavailable`) in seconds, never a hang.
//! - `migrate`: the schema (`migrations/postgres/`, the SQLite tables translated, plus the change
//!   log), versioned in `schema_migrations` and applied by the server itself under an advisory
//!   lock, so several servers may start at once.
//! - `changelog` and `snapshot`: the change log every server's search index tails, read in commit
//!   order (positions are sets of finished transactions, not sequence numbers); the "horizon now"
//!   a search takes for read-your-writes; per-node positions and pruning below the lowest live one.
//!
//! Still to come (issue 15): feeding the Tantivy index from `changelog` (and so SearchCases),
//! the server's `--database-url`, group commit of concurrent writes, and running the API suites
//! against this backend. Nothing here is reachable from the server yet.

mod changelog;
mod error;
mod migrate;
mod pool;
mod snapshot;
mod store;

pub use changelog::{
    Batch, LoggedChange, Pruned, append, forget_node, horizon_now, prune, read_changes,
    record_position, snapshot_transaction,
};
pub use error::{PgError, PgResult};
pub use migrate::{MIGRATIONS, Migration, migrate, schema_version};
pub use pool::{PgConfig, PgPool, PoolUsage};
pub use snapshot::Snapshot;
pub use store::PgStore;
