//! The records a backend stores and returns: plain data, no behaviour. Their `body` fields are
//! versioned JSON documents owned by the domain layer, so adding a member to a resource never
//! needs a storage migration.

use super::query::ItemKey;
use crate::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::RelatedItemType;
use std::collections::BTreeMap;

/// Tag key → value. `None` is a tag with a null value, which the model's sparse map allows.
pub type Tags = BTreeMap<String, Option<String>>;

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
    /// The event its creation produces, if the domain's events are enabled.
    pub event: Option<EventRecord>,
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
/// with their `Case.Merged` audit events and their events, the related items it changes, and
/// the merge marked completed. `VersionMismatch` when a case or an item changed since it was read. The cases are
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
    /// The events of the two cases' changes, if the domain's events are enabled.
    pub events: Vec<EventRecord>,
}
