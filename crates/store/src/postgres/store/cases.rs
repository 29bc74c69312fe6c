//! Cases with their audit history. Reference numbers are unique per domain (a unique index);
//! updates and deletes are optimistic (`WHERE version = …`: under READ COMMITTED a rival update of
//! the same row waits for the first to commit and then re-checks the condition against the new
//! row, so of two writers that read one version exactly one writes). Every case write appends to
//! the change log, and its events last, in its own transaction.

use super::sql::{col, corrupt, db, exec, is_unique_violation, json, query, query_opt};
use super::{outbox, related, tokens};
use crate::postgres::changelog;
use crate::sqlite::{tags_from_text, tags_to_text};
use caseload_domain::store::{
    AuditRecord, CaseKey, CaseRecord, Created, DomainKey, EventRecord, IdempotencyRecord,
    RelatedItemRecord, StoreError, StoreResult, TokenClaim,
};
use caseload_model::Timestamp;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

pub(super) const COLUMNS: &str = "account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version";

/// A case from its row (columns as in `COLUMNS`), its fields decoded by `fields`.
fn decode(
    r: &Row,
    fields: impl FnOnce(
        &str,
    ) -> StoreResult<
        std::collections::BTreeMap<String, caseload_domain::value::Value>,
    >,
) -> StoreResult<CaseRecord> {
    Ok(CaseRecord {
        account_id: col(r, 0)?,
        domain_id: col(r, 1)?,
        case_id: col(r, 2)?,
        template_id: col(r, 3)?,
        reference_number: col(r, 4)?,
        fields: fields(col(r, 5)?)?,
        tags: tags_from_text(col(r, 6)?)?,
        created: Timestamp::from_unix_millis(col(r, 7)?),
        updated: Timestamp::from_unix_millis(col(r, 8)?),
        version: col(r, 9)?,
    })
}

pub(super) fn from_row(r: &Row) -> StoreResult<CaseRecord> {
    decode(r, |text| serde_json::from_str(text).map_err(corrupt))
}

/// A case write's JSON columns.
struct CaseText {
    fields: String,
    tags: String,
}

impl CaseText {
    fn of(case: &CaseRecord) -> StoreResult<CaseText> {
        Ok(CaseText {
            fields: serde_json::to_string(&case.fields).map_err(corrupt)?,
            tags: tags_to_text(&case.tags),
        })
    }
}

/// Appends an audit event to a case's history.
pub(super) async fn insert_audit(
    tx: &Transaction<'_>,
    account: &str,
    domain: &str,
    case_id: &str,
    a: &AuditRecord,
) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO audit (account_id, domain_id, case_id, event_id, performed_ms, body) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &account,
            &domain,
            &case_id,
            &a.event_id,
            &a.performed_time.unix_millis(),
            &a.body.to_string(),
        ],
    )
    .await?;
    Ok(())
}

/// An optional event as the parameters of a one-statement write (its region, time and body,
/// and whether there is one).
struct EventParams<'a> {
    region: Option<&'a str>,
    time_ms: Option<i64>,
    body: Option<String>,
    present: bool,
}

impl<'a> EventParams<'a> {
    fn of(event: Option<&'a EventRecord>) -> EventParams<'a> {
        EventParams {
            region: event.map(|e| e.region.as_str()),
            time_ms: event.map(|e| e.time.unix_millis()),
            body: event.map(|e| e.body.to_string()),
            present: event.is_some(),
        }
    }
}

/// A new case with everything written with it, as one statement: the client token (if any), then
/// (only if the token was new) the case, its audit event, its change-log row and its event. One
/// statement is one round trip and its own transaction: concurrent CreateCases commit
/// independently, and PostgreSQL flushes the commits that arrive together with one WAL write, so
/// no transaction spans several round trips. Its `changes` row is the one `changelog::append`
/// writes. A reference number in use fails the whole statement (`Duplicate`); a token seen before
/// writes nothing, and `seen_token` then reads what was remembered.
const INSERT_CASE: &str = "WITH token AS (
    INSERT INTO idempotency (account_id, domain_id, operation, token, request_hash, response, created_ms)
    SELECT $1::text, $2::text, $11::text, $12::text, $13::text, $14::text, $15::bigint WHERE $16::boolean
    ON CONFLICT DO NOTHING RETURNING 1
), go AS (
    SELECT 1 AS go WHERE NOT $16::boolean OR EXISTS (SELECT 1 FROM token)
), written AS (
    INSERT INTO cases (account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version)
    SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::bigint, $9::bigint, $10::bigint FROM go
    RETURNING 1
), audited AS (
    INSERT INTO audit (account_id, domain_id, case_id, event_id, performed_ms, body)
    SELECT $1::text, $2::text, $3::text, $17::text, $18::bigint, $19::text FROM go
), logged AS (
    INSERT INTO changes (account_id, domain_id, case_id, deleted)
    SELECT $1::text, $2::text, $3::text, false FROM go
), evented AS (
    INSERT INTO events (account_id, region, domain_id, case_id, created_ms, body)
    SELECT $1::text, $20::text, $2::text, $3::text, $21::bigint, $22::text FROM go WHERE $23::boolean
)
SELECT EXISTS (SELECT 1 FROM written)";

