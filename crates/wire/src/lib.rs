//! restJson1 for ConnectCases: the only layer that knows HTTP and JSON.
//!
//! A request goes `router::route` (method + raw path → operation and URI labels), then
//! `binding::bind_input` (labels, query string and JSON body → one JSON document, validated against
//! the operation's input shape by `validate`), then `caseload_model::dispatch` (typed input → the
//! domain → typed output). Every response, success or error, is built in `response`; every error
//! becomes bytes on the wire in `response::error_response` and nowhere else.

pub mod binding;
pub mod response;
pub mod router;
pub mod validate;

use bytes::Bytes;
use caseload_model::{CasesApi, Operation, RequestContext};

pub use response::{error_response, success_response};

/// Serves one authenticated request: routes it, binds and validates its input, calls the API and
/// serializes the outcome. Never panics on any input; every failure is a modelled error response.
pub async fn handle(
    api: &dyn CasesApi,
    ctx: &RequestContext,
    method: &http::Method,
    path_and_query: &str,
    body: &[u8],
) -> http::Response<Bytes> {
    handle_admitted(api, ctx, method, path_and_query, body, |_, _| Ok(())).await
}

/// `handle`, with `admit` asked once the operation is known and before anything else happens:
/// an error it returns (throttling, an injected fault) is the answer, and the operation never
/// runs.
pub async fn handle_admitted(
    api: &dyn CasesApi,
    ctx: &RequestContext,
    method: &http::Method,
    path_and_query: &str,
    body: &[u8],
    admit: impl FnOnce(Operation, &RequestContext) -> Result<(), caseload_model::Error>,
) -> http::Response<Bytes> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let outcome = async {
        let routed = router::route(method, path)?;
        admit(routed.operation, ctx)?;
        let input = binding::bind_input(&routed, query, body)?;
        let out = caseload_model::dispatch(api, ctx, routed.operation, input).await?;
        Ok::<_, caseload_model::Error>((routed.operation, out))
    }
    .await;
    match outcome {
        Ok((op, out)) => success_response(op, out, &ctx.request_id),
        Err(e) => error_response(&e, &ctx.request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An API that overrides nothing: every operation has the trait's default.
    struct Unbuilt;

    #[async_trait::async_trait]
    impl CasesApi for Unbuilt {}

    #[tokio::test]
    async fn an_operation_without_behaviour_is_501_naming_it() {
        let ctx = RequestContext {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            principal_arn: "arn:aws:iam::000000000000:root".into(),
            request_id: "rid".into(),
            schema_generation: Default::default(),
        };
        let r = handle(
            &Unbuilt,
            &ctx,
            &http::Method::POST,
            "/domains/d-1/case-event-configuration",
            b"{}",
        )
        .await;
        assert_eq!(r.status(), 501);
        assert_eq!(r.headers()[response::ERROR_TYPE], "NotImplementedException");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body["message"],
            "GetCaseEventConfiguration is not implemented by caseload yet"
        );
    }
}
