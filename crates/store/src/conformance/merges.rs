//! Merges: a case takes part in one running merge and is merged away once; a merge's outcome
//! (both cases with their audit events and events, its items, the merge completed) is written
//! whole or not at all.

use super::cases::read_item;
use super::*;
use caseload_domain::store::{MergeFinish, MergeRecord, MergeStart};

fn merge(id: &str, primary: &str, secondary: &str) -> MergeRecord {
    MergeRecord {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        merge_id: id.into(),
        primary_case_id: primary.into(),
        secondary_case_id: secondary.into(),
        completed: false,
        started: at(1),
        body: json!({"v": 1, "merge": id}),
    }
}

/// Stores the cases `p`, `s` and `o` and an item of `s`; returns them.
async fn three_cases(store: &dyn Store) -> [CaseRecord; 3] {
    with_domain(store).await;
    let cases = [
        case("p", "00000001"),
        case("s", "00000002"),
        case("o", "00000003"),
    ];
    for c in &cases {
        put_case(store, c).await;
    }
    store
        .insert_related_items(&[new_item(item("s", "s-item"), 1)], None)
        .await
        .unwrap();
    cases
}

/// The outcome of merging `s` into `p`: both cases one version on, `s`'s item moved to `p`,
/// a link from `p` to `s`, and the two cases' events.
async fn outcome(
    store: &dyn Store,
    m: &MergeRecord,
    p: &CaseRecord,
    s: &CaseRecord,
) -> MergeFinish {
    let mut moved = read_item(store, "s", "s-item").await;
    moved.case_id = "p".into();
    moved.version += 1;
    let mut completed = m.clone();
    completed.completed = true;
    MergeFinish {
        merge: completed,
        primary: Some((next(p, 5), audit("p", 5))),
        secondary: Some((next(s, 5), audit("s", 5))),
        changed_items: vec![moved],
        removed_items: vec![],
        new_items: vec![item("p", "link-p-s")],
        events: vec![event("p", 5), event("s", 5)],
    }
}

pub async fn merges_start_once_per_case_and_finish_atomically(store: &dyn Store) {
    let [p, s, _] = three_cases(store).await;
    let m = merge("m1", "p", "s");
    assert_eq!(store.start_merge(&m).await.unwrap(), MergeStart::Started);
    assert_eq!(
        store.start_merge(&merge("m2", "o", "s")).await.unwrap(),
        MergeStart::Busy("s".into())
    );
    assert_eq!(
        store.start_merge(&merge("m2", "p", "o")).await.unwrap(),
        MergeStart::Busy("p".into())
    );
    assert_eq!(
        store.running_merges(10).await.unwrap(),
        std::slice::from_ref(&m)
    );
    assert_eq!(
        store.merges_of_case(domain_key().case("s")).await.unwrap(),
        std::slice::from_ref(&m)
    );
    assert!(
        store
            .merges_of_case(domain_key().case("o"))
            .await
            .unwrap()
            .is_empty()
    );

    let finish = outcome(store, &m, &p, &s).await;
    store.finish_merge(&finish).await.unwrap();
    assert!(store.running_merges(10).await.unwrap().is_empty());
    assert!(store.merges_of_case(domain_key().case("p")).await.unwrap()[0].completed);
    assert_eq!(stored_case(store, "p").await, Some(next(&p, 5)));
    assert_eq!(stored_case(store, "s").await, Some(next(&s, 5)));
    assert_eq!(audit_count(store, "p").await, 2);
    assert_eq!(audit_count(store, "s").await, 3);
    assert_eq!(
        event_bodies(store).await,
        [event("s", 1).body, event("p", 5).body, event("s", 5).body]
    );
    let items = items_of(store, "p").await;
    let mut ids: Vec<&str> = items.iter().map(|i| i.related_item_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["link-p-s", "s-item"]);
    assert!(items_of(store, "s").await.is_empty());

    // The former secondary cannot be merged again, either way; the primary can.
    assert_eq!(
        store.start_merge(&merge("m3", "o", "s")).await.unwrap(),
        MergeStart::MergedBefore("s".into())
    );
    assert_eq!(
        store.start_merge(&merge("m3", "s", "o")).await.unwrap(),
        MergeStart::MergedBefore("s".into())
    );
    assert_eq!(
        store.start_merge(&merge("m3", "p", "o")).await.unwrap(),
        MergeStart::Started
    );
}

pub async fn refused_merge_finish_writes_nothing(store: &dyn Store) {
    let [p, s, _] = three_cases(store).await;
    let m = merge("m1", "p", "s");
    assert_eq!(store.start_merge(&m).await.unwrap(), MergeStart::Started);
    let finish = outcome(store, &m, &p, &s).await;
    // The primary changed after the outcome was computed.
    let p2 = next(&p, 3);
    store
        .update_case_with_items(&p2, Some(&audit("p", 3)), None, &[], None)
        .await
        .unwrap();
    let events_before = event_bodies(store).await;
    assert_refused(
        store.finish_merge(&finish).await,
        "VersionMismatch for a case changed since read",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_eq!(stored_case(store, "p").await, Some(p2));
    assert_eq!(stored_case(store, "s").await, Some(s));
    assert_eq!(audit_count(store, "s").await, 2);
    assert_eq!(read_item(store, "s", "s-item").await.case_id, "s");
    assert!(
        store
            .get_related_item(domain_key().case("p").item("link-p-s"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(event_bodies(store).await, events_before);
    assert_eq!(store.running_merges(10).await.unwrap(), [m]);
}