pub async fn insert(
    c: &impl GenericClient,
    case: &CaseRecord,
    audit: &AuditRecord,
    event: Option<&EventRecord>,
    token: Option<&IdempotencyRecord>,
) -> StoreResult<Created> {
    let text = CaseText::of(case)?;
    let has_token = token.is_some();
    let e = EventParams::of(event);
    let operation = token.map(|t| t.operation);
    let token_text = token.map(|t| t.token.as_str());
    let request_hash = token.map(|t| t.request_hash.as_str());
    let response = token.map(|t| t.response.to_string());
    let token_ms = token.map(|t| t.created.unix_millis());
    let statement = c.prepare_cached(INSERT_CASE).await.map_err(db)?;
    let row = c
        .query_one(
            &statement,
            &[
                &case.account_id,
                &case.domain_id,
                &case.case_id,
                &case.template_id,
                &case.reference_number,
                &text.fields,
                &text.tags,
                &case.created.unix_millis(),
                &case.updated.unix_millis(),
                &case.version,
                &operation,
                &token_text,
                &request_hash,
                &response,
                &token_ms,
                &has_token,
                &audit.event_id,
                &audit.performed_time.unix_millis(),
                &audit.body.to_string(),
                &e.region,
                &e.time_ms,
                &e.body,
                &e.present,
            ],
        )
        .await;
    let written: bool = match row {
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("reference number")),
        Err(e) => return Err(db(e)),
        Ok(row) => col(&row, 0)?,
    };
    match token {
        Some(t) if !written => Ok(Created::Replayed(tokens::seen_token(c, t).await?)),
        _ => Ok(Created::New),
    }
}

async fn row(c: &impl GenericClient, key: &CaseKey) -> StoreResult<Option<Row>> {
    let d = &key.domain;
    query_opt(
        c,
        &format!(
            "SELECT {COLUMNS} FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id = $3"
        ),
        &[&d.account_id, &d.domain_id, &key.case_id],
    )
    .await
}

pub async fn get(c: &impl GenericClient, key: &CaseKey) -> StoreResult<Option<CaseRecord>> {
    row(c, key).await?.as_ref().map(from_row).transpose()
}

/// The cases of `domain` with these ids, in the order of `ids` (one round trip: a search's page).
/// A case deleted since the index saw it is left out.
pub async fn get_many(
    c: &impl GenericClient,
    domain: &DomainKey,
    ids: &[String],
) -> StoreResult<Vec<CaseRecord>> {
    let rows = query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id = ANY($3)"
        ),
        &[&domain.account_id, &domain.domain_id, &ids],
    )
    .await?;
    let mut by_id = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        let case = from_row(r)?;
        by_id.insert(case.case_id.clone(), case);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// `get` with only the values of the fields in `ids` decoded.
pub async fn get_fields(
    c: &impl GenericClient,
    key: &CaseKey,
    ids: &[String],
) -> StoreResult<Option<CaseRecord>> {
    row(c, key)
        .await?
        .as_ref()
        .map(|r| decode(r, |text| crate::sqlite::decode_selected_fields(text, ids)))
        .transpose()
}

pub async fn update(
    tx: &Transaction<'_>,
    case: &CaseRecord,
    audit: Option<&AuditRecord>,
    event: Option<&EventRecord>,
    items: &[RelatedItemRecord],
    claim: Option<&TokenClaim>,
) -> StoreResult<()> {
    if let Some(claim) = claim {
        tokens::fence(tx, claim).await?;
    }
    update_in(tx, case, audit).await?;
    for item in items {
        related::replace_in(tx, item).await?;
    }
    outbox::append(tx, event.as_slice()).await
}

/// `update` of a case alone (no claim, no items), as one statement (see `INSERT_CASE` for why):
/// the versioned UPDATE, and only if it wrote, the audit event, the change-log row and the event.
const UPDATE_CASE: &str = "WITH updated AS (
    UPDATE cases SET template_id = $4, fields = $5, tags = $6, updated_ms = $7, version = $8
    WHERE account_id = $1 AND domain_id = $2 AND case_id = $3 AND version = $8::bigint - 1
    RETURNING 1
), audited AS (
    INSERT INTO audit (account_id, domain_id, case_id, event_id, performed_ms, body)
    SELECT $1::text, $2::text, $3::text, $9::text, $10::bigint, $11::text FROM updated WHERE $12::boolean
), logged AS (
    INSERT INTO changes (account_id, domain_id, case_id, deleted)
    SELECT $1::text, $2::text, $3::text, false FROM updated
), evented AS (
    INSERT INTO events (account_id, region, domain_id, case_id, created_ms, body)
    SELECT $1::text, $13::text, $2::text, $3::text, $14::bigint, $15::text FROM updated WHERE $16::boolean
)
SELECT EXISTS (SELECT 1 FROM updated)";

