//! Cases: CreateCase, GetCase, UpdateCase, BatchUpdateCase, DeleteCase, SearchCases.
//!
//! - `fields`: the domain's fields as case operations need them.
//! - `validate`: the rules values must follow; `demands`: what the case's template requires
//!   (required fields, case rules); `maintain`: the server-maintained fields;
//!   `audit`: the audit event of each write, and GetCaseAuditEvents.
//! - `create`, `get`, `update`, `batch_update`, `delete`, `search`: the operations.

pub(crate) mod audit;
pub(crate) mod batch_update;
pub(crate) mod create;
pub(crate) mod delete;
mod demands;
pub(crate) mod fields;
pub(crate) mod get;
pub(crate) mod maintain;
pub(crate) mod search;
pub(crate) mod update;
pub(crate) mod validate;

use crate::Service;
use crate::store::CaseKey;
use crate::store::Tags;
use caseload_model::{Error, RequestContext, Result};

/// Replaces a case's tags (TagResource / UntagResource on a case ARN). Not a field change, so
/// no audit event.
pub(crate) async fn update_case_tags(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: &str,
    tags: Tags,
) -> Result<()> {
    for _attempt in 0..5 {
        let mut case = svc
            .store
            .get_case(CaseKey::new(&ctx.account_id, domain_id, case_id))
            .await?
            .ok_or_else(|| Error::not_found("Case", case_id))?;
        case.tags = tags.clone();
        case.version += 1;
        match svc.store.update_case(&case).await {
            Ok(()) => return Ok(()),
            Err(crate::store::StoreError::VersionMismatch) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!(
        "Case {case_id} is being changed concurrently; retry"
    )))
}
