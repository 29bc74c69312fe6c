//! `GET /_caseload/events`: the caller's events as a server-sent-events stream. The request is
//! SigV4-signed like every API call (service `cases`), and the feed carries only the events of
//! the caller's account in the region the request was signed for.
//!
//! Each message's `id` is the event's outbox position and its `data` the event (the same bytes a
//! webhook receives). A client resumes after a disconnect with `Last-Event-ID` (or `?after=N`);
//! without either the feed starts with the events that follow the connection. Events older than
//! the retention period are gone and cannot be replayed.

use crate::http::AppState;
use axum::extract::{Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use caseload_model::Error;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

pub const PATH: &str = "/_caseload/events";
/// Events read from the outbox at a time.
const BATCH: usize = 100;

fn error(e: &Error, request_id: &str) -> Response {
    caseload_wire::error_response(e, request_id).map(axum::body::Body::from)
}

/// The position a client asked to resume after.
fn resume_from(parts: &http::request::Parts) -> Result<Option<i64>, Error> {
    let header = parts
        .headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let query = parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("after=").map(str::to_owned))
    });
    match header.or(query) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            Error::validation(format!(
                "Last-Event-ID (or after) must be an event id, a whole number, not '{v}'"
            ))
        }),
    }
}

pub async fn feed(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let request_id = caseload_domain::new_id();
    let (parts, body) = req.into_parts();
    let caller = match crate::http::authenticate(&state, &parts, body).await {
        Ok((_, caller)) => caller,
        Err(e) => return error(&e, &request_id),
    };
    let hub = state.events.clone();
    let after = match resume_from(&parts) {
        Ok(Some(after)) => after,
        // "Now" is the outbox's end as stored, not the pump's view, which only moves while
        // someone listens.
        Ok(None) => match hub.store.last_event_seq().await {
            Ok(seq) => seq,
            Err(e) => return error(&Error::internal(e), &request_id),
        },
        Err(e) => return error(&e, &request_id),
    };
    struct Feed {
        hub: Arc<super::Hub>,
        latest: tokio::sync::watch::Receiver<i64>,
        stop: tokio::sync::watch::Receiver<bool>,
        account: String,
        region: String,
        after: i64,
        pending: VecDeque<caseload_domain::store::EventRecord>,
    }
    let start = Feed {
        latest: hub.subscribe(),
        stop: hub.stopping(),
        hub,
        account: caller.account_id,
        region: caller.region,
        after,
        pending: VecDeque::new(),
    };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        loop {
            if *f.stop.borrow() {
                return None;
            }
            if let Some(e) = f.pending.pop_front() {
                f.after = e.seq;
                let data = serde_json::to_string(&e.body).unwrap_or_default();
                let event = Event::default().id(e.seq.to_string()).data(data);
                return Some((Ok::<_, Infallible>(event), f));
            }
            match f
                .hub
                .store
                .events_after(f.after, Some((&f.account, &f.region)), BATCH)
                .await
            {
                Ok(batch) if !batch.is_empty() => f.pending.extend(batch),
                Ok(_) => {
                    tokio::select! {
                        _ = f.latest.changed() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = f.stop.changed() => return None,
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event feed cannot read the outbox");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
