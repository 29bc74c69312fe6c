//! A restJson1 error response read back into the API's own error, `caseload_model::Error`: the
//! inverse of `caseload-wire`'s `response::error_response`, so a caller of a typed call matches
//! on the variants the server's domain layer raised (`Error::NotFound { resource_type, .. }`)
//! instead of on strings.

use caseload_model::{Error, Operation};
use serde_json::Value;

/// The error code of an answer: `X-Amzn-ErrorType` (which may carry `:`-separated extras),
/// otherwise the body's `__type` (`namespace#Code`) or `code`, as the SDKs look for it.
pub fn error_code(header: Option<&str>, body: &Value) -> Option<String> {
    let strip = |s: &str| {
        let s = s.split(':').next().unwrap_or(s);
        s.rsplit('#').next().unwrap_or(s).to_owned()
    };
    header
        .map(strip)
        .or_else(|| body.get("__type").and_then(Value::as_str).map(strip))
        .or_else(|| body.get("code").and_then(Value::as_str).map(strip))
        .filter(|c| !c.is_empty())
}

/// The API error that `code`, the body and the `Retry-After` header stand for. A code the API
/// does not know (a proxy's answer, say) becomes `Internal` with the code and message, so nothing
/// the server said is lost. An InternalServerException with `Retry-After` (the model's
/// `retryAfterSeconds`) is `Unavailable`: the server will answer by itself later.
pub fn service_error(code: &str, body: &Value, retry_after: Option<u32>) -> Error {
    let text = |member: &str| body.get(member).and_then(Value::as_str).map(str::to_owned);
    let message = text("message")
        .or_else(|| text("Message"))
        .unwrap_or_default();
    match code {
        "ValidationException" => Error::Validation(message),
        "SerializationException" => Error::Serialization(message),
        "ResourceNotFoundException" => Error::NotFound {
            resource_id: text("resourceId").unwrap_or_default(),
            resource_type: text("resourceType").unwrap_or_default(),
            message,
        },
        "ConflictException" => Error::Conflict(message),
        "ServiceQuotaExceededException" => Error::QuotaExceeded(message),
        "AccessDeniedException" => Error::AccessDenied(message),
        "ThrottlingException" => Error::Throttling(message),
        "MissingAuthenticationTokenException" => Error::MissingAuthenticationToken(message),
        "IncompleteSignatureException" => Error::IncompleteSignature(message),
        "UnrecognizedClientException" => Error::UnrecognizedClient(message),
        "InvalidSignatureException" => Error::InvalidSignature(message),
        "UnknownOperationException" => Error::UnknownOperation(message),
        "RequestEntityTooLargeException" => Error::RequestTooLarge(message),
        "RequestTimeoutException" => Error::RequestTimeout(message),
        // The message names the operation ("X is not implemented by caseload yet").
        "NotImplementedException" => match Operation::ALL
            .iter()
            .find(|op| message.split(' ').next() == Some(op.name()))
        {
            Some(op) => Error::NotImplemented(op.name()),
            None => Error::Internal(format!("{code}: {message}")),
        },
        "InternalServerException" => match retry_after {
            Some(retry_after_seconds) => Error::Unavailable {
                retry_after_seconds,
            },
            None => Error::Internal(message),
        },
        _ => Error::Internal(format!("{code}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_wire::response::{ERROR_TYPE, error_response};

    /// Every variant, so a new one must be added here (the `match` has no wildcard) and then
    /// read back by `service_error`.
    fn every_variant() -> Vec<Error> {
        let all = vec![
            Error::Validation("v".into()),
            Error::Serialization("s".into()),
            Error::not_found("Case", "c-1"),
            Error::Conflict("c".into()),
            Error::QuotaExceeded("q".into()),
            Error::AccessDenied("a".into()),
            Error::Throttling("t".into()),
            Error::MissingAuthenticationToken("m".into()),
            Error::IncompleteSignature("i".into()),
            Error::UnrecognizedClient("u".into()),
            Error::InvalidSignature("s".into()),
            Error::UnknownOperation("o".into()),
            Error::RequestTooLarge("l".into()),
            Error::RequestTimeout("r".into()),
            Error::FaultInjected("f".into()),
            Error::NotImplemented("GetCase"),
            Error::Internal("detail".into()),
            Error::Unavailable {
                retry_after_seconds: 2,
            },
        ];
        for e in &all {
            match e {
                Error::Validation(_)
                | Error::Serialization(_)
                | Error::NotFound { .. }
                | Error::Conflict(_)
                | Error::QuotaExceeded(_)
                | Error::AccessDenied(_)
                | Error::Throttling(_)
                | Error::MissingAuthenticationToken(_)
                | Error::IncompleteSignature(_)
                | Error::UnrecognizedClient(_)
                | Error::InvalidSignature(_)
                | Error::UnknownOperation(_)
                | Error::RequestTooLarge(_)
                | Error::RequestTimeout(_)
                | Error::FaultInjected(_)
                | Error::NotImplemented(_)
                | Error::Internal(_)
                | Error::Unavailable { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_wire_error_reads_back_as_the_error_the_server_raised() {
        for e in every_variant() {
            let r = error_response(&e, "rid");
            let header = r.headers()[ERROR_TYPE].to_str().unwrap();
            let body: Value = serde_json::from_slice(r.body()).unwrap();
            let code = error_code(Some(header), &body).unwrap();
            let retry_after = r
                .headers()
                .get(http::header::RETRY_AFTER)
                .map(|v| v.to_str().unwrap().parse().unwrap());
            let back = service_error(&code, &body, retry_after);
            match (&e, &back) {
                // The server keeps an internal error's detail to itself.
                (Error::Internal(_), Error::Internal(m)) => assert!(!m.contains("detail"), "{m}"),
                // An injected fault is an InternalServerException on the wire, like a real one.
                (Error::FaultInjected(sent), Error::Internal(m)) => assert_eq!(sent, m),
                _ => assert_eq!(format!("{e:?}"), format!("{back:?}")),
            }
        }
    }

    #[test]
    fn codes_come_from_the_header_or_the_body() {
        let body = serde_json::json!({ "__type": "com.amazonaws.cases#ConflictException", "message": "m" });
        assert_eq!(
            error_code(None, &body).as_deref(),
            Some("ConflictException")
        );
        assert_eq!(
            error_code(
                Some("ThrottlingException:http://internal.amazon.com/"),
                &body
            )
            .as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(error_code(None, &serde_json::json!({})), None);
        assert!(matches!(
            service_error("TeapotException", &body, None),
            Error::Internal(m) if m == "TeapotException: m"
        ));
    }
}
