//! I/O failures injected on every write path (`fail` fault points, see `caseload_store`'s
//! `fault` module): the database's write transactions and their commit, the WAL's writes and
//! sync, the search index's files, the change log's pruning, the event outbox. Whatever fails, an
//! acknowledged write is durable and searchable once the fault clears (and after reopening),
//! and a refused write changes nothing: no case, no search hit, no event.
//!
//! Run with `cargo test -p caseload-store --features failpoints --test faults`. Fault points are
//! process-wide, so each test holds a `fail::FailScenario`, which runs them one at a time.

mod common;

use caseload_domain::Service;
use caseload_domain::store::Store;
use caseload_model::shapes::*;
use caseload_model::{CasesApi, Error};
use caseload_store::SqliteStore;
use common::{TempDir, ctx};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A store on a data directory and the service over it.
struct Env {
    store: Arc<SqliteStore>,
    svc: Service,
}

impl Env {
    async fn open(dir: &Path, search_wait: Duration) -> Env {
        let store = Arc::new(
            SqliteStore::open(dir)
                .unwrap()
                .with_search_wait(search_wait),
        );
        let svc = common::service(store.clone()).await;
        Env { store, svc }
    }

    /// Closes the store and waits until its threads let go of the data directory.
    async fn reopen(self, dir: &Path) -> Env {
        drop(self);
        let store = Arc::new(common::reopen(dir, SqliteStore::open));
        let svc = common::service(store.clone()).await;
        Env { store, svc }
    }

    /// A domain with event delivery on (so case writes append to the outbox) and a template.
    async fn domain(&self) -> (String, String) {
        let (d, t) = common::domain_with_template(&self.svc, "f").await;
        self.svc
            .put_case_event_configuration(
                &ctx(),
                serde_json::from_value(json!({
                    "domainId": d,
                    "eventBridge": {"enabled": true, "includedData": {"caseData": {"fields": [{"id": "title"}]}}}
                }))
                .unwrap(),
            )
            .await
            .unwrap();
        (d, t)
    }

    async fn create(&self, (d, t): &(String, String), title: &str) -> Result<String, Error> {
        let r = self
            .svc
            .create_case(
                &ctx(),
                serde_json::from_value(json!({
                    "domainId": d, "templateId": t,
                    "fields": [{"id": "title", "value": {"stringValue": title}}]
                }))
                .unwrap(),
            )
            .await?;
        Ok(r.case_id)
    }

    async fn update(&self, d: &str, case_id: &str, title: &str) -> Result<(), Error> {
        self.svc
            .update_case(
                &ctx(),
                serde_json::from_value(json!({
                    "domainId": d, "caseId": case_id,
                    "fields": [{"id": "title", "value": {"stringValue": title}}]
                }))
                .unwrap(),
            )
            .await
            .map(|_| ())
    }

    /// The case's title, or `None` when there is no such case.
    async fn title(&self, d: &str, case_id: &str) -> Option<String> {
        let r = self
            .svc
            .get_case(
                &ctx(),
                serde_json::from_value(
                    json!({"domainId": d, "caseId": case_id, "fields": [{"id": "title"}]}),
                )
                .unwrap(),
            )
            .await;
        match r {
            Ok(r) => r.fields.into_iter().find_map(|f| match f.value {
                FieldValueUnion::StringValue(s) => Some(s),
                _ => None,
            }),
            Err(Error::NotFound { .. }) => None,
            Err(e) => panic!("GetCase failed: {e}"),
        }
    }

    /// SearchCases over the whole domain: the total and the ids.
    async fn search(&self, d: &str) -> Result<(i64, Vec<String>), Error> {
        let r = self
            .svc
            .search_cases(
                &ctx(),
                serde_json::from_value(json!({"domainId": d, "maxResults": 25})).unwrap(),
            )
            .await?;
        let mut ids: Vec<String> = r.cases.into_iter().flatten().map(|c| c.case_id).collect();
        ids.sort();
        Ok((r.total_count.unwrap_or(-1), ids))
    }

