//! The change log is read in commit order: every committed change exactly once, none of an
//! aborted transaction, none before its transaction commits, whatever order transactions took
//! their sequence numbers in.

use crate::harness::{TestDb, connect};
use caseload_store::postgres::{
    LoggedChange, PgError, Snapshot, append, forget_node, horizon_now, prune, read_changes,
    record_position, snapshot_transaction,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio_postgres::Client;

const LIVE: Duration = Duration::from_secs(60);

/// Commits one transaction writing these cases; returns its transaction id.
async fn commit(client: &mut Client, cases: &[&str]) -> i64 {
    let tx = client.transaction().await.unwrap();
    for case in cases {
        append(&tx, "acct", "dom", case, false).await.unwrap();
    }
    let xid = xid_of(&tx).await;
    tx.commit().await.unwrap();
    xid
}

async fn xid_of(tx: &tokio_postgres::Transaction<'_>) -> i64 {
    tx.query_one("SELECT pg_current_xact_id()::text::bigint", &[])
        .await
        .unwrap()
        .get(0)
}

fn case_ids(changes: &[LoggedChange]) -> Vec<&str> {
    changes.iter().map(|c| c.case_id.as_str()).collect()
}

/// Reads until a read delivers nothing; returns everything delivered and the last position.
async fn read_all(reader: &mut Client, from: &Snapshot) -> (Vec<LoggedChange>, Snapshot) {
    let mut position = from.clone();
    let mut all = Vec::new();
    loop {
        let batch = read_changes(reader, &position, 100).await.unwrap();
        position = batch.position;
        if batch.changes.is_empty() {
            return (all, position);
        }
        all.extend(batch.changes);
    }
}

/// Reads until every transaction up to `xid` is done in the position. Transaction ids are shared
/// by every database of the server, so a position's lowest unfinished transaction can belong to
/// another test's database; those are short, and this waits them out (at most a minute).
async fn read_past(
    reader: &mut Client,
    from: &Snapshot,
    xid: i64,
) -> (Vec<LoggedChange>, Snapshot) {
    let mut position = from.clone();
    let mut all = Vec::new();
    for _ in 0..6000 {
        let batch = read_changes(reader, &position, 100).await.unwrap();
        position = batch.position;
        all.extend(batch.changes);
        if position.xmin() > xid {
            return (all, position);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("transactions up to {xid} still not finished after a minute: {position}");
}

async fn log_size(client: &Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM changes", &[])
        .await
        .unwrap()
        .get(0)
}

/// The bigserial trap: A takes its sequence number first, B commits first. A reader must deliver
/// B without passing A, then A exactly once when it commits.
#[tokio::test]
async fn a_change_committed_late_is_delivered_once_when_it_commits() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (mut a, mut b, mut reader) = (db.client().await, db.client().await, db.client().await);

    let tx_a = a.transaction().await.unwrap();
    append(&tx_a, "acct", "dom", "case-a", false).await.unwrap();
    commit(&mut b, &["case-b"]).await;

    let first = read_changes(&mut reader, &Snapshot::origin(), 100)
        .await
        .unwrap();
    assert_eq!(case_ids(&first.changes), ["case-b"]);
    let again = read_changes(&mut reader, &first.position, 100)
        .await
        .unwrap();
    assert_eq!(
        case_ids(&again.changes),
        Vec::<&str>::new(),
        "A is still running"
    );

    tx_a.commit().await.unwrap();
    let late = read_changes(&mut reader, &again.position, 100)
        .await
        .unwrap();
    assert_eq!(case_ids(&late.changes), ["case-a"]);
    // A reader going by sequence number would have lost it: A's is the lower one.
    assert!(late.changes[0].seq < first.changes[0].seq);
    assert!(late.changes[0].xid < first.changes[0].xid);

    let (rest, _) = read_all(&mut reader, &late.position).await;
    assert_eq!(rest, vec![], "delivered once");
}

/// Many writers committing and rolling back at random moments, with the reader polling in small
/// batches all along: the reader ends with exactly the committed changes, each once, each
/// transaction's changes in one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_delivered_exactly_once() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let writers: Vec<_> = (0..6u64)
        .map(|w| {
            let url = db.url.clone();
            tokio::spawn(async move {
                let mut client = connect(&url).await.unwrap();
                // A small deterministic generator per writer: varied, and the same every run.
                let mut state = w * 7919 + 17;
                let mut next = move |n: u64| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 33) % n
                };
                let mut committed = Vec::new();
                for t in 0..25 {
                    let tx = client.transaction().await.unwrap();
                    let mut cases = Vec::new();
                    for c in 0..=next(3) {
                        let case = format!("w{w}-t{t}-c{c}");
                        append(&tx, "acct", "dom", &case, false).await.unwrap();
                        cases.push(case);
                        tokio::time::sleep(Duration::from_millis(next(4))).await;
                    }
                    if next(5) == 0 {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                        committed.extend(cases);
                    }
                }
                committed
            })
        })
        .collect();

    let mut reader = db.client().await;
    let mut position = Snapshot::origin();
    let mut delivered: Vec<LoggedChange> = Vec::new();
    let mut batch_of_xid: BTreeMap<i64, usize> = BTreeMap::new();
    let mut batches = 0;
    let mut read = async |position: &mut Snapshot, delivered: &mut Vec<LoggedChange>| {
        let batch = read_changes(&mut reader, position, 7).await.unwrap();
        let mut sorted = batch.changes.clone();
        sorted.sort_by_key(|c| (c.xid, c.seq));
        assert_eq!(sorted, batch.changes, "a batch is in (xid, seq) order");
        for change in &batch.changes {
            let first = *batch_of_xid.entry(change.xid).or_insert(batches);
            assert_eq!(
                first, batches,
                "transaction {} split across batches",
                change.xid
            );
        }
        batches += 1;
        *position = batch.position;
        delivered.extend(batch.changes);
    };
    while !writers.iter().all(|w| w.is_finished()) {
        read(&mut position, &mut delivered).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let mut committed = BTreeSet::new();
    for w in writers {
        committed.extend(w.await.unwrap());
    }
    // Everything committed is done in a snapshot taken now; read until the position covers it.
    let horizon = horizon_now(&db.client().await).await.unwrap();
    while !position.covers(&horizon) {
        read(&mut position, &mut delivered).await;
    }

    let seqs: BTreeSet<i64> = delivered.iter().map(|c| c.seq).collect();
    assert_eq!(seqs.len(), delivered.len(), "no change delivered twice");
    let got: BTreeSet<String> = delivered.iter().map(|c| c.case_id.clone()).collect();
    assert_eq!(got, committed);
    assert!(
        committed.len() > 100,
        "the run wrote enough to mean something"
    );
}

