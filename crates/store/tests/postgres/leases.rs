//! Webhook delivery leases: of the servers sharing a database one at a time delivers a target's
//! events, and a holder that lost its lease cannot save the target's position.

use crate::store::fleet as servers;
use caseload_domain::store::Store;
use std::sync::Arc;
use std::time::Duration;

const URL: &str = "http://127.0.0.1:9/hook";
const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn one_holder_at_a_time_renews_and_alone_saves() {
    let Some((s, _db)) = servers().await else {
        return;
    };
    assert!(s[0].lease_delivery(URL, "a", LONG).await.unwrap());
    // Taken before any position was saved: the target has none yet.
    assert_eq!(s[1].delivery_cursor(URL).await.unwrap(), None);
    assert!(!s[1].lease_delivery(URL, "b", LONG).await.unwrap());
    assert!(
        s[0].lease_delivery(URL, "a", LONG).await.unwrap(),
        "renewed"
    );
    assert!(!s[1].lease_delivery(URL, "b", LONG).await.unwrap());

    assert!(s[0].save_delivery_cursor(URL, "a", 7).await.unwrap());
    assert!(!s[1].save_delivery_cursor(URL, "b", 3).await.unwrap());
    assert_eq!(s[1].delivery_cursor(URL).await.unwrap(), Some(7));

    // Another target's lease is its own.
    assert!(
        s[1].lease_delivery("http://other/", "b", LONG)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_fences_its_old_holder() {
    let Some((s, _db)) = servers().await else {
        return;
    };
    let short = Duration::from_millis(300);
    assert!(s[0].lease_delivery(URL, "a", short).await.unwrap());
    assert!(s[0].save_delivery_cursor(URL, "a", 5).await.unwrap());
    assert!(!s[1].lease_delivery(URL, "b", LONG).await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // "a" stalled past its lease: "b" takes over from the position "a" saved.
    assert!(s[1].lease_delivery(URL, "b", LONG).await.unwrap());
    assert_eq!(s[1].delivery_cursor(URL).await.unwrap(), Some(5));
    assert!(s[1].save_delivery_cursor(URL, "b", 9).await.unwrap());
    // "a" wakes up: it can neither move the position back nor take the lease back.
    assert!(!s[0].save_delivery_cursor(URL, "a", 6).await.unwrap());
    assert!(!s[0].lease_delivery(URL, "a", LONG).await.unwrap());
    assert_eq!(s[0].delivery_cursor(URL).await.unwrap(), Some(9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_many_servers_asking_at_once_one_gets_the_lease() {
    let Some((s, _db)) = servers().await else {
        return;
    };
    for round in 0..2 {
        let url = format!("http://127.0.0.1:9/hook-{round}");
        let start = Arc::new(tokio::sync::Barrier::new(12));
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let store = s[i % s.len()].clone();
                let (url, start) = (url.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    store
                        .lease_delivery(&url, &format!("holder-{i}"), LONG)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            granted += usize::from(t.await.unwrap());
        }
        assert_eq!(granted, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_released_lease_is_free_at_once_and_only_its_holder_releases_it() {
    let Some((s, _db)) = servers().await else {
        return;
    };
    assert!(s[0].lease_delivery(URL, "a", LONG).await.unwrap());
    // Not "b"'s to give up.
    s[1].release_delivery(URL, "b").await.unwrap();
    assert!(!s[1].lease_delivery(URL, "b", LONG).await.unwrap());
    // "a" stops: "b" need not wait the minute out.
    s[0].release_delivery(URL, "a").await.unwrap();
    assert!(s[1].lease_delivery(URL, "b", LONG).await.unwrap());
    assert!(!s[0].save_delivery_cursor(URL, "a", 1).await.unwrap());
}
