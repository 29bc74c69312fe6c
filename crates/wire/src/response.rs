//! Every HTTP response the server sends about an API call is built here. `error_response` is the
//! single place where an `Error` becomes a status code, an `X-Amzn-ErrorType` header and a JSON
//! body; its `match` has no wildcard arm, so a new error cannot exist without a wire form.

use bytes::Bytes;
use caseload_model::{Error, Operation};
use http::{HeaderValue, Response, StatusCode};
use serde_json::json;

pub const REQUEST_ID: &str = "x-amzn-requestid";
pub const ERROR_TYPE: &str = "x-amzn-errortype";

fn response(status: StatusCode, body: Vec<u8>, request_id: &str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert(REQUEST_ID, id);
    }
    r
}

/// A successful call: the model's status code and the serialized output (`{}` when the
/// operation has no output).
pub fn success_response(op: Operation, body: Vec<u8>, request_id: &str) -> Response<Bytes> {
    let status = StatusCode::from_u16(op.def().success_code).unwrap_or(StatusCode::OK);
    let body = if body.is_empty() {
        b"{}".to_vec()
    } else {
        body
    };
    response(status, body, request_id)
}

/// The wire form of an error: (HTTP status, error type name, message).
fn wire_form(e: &Error) -> (u16, &'static str, String) {
    let m = e.to_string();
    match e {
        Error::Validation(_) => (400, "ValidationException", m),
        Error::Serialization(_) => (400, "SerializationException", m),
        Error::NotFound { .. } => (404, "ResourceNotFoundException", m),
        Error::Conflict(_) => (409, "ConflictException", m),
        Error::QuotaExceeded(_) => (402, "ServiceQuotaExceededException", m),
        Error::AccessDenied(_) => (403, "AccessDeniedException", m),
        Error::Throttling(_) => (429, "ThrottlingException", m),
        Error::MissingAuthenticationToken(_) => (403, "MissingAuthenticationTokenException", m),
        Error::IncompleteSignature(_) => (400, "IncompleteSignatureException", m),
        Error::UnrecognizedClient(_) => (403, "UnrecognizedClientException", m),
        Error::InvalidSignature(_) => (403, "InvalidSignatureException", m),
        Error::UnknownOperation(_) => (404, "UnknownOperationException", m),
        Error::RequestTooLarge(_) => (413, "RequestEntityTooLargeException", m),
        Error::RequestTimeout(_) => (408, "RequestTimeoutException", m),
        Error::FaultInjected(_) => (500, "InternalServerException", m),
        Error::NotImplemented(_) => (501, "NotImplementedException", m),
        // The detail stays in the log; the client gets the request id to quote.
        Error::Internal(_) => (
            500,
            "InternalServerException",
            "An internal error occurred; quote the request id when reporting it".to_owned(),
        ),
        Error::Unavailable { .. } => (500, "InternalServerException", m),
    }
}

/// Turns any error into its restJson1 response. Internal errors are logged here with the request
/// id, and only here.
pub fn error_response(e: &Error, request_id: &str) -> Response<Bytes> {
    if let Error::Internal(detail) = e {
        tracing::error!(request_id, %detail, "internal error");
    }
    let (status, kind, message) = wire_form(e);
    let body = match e {
        Error::NotFound {
            resource_id,
            resource_type,
            ..
        } => json!({
            "message": message, "resourceId": resource_id, "resourceType": resource_type,
        }),
        _ => json!({ "message": message }),
    };
    let mut r = response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        serde_json::to_vec(&body).unwrap_or_default(),
        request_id,
    );
    r.headers_mut()
        .insert(ERROR_TYPE, HeaderValue::from_static(kind));
    // The model's `retryAfterSeconds` member of InternalServerException travels in this header.
    if let Error::Unavailable {
        retry_after_seconds,
    } = e
    {
        r.headers_mut().insert(
            http::header::RETRY_AFTER,
            HeaderValue::from(*retry_after_seconds),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::schema::EXCEPTIONS;

    #[test]
    fn modelled_exceptions_keep_the_models_status() {
        let samples = [
            Error::validation("v"),
            Error::not_found("Domain", "d"),
            Error::conflict("c"),
            Error::QuotaExceeded("q".into()),
            Error::AccessDenied("a".into()),
            Error::Throttling("t".into()),
            Error::internal("boom"),
            Error::Unavailable {
                retry_after_seconds: 2,
            },
        ];
        for e in &samples {
            let (status, kind, _) = wire_form(e);
            let modelled = EXCEPTIONS.iter().find(|(n, _)| *n == kind).expect(kind);
            assert_eq!(modelled.1, status, "{kind}");
        }
    }

    #[test]
    fn not_found_carries_resource_id_and_type() {
        let r = error_response(&Error::not_found("Domain", "d-1"), "rid");
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()[ERROR_TYPE], "ResourceNotFoundException");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["resourceId"], "d-1");
        assert_eq!(body["resourceType"], "Domain");
        assert!(body["message"].as_str().unwrap().contains("d-1"));
    }

    #[test]
    fn unavailable_is_a_retryable_internal_error_with_retry_after() {
        let r = error_response(
            &Error::Unavailable {
                retry_after_seconds: 3,
            },
            "rid",
        );
        assert_eq!(r.status(), 500);
        assert_eq!(r.headers()[ERROR_TYPE], "InternalServerException");
        assert_eq!(r.headers()[http::header::RETRY_AFTER], "3");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert!(body["message"].as_str().unwrap().contains("retry after 3"));
    }

    #[test]
    fn internal_details_stay_private() {
        let r = error_response(&Error::internal("disk on fire at /secret/path"), "rid-7");
        assert_eq!(r.status(), 500);
        assert!(!String::from_utf8_lossy(r.body()).contains("secret"));
    }
}
