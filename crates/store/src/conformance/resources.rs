//! Schema resources (fields, templates, layouts, case rules): names unique among the live
//! records of a kind, the quota, soft deletion, listing, and compare-and-replace.

use super::*;

pub async fn resource_names_are_unique_among_live_records_of_a_kind(store: &dyn Store) {
    with_domain(store).await;
    let f1 = resource(ResourceKind::Field, "f1", "Title");
    store.insert_resource(&f1, 2).await.unwrap();
    assert_refused(
        store
            .insert_resource(&resource(ResourceKind::Field, "f2", "Title"), 2)
            .await,
        "Duplicate for a name in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    // Another kind may use the name.
    store
        .insert_resource(&resource(ResourceKind::Template, "t1", "Title"), 2)
        .await
        .unwrap();
    store
        .insert_resource(&resource(ResourceKind::Field, "f3", "Status"), 2)
        .await
        .unwrap();
    assert_refused(
        store
            .insert_resource(&resource(ResourceKind::Field, "f4", "Other"), 2)
            .await,
        "QuotaExceeded past the quota",
        |e| matches!(e, StoreError::QuotaExceeded),
    );
    // A deleted record frees its name and its place in the quota.
    let mut deleted = f1.clone();
    deleted.deleted = true;
    assert!(store.replace_resource_if(&deleted, &f1).await.unwrap());
    store
        .insert_resource(&resource(ResourceKind::Field, "f5", "Title"), 2)
        .await
        .unwrap();
}

pub async fn resources_list_count_and_soft_delete(store: &dyn Store) {
    with_domain(store).await;
    for (id, name) in [("f3", "c"), ("f1", "a"), ("f2", "b")] {
        store
            .insert_resource(&resource(ResourceKind::Field, id, name), usize::MAX)
            .await
            .unwrap();
    }
    store
        .insert_resource(&resource(ResourceKind::Layout, "l1", "a"), usize::MAX)
        .await
        .unwrap();
    let ids = |v: Vec<ResourceRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let list = |after: Option<&'static str>, limit, deleted| {
        store.list_resources(domain_key(), ResourceKind::Field, after, limit, deleted)
    };
    assert_eq!(ids(list(None, 2, false).await.unwrap()), ["f1", "f2"]);
    assert_eq!(ids(list(Some("f2"), 2, false).await.unwrap()), ["f3"]);

    let f2 = store
        .get_resource(domain_key().resource(ResourceKind::Field, "f2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f2, resource(ResourceKind::Field, "f2", "b"));
    let mut gone = f2.clone();
    gone.deleted = true;
    gone.modified = at(5);
    assert!(store.replace_resource_if(&gone, &f2).await.unwrap());
    assert_eq!(ids(list(None, 10, false).await.unwrap()), ["f1", "f3"]);
    assert_eq!(ids(list(None, 10, true).await.unwrap()), ["f1", "f2", "f3"]);
    // A deleted record is still read by its id.
    assert_eq!(
        store
            .get_resource(domain_key().resource(ResourceKind::Field, "f2"))
            .await
            .unwrap(),
        Some(gone)
    );
    let count = |deleted| store.count_resources(domain_key(), ResourceKind::Field, deleted);
    assert_eq!(count(false).await.unwrap(), 2);
    assert_eq!(count(true).await.unwrap(), 1);
    assert_eq!(
        store
            .count_resources(domain_key(), ResourceKind::Layout, false)
            .await
            .unwrap(),
        1
    );
}

pub async fn resource_replace_refuses_a_stale_prior(store: &dyn Store) {
    with_domain(store).await;
    let one = resource(ResourceKind::Field, "f1", "one");
    let two = resource(ResourceKind::Field, "f2", "two");
    store.insert_resource(&one, usize::MAX).await.unwrap();
    store.insert_resource(&two, usize::MAX).await.unwrap();

    let mut renamed = one.clone();
    renamed.name = "uno".into();
    assert!(store.replace_resource_if(&renamed, &one).await.unwrap());
    // A writer that read `one` before the rename must not overwrite it.
    let mut stale = one.clone();
    stale.body = json!({"lost": true});
    assert!(!store.replace_resource_if(&stale, &one).await.unwrap());
    let key = domain_key().resource(ResourceKind::Field, "f1");
    assert_eq!(
        store.get_resource(key).await.unwrap(),
        Some(renamed.clone())
    );

    let mut clash = renamed.clone();
    clash.name = "two".into();
    assert_refused(
        store.replace_resource_if(&clash, &renamed).await,
        "Duplicate for a name in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    let absent = resource(ResourceKind::Field, "f9", "nine");
    assert!(!store.replace_resource_if(&absent, &absent).await.unwrap());
    assert!(
        store
            .get_resource(domain_key().resource(ResourceKind::Field, "f9"))
            .await
            .unwrap()
            .is_none()
    );
}
