//! The behaviour of Amazon Connect Cases, independent of HTTP and of storage.
//!
//! Codemap:
//! - `api`: the `CasesApi` implementation; one delegating line per operation.
//! - `domains`, `tags`: domains and tagging by ARN.
//! - `schema`: fields (system and custom) and options, templates, layouts.
//! - `cases`: case CRUD and search, `value` (typed field values), `search` (the compiled query
//!   and the reference evaluator that defines correct answers).
//! - `store`: the storage contract (`Store` trait and records) that backends implement.
//! - `paging`: signed, query-bound pagination tokens. `arn`: ARN building and parsing.
//! - `config`: quotas.
//!
//! Invariants: no HTTP, no SQL, no JSON wire handling here (the wire layer validates inputs
//! against the model before they arrive); every rule of the service is checked here, not in a
//! backend; a backend only enforces uniqueness, quotas and atomicity it is asked to.

mod api;
pub mod arn;
pub mod cases;
pub mod config;
mod domains;
pub mod paging;
pub mod schema;
pub mod search;
pub mod store;
mod tags;
pub mod value;

pub use config::Quotas;
use std::sync::Arc;
use store::{Store, StoreError};

/// The service: the store it runs on, its quotas, and the key that signs pagination tokens.
pub struct Service {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) quotas: Quotas,
    pub(crate) tokens: paging::TokenSigner,
    /// Each domain's fields as case operations need them, tagged with the store's schema
    /// generation they were read at (see `Store::schema_generation`).
    pub(crate) schema_cache: cases::fields::SchemaCache,
}

impl Service {
    pub async fn new(store: Arc<dyn Store>, quotas: Quotas) -> Result<Service, StoreError> {
        let key = store.token_secret().await?;
        Ok(Service {
            store,
            quotas,
            tokens: paging::TokenSigner::new(key),
            schema_cache: Default::default(),
        })
    }
}

/// A new resource id: a random UUID, the form AWS uses for domain, field, template and case ids.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl From<StoreError> for caseload_model::Error {
    fn from(e: StoreError) -> Self {
        // Callers handle Duplicate/QuotaExceeded/VersionMismatch where they mean something; one
        // that reaches here unhandled is a bug, reported as an internal error.
        caseload_model::Error::internal(e)
    }
}
