//! Related items in SQLite, and the domain-wide related-item search.
//!
//! A search within one case loads the case's items (a quota bounds them) and runs the domain
//! layer's reference evaluator. A domain-wide search (SearchAllRelatedItems) walks an index per
//! filter, in chunks and within a scan budget, as `related_walk` plans it; this module reads the
//! rows it asks for.

use super::{backend, cases, outbox, tags_from_text, tags_to_text, tokens};
use crate::related_walk::{self, CHUNK, Next, Primary, Walk, Walked};
use caseload_domain::related::query::run;
use caseload_domain::store::{
    AuditRecord, CaseRecord, Created, DomainKey, EventRecord, IdempotencyRecord, ItemFilter,
    NewRelatedItem, RelatedItemKey, RelatedItemRecord, RelatedPage, RelatedQuery, StoreError,
    StoreResult,
};
use caseload_model::Timestamp;
use caseload_model::shapes::{CaseSummary, RelatedItemType};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

const COLUMNS: &str = "seq, account_id, domain_id, case_id, related_item_id, type, association_ms, ref_key, body, tags, version";

fn from_row(r: &Row) -> rusqlite::Result<(RelatedItemRecord, String, String, String)> {
    Ok((
        RelatedItemRecord {
            seq: r.get(0)?,
            account_id: r.get(1)?,
            domain_id: r.get(2)?,
            case_id: r.get(3)?,
            related_item_id: r.get(4)?,
            item_type: RelatedItemType::Contact,
            association_time: Timestamp::from_unix_millis(r.get(6)?),
            ref_key: r.get(7)?,
            body: serde_json::Value::Null,
            tags: Default::default(),
            version: r.get(10)?,
        },
        r.get(5)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn finish(
    (mut item, item_type, body, tags): (RelatedItemRecord, String, String, String),
) -> StoreResult<RelatedItemRecord> {
    item.item_type = RelatedItemType::parse(&item_type)
        .ok_or_else(|| backend(format!("unknown related item type '{item_type}'")))?;
    item.body = serde_json::from_str(&body).map_err(backend)?;
    item.tags = tags_from_text(&tags)?;
    Ok(item)
}

fn query(c: &Connection, sql: &str, args: &[Sql]) -> StoreResult<Vec<RelatedItemRecord>> {
    let mut stmt = c.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), from_row)
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(finish)).collect()
}

fn count(tx: &Connection, item: &RelatedItemRecord, of_type: bool) -> StoreResult<usize> {
    let n: i64 = if of_type {
        tx.query_row(
            "SELECT COUNT(*) FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 AND type = ?4",
            params![item.account_id, item.domain_id, item.case_id, item.item_type.as_str()],
            |r| r.get(0),
        )
    } else {
        tx.query_row(
            "SELECT COUNT(*) FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3",
            params![item.account_id, item.domain_id, item.case_id],
            |r| r.get(0),
        )
    }
    .map_err(backend)?;
    Ok(n as usize)
}

/// Writes the case update an item write carries, or checks that the item's case still exists.
fn touch_case(
    tx: &Connection,
    item: &RelatedItemRecord,
    case_update: Option<&CaseRecord>,
) -> StoreResult<()> {
    match case_update {
        Some(case) => cases::update_in(tx, case, None, None),
        None => match cases::get(tx, &item.account_id, &item.domain_id, &item.case_id)? {
            Some(_) => Ok(()),
            None => Err(StoreError::VersionMismatch),
        },
    }
}

pub fn insert_many(
    c: &mut Connection,
    items: &[NewRelatedItem],
    token: Option<&IdempotencyRecord>,
) -> StoreResult<Created> {
    let tx = c.savepoint().map_err(backend)?;
    if let Some(t) = token
        && let Some(seen) = tokens::seen_or_remember(&tx, t)?
    {
        return Ok(Created::Replayed(seen));
    }
    for n in items {
        let item = &n.item;
        touch_case(&tx, item, n.case_update.as_ref())?;
        if count(&tx, item, false)? >= n.max_in_case || count(&tx, item, true)? >= n.max_of_type {
            return Err(StoreError::QuotaExceeded);
        }
        insert_in(&tx, item)?;
        cases::insert_audit_for(
            &tx,
            &item.account_id,
            &item.domain_id,
            &item.case_id,
            &n.audit,
        )?;
        outbox::append(&tx, n.event.as_ref())?;
    }
    tx.commit().map_err(backend)?;
    Ok(Created::New)
}

