//! The error vocabulary of the API. Every failure that reaches a client is one of these variants;
//! `caseload-wire` turns them into restJson1 responses in exactly one function
//! (`response::error_response`).

/// An error the API answers with. Messages are written for the caller: they name the member and
/// the rule that was broken, never internal details.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// HTTP 400 `ValidationException`: the request breaks a constraint of the model or a rule of
    /// the service.
    #[error("{0}")]
    Validation(String),
    /// HTTP 400 `SerializationException`: the body is not the JSON document the operation takes.
    #[error("{0}")]
    Serialization(String),
    /// HTTP 404 `ResourceNotFoundException`.
    #[error("{message}")]
    NotFound {
        message: String,
        resource_id: String,
        resource_type: String,
    },
    /// HTTP 409 `ConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// HTTP 402 `ServiceQuotaExceededException`.
    #[error("{0}")]
    QuotaExceeded(String),
    /// HTTP 403 `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
    /// HTTP 429 `ThrottlingException`.
    #[error("{0}")]
    Throttling(String),
    /// HTTP 403 `MissingAuthenticationTokenException`: no SigV4 signature at all.
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// HTTP 400 `IncompleteSignatureException`: an Authorization header that cannot be parsed.
    #[error("{0}")]
    IncompleteSignature(String),
    /// HTTP 403 `UnrecognizedClientException`: the access key is not known.
    #[error("{0}")]
    UnrecognizedClient(String),
    /// HTTP 403 `InvalidSignatureException`: the signature does not match, or it has expired.
    #[error("{0}")]
    InvalidSignature(String),
    /// HTTP 404 `UnknownOperationException`: no modelled route matches the method and path.
    #[error("{0}")]
    UnknownOperation(String),
    /// HTTP 413 `RequestEntityTooLargeException`.
    #[error("{0}")]
    RequestTooLarge(String),
    /// HTTP 408 `RequestTimeoutException`: the request body did not arrive in time.
    #[error("{0}")]
    RequestTimeout(String),
    /// HTTP 500 `InternalServerException` answered on purpose (`--fault-rate`) before the
    /// operation ran: nothing was done, and it is not logged as a failure.
    #[error("{0}")]
    FaultInjected(String),
    /// HTTP 501 `NotImplementedException`: the operation is modelled but caseload does not
    /// implement its behaviour yet. Carries the operation name.
    #[error("{0} is not implemented by caseload yet")]
    NotImplemented(&'static str),
    /// HTTP 500 `InternalServerException`. The detail is logged with the request id and never sent
    /// to the client.
    #[error("internal error: {0}")]
    Internal(String),
    /// HTTP 500 `InternalServerException` with `Retry-After`: the service cannot answer now (the
    /// search index is behind and cannot catch up in time) but will by itself. SDKs retry it.
    #[error(
        "The service cannot answer this request now; retry after {retry_after_seconds} seconds"
    )]
    Unavailable { retry_after_seconds: u32 },
}

impl Error {
    /// A `ResourceNotFoundException` for a resource of `resource_type` with id `resource_id`.
    pub fn not_found(resource_type: &str, resource_id: &str) -> Self {
        Error::NotFound {
            message: format!("{resource_type} {resource_id} could not be found"),
            resource_id: resource_id.to_owned(),
            resource_type: resource_type.to_owned(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(message.into())
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
