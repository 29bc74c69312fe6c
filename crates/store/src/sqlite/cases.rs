use super::{backend, is_unique_violation, outbox, related, tags_from_text, tags_to_text, tokens};
use caseload_domain::store::{
    AuditRecord, CaseKey, CaseRecord, Created, DomainKey, EventRecord, IdempotencyRecord,
    RelatedItemRecord, StoreError, StoreResult, TokenClaim,
};
use caseload_model::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(crate) const COLUMNS: &str = "account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version";
// The statements below are prepared once per connection (`prepare_cached`), so they are spelled
// out rather than built with `format!` on every call.
const INSERT_CASE: &str = "INSERT INTO cases (account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const GET_CASE: &str = "SELECT account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3";
const GET_CASE_AT_ROWID: &str = "SELECT account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version FROM cases WHERE rowid = ?1";
const GET_BY_REFERENCE: &str = "SELECT account_id, domain_id, case_id, template_id, reference_number, fields, tags, created_ms, updated_ms, version FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND reference_number = ?3";

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

/// A case write's JSON columns, serialized by the caller before the write is queued: the writer
/// thread is the one place every write goes through, so it should only run SQL.
pub(crate) struct CaseText {
    fields: String,
    tags: String,
    audit: Option<String>,
}

impl CaseText {
    pub fn of(case: &CaseRecord, audit: Option<&AuditRecord>) -> StoreResult<CaseText> {
        Ok(CaseText {
            fields: serde_json::to_string(&case.fields).map_err(backend)?,
            tags: tags_to_text(&case.tags),
            audit: audit.map(|a| a.body.to_string()),
        })
    }
}

pub(crate) fn record_change(
    tx: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
    deleted: bool,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO changes (account_id, domain_id, case_id, deleted) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![account, domain, case_id, deleted as i64]))
    .map_err(backend)?;
    Ok(())
}

fn insert_audit(
    tx: &Connection,
    c: &CaseRecord,
    a: &AuditRecord,
    body: Option<&str>,
) -> StoreResult<()> {
    match body {
        Some(body) => insert_audit_text(tx, &c.account_id, &c.domain_id, &c.case_id, a, body),
        None => insert_audit_for(tx, &c.account_id, &c.domain_id, &c.case_id, a),
    }
}

/// Appends an audit event to a case's history.
pub(crate) fn insert_audit_for(
    tx: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
    a: &AuditRecord,
) -> StoreResult<()> {
    insert_audit_text(tx, account, domain, case_id, a, &a.body.to_string())
}

/// `insert_audit_for` with the event's body already serialized.
fn insert_audit_text(
    tx: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
    a: &AuditRecord,
    body: &str,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO audit (account_id, domain_id, case_id, event_id, performed_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![account, domain, case_id, a.event_id, a.performed_time.unix_millis(), body])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn insert(
    c: &mut Connection,
    case: &CaseRecord,
    text: &CaseText,
    audit: &AuditRecord,
    event: Option<&EventRecord>,
    token: Option<&IdempotencyRecord>,
) -> StoreResult<Created> {
    // The token is looked up inside the write transaction: SQLite runs one writer at a time, so
    // of two concurrent requests with the same token exactly one inserts and the other replays.
    let tx = c.savepoint().map_err(backend)?;
    if let Some(t) = token
        && let Some(seen) = tokens::seen_or_remember(&tx, t)?
    {
        return Ok(Created::Replayed(seen));
    }
    let res = tx.prepare_cached(INSERT_CASE).and_then(|mut s| {
        s.execute(params![
            case.account_id,
            case.domain_id,
            case.case_id,
            case.template_id,
            case.reference_number,
            text.fields,
            text.tags,
            case.created.unix_millis(),
            case.updated.unix_millis(),
            case.version
        ])
    });
    match res {
        Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("reference number")),
        Err(e) => return Err(backend(e)),
        Ok(_) => {}
    }
    insert_audit(&tx, case, audit, text.audit.as_deref())?;
    record_change(&tx, &case.account_id, &case.domain_id, &case.case_id, false)?;
    outbox::append(&tx, event)?;
    tx.commit().map_err(backend)?;
    Ok(Created::New)
}

