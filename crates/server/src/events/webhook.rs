//! Webhook delivery: one worker per URL posts every outbox event to it, one at a time and in
//! outbox order (so in order per case), retrying each with exponential back-off until the
//! receiver answers 2xx. The worker's position is saved in the store after each batch, so a
//! restart resumes where it was: delivery is at least once (an event delivered just before a
//! crash is delivered again; receivers deduplicate on the event's `id`).
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

/// Events read from the outbox at a time.
const BATCH: usize = 100;
/// How long a receiver has to answer one delivery.
const TIMEOUT: Duration = Duration::from_secs(10);
/// First and longest wait between attempts at one event.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest time a delivered position goes unsaved while events keep flowing.
const SAVE_EVERY: Duration = Duration::from_secs(1);

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

pub async fn run(hub: Arc<Hub>, target: Target, secret: Vec<u8>) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut latest = hub.subscribe();
    let mut stop = hub.stopping();
    let mut backoff = Backoff::default();
    // Where this URL's deliveries are; a URL seen for the first time starts with the events
    // that follow its first start-up.
    let mut cursor = loop {
        let known = hub.store.delivery_cursor(&target.url).await;
        let start = match known {
            Ok(Some(seq)) => Ok(seq),
            Ok(None) => match hub.store.last_event_seq().await {
                Ok(seq) => hub
                    .store
                    .set_delivery_cursor(&target.url, seq)
                    .await
                    .map(|()| seq),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match start {
            Ok(seq) => break seq,
            Err(e) => {
                tracing::warn!(url = %target.url, error = %e, "cannot read the webhook's position; retrying");
                if !backoff.wait(&mut stop).await {
                    return;
                }
            }
        }
    };
    let mut saved = cursor;
    let mut saved_at = Instant::now();
    loop {
        let batch = match hub.store.events_after(cursor, None, BATCH).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the event outbox; retrying");
                if !backoff.wait(&mut stop).await {
                    return;
                }
                continue;
            }
        };
        if batch.is_empty() {
            if saved != cursor && save(&hub, &target, cursor).await {
                saved = cursor;
            }
            tokio::select! {
                _ = latest.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        for event in batch {
            let body = Bytes::from(serde_json::to_vec(&event.body).unwrap_or_default());
            let mut attempt = Backoff::default();
            loop {
                match deliver(&client, &target, &secret, event.seq, body.clone()).await {
                    Ok(()) => break,
                    Err(why) => {
                        tracing::warn!(url = %target.url, seq = event.seq, attempt = attempt.attempts + 1, error = %why, "webhook delivery failed; retrying");
                        if !attempt.wait(&mut stop).await {
                            return;
                        }
                    }
                }
            }
            cursor = event.seq;
            if saved_at.elapsed() >= SAVE_EVERY && save(&hub, &target, cursor).await {
                saved = cursor;
                saved_at = Instant::now();
            }
        }
    }
}

async fn save(hub: &Hub, target: &Target, seq: i64) -> bool {
    match hub.store.set_delivery_cursor(&target.url, seq).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(url = %target.url, error = %e, "cannot save the webhook's position");
            false
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
    async fn wait(&mut self, stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
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
