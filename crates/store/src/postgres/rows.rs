//! Rows of the PostgreSQL tables the search index reads, as the domain's records.
//!
//! The JSON columns hold text byte for byte as the writer serialized it (see migration 0001), so
//! they decode exactly as SQLite's do.

use super::error::{PgError, PgResult};
use caseload_domain::store::{CaseRecord, ResourceKind, ResourceRecord, Tags};
use caseload_model::Timestamp;
use tokio_postgres::Row;

/// The columns `case_from_row` reads, in its order.
pub(crate) const CASE_COLUMNS: &str = "account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version";

/// The columns `resource_from_row` reads, in its order.
pub(crate) const RESOURCE_COLUMNS: &str =
    "account_id, domain_id, kind, id, name, deleted, created_ms, modified_ms, body, tags";

fn bad_json(what: &str, e: serde_json::Error) -> PgError {
    PgError::Backend(format!("a stored {what} is not valid JSON: {e}"))
}

fn tags(text: &str) -> PgResult<Tags> {
    serde_json::from_str(text).map_err(|e| bad_json("tag set", e))
}

pub(crate) fn case_from_row(r: &Row) -> PgResult<CaseRecord> {
    Ok(CaseRecord {
        account_id: r.try_get(0)?,
        domain_id: r.try_get(1)?,
        case_id: r.try_get(2)?,
        template_id: r.try_get(3)?,
        reference_number: r.try_get(4)?,
        fields: serde_json::from_str(r.try_get(5)?).map_err(|e| bad_json("case", e))?,
        tags: tags(r.try_get(6)?)?,
        created: Timestamp::from_unix_millis(r.try_get(7)?),
        updated: Timestamp::from_unix_millis(r.try_get(8)?),
        version: r.try_get(9)?,
    })
}

fn kind_from(s: &str) -> ResourceKind {
    [
        ResourceKind::Field,
        ResourceKind::Template,
        ResourceKind::Layout,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
    .unwrap_or(ResourceKind::CaseRule)
}

pub(crate) fn resource_from_row(r: &Row) -> PgResult<ResourceRecord> {
    Ok(ResourceRecord {
        account_id: r.try_get(0)?,
        domain_id: r.try_get(1)?,
        kind: kind_from(r.try_get(2)?),
        id: r.try_get(3)?,
        name: r.try_get(4)?,
        deleted: r.try_get(5)?,
        created: Timestamp::from_unix_millis(r.try_get(6)?),
        modified: Timestamp::from_unix_millis(r.try_get(7)?),
        body: serde_json::from_str(r.try_get(8)?).map_err(|e| bad_json("resource", e))?,
        tags: tags(r.try_get(9)?)?,
    })
}
