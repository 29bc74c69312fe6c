//! DeleteCase.

use crate::Service;
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};

pub(crate) async fn delete_case(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteCaseRequest,
) -> Result<DeleteCaseResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    crate::merge::status::refuse_merging_case(svc, ctx, &input.domain_id, &input.case_id).await?;
    if !svc
        .store
        .delete_case(
            &ctx.account_id,
            &input.domain_id,
            &input.case_id,
            &AuditEventPerformedBy {
                iam_principal_arn: ctx.principal_arn.clone(),
                user: None,
            },
        )
        .await?
    {
        return Err(Error::not_found("Case", &input.case_id));
    }
    Ok(DeleteCaseResponse {})
}
