//! UpdateCase: a partial update of the listed fields, with the same rules as CreateCase, the
//! server-maintained fields kept current, an audit event, and optimistic concurrency.

use super::{audit, create::required_fields, maintain, validate};
use crate::Service;
use crate::schema::templates::TemplateDoc;
use crate::store::{ResourceKind, StoreError};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};

/// Attempts before giving up on a case that other requests keep changing.
const MAX_ATTEMPTS: usize = 16;

impl Service {
    pub(crate) async fn update_case_impl(
        &self,
        ctx: &RequestContext,
        input: UpdateCaseRequest,
    ) -> Result<UpdateCaseResponse> {
        let domain_id = input.domain_id.as_str();
        let mut case = self.case(ctx, domain_id, &input.case_id).await?;
        let fields = self.case_fields(ctx, domain_id).await?;
        let template = self
            .store
            .get_resource(
                &ctx.account_id,
                domain_id,
                ResourceKind::Template,
                &case.template_id,
            )
            .await?
            .map(|r| TemplateDoc::from_record(&r))
            .transpose()?;
        let required = required_fields(template.as_ref(), &fields);
        let user = match &input.performed_by {
            Some(UserUnion::UserArn(u)) => Some(u.as_str()),
            _ => None,
        };
        for _ in 0..MAX_ATTEMPTS {
            let changes = validate::check_values(&fields, &input.fields, Some(&case.fields))?;
            validate::check_none_blanked(&required, &changes)?;
            let now = Timestamp::now();
            let mut next = case.clone();
            maintain::apply(&mut next.fields, changes, now, user);
            next.updated = now;
            next.version += 1;
            let event = audit::record(
                ctx,
                &case.case_id,
                AuditEventType::CaseUpdated,
                now,
                audit::changed_fields(&case.fields, &next.fields),
                input.performed_by.as_ref(),
            )?;
            match self.store.update_case(&next, Some(&event)).await {
                Ok(()) => return Ok(UpdateCaseResponse {}),
                Err(StoreError::VersionMismatch) => {
                    // Changed (or deleted) since it was read: start again from the stored case.
                    case = self.case(ctx, domain_id, &input.case_id).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict(format!(
            "Case {} is being changed by other requests; retry",
            input.case_id
        )))
    }
}
