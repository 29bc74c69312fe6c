//! The HTTP front: buffers each request (with a size limit), verifies its SigV4 signature, and
//! hands it to the wire layer. Every response, including authentication failures, is built by
//! `caseload_wire`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use caseload_auth::Identities;
use caseload_model::{Error, RequestContext};
use std::sync::Arc;
use std::time::SystemTime;

pub struct AppState {
    pub api: Arc<dyn caseload_model::CasesApi>,
    pub identities: Identities,
    pub max_body_bytes: usize,
}

pub fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

fn into_axum(r: http::Response<bytes::Bytes>) -> Response {
    r.map(Body::from)
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let span = tracing::info_span!("request", %request_id, method = %parts.method, path = %parts.uri.path());
    let _enter = span.enter();

    let body = match to_bytes(body, state.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let e = Error::RequestTooLarge(format!(
                "The request body exceeds the limit of {} bytes",
                state.max_body_bytes
            ));
            return into_axum(caseload_wire::error_response(&e, &request_id));
        }
    };
    let caller = match caseload_auth::verify(&parts, &body, &state.identities, SystemTime::now()) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(error = %e, "request refused by authentication");
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
    tracing::debug!(status = response.status().as_u16(), "answered");
    into_axum(response)
}