/// Inserts `item` inside `tx` (its `seq` is assigned); `Duplicate` when its id is taken in its
/// domain.
pub(crate) fn insert_in(tx: &Connection, item: &RelatedItemRecord) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO related_items (account_id, domain_id, case_id, related_item_id, type, association_ms, ref_key, body, tags, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            item.account_id,
            item.domain_id,
            item.case_id,
            item.related_item_id,
            item.item_type.as_str(),
            item.association_time.unix_millis(),
            item.ref_key,
            item.body.to_string(),
            tags_to_text(&item.tags),
            item.version
        ])
    })
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            StoreError::Duplicate("related item id")
        } else {
            backend(e)
        }
    })?;
    Ok(())
}

/// Inserts restored items alone (see `Store::import_related_items`), in one transaction.
pub fn import(c: &mut Connection, items: &[RelatedItemRecord]) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    for item in items {
        insert_in(&tx, item)?;
    }
    tx.commit().map_err(backend)
}

/// A domain's items by (case id, seq), after `after` (the `related_items_by_case` index ends in
/// the rowid, which is `seq`, so this is an index walk).
pub fn list_domain(
    c: &Connection,
    key: &DomainKey,
    after: Option<(&str, i64)>,
    limit: usize,
) -> StoreResult<Vec<RelatedItemRecord>> {
    let (case_id, seq) = after.unwrap_or(("", 0));
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND (case_id, seq) > (?3, ?4) ORDER BY case_id, seq LIMIT ?5"
        ),
        &[
            Sql::Text(key.account_id.clone()),
            Sql::Text(key.domain_id.clone()),
            Sql::Text(case_id.to_owned()),
            Sql::Integer(seq),
            Sql::Integer(limit as i64),
        ],
    )
}

pub fn get(c: &Connection, key: &RelatedItemKey) -> StoreResult<Option<RelatedItemRecord>> {
    let (d, case_id) = (&key.case.domain, &key.case.case_id);
    c.query_row(
        &format!("SELECT {COLUMNS} FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND related_item_id = ?3 AND case_id = ?4"),
        params![d.account_id, d.domain_id, key.related_item_id, case_id],
        from_row,
    )
    .optional()
    .map_err(backend)?
    .map(finish)
    .transpose()
}

pub fn list_case(
    c: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Vec<RelatedItemRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND case_id = ?3 ORDER BY seq"
        ),
        &[
            Sql::Text(account.to_owned()),
            Sql::Text(domain.to_owned()),
            Sql::Text(case_id.to_owned()),
        ],
    )
}

/// Replaces an item whose stored version is `item.version - 1`, inside `tx`; the item moves to
/// `item.case_id` (a merge moves items; otherwise it is the case it is in).
pub(crate) fn replace_in(tx: &Connection, item: &RelatedItemRecord) -> StoreResult<()> {
    let n = tx
        .prepare_cached(
            "UPDATE related_items SET case_id = ?4, body = ?5, ref_key = ?6, tags = ?7, version = ?8 WHERE account_id = ?1 AND domain_id = ?2 AND related_item_id = ?3 AND version = ?8 - 1",
        )
        .and_then(|mut s| {
            s.execute(params![item.account_id, item.domain_id, item.related_item_id, item.case_id, item.body.to_string(), item.ref_key, tags_to_text(&item.tags), item.version])
        })
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// What an update or a delete does to the item's row; the rest of the write (the case touched,
/// the audit record, the event) is the same for both.
#[derive(Clone, Copy, Debug)]
pub enum ItemChange {
    Replace,
    Remove,
}

pub fn change(
    c: &mut Connection,
    change: ItemChange,
    item: &RelatedItemRecord,
    audit: &AuditRecord,
    event: Option<&EventRecord>,
    case_update: Option<&CaseRecord>,
) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    touch_case(&tx, item, case_update)?;
    match change {
        ItemChange::Replace => replace_in(&tx, item)?,
        ItemChange::Remove => remove_in(&tx, item)?,
    }
    cases::insert_audit_for(&tx, &item.account_id, &item.domain_id, &item.case_id, audit)?;
    outbox::append(&tx, event)?;
    tx.commit().map_err(backend)
}

