//! The search index fed from the change log (`PgSearch` over `PgLog`): cases are written into
//! the tables and the log with plain SQL transactions, as the PostgreSQL store writes them, and
//! searched through a node's index.

use crate::harness::{PrivateServer, TestDb, connect};
use caseload_domain::store::{CaseQuery, FieldPredicate, Filter, Op, SortSpec, StoreError};
use caseload_domain::value::Value;
use caseload_model::shapes::FieldType;
use caseload_store::index::ChangeLog;
use caseload_store::postgres::{
    LIVE_WITHIN, MIGRATIONS, PgLog, PgSearch, append, forget_node, horizon_now, migrate, prune,
    record_position,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, GenericClient};

const ACCOUNT: &str = "111122223333";
const DOMAIN: &str = "d-1";
const WAIT: Duration = Duration::from_secs(30);

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "caseload-pg-index-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn index(&self) -> PathBuf {
        self.0.join("index")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes (creates or replaces) a case and logs the change, in the caller's transaction.
async fn put_case(client: &impl GenericClient, case_id: &str, title: &str) {
    let fields = BTreeMap::from([("title".to_owned(), Value::String(title.to_owned()))]);
    let fields = serde_json::to_string(&fields).unwrap();
    client
        .execute(
            "INSERT INTO cases (account_id, domain_id, case_id, template_id, reference_number,
                                fields, tags, created_ms, updated_ms, version)
             VALUES ($1, $2, $3, 't-1', $3, $4, '{}', 1, 1, 1)
             ON CONFLICT (account_id, domain_id, case_id)
             DO UPDATE SET fields = excluded.fields, version = cases.version + 1",
            &[&ACCOUNT, &DOMAIN, &case_id, &fields],
        )
        .await
        .unwrap();
    append(client, ACCOUNT, DOMAIN, case_id, false)
        .await
        .unwrap();
}

async fn delete_case(client: &impl GenericClient, case_id: &str) {
    client
        .execute(
            "DELETE FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id = $3",
            &[&ACCOUNT, &DOMAIN, &case_id],
        )
        .await
        .unwrap();
    append(client, ACCOUNT, DOMAIN, case_id, true)
        .await
        .unwrap();
}

/// One committed transaction writing these cases, each titled after its id.
async fn commit_cases(client: &mut Client, case_ids: &[String]) {
    let tx = client.transaction().await.unwrap();
    for id in case_ids {
        put_case(&tx, id, &format!("title of {id}")).await;
    }
    tx.commit().await.unwrap();
}

/// Commits `n` cases named `prefix`NNN in one transaction and adds them to `expected`, which
/// stays sorted.
async fn add_cases(client: &mut Client, expected: &mut Vec<String>, prefix: &str, n: usize) {
    let batch = ids(prefix, 0..n);
    commit_cases(client, &batch).await;
    expected.extend(batch);
    expected.sort();
}

fn ids(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i:03}")).collect()
}

/// Every case of the domain, or those whose title is `title`, by id.
fn query(title: Option<&str>) -> CaseQuery {
    CaseQuery {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        filter: title.map(|t| {
            Filter::Field(FieldPredicate {
                field_id: "title".into(),
                field_type: FieldType::Text,
                op: Op::EqualTo,
                value: Value::String(t.into()),
            })
        }),
        search_terms: Vec::new(),
        term_fields: Default::default(),
        sorts: vec![SortSpec {
            field_id: "title".into(),
            field_type: FieldType::Text,
            descending: false,
        }],
        after: None,
        limit: 10_000,
    }
}

/// What a search on `node` finds now (read-your-writes: it waits for every committed write).
async fn found(node: &PgSearch) -> Vec<String> {
    let (total, mut ids) = node.search(&query(None), WAIT).await.unwrap();
    assert_eq!(total as usize, ids.len());
    ids.sort();
    ids
}

fn open(db: &TestDb, node: &str, dir: &Path) -> PgSearch {
    PgSearch::open(db.pool(), node, dir).unwrap()
}

/// Opens node `name` on `dir`, commits `cases`, finds them, and stops the node.
async fn index_and_close(
    db: &TestDb,
    client: &mut Client,
    name: &str,
    dir: &Path,
    cases: &[String],
) {
    let node = open(db, name, dir);
    commit_cases(client, cases).await;
    assert_eq!(found(&node).await, cases);
    node.close().await.unwrap();
}

