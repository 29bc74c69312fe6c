use super::{backend, is_unique_violation, tags_from_text, tags_to_text};
use caseload_domain::store::{DomainKey, DomainRecord, StoreError, StoreResult, Tags};
use caseload_model::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str = "account_id, domain_id, region, name, created_ms, tags";

fn from_row(r: &Row) -> rusqlite::Result<(DomainRecord, String)> {
    Ok((
        DomainRecord {
            account_id: r.get(0)?,
            domain_id: r.get(1)?,
            region: r.get(2)?,
            name: r.get(3)?,
            created: Timestamp::from_unix_millis(r.get(4)?),
            tags: Default::default(),
        },
        r.get(5)?,
    ))
}

fn finish((mut d, tags): (DomainRecord, String)) -> StoreResult<DomainRecord> {
    d.tags = tags_from_text(&tags)?;
    Ok(d)
}

pub fn insert(c: &mut Connection, d: &DomainRecord, max: usize) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    let count: i64 = tx
        .query_row(
            "SELECT count(*) FROM domains WHERE account_id = ?1 AND region = ?2",
            params![d.account_id, d.region],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if count as usize >= max {
        return Err(StoreError::QuotaExceeded);
    }
    let res = tx.execute(
        &format!("INSERT INTO domains ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            d.account_id,
            d.domain_id,
            d.region,
            d.name,
            d.created.unix_millis(),
            tags_to_text(&d.tags)
        ],
    );
    match res {
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("domain name")),
        Err(e) => return Err(backend(e)),
        Ok(_) => {}
    }
    tx.commit().map_err(backend)
}

pub fn get(c: &mut Connection, key: &DomainKey) -> StoreResult<Option<DomainRecord>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM domains WHERE account_id = ?1 AND domain_id = ?2"
    ))
    .and_then(|mut s| s.query_row(params![key.account_id, key.domain_id], from_row))
    .optional()
    .map_err(backend)?
    .map(finish)
    .transpose()
}

pub fn list(
    c: &mut Connection,
    account: &str,
    region: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<DomainRecord>> {
    let mut stmt = c
        .prepare(&format!("SELECT {COLUMNS} FROM domains WHERE account_id = ?1 AND region = ?2 AND domain_id > ?3 ORDER BY domain_id LIMIT ?4"))
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![account, region, after.unwrap_or(""), limit as i64],
            from_row,
        )
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(finish)).collect()
}

pub fn update_tags(c: &mut Connection, key: &DomainKey, tags: &Tags) -> StoreResult<bool> {
    let n = c
        .execute(
            "UPDATE domains SET tags = ?3 WHERE account_id = ?1 AND domain_id = ?2",
            params![key.account_id, key.domain_id, tags_to_text(tags)],
        )
        .map_err(backend)?;
    Ok(n > 0)
}

pub fn delete(c: &mut Connection, key: &DomainKey) -> StoreResult<bool> {
    let (account, domain) = (&key.account_id, &key.domain_id);
    let tx = c.savepoint().map_err(backend)?;
    let n = tx
        .execute(
            "DELETE FROM domains WHERE account_id = ?1 AND domain_id = ?2",
            params![account, domain],
        )
        .map_err(backend)?;
    // An empty case id tells the search indexer to drop the whole domain.
    tx.execute(
        "INSERT INTO changes (account_id, domain_id, case_id, deleted) VALUES (?1, ?2, '', 1)",
        params![account, domain],
    )
    .map_err(backend)?;
    for table in [
        "resources",
        "cases",
        "audit",
        "idempotency",
        "related_items",
        "event_configs",
        "merges",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE account_id = ?1 AND domain_id = ?2"),
            params![account, domain],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    Ok(n > 0)
}
