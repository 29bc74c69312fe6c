//! Domains: uniqueness of names per account and region, the per-account quota, listing, tags,
//! and deleting a domain with everything in it.

use super::*;
use caseload_domain::store::Tags;

pub async fn domains_are_unique_by_name_and_within_quota(store: &dyn Store) {
    store.insert_domain(&domain("d1", "one"), 3).await.unwrap();
    assert_refused(
        store.insert_domain(&domain("d2", "one"), 3).await,
        "Duplicate for a name in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    store.insert_domain(&domain("d3", "two"), 3).await.unwrap();
    // The same name in another region is another domain.
    let mut elsewhere = domain("d4", "one");
    elsewhere.region = "eu-west-1".into();
    store.insert_domain(&elsewhere, 3).await.unwrap();
    assert_refused(
        store.insert_domain(&domain("d5", "three"), 2).await,
        "QuotaExceeded past the quota",
        |e| matches!(e, StoreError::QuotaExceeded),
    );
    assert!(
        store
            .get_domain(DomainKey::new(ACCOUNT, "d5"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_domain(DomainKey::new(ACCOUNT, "d2"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn domains_list_in_id_order_and_page(store: &dyn Store) {
    for id in ["d3", "d1", "d2"] {
        store
            .insert_domain(&domain(id, &format!("name {id}")), usize::MAX)
            .await
            .unwrap();
    }
    let mut other = domain("d0", "other region");
    other.region = "eu-west-1".into();
    store.insert_domain(&other, usize::MAX).await.unwrap();
    let ids = |v: Vec<DomainRecord>| v.into_iter().map(|d| d.domain_id).collect::<Vec<_>>();
    let first = store.list_domains(ACCOUNT, REGION, None, 2).await.unwrap();
    assert_eq!(ids(first), ["d1", "d2"]);
    let rest = store
        .list_domains(ACCOUNT, REGION, Some("d2"), 2)
        .await
        .unwrap();
    assert_eq!(ids(rest), ["d3"]);
    assert!(
        store
            .list_domains("999999999999", REGION, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .get_domain(DomainKey::new(ACCOUNT, "d2"))
            .await
            .unwrap(),
        Some(domain("d2", "name d2"))
    );
    assert_eq!(
        store
            .get_domain(DomainKey::new("999999999999", "d2"))
            .await
            .unwrap(),
        None
    );
}

pub async fn domain_tags_update_and_delete_removes_everything(store: &dyn Store) {
    with_domain(store).await;
    let tags: Tags = [("team".to_owned(), Some("blue".to_owned()))].into();
    assert!(store.update_domain_tags(domain_key(), &tags).await.unwrap());
    assert_eq!(
        store.get_domain(domain_key()).await.unwrap().unwrap().tags,
        tags
    );
    assert!(
        !store
            .update_domain_tags(DomainKey::new(ACCOUNT, "missing"), &tags)
            .await
            .unwrap()
    );

    store
        .insert_resource(&resource(ResourceKind::Field, "f1", "Title"), usize::MAX)
        .await
        .unwrap();
    put_case(store, &case("case-1", "00000001")).await;
    store
        .insert_related_items(&[new_item(item("case-1", "item-1"), 2)], None)
        .await
        .unwrap();

    assert!(store.delete_domain(domain_key()).await.unwrap());
    assert!(store.get_domain(domain_key()).await.unwrap().is_none());
    assert!(stored_case(store, "case-1").await.is_none());
    assert!(
        store
            .get_resource(domain_key().resource(ResourceKind::Field, "f1"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(items_of(store, "case-1").await.is_empty());
    assert!(!store.delete_domain(domain_key()).await.unwrap());
    // The name is free again.
    store
        .insert_domain(&domain("d9", "main"), usize::MAX)
        .await
        .unwrap();
}