/// The one number `sql` selects.
async fn number(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

/// The first column of every row of `sql`.
async fn strings(client: &Client, sql: &str) -> Vec<String> {
    let rows = client.query(sql, &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// The bigserial trap: T1 takes its sequence number (and transaction id) first, T2 commits first
/// and the index passes it; T1 commits afterwards and must still be indexed.
#[tokio::test]
async fn a_transaction_committing_after_a_later_one_is_still_indexed() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let dir = TempDir::new("late");
    let node = open(&db, "n1", &dir.index());
    let (mut a, mut b) = (db.client().await, db.client().await);

    let t1 = a.transaction().await.unwrap();
    put_case(&t1, "case-a", "late").await;
    put_case(&b, "case-b", "early").await;
    assert_eq!(found(&node).await, ["case-b"], "T2 indexed while T1 runs");
    assert_eq!(
        node.changes_behind().await.unwrap(),
        0,
        "T1's change is not committed"
    );

    t1.commit().await.unwrap();
    // Committed, and not searchable until a search (or the commit delay) has the index commit.
    let behind = node.changes_behind().await.unwrap();
    assert!(behind <= 1, "{behind}");
    let seqs = strings(&b, "SELECT case_id FROM changes ORDER BY seq").await;
    assert_eq!(
        seqs,
        ["case-a", "case-b"],
        "T1 took the lower sequence number"
    );
    assert_eq!(found(&node).await, ["case-a", "case-b"]);
    assert_eq!(node.changes_behind().await.unwrap(), 0);
    // Its row was indexed, not just its key.
    let (total, hits) = node.search(&query(Some("late")), WAIT).await.unwrap();
    assert_eq!((total, hits), (1, vec!["case-a".to_owned()]));
    drop(b.transaction().await.unwrap());
    node.close().await.unwrap();
}

/// Every search sees every write committed before it: creations, updates and deletions, one
/// after the other and from several connections at once.
#[tokio::test]
async fn a_search_sees_every_write_committed_before_it() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let dir = TempDir::new("ryw");
    let node = open(&db, "n1", &dir.index());
    let mut client = db.client().await;
    let mut expected = Vec::new();
    for (i, id) in ids("c", 0..30).into_iter().enumerate() {
        commit_cases(&mut client, std::slice::from_ref(&id)).await;
        expected.push(id.clone());
        if i % 3 == 2 {
            // Deleted, then the next search must not find it.
            let gone = expected.remove(i / 2);
            delete_case(&client, &gone).await;
        }
        assert_eq!(found(&node).await, expected, "after write {i}");
    }
    // An update is searchable by its new value at once.
    put_case(&client, &expected[0], "renamed").await;
    let (_, hits) = node.search(&query(Some("renamed")), WAIT).await.unwrap();
    assert_eq!(hits, [expected[0].clone()]);

    // Writers on four connections, each searching right after each of its commits.
    let mut writers = Vec::new();
    for w in 0..4 {
        let (db_url, node_ids) = (db.url.clone(), ids(&format!("w{w}-"), 0..10));
        writers.push(tokio::spawn(async move {
            let mut client = connect(&db_url).await.unwrap();
            let mut mine = Vec::new();
            for id in node_ids {
                commit_cases(&mut client, std::slice::from_ref(&id)).await;
                mine.push(id);
            }
            mine
        }));
    }
    for w in writers {
        expected.extend(w.await.unwrap());
    }
    expected.sort();
    assert_eq!(found(&node).await, expected);
    node.close().await.unwrap();
}

/// Two servers (two nodes, two index directories) over one database both hold every case,
/// whichever of them the writes came through, and both record their positions.
#[tokio::test]
async fn two_nodes_on_one_database_both_converge() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (dir_a, dir_b) = (TempDir::new("two-a"), TempDir::new("two-b"));
    let mut client = db.client().await;
    commit_cases(&mut client, &ids("before", 0..50)).await;
    let a = open(&db, "a", &dir_a.index());
    let b = open(&db, "b", &dir_b.index());
    let mut expected = ids("before", 0..50);
    for round in 0..5 {
        add_cases(&mut client, &mut expected, &format!("r{round}-"), 20).await;
        assert_eq!(found(&a).await, expected, "node a, round {round}");
        assert_eq!(found(&b).await, expected, "node b, round {round}");
    }
    let nodes = strings(&client, "SELECT node FROM index_positions ORDER BY node").await;
    assert_eq!(nodes, ["a", "b"]);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// A node away while the log was pruned past its position finds it gone on return, rebuilds from
/// the tables, and then holds every case, those written while it was away included.
#[tokio::test]
async fn a_node_pruned_away_rebuilds_and_holds_every_case() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (dir_a, dir_b) = (TempDir::new("pruned-a"), TempDir::new("pruned-b"));
    let mut client = db.client().await;
    let mut expected = ids("early", 0..10);
    index_and_close(&db, &mut client, "a", &dir_a.index(), &expected).await;
    let needed_a = number(
        &client,
        "SELECT needed_xid FROM index_positions WHERE node = 'a'",
    )
    .await;

    // Node a has been away for longer than pruning waits for.
    client
        .execute(
            "UPDATE index_positions SET updated_at = now() - interval '1 hour' WHERE node = 'a'",
            &[],
        )
        .await
        .unwrap();
    let b = open(&db, "b", &dir_b.index());
    // Node b writes and prunes until the floor passes node a's position. Transaction ids are the
    // whole server's, so another test's open transaction can hold b's position back a while.
    let started = Instant::now();
    let mut round = 0;
    let floor = loop {
        add_cases(&mut client, &mut expected, &format!("away{round}-"), 5).await;
        b.wait_indexed(Some(WAIT)).await.unwrap();
        let pruned = prune(&mut client, LIVE_WITHIN).await.unwrap();
        if pruned.floor > needed_a {
            break pruned.floor;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the floor {} never passed {needed_a}",
            pruned.floor
        );
        round += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let early_left = number(
        &client,
        "SELECT count(*) FROM changes WHERE case_id LIKE 'early%'",
    )
    .await;
    assert_eq!(early_left, 0, "node a's changes were pruned");

    let a = open(&db, "a", &dir_a.index());
    assert_eq!(found(&a).await, expected);
    let needed_now = number(
        &client,
        "SELECT needed_xid FROM index_positions WHERE node = 'a'",
    )
    .await;
    assert!(
        needed_now >= floor,
        "a's rebuilt index records a position above the floor ({needed_now} < {floor})"
    );
    // And it tails the log again afterwards.
    add_cases(&mut client, &mut expected, "after", 3).await;
    assert_eq!(found(&a).await, expected);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// The index directory is a cache: deleted, it is rebuilt from the tables, even with the change
/// log emptied meanwhile.
#[tokio::test]
async fn a_deleted_index_directory_is_rebuilt_from_the_tables() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let dir = TempDir::new("deleted");
    let mut client = db.client().await;
    let mut expected = ids("c", 0..40);
    index_and_close(&db, &mut client, "n1", &dir.index(), &expected).await;

    std::fs::remove_dir_all(dir.index()).unwrap();
    client.execute("DELETE FROM changes", &[]).await.unwrap();
    let node = open(&db, "n1", &dir.index());
    assert_eq!(found(&node).await, expected);
    add_cases(&mut client, &mut expected, "d", 5).await;
    assert_eq!(found(&node).await, expected);
    node.close().await.unwrap();
}

/// A restarted node catches up with the writes made while it was down, and its start-up check
/// (case counts per domain compared at one position of the log) finds and repairs a case written
/// behind the log's back.
#[tokio::test]
async fn a_restarted_node_catches_up_and_its_start_up_check_repairs() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let dir = TempDir::new("resume");
    let mut client = db.client().await;
    let mut expected = ids("c", 0..10);
    index_and_close(&db, &mut client, "n1", &dir.index(), &expected).await;

    add_cases(&mut client, &mut expected, "down", 5).await;
    client
        .execute(
            "INSERT INTO cases SELECT account_id, domain_id, 'unlogged', template_id, 'unlogged',
                    fields, tags, created_ms, updated_ms, version
             FROM cases WHERE case_id = 'c000'",
            &[],
        )
        .await
        .unwrap();
    let node = open(&db, "n1", &dir.index());
    let mut without_unlogged = found(&node).await;
    without_unlogged.retain(|id| id != "unlogged");
    assert_eq!(without_unlogged, expected, "caught up from the log");
    // The check runs on the indexer's thread once caught up; the repair follows shortly.
    expected.push("unlogged".into());
    expected.sort();
    let started = Instant::now();
    while found(&node).await != expected {
        assert!(
            started.elapsed() < WAIT,
            "the start-up check did not repair the domain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node.close().await.unwrap();
}

/// While the database is down a search answers a retryable error within its bound (never hangs),
/// and once it is back the indexer reconnects by itself: writes made after the restart are
/// searchable through the same index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_recovers_by_itself_after_a_database_restart() {
    let Some(server) = PrivateServer::start_off_runtime().await else {
        return;
    };
    let pool = server.short_wait_pool();
    let mut client = connect(&server.url()).await.unwrap();
    migrate(&mut client, MIGRATIONS).await.unwrap();
    let dir = TempDir::new("restart");
    let node = PgSearch::open(pool, "n1", &dir.index()).unwrap();
    let mut expected = Vec::new();
    add_cases(&mut client, &mut expected, "before", 5).await;
    assert_eq!(found(&node).await, expected);
    drop(client);

    let server = server.stopped().await;
    let down = tokio::time::timeout(WAIT, node.search(&query(None), Duration::from_secs(2)))
        .await
        .expect("a search while the database is down answers");
    assert!(
        matches!(down, Err(StoreError::Unavailable { .. })),
        "{down:?}"
    );

    let server = server.restarted().await;
    let mut client = connect(&server.url()).await.unwrap();
    add_cases(&mut client, &mut expected, "after", 5).await;
    // The first searches may still meet connections the restart closed; they answer retryably.
    let started = Instant::now();
    loop {
        match node.search(&query(None), WAIT).await {
            Ok((_, mut ids)) => {
                ids.sort();
                assert_eq!(ids, expected);
                break;
            }
            Err(StoreError::Unavailable { .. }) if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("search after the restart: {e:?}"),
        }
    }
    node.close().await.unwrap();
}

/// A deleted domain is logged as one change with an empty case id (as in SQLite's log): its
/// documents leave the index, other domains' stay.
#[tokio::test]
async fn a_deleted_domain_leaves_the_index() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let dir = TempDir::new("domain");
    let node = open(&db, "n1", &dir.index());
    let mut client = db.client().await;
    let mut expected = Vec::new();
    add_cases(&mut client, &mut expected, "c", 5).await;
    let other = CaseQuery {
        domain_id: "d-2".into(),
        ..query(None)
    };
    client
        .execute(
            "INSERT INTO cases SELECT account_id, 'd-2', case_id, template_id, reference_number,
                    fields, tags, created_ms, updated_ms, version
             FROM cases WHERE case_id = 'c000'",
            &[],
        )
        .await
        .unwrap();
    append(&client, ACCOUNT, "d-2", "c000", false)
        .await
        .unwrap();
    assert_eq!(found(&node).await, expected);

    let tx = client.transaction().await.unwrap();
    tx.execute(
        "DELETE FROM cases WHERE account_id = $1 AND domain_id = $2",
        &[&ACCOUNT, &DOMAIN],
    )
    .await
    .unwrap();
    append(&tx, ACCOUNT, DOMAIN, "", true).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(found(&node).await, Vec::<String>::new());
    let (total, hits) = node.search(&other, WAIT).await.unwrap();
    assert_eq!((total, hits), (1, vec!["c000".to_owned()]));
    node.close().await.unwrap();
}

