//! UpdateCase: a partial update of the listed fields, with the same rules as CreateCase (values,
//! required fields, case rules), the server-maintained fields kept current, an audit event, and
//! optimistic concurrency. `update_one` is also how BatchUpdateCase updates each of its cases.

use super::demands::Demands;
use super::fields::CaseFields;
use super::{audit, maintain, validate};
use crate::Service;
use crate::events::{self, Change};
use crate::schema::templates::TemplateDoc;
use crate::store::{CaseRecord, StoreError, TokenClaim};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::HashMap;

/// Attempts before giving up on a case that other requests keep changing.
const MAX_ATTEMPTS: usize = 16;

/// Why `update_one` did not update its case.
pub(crate) enum NotUpdated {
    /// The case's own failure, as UpdateCase answers it.
    Failed(Error),
    /// The request's client-token claim was taken over (as stale) by a retry of the request,
    /// which now does the work: this request must not write any more.
    ClaimLost,
}

impl From<Error> for NotUpdated {
    fn from(e: Error) -> Self {
        NotUpdated::Failed(e)
    }
}

/// What updating cases of one domain needs, loaded once per request: the domain's fields, and
/// what each template met so far demands of a write.
pub(crate) struct Updates {
    pub fields: CaseFields,
    demands: HashMap<String, Demands>,
}

pub(crate) async fn updates(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
) -> Result<Updates> {
    Ok(Updates {
        fields: svc.case_fields(ctx, domain_id).await?,
        demands: HashMap::new(),
    })
}

async fn demands_of(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    template_id: &str,
    u: &mut Updates,
) -> Result<Demands> {
    if let Some(d) = u.demands.get(template_id) {
        return Ok(d.clone());
    }
    let template = svc
        .template_record(ctx, domain_id, template_id)
        .await?
        .map(|r| TemplateDoc::from_record(&r))
        .transpose()?;
    let d =
        crate::cases::demands::demands(svc, ctx, domain_id, template.as_ref(), &u.fields).await?;
    u.demands.insert(template_id.to_owned(), d.clone());
    Ok(d)
}

pub(crate) async fn update_case(
    svc: &Service,
    ctx: &RequestContext,
    input: UpdateCaseRequest,
) -> Result<UpdateCaseResponse> {
    let mut updates = updates(svc, ctx, &input.domain_id).await?;
    update_one(
        svc,
        ctx,
        &input.domain_id,
        &input.case_id,
        Write {
            values: &input.fields,
            performed_by: input.performed_by.as_ref(),
        },
        &mut updates,
        None,
    )
    .await
    .map_err(|e| match e {
        NotUpdated::Failed(e) => e,
        NotUpdated::ClaimLost => Error::internal("an update without a client token lost a claim"),
    })?;
    Ok(UpdateCaseResponse {})
}

/// What an update writes to a case: field values, on someone's behalf.
#[derive(Clone, Copy)]
pub(crate) struct Write<'a> {
    pub values: &'a [FieldValue],
    pub performed_by: Option<&'a UserUnion>,
}

/// Writes `values` to one case with a `Case.Updated` audit event, and returns the case as
/// stored. A missing domain or case is a ResourceNotFoundException naming it. With a
/// client-token `claim`, the write happens only while the claim holds its token.
pub(crate) async fn update_one(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: &str,
    write: Write<'_>,
    u: &mut Updates,
    claim: Option<&TokenClaim>,
) -> std::result::Result<CaseRecord, NotUpdated> {
    let Write {
        values,
        performed_by,
    } = write;
    let mut case = svc.case(ctx, domain_id, case_id).await?;
    crate::merge::status::refuse_merging_secondary(svc, ctx, domain_id, case_id).await?;
    let demands = demands_of(svc, ctx, domain_id, &case.template_id, u).await?;
    let user = match performed_by {
        Some(UserUnion::UserArn(u)) => Some(u.as_str()),
        _ => None,
    };
    for _ in 0..MAX_ATTEMPTS {
        let changes = validate::check_values(&u.fields, values, Some(&case.fields))?;
        // Strictly after the previous write, even within the same millisecond, so that every
        // update visibly moves `last_updated_datetime` (and the audit shows it).
        let now = Timestamp::now().max(Timestamp::from_unix_millis(case.updated.unix_millis() + 1));
        let mut next = case.clone();
        maintain::apply(&mut next.fields, changes.clone(), now, user);
        demands.check_update(&changes, &next.fields)?;
        next.updated = now;
        next.version += 1;
        // SLAs whose field this update brings to a target value are completed with it.
        let slas = crate::related::sla::sla_progress(svc, &case, &mut next, now).await?;
        let event = audit::record(
            ctx,
            &case.case_id,
            AuditEventType::CaseUpdated,
            now,
            audit::changed_fields(&case.fields, &next.fields),
            performed_by,
        )?;
        let published = events::event(svc, ctx, Change::case(&next, &event)).await?;
        let fence = claim.map(crate::idempotency::renewed);
        match svc
            .store
            .update_case_with_items(
                &next,
                Some(&event),
                published.as_ref(),
                &slas,
                fence.as_ref(),
            )
            .await
        {
            Ok(()) => return Ok(next),
            Err(StoreError::VersionMismatch) => {
                // Changed (or deleted) since it was read: start again from the stored case.
                case = svc.case(ctx, domain_id, case_id).await?;
            }
            Err(StoreError::TokenLost) => return Err(NotUpdated::ClaimLost),
            Err(e) => return Err(Error::from(e).into()),
        }
    }
    Err(Error::conflict(format!(
        "Case {case_id} is being changed by other requests; retry"
    ))
    .into())
}
