use super::{backend, is_unique_violation, tags_from_text, tags_to_text};
use caseload_domain::store::{
    DomainKey, ResourceKey, ResourceKind, ResourceRecord, StoreError, StoreResult,
};
use caseload_model::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str =
    "account_id, domain_id, kind, id, name, deleted, created_ms, modified_ms, body, tags";

fn kind_from(s: &str) -> ResourceKind {
    match s {
        "field" => ResourceKind::Field,
        "template" => ResourceKind::Template,
        "layout" => ResourceKind::Layout,
        _ => ResourceKind::CaseRule,
    }
}

fn from_row(r: &Row) -> rusqlite::Result<(ResourceRecord, String, String)> {
    let kind: String = r.get(2)?;
    Ok((
        ResourceRecord {
            account_id: r.get(0)?,
            domain_id: r.get(1)?,
            kind: kind_from(&kind),
            id: r.get(3)?,
            name: r.get(4)?,
            deleted: r.get::<_, i64>(5)? != 0,
            created: Timestamp::from_unix_millis(r.get(6)?),
            modified: Timestamp::from_unix_millis(r.get(7)?),
            body: serde_json::Value::Null,
            tags: Default::default(),
        },
        r.get(8)?,
        r.get(9)?,
    ))
}

fn finish((mut rec, body, tags): (ResourceRecord, String, String)) -> StoreResult<ResourceRecord> {
    rec.body = serde_json::from_str(&body).map_err(backend)?;
    rec.tags = tags_from_text(&tags)?;
    Ok(rec)
}

fn write_error(e: rusqlite::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Duplicate("name")
    } else {
        backend(e)
    }
}

pub fn insert(c: &mut Connection, r: &ResourceRecord, quota: usize) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    if quota != usize::MAX {
        let count: i64 = tx
            .query_row(
                "SELECT count(*) FROM resources WHERE account_id = ?1 AND domain_id = ?2 AND kind = ?3 AND deleted = 0",
                params![r.account_id, r.domain_id, r.kind.as_str()],
                |row| row.get(0),
            )
            .map_err(backend)?;
        if count as usize >= quota {
            return Err(StoreError::QuotaExceeded);
        }
    }
    tx.execute(
        &format!(
            "INSERT INTO resources ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            r.account_id,
            r.domain_id,
            r.kind.as_str(),
            r.id,
            r.name,
            r.deleted as i64,
            r.created.unix_millis(),
            r.modified.unix_millis(),
            r.body.to_string(),
            tags_to_text(&r.tags)
        ],
    )
    .map_err(write_error)?;
    tx.commit().map_err(backend)
}

/// Compares and writes in one transaction, so no other write can slip in between.
pub fn replace_if(
    c: &mut Connection,
    r: &ResourceRecord,
    prior: &ResourceRecord,
) -> StoreResult<bool> {
    let tx = c.savepoint().map_err(backend)?;
    let current = get(&tx, &prior.key())?;
    if current.as_ref() != Some(prior) {
        return Ok(false);
    }
    let written = write(&tx, r)?;
    tx.commit().map_err(backend)?;
    Ok(written)
}

pub fn count(
    c: &mut Connection,
    key: &DomainKey,
    kind: ResourceKind,
    deleted: bool,
) -> StoreResult<usize> {
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM resources WHERE account_id = ?1 AND domain_id = ?2 AND kind = ?3 AND deleted = ?4",
            params![key.account_id, key.domain_id, kind.as_str(), deleted as i64],
            |row| row.get(0),
        )
        .map_err(backend)?;
    Ok(n as usize)
}

fn write(c: &Connection, r: &ResourceRecord) -> StoreResult<bool> {
    let n = c
        .execute(
            "UPDATE resources SET name = ?5, deleted = ?6, modified_ms = ?7, body = ?8, tags = ?9 WHERE account_id = ?1 AND domain_id = ?2 AND kind = ?3 AND id = ?4",
            params![r.account_id, r.domain_id, r.kind.as_str(), r.id, r.name, r.deleted as i64, r.modified.unix_millis(), r.body.to_string(), tags_to_text(&r.tags)],
        )
        .map_err(write_error)?;
    Ok(n > 0)
}

pub fn get(c: &Connection, key: &ResourceKey) -> StoreResult<Option<ResourceRecord>> {
    let d = &key.domain;
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM resources WHERE account_id = ?1 AND domain_id = ?2 AND kind = ?3 AND id = ?4"))
        .and_then(|mut s| s.query_row(params![d.account_id, d.domain_id, key.kind.as_str(), key.id], from_row))
        .optional()
    .map_err(backend)?
    .map(finish)
    .transpose()
}

pub fn list(
    c: &mut Connection,
    key: &DomainKey,
    kind: ResourceKind,
    after: Option<&str>,
    limit: usize,
    include_deleted: bool,
) -> StoreResult<Vec<ResourceRecord>> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM resources WHERE account_id = ?1 AND domain_id = ?2 AND kind = ?3 AND id > ?4 AND (deleted = 0 OR ?5) ORDER BY id LIMIT ?6"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![
                key.account_id,
                key.domain_id,
                kind.as_str(),
                after.unwrap_or(""),
                include_deleted,
                limit as i64
            ],
            from_row,
        )
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(finish)).collect()
}
