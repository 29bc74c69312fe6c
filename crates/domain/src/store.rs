//! The storage contract. The domain layer decides *what* is stored; a backend (SQLite + Tantivy
//! today, PostgreSQL next) decides *how*. Every method is one atomic unit: a backend runs it in
//! one transaction, so a request never leaves anything half-written.
//!
//! Records carry plain data. Their `body` fields are versioned JSON documents owned by the domain
//! layer (see `schema`), so adding a member to a resource never needs a storage migration.

use crate::search::CaseQuery;
use crate::value::Value;
use caseload_model::Timestamp;
use std::collections::BTreeMap;

/// Tag key → value. `None` is a tag with a null value, which the model's sparse map allows.
pub type Tags = BTreeMap<String, Option<String>>;

/// Why a storage call failed in a way the domain must answer differently from "internal error".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (a name already in use; a reference number taken).
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// Creating the record would exceed the given quota.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// The record changed since it was read (optimistic concurrency); re-read and retry.
    #[error("version mismatch")]
    VersionMismatch,
    /// Anything else: I/O, corruption, a bug. Opaque to clients.
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq)]
pub struct DomainRecord {
    pub account_id: String,
    /// The region the domain was created in; it is only visible to requests signed for it.
    pub region: String,
    pub domain_id: String,
    pub name: String,
    pub created: Timestamp,
    pub tags: Tags,
}

/// The kinds of schema resources that live inside a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    Field,
    Template,
    Layout,
    CaseRule,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Field => "field",
            ResourceKind::Template => "template",
            ResourceKind::Layout => "layout",
            ResourceKind::CaseRule => "case-rule",
        }
    }
}

/// A field, template, layout or case rule. Names are unique per domain and kind among the
/// records that are not deleted; deleted records stay (soft delete) so that `BatchGetField`
/// can still describe them.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRecord {
    pub account_id: String,
    pub domain_id: String,
    pub kind: ResourceKind,
    pub id: String,
    pub name: String,
    pub deleted: bool,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// Kind-specific content, a JSON document the domain layer versions.
    pub body: serde_json::Value,
    pub tags: Tags,
}

/// A case: a bag of typed field values.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRecord {
    pub account_id: String,
    pub domain_id: String,
    pub case_id: String,
    pub template_id: String,
    /// 8 digits, unique within the domain.
    pub reference_number: String,
    /// Field id → value. A field cleared with `emptyValue` is present as `Value::Empty`; a field
    /// never set is absent.
    pub fields: BTreeMap<String, Value>,
    pub tags: Tags,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Incremented by every update; used for optimistic concurrency.
    pub version: i64,
}

/// One entry of a case's audit history.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub event_id: String,
    pub case_id: String,
    pub performed_time: Timestamp,
    /// The event as the API returns it (an `AuditEvent` document).
    pub body: serde_json::Value,
}

/// A remembered `clientToken`: scoped to account, domain and operation.
#[derive(Clone, Debug, PartialEq)]
pub struct IdempotencyRecord {
    pub account_id: String,
    pub domain_id: String,
    pub operation: &'static str,
    pub token: String,
    /// A digest of the request, so a token reused with a different request is detected.
    pub request_hash: String,
    /// The response returned the first time.
    pub response: serde_json::Value,
    pub created: Timestamp,
}

/// The result of a create guarded by a client token.
#[derive(Debug)]
pub enum Created {
    /// The record was written.
    New,
    /// The token was seen before; this is what was remembered for it. Nothing was written.
    Replayed(IdempotencyRecord),
}