pub fn get(
    c: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Option<CaseRecord>> {
    row(c, account, domain, case_id, None)?
        .map(finish)
        .transpose()
}

/// `get`, trying the row at `hint` first (see `hints`): it is the case only if its key is.
pub fn get_at(c: &Connection, key: &CaseKey, hint: Option<i64>) -> StoreResult<Option<CaseRecord>> {
    let d = &key.domain;
    row(c, &d.account_id, &d.domain_id, &key.case_id, hint)?
        .map(finish)
        .transpose()
}

/// The case's row with its JSON columns still text, at `hint` if the row there has this key,
/// else by key.
fn row(
    c: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
    hint: Option<i64>,
) -> StoreResult<Option<(CaseRecord, String, String)>> {
    if let Some(rowid) = hint {
        let at = c
            .prepare_cached(GET_CASE_AT_ROWID)
            .and_then(|mut s| s.query_row(params![rowid], from_row))
            .optional()
            .map_err(backend)?;
        let is_it = |(r, _, _): &(CaseRecord, String, String)| {
            r.case_id == case_id && r.domain_id == domain && r.account_id == account
        };
        if let Some(found) = at.filter(is_it) {
            return Ok(Some(found));
        }
    }
    c.prepare_cached(GET_CASE)
        .and_then(|mut s| s.query_row(params![account, domain, case_id], from_row))
        .optional()
        .map_err(backend)
}

/// `get` with only the values of the fields in `ids` decoded.
pub fn get_fields(
    c: &Connection,
    key: &CaseKey,
    hint: Option<i64>,
    ids: &[String],
) -> StoreResult<Option<CaseRecord>> {
    let d = &key.domain;
    let Some((mut case, fields, tags)) = row(c, &d.account_id, &d.domain_id, &key.case_id, hint)?
    else {
        return Ok(None);
    };
    case.fields = decode_selected_fields(&fields, ids)?;
    case.tags = tags_from_text(&tags)?;
    Ok(Some(case))
}

/// Decodes a stored `fields` object keeping only the members named in `ids` (the PostgreSQL
/// backend stores the same text).
pub(crate) fn decode_selected_fields(
    fields: &str,
    ids: &[String],
) -> StoreResult<std::collections::BTreeMap<String, caseload_domain::value::Value>> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(fields);
    Selected(ids).deserialize(&mut de).map_err(backend)
}

/// Decodes a stored `fields` object keeping only the members named in `.0`; the others are
/// skipped without building their values.
struct Selected<'a>(&'a [String]);

impl<'de> serde::de::DeserializeSeed<'de> for Selected<'_> {
    type Value = std::collections::BTreeMap<String, caseload_domain::value::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

/// A member name, borrowed from the stored text where it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field id")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::de::Visitor<'de> for Selected<'_> {
    type Value = std::collections::BTreeMap<String, caseload_domain::value::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of field ids to values")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = std::collections::BTreeMap::new();
        while let Some(Key(id)) = m.next_key::<Key<'de>>()? {
            if self.0.iter().any(|wanted| *wanted == id) {
                out.insert(id.into_owned(), m.next_value()?);
            } else {
                m.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

pub fn update(
    c: &mut Connection,
    case: &CaseRecord,
    text: &CaseText,
    audit: Option<&AuditRecord>,
    event: Option<&EventRecord>,
    items: &[RelatedItemRecord],
    claim: Option<&TokenClaim>,
) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    if let Some(claim) = claim {
        super::tokens::fence(&tx, claim)?;
    }
    update_text_in(&tx, case, text, audit, event)?;
    for item in items {
        related::replace_in(&tx, item)?;
    }
    tx.commit().map_err(backend)
}

/// Replaces a case whose stored version is `case.version - 1` inside `tx`, with its audit event,
/// its event and its change-log entry.
pub(crate) fn update_in(
    tx: &Connection,
    case: &CaseRecord,
    audit: Option<&AuditRecord>,
    event: Option<&EventRecord>,
) -> StoreResult<()> {
    update_text_in(tx, case, &CaseText::of(case, audit)?, audit, event)
}

