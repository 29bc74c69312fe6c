//! The labels of the request metrics. Their values come from closed sets (the model's operations,
//! HTTP status codes, the error codes the wire layer sends), never from a request's content, so
//! the number of series is bounded and no case data reaches a metric.

use caseload_model::Operation;
use caseload_wire::response::ERROR_TYPE;
use prometheus_client::encoding::EncodeLabelSet;

/// The `operation` label of a request the server could not tie to an operation: a path no
/// operation has, or a request refused before routing (a bad signature on an unknown path).
pub const UNKNOWN: &str = "unknown";

/// `caseload_requests_total`'s labels: the operation and how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub operation: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// The error code (`X-Amzn-ErrorType`), e.g. `ValidationException`; empty on success.
    pub error: String,
}

/// `caseload_request_duration_seconds`'s label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabel {
    pub operation: &'static str,
}

pub fn operation(op: Option<Operation>) -> &'static str {
    op.map_or(UNKNOWN, Operation::name)
}

/// The labels of a request for `op` answered with `response`.
pub fn outcome<B>(op: Option<Operation>, response: &http::Response<B>) -> Outcome {
    Outcome {
        operation: operation(op),
        status: response.status().as_u16(),
        error: error_code(response).to_owned(),
    }
}

/// The error code an answer carries: the `X-Amzn-ErrorType` header the wire layer sets on every
/// error, up to a `:` (AWS may append a URL after one), or "" when there is none.
fn error_code<B>(response: &http::Response<B>) -> &str {
    response
        .headers()
        .get(ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or("", |v| v.split(':').next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::Error;

    fn answered(e: &Error) -> http::Response<bytes::Bytes> {
        caseload_wire::error_response(e, "req-1")
    }

    #[test]
    fn a_success_has_its_operation_and_status_and_no_error() {
        let ok = http::Response::builder()
            .status(200)
            .body(bytes::Bytes::new())
            .unwrap();
        assert_eq!(
            outcome(Some(Operation::CreateCase), &ok),
            Outcome {
                operation: "CreateCase",
                status: 200,
                error: String::new()
            }
        );
    }

    #[test]
    fn an_error_has_the_status_and_code_the_wire_layer_sent() {
        for (e, status, code) in [
            (Error::Validation("bad".into()), 400, "ValidationException"),
            (Error::Throttling("slow".into()), 429, "ThrottlingException"),
            (
                Error::Internal("detail".into()),
                500,
                "InternalServerException",
            ),
            (
                Error::InvalidSignature("no".into()),
                403,
                "InvalidSignatureException",
            ),
        ] {
            let o = outcome(Some(Operation::GetCase), &answered(&e));
            assert_eq!(
                (o.operation, o.status, o.error.as_str()),
                ("GetCase", status, code)
            );
        }
    }

    #[test]
    fn a_request_without_an_operation_is_unknown_and_a_code_is_cut_at_a_colon() {
        let r = http::Response::builder()
            .status(404)
            .header(
                ERROR_TYPE,
                "UnknownOperationException:http://internal.amazon.com/",
            )
            .body(())
            .unwrap();
        assert_eq!(
            outcome(None, &r),
            Outcome {
                operation: UNKNOWN,
                status: 404,
                error: "UnknownOperationException".into()
            }
        );
    }
}
