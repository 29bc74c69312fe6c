//! Related items: what is attached to a case (contacts, comments, files, SLAs, linked cases and
//! custom records), their audit events, and the three searches over them.
//!
//! - `content`: checking an item's input content and what is stored from it; `sla`: SLA targets,
//!   statuses and the case's `next_sla_breach_datetime`.
//! - `create` (CreateRelatedItem, BatchCreateRelatedItem), `update`, `delete`: the writes.
//! - `query`: the compiled search and its reference evaluator; `search`: SearchRelatedItems,
//!   SearchAllRelatedItems, ListCasesForContact.
//!
//! An item is stored as a `RelatedItemRecord` whose body is an `ItemDoc`: its content as the API
//! returns it, plus who created and last updated it. An SLA's status is re-derived on every read,
//! since time alone moves it from Active to Overdue.

pub(crate) mod content;
pub(crate) mod create;
pub(crate) mod delete;
pub mod query;
pub(crate) mod search;
pub(crate) mod sla;
pub(crate) mod update;

use crate::store::{RelatedItemRecord, StoreError, StoreResult};
use crate::{Service, arn};
use caseload_model::shapes::{RelatedItemContent, UserUnion};
use caseload_model::{Error, RequestContext, Result, Timestamp};
use serde::{Deserialize, Serialize};

pub(crate) use content::attributes;

/// The stored body of a related item. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDoc {
    pub v: u32,
    pub content: RelatedItemContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserUnion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_user: Option<UserUnion>,
}

impl ItemDoc {
    pub fn from_body(body: &serde_json::Value) -> Result<ItemDoc> {
        serde_json::from_value(body.clone()).map_err(Error::internal)
    }

    pub fn to_body(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(Error::internal)
    }

    /// The content as a read at `now` returns it: an SLA's status is re-derived.
    pub fn content_at(&self, now: Timestamp) -> RelatedItemContent {
        let mut content = self.content.clone();
        if let RelatedItemContent::Sla(s) = &mut content {
            s.sla_configuration.status = sla::status(&s.sla_configuration, now);
        }
        content
    }
}

pub(crate) fn item_arn(ctx: &RequestContext, item: &RelatedItemRecord) -> String {
    arn::related_item(
        &ctx.region,
        &ctx.account_id,
        &item.domain_id,
        &item.case_id,
        &item.related_item_id,
    )
}

pub(crate) fn not_found(related_item_id: &str) -> Error {
    Error::not_found("RelatedItem", related_item_id)
}

/// Attempts before giving up on an item that other requests keep changing.
const MAX_ATTEMPTS: usize = 16;

/// Changes related item `related_item_id` of case `case_id` (UpdateRelatedItem,
/// DeleteRelatedItem). `attempt` gets the item as stored now and returns the store's answer to
/// its write; when the item or its case changed since it was read (`VersionMismatch`), it runs
/// again on a fresh read. A running merge's secondary case and its related items are read-only.
pub(super) async fn change_item<T, F, Fut>(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: &str,
    related_item_id: &str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(RelatedItemRecord) -> Fut,
    Fut: Future<Output = Result<StoreResult<T>>>,
{
    crate::merge::status::refuse_merging_secondary(svc, ctx, domain_id, case_id).await?;
    for _ in 0..MAX_ATTEMPTS {
        let item = svc
            .related_item(ctx, domain_id, case_id, related_item_id)
            .await?;
        match attempt(item).await? {
            Ok(done) => return Ok(done),
            Err(StoreError::VersionMismatch) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!(
        "Related item {related_item_id} is being changed by other requests; retry"
    )))
}
