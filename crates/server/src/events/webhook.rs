//! Webhook delivery: one worker per URL posts every outbox event to it, one at a time and in
//! outbox order (so in order per case), retrying each with exponential back-off until the
//! receiver answers 2xx. The worker's position is saved in the store after each batch, so a
//! restart resumes where it was.
//!
//! Servers sharing one database each run a worker per URL, but only the one holding the URL's
//! lease in the store delivers; the others wait and take over when the holder stops renewing it
//! (it died or lost the database), resuming from the position the holder last saved. The save is
//! fenced by the lease, so a holder that stalled past its lease cannot move the new holder's
//! position back. Delivery stays at least once: an event delivered just before a crash, or
//! before a holder's position save, is delivered again by whoever resumes (receivers deduplicate
//! on the event's `id` or the `X-Caseload-Event-Seq` header). On SQLite the lease is always
//! granted: one process owns the data.
//!
//! Every request carries `X-Caseload-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
//! under the server's webhook secret, and `X-Caseload-Event-Seq`, the event's outbox position.

use super::Hub;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Events read from the outbox at a time.
const BATCH: usize = 100;
/// How long a receiver has to answer one delivery.
const TIMEOUT: Duration = Duration::from_secs(10);
/// First and longest wait between attempts at one event.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest time a delivered position goes unsaved while events keep flowing.
const SAVE_EVERY: Duration = Duration::from_secs(1);
/// How long a lease lasts unrenewed: how long the URL's deliveries stop when its holder dies.
/// Longer than `RENEW_AFTER + TIMEOUT`, so a lease renewed before an attempt outlasts it and no
/// other server starts on the URL while a delivery is in flight.
const LEASE_TTL: Duration = Duration::from_secs(15);
/// The holder renews its lease before a batch or an attempt once it is this old; a server that
/// does not hold it asks again this often.
const RENEW_AFTER: Duration = Duration::from_secs(4);
const _: () = assert!(RENEW_AFTER.as_millis() + TIMEOUT.as_millis() < LEASE_TTL.as_millis());

/// A webhook URL, checked at start-up.
pub struct Target {
    url: String,
    uri: http::Uri,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("--webhook {url}: not a URL ({e})"))?;
        match uri.scheme_str() {
            Some("http") if uri.host().is_some() => Ok(Target {
                url: url.to_owned(),
                uri,
            }),
            Some("https") => Err(format!(
                "--webhook {url}: https is not supported; point caseload at an http URL (a local TLS-terminating proxy can forward it)"
            )),
            _ => Err(format!(
                "--webhook {url}: an absolute http:// URL is needed"
            )),
        }
    }
}

pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Why a worker stopped delivering.
enum Ended {
    /// Another server holds the URL's lease now (or this one could not renew it).
    LostLease,
    /// The server is shutting down.
    Stopping,
}

/// Delivers `target`'s events whenever this server (`holder`, unique to the process) holds
/// the URL's lease, until the server stops.
pub async fn run(hub: Arc<Hub>, target: Target, secret: Vec<u8>, holder: String) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut stop = hub.stopping();
    loop {
        let Some(mut lease) = Lease::take(&hub, &target.url, &holder, &mut stop).await else {
            return;
        };
        tracing::info!(url = %target.url, holder = %holder, "delivering this webhook's events");
        match deliver_while_held(&hub, &client, &target, &secret, &mut lease, &mut stop).await {
            Ended::LostLease => {
                tracing::info!(url = %target.url, "another server delivers this webhook's events now");
            }
            Ended::Stopping => return,
        }
    }
}

/// This server's hold on a URL's deliveries.
struct Lease<'a> {
    hub: &'a Hub,
    url: &'a str,
    holder: &'a str,
    /// When the lease was last granted (taken before asking, so never later than the database's
    /// own reckoning).
    renewed: Instant,
}

impl<'a> Lease<'a> {
    /// Waits until the lease is granted; None when the server stops first.
    async fn take(
        hub: &'a Hub,
        url: &'a str,
        holder: &'a str,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Lease<'a>> {
        loop {
            let asked = Instant::now();
            match hub.store.lease_delivery(url, holder, LEASE_TTL).await {
                Ok(true) => {
                    return Some(Lease {
                        hub,
                        url,
                        holder,
                        renewed: asked,
                    });
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(url = %url, error = %e, "cannot ask for the webhook's lease; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RENEW_AFTER) => {}
                _ = stop.changed() => return None,
            }
        }
    }

    /// Renews the lease when it is due; false when it is lost (or cannot be renewed, in which
    /// case it may lapse before this server could know, so delivery stops too).
    async fn renew_if_due(&mut self) -> bool {
        if self.renewed.elapsed() < RENEW_AFTER {
            return true;
        }
        let asked = Instant::now();
        match self
            .hub
            .store
            .lease_delivery(self.url, self.holder, LEASE_TTL)
            .await
        {
            Ok(true) => {
                self.renewed = asked;
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "cannot renew the webhook's lease");
                false
            }
        }
    }

    /// Saves the delivered position under the lease. Ok(false) when it could not be saved for
    /// now (it is saved later); Err when the lease is lost.
    async fn save(&self, seq: i64) -> Result<bool, Ended> {
        match self
            .hub
            .store
            .save_delivery_cursor(self.url, self.holder, seq)
            .await
        {
            Ok(true) => Ok(true),
            Ok(false) => Err(Ended::LostLease),
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "cannot save the webhook's position");
                Ok(false)
            }
        }
    }
}

