//! Merges of cases in SQLite (`merges` table): recording one atomically against the merges its
//! cases already take part in, and writing a merge's whole outcome in one transaction.

use super::{backend, cases, tags_to_text};
use caseload_domain::store::{
    MergeFinish, MergeRecord, MergeStart, RelatedItemRecord, StoreError, StoreResult,
};
use caseload_model::Timestamp;
use rusqlite::{Connection, Row, params};

const COLUMNS: &str = "account_id, domain_id, merge_id, primary_case_id, secondary_case_id, completed, started_ms, body";

fn from_row(r: &Row) -> rusqlite::Result<(MergeRecord, String)> {
    Ok((
        MergeRecord {
            account_id: r.get(0)?,
            domain_id: r.get(1)?,
            merge_id: r.get(2)?,
            primary_case_id: r.get(3)?,
            secondary_case_id: r.get(4)?,
            completed: r.get::<_, i64>(5)? != 0,
            started: Timestamp::from_unix_millis(r.get(6)?),
            body: serde_json::Value::Null,
        },
        r.get(7)?,
    ))
}

fn query(c: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<MergeRecord>> {
    let mut stmt = c.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(p, from_row).map_err(backend)?;
    rows.map(|r| {
        let (mut m, body) = r.map_err(backend)?;
        m.body = serde_json::from_str(&body).map_err(backend)?;
        Ok(m)
    })
    .collect()
}

pub fn of_case(
    c: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Vec<MergeRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM merges WHERE account_id = ?1 AND domain_id = ?2 AND (primary_case_id = ?3 OR secondary_case_id = ?3) ORDER BY started_ms, merge_id"
        ),
        params![account, domain, case_id],
    )
}

pub fn running(c: &Connection, limit: usize) -> StoreResult<Vec<MergeRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM merges WHERE completed = 0 ORDER BY started_ms, merge_id LIMIT ?1"
        ),
        params![limit as i64],
    )
}

/// Checks and inserts in one transaction; SQLite's single writer makes the check hold.
pub fn start(c: &mut Connection, m: &MergeRecord) -> StoreResult<MergeStart> {
    let tx = c.savepoint().map_err(backend)?;
    for case_id in [&m.primary_case_id, &m.secondary_case_id] {
        for other in of_case(&tx, &m.account_id, &m.domain_id, case_id)? {
            if !other.completed {
                return Ok(MergeStart::Busy(case_id.clone()));
            }
            if other.secondary_case_id == *case_id {
                return Ok(MergeStart::MergedBefore(case_id.clone()));
            }
        }
    }
    tx.execute(
        &format!("INSERT INTO merges ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            m.account_id,
            m.domain_id,
            m.merge_id,
            m.primary_case_id,
            m.secondary_case_id,
            m.completed as i64,
            m.started.unix_millis(),
            m.body.to_string()
        ],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(MergeStart::Started)
}

/// Replaces an item whose stored version is `item.version - 1`, moving it to `item.case_id`.
fn move_item(tx: &Connection, item: &RelatedItemRecord) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE related_items SET case_id = ?4, body = ?5, ref_key = ?6, tags = ?7, version = ?8 WHERE account_id = ?1 AND domain_id = ?2 AND related_item_id = ?3 AND version = ?8 - 1",
            params![item.account_id, item.domain_id, item.related_item_id, item.case_id, item.body.to_string(), item.ref_key, tags_to_text(&item.tags), item.version],
        )
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

fn remove_item(tx: &Connection, item: &RelatedItemRecord) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM related_items WHERE account_id = ?1 AND domain_id = ?2 AND related_item_id = ?3 AND version = ?4",
            params![item.account_id, item.domain_id, item.related_item_id, item.version],
        )
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

