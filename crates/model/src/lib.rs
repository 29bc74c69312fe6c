//! The vocabulary of the ConnectCases API, shared by every layer: the shapes of every operation's
//! input and output (generated from the service model), the `CasesApi` trait the domain layer
//! implements, the constraint and route tables the wire layer interprets, and the error type.
//!
//! Nothing here knows HTTP or storage; this crate is pure data plus the dispatch glue.

pub mod error;
pub mod generated;
pub mod schema;
mod timestamp;

pub use error::{Error, Result};
pub use generated::api::{CasesApi, Operation, OperationInput, dispatch};
pub use generated::shapes;
pub use timestamp::Timestamp;

/// Who is calling and where: travels with every request into the domain layer.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The 12-digit account of the verified caller; every resource belongs to one account.
    pub account_id: String,
    /// The region of the request's credential scope; it goes into ARNs.
    pub region: String,
    /// The caller's IAM principal ARN (audit events record it).
    pub principal_arn: String,
    /// Unique per request; logged with every error and returned as `x-amzn-requestid`.
    pub request_id: String,
    /// The store's schema generation, read by the domain layer at most once per request (its
    /// schema caches are tagged with it) and kept here so the request's later look-ups reuse
    /// it. Empty when the request starts: build contexts with `Default::default()` here.
    pub schema_generation: std::sync::OnceLock<Option<u64>>,
}