    /// Searches for a title: the ids found.
    async fn search_title(&self, d: &str, title: &str) -> Vec<String> {
        let r = self
            .svc
            .search_cases(
                &ctx(),
                serde_json::from_value(json!({
                    "domainId": d, "maxResults": 25,
                    "filter": {"field": {"equalTo": {"id": "title", "value": {"stringValue": title}}}}
                }))
                .unwrap(),
            )
            .await
            .unwrap();
        r.cases.into_iter().flatten().map(|c| c.case_id).collect()
    }

    async fn events(&self) -> i64 {
        self.store.last_event_seq().await.unwrap()
    }

    /// Waits until the indexer reports a failure (it retries on its own).
    async fn index_failing(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.store.index_status().failing.is_none() {
            assert!(Instant::now() < deadline, "the indexer never failed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every acknowledged case can be read, is counted and found by search, and the index agrees
/// with the database case by case.
async fn all_there(env: &Env, d: &str, acknowledged: &[(String, String)]) {
    for (id, title) in acknowledged {
        assert_eq!(
            env.title(d, id).await.as_deref(),
            Some(title.as_str()),
            "{id}"
        );
        assert_eq!(
            env.search_title(d, title).await,
            vec![id.clone()],
            "{title}"
        );
    }
    let (total, _) = env.search(d).await.unwrap();
    assert_eq!(total, acknowledged.len() as i64);
    assert_eq!(env.store.check_index().await.unwrap(), vec![]);
}

/// The indexer's writes fail (as on a full disk) while cases keep being acknowledged: once the
/// fault clears, every one of them is searchable, also after reopening. Before the fix the
/// indexer advanced its position past the batch whose commit failed, committed that position
/// with the next commit and pruned the log: the batch was never searchable, not even after a
/// restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_write_failures_lose_no_acknowledged_case() {
    let scenario = fail::FailScenario::setup();
    let dir = TempDir::new("index-write");
    let env = Env::open(dir.path(), Duration::from_secs(30)).await;
    let dt = env.domain().await;
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let title = format!("before {i}");
        acknowledged.push((env.create(&dt, &title).await.unwrap(), title));
    }
    assert_eq!(env.search(&dt.0).await.unwrap().0, 3);

    fail::cfg("index.write", "return").unwrap();
    for i in 0..5 {
        let title = format!("during {i}");
        acknowledged.push((env.create(&dt, &title).await.unwrap(), title));
    }
    env.index_failing().await;
    fail::remove("index.write");

    all_there(&env, &dt.0, &acknowledged).await;
    let env = env.reopen(dir.path()).await;
    all_there(&env, &dt.0, &acknowledged).await;
    scenario.teardown();
}

/// While the index cannot commit, a search answers `Unavailable` (InternalServerException with
/// Retry-After on the wire) within its bound instead of waiting without end, and succeeds by
/// itself once the indexer recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_give_up_within_the_bound_and_recover_by_themselves() {
    let scenario = fail::FailScenario::setup();
    let dir = TempDir::new("bound");
    let env = Env::open(dir.path(), Duration::from_millis(300)).await;
    let dt = env.domain().await;
    let first = env.create(&dt, "first").await.unwrap();
    // Without a bound here: on a busy machine a commit can take longer than the test's bound.
    env.store.wait_indexed().await.unwrap();
    assert_eq!(env.search(&dt.0).await.unwrap(), (1, vec![first.clone()]));

    fail::cfg("index.write", "return").unwrap();
    let second = env.create(&dt, "second").await.unwrap();
    let started = Instant::now();
    let refused = env.search(&dt.0).await;
    assert!(
        matches!(refused, Err(Error::Unavailable { retry_after_seconds }) if retry_after_seconds >= 1),
        "{refused:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(env.store.readiness().await.is_err());

    fail::remove("index.write");
    let mut ids = vec![first, second];
    ids.sort();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match env.search(&dt.0).await {
            Ok(found) => {
                assert_eq!(found, (2, ids));
                break;
            }
            Err(Error::Unavailable { .. }) if Instant::now() < deadline => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(env.store.readiness().await, Ok(()));
    scenario.teardown();
}

/// How a fault point treats the case writes made while it is active.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Effect {
    /// They are refused and change nothing.
    Refused,
    /// They are acknowledged (the fault is on a background path).
    Acknowledged,
}

/// Each write-path fault point, active during a create and an update, then cleared: refused
/// writes changed nothing, acknowledged ones are durable and searchable, before and after
/// reopening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_fault_leaves_acknowledged_durable_and_refused_unchanged() {
    let points = [
        ("sqlite.commit", Effect::Refused),
        ("outbox.append", Effect::Refused),
        ("changes.prune", Effect::Acknowledged),
        ("sqlite.wal_sync", Effect::Refused),
        ("sqlite.wal_write", Effect::Refused),
    ];
    for (point, effect) in points {
        let scenario = fail::FailScenario::setup();
        let dir = TempDir::new(point);
        let env = Env::open(dir.path(), Duration::from_secs(30)).await;
        let dt = env.domain().await;
        let d = dt.0.clone();
        let a = env.create(&dt, "a").await.unwrap();
        let mut acknowledged = vec![(a.clone(), "a".to_owned())];
        assert_eq!(env.search(&d).await.unwrap().0, 1);
        let events = env.events().await;

        fail::cfg(point, "return").unwrap();
        let created = env.create(&dt, "b").await;
        let updated = env.update(&d, &a, "a2").await;
        match effect {
            Effect::Refused => {
                assert!(created.is_err(), "{point}: {created:?}");
                assert!(updated.is_err(), "{point}: {updated:?}");
            }
            Effect::Acknowledged => {
                acknowledged.push((created.unwrap(), "b".to_owned()));
                updated.unwrap();
                acknowledged[0].1 = "a2".into();
            }
        }
        fail::remove(point);

        if effect == Effect::Refused {
            // Nothing of the refused writes: no case, no new title, no event.
            assert_eq!(env.title(&d, &a).await.as_deref(), Some("a"), "{point}");
            assert_eq!(
                env.search(&d).await.unwrap(),
                (1, vec![a.clone()]),
                "{point}"
            );
            assert!(env.search_title(&d, "b").await.is_empty(), "{point}");
            assert_eq!(env.events().await, events, "{point}");
        }
        let c = env.create(&dt, "c").await.unwrap();
        acknowledged.push((c, "c".into()));
        all_there(&env, &d, &acknowledged).await;
        let env = env.reopen(dir.path()).await;
        all_there(&env, &d, &acknowledged).await;
        drop(env);
        scenario.teardown();
    }
}

/// The database files as a process killed now would leave them (the kernel's page cache holds
/// what SQLite wrote, synced or not), copied to `to` and opened there: SQLite's recovery reads
/// the WAL's frames as committed as far as their checksums chain.
fn as_after_a_crash(dir: &Path, to: &Path) -> rusqlite::Connection {
    for name in ["caseload.sqlite3", "caseload.sqlite3-wal"] {
        std::fs::copy(dir.join(name), to.join(name)).unwrap();
    }
    rusqlite::Connection::open(to.join("caseload.sqlite3")).unwrap()
}

/// Concurrent writes while SQLite cannot sync the WAL: each group's commit fails, so every one
/// of them is refused, and none is anywhere: not in GetCase, not in SearchCases (the indexer
/// reads the change log, which never had them), not in the event outbox, and not in the
/// database files either, which SQLite's recovery would read after a crash. Before, each write
/// committed on its own and the sync came after: refused writes were stored, visible and
/// indexed. The writes acknowledged before are all there, and writing works again once the
/// sync does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_whose_wal_sync_failed_are_nowhere_not_even_after_a_crash() {
    let scenario = fail::FailScenario::setup();
    let dir = TempDir::new("wal-sync");
    let crashed = TempDir::new("wal-sync-crashed");
    let env = Env::open(dir.path(), Duration::from_secs(30)).await;
    let dt = env.domain().await;
    let d = dt.0.clone();
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let title = format!("before {i}");
        acknowledged.push((env.create(&dt, &title).await.unwrap(), title));
    }
    let first = acknowledged[0].0.clone();
    env.store.wait_indexed().await.unwrap();
    let events = env.events().await;

    fail::cfg("sqlite.wal_sync", "return").unwrap();
    let refused = tokio::join!(
        env.create(&dt, "refused 0"),
        env.create(&dt, "refused 1"),
        env.create(&dt, "refused 2"),
        env.create(&dt, "refused 3"),
        env.update(&d, &first, "refused update"),
    );
    let refused = [
        refused.0.map(|_| ()),
        refused.1.map(|_| ()),
        refused.2.map(|_| ()),
        refused.3.map(|_| ()),
        refused.4,
    ];
    for r in &refused {
        assert!(matches!(r, Err(Error::Internal(_))), "{r:?}");
    }
    let files = as_after_a_crash(dir.path(), crashed.path());
    fail::remove("sqlite.wal_sync");

    let count = |sql: &str| -> i64 { files.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM cases"), 3);
    assert_eq!(
        count("SELECT count(*) FROM cases WHERE fields LIKE '%refused%'"),
        0
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM events WHERE seq > {events}")),
        0
    );

    assert_eq!(env.title(&d, &first).await.as_deref(), Some("before 0"));
    for i in 0..4 {
        assert!(
            env.search_title(&d, &format!("refused {i}"))
                .await
                .is_empty()
        );
    }
    assert!(env.search_title(&d, "refused update").await.is_empty());
    assert_eq!(env.events().await, events);
    let after = env.create(&dt, "after").await.unwrap();
    acknowledged.push((after, "after".into()));
    all_there(&env, &d, &acknowledged).await;
    let env = env.reopen(dir.path()).await;
    all_there(&env, &d, &acknowledged).await;
    drop(env);
    scenario.teardown();
}