fn insert_item(tx: &Connection, item: &RelatedItemRecord) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO related_items (account_id, domain_id, case_id, related_item_id, type, association_ms, ref_key, body, tags, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
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
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn finish(c: &mut Connection, f: &MergeFinish) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    for (case, audit) in [&f.primary, &f.secondary].into_iter().flatten() {
        cases::update_in(&tx, case, Some(audit))?;
    }
    for item in &f.changed_items {
        move_item(&tx, item)?;
    }
    for item in &f.removed_items {
        remove_item(&tx, item)?;
    }
    for item in &f.new_items {
        insert_item(&tx, item)?;
    }
    let m = &f.merge;
    let n = tx
        .execute(
            "UPDATE merges SET completed = 1 WHERE account_id = ?1 AND domain_id = ?2 AND merge_id = ?3 AND completed = 0",
            params![m.account_id, m.domain_id, m.merge_id],
        )
        .map_err(backend)?;
    // Already completed (or its domain deleted) by another worker: write nothing.
    if n == 0 {
        return Ok(());
    }
    tx.commit().map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_domain::store::{AuditRecord, CaseRecord};

    fn merge(id: &str, primary: &str, secondary: &str) -> MergeRecord {
        MergeRecord {
            account_id: "a".into(),
            domain_id: "d".into(),
            merge_id: id.into(),
            primary_case_id: primary.into(),
            secondary_case_id: secondary.into(),
            completed: false,
            started: Timestamp::from_unix_millis(1),
            body: serde_json::json!({"v": 1}),
        }
    }

    fn case(id: &str, reference: &str) -> CaseRecord {
        CaseRecord {
            account_id: "a".into(),
            domain_id: "d".into(),
            case_id: id.into(),
            template_id: "t".into(),
            reference_number: reference.into(),
            fields: Default::default(),
            tags: Default::default(),
            created: Timestamp::from_unix_millis(1),
            updated: Timestamp::from_unix_millis(1),
            version: 1,
        }
    }

    fn audit(case_id: &str) -> AuditRecord {
        AuditRecord {
            event_id: format!("e-{case_id}"),
            case_id: case_id.into(),
            performed_time: Timestamp::from_unix_millis(1),
            body: serde_json::json!({}),
        }
    }

    fn finish_of(m: &MergeRecord, primary: CaseRecord, secondary: CaseRecord) -> MergeFinish {
        MergeFinish {
            merge: m.clone(),
            primary: Some((primary, audit("p"))),
            secondary: Some((secondary, audit("s"))),
            changed_items: vec![],
            removed_items: vec![],
            new_items: vec![],
        }
    }

    #[test]
    fn a_case_takes_part_in_one_running_merge_and_is_merged_away_once() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrate(&mut c).unwrap();
        for (id, reference) in [("p", "1"), ("s", "2"), ("o", "3")] {
            let (case, audit) = (case(id, reference), audit(id));
            let text = cases::CaseText::of(&case, Some(&audit)).unwrap();
            cases::insert(&mut c, &case, &text, &audit, None).unwrap();
        }
        let m = merge("m1", "p", "s");
        assert_eq!(start(&mut c, &m).unwrap(), MergeStart::Started);
        assert_eq!(
            start(&mut c, &merge("m2", "o", "s")).unwrap(),
            MergeStart::Busy("s".into())
        );
        assert_eq!(
            start(&mut c, &merge("m2", "p", "o")).unwrap(),
            MergeStart::Busy("p".into())
        );
        assert_eq!(running(&c, 10).unwrap(), vec![m.clone()]);

        // A case read before a concurrent change: nothing is written.
        let mut stale = case("p", "1");
        stale.version = 3;
        let mut secondary = case("s", "2");
        secondary.version = 2;
        assert!(matches!(
            finish(&mut c, &finish_of(&m, stale, secondary.clone())),
            Err(StoreError::VersionMismatch)
        ));
        assert!(!of_case(&c, "a", "d", "p").unwrap()[0].completed);
        assert_eq!(cases::get(&c, "a", "d", "s").unwrap().unwrap().version, 1);

        let mut primary = case("p", "1");
        primary.version = 2;
        finish(&mut c, &finish_of(&m, primary, secondary)).unwrap();
        assert!(running(&c, 10).unwrap().is_empty());
        assert!(of_case(&c, "a", "d", "s").unwrap()[0].completed);
        assert_eq!(cases::get(&c, "a", "d", "p").unwrap().unwrap().version, 2);

        // The former secondary cannot be merged again, either way; the primary can.
        assert_eq!(
            start(&mut c, &merge("m3", "o", "s")).unwrap(),
            MergeStart::MergedBefore("s".into())
        );
        assert_eq!(
            start(&mut c, &merge("m3", "s", "o")).unwrap(),
            MergeStart::MergedBefore("s".into())
        );
        assert_eq!(
            start(&mut c, &merge("m3", "p", "o")).unwrap(),
            MergeStart::Started
        );
    }
}
