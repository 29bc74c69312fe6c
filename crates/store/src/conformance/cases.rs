//! Cases: a write stores the case with its audit event, its event and its client token at
//! once, or nothing; updates and deletes are optimistic; lookups by key, by reference number
//! and of some fields; SearchCases sees every write that completed before it.

use super::*;
use caseload_domain::store::{CaseQuery, Created, RelatedItemRecord, SortSpec, TokenKey};
use caseload_model::shapes::FieldType;

pub async fn case_insert_writes_audit_event_and_token_together(store: &dyn Store) {
    with_domain(store).await;
    let c = case("case-1", "00000001");
    let t = token("CreateCase", "tok", "request-1");
    let written = store
        .insert_case(&c, &audit("case-1", 1), Some(&event("case-1", 1)), Some(&t))
        .await
        .unwrap();
    assert!(matches!(written, Created::New));
    assert_eq!(stored_case(store, "case-1").await, Some(c.clone()));
    assert_eq!(
        store
            .list_audit(domain_key().case("case-1"), None, 10)
            .await
            .unwrap(),
        [audit("case-1", 1)]
    );
    assert_eq!(event_bodies(store).await, [event("case-1", 1).body]);
    let key = TokenKey::new(domain_key(), "CreateCase", "tok");
    assert_eq!(store.get_idempotency(key).await.unwrap(), Some(t.clone()));

    // The token again, with another case: what was remembered, and nothing written.
    let again = store
        .insert_case(
            &case("case-2", "00000002"),
            &audit("case-2", 2),
            Some(&event("case-2", 2)),
            Some(&token("CreateCase", "tok", "request-2")),
        )
        .await
        .unwrap();
    match again {
        Created::Replayed(seen) => assert_eq!(seen, t),
        Created::New => panic!("a token seen before must replay"),
    }
    assert!(stored_case(store, "case-2").await.is_none());
    assert_eq!(audit_count(store, "case-2").await, 0);
    assert_eq!(event_bodies(store).await.len(), 1);
    // A token is scoped to its operation.
    assert!(
        store
            .get_idempotency(TokenKey::new(domain_key(), "UpdateCase", "tok"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn refused_case_insert_writes_nothing(store: &dyn Store) {
    with_case(store).await;
    let refused = store
        .insert_case(
            &case("case-2", "00000001"),
            &audit("case-2", 2),
            Some(&event("case-2", 2)),
            Some(&token("CreateCase", "tok", "request")),
        )
        .await;
    assert_refused(refused, "Duplicate for a reference number in use", |e| {
        matches!(e, StoreError::Duplicate(_))
    });
    assert!(stored_case(store, "case-2").await.is_none());
    assert_eq!(audit_count(store, "case-2").await, 0);
    assert!(event_bodies(store).await.is_empty());
    let key = TokenKey::new(domain_key(), "CreateCase", "tok");
    assert!(store.get_idempotency(key).await.unwrap().is_none());
}

pub async fn case_lookups_by_key_fields_and_reference(store: &dyn Store) {
    let c = with_case(store).await;
    let some = store
        .get_case_fields(
            domain_key().case("case-1"),
            &["title".into(), "nope".into()],
        )
        .await
        .unwrap()
        .unwrap();
    let mut expected = c.clone();
    expected.fields.retain(|id, _| id == "title");
    assert_eq!(some, expected);
    assert_eq!(
        store
            .get_case_by_reference(domain_key(), "00000001")
            .await
            .unwrap(),
        Some(c.clone())
    );
    assert!(
        store
            .get_case_by_reference(domain_key(), "00000002")
            .await
            .unwrap()
            .is_none()
    );
    assert!(stored_case(store, "case-9").await.is_none());
    // Keys are scoped to their account and domain.
    let elsewhere = DomainKey::new(ACCOUNT, "domain-2").case("case-1");
    assert!(store.get_case(elsewhere.clone()).await.unwrap().is_none());
    assert!(
        store
            .get_case_fields(elsewhere, &["title".into()])
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn case_updates_are_optimistic_and_audited(store: &dyn Store) {
    with_domain(store).await;
    let v1 = case("case-1", "00000001");
    store
        .insert_case(&v1, &audit("case-1", 1), Some(&event("case-1", 1)), None)
        .await
        .unwrap();
    let v2 = next(&v1, 2);
    store
        .update_case_with_items(
            &v2,
            Some(&audit("case-1", 2)),
            Some(&event("case-1", 2)),
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(stored_case(store, "case-1").await, Some(v2.clone()));

    // Another writer that also read v1: refused, and nothing of it written.
    let mut rival = next(&v1, 3);
    rival
        .fields
        .insert("title".into(), Value::String("lost".into()));
    assert_refused(
        store
            .update_case_with_items(
                &rival,
                Some(&audit("case-1", 3)),
                Some(&event("case-1", 3)),
                &[],
                None,
            )
            .await,
        "VersionMismatch for a stale version",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_eq!(stored_case(store, "case-1").await, Some(v2.clone()));
    assert_eq!(audit_count(store, "case-1").await, 2);
    assert_eq!(event_bodies(store).await.len(), 2);

    // An update without an audit event (a tag change).
    let mut v3 = next(&v2, 4);
    v3.tags = [("k".to_owned(), None)].into();
    store.update_case(&v3).await.unwrap();
    assert_eq!(stored_case(store, "case-1").await, Some(v3.clone()));
    assert_eq!(audit_count(store, "case-1").await, 2);

    // Audit events come newest first and page by event id.
    let page = store
        .list_audit(domain_key().case("case-1"), None, 1)
        .await
        .unwrap();
    assert_eq!(page, [audit("case-1", 2)]);
    let rest = store
        .list_audit(domain_key().case("case-1"), Some(&page[0].event_id), 10)
        .await
        .unwrap();
    assert_eq!(rest, [audit("case-1", 1)]);

    assert_refused(
        store
            .update_case(&next(&case("case-9", "00000009"), 5))
            .await,
        "VersionMismatch for a case that does not exist",
        |e| matches!(e, StoreError::VersionMismatch),
    );
}

pub async fn case_update_moves_items_atomically(store: &dyn Store) {
    let v1 = with_case_and_item(store).await;
    let first = read_item(store, "case-1", "item-1").await;
    let mut i2 = first.clone();
    i2.version = 2;
    i2.body = json!({"v": 2});
    let v2 = next(&v1, 3);
    store
        .update_case_with_items(&v2, Some(&audit("case-1", 3)), None, &[i2.clone()], None)
        .await
        .unwrap();
    assert_eq!(read_item(store, "case-1", "item-1").await, i2);

    // The item changed since (its version is no longer 2): the case is not written either.
    let v3 = next(&v2, 4);
    assert_refused(
        store
            .update_case_with_items(&v3, Some(&audit("case-1", 4)), None, &[i2.clone()], None)
            .await,
        "VersionMismatch for a stale item",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_eq!(stored_case(store, "case-1").await, Some(v2));
    assert_eq!(audit_count(store, "case-1").await, 3);
}

/// The related item `id` of the case `case_id`, as stored.
pub async fn read_item(store: &dyn Store, case_id: &str, id: &str) -> RelatedItemRecord {
    store
        .get_related_item(domain_key().case(case_id).item(id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("related item {id} is not stored"))
}

pub async fn case_delete_is_optimistic_and_removes_everything(store: &dyn Store) {
    let v1 = with_case_and_item(store).await;
    let v2 = next(&v1, 3);
    store
        .update_case_with_items(&v2, Some(&audit("case-1", 3)), None, &[], None)
        .await
        .unwrap();
    let before = event_bodies(store).await.len();

    // A delete decided on a version that is no longer stored is refused.
    assert_refused(
        store.delete_case(&v1, Some(&event("case-1", 4))).await,
        "VersionMismatch for a stale version",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_eq!(stored_case(store, "case-1").await, Some(v2.clone()));
    assert_eq!(event_bodies(store).await.len(), before);

    store
        .delete_case(&v2, Some(&event("case-1", 5)))
        .await
        .unwrap();
    assert!(stored_case(store, "case-1").await.is_none());
    assert_eq!(audit_count(store, "case-1").await, 0);
    assert!(items_of(store, "case-1").await.is_empty());
    assert!(
        store
            .get_case_by_reference(domain_key(), "00000001")
            .await
            .unwrap()
            .is_none()
    );
    let events = event_bodies(store).await;
    assert_eq!(events.last(), Some(&event("case-1", 5).body));
    assert_refused(
        store.delete_case(&v2, None).await,
        "VersionMismatch for a case already deleted",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    // Its reference number is free again.
    put_case(store, &case("case-2", "00000001")).await;
}

/// Every case of `DOMAIN`, newest update first, `limit` to a page.
pub fn all_cases_query(limit: usize) -> CaseQuery {
    CaseQuery {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        filter: None,
        search_terms: vec![],
        term_fields: Default::default(),
        sorts: vec![SortSpec {
            field_id: caseload_domain::search::DEFAULT_SORT_FIELD.into(),
            field_type: FieldType::DateTime,
            descending: true,
        }],
        after: None,
        limit,
    }
}

pub async fn search_reads_its_writes_and_pages(store: &dyn Store) {
    with_domain(store).await;
    for i in 1..=3 {
        let mut c = case(&format!("case-{i}"), &format!("0000000{i}"));
        c.fields.insert(
            caseload_domain::search::DEFAULT_SORT_FIELD.into(),
            Value::String(at(i).to_iso8601()),
        );
        put_case(store, &c).await;
    }
    let page = store.search_cases(&all_cases_query(2)).await.unwrap();
    assert_eq!(page.total, 3);
    assert!(page.more);
    let ids: Vec<&str> = page.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, ["case-3", "case-2"]);

    let gone = stored_case(store, "case-3").await.unwrap();
    store.delete_case(&gone, None).await.unwrap();
    let page = store.search_cases(&all_cases_query(10)).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(!page.more);
    let ids: Vec<&str> = page.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, ["case-2", "case-1"]);
}
