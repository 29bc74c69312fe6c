//! Related items, and the related-item searches in SQL.
//!
//! Quotas per case: every write that adds items to a case first locks the case's row (`FOR NO
//! KEY UPDATE`, in case-id order when a batch spans several cases, so two batches cannot
//! deadlock), and counts the case's items under that lock; a rival insert into the same case,
//! from any server, waits for the commit and then counts what it committed. The lock also makes
//! an insert into a case being deleted wait and then find it gone.
//!
//! Searches run in one REPEATABLE READ transaction (every walk sees one snapshot): within one
//! case, load its items (a quota bounds them) and run the reference evaluator; over a domain,
//! walk an index per filter as `related_walk` plans it (the SQLite backend does the same).

use super::sql::{col, corrupt, db, exec, json, query, try_exec};
use super::{cases, outbox, tokens};
use crate::related_walk::{self, CHUNK, Next, Primary, Walk, Walked};
use crate::sqlite::{tags_from_text, tags_to_text};
use caseload_domain::related::query::run;
use caseload_domain::store::{
    AuditRecord, CaseRecord, Created, DomainKey, EventRecord, IdempotencyRecord, ItemFilter,
    NewRelatedItem, RelatedItemKey, RelatedItemRecord, RelatedPage, RelatedQuery, StoreError,
    StoreResult,
};
use caseload_model::Timestamp;
use caseload_model::shapes::{CaseSummary, RelatedItemType};
use deadpool_postgres::{GenericClient, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

const COLUMNS: &str = "seq, account_id, domain_id, case_id, related_item_id, type, association_ms, ref_key, body, tags, version";

fn from_row(r: &Row) -> StoreResult<RelatedItemRecord> {
    let item_type: &str = col(r, 5)?;
    Ok(RelatedItemRecord {
        seq: col(r, 0)?,
        account_id: col(r, 1)?,
        domain_id: col(r, 2)?,
        case_id: col(r, 3)?,
        related_item_id: col(r, 4)?,
        item_type: RelatedItemType::parse(item_type)
            .ok_or_else(|| corrupt(format!("unknown related item type '{item_type}'")))?,
        association_time: Timestamp::from_unix_millis(col(r, 6)?),
        ref_key: col(r, 7)?,
        body: json(col(r, 8)?)?,
        tags: tags_from_text(col(r, 9)?)?,
        version: col(r, 10)?,
    })
}

async fn items(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<RelatedItemRecord>> {
    query(c, sql, params).await?.iter().map(from_row).collect()
}

/// Locks the rows of the cases `items` belong to, in (account, domain, case id) order; returns
/// the keys of those that exist.
async fn lock_cases<'a>(
    tx: &Transaction<'_>,
    items: impl Iterator<Item = &'a RelatedItemRecord>,
) -> StoreResult<BTreeSet<(String, String, String)>> {
    let mut by_domain: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for i in items {
        by_domain
            .entry((i.account_id.as_str(), i.domain_id.as_str()))
            .or_default()
            .push(i.case_id.clone());
    }
    let mut found = BTreeSet::new();
    for ((account, domain), mut ids) in by_domain {
        ids.sort();
        ids.dedup();
        // Rows are locked as the sorted rows come out, so in case-id order.
        let rows = query(
            tx,
            "SELECT case_id FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id = ANY($3) ORDER BY case_id FOR NO KEY UPDATE",
            &[&account, &domain, &ids],
        )
        .await?;
        for r in &rows {
            found.insert((account.to_owned(), domain.to_owned(), col::<String>(r, 0)?));
        }
    }
    Ok(found)
}

/// Writes the case update an item write carries, or checks that the item's case still exists.
async fn touch_case(
    tx: &Transaction<'_>,
    item: &RelatedItemRecord,
    case_update: Option<&CaseRecord>,
) -> StoreResult<()> {
    match case_update {
        Some(case) => cases::update_in(tx, case, None).await,
        None => match cases::get(tx, &item.item_key().case).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::VersionMismatch),
        },
    }
}