/// A transaction left open holds back its own changes and the pruning of the log below it, but
/// not the delivery of the others, nor a read-your-writes wait.
#[tokio::test]
async fn a_long_running_transaction_holds_back_only_itself_and_pruning() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (mut long, mut writer, mut reader) =
        (db.client().await, db.client().await, db.client().await);
    let before = commit(&mut writer, &["before"]).await;
    let tx_long = long.transaction().await.unwrap();
    append(&tx_long, "acct", "dom", "long", false)
        .await
        .unwrap();
    let long_xid = xid_of(&tx_long).await;
    let mut last = 0;
    for case in ["w1", "w2", "w3"] {
        last = commit(&mut writer, &[case]).await;
    }
    let horizon = horizon_now(&writer).await.unwrap();

    let (delivered, position) = read_all(&mut reader, &Snapshot::origin()).await;
    assert_eq!(case_ids(&delivered), ["before", "w1", "w2", "w3"]);
    assert!(!position.is_done(long_xid) && position.xmin() <= long_xid);
    assert!(
        position.covers(&horizon),
        "a search need not wait for the open transaction"
    );

    let (more, position) = read_past(&mut reader, &position, before).await;
    assert_eq!(more, vec![]);
    record_position(&writer, "node-1", &position).await.unwrap();
    let pruned = prune(&mut writer, LIVE).await.unwrap();
    assert!(
        before < pruned.floor && pruned.floor <= long_xid,
        "{pruned:?}"
    );
    assert_eq!(
        pruned.deleted, 1,
        "only the change before the open transaction"
    );
    // w1..w3 wait behind the open transaction (whose own change nobody else sees yet).
    assert_eq!(log_size(&writer).await, 3);

    tx_long.commit().await.unwrap();
    let (late, position) = read_past(&mut reader, &position, last.max(long_xid)).await;
    assert_eq!(case_ids(&late), ["long"]);
    record_position(&writer, "node-1", &position).await.unwrap();
    let pruned = prune(&mut writer, LIVE).await.unwrap();
    assert_eq!(pruned.deleted, 4);
    assert_eq!(log_size(&writer).await, 0);
}

/// A search takes the horizon when it arrives and waits until its reader covers it: that takes
/// every write committed before, and no write still in progress.
#[tokio::test]
async fn the_horizon_covers_exactly_the_writes_committed_before_it() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (mut writer, mut open, mut reader) =
        (db.client().await, db.client().await, db.client().await);
    let (_, position) = read_all(&mut reader, &Snapshot::origin()).await;

    commit(&mut writer, &["acknowledged"]).await;
    let tx_open = open.transaction().await.unwrap();
    append(&tx_open, "acct", "dom", "in-progress", false)
        .await
        .unwrap();
    let horizon = horizon_now(&writer).await.unwrap();
    assert!(
        !position.covers(&horizon),
        "the acknowledged write is not read yet"
    );

    let batch = read_changes(&mut reader, &position, 100).await.unwrap();
    assert_eq!(case_ids(&batch.changes), ["acknowledged"]);
    assert!(
        batch.position.covers(&horizon),
        "the wait ends without the open transaction"
    );

    tx_open.commit().await.unwrap();
    let later = horizon_now(&writer).await.unwrap();
    assert!(!batch.position.covers(&later));
    let next = read_changes(&mut reader, &batch.position, 100)
        .await
        .unwrap();
    assert_eq!(case_ids(&next.changes), ["in-progress"]);
    assert!(next.position.covers(&later));
}