/// One page of search results with the exact number of matches.
#[derive(Debug, Default)]
pub struct CasePage {
    pub cases: Vec<CaseRecord>,
    pub total: u64,
    /// True when more matches follow the last case of this page.
    pub more: bool,
}

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// A number that changes whenever any schema resource (field, template, layout, case rule)
    /// or domain is written, so the domain layer may cache schemas between changes. `None` (the
    /// default) disables caching: a backend shared by several servers must return `None` unless
    /// it can observe the others' writes.
    fn schema_generation(&self) -> Option<u64> {
        None
    }

    /// A secret that survives restarts, used to sign pagination tokens.
    async fn token_secret(&self) -> StoreResult<Vec<u8>>;

    // Domains. `insert_domain` enforces name uniqueness per account and region and the quota.
    async fn insert_domain(&self, d: &DomainRecord, max_per_account: usize) -> StoreResult<()>;
    async fn get_domain(
        &self,
        account_id: &str,
        domain_id: &str,
    ) -> StoreResult<Option<DomainRecord>>;
    /// Domains of an account in a region, ordered by id, starting after `after`.
    async fn list_domains(
        &self,
        account_id: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<DomainRecord>>;
    async fn update_domain_tags(
        &self,
        account_id: &str,
        domain_id: &str,
        tags: &Tags,
    ) -> StoreResult<bool>;
    /// Removes the domain and everything in it.
    async fn delete_domain(&self, account_id: &str, domain_id: &str) -> StoreResult<bool>;

    // Schema resources.
    /// Inserts a new resource, enforcing name uniqueness and `quota` (counting the kind's
    /// resources in the domain that are not deleted).
    async fn insert_resource(&self, r: &ResourceRecord, quota: usize) -> StoreResult<()>;
    /// Replaces an existing resource (same account, domain, kind and id), enforcing name
    /// uniqueness. Returns false when it does not exist.
    async fn replace_resource(&self, r: &ResourceRecord) -> StoreResult<bool>;
    /// Replaces the resource with `r` only if it is still exactly `prior` (optimistic concurrency
    /// for read-modify-write); false when it changed or vanished since `prior` was read. Enforces
    /// name uniqueness like `replace_resource`.
    async fn replace_resource_if(
        &self,
        r: &ResourceRecord,
        prior: &ResourceRecord,
    ) -> StoreResult<bool>;
    /// How many resources of a kind the domain holds that are deleted (or not, as asked).
    async fn count_resources(
        &self,
        account_id: &str,
        domain_id: &str,
        kind: ResourceKind,
        deleted: bool,
    ) -> StoreResult<usize>;
    async fn get_resource(
        &self,
        account_id: &str,
        domain_id: &str,
        kind: ResourceKind,
        id: &str,
    ) -> StoreResult<Option<ResourceRecord>>;
    /// Resources of a kind ordered by id, starting after `after`, deleted ones only if asked.
    async fn list_resources(
        &self,
        account_id: &str,
        domain_id: &str,
        kind: ResourceKind,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> StoreResult<Vec<ResourceRecord>>;

    // Cases.
    /// The remembered `clientToken` of an operation in a domain, if it was seen.
    async fn get_idempotency(
        &self,
        account_id: &str,
        domain_id: &str,
        operation: &'static str,
        token: &str,
    ) -> StoreResult<Option<IdempotencyRecord>>;
    /// Writes a new case with its first audit event and, if given, its client token, atomically.
    /// A reference number already used in the domain is `Duplicate("reference number")`.
    async fn insert_case(
        &self,
        c: &CaseRecord,
        audit: &AuditRecord,
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created>;
    async fn get_case(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
    ) -> StoreResult<Option<CaseRecord>>;
    /// Replaces a case whose stored version is `c.version - 1`, with an audit event, atomically.
    async fn update_case(&self, c: &CaseRecord, audit: Option<&AuditRecord>) -> StoreResult<()>;
    /// Removes a case with its audit history. Returns false when it does not exist.
    async fn delete_case(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
    ) -> StoreResult<bool>;
    /// Audit events of a case, newest first, starting after the event `after`.
    async fn list_audit(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Runs a search. Reflects every write that completed before the call (read-your-writes).
    async fn search_cases(&self, q: &CaseQuery) -> StoreResult<CasePage>;

    // Bulk transfer (`caseload export` / `caseload import`). The defaults refuse, so a backend
    // without a bulk path still compiles and says so.
    /// Cases of a domain ordered by case id, starting after the case id `after`.
    async fn list_cases(
        &self,
        account_id: &str,
        domain_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        let _ = (account_id, domain_id, after, limit);
        Err(StoreError::Backend("this backend cannot list cases".into()))
    }
    /// Writes new cases as one atomic batch, without audit events or client tokens (a restore,
    /// not API writes); search sees them like any other write. A case id or reference number
    /// already used in the domain is `Duplicate`, and then nothing of the batch is written.
    /// Owned, so a backend can hand the batch to another thread without copying it.
    async fn import_cases(&self, cases: Vec<CaseRecord>) -> StoreResult<()> {
        let _ = cases;
        Err(StoreError::Backend(
            "this backend cannot import cases".into(),
        ))
    }
}
