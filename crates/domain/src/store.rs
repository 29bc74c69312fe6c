//! The storage contract. The domain layer decides *what* is stored; a backend (SQLite + Tantivy
//! today, PostgreSQL next) decides *how*. Every method is one atomic unit: a backend runs it in
//! one transaction, so a request never leaves anything half-written.
//!
//! Records carry plain data. Their `body` fields are versioned JSON documents owned by the domain
//! layer (see `schema`), so adding a member to a resource never needs a storage migration.

use crate::related::query::{ItemKey, RelatedQuery};
use crate::search::CaseQuery;
use crate::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::{AuditEventPerformedBy, CaseSummary, RelatedItemType};
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
    /// A write fenced by a `TokenClaim` found that the claim no longer holds its token (it was
    /// taken over as stale); nothing was written.
    #[error("client token claim lost")]
    TokenLost,
    /// Anything else: I/O, corruption, a bug. Opaque to clients.
    #[error("storage backend: {0}")]
    Backend(String),
    /// The backend cannot answer now but will by itself (the search index is behind and cannot
    /// catch up in time): the client should retry after the given number of seconds.
    #[error("temporarily unavailable: {detail}")]
    Unavailable {
        detail: String,
        retry_after_seconds: u32,
    },
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

/// A request's claim on a client token, for an operation whose work spans several transactions
/// (BatchUpdateCase writes each case in its own). The claim is stored before any work, so of
/// concurrent requests with one token exactly one does the work; the others wait for its answer
/// (same request) or are refused (another request). See `crate::idempotency`.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenClaim {
    pub account_id: String,
    pub domain_id: String,
    pub operation: &'static str,
    pub token: String,
    /// The digest of the request the claim is for (`IdempotencyRecord::request_hash`).
    pub request_hash: String,
    /// Unique per claim: a write fenced by the claim checks that it still holds the token, so a
    /// claimant whose claim was taken over as stale can no longer write.
    pub claim_id: String,
    /// When the claim was made or last renewed; a claim not renewed for a while is stale.
    pub at: Timestamp,
}

/// What `Store::claim_token` found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// The token is the caller's now: it was free, or held by a stale claim of the same request.
    Owned,
    /// A request with this token has finished; this is what it answered.
    Done(IdempotencyRecord),
    /// Another claim holds the token: `request_hash` is its request's digest, `claim_id` the
    /// claim to wait for.
    Held {
        request_hash: String,
        claim_id: String,
    },
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

/// A related item of a case (a comment, contact, file, SLA, linked case or custom record).
#[derive(Clone, Debug, PartialEq)]
pub struct RelatedItemRecord {
    pub account_id: String,
    pub domain_id: String,
    pub case_id: String,
    /// Unique within the domain.
    pub related_item_id: String,
    pub item_type: RelatedItemType,
    pub association_time: Timestamp,
    /// Insertion order within the store, assigned on insert (ignored before). It breaks ties
    /// between items associated in the same millisecond, so every search order is total.
    pub seq: i64,
    /// The attribute a filter can select by equality (`related::query::ref_key`), indexed by the
    /// backend: the contact ARN, file ARN, linked case id or SLA name.
    pub ref_key: Option<String>,
    /// Type-specific content, a JSON document the domain layer versions (`related::ItemDoc`).
    pub body: serde_json::Value,
    pub tags: Tags,
    /// Incremented by every update; used for optimistic concurrency.
    pub version: i64,
}

/// A related item to create, with what the same transaction must check and write besides it.
#[derive(Clone, Debug)]
pub struct NewRelatedItem {
    pub item: RelatedItemRecord,
    pub audit: AuditRecord,
    /// Most related items its case may hold, of any type and of the item's own type.
    pub max_in_case: usize,
    pub max_of_type: usize,
    /// The item's case with the server-maintained fields the item moves (an SLA moves
    /// `next_sla_breach_datetime`), written with the same optimistic check as `update_case`.
    pub case_update: Option<CaseRecord>,
}

/// One page of related items, and where the next page starts (a position in the query's order,
/// not necessarily an item's: a backend may stop early to bound its work).
#[derive(Debug, Default)]
pub struct RelatedPage {
    pub items: Vec<RelatedItemRecord>,
    pub next: Option<ItemKey>,
}

/// One entry of the event outbox: an EventBridge-shaped event describing a committed change,
/// written in the change's own transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// Position in the outbox, assigned on insert; strictly increasing in commit order.
    pub seq: i64,
    pub account_id: String,
    pub region: String,
    pub domain_id: String,
    pub case_id: String,
    pub time: Timestamp,
    /// The event as delivered (an EventBridge envelope).
    pub body: serde_json::Value,
}