async fn deliver_while_held(
    hub: &Hub,
    client: &HttpClient,
    target: &Target,
    secret: &[u8],
    lease: &mut Lease<'_>,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let mut latest = hub.subscribe();
    let mut backoff = Backoff::default();
    // Where this URL's deliveries are, read afresh on each taking of the lease (another server
    // may have moved it); a URL seen for the first time starts with the events that follow its
    // first start-up.
    let mut cursor = loop {
        if !lease.renew_if_due().await {
            return Ended::LostLease;
        }
        let start = match hub.store.delivery_cursor(&target.url).await {
            Ok(Some(seq)) => Ok(Some(seq)),
            Ok(None) => match hub.store.last_event_seq().await {
                Ok(seq) => match lease.save(seq).await {
                    Ok(true) => Ok(Some(seq)),
                    Ok(false) => Ok(None),
                    Err(lost) => return lost,
                },
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match start {
            Ok(Some(seq)) => break seq,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(url = %target.url, error = %e, "cannot read the webhook's position; retrying");
            }
        }
        if !backoff.wait(stop).await {
            return Ended::Stopping;
        }
    };
    let mut saved = cursor;
    let mut saved_at = Instant::now();
    loop {
        if !lease.renew_if_due().await {
            return Ended::LostLease;
        }
        let batch = match hub.store.events_after(cursor, None, BATCH).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the event outbox; retrying");
                if !backoff.wait(stop).await {
                    return Ended::Stopping;
                }
                continue;
            }
        };
        if batch.is_empty() {
            if saved != cursor {
                match lease.save(cursor).await {
                    Ok(true) => saved = cursor,
                    Ok(false) => {}
                    Err(lost) => return lost,
                }
            }
            tokio::select! {
                _ = latest.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return Ended::Stopping,
            }
            continue;
        }
        for event in batch {
            let body = Bytes::from(serde_json::to_vec(&event.body).unwrap_or_default());
            let mut attempt = Backoff::default();
            loop {
                // Renewed just before each attempt, the lease outlasts the attempt's timeout.
                if !lease.renew_if_due().await {
                    return Ended::LostLease;
                }
                match deliver(client, target, secret, event.seq, body.clone()).await {
                    Ok(()) => break,
                    Err(why) => {
                        tracing::warn!(url = %target.url, seq = event.seq, attempt = attempt.attempts + 1, error = %why, "webhook delivery failed; retrying");
                        if !attempt.wait(stop).await {
                            return Ended::Stopping;
                        }
                    }
                }
            }
            cursor = event.seq;
            if saved_at.elapsed() >= SAVE_EVERY {
                match lease.save(cursor).await {
                    Ok(true) => {
                        saved = cursor;
                        saved_at = Instant::now();
                    }
                    Ok(false) => {}
                    Err(lost) => return lost,
                }
            }
        }
    }
}

async fn deliver(
    client: &HttpClient,
    target: &Target,
    secret: &[u8],
    seq: i64,
    body: Bytes,
) -> Result<(), String> {
    let request = http::Request::post(target.uri.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::USER_AGENT,
            concat!("caseload/", env!("CARGO_PKG_VERSION")),
        )
        .header("x-caseload-signature", signature(secret, &body))
        .header("x-caseload-event-seq", seq.to_string())
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(TIMEOUT, client.request(request))
        .await
        .map_err(|_| format!("no answer within {TIMEOUT:?}"))?
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}

/// Exponential back-off between attempts.
#[derive(Default)]
struct Backoff {
    attempts: u32,
}

impl Backoff {
    /// Waits before the next attempt; false when the server is stopping instead.
    async fn wait(&mut self, stop: &mut watch::Receiver<bool>) -> bool {
        let delay = FIRST_BACKOFF
            .saturating_mul(1 << self.attempts.min(16))
            .min(MAX_BACKOFF);
        self.attempts += 1;
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = stop.changed() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_http_urls() {
        assert!(Target::parse("http://127.0.0.1:9/hook").is_ok());
        assert!(Target::parse("https://example.com/").is_err());
        assert!(Target::parse("/relative").is_err());
    }
}