pub async fn insert_many(
    tx: &Transaction<'_>,
    batch: &[NewRelatedItem],
    token: Option<&IdempotencyRecord>,
) -> StoreResult<Created> {
    if let Some(t) = token
        && let Some(seen) = tokens::seen_or_remember(tx, t).await?
    {
        return Ok(Created::Replayed(seen));
    }
    let live = lock_cases(tx, batch.iter().map(|n| &n.item)).await?;
    for n in batch {
        let item = &n.item;
        let key = (
            item.account_id.clone(),
            item.domain_id.clone(),
            item.case_id.clone(),
        );
        if !live.contains(&key) {
            return Err(StoreError::VersionMismatch);
        }
        if let Some(case) = &n.case_update {
            cases::update_in(tx, case, None).await?;
        }
        let counts = query(
            tx,
            "SELECT count(*), count(*) FILTER (WHERE type = $4) FROM related_items WHERE account_id = $1 AND domain_id = $2 AND case_id = $3",
            &[
                &item.account_id,
                &item.domain_id,
                &item.case_id,
                &item.item_type.as_str(),
            ],
        )
        .await?;
        let (in_case, of_type): (i64, i64) = match counts.first() {
            Some(r) => (col(r, 0)?, col(r, 1)?),
            None => (0, 0),
        };
        if in_case as usize >= n.max_in_case || of_type as usize >= n.max_of_type {
            return Err(StoreError::QuotaExceeded);
        }
        insert_in(tx, item).await?;
        cases::insert_audit(
            tx,
            &item.account_id,
            &item.domain_id,
            &item.case_id,
            &n.audit,
        )
        .await?;
    }
    let events: Vec<&EventRecord> = batch.iter().filter_map(|n| n.event.as_ref()).collect();
    outbox::append(tx, &events).await?;
    Ok(Created::New)
}

/// Inserts `item` inside `tx` (its `seq` is assigned); `Duplicate` when its id is taken in its
/// domain.
pub(super) async fn insert_in(tx: &Transaction<'_>, item: &RelatedItemRecord) -> StoreResult<()> {
    try_exec(
        tx,
        "INSERT INTO related_items (account_id, domain_id, case_id, related_item_id, type, association_ms, ref_key, body, tags, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &item.account_id,
            &item.domain_id,
            &item.case_id,
            &item.related_item_id,
            &item.item_type.as_str(),
            &item.association_time.unix_millis(),
            &item.ref_key,
            &item.body.to_string(),
            &tags_to_text(&item.tags),
            &item.version,
        ],
    )
    .await
    .map_err(|e| {
        if super::sql::is_unique_violation(&e) {
            StoreError::Duplicate("related item id")
        } else {
            db(e)
        }
    })?;
    Ok(())
}

/// Inserts restored items alone (see `Store::import_related_items`).
pub async fn import(tx: &Transaction<'_>, items: &[RelatedItemRecord]) -> StoreResult<()> {
    for item in items {
        insert_in(tx, item).await?;
    }
    Ok(())
}

/// A domain's items by (case id, seq), after `after`.
pub async fn list_domain(
    c: &impl GenericClient,
    key: &DomainKey,
    after: Option<(&str, i64)>,
    limit: usize,
) -> StoreResult<Vec<RelatedItemRecord>> {
    let (case_id, seq) = after.unwrap_or(("", 0));
    items(
        c,
        &format!(
            "SELECT {COLUMNS} FROM related_items WHERE account_id = $1 AND domain_id = $2 AND (case_id, seq) > ($3, $4) ORDER BY case_id, seq LIMIT $5"
        ),
        &[&key.account_id, &key.domain_id, &case_id, &seq, &(limit as i64)],
    )
    .await
}

pub async fn get(
    c: &impl GenericClient,
    key: &RelatedItemKey,
) -> StoreResult<Option<RelatedItemRecord>> {
    let (d, case_id) = (&key.case.domain, &key.case.case_id);
    let found = items(
        c,
        &format!("SELECT {COLUMNS} FROM related_items WHERE account_id = $1 AND domain_id = $2 AND related_item_id = $3 AND case_id = $4"),
        &[&d.account_id, &d.domain_id, &key.related_item_id, case_id],
    )
    .await?;
    Ok(found.into_iter().next())
}

