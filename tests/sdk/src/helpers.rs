//! Values and error readers every SDK test file uses, written once.

use aws_sdk_connectcases::config::http::HttpResponse;
use aws_sdk_connectcases::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connectcases::types::{EmptyFieldValue, FieldIdentifier, FieldValue, FieldValueUnion};

/// An agent's ARN, for `performedBy` and User fields.
pub const AGENT: &str = "arn:aws:connect:us-east-1:000000000000:instance/i-1/agent/a-1";

pub fn s(v: &str) -> FieldValueUnion {
    FieldValueUnion::StringValue(v.to_owned())
}
pub fn n(v: f64) -> FieldValueUnion {
    FieldValueUnion::DoubleValue(v)
}
pub fn b(v: bool) -> FieldValueUnion {
    FieldValueUnion::BooleanValue(v)
}
pub fn u(v: &str) -> FieldValueUnion {
    FieldValueUnion::UserArnValue(v.to_owned())
}
pub fn empty() -> FieldValueUnion {
    FieldValueUnion::EmptyValue(EmptyFieldValue::builder().build())
}
pub fn fv(id: &str, v: FieldValueUnion) -> FieldValue {
    FieldValue::builder().id(id).value(v).build().unwrap()
}
pub fn ident(id: &str) -> FieldIdentifier {
    FieldIdentifier::builder().id(id).build().unwrap()
}

/// The error code (e.g. `ResourceNotFoundException`) of a failed SDK call, for assertions.
pub fn error_code<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => se.err().code().unwrap_or("<no code>").to_owned(),
        other => format!("<not a service error: {other:?}>"),
    }
}

/// The message of a failed call.
pub fn message<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => se.err().message().unwrap_or_default().to_owned(),
        other => format!("<not a service error: {other:?}>"),
    }
}

/// The body of a failed call's response, to check members the SDK's error types hide.
pub fn error_body<E>(e: &SdkError<E, HttpResponse>) -> serde_json::Value {
    let bytes = e
        .raw_response()
        .and_then(|r| r.body().bytes())
        .expect("an error body");
    serde_json::from_slice(bytes).expect("a JSON error body")
}