/// A batch is cut only between transactions, and an older transaction still open stays pending
/// across batches.
#[tokio::test]
async fn batches_end_at_transaction_boundaries() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (mut open, mut writer, mut reader) =
        (db.client().await, db.client().await, db.client().await);
    let tx_open = open.transaction().await.unwrap();
    append(&tx_open, "acct", "dom", "oldest", false)
        .await
        .unwrap();
    commit(&mut writer, &["t1-a", "t1-b", "t1-c", "t1-d", "t1-e"]).await;
    commit(&mut writer, &["t2-a", "t2-b"]).await;
    commit(&mut writer, &["t3-a"]).await;

    let first = read_changes(&mut reader, &Snapshot::origin(), 3)
        .await
        .unwrap();
    assert_eq!(
        case_ids(&first.changes),
        ["t1-a", "t1-b", "t1-c", "t1-d", "t1-e"]
    );
    let second = read_changes(&mut reader, &first.position, 3).await.unwrap();
    assert_eq!(case_ids(&second.changes), ["t2-a", "t2-b", "t3-a"]);
    tx_open.commit().await.unwrap();
    let third = read_changes(&mut reader, &second.position, 3)
        .await
        .unwrap();
    assert_eq!(case_ids(&third.changes), ["oldest"]);
    let (rest, _) = read_all(&mut reader, &third.position).await;
    assert_eq!(rest, vec![]);
}

/// A server joining reads the tables in one snapshot, then tails the log from that snapshot:
/// between the two it sees every change once.
#[tokio::test]
async fn tailing_from_a_rebuild_snapshot_misses_and_repeats_nothing() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (mut open, mut writer, mut joiner) =
        (db.client().await, db.client().await, db.client().await);
    commit(&mut writer, &["c1"]).await;
    let tx_open = open.transaction().await.unwrap();
    append(&tx_open, "acct", "dom", "c2", false).await.unwrap();

    let (rebuild, snapshot) = snapshot_transaction(&mut joiner).await.unwrap();
    // Commits after the snapshot was taken are not part of the rebuild.
    tx_open.commit().await.unwrap();
    commit(&mut writer, &["c3"]).await;
    let seen: Vec<String> = rebuild
        .query("SELECT case_id FROM changes ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seen, ["c1"]);
    rebuild.commit().await.unwrap();

    let (tailed, _) = read_all(&mut joiner, &snapshot).await;
    assert_eq!(case_ids(&tailed), ["c2", "c3"]);
}

/// A change leaves the log only once every live node has it; a node silent for longer than the
/// liveness window no longer holds pruning back and, if it comes back, is told to rebuild.
#[tokio::test]
async fn pruning_waits_for_every_live_node() {
    let Some(db) = TestDb::migrated().await else {
        return;
    };
    let (mut writer, mut reader) = (db.client().await, db.client().await);
    assert_eq!(
        prune(&mut writer, LIVE).await.unwrap().deleted,
        0,
        "no node: nothing to prune"
    );
    commit(&mut writer, &["c1"]).await;
    let c3 = commit(&mut writer, &["c2", "c3"]).await;

    let (_, at_a) = read_past(&mut reader, &Snapshot::origin(), c3).await;
    record_position(&writer, "a", &at_a).await.unwrap();
    record_position(&writer, "b", &Snapshot::origin())
        .await
        .unwrap();
    assert_eq!(
        prune(&mut writer, LIVE).await.unwrap().deleted,
        0,
        "b has none yet"
    );
    assert_eq!(log_size(&writer).await, 3);

    let (_, at_b) = read_past(&mut reader, &Snapshot::origin(), c3).await;
    record_position(&writer, "b", &at_b).await.unwrap();
    let pruned = prune(&mut writer, LIVE).await.unwrap();
    assert_eq!(pruned.deleted, 3);
    assert_eq!(pruned.floor, at_a.xmin().min(at_b.xmin()));

    // Node c went silent an hour ago, before c4 was written.
    record_position(&writer, "c", &at_b).await.unwrap();
    writer
        .execute(
            "UPDATE index_positions SET updated_at = now() - interval '1 hour' WHERE node = 'c'",
            &[],
        )
        .await
        .unwrap();
    let c4 = commit(&mut writer, &["c4"]).await;
    for node in ["a", "b"] {
        let (got, at) = read_past(&mut reader, &at_b, c4).await;
        assert_eq!(case_ids(&got), ["c4"]);
        record_position(&writer, node, &at).await.unwrap();
    }
    assert_eq!(
        prune(&mut writer, LIVE).await.unwrap().deleted,
        1,
        "c is not waited for"
    );
    match read_changes(&mut reader, &at_b, 100).await {
        Err(PgError::Pruned { needed, floor }) => {
            assert_eq!(needed, at_b.xmin());
            assert!(floor > needed);
        }
        other => panic!("a position below the floor must be refused, got {other:?}"),
    }
    forget_node(&writer, "c").await.unwrap();
    let nodes: i64 = writer
        .query_one("SELECT count(*) FROM index_positions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(nodes, 2);
}