/// `update_in` with the JSON columns already serialized.
fn update_text_in(
    tx: &Connection,
    case: &CaseRecord,
    text: &CaseText,
    audit: Option<&AuditRecord>,
    event: Option<&EventRecord>,
) -> StoreResult<()> {
    let n = tx
        .prepare_cached(
            "UPDATE cases SET template_id = ?4, fields = ?5, tags = ?6, updated_ms = ?7, version = ?8 WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 AND version = ?8 - 1",
        )
        .and_then(|mut s| {
            s.execute(params![case.account_id, case.domain_id, case.case_id, case.template_id, text.fields, text.tags, case.updated.unix_millis(), case.version])
        })
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    if let Some(a) = audit {
        insert_audit(tx, case, a, text.audit.as_deref())?;
    }
    outbox::append(tx, event)?;
    record_change(tx, &case.account_id, &case.domain_id, &case.case_id, false)
}

/// Removes a case still at `case.version` with its audit history and related items.
pub fn delete(
    c: &mut Connection,
    case: &CaseRecord,
    event: Option<&EventRecord>,
) -> StoreResult<()> {
    let (account, domain, case_id) = (&case.account_id, &case.domain_id, &case.case_id);
    let tx = c.savepoint().map_err(backend)?;
    let n = tx
        .execute(
            "DELETE FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 AND version = ?4",
            params![account, domain, case_id, case.version],
        )
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
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
    outbox::append(&tx, event)?;
    tx.commit().map_err(backend)
}

/// The case with reference number `reference` in a domain.
pub fn get_by_reference(
    c: &Connection,
    key: &DomainKey,
    reference: &str,
) -> StoreResult<Option<CaseRecord>> {
    c.prepare_cached(GET_BY_REFERENCE)
        .and_then(|mut s| s.query_row(params![key.account_id, key.domain_id, reference], from_row))
        .optional()
        .map_err(backend)?
        .map(finish)
        .transpose()
}

pub fn list_audit(
    c: &mut Connection,
    key: &CaseKey,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<AuditRecord>> {
    let (account, domain, case_id) = (&key.domain.account_id, &key.domain.domain_id, &key.case_id);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_out_statements_name_the_columns() {
        assert!(INSERT_CASE.starts_with(&format!("INSERT INTO cases ({COLUMNS}) VALUES")));
        assert!(GET_CASE.starts_with(&format!("SELECT {COLUMNS} FROM cases WHERE")));
        assert!(GET_BY_REFERENCE.starts_with(&format!("SELECT {COLUMNS} FROM cases WHERE")));
        assert!(GET_CASE_AT_ROWID.starts_with(&format!("SELECT {COLUMNS} FROM cases WHERE")));
    }

    #[test]
    fn selected_fields_decode_like_the_whole_map_filtered() {
        use caseload_domain::value::Value;
        use serde::de::DeserializeSeed;
        let all: std::collections::BTreeMap<String, Value> = [
            ("title", Value::String("Printer \"on\" fire".into())),
            ("quo\"te\\d", Value::Double(-2.5)),
            ("déjà", Value::Boolean(true)),
            ("user", Value::UserArn("arn:aws:connect:x".into())),
            ("cleared", Value::Empty),
            ("unrequested", Value::String("x".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let stored = serde_json::to_string(&all).unwrap();
        for ids in [
            vec![],
            vec!["title"],
            vec!["quo\"te\\d", "déjà", "cleared", "user", "missing", "title"],
            vec!["unrequested", "unrequested"],
        ] {
            let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
            let mut de = serde_json::Deserializer::from_str(&stored);
            let got = Selected(&ids).deserialize(&mut de).unwrap();
            let mut want = all.clone();
            want.retain(|k, _| ids.contains(k));
            assert_eq!(got, want, "{ids:?}");
        }
        let mut de = serde_json::Deserializer::from_str("[1]");
        assert!(Selected(&[]).deserialize(&mut de).is_err());
    }
}