/// Sixteen writers while 3% of SQLite's WAL writes fail (a commit writes a frame per page): the writes queue into groups,
/// a failure refuses its whole group, and afterwards exactly the acknowledged cases exist, each
/// found by GetCase and by SearchCases, and none of the refused ones, also after reopening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_failing_commits_a_case_is_stored_if_and_only_if_it_was_acknowledged() {
    let scenario = fail::FailScenario::setup();
    let dir = TempDir::new("iff");
    let env = Arc::new(Env::open(dir.path(), Duration::from_secs(30)).await);
    let dt = env.domain().await;
    let before = env.create(&dt, "before").await.unwrap();

    fail::cfg("sqlite.wal_write", "3%return").unwrap();
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let (env, dt) = (env.clone(), dt.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in 0..8 {
                    let title = format!("w{w} n{i}");
                    out.push((env.create(&dt, &title).await, title));
                }
                out
            })
        })
        .collect();
    let mut acknowledged = vec![(before, "before".to_owned())];
    let mut refused = Vec::new();
    for w in writers {
        for (r, title) in w.await.unwrap() {
            match r {
                Ok(id) => acknowledged.push((id, title)),
                Err(Error::Internal(_)) => refused.push(title),
                Err(e) => panic!("{title}: {e}"),
            }
        }
    }
    fail::remove("sqlite.wal_write");
    assert!(
        !refused.is_empty(),
        "no write was refused: the test tested nothing"
    );
    assert!(acknowledged.len() > 1, "no write was acknowledged");

    let env = Arc::into_inner(env).unwrap();
    for title in &refused {
        assert!(env.search_title(&dt.0, title).await.is_empty(), "{title}");
    }
    all_there(&env, &dt.0, &acknowledged).await;
    let env = env.reopen(dir.path()).await;
    for title in &refused {
        assert!(env.search_title(&dt.0, title).await.is_empty(), "{title}");
    }
    all_there(&env, &dt.0, &acknowledged).await;
    drop(env);
    scenario.teardown();
}
