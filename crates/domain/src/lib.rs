//! The behaviour of Amazon Connect Cases, independent of HTTP and of storage.
//!
//! Codemap:
//! - `api`: the `CasesApi` implementation; one delegating line per operation.
//! - `domains`, `tags`: domains and tagging by ARN.
//! - `schema`: fields (system and custom) and options, templates, layouts.
//! - `rules`: case rules (required, hidden, field options): definitions, evaluation, enforcement.
//! - `cases`: case CRUD and search, `value` (typed field values), `search` (the compiled query
//!   and the reference evaluator that defines correct answers).
//! - `related`: related items (comments, contacts, files, SLAs, linked cases, custom records)
//!   and their searches; `events`: the case event configuration and the events changes produce.
//! - `merge`: merging cases (StartMergeCases, GetMergeCasesStatus, the merge the worker runs).
//! - `store`: the storage contract (`Store` trait and records) that backends implement.
//! - `paging`: signed, query-bound pagination tokens. `arn`: ARN building and parsing.
//! - `config`: quotas.
//! - `transfer`: the export file format, exporting a domain, checking an import.
//!
//! Invariants: no HTTP, no SQL, no JSON wire handling here (the wire layer validates inputs
//! against the model before they arrive); every rule of the service is checked here, not in a
//! backend; a backend only enforces uniqueness, quotas and atomicity it is asked to.

mod api;
pub mod arn;
mod cache;
pub mod cases;
pub mod config;
mod domains;
pub mod events;
mod idempotency;
pub mod merge;
pub mod paging;
pub mod related;
pub mod rules;
pub mod schema;
pub mod search;
pub mod store;
mod tags;
pub mod transfer;
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
    /// Domains by (account, domain id), tagged with the schema generation they were read at.
    pub(crate) domain_cache: cache::GenerationCache<store::DomainRecord>,
    /// Case templates by (account, domain id, template id), as stored (deleted ones too), tagged
    /// the same way: CreateCase and UpdateCase read one on every call.
    pub(crate) template_cache:
        cache::GenerationCache<store::ResourceRecord, (String, String, String)>,
    /// Wakes the server's merge worker when a merge starts (`merge::run`).
    pub(crate) merge_waker: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Service {
    pub async fn new(store: Arc<dyn Store>, quotas: Quotas) -> Result<Service, StoreError> {
        let key = store.token_secret().await?;
        Ok(Service {
            store,
            quotas,
            tokens: paging::TokenSigner::new(key),
            schema_cache: Default::default(),
            domain_cache: Default::default(),
            template_cache: Default::default(),
            merge_waker: Default::default(),
        })
    }
}

/// A new resource or request id: a random (version 4) UUID, the form AWS uses for domain, field,
/// template and case ids. The bytes come from the thread's cryptographic generator rather than
/// from the kernel (`Uuid::new_v4`): one `getrandom` system call per request was measurable.
pub fn new_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

impl From<StoreError> for caseload_model::Error {
    fn from(e: StoreError) -> Self {
        // Callers handle Duplicate/QuotaExceeded/VersionMismatch where they mean something; one
        // that reaches here unhandled is a bug, reported as an internal error.
        match e {
            StoreError::Unavailable {
                retry_after_seconds,
                ..
            } => caseload_model::Error::Unavailable {
                retry_after_seconds,
            },
            e => caseload_model::Error::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| super::new_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4, "{id}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert_eq!(id, &u.hyphenated().to_string());
        }
    }
}
