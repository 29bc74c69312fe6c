//! `SqliteStore::check_index` and `repair_index` (what `caseload check [--repair]` runs), and
//! the server's start-up comparison: the database is changed behind the index's back with raw
//! SQL while the store is closed, and every difference is named, then repaired.

mod common;

use caseload_store::SqliteStore;
use caseload_store::index::check::CaseDifference;
use common::{TempDir, create_case, domain_with_template, reopen};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A domain with `n` cases; returns the domain id and the case ids, sorted.
async fn populate(dir: &Path, n: usize) -> (String, Vec<String>) {
    let store = Arc::new(SqliteStore::open(dir).unwrap());
    let svc = common::service(store.clone()).await;
    let (d, t) = domain_with_template(&svc, "c").await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(create_case(&svc, &d, &t, &format!("case {i}")).await);
    }
    // Everything indexed and committed before the store closes.
    store.wait_indexed().await.unwrap();
    ids.sort();
    (d, ids)
}

fn sql(dir: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(dir.join("caseload.sqlite3")).unwrap();
    conn.execute_batch(statements).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_every_difference_and_repair_fixes_it() {
    let dir = TempDir::new("differences");
    let (d, ids) = populate(dir.path(), 4).await;
    assert_eq!(
        reopen(dir.path(), SqliteStore::open_for_check)
            .check_index()
            .await
            .unwrap(),
        vec![]
    );
    // Same number of cases, but one at another version and one under another id.
    sql(
        dir.path(),
        &format!(
            "UPDATE cases SET version = version + 5 WHERE case_id = '{}';
             UPDATE cases SET case_id = 'zz-renamed' WHERE case_id = '{}';",
            ids[0], ids[1]
        ),
    );
    let store = reopen(dir.path(), SqliteStore::open_for_check);
    let reports = store.check_index().await.unwrap();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!((r.key.1.as_str(), r.database, r.index), (d.as_str(), 4, 4));
    assert_eq!(
        r.cases,
        vec![
            CaseDifference::Stale {
                case_id: ids[0].clone(),
                database: 6,
                index: 1
            },
            CaseDifference::Extra {
                case_id: ids[1].clone(),
                version: 1
            },
            CaseDifference::Missing {
                case_id: "zz-renamed".into(),
                version: 1
            },
        ]
    );
    store.repair_index(vec![r.key.clone()]).await.unwrap();
    assert_eq!(store.check_index().await.unwrap(), vec![]);
    drop(store);
    // The repair is durable.
    assert_eq!(
        reopen(dir.path(), SqliteStore::open_for_check)
            .check_index()
            .await
            .unwrap(),
        vec![]
    );
}

/// A server's start-up finds a domain whose counts differ and rebuilds it in the background.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_repairs_domains_whose_counts_differ() {
    let dir = TempDir::new("start-up");
    let (_, ids) = populate(dir.path(), 3).await;
    // A case row gone without a change entry: the index still has its document.
    sql(
        dir.path(),
        &format!("DELETE FROM cases WHERE case_id = '{}';", ids[2]),
    );
    let store = reopen(dir.path(), SqliteStore::open);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reports = store.check_index().await.unwrap();
        if reports.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "never repaired: {reports:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A data directory belongs to one process (store) at a time.
#[test]
fn a_second_store_on_the_same_directory_is_refused() {
    let dir = TempDir::new("lock");
    let _first = SqliteStore::open(dir.path()).unwrap();
    let second = SqliteStore::open_for_check(dir.path())
        .err()
        .expect("refused");
    assert!(second.to_string().contains("in use"), "{second}");
}