/// A node starting a rebuild records the position it rebuilds from at once: the changes after it
/// survive the other nodes' pruning through a long rebuild (without it, they would be pruned and
/// the rebuilt index would find its position gone, and rebuild again).
#[tokio::test]
async fn a_rebuilding_node_holds_back_pruning_from_the_start_of_its_rebuild() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let mut client = db.client().await;
    let from = horizon_now(&client).await.unwrap();
    commit_cases(&mut client, &ids("c", 0..3)).await;
    // Another node, live, is past those changes (once other tests' transactions that were open
    // meanwhile have ended: transaction ids are the whole server's).
    let started = Instant::now();
    let ahead = loop {
        let h = horizon_now(&client).await.unwrap();
        if h.xmin() > from.xmax() {
            break h;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{h} never passed {from}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    record_position(&client, "b", &ahead).await.unwrap();

    let log = PgLog::new("joiner", db.pool().connect_config().clone()).unwrap();
    let log = tokio::task::spawn_blocking(move || {
        log.rebuild_from(&from).unwrap();
        log
    })
    .await
    .unwrap();
    let kept = prune(&mut client, LIVE_WITHIN).await.unwrap();
    assert_eq!(kept.deleted, 0, "floor {}", kept.floor);
    assert_eq!(number(&client, "SELECT count(*) FROM changes").await, 3);

    // Without the joiner's record, the same prune removes them.
    forget_node(&client, "joiner").await.unwrap();
    assert_eq!(prune(&mut client, LIVE_WITHIN).await.unwrap().deleted, 3);
    tokio::task::spawn_blocking(move || drop(log))
        .await
        .unwrap();
}