pub async fn list_case(
    c: &impl GenericClient,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Vec<RelatedItemRecord>> {
    items(
        c,
        &format!(
            "SELECT {COLUMNS} FROM related_items WHERE account_id = $1 AND domain_id = $2 AND case_id = $3 ORDER BY seq"
        ),
        &[&account, &domain, &case_id],
    )
    .await
}

/// Replaces an item whose stored version is `item.version - 1`, inside `tx`; the item moves to
/// `item.case_id` (a merge moves items; otherwise it is the case it is in).
pub(super) async fn replace_in(tx: &Transaction<'_>, item: &RelatedItemRecord) -> StoreResult<()> {
    let n = exec(
        tx,
        "UPDATE related_items SET case_id = $4, body = $5, ref_key = $6, tags = $7, version = $8 WHERE account_id = $1 AND domain_id = $2 AND related_item_id = $3 AND version = $8::bigint - 1",
        &[
            &item.account_id,
            &item.domain_id,
            &item.related_item_id,
            &item.case_id,
            &item.body.to_string(),
            &item.ref_key,
            &tags_to_text(&item.tags),
            &item.version,
        ],
    )
    .await?;
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

pub async fn change(
    tx: &Transaction<'_>,
    change: ItemChange,
    item: &RelatedItemRecord,
    audit: &AuditRecord,
    event: Option<&EventRecord>,
    case_update: Option<&CaseRecord>,
) -> StoreResult<()> {
    touch_case(tx, item, case_update).await?;
    match change {
        ItemChange::Replace => replace_in(tx, item).await?,
        ItemChange::Remove => remove_in(tx, item).await?,
    }
    cases::insert_audit(tx, &item.account_id, &item.domain_id, &item.case_id, audit).await?;
    outbox::append(tx, event.as_slice()).await
}

/// Removes an item that is still at `item.version`, inside `tx`.
pub(super) async fn remove_in(tx: &Transaction<'_>, item: &RelatedItemRecord) -> StoreResult<()> {
    let n = exec(
        tx,
        "DELETE FROM related_items WHERE account_id = $1 AND domain_id = $2 AND related_item_id = $3 AND version = $4",
        &[
            &item.account_id,
            &item.domain_id,
            &item.related_item_id,
            &item.version,
        ],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

pub async fn cases_for_contact(
    c: &impl GenericClient,
    key: &DomainKey,
    contact_arn: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<CaseSummary>> {
    query(
        c,
        "SELECT DISTINCT r.case_id, k.template_id FROM related_items r JOIN cases k ON k.account_id = r.account_id AND k.domain_id = r.domain_id AND k.case_id = r.case_id WHERE r.account_id = $1 AND r.domain_id = $2 AND r.type = 'Contact' AND r.ref_key = $3 AND r.case_id > $4 ORDER BY r.case_id LIMIT $5",
        &[
            &key.account_id,
            &key.domain_id,
            &contact_arn,
            &after.unwrap_or(""),
            &(limit as i64),
        ],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CaseSummary {
            case_id: col(r, 0)?,
            template_id: col(r, 1)?,
        })
    })
    .collect()
}

/// Runs a related-item search in `tx`, a REPEATABLE READ transaction (see the module comment).
pub async fn search(tx: &Transaction<'_>, q: &RelatedQuery) -> StoreResult<RelatedPage> {
    if let Some(case_id) = &q.case_id {
        let items = list_case(tx, &q.account_id, &q.domain_id, case_id).await?;
        return Ok(run(q, items));
    }
    let mut walks = Vec::new();
    if q.filters.is_empty() {
        walks.push(walk(tx, q, None).await?);
    } else {
        for f in &q.filters {
            walks.push(walk(tx, q, Some(f)).await?);
        }
    }
    Ok(related_walk::page(q, walks))
}

fn param(p: &Primary) -> &(dyn ToSql + Sync) {
    match p {
        Primary::Time(ms) => ms,
        Primary::Case(id) => id,
    }
}

/// One filter's walk (see `related_walk`).
async fn walk(
    tx: &Transaction<'_>,
    q: &RelatedQuery,
    f: Option<&ItemFilter>,
) -> StoreResult<Walked> {
    let (column, dir) = related_walk::order_by(q);
    let type_name: &'static str = f.map_or("", |f| f.item_type.as_str());
    let mut scope =
        format!("SELECT {COLUMNS} FROM related_items WHERE account_id = $1 AND domain_id = $2");
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&q.account_id, &q.domain_id];
    if let Some(f) = f {
        params.push(&type_name);
        scope.push_str(&format!(" AND type = ${}", params.len()));
        if let Some(k) = &f.ref_key {
            params.push(k);
            scope.push_str(&format!(" AND ref_key = ${}", params.len()));
        }
    }
    let mut walk = Walk::new(q, f);
    let mut next = Next::Chunk;
    loop {
        next = match next {
            Next::Chunk => {
                let mut sql = scope.clone();
                let mut p = params.clone();
                if let Some((v, inclusive)) = walk.from() {
                    p.push(param(v));
                    let op = related_walk::from_op(q, *inclusive);
                    sql.push_str(&format!(" AND {column} {op} ${}", p.len()));
                }
                sql.push_str(&format!(" ORDER BY {column} {dir} LIMIT {CHUNK}"));
                let rows = items(tx, &sql, &p).await?;
                walk.chunk(rows)
            }
            Next::Group(v) => {
                let mut p = params.clone();
                p.push(param(&v));
                let sql = format!("{scope} AND {column} = ${}", p.len());
                let rows = items(tx, &sql, &p).await?;
                walk.group(rows)
            }
            Next::Done(walked) => return Ok(walked),
        };
    }
}
