//! What the conformance suite cannot see: `PgStore` with several servers on one database (each
//! "server" a `PgStore` with a pool of its own) writing at the same moment, writes that fail
//! midway, the outbox's commit order, and a database that goes away.

use crate::harness::{PrivateServer, TestDb};
use caseload_domain::store::{
    Claim, Created, MergeRecord, MergeStart, ResourceKind, Store, StoreError, TokenClaim,
};
use caseload_store::conformance::*;
use caseload_store::postgres::{PgConfig, PgStore};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Servers in a fleet test.
const SERVERS: usize = 3;
/// Concurrent requests in a fleet test.
const REQUESTS: usize = 20;

/// `SERVERS` stores on one fresh database, and the database.
pub(crate) async fn fleet() -> Option<(Vec<Arc<PgStore>>, TestDb)> {
    let db = TestDb::create().await?;
    let mut stores = Vec::new();
    for _ in 0..SERVERS {
        let config = PgConfig {
            pool_size: 8,
            ..db.config()
        };
        stores.push(Arc::new(PgStore::open(&config).await.expect("a store")));
    }
    Some((stores, db))
}

/// Runs `REQUESTS` calls of `f(i, store)` at once, spread round-robin over the servers; their
/// results in call order.
async fn at_once<T, F, Fut>(stores: &[Arc<PgStore>], f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, Arc<PgStore>) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(REQUESTS));
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|i| {
            let call = f(i, stores[i % stores.len()].clone());
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                call.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("a request task"));
    }
    out
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_create_case_tokens_on_several_servers_make_one_case() {
    let Some((stores, db)) = fleet().await else {
        return;
    };
    with_domain(&*stores[0]).await;
    let results = at_once(&stores, |i, store| async move {
        // Each request would create its own case; they share one client token.
        let id = format!("case-{i}");
        let c = case(&id, &format!("{:08}", i + 1));
        let t = token("CreateCase", "one-token", &format!("request-{i}"));
        store
            .insert_case(&c, &audit(&id, 1), Some(&event(&id, 1)), Some(&t))
            .await
    })
    .await;
    let mut winner = None;
    let mut replays = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r.expect("no request fails") {
            Created::New => {
                assert!(winner.is_none(), "two requests created a case");
                winner = Some(i);
            }
            Created::Replayed(seen) => replays.push(seen),
        }
    }
    let winner = winner.expect("one request created the case");
    assert_eq!(replays.len(), REQUESTS - 1);
    // Every replay answers what the winner remembered.
    let remembered = token("CreateCase", "one-token", &format!("request-{winner}"));
    assert!(replays.iter().all(|seen| *seen == remembered));
    let cases = stores[1].list_cases(domain_key(), None, 100).await.unwrap();
    let ids: Vec<&str> = cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, [format!("case-{winner}")]);
    assert_eq!(count(&db, "SELECT count(*) FROM audit").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM events").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM changes").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_at_a_quota_never_exceed_it() {
    let Some((stores, db)) = fleet().await else {
        return;
    };
    with_domain(&*stores[0]).await;
    const QUOTA: usize = 5;

    let fields = at_once(&stores, |i, store| async move {
        let r = resource(
            ResourceKind::Field,
            &format!("field-{i}"),
            &format!("Field {i}"),
        );
        store.insert_resource(&r, QUOTA).await
    })
    .await;
    let made = fields.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, QUOTA, "{fields:?}");
    assert!(
        fields
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::QuotaExceeded)))
    );
    let stored = stores[2]
        .count_resources(domain_key(), ResourceKind::Field, false)
        .await
        .unwrap();
    assert_eq!(stored, QUOTA);

    let domains = at_once(&stores, |i, store| async move {
        store
            .insert_domain(&domain(&format!("d-{i:02}"), &format!("name {i}")), QUOTA)
            .await
    })
    .await;
    // `with_domain` made one already.
    assert_eq!(domains.iter().filter(|r| r.is_ok()).count(), QUOTA - 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM domains").await,
        QUOTA as i64
    );

    // Related items of one case, by case and by type.
    put_case(&*stores[0], &case("case-1", "00000001")).await;
    let items = at_once(&stores, |i, store| async move {
        let mut n = new_item(item("case-1", &format!("item-{i}")), i as i64);
        n.max_in_case = QUOTA;
        store.insert_related_items(&[n], None).await
    })
    .await;
    assert_eq!(items.iter().filter(|r| r.is_ok()).count(), QUOTA);
    assert!(
        items
            .iter()
            .all(|r| matches!(r, Ok(Created::New) | Err(StoreError::QuotaExceeded)))
    );
    assert_eq!(items_of(&*stores[1], "case-1").await.len(), QUOTA);
    // Each refused insert left nothing: one audit event and one event per item stored.
    assert_eq!(audit_count(&*stores[1], "case-1").await, 1 + QUOTA);
    assert_eq!(event_bodies(&*stores[1]).await.len(), QUOTA);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_writers_of_one_version_exactly_one_writes() {
    let Some((stores, _db)) = fleet().await else {
        return;
    };
    let v1 = with_case(&*stores[0]).await;
    let results = at_once(&stores, |i, store| {
        let mut v2 = next(&v1, i as i64);
        v2.fields.insert(
            "title".into(),
            caseload_domain::value::Value::String(format!("writer {i}")),
        );
        async move {
            store
                .update_case_with_items(
                    &v2,
                    Some(&audit("case-1", 100 + i as i64)),
                    None,
                    &[],
                    None,
                )
                .await
                .map(|()| v2)
        }
    })
    .await;
    let written: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(written.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(StoreError::VersionMismatch)))
    );
    assert_eq!(
        stored_case(&*stores[2], "case-1").await.as_ref(),
        Some(written[0])
    );
    assert_eq!(audit_count(&*stores[2], "case-1").await, 2);

    // Merges of one case: exactly one starts.
    for (id, reference) in [("p", "00000011"), ("s", "00000012")] {
        put_case(&*stores[0], &case(id, reference)).await;
    }
    let starts = at_once(&stores, |i, store| async move {
        let m = MergeRecord {
            account_id: ACCOUNT.into(),
            domain_id: DOMAIN.into(),
            merge_id: format!("merge-{i}"),
            primary_case_id: if i % 2 == 0 { "p" } else { "s" }.into(),
            secondary_case_id: if i % 2 == 0 { "s" } else { "p" }.into(),
            completed: false,
            started: at(i as i64),
            body: json!({}),
        };
        store.start_merge(&m).await
    })
    .await;
    let started = starts
        .iter()
        .filter(|r| matches!(r, Ok(MergeStart::Started)))
        .count();
    assert_eq!(started, 1, "{starts:?}");
    assert!(
        starts
            .iter()
            .all(|r| matches!(r, Ok(MergeStart::Started | MergeStart::Busy(_))))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_that_fails_midway_leaves_nothing() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PgStore::open(&db.config()).await.unwrap();
    let v1 = with_case(&store).await;
    let before = (
        count(&db, "SELECT count(*) FROM changes").await,
        count(&db, "SELECT count(*) FROM audit").await,
    );
    // The last statement of every write with an event is its event's insert: make it fail, as a
    // full disk or a broken constraint would.
    db.client()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER refuse_events BEFORE INSERT ON events
             FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .await
        .unwrap();

    let refused = store
        .insert_case(
            &case("case-2", "00000002"),
            &audit("case-2", 1),
            Some(&event("case-2", 1)),
            Some(&token("CreateCase", "tok", "request")),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );
    let v2 = next(&v1, 2);
    let refused = store
        .update_case_with_items(
            &v2,
            Some(&audit("case-1", 2)),
            Some(&event("case-1", 2)),
            &[],
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );
    let refused = store
        .insert_related_items(&[new_item(item("case-1", "i1"), 3)], None)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );
    let refused = store.delete_case(&v1, Some(&event("case-1", 4))).await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );

    // Nothing of any of them: no case, no version, no item, no audit, no token, no change.
    assert!(stored_case(&store, "case-2").await.is_none());
    assert_eq!(stored_case(&store, "case-1").await, Some(v1));
    assert!(items_of(&store, "case-1").await.is_empty());
    let key = caseload_domain::store::TokenKey::new(domain_key(), "CreateCase", "tok");
    assert!(store.get_idempotency(key).await.unwrap().is_none());
    assert_eq!(
        (
            count(&db, "SELECT count(*) FROM changes").await,
            count(&db, "SELECT count(*) FROM audit").await,
        ),
        before
    );
    assert_eq!(count(&db, "SELECT count(*) FROM related_items").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM idempotency").await, 0);

    // Writes without events still go through.
    store
        .update_case(&next(&stored_case(&store, "case-1").await.unwrap(), 5))
        .await
        .unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM changes").await,
        before.0 + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_outbox_is_read_in_commit_order() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = Arc::new(PgStore::open(&db.config()).await.unwrap());
    with_domain(&*store).await;
    // A transaction takes the next sequence number for its event and stays open...
    let mut slow = db.client().await;
    let slow_tx = slow.transaction().await.unwrap();
    slow_tx
        .execute(
            "INSERT INTO events (account_id, region, domain_id, case_id, created_ms, body) VALUES ($1, $2, $3, 'slow', 0, '{}')",
            &[&ACCOUNT, &REGION, &DOMAIN],
        )
        .await
        .unwrap();
    // ...while a later one takes the number after it and commits first.
    put_case(&*store, &case("case-1", "00000001")).await;
    store
        .insert_case(
            &case("case-2", "00000002"),
            &audit("case-2", 1),
            Some(&event("case-2", 1)),
            None,
        )
        .await
        .unwrap();
    // A reader must not answer with the later event alone (it would move past the earlier one
    // for good): it waits for the open transaction.
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { store.events_after(0, None, 10).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !reader.is_finished(),
        "the reader answered past an open event"
    );
    slow_tx.commit().await.unwrap();
    let events = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the reader answers once the transaction commits")
        .unwrap()
        .unwrap();
    let cases: Vec<&str> = events.iter().map(|e| e.case_id.as_str()).collect();
    assert_eq!(cases, ["slow", "case-2"]);
    assert!(events[0].seq < events[1].seq);
    assert_eq!(store.last_event_seq().await.unwrap(), events[1].seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_share_the_token_secret_and_see_each_others_claims_end() {
    let Some((stores, _db)) = fleet().await else {
        return;
    };
    let secrets = at_once(&stores, |_, store| async move {
        store.token_secret().await.unwrap()
    })
    .await;
    assert!(secrets.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(secrets[0].len(), 32);

    with_domain(&*stores[0]).await;
    let claim = |id: &str| TokenClaim {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        operation: "BatchUpdateCase",
        token: "tok".into(),
        request_hash: "request-1".into(),
        claim_id: id.into(),
        at: at(0),
    };
    // Of concurrent claims of one free token, on several servers, exactly one owns it and the
    // others see it held by that one.
    let claims = at_once(&stores, |i, store| {
        let c = claim(&format!("rival-{i}"));
        async move { store.claim_token(&c, at(-60_000)).await.unwrap() }
    })
    .await;
    let owners: Vec<usize> = (0..REQUESTS)
        .filter(|&i| claims[i] == Claim::Owned)
        .collect();
    assert_eq!(owners.len(), 1, "{claims:?}");
    let owner = format!("rival-{}", owners[0]);
    let held = Claim::Held {
        request_hash: "request-1".into(),
        claim_id: owner.clone(),
    };
    assert!(claims.iter().all(|c| *c == Claim::Owned || *c == held));
    stores[2].release_token(&claim(&owner)).await.unwrap();

    let (a, b) = (claim("a"), claim("b"));
    assert_eq!(
        stores[0].claim_token(&a, at(-60_000)).await.unwrap(),
        Claim::Owned
    );
    let waiter = {
        let store = stores[1].clone();
        tokio::spawn(async move {
            let started = Instant::now();
            store
                .wait_token(&b, "a", Duration::from_secs(30))
                .await
                .unwrap();
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the claim is still held");
    assert!(
        stores[0]
            .finish_token(&a, &json!({"done": true}))
            .await
            .unwrap()
    );
    let waited = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("a server learns of a claim another server ended within its poll")
        .unwrap();
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_gives_retryable_errors_and_the_store_recovers() {
    let Some(server) = tokio::task::spawn_blocking(PrivateServer::start)
        .await
        .unwrap()
    else {
        return;
    };
    let store = PgStore::open(&PgConfig {
        pool_size: 4,
        connect_timeout: Duration::from_secs(2),
        wait_timeout: Duration::from_secs(3),
        ..PgConfig::new(server.url())
    })
    .await
    .unwrap();
    with_case(&store).await;

    let server = tokio::task::spawn_blocking(move || {
        server.stop();
        server
    })
    .await
    .unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        let read = store.get_case(domain_key().case("case-1")).await;
        assert!(
            matches!(read, Err(StoreError::Unavailable { .. })),
            "{read:?}"
        );
        let write = store
            .insert_case(&case("case-2", "00000002"), &audit("case-2", 1), None, None)
            .await;
        assert!(
            matches!(write, Err(StoreError::Unavailable { .. })),
            "{write:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(30));

    let server = tokio::task::spawn_blocking(move || {
        server.start_again();
        server
    })
    .await
    .unwrap();
    // The pool reconnects by itself; the write refused while the database was down was not made.
    let mut back = None;
    for _ in 0..50 {
        match store.get_case(domain_key().case("case-1")).await {
            Ok(found) => {
                back = Some(found);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    assert!(back.expect("the store recovers").is_some());
    assert!(stored_case(&store, "case-2").await.is_none());
    put_case(&store, &case("case-2", "00000002")).await;
    drop(server);
}

/// A measurement, not a check: CreateCase-shaped writes per second from 64 concurrent callers
/// on one store, next to raw single-row transactions with the same durability. Run by hand:
/// `cargo test --release -p caseload-store --test postgres -- --ignored --nocapture throughput`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn create_case_throughput() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    const CALLERS: usize = 64;
    const RUN: Duration = Duration::from_secs(5);
    let store = Arc::new(
        PgStore::open(&PgConfig {
            pool_size: CALLERS,
            ..db.config()
        })
        .await
        .unwrap(),
    );
    with_domain(&*store).await;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, next) = (store.clone(), next.clone());
            tokio::spawn(async move {
                while started.elapsed() < RUN {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let id = format!("case-{n}");
                    let t = token("CreateCase", &id, "request");
                    store
                        .insert_case(
                            &case(&id, &format!("{n:08}")),
                            &audit(&id, 1),
                            None,
                            Some(&t),
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let made = count(&db, "SELECT count(*) FROM cases").await;
    let store_rate = made as f64 / started.elapsed().as_secs_f64();

    db.client()
        .await
        .batch_execute("CREATE TABLE raw (id BIGINT PRIMARY KEY, body TEXT)")
        .await
        .unwrap();
    let pool = db.pool();
    let next = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (pool, next) = (pool.clone(), next.clone());
            tokio::spawn(async move {
                while started.elapsed() < RUN {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let conn = pool.get().await.unwrap();
                    let st = conn
                        .prepare_cached("INSERT INTO raw VALUES ($1, 'x')")
                        .await
                        .unwrap();
                    conn.execute(&st, &[&n]).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let raw = count(&db, "SELECT count(*) FROM raw").await;
    let raw_rate = raw as f64 / started.elapsed().as_secs_f64();
    println!(
        "CreateCase-shaped inserts: {store_rate:.0}/s; raw single-row transactions: {raw_rate:.0}/s ({CALLERS} callers)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schema_write_of_any_server_moves_the_schema_generation() {
    let Some((stores, _db)) = fleet().await else {
        return;
    };
    let (a, b) = (&stores[0], &stores[1]);
    // The contract answers the database's counter, the same through every server.
    let mut seen = b.schema_generation_now().await.unwrap();
    assert_eq!(a.schema_generation().await.unwrap(), Some(seen));
    let mut moved = |now: u64, what: &str| {
        assert!(
            now > seen,
            "{what} did not move the generation ({seen} → {now})"
        );
        seen = now;
    };

    with_domain(&**a).await;
    moved(b.schema_generation_now().await.unwrap(), "a domain");
    let field = resource(ResourceKind::Field, "f1", "Field");
    a.insert_resource(&field, usize::MAX).await.unwrap();
    moved(b.schema_generation_now().await.unwrap(), "a field");
    let mut renamed = field.clone();
    renamed.name = "Renamed".into();
    assert!(a.replace_resource_if(&renamed, &field).await.unwrap());
    moved(b.schema_generation_now().await.unwrap(), "a field's update");
    a.put_event_config(domain_key(), REGION, &json!({"v": 1}))
        .await
        .unwrap();
    moved(
        b.schema_generation_now().await.unwrap(),
        "an event configuration",
    );
    a.update_domain_tags(domain_key(), &[("k".to_owned(), None)].into())
        .await
        .unwrap();
    moved(b.schema_generation_now().await.unwrap(), "domain tags");

    // Refused schema writes and case writes leave it where it is.
    let unchanged = b.schema_generation_now().await.unwrap();
    assert!(
        a.insert_resource(&resource(ResourceKind::Field, "f2", "Renamed"), usize::MAX)
            .await
            .is_err()
    );
    assert!(!a.replace_resource_if(&renamed, &field).await.unwrap());
    put_case(&**a, &case("case-1", "00000001")).await;
    assert_eq!(b.schema_generation_now().await.unwrap(), unchanged);

    a.delete_domain(domain_key()).await.unwrap();
    moved(
        b.schema_generation_now().await.unwrap(),
        "a domain's deletion",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_counts_its_writes_and_its_pool_for_metrics() {
    use caseload_store::stats::Stats;
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = PgStore::open(&db.config()).await.unwrap();
    let before = store.group_sizes().snapshot();
    let v1 = with_case(&store).await;
    store.update_case(&next(&v1, 1)).await.unwrap();
    // Reads and refused writes are not writes.
    assert!(stored_case(&store, "case-1").await.is_some());
    assert!(store.update_case(&next(&v1, 2)).await.is_err());
    store.events_after(0, None, 10).await.unwrap();
    let after = store.group_sizes().snapshot();
    // A domain, a case and an update, each a group of one.
    assert_eq!(after.writes - before.writes, 3);
    assert_eq!(after.groups - before.groups, 3);
    let pool = store.pool().expect("a pool");
    assert_eq!(pool.max, PgConfig::new("").pool_size);
    assert!(pool.open >= 1 && pool.idle <= pool.open);
    // The search index's position waits for the index feed.
    assert!(matches!(
        store.index_position().await,
        Err(StoreError::Unavailable { .. })
    ));
}