/// A merge of a secondary case into a primary one (StartMergeCases), from the moment it is
/// accepted until it has run.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeRecord {
    pub account_id: String,
    pub domain_id: String,
    /// Also the `mergeEventId` of the two `Case.Merged` audit events.
    pub merge_id: String,
    pub primary_case_id: String,
    pub secondary_case_id: String,
    /// False while the merge is IN_PROGRESS.
    pub completed: bool,
    pub started: Timestamp,
    /// What to merge and on whose behalf, a JSON document the domain layer versions
    /// (`merge::MergeDoc`).
    pub body: serde_json::Value,
}

/// The outcome of recording a new merge.
#[derive(Debug, PartialEq)]
pub enum MergeStart {
    Started,
    /// This case is the primary or the secondary of a merge that is still running.
    Busy(String),
    /// This case was merged into another case before, as the secondary.
    MergedBefore(String),
}

/// Everything a merge writes, in one transaction: both cases (each at `version` = stored + 1)
/// with their `Case.Merged` audit events, the related items it changes, and the merge marked
/// completed. `VersionMismatch` when a case or an item changed since it was read. The cases are
/// `None` only when one vanished before the merge ran: then only the merge is marked completed.
#[derive(Clone, Debug)]
pub struct MergeFinish {
    pub merge: MergeRecord,
    pub primary: Option<(CaseRecord, AuditRecord)>,
    pub secondary: Option<(CaseRecord, AuditRecord)>,
    /// Items replaced at `version` = stored + 1: moved to the primary, or given more tags.
    pub changed_items: Vec<RelatedItemRecord>,
    /// Items deleted, at their stored version (a secondary's link that would be a duplicate).
    pub removed_items: Vec<RelatedItemRecord>,
    /// New items: the links between the two cases.
    pub new_items: Vec<RelatedItemRecord>,
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

