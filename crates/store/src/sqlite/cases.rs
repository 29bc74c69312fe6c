use super::{backend, is_unique_violation, outbox, related, tags_from_text, tags_to_text};
use caseload_domain::events::Change;
use caseload_domain::store::{
    AuditRecord, CaseRecord, Created, IdempotencyRecord, RelatedItemRecord, StoreError, StoreResult,
};
use caseload_model::Timestamp;
use caseload_model::shapes::AuditEventPerformedBy;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

pub(crate) const COLUMNS: &str = "account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version";

pub(crate) fn from_row(r: &Row) -> rusqlite::Result<(CaseRecord, String, String)> {
    Ok((
        CaseRecord {
            account_id: r.get(0)?,
            domain_id: r.get(1)?,
            case_id: r.get(2)?,
            template_id: r.get(3)?,
            reference_number: r.get(4)?,
            fields: Default::default(),
            tags: Default::default(),
            created: Timestamp::from_unix_millis(r.get(7)?),
            updated: Timestamp::from_unix_millis(r.get(8)?),
            version: r.get(9)?,
        },
        r.get(5)?,
        r.get(6)?,
    ))
}

pub(crate) fn finish(
    (mut c, fields, tags): (CaseRecord, String, String),
) -> StoreResult<CaseRecord> {
    c.fields = serde_json::from_str(&fields).map_err(backend)?;
    c.tags = tags_from_text(&tags)?;
    Ok(c)
}

fn fields_text(c: &CaseRecord) -> StoreResult<String> {
    serde_json::to_string(&c.fields).map_err(backend)
}

pub(crate) fn record_change(
    tx: &Transaction,
    account: &str,
    domain: &str,
    case_id: &str,
    deleted: bool,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO changes (account_id, domain_id, case_id, deleted) VALUES (?1, ?2, ?3, ?4)",
        params![account, domain, case_id, deleted as i64],
    )
    .map_err(backend)?;
    Ok(())
}

fn insert_audit(tx: &Transaction, c: &CaseRecord, a: &AuditRecord) -> StoreResult<()> {
    insert_audit_for(tx, &c.account_id, &c.domain_id, &c.case_id, a)
}

/// Appends an audit event to a case's history.
pub(crate) fn insert_audit_for(
    tx: &Transaction,
    account: &str,
    domain: &str,
    case_id: &str,
    a: &AuditRecord,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO audit (account_id, domain_id, case_id, event_id, performed_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![account, domain, case_id, a.event_id, a.performed_time.unix_millis(), a.body.to_string()],
    )
    .map_err(backend)?;
    Ok(())
}

/// The remembered token `token` of `operation` in a domain.
pub fn get_idempotency(
    c: &Connection,
    account: &str,
    domain: &str,
    operation: &'static str,
    token: &str,
) -> StoreResult<Option<IdempotencyRecord>> {
    c.query_row(
        "SELECT request_hash, response, created_ms FROM idempotency WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4",
        params![account, domain, operation, token],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
    )
    .optional()
    .map_err(backend)?
    .map(|(request_hash, response, created_ms)| {
        Ok(IdempotencyRecord {
            account_id: account.to_owned(),
            domain_id: domain.to_owned(),
            operation,
            token: token.to_owned(),
            request_hash,
            response: serde_json::from_str(&response).map_err(backend)?,
            created: Timestamp::from_unix_millis(created_ms),
        })
    })
    .transpose()
}

pub fn insert(
    c: &mut Connection,
    case: &CaseRecord,
    audit: &AuditRecord,
    token: Option<&IdempotencyRecord>,
) -> StoreResult<Created> {
    // The token is looked up inside the write transaction: SQLite runs one writer at a time, so
    // of two concurrent requests with the same token exactly one inserts and the other replays.
    let tx = c.transaction().map_err(backend)?;
    if let Some(t) = token {
        if let Some(seen) =
            get_idempotency(&tx, &t.account_id, &t.domain_id, t.operation, &t.token)?
        {
            return Ok(Created::Replayed(seen));
        }
        tx.execute(
            "INSERT INTO idempotency (account_id, domain_id, operation, token, request_hash, response, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![t.account_id, t.domain_id, t.operation, t.token, t.request_hash, t.response.to_string(), t.created.unix_millis()],
        )
        .map_err(backend)?;
    }
    let res = tx.execute(
        &format!("INSERT INTO cases ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            case.account_id,
            case.domain_id,
            case.case_id,
            case.template_id,
            case.reference_number,
            fields_text(case)?,
            tags_to_text(&case.tags),
            case.created.unix_millis(),
            case.updated.unix_millis(),
            case.version
        ],
    );
    match res {
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("reference number")),
        Err(e) => return Err(backend(e)),
        Ok(_) => {}
    }
    insert_audit(&tx, case, audit)?;
    record_change(&tx, &case.account_id, &case.domain_id, &case.case_id, false)?;
    outbox::append(
        &tx,
        &case.account_id,
        &case.domain_id,
        Change::Case { case, audit },
    )?;
    tx.commit().map_err(backend)?;
    Ok(Created::New)
}

