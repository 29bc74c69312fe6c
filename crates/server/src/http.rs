//! The HTTP front: buffers each request (with a size limit), verifies its SigV4 signature, and
//! hands it to the wire layer. Every response, including authentication failures, is built by
//! `caseload_wire`.

use axum::body::{Body, HttpBody, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use caseload_auth::Identities;
use caseload_model::{Error, RequestContext};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

pub struct AppState {
    pub api: Arc<dyn caseload_model::CasesApi>,
    pub identities: Identities,
    pub max_body_bytes: usize,
    /// The bytes `GET /_caseload/baseline` answers with; `None` unless `--bench-baseline`.
    pub baseline: Option<RwLock<Bytes>>,
    /// Case event delivery: `GET /_caseload/events` follows it, and every API call nudges it.
    pub events: Arc<crate::events::Hub>,
    /// How long a request body may take to arrive once its header has.
    pub body_timeout: Duration,
    /// `--throttle`: AWS's request rates per account, region and operation.
    pub throttle: Option<crate::throttle::Throttle>,
    /// `--fault-rate`: retryable errors answered on purpose, before the operation runs.
    pub faults: Option<crate::faults::Faults>,
    /// Asked by `GET /ready` (see `health`).
    pub store: Arc<dyn caseload_domain::store::Store>,
    /// `GET /metrics`, and what every API request adds to it.
    pub metrics: crate::metrics::Metrics,
}

/// The benchmark's bare endpoint: the same listener, HTTP stack and runtime as the API, but no
/// authentication, routing or work, so it measures what the stack alone costs.
const BASELINE: &str = "/_caseload/baseline";

pub fn router(state: Arc<AppState>) -> axum::Router {
    let mut router = axum::Router::new();
    if state.baseline.is_some() {
        router = router.route(BASELINE, get(baseline).put(set_baseline));
    }
    router
        .route(crate::health::HEALTH, get(crate::health::health))
        .route(crate::health::READY, get(crate::health::ready))
        .route(crate::metrics::PATH, get(crate::metrics::scrape))
        .route(crate::events::sse::PATH, get(crate::events::sse::feed))
        .merge(crate::ui::routes())
        .fallback(handle)
        .with_state(state)
}

async fn baseline(State(state): State<Arc<AppState>>) -> Response {
    let bytes = match &state.baseline {
        Some(b) => b.read().unwrap_or_else(|e| e.into_inner()).clone(),
        None => Bytes::new(),
    };
    ([(http::header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

async fn set_baseline(State(state): State<Arc<AppState>>, body: Bytes) -> http::StatusCode {
    if let Some(b) = &state.baseline {
        *b.write().unwrap_or_else(|e| e.into_inner()) = body;
    }
    http::StatusCode::NO_CONTENT
}

fn into_axum(r: http::Response<bytes::Bytes>) -> Response {
    r.map(Body::from)
}

/// Buffers a request's body (within the size limit) and verifies its SigV4 signature: every
/// route, the API and the event feed alike, goes through here.
pub(crate) async fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
    body: Body,
) -> Result<(Bytes, caseload_auth::Caller), Error> {
    let too_large = || {
        Error::RequestTooLarge(format!(
            "The request body exceeds the limit of {} bytes",
            state.max_body_bytes
        ))
    };
    // A declared length beyond the limit is refused before waiting for any of it.
    if body.size_hint().lower() > state.max_body_bytes as u64 {
        // A client that asked to continue sends nothing until told to: reading would tell it.
        if !parts.headers.contains_key(http::header::EXPECT) {
            tokio::spawn(discard(body, state.body_timeout));
        }
        return Err(too_large());
    }
    if body.is_end_stream() {
        // Nothing to wait for (a GET): no timer.
        let caller = caseload_auth::verify(parts, &[], &state.identities, SystemTime::now())?;
        return Ok((Bytes::new(), caller));
    }
    let body = tokio::time::timeout(state.body_timeout, to_bytes(body, state.max_body_bytes))
        .await
        .map_err(|_| {
            Error::RequestTimeout(format!(
                "The request body did not arrive within {:?}",
                state.body_timeout
            ))
        })?
        .map_err(|_| too_large())?;
    let caller = caseload_auth::verify(parts, &body, &state.identities, SystemTime::now())?;
    Ok((body, caller))
}

/// At most this much of a refused body is read and thrown away.
const DISCARD_LIMIT: usize = 64 << 20;

/// Reads what arrives of a refused body, for a while, and drops it. Most clients send their
/// whole body before they read the answer: if the connection closed with their data unread, the
/// reset would reach them before the 413 did.
async fn discard(mut body: Body, within: Duration) {
    use http_body_util::BodyExt;
    let mut left = DISCARD_LIMIT;
    let _ = tokio::time::timeout(within, async {
        while let Some(Ok(frame)) = body.frame().await {
            let n = frame.data_ref().map_or(0, |d| d.len());
            left = left.saturating_sub(n);
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let in_flight = state.metrics.request();
    let request_id = caseload_domain::new_id();
    let (parts, body) = req.into_parts();
    let span = tracing::info_span!("request", %request_id, method = %parts.method, path = %parts.uri.path());
    let _enter = span.enter();

    let (body, caller) = match authenticate(&state, &parts, body).await {
        Ok(authenticated) => authenticated,
        Err(e) => {
            tracing::info!(error = %e, "request refused");
            let response = caseload_wire::error_response(&e, &request_id);
            // Refused before routing: the operation the path names, if any.
            let op = caseload_wire::router::route(&parts.method, parts.uri.path())
                .ok()
                .map(|r| r.operation);
            in_flight.answered(op, &response);
            return into_axum(response);
        }
    };
    let ctx = RequestContext {
        principal_arn: caller.principal_arn(),
        account_id: caller.account_id,
        region: caller.region,
        request_id,
        schema_generation: Default::default(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    // The operation, once routed (for the metrics' labels).
    let mut routed = None;
    let response = caseload_wire::handle_admitted(
        state.api.as_ref(),
        &ctx,
        &parts.method,
        path_and_query,
        &body,
        |op, ctx| {
            routed = Some(op);
            if let Some(throttle) = &state.throttle {
                throttle.admit(op, ctx)?;
            }
            if let Some(faults) = &state.faults {
                faults.admit(op, ctx)?;
            }
            Ok(())
        },
    )
    .await;
    in_flight.answered(routed, &response);
    // A write may have appended events; the delivery side looks (never on this request's time).
    state.events.poke();
    tracing::debug!(status = response.status().as_u16(), "answered");
    into_axum(response)
}
