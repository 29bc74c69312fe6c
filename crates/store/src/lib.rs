//! Storage backends implementing `caseload_domain::store::Store`.
//!
//! - `sqlite`: the embedded default. One SQLite database is the system of record (WAL with
//!   `synchronous=NORMAL`; the writer thread syncs the WAL once per group of writes before
//!   answering them, see `sqlite/db.rs`); migrations are in `migrations/sqlite/`, applied in
//!   order at open and recorded in `PRAGMA user_version`.
//! - `index`: the Tantivy search index serving SearchCases, derived from the system of record
//!   through its change log and rebuildable from it at any time.
//! - `postgres`: the scale-out backend, `PgStore` (many servers on one PostgreSQL database), with
//!   its connection pool, migrations, the change log read in commit order and each node's search
//!   index fed from it (`PgSearch`); `caseload serve --database-url` runs on it.
//!
//! - `stats`: what a backend tells the server's `GET /metrics` (group-commit sizes, pool use,
//!   the index's position against the database), the same for every backend.
//! - `conformance` (feature `conformance`): the tests every backend must pass, run for SQLite
//!   (in memory and on disk) by this crate's unit tests; `conformance_tests!(make)` runs them
//!   for another backend.
//!
//! Backends know nothing of HTTP or of the API's rules; they store the records the domain layer
//! hands them (audit events and events included) atomically, and enforce only the uniqueness,
//! quota and version checks the contract names.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod fault;
pub mod index;
pub mod postgres;
mod related_walk;
pub mod sqlite;
pub mod stats;

pub use sqlite::{DomainReport, SqliteStore};