pub fn get(
    c: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Option<CaseRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3"
        ),
        params![account, domain, case_id],
        from_row,
    )
    .optional()
    .map_err(backend)?
    .map(finish)
    .transpose()
}

pub fn update(
    c: &mut Connection,
    case: &CaseRecord,
    audit: Option<&AuditRecord>,
    items: &[RelatedItemRecord],
) -> StoreResult<()> {
    let tx = c.transaction().map_err(backend)?;
    update_in(&tx, case, audit)?;
    for item in items {
        related::replace_in(&tx, item)?;
    }
    tx.commit().map_err(backend)
}

/// Replaces a case whose stored version is `case.version - 1` inside `tx`, with its audit event,
/// its change-log entry and (for an audited write) its event.
pub(crate) fn update_in(
    tx: &Transaction,
    case: &CaseRecord,
    audit: Option<&AuditRecord>,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE cases SET template_id = ?4, fields = ?5, tags = ?6, updated_ms = ?7, version = ?8 WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 AND version = ?8 - 1",
            params![case.account_id, case.domain_id, case.case_id, case.template_id, fields_text(case)?, tags_to_text(&case.tags), case.updated.unix_millis(), case.version],
        )
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    if let Some(a) = audit {
        insert_audit(tx, case, a)?;
        outbox::append(
            tx,
            &case.account_id,
            &case.domain_id,
            Change::Case { case, audit: a },
        )?;
    }
    record_change(tx, &case.account_id, &case.domain_id, &case.case_id, false)
}

pub fn delete(
    c: &mut Connection,
    account: &str,
    domain: &str,
    case_id: &str,
    performed_by: &AuditEventPerformedBy,
) -> StoreResult<bool> {
    let tx = c.transaction().map_err(backend)?;
    let Some(case) = get(&tx, account, domain, case_id)? else {
        return Ok(false);
    };
    tx.execute(
        "DELETE FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3",
        params![account, domain, case_id],
    )
    .map_err(backend)?;
    for table in ["audit", "related_items"] {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3"
            ),
            params![account, domain, case_id],
        )
        .map_err(backend)?;
    }
    record_change(&tx, account, domain, case_id, true)?;
    outbox::append(
        &tx,
        account,
        domain,
        Change::CaseDeleted {
            case: &case,
            performed_by,
            time: Timestamp::now(),
        },
    )?;
    tx.commit().map_err(backend)?;
    Ok(true)
}

/// The case with reference number `reference` in a domain.
pub fn get_by_reference(
    c: &Connection,
    account: &str,
    domain: &str,
    reference: &str,
) -> StoreResult<Option<CaseRecord>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND reference_number = ?3"
        ),
        params![account, domain, reference],
        from_row,
    )
    .optional()
    .map_err(backend)?
    .map(finish)
    .transpose()
}

pub fn list_audit(
    c: &mut Connection,
    account: &str,
    domain: &str,
    case_id: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<AuditRecord>> {
    // `after` is an event id; events are paged by their insertion sequence, newest first.
    let after_seq: i64 = match after {
        Some(event_id) => c
            .query_row("SELECT seq FROM audit WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 AND event_id = ?4", params![account, domain, case_id, event_id], |r| r.get(0))
            .optional()
            .map_err(backend)?
            .unwrap_or(i64::MIN),
        None => i64::MAX,
    };
    let mut stmt = c
        .prepare("SELECT event_id, case_id, performed_ms, body FROM audit WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 AND seq < ?4 ORDER BY seq DESC LIMIT ?5")
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![account, domain, case_id, after_seq, limit as i64],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .map_err(backend)?;
    rows.map(|r| {
        let (event_id, case_id, ms, body) = r.map_err(backend)?;
        Ok(AuditRecord {
            event_id,
            case_id,
            performed_time: Timestamp::from_unix_millis(ms),
            body: serde_json::from_str(&body).map_err(backend)?,
        })
    })
    .collect()
}

/// Inserts a client token unless it is already there (then returns the one that is).
pub fn remember(c: &mut Connection, t: &IdempotencyRecord) -> StoreResult<Created> {
    let tx = c.transaction().map_err(backend)?;
    if let Some(seen) = get_idempotency(&tx, &t.account_id, &t.domain_id, t.operation, &t.token)? {
        return Ok(Created::Replayed(seen));
    }
    tx.execute(
        "INSERT INTO idempotency (account_id, domain_id, operation, token, request_hash, response, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.account_id, t.domain_id, t.operation, t.token, t.request_hash, t.response.to_string(), t.created.unix_millis()],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(Created::New)
}
