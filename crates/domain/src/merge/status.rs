//! GetMergeCasesStatus, and the guards that keep other writes away from a running merge: its
//! secondary case (and the secondary's related items) is read-only, and neither case can be
//! deleted (the StartMergeCases documentation).

use crate::Service;
use crate::store::CaseKey;
use crate::store::MergeRecord;
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};

/// The part a case plays in a merge that is still running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Primary,
    Secondary,
}

/// The running merge `case_id` takes part in, and its role in it.
async fn running_merge(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: &str,
) -> Result<Option<(Role, MergeRecord)>> {
    let merges = svc
        .store
        .merges_of_case(CaseKey::new(&ctx.account_id, domain_id, case_id))
        .await?;
    Ok(merges.into_iter().find(|m| !m.completed).map(|m| {
        let role = if m.primary_case_id == case_id {
            Role::Primary
        } else {
            Role::Secondary
        };
        (role, m)
    }))
}

/// ConflictException when `case_id` is the secondary case of a running merge: UpdateCase,
/// BatchUpdateCase and related-item writes call it before changing the case.
pub(crate) async fn refuse_merging_secondary(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: &str,
) -> Result<()> {
    match running_merge(svc, ctx, domain_id, case_id).await? {
        Some((Role::Secondary, m)) => Err(Error::conflict(format!(
            "Case {case_id} is being merged into case {} and cannot be changed until the merge completes",
            m.primary_case_id
        ))),
        _ => Ok(()),
    }
}

/// ConflictException when `case_id` is either case of a running merge: DeleteCase calls it.
pub(crate) async fn refuse_merging_case(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: &str,
) -> Result<()> {
    match running_merge(svc, ctx, domain_id, case_id).await? {
        Some((role, m)) => Err(Error::conflict(format!(
            "Case {case_id} is the {} case of a merge that is running (case {} into case {}); retry once it completes",
            if role == Role::Primary {
                "primary"
            } else {
                "secondary"
            },
            m.secondary_case_id,
            m.primary_case_id
        ))),
        None => Ok(()),
    }
}

/// IN_PROGRESS for either case of a running merge, COMPLETED for a case merged away as the
/// secondary, ResourceNotFoundException for every other case, including the primary of a
/// merge that has completed.
pub(crate) async fn get_merge_cases_status(
    svc: &Service,
    ctx: &RequestContext,
    input: GetMergeCasesStatusRequest,
) -> Result<GetMergeCasesStatusResponse> {
    svc.case(ctx, &input.domain_id, &input.case_id).await?;
    let merges = svc
        .store
        .merges_of_case(CaseKey::new(
            &ctx.account_id,
            &input.domain_id,
            &input.case_id,
        ))
        .await?;
    let answer = |m: &MergeRecord, status| GetMergeCasesStatusResponse {
        status,
        primary_case_id: Some(m.primary_case_id.clone()),
        secondary_case_ids: Some(vec![m.secondary_case_id.clone()]),
    };
    if let Some(m) = merges.iter().find(|m| !m.completed) {
        return Ok(answer(m, MergeStatus::INPROGRESS));
    }
    if let Some(m) = merges.iter().find(|m| m.secondary_case_id == input.case_id) {
        return Ok(answer(m, MergeStatus::COMPLETED));
    }
    Err(Error::NotFound {
        message: format!(
            "Case {} is not part of a running merge and was not merged into another case",
            input.case_id
        ),
        resource_id: input.case_id,
        resource_type: "Case".to_owned(),
    })
}
