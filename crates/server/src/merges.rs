//! The merge worker: runs the merges StartMergeCases records (`Service::run_due_merges`). It is
//! woken when a merge starts and when a held-back merge comes due, and at start-up it runs the
//! merges a previous process recorded but did not finish.

use caseload_domain::Service;
use std::sync::Arc;
use std::time::Duration;

/// Starts the worker. Each merge stays IN_PROGRESS for at least `min_age` (`--merge-delay-ms`),
/// so clients that poll GetMergeCasesStatus, or that must see ConflictException during a merge,
/// can be tested against it.
pub fn spawn(service: Arc<Service>, min_age: Duration) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let waker = wake.clone();
    // `notify_one` keeps a permit when the worker is busy, so a start during a run is not lost.
    service.on_merge_started(move || waker.notify_one());
    tokio::spawn(async move {
        loop {
            let next = match service.run_due_merges(min_age).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "the merge worker could not read the merges to run");
                    Some(Duration::from_secs(1))
                }
            };
            match next {
                Some(wait) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                None => wake.notified().await,
            }
        }
    });
}
