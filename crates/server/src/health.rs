//! `GET /health` and `GET /ready`, unauthenticated and without data, for load balancers and
//! orchestrators: health says the process answers; readiness says it can serve every operation
//! now (the database answers and the search index is caught up and not failing), so a probe
//! takes the server out of rotation while, say, its disk is full, and back once it recovers.

use crate::http::AppState;
use axum::extract::State;
use http::StatusCode;
use std::sync::Arc;

pub const HEALTH: &str = "/health";
pub const READY: &str = "/ready";

pub async fn health() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

/// 200 when ready, 503 otherwise; the reason is logged, not sent (it may name paths).
pub async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    match state.store.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
        }
    }
}
