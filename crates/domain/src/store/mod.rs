//! The storage contract. The domain layer decides *what* is stored; a backend (SQLite + Tantivy
//! today, PostgreSQL next) decides *how*. Every method is one atomic unit: a backend runs it in
//! one transaction, so a request never leaves anything half-written.
//!
//! This module is the leaf of the domain crate: it imports nothing of the domain's logic, and the
//! evaluators (`search`, `related::query`) and operations import from it. Records (`records`) and
//! queries (`query`) carry plain data; records are found by typed keys (`keys`). A backend must
//! pass the conformance suite (`caseload_store::conformance`).

mod keys;
mod query;
mod records;

pub use keys::{CaseKey, DomainKey, RelatedItemKey, ResourceKey, TokenKey};
pub use query::{
    CaseQuery, Cursor, FieldPredicate, Filter, ItemFilter, ItemKey, ItemSort, Op, RelatedQuery,
    SortProperty, SortSpec,
};
pub use records::*;

use caseload_model::Timestamp;
use caseload_model::shapes::CaseSummary;

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

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// A number that changes whenever any schema resource (field, template, layout, case rule),
    /// domain or event configuration is written, by this server or any other sharing the
    /// backend, so the domain layer may cache schemas between changes: once a schema write has
    /// returned, every later call answers a different number. `None` (the default) disables
    /// caching. The domain layer reads it once per request, so it must be cheap (no I/O, or one
    /// tiny read); an error fails the request rather than serving a cache that may be stale.
    async fn schema_generation(&self) -> StoreResult<Option<u64>> {
        Ok(None)
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
    async fn get_domain(&self, key: DomainKey) -> StoreResult<Option<DomainRecord>>;
    /// Domains of an account in a region, ordered by id, starting after `after`.
    async fn list_domains(
        &self,
        account_id: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<DomainRecord>>;
    async fn update_domain_tags(&self, key: DomainKey, tags: &Tags) -> StoreResult<bool>;
    /// Removes the domain and everything in it.
    async fn delete_domain(&self, key: DomainKey) -> StoreResult<bool>;

    // Schema resources.
    /// Inserts a new resource, enforcing name uniqueness and `quota` (counting the kind's
    /// resources in the domain that are not deleted).
    async fn insert_resource(&self, r: &ResourceRecord, quota: usize) -> StoreResult<()>;
    /// Replaces the resource with `r` only if it is still exactly `prior` (optimistic concurrency
    /// for read-modify-write); false when it changed or vanished since `prior` was read. Enforces
    /// name uniqueness (among the kind's other records that are not deleted).
    async fn replace_resource_if(
        &self,
        r: &ResourceRecord,
        prior: &ResourceRecord,
    ) -> StoreResult<bool>;
    /// How many resources of a kind the domain holds that are deleted (or not, as asked).
    async fn count_resources(
        &self,
        key: DomainKey,
        kind: ResourceKind,
        deleted: bool,
    ) -> StoreResult<usize>;
    async fn get_resource(&self, key: ResourceKey) -> StoreResult<Option<ResourceRecord>>;
    /// Resources of a kind ordered by id, starting after `after`, deleted ones only if asked.
    async fn list_resources(
        &self,
        key: DomainKey,
        kind: ResourceKind,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> StoreResult<Vec<ResourceRecord>>;

    // Cases.
    /// The remembered `clientToken` of an operation in a domain, if it was seen.
    async fn get_idempotency(&self, key: TokenKey) -> StoreResult<Option<IdempotencyRecord>>;
    /// Writes a new case with its first audit event, its event (if any) and its client token (if
    /// any), atomically. A reference number already used in the domain is
    /// `Duplicate("reference number")`; a token seen before is `Replayed` and nothing is written.
    async fn insert_case(
        &self,
        c: &CaseRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created>;
    async fn get_case(&self, key: CaseKey) -> StoreResult<Option<CaseRecord>>;
    /// `get_case` with only the values of the fields in `ids` (GetCase asks for some of a case's
    /// fields; a backend can then skip decoding the rest).
    async fn get_case_fields(
        &self,
        key: CaseKey,
        ids: &[String],
    ) -> StoreResult<Option<CaseRecord>> {
        let mut case = self.get_case(key).await?;
        if let Some(c) = &mut case {
            c.fields.retain(|id, _| ids.contains(id));
        }
        Ok(case)
    }
    /// Replaces a case whose stored version is `c.version - 1` without an audit event (a change
    /// of its tags); `VersionMismatch` otherwise.
    async fn update_case(&self, c: &CaseRecord) -> StoreResult<()> {
        self.update_case_with_items(c, None, None, &[], None).await
    }
    /// `update_case` with the update's audit event and event (if any), also replacing related
    /// items of the case the update moved (an SLA that the new field values complete), each
    /// checked like `update_related_item`, atomically. With a `claim`, the write is fenced by it:
    /// it happens only while the claim still holds its token (renewing it to `claim.at`), and is
    /// `TokenLost` otherwise.
    async fn update_case_with_items(
        &self,
        c: &CaseRecord,
        audit: Option<&AuditRecord>,
        event: Option<&EventRecord>,
        items: &[RelatedItemRecord],
        claim: Option<&TokenClaim>,
    ) -> StoreResult<()>;
    /// Removes a case that is still at `c.version`, with its related items and audit history,
    /// and appends its event (if any), atomically; `VersionMismatch` when it changed or vanished
    /// since read.
    async fn delete_case(&self, c: &CaseRecord, event: Option<&EventRecord>) -> StoreResult<()>;
    /// The case with this reference number in the domain, if any.
    async fn get_case_by_reference(
        &self,
        key: DomainKey,
        reference_number: &str,
    ) -> StoreResult<Option<CaseRecord>>;
    /// Audit events of a case, newest first, starting after the event `after`.
    async fn list_audit(
        &self,
        key: CaseKey,
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

    // Bulk transfer (`caseload export` / `caseload import`).
    /// Cases of a domain ordered by case id, starting after the case id `after`.
    async fn list_cases(
        &self,
        key: DomainKey,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>>;
    /// Writes new cases as one atomic batch, without audit events or client tokens (a restore,
    /// not API writes); search sees them like any other write. A case id or reference number
    /// already used in the domain is `Duplicate`, and then nothing of the batch is written.
    /// Owned, so a backend can hand the batch to another thread without copying it.
    async fn import_cases(&self, cases: Vec<CaseRecord>) -> StoreResult<()>;

    /// Related items of a domain ordered by (case id, insertion order), starting after the item
    /// at `after` (its case id and `seq`).
    async fn list_domain_related_items(
        &self,
        key: DomainKey,
        after: Option<(&str, i64)>,
        limit: usize,
    ) -> StoreResult<Vec<RelatedItemRecord>>;
    /// Writes related items as one atomic batch, in order, with their ids, times, content and
    /// tags and nothing else: no audit events, no events, no case updates, no quota checks (a
    /// restore of items that existed, not API writes). An id already used in the domain is
    /// `Duplicate`, and then nothing of the batch is written.
    async fn import_related_items(&self, items: Vec<RelatedItemRecord>) -> StoreResult<()>;

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
    async fn get_related_item(&self, key: RelatedItemKey)
    -> StoreResult<Option<RelatedItemRecord>>;
    /// Every related item of a case, in insertion order (a case holds a bounded number).
    async fn list_related_items(&self, key: CaseKey) -> StoreResult<Vec<RelatedItemRecord>>;
    /// Replaces an item whose stored version is `item.version - 1`, with its audit event, event
    /// (if any) and case update, atomically; `VersionMismatch` otherwise.
    async fn update_related_item(
        &self,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()>;
    /// Removes an item that is still at `item.version`, with its audit event, event (if any) and
    /// case update, atomically; `VersionMismatch` when it changed or vanished since read.
    async fn delete_related_item(
        &self,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()>;
    /// One page of a related-item search, over one case or the whole domain. Reflects every
    /// write that completed before the call.
    async fn search_related_items(&self, q: &RelatedQuery) -> StoreResult<RelatedPage>;
    /// Cases of the domain with a Contact related item for `contact_arn`, by case id, after
    /// `after`.
    async fn list_cases_for_contact(
        &self,
        key: DomainKey,
        contact_arn: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseSummary>>;

    // Case events.
    /// The domain's case event configuration document, if one was ever put.
    async fn get_event_config(&self, key: DomainKey) -> StoreResult<Option<serde_json::Value>>;
    /// Stores the domain's case event configuration (`region` is the domain's). It is a schema
    /// write: it changes `schema_generation`, as writes read it to decide their events.
    async fn put_event_config(
        &self,
        key: DomainKey,
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
    /// Takes or renews the lease on delivering to `target` for `ttl`; true while `holder` owns
    /// it. Servers sharing a database each run a worker per target, and only the holder
    /// delivers, so an event goes out once, not once per server. The default grants every
    /// call: a backend whose data one process owns (SQLite) has nobody to share the work with.
    async fn lease_delivery(
        &self,
        _target: &str,
        _holder: &str,
        _ttl: std::time::Duration,
    ) -> StoreResult<bool> {
        Ok(true)
    }
    /// `set_delivery_cursor` fenced by the lease: saves only while `holder` still holds the
    /// lease on `target` and says whether it did, so a holder that lost the lease (it stalled
    /// past its ttl and another server took over) cannot move the new holder's cursor back.
    /// Gives up `holder`'s lease on `target` at once (a server stopping), so that another
    /// server, or this one restarted, need not wait for it to run out. Nothing when another
    /// holder has it.
    async fn release_delivery(&self, _target: &str, _holder: &str) -> StoreResult<()> {
        Ok(())
    }
    async fn save_delivery_cursor(
        &self,
        target: &str,
        holder: &str,
        seq: i64,
    ) -> StoreResult<bool> {
        let _ = holder;
        self.set_delivery_cursor(target, seq).await.map(|()| true)
    }
    /// Forgets events up to `up_to_seq` that are older than `older_than`. Returns how many.
    async fn prune_events(&self, up_to_seq: i64, older_than: Timestamp) -> StoreResult<usize>;

    // Merges.
    /// Records a new merge unless one of its cases is in a running merge or was merged away
    /// before, atomically: of two concurrent merges of one case exactly one starts.
    async fn start_merge(&self, m: &MergeRecord) -> StoreResult<MergeStart>;
    /// The merges a case takes part in, as primary or secondary, oldest first.
    async fn merges_of_case(&self, key: CaseKey) -> StoreResult<Vec<MergeRecord>>;
    /// Merges still running, in every account, oldest first, at most `limit`.
    async fn running_merges(&self, limit: usize) -> StoreResult<Vec<MergeRecord>>;
    /// Writes a merge's outcome and marks it completed, atomically (see `MergeFinish`).
    async fn finish_merge(&self, f: &MergeFinish) -> StoreResult<()>;
}
