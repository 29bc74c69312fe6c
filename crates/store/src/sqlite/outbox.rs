//! The event outbox (`events`), the domains' event configurations and the delivery cursors.
//!
//! An event is appended in the transaction of the change it describes (`append`): the domain
//! decides it and hands it over with the change, so a committed change has its event and a
//! rolled-back one has none. The outbox is kept apart from `changes`, which the search indexer prunes as soon
//! as it has indexed it; events are pruned only once every webhook has them and they are older
//! than the retention the server asks for (`prune`).

use super::backend;
use caseload_domain::store::{DomainKey, EventRecord, StoreResult};
use caseload_model::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

/// Appends a change's event, if it has one. Runs inside the change's transaction.
pub(crate) fn append(tx: &Connection, event: Option<&EventRecord>) -> StoreResult<()> {
    let Some(e) = event else {
        return Ok(());
    };
    crate::fault::point!(
        "outbox.append",
        backend("injected fault: appending to the event outbox failed")
    );
    tx.prepare_cached(
        "INSERT INTO events (account_id, region, domain_id, case_id, created_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .map_err(backend)?
    .execute(params![
        e.account_id,
        e.region,
        e.domain_id,
        e.case_id,
        e.time.unix_millis(),
        e.body.to_string()
    ])
    .map_err(backend)?;
    Ok(())
}

/// A domain's configuration document and the region its events name.
pub fn get_config(
    c: &Connection,
    account: &str,
    domain: &str,
) -> StoreResult<Option<(String, serde_json::Value)>> {
    let row: Option<(String, String)> = c
        .prepare_cached(
            "SELECT region, body FROM event_configs WHERE account_id = ?1 AND domain_id = ?2",
        )
        .map_err(backend)?
        .query_row(params![account, domain], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(backend)?;
    row.map(|(region, body)| Ok((region, serde_json::from_str(&body).map_err(backend)?)))
        .transpose()
}

pub fn put_config(
    c: &mut Connection,
    key: &DomainKey,
    region: &str,
    body: &serde_json::Value,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO event_configs (account_id, domain_id, region, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, domain_id) DO UPDATE SET region = excluded.region, body = excluded.body",
        params![key.account_id, key.domain_id, region, body.to_string()],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn events_after(
    c: &Connection,
    after: i64,
    scope: Option<(&str, &str)>,
    limit: usize,
) -> StoreResult<Vec<EventRecord>> {
    const COLUMNS: &str = "seq, account_id, region, domain_id, case_id, created_ms, body";
    let row = |r: &rusqlite::Row| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, String>(6)?,
        ))
    };
    let rows: Vec<_> = match scope {
        Some((account, region)) => c
            .prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE account_id = ?1 AND region = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"))
            .map_err(backend)?
            .query_map(params![account, region, after, limit as i64], row)
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?,
        None => c
            .prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"))
            .map_err(backend)?
            .query_map(params![after, limit as i64], row)
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?,
    };
    rows.into_iter()
        .map(|(seq, account_id, region, domain_id, case_id, ms, body)| {
            Ok(EventRecord {
                seq,
                account_id,
                region,
                domain_id,
                case_id,
                time: Timestamp::from_unix_millis(ms),
                body: serde_json::from_str(&body).map_err(backend)?,
            })
        })
        .collect()
}

/// The sequence number of the last event ever appended; AUTOINCREMENT keeps it growing after
/// pruning.
pub fn last_seq(c: &Connection) -> StoreResult<i64> {
    Ok(c.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
        [],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)?
    .unwrap_or(0))
}

pub fn cursor(c: &Connection, target: &str) -> StoreResult<Option<i64>> {
    c.query_row(
        "SELECT seq FROM event_deliveries WHERE target = ?1",
        [target],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)
}

pub fn set_cursor(c: &mut Connection, target: &str, seq: i64) -> StoreResult<()> {
    c.execute(
        "INSERT INTO event_deliveries (target, seq) VALUES (?1, ?2) ON CONFLICT (target) DO UPDATE SET seq = excluded.seq",
        params![target, seq],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn prune(c: &mut Connection, up_to_seq: i64, older_than: Timestamp) -> StoreResult<usize> {
    c.execute(
        "DELETE FROM events WHERE seq <= ?1 AND created_ms < ?2",
        params![up_to_seq, older_than.unix_millis()],
    )
    .map_err(backend)
}
