//! The PostgreSQL backend's foundations against a real PostgreSQL: migrations, the change log
//! read in commit order, pruning, and the connection pool across a server restart.
//!
//! Each test gets a database of its own on 127.0.0.1:5432 (see `harness`); without a reachable
//! PostgreSQL they are skipped unless `CASELOAD_REQUIRE_POSTGRES` is set, as it is in CI.

mod harness;

mod changelog;
mod conformance;
mod migrations;
mod pool;
mod store;
