//! The PostgreSQL backend's foundations against a real PostgreSQL: migrations, the change log
//! read in commit order, pruning, the connection pool across a server restart, and the search
//! index fed from the change log.
//!
//! Each test gets a database of its own on 127.0.0.1:5432 (see `harness`); without a reachable
//! PostgreSQL they are skipped unless `CASELOAD_REQUIRE_POSTGRES` is set, as it is in CI.

mod harness;
// The caller of the service-level tests (`schema_cache`), shared with the SQLite tests.
#[path = "../common/mod.rs"]
mod common;

mod changelog;
mod conformance;
mod index;
mod leases;
mod migrations;
mod pool;
mod schema_cache;
mod store;
