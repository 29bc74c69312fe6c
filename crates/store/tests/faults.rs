//! I/O failures injected on every write path (`fail` fault points, see `caseload_store`'s
//! `fault` module): the database's write transactions and their commit, the WAL's sync, the
//! search index's files, the change log's pruning, the event outbox. Whatever fails, an
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
    /// They are answered with an error after their transaction committed, so they may or may
    /// not be there: all or nothing of each, and the index agrees with the database.
    Unknown,
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
        ("sqlite.wal_sync", Effect::Unknown),
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
            Effect::Unknown => {
                assert!(created.is_err() && updated.is_err(), "{point}");
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
        if effect == Effect::Unknown {
            // Whatever survived is whole: a search counts exactly the cases GetCase finds.
            let title = env.title(&d, &a).await.unwrap();
            acknowledged[0].1 = title;
            if let Some(b) = env.search_title(&d, "b").await.first() {
                acknowledged.push((b.clone(), "b".into()));
            }
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
