//! Related items: a batch is written whole (items, audit events, events, case updates, token)
//! or not at all; quotas per case and per type; optimistic updates and deletes; reading back in
//! insertion order; the cases of a contact.

use super::cases::read_item;
use super::*;
use caseload_domain::store::Created;

fn ids(items: &[RelatedItemRecord]) -> Vec<&str> {
    items.iter().map(|i| i.related_item_id.as_str()).collect()
}

pub async fn related_item_inserts_check_quotas_and_their_case(store: &dyn Store) {
    let c = with_case(store).await;
    let quota = |mut n: NewRelatedItem, in_case, of_type| {
        n.max_in_case = in_case;
        n.max_of_type = of_type;
        n
    };
    store
        .insert_related_items(
            &[
                quota(new_item(item("case-1", "i1"), 1), 2, 5),
                quota(new_item(item("case-1", "i2"), 2), 2, 5),
            ],
            None,
        )
        .await
        .unwrap();
    // A batch of which one item would break the quota is refused whole.
    let mut contact = item("case-1", "i4");
    contact.item_type = RelatedItemType::Contact;
    let refused = store
        .insert_related_items(
            &[
                quota(new_item(contact, 3), 5, 5),
                quota(new_item(item("case-1", "i3"), 4), 5, 2),
            ],
            None,
        )
        .await;
    assert_refused(refused, "QuotaExceeded for the type", |e| {
        matches!(e, StoreError::QuotaExceeded)
    });
    let refused = store
        .insert_related_items(&[quota(new_item(item("case-1", "i3"), 4), 2, 5)], None)
        .await;
    assert_refused(refused, "QuotaExceeded for the case", |e| {
        matches!(e, StoreError::QuotaExceeded)
    });
    let stored = items_of(store, "case-1").await;
    assert_eq!(ids(&stored), ["i1", "i2"]);
    assert_eq!(audit_count(store, "case-1").await, 3);
    assert_eq!(event_bodies(store).await.len(), 2);

    // An item of a case that does not exist, or whose case changed since read, is refused.
    assert_refused(
        store
            .insert_related_items(&[new_item(item("case-9", "i9"), 5)], None)
            .await,
        "VersionMismatch for a missing case",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    let mut moved = new_item(item("case-1", "i5"), 6);
    moved.case_update = Some(next(&next(&c, 6), 6));
    assert_refused(
        store.insert_related_items(&[moved], None).await,
        "VersionMismatch for a stale case update",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    let mut moves = new_item(item("case-1", "i5"), 7);
    moves.case_update = Some(next(&c, 7));
    store.insert_related_items(&[moves], None).await.unwrap();
    assert_eq!(stored_case(store, "case-1").await, Some(next(&c, 7)));

    assert_refused(
        store
            .insert_related_items(&[new_item(item("case-1", "i1"), 8)], None)
            .await,
        "Duplicate for an item id in use",
        |e| matches!(e, StoreError::Duplicate(_)),
    );
}

pub async fn related_items_read_back_in_insertion_order(store: &dyn Store) {
    with_case(store).await;
    for (n, id) in ["z", "a", "m"].into_iter().enumerate() {
        store
            .insert_related_items(&[new_item(item("case-1", id), n as i64)], None)
            .await
            .unwrap();
    }
    let stored = items_of(store, "case-1").await;
    assert_eq!(ids(&stored), ["z", "a", "m"]);
    // The backend numbers items in insertion order.
    assert!(stored.windows(2).all(|w| w[0].seq < w[1].seq));
    let mut expected = item("case-1", "a");
    expected.seq = stored[1].seq;
    assert_eq!(read_item(store, "case-1", "a").await, expected);
    assert!(
        store
            .get_related_item(domain_key().case("case-2").item("a"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn related_item_update_and_delete_are_optimistic(store: &dyn Store) {
    let c = with_case(store).await;
    store
        .insert_related_items(&[new_item(item("case-1", "i1"), 1)], None)
        .await
        .unwrap();
    let v1 = read_item(store, "case-1", "i1").await;
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.body = json!({"v": 2});
    store
        .update_related_item(&v2, &audit("case-1", 2), Some(&event("case-1", 2)), None)
        .await
        .unwrap();
    assert_eq!(read_item(store, "case-1", "i1").await, v2);
    assert_refused(
        store
            .update_related_item(&v2, &audit("case-1", 3), Some(&event("case-1", 3)), None)
            .await,
        "VersionMismatch for a stale update",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_refused(
        store
            .delete_related_item(&v1, &audit("case-1", 4), Some(&event("case-1", 4)), None)
            .await,
        "VersionMismatch for a stale delete",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_eq!(audit_count(store, "case-1").await, 3);
    assert_eq!(event_bodies(store).await.len(), 2);

    // A delete that moves its case: both or neither.
    let stale_case = next(&next(&c, 5), 5);
    assert_refused(
        store
            .delete_related_item(&v2, &audit("case-1", 5), None, Some(&stale_case))
            .await,
        "VersionMismatch for a stale case update",
        |e| matches!(e, StoreError::VersionMismatch),
    );
    assert_eq!(read_item(store, "case-1", "i1").await, v2);
    store
        .delete_related_item(
            &v2,
            &audit("case-1", 6),
            Some(&event("case-1", 6)),
            Some(&next(&c, 6)),
        )
        .await
        .unwrap();
    assert!(
        store
            .get_related_item(domain_key().case("case-1").item("i1"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stored_case(store, "case-1").await, Some(next(&c, 6)));
    assert_eq!(audit_count(store, "case-1").await, 4);
    assert_eq!(event_bodies(store).await.len(), 3);
}

pub async fn related_item_token_replays(store: &dyn Store) {
    with_case(store).await;
    let t = token("BatchPutRelatedItem", "tok", "request-1");
    let first = store
        .insert_related_items(&[new_item(item("case-1", "i1"), 1)], Some(&t))
        .await
        .unwrap();
    assert!(matches!(first, Created::New));
    let again = store
        .insert_related_items(
            &[new_item(item("case-1", "i2"), 2)],
            Some(&token("BatchPutRelatedItem", "tok", "request-2")),
        )
        .await
        .unwrap();
    match again {
        Created::Replayed(seen) => assert_eq!(seen, t),
        Created::New => panic!("a token seen before must replay"),
    }
    let stored = items_of(store, "case-1").await;
    assert_eq!(ids(&stored), ["i1"]);
    assert_eq!(event_bodies(store).await.len(), 1);
}

pub async fn cases_for_contact_in_id_order(store: &dyn Store) {
    with_domain(store).await;
    let arn = "arn:aws:connect:us-east-1:111122223333:instance/i/contact/c1";
    for (i, id) in ["case-3", "case-1", "case-2"].into_iter().enumerate() {
        put_case(store, &case(id, &format!("0000000{i}"))).await;
        let mut contact = item(id, &format!("contact-{id}"));
        contact.item_type = RelatedItemType::Contact;
        contact.ref_key = Some(if id == "case-2" { "other" } else { arn }.to_owned());
        store
            .insert_related_items(&[new_item(contact, 1)], None)
            .await
            .unwrap();
    }
    let found = store
        .list_cases_for_contact(domain_key(), arn, None, 1)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].case_id, "case-1");
    assert_eq!(found[0].template_id, "template-1");
    let rest = store
        .list_cases_for_contact(domain_key(), arn, Some("case-1"), 10)
        .await
        .unwrap();
    let rest: Vec<&str> = rest.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(rest, ["case-3"]);
}