/// Removes an item that is still at `item.version`, inside `tx`.
pub(crate) fn remove_in(tx: &Connection, item: &RelatedItemRecord) -> StoreResult<()> {
    let n = tx
        .prepare_cached(
            "DELETE FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND related_item_id = ?3 AND version = ?4",
        )
        .and_then(|mut s| {
            s.execute(params![item.account_id, item.domain_id, item.related_item_id, item.version])
        })
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

pub fn cases_for_contact(
    c: &Connection,
    key: &DomainKey,
    contact_arn: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<CaseSummary>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT DISTINCT r.case_id, k.template_id FROM related_items r JOIN cases k ON k.account_id = r.account_id AND k.domain_id = r.domain_id AND k.case_id = r.case_id WHERE r.account_id = ?1 AND r.domain_id = ?2 AND r.type = 'Contact' AND r.ref_key = ?3 AND r.case_id > ?4 ORDER BY r.case_id LIMIT ?5",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![
                key.account_id,
                key.domain_id,
                contact_arn,
                after.unwrap_or(""),
                limit as i64
            ],
            |r| {
                Ok(CaseSummary {
                    case_id: r.get(0)?,
                    template_id: r.get(1)?,
                })
            },
        )
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// Runs a related-item search (see the module comment).
pub fn search(c: &mut Connection, q: &RelatedQuery) -> StoreResult<RelatedPage> {
    // One read transaction: every walk sees the same snapshot.
    let tx = c.savepoint().map_err(backend)?;
    if let Some(case_id) = &q.case_id {
        let items = list_case(&tx, &q.account_id, &q.domain_id, case_id)?;
        return Ok(run(q, items));
    }
    let walks: Vec<Walked> = if q.filters.is_empty() {
        vec![walk(&tx, q, None)?]
    } else {
        q.filters
            .iter()
            .map(|f| walk(&tx, q, Some(f)))
            .collect::<StoreResult<_>>()?
    };
    Ok(related_walk::page(q, walks))
}

fn sql_value(p: &Primary) -> Sql {
    match p {
        Primary::Time(ms) => Sql::Integer(*ms),
        Primary::Case(id) => Sql::Text(id.clone()),
    }
}

/// One filter's walk (see `related_walk`).
fn walk(c: &Connection, q: &RelatedQuery, f: Option<&ItemFilter>) -> StoreResult<Walked> {
    let (column, dir) = related_walk::order_by(q);
    let mut scope =
        format!("SELECT {COLUMNS} FROM related_items WHERE account_id = ? AND domain_id = ?");
    let mut args = vec![
        Sql::Text(q.account_id.clone()),
        Sql::Text(q.domain_id.clone()),
    ];
    if let Some(f) = f {
        scope.push_str(" AND type = ?");
        args.push(Sql::Text(f.item_type.as_str().to_owned()));
        if let Some(k) = &f.ref_key {
            scope.push_str(" AND ref_key = ?");
            args.push(Sql::Text(k.clone()));
        }
    }
    let mut walk = Walk::new(q, f);
    let mut next = Next::Chunk;
    loop {
        next = match next {
            Next::Chunk => {
                let mut sql = scope.clone();
                let mut a = args.clone();
                if let Some((v, inclusive)) = walk.from() {
                    sql.push_str(&format!(
                        " AND {column} {} ?",
                        related_walk::from_op(q, *inclusive)
                    ));
                    a.push(sql_value(v));
                }
                sql.push_str(&format!(" ORDER BY {column} {dir} LIMIT {CHUNK}"));
                walk.chunk(query(c, &sql, &a)?)
            }
            Next::Group(v) => {
                let mut a = args.clone();
                a.push(sql_value(&v));
                walk.group(query(c, &format!("{scope} AND {column} = ?"), &a)?)
            }
            Next::Done(walked) => return Ok(walked),
        };
    }
}
