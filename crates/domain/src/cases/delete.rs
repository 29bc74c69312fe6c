//! DeleteCase.

use crate::Service;
use crate::events::{self, Change};
use crate::store::{CaseKey, StoreError};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};

/// Attempts at deleting a case that keeps changing under the delete.
const DELETE_ATTEMPTS: usize = 16;

pub(crate) async fn delete_case(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteCaseRequest,
) -> Result<DeleteCaseResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    crate::merge::status::refuse_merging_case(svc, ctx, &input.domain_id, &input.case_id).await?;
    let performed_by = AuditEventPerformedBy {
        iam_principal_arn: ctx.principal_arn.clone(),
        user: None,
    };
    // The case is read for its event (which names its template and creation time) and removed
    // only as read; a case changed meanwhile is read again.
    for _ in 0..DELETE_ATTEMPTS {
        let case = svc
            .store
            .get_case(CaseKey::new(
                &ctx.account_id,
                &input.domain_id,
                &input.case_id,
            ))
            .await?
            .ok_or_else(|| Error::not_found("Case", &input.case_id))?;
        let change = Change::CaseDeleted {
            case: &case,
            performed_by: &performed_by,
            time: Timestamp::now(),
        };
        let published = events::event(svc, ctx, change).await?;
        match svc.store.delete_case(&case, published.as_ref()).await {
            Ok(()) => return Ok(DeleteCaseResponse {}),
            Err(StoreError::VersionMismatch) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!(
        "Case {} is being changed by other requests; retry",
        input.case_id
    )))
}
