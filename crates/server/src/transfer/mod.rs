//! `caseload export` and `caseload import`: a whole domain as an NDJSON file and back (the format
//! and its checks are `caseload_domain::transfer`).
//!
//! - `lines`: reading a file with line numbers; pass one, which checks it all before any write.
//! - `direct`: import into a data directory with the server stopped (ids and times kept).
//! - `remote`: import through a running server's API (the server assigns ids).
//! - `export`: a domain of a data directory as a file. `progress`: bars or plain lines.

pub mod direct;
pub mod export;
mod lines;
mod progress;
pub mod remote;
