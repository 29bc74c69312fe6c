//! Bulk transfer (`caseload export` / `caseload import`): cases and related items listed in a
//! stable order for paging, and imported in atomic batches.

use super::*;

pub async fn bulk_cases_list_in_id_order_and_import_atomically(store: &dyn Store) {
    with_domain(store).await;
    let (c1, c2) = (case("case-1", "00000001"), case("case-2", "00000002"));
    store
        .import_cases(vec![c2.clone(), c1.clone()])
        .await
        .unwrap();
    let first = store.list_cases(domain_key(), None, 1).await.unwrap();
    assert_eq!(first, std::slice::from_ref(&c1));
    let rest = store
        .list_cases(domain_key(), Some("case-1"), 10)
        .await
        .unwrap();
    assert_eq!(rest, std::slice::from_ref(&c2));
    // An import is not an API write: no audit events, no events.
    assert_eq!(audit_count(store, "case-1").await, 0);
    assert!(event_bodies(store).await.is_empty());

    // A batch with one case whose id or reference number is taken is refused whole.
    let c3 = case("case-3", "00000003");
    assert_refused(
        store
            .import_cases(vec![c3.clone(), case("case-1", "00000009")])
            .await,
        "Duplicate for a case id in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    assert_refused(
        store
            .import_cases(vec![c3.clone(), case("case-4", "00000002")])
            .await,
        "Duplicate for a reference number in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    assert!(stored_case(store, "case-3").await.is_none());
}

pub async fn search_sees_imported_cases(store: &dyn Store) {
    with_domain(store).await;
    store
        .import_cases(vec![case("case-1", "00000001"), case("case-2", "00000002")])
        .await
        .unwrap();
    // A refused batch leaves nothing for search to find either.
    assert_refused(
        store
            .import_cases(vec![case("case-3", "00000003"), case("case-1", "00000009")])
            .await,
        "Duplicate for a case id in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    let page = store
        .search_cases(&super::cases::all_cases_query(10))
        .await
        .unwrap();
    assert_eq!(page.total, 2);
}

pub async fn bulk_related_items_list_in_case_order_and_import_atomically(store: &dyn Store) {
    with_domain(store).await;
    store
        .import_cases(vec![case("case-1", "00000001"), case("case-2", "00000002")])
        .await
        .unwrap();
    let items = vec![
        item("case-2", "a"),
        item("case-1", "b"),
        item("case-2", "c"),
        item("case-1", "d"),
    ];
    store.import_related_items(items).await.unwrap();
    assert!(event_bodies(store).await.is_empty());
    let first = store
        .list_domain_related_items(domain_key(), None, 3)
        .await
        .unwrap();
    let ids: Vec<&str> = first.iter().map(|i| i.related_item_id.as_str()).collect();
    // By case, then in insertion order.
    assert_eq!(ids, ["b", "d", "a"]);
    let last = &first[2];
    let rest = store
        .list_domain_related_items(domain_key(), Some((&last.case_id, last.seq)), 3)
        .await
        .unwrap();
    let ids: Vec<&str> = rest.iter().map(|i| i.related_item_id.as_str()).collect();
    assert_eq!(ids, ["c"]);

    assert_refused(
        store
            .import_related_items(vec![item("case-1", "e"), item("case-2", "a")])
            .await,
        "Duplicate for an item id in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
    assert!(
        store
            .get_related_item(domain_key().case("case-1").item("e"))
            .await
            .unwrap()
            .is_none()
    );
}
