//! Bulk transfer of whole domains (`caseload export` / `caseload import`): the file format, a
//! domain read out of a store as lines, and the checks and conversions an import applies.
//!
//! - `format`: the NDJSON lines (API-shaped, versioned, free of account, region and domain id).
//! - `export`: a domain → lines, in an order where every line refers only to earlier ones.
//! - `check`: pass one of an import (the whole file is checked before anything is written) and
//!   the `Plan` pass two follows; `records`: lines ↔ stored records, ids and times kept.
//!
//! How lines reach a store (directly, or through a running server's API) is the caller's
//! business: this module only says what a valid file is and what records it stands for.

mod check;
mod export;
pub mod format;
mod records;

pub use check::{Checker, Plan};
pub use export::{ExportError, export};
pub use records::Target;
