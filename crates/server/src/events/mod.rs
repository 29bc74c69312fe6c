//! Local delivery of case events, in place of EventBridge: a server-sent-events feed
//! (`sse`) and webhooks (`webhook`), both reading the store's durable outbox.
//!
//! The outbox is written in the transaction of each change (see `caseload_domain::events`), so
//! delivery never sits on an API call's path: API calls only nudge `Hub::poke`, and a pump task
//! turns nudges into a `watch` of the outbox's last sequence number that feeds and workers wait
//! on. A slow or unreachable receiver only delays its own deliveries; the outbox keeps the
//! events (across restarts too) until every webhook has them and they are older than the
//! retention period.

pub mod sse;
mod webhook;

use caseload_domain::store::Store;
use caseload_model::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How often the pump looks at the outbox without being nudged (writes made by something other
/// than this server's API, such as a direct import, are noticed within this time).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Least time between two looks, so a burst of requests costs one query, not one each.
const MIN_POLL_GAP: Duration = Duration::from_millis(10);
/// How often old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

pub struct Options {
    /// Webhook URLs (http only), each delivered every event in order.
    pub webhooks: Vec<String>,
    /// The HMAC key deliveries are signed with.
    pub secret: Vec<u8>,
    /// How long delivered events stay for feeds to resume from.
    pub retention: Duration,
    /// This process's name in webhook leases: unique even among processes of one node name.
    pub holder: String,
}

/// The event delivery of one server: what feeds and webhook workers wait on.
pub struct Hub {
    store: Arc<dyn Store>,
    latest: watch::Sender<i64>,
    nudge: Notify,
    /// Flips to true when the server shuts down; open feeds end then.
    stop: watch::Receiver<bool>,
    /// The webhook URLs this server delivers to, and its name in their leases.
    webhooks: Vec<String>,
    holder: String,
}

impl Hub {
    /// Starts the pump, the webhook workers and the pruning task.
    pub async fn start(
        store: Arc<dyn Store>,
        options: Options,
        stop: watch::Receiver<bool>,
    ) -> Result<Arc<Hub>, String> {
        let last = store.last_event_seq().await.map_err(|e| e.to_string())?;
        let hub = Arc::new(Hub {
            store,
            latest: watch::Sender::new(last),
            nudge: Notify::new(),
            stop,
            webhooks: options.webhooks.clone(),
            holder: options.holder.clone(),
        });
        tokio::spawn(hub.clone().pump());
        for url in &options.webhooks {
            let target = webhook::Target::parse(url)?;
            tokio::spawn(webhook::run(
                hub.clone(),
                target,
                options.secret.clone(),
                options.holder.clone(),
            ));
        }
        tokio::spawn(hub.clone().prune(options.webhooks, options.retention));
        Ok(hub)
    }

    /// Tells the pump that an API call may have appended events. Without a listener the pump
    /// would only go back to sleep: waking it (a task wake-up and a new timer) on every request
    /// cost GetCase measurable throughput.
    pub fn poke(&self) {
        if self.latest.receiver_count() > 0 {
            self.nudge.notify_one();
        }
    }

    /// Gives up this server's webhook leases, once it has stopped, so that another server (or
    /// this one restarted) takes the deliveries over at once rather than when the leases run out.
    pub async fn release_leases(&self) {
        for url in &self.webhooks {
            if let Err(e) = self.store.release_delivery(url, &self.holder).await {
                tracing::warn!(url = %url, error = %e, "cannot give up the webhook's lease; it runs out by itself");
            }
        }
    }

    fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    async fn pump(self: Arc<Self>) {
        let mut stop = self.stopping();
        loop {
            tokio::select! {
                _ = self.nudge.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = stop.changed() => return,
            }
            // Nobody is listening (no webhook, no open feed): nothing to look for.
            if self.latest.receiver_count() == 0 {
                continue;
            }
            match self.store.last_event_seq().await {
                Ok(seq) => {
                    self.latest.send_if_modified(|v| {
                        let changed = *v != seq;
                        *v = seq;
                        changed
                    });
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the event outbox"),
            }
            tokio::time::sleep(MIN_POLL_GAP).await;
        }
    }

    /// Forgets events every webhook has and that are older than the retention period.
    async fn prune(self: Arc<Self>, webhooks: Vec<String>, retention: Duration) {
        let mut stop = self.stopping();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PRUNE_EVERY) => {}
                _ = stop.changed() => return,
            }
            let mut up_to = match self.store.last_event_seq().await {
                Ok(seq) => seq,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the event outbox");
                    continue;
                }
            };
            for url in &webhooks {
                match self.store.delivery_cursor(url).await {
                    Ok(Some(seq)) => up_to = up_to.min(seq),
                    Ok(None) => up_to = 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read a delivery cursor");
                        up_to = 0;
                    }
                }
            }
            let cutoff = Timestamp::from_unix_millis(
                Timestamp::now().unix_millis() - retention.as_millis() as i64,
            );
            match self.store.prune_events(up_to, cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(events = n, "pruned delivered events"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the event outbox"),
            }
        }
    }
}
