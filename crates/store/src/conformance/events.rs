//! The event outbox and the domains' event configurations: events in commit order with
//! increasing sequence numbers, scoped reads, delivery cursors, pruning.

use super::*;

pub async fn outbox_orders_scopes_and_prunes(store: &dyn Store) {
    with_domain(store).await;
    assert_eq!(store.last_event_seq().await.unwrap(), 0);
    for i in 1..=3 {
        let id = format!("case-{i}");
        let mut e = event(&id, i);
        if i == 2 {
            e.region = "eu-west-1".into();
        }
        store
            .insert_case(
                &case(&id, &format!("0000000{i}")),
                &audit(&id, i),
                Some(&e),
                None,
            )
            .await
            .unwrap();
    }
    let all = store.events_after(0, None, 10).await.unwrap();
    let cases: Vec<&str> = all.iter().map(|e| e.case_id.as_str()).collect();
    assert_eq!(cases, ["case-1", "case-2", "case-3"]);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    let mut expected = event("case-1", 1);
    expected.seq = all[0].seq;
    assert_eq!(all[0], expected);
    assert_eq!(store.last_event_seq().await.unwrap(), all[2].seq);

    let after_first = store.events_after(all[0].seq, None, 1).await.unwrap();
    assert_eq!(after_first, all[1..2]);
    let scoped = store
        .events_after(0, Some((ACCOUNT, REGION)), 10)
        .await
        .unwrap();
    let cases: Vec<&str> = scoped.iter().map(|e| e.case_id.as_str()).collect();
    assert_eq!(cases, ["case-1", "case-3"]);
    assert!(
        store
            .events_after(0, Some(("999999999999", REGION)), 10)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(store.delivery_cursor("https://hook").await.unwrap(), None);
    store
        .set_delivery_cursor("https://hook", all[1].seq)
        .await
        .unwrap();
    assert_eq!(
        store.delivery_cursor("https://hook").await.unwrap(),
        Some(all[1].seq)
    );

    // Only events up to the sequence number and older than the instant go.
    let pruned = store.prune_events(all[1].seq, at(2)).await.unwrap();
    assert_eq!(pruned, 1);
    let left = store.events_after(0, None, 10).await.unwrap();
    assert_eq!(left, all[1..]);
    assert_eq!(store.last_event_seq().await.unwrap(), all[2].seq);
    // Sequence numbers keep growing after pruning.
    store
        .insert_case(
            &case("case-4", "00000004"),
            &audit("case-4", 4),
            Some(&event("case-4", 4)),
            None,
        )
        .await
        .unwrap();
    assert!(store.last_event_seq().await.unwrap() > all[2].seq);
}

pub async fn event_config_round_trips(store: &dyn Store) {
    with_domain(store).await;
    assert_eq!(store.get_event_config(domain_key()).await.unwrap(), None);
    let before = store.schema_generation().await.unwrap();
    let body = json!({"v": 1, "eventBridge": {"enabled": true}});
    store
        .put_event_config(domain_key(), REGION, &body)
        .await
        .unwrap();
    assert_eq!(
        store.get_event_config(domain_key()).await.unwrap(),
        Some(body)
    );
    // Writes decide their events by the configuration: a cache of it must see the change.
    if before.is_some() {
        assert_ne!(store.schema_generation().await.unwrap(), before);
    }
    let other = json!({"v": 1, "eventBridge": {"enabled": false}});
    store
        .put_event_config(domain_key(), REGION, &other)
        .await
        .unwrap();
    assert_eq!(
        store.get_event_config(domain_key()).await.unwrap(),
        Some(other)
    );
    assert_eq!(
        store
            .get_event_config(DomainKey::new(ACCOUNT, "domain-2"))
            .await
            .unwrap(),
        None
    );
}
