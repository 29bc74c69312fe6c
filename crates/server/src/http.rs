//! The HTTP front: buffers each request (with a size limit), verifies its SigV4 signature, and
//! hands it to the wire layer. Every response, including authentication failures, is built by
//! `caseload_wire`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use caseload_auth::Identities;
use caseload_model::{Error, RequestContext};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

pub struct AppState {
    pub api: Arc<dyn caseload_model::CasesApi>,
    pub identities: Identities,
    pub max_body_bytes: usize,
    /// The bytes `GET /_caseload/baseline` answers with; `None` unless `--bench-baseline`.
    pub baseline: Option<RwLock<Bytes>>,
    /// Case event delivery: `GET /_caseload/events` follows it, and every API call nudges it.
    pub events: Arc<crate::events::Hub>,
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
    let body = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        Error::RequestTooLarge(format!(
            "The request body exceeds the limit of {} bytes",
            state.max_body_bytes
        ))
    })?;
    let caller = caseload_auth::verify(parts, &body, &state.identities, SystemTime::now())?;
    Ok((body, caller))
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let request_id = caseload_domain::new_id();
    let (parts, body) = req.into_parts();
    let span = tracing::info_span!("request", %request_id, method = %parts.method, path = %parts.uri.path());
    let _enter = span.enter();

    let (body, caller) = match authenticate(&state, &parts, body).await {
        Ok(authenticated) => authenticated,
        Err(e) => {
            tracing::info!(error = %e, "request refused");
            return into_axum(caseload_wire::error_response(&e, &request_id));
        }
    };
    let ctx = RequestContext {
        principal_arn: caller.principal_arn(),
        account_id: caller.account_id,
        region: caller.region,
        request_id,
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let response = caseload_wire::handle(
        state.api.as_ref(),
        &ctx,
        &parts.method,
        path_and_query,
        &body,
    )
    .await;
    // A write may have appended events; the delivery side looks (never on this request's time).
    state.events.poke();
    tracing::debug!(status = response.status().as_u16(), "answered");
    into_axum(response)
}
