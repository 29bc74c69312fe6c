//! Any method, request target and body through the wire layer: route → bind → validate →
//! typed input → the API → response.
//!
//! Properties:
//! - nothing panics, and no input is answered with a 500 (bad input is the client's error);
//! - every error response is a modelled error: an `X-Amzn-ErrorType`, a JSON body with a
//!   `message`;
//! - a document the validator accepts is one the operation's typed input can be read from (the
//!   API behind it implements nothing, so an accepted request must reach it and answer 501), and
//!   validating it again changes nothing.
#![no_main]

use caseload_fuzz::{RawRequest, run_ready};
use caseload_model::{CasesApi, Error, RequestContext};
use caseload_wire::{binding, response, router};
use libfuzzer_sys::fuzz_target;

/// An API that overrides nothing: every operation answers `NotImplemented`, after its input was
/// read into the operation's typed input.
struct Unbuilt;

#[async_trait::async_trait]
impl CasesApi for Unbuilt {}

fuzz_target!(|data: &[u8]| {
    let raw = RawRequest::parse(data);
    let Some(parts) = raw.to_parts() else { return };
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let ctx = RequestContext {
        account_id: "000000000000".into(),
        region: "us-east-1".into(),
        principal_arn: "arn:aws:iam::000000000000:root".into(),
        request_id: "fuzz".into(),
        schema_generation: Default::default(),
    };
    let resp = run_ready(caseload_wire::handle(
        &Unbuilt,
        &ctx,
        &parts.method,
        path_and_query,
        raw.body,
    ));

    let status = resp.status().as_u16();
    assert_ne!(status, 500, "bad input answered as an internal error");
    let body: serde_json::Value =
        serde_json::from_slice(resp.body()).expect("every response body is JSON");
    let kind = resp
        .headers()
        .get(response::ERROR_TYPE)
        .expect("an error response names its type");
    assert!(body["message"].is_string(), "{body}");

    // The same steps by hand: where binding succeeds, the API must have been reached.
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let bound = router::route(&parts.method, path)
        .and_then(|routed| binding::bind_input(&routed, query, raw.body).map(|doc| (routed, doc)));
    match bound {
        Ok((routed, doc)) => {
            assert_eq!(
                (status, kind.to_str().unwrap()),
                (501, "NotImplementedException"),
                "{} accepted {doc} but its typed input could not be read: {body}",
                routed.operation.def().name
            );
            if let Some(shape) = routed.operation.def().input {
                let mut again = doc.clone();
                caseload_wire::validate::validate_input(shape, &mut again)
                    .expect("a validated document validates again");
                assert_eq!(again, doc, "validation is idempotent");
            }
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Validation(_) | Error::Serialization(_) | Error::UnknownOperation(_)
                ),
                "{e:?}"
            );
            let (want_status, want_kind) = {
                let r = response::error_response(&e, "fuzz");
                (r.status(), r.headers()[response::ERROR_TYPE].clone())
            };
            assert_eq!((resp.status(), kind), (want_status, &want_kind));
        }
    }
});