    /// Whether the backend can serve every operation now (`GET /ready`): `Err` says why not.
    /// The default is always ready.
    async fn readiness(&self) -> Result<(), String> {
        Ok(())
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
    /// Replaces the resource with `r` only if it is still exactly `prior` (optimistic concurrency
    /// for read-modify-write); false when it changed or vanished since `prior` was read. Enforces
    /// name uniqueness.
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
    /// `get_case` with only the values of the fields in `ids` (GetCase asks for some of a case's
    /// fields; a backend can then skip decoding the rest).
    async fn get_case_fields(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
        ids: &[String],
    ) -> StoreResult<Option<CaseRecord>> {
        let mut case = self.get_case(account_id, domain_id, case_id).await?;
        if let Some(c) = &mut case {
            c.fields.retain(|id, _| ids.contains(id));
        }
        Ok(case)
    }
    /// Replaces a case whose stored version is `c.version - 1`, with an audit event, atomically.
    async fn update_case(&self, c: &CaseRecord, audit: Option<&AuditRecord>) -> StoreResult<()> {
        self.update_case_with_items(c, audit, &[], None).await
    }
    /// `update_case`, also replacing related items of the case the update moved (an SLA that the
    /// new field values complete), each checked like `update_related_item`. With a `claim`, the
    /// write is fenced by it: it happens only while the claim still holds its token (renewing
    /// it to `claim.at`), and is `TokenLost` otherwise.
    async fn update_case_with_items(
        &self,
        c: &CaseRecord,
        audit: Option<&AuditRecord>,
        items: &[RelatedItemRecord],
        claim: Option<&TokenClaim>,
    ) -> StoreResult<()>;
    /// Removes a case with its related items and audit history. Returns false when it does not
    /// exist. `performed_by` is who deleted it, for the CASE.DELETED event.
    async fn delete_case(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
        performed_by: &AuditEventPerformedBy,
    ) -> StoreResult<bool>;
    /// The case with this reference number in the domain, if any.
    async fn get_case_by_reference(
        &self,
        account_id: &str,
        domain_id: &str,
        reference_number: &str,
    ) -> StoreResult<Option<CaseRecord>>;
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

    // Client tokens of operations that write in several transactions (see `TokenClaim`).
    /// Claims `claim.token` for `claim`, atomically: of concurrent claims of one free token
    /// exactly one is `Owned`. A token held by a claim made or renewed before `stale_before`
    /// for the same request (`request_hash`) is taken over (its claimant died or hangs);
    /// otherwise a held token is `Held` and a finished one `Done`, and nothing is written.
    async fn claim_token(&self, claim: &TokenClaim, stale_before: Timestamp) -> StoreResult<Claim>;
    /// Stores the response of a claimed request and ends the claim, atomically; false (nothing
    /// written) when the claim no longer holds the token.
    async fn finish_token(
        &self,
        claim: &TokenClaim,
        response: &serde_json::Value,
    ) -> StoreResult<bool>;
    /// Frees a token the claim still holds (its request failed as a whole), so the token can
    /// be used again.
    async fn release_token(&self, claim: &TokenClaim) -> StoreResult<()>;
    /// Waits until the claim `claim_id` may have stopped holding `token` (finished, released
    /// or taken over), or for at most `timeout`. A backend that cannot observe every claimant's
    /// writes (several servers on one database) may simply wait out the timeout.
    async fn wait_token(
        &self,
        claim: &TokenClaim,
        claim_id: &str,
        timeout: std::time::Duration,
    ) -> StoreResult<()>;

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

    /// Related items of a domain ordered by (case id, insertion order), starting after the item
    /// at `after` (its case id and `seq`).
    async fn list_domain_related_items(
        &self,
        account_id: &str,
        domain_id: &str,
        after: Option<(&str, i64)>,
        limit: usize,
    ) -> StoreResult<Vec<RelatedItemRecord>> {
        let _ = (account_id, domain_id, after, limit);
        Err(StoreError::Backend(
            "this backend cannot list related items".into(),
        ))
    }
    /// Writes related items as one atomic batch, in order, with their ids, times, content and
    /// tags and nothing else: no audit events, no events, no case updates, no quota checks (a
    /// restore of items that existed, not API writes). An id already used in the domain is
    /// `Duplicate`, and then nothing of the batch is written.
    async fn import_related_items(&self, items: Vec<RelatedItemRecord>) -> StoreResult<()> {
        let _ = items;
        Err(StoreError::Backend(
            "this backend cannot import related items".into(),
        ))
    }

    // Related items.
    /// Inserts related items, their audit events, their cases' updates and, if given, the client
    /// token, atomically: `QuotaExceeded` when an item would take its case past a quota,
    /// `VersionMismatch` when an item's case is gone or (with `case_update`) changed since read.
    /// Nothing is written on failure; a token seen before is `Replayed` and nothing is written.
    async fn insert_related_items(
        &self,
        items: &[NewRelatedItem],
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created>;
    async fn get_related_item(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
        related_item_id: &str,
    ) -> StoreResult<Option<RelatedItemRecord>>;
    /// Every related item of a case, in insertion order (a case holds a bounded number).
    async fn list_related_items(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
    ) -> StoreResult<Vec<RelatedItemRecord>>;
    /// Replaces an item whose stored version is `item.version - 1`, with its audit event and
    /// case update, atomically; `VersionMismatch` otherwise.
    async fn update_related_item(
        &self,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()>;
    /// Removes an item that is still at `item.version`, with its audit event and case update,
    /// atomically; `VersionMismatch` when it changed or vanished since read.
    async fn delete_related_item(
        &self,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()>;
    /// One page of a related-item search, over one case or the whole domain. Reflects every
    /// write that completed before the call.
    async fn search_related_items(&self, q: &RelatedQuery) -> StoreResult<RelatedPage>;
    /// Cases of the domain with a Contact related item for `contact_arn`, by case id, after
    /// `after`.
    async fn list_cases_for_contact(
        &self,
        account_id: &str,
        domain_id: &str,
        contact_arn: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseSummary>>;

    // Case events.
    /// The domain's case event configuration document, if one was ever put.
    async fn get_event_config(
        &self,
        account_id: &str,
        domain_id: &str,
    ) -> StoreResult<Option<serde_json::Value>>;
    /// Stores the domain's case event configuration; case and related-item writes committed
    /// after it follow it (`domain::events::event_for`).
    async fn put_event_config(
        &self,
        account_id: &str,
        domain_id: &str,
        region: &str,
        body: &serde_json::Value,
    ) -> StoreResult<()>;
    /// Outbox events after `after`, in order, at most `limit`; only those of one account and
    /// region when `scope` is given.
    async fn events_after(
        &self,
        after: i64,
        scope: Option<(&str, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>>;
    /// The sequence number of the last event ever appended (0 if none).
    async fn last_event_seq(&self) -> StoreResult<i64>;
    /// How far a delivery target (a webhook URL) has durably got in the outbox.
    async fn delivery_cursor(&self, target: &str) -> StoreResult<Option<i64>>;
    async fn set_delivery_cursor(&self, target: &str, seq: i64) -> StoreResult<()>;
    /// Forgets events up to `up_to_seq` that are older than `older_than`. Returns how many.
    async fn prune_events(&self, up_to_seq: i64, older_than: Timestamp) -> StoreResult<usize>;

    // Merges.
    /// Records a new merge unless one of its cases is in a running merge or was merged away
    /// before, atomically: of two concurrent merges of one case exactly one starts.
    async fn start_merge(&self, m: &MergeRecord) -> StoreResult<MergeStart>;
    /// The merges a case takes part in, as primary or secondary, oldest first.
    async fn merges_of_case(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
    ) -> StoreResult<Vec<MergeRecord>>;
    /// Merges still running, in every account, oldest first, at most `limit`.
    async fn running_merges(&self, limit: usize) -> StoreResult<Vec<MergeRecord>>;
    /// Writes a merge's outcome and marks it completed, atomically (see `MergeFinish`).
    async fn finish_merge(&self, f: &MergeFinish) -> StoreResult<()>;
}