pub async fn update_alone(
    c: &impl GenericClient,
    case: &CaseRecord,
    audit: Option<&AuditRecord>,
    event: Option<&EventRecord>,
) -> StoreResult<()> {
    let text = CaseText::of(case)?;
    let has_audit = audit.is_some();
    let event_id = audit.map(|a| a.event_id.as_str());
    let performed_ms = audit.map(|a| a.performed_time.unix_millis());
    let audit_body = audit.map(|a| a.body.to_string());
    let e = EventParams::of(event);
    let statement = c.prepare_cached(UPDATE_CASE).await.map_err(db)?;
    let row = c
        .query_one(
            &statement,
            &[
                &case.account_id,
                &case.domain_id,
                &case.case_id,
                &case.template_id,
                &text.fields,
                &text.tags,
                &case.updated.unix_millis(),
                &case.version,
                &event_id,
                &performed_ms,
                &audit_body,
                &has_audit,
                &e.region,
                &e.time_ms,
                &e.body,
                &e.present,
            ],
        )
        .await
        .map_err(db)?;
    if col(&row, 0)? {
        Ok(())
    } else {
        Err(StoreError::VersionMismatch)
    }
}

/// Replaces a case whose stored version is `case.version - 1` inside `tx`, with its audit event
/// and its change-log entry (its event is the caller's to append, last).
pub(super) async fn update_in(
    tx: &Transaction<'_>,
    case: &CaseRecord,
    audit: Option<&AuditRecord>,
) -> StoreResult<()> {
    let text = CaseText::of(case)?;
    let n = exec(
        tx,
        "UPDATE cases SET template_id = $4, fields = $5, tags = $6, updated_ms = $7, version = $8 WHERE account_id = $1 AND domain_id = $2 AND case_id = $3 AND version = $8::bigint - 1",
        &[
            &case.account_id,
            &case.domain_id,
            &case.case_id,
            &case.template_id,
            &text.fields,
            &text.tags,
            &case.updated.unix_millis(),
            &case.version,
        ],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    if let Some(a) = audit {
        insert_audit(tx, &case.account_id, &case.domain_id, &case.case_id, a).await?;
    }
    changelog::append(
        &**tx,
        &case.account_id,
        &case.domain_id,
        &case.case_id,
        false,
    )
    .await?;
    Ok(())
}

/// Removes a case still at `case.version` with its audit history and related items.
pub async fn delete(
    tx: &Transaction<'_>,
    case: &CaseRecord,
    event: Option<&EventRecord>,
) -> StoreResult<()> {
    let (account, domain, case_id) = (&case.account_id, &case.domain_id, &case.case_id);
    let n = exec(
        tx,
        "DELETE FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id = $3 AND version = $4",
        &[account, domain, case_id, &case.version],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    for table in ["audit", "related_items"] {
        exec(
            tx,
            &format!(
                "DELETE FROM {table} WHERE account_id = $1 AND domain_id = $2 AND case_id = $3"
            ),
            &[account, domain, case_id],
        )
        .await?;
    }
    changelog::append(&**tx, account, domain, case_id, true).await?;
    outbox::append(tx, event.as_slice()).await
}

pub async fn get_by_reference(
    c: &impl GenericClient,
    key: &DomainKey,
    reference: &str,
) -> StoreResult<Option<CaseRecord>> {
    query_opt(
        c,
        &format!("SELECT {COLUMNS} FROM cases WHERE account_id = $1 AND domain_id = $2 AND reference_number = $3"),
        &[&key.account_id, &key.domain_id, &reference],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn list_audit(
    c: &impl GenericClient,
    key: &CaseKey,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<AuditRecord>> {
    let (account, domain, case_id) = (&key.domain.account_id, &key.domain.domain_id, &key.case_id);
    // `after` is an event id; events are paged by their insertion sequence, newest first (an
    // unknown id pages from nothing, as in SQLite).
    let after_seq: i64 = match after {
        Some(event_id) => match query_opt(
            c,
            "SELECT seq FROM audit WHERE account_id = $1 AND domain_id = $2 AND case_id = $3 AND event_id = $4",
            &[account, domain, case_id, &event_id],
        )
        .await?
        {
            Some(r) => col(&r, 0)?,
            None => i64::MIN,
        },
        None => i64::MAX,
    };
    query(
        c,
        "SELECT event_id, case_id, performed_ms, body FROM audit WHERE account_id = $1 AND domain_id = $2 AND case_id = $3 AND seq < $4 ORDER BY seq DESC LIMIT $5",
        &[account, domain, case_id, &after_seq, &(limit as i64)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AuditRecord {
            event_id: col(r, 0)?,
            case_id: col(r, 1)?,
            performed_time: Timestamp::from_unix_millis(col(r, 2)?),
            body: json(col(r, 3)?)?,
        })
    })
    .collect()
}
