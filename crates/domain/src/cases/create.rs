//! CreateCase: a case from an Active template, with validated values, the server-maintained
//! fields, propagated tags, an audit event, and `clientToken` idempotency.

use super::{audit, maintain, validate};
use crate::Service;
use crate::arn;
use crate::events::{self, Change};
use crate::idempotency;
use crate::schema::templates::TemplateDoc;
use crate::store::{CaseRecord, Created, IdempotencyRecord, StoreError, Tags};
use crate::tags::check_tag_keys;
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::BTreeMap;

const OPERATION: &str = "CreateCase";
/// Most tags a case may carry (the model's `MutableTags` limit).
const MAX_TAGS: usize = 50;
/// Attempts at drawing a reference number not used in the domain. With 10⁸ numbers a second
/// collision is already unlikely below millions of cases.
const REFERENCE_ATTEMPTS: usize = 16;

/// The `requiredFields` of a template that can still be given values (a field deleted after the
/// template was made cannot), plus `title`, which every case needs.
pub(crate) fn required_fields(
    template: Option<&TemplateDoc>,
    fields: &super::fields::CaseFields,
) -> Vec<String> {
    let mut out = vec!["title".to_owned()];
    for id in template
        .map(|t| t.required_fields.as_slice())
        .unwrap_or(&[])
    {
        if !out.contains(id) && fields.get(id).is_some_and(|f| !f.deleted) {
            out.push(id.clone());
        }
    }
    out
}

/// The case's tags: the template's propagated tags, overridden by the request's on a clash.
fn case_tags(template: &TemplateDoc, requested: Option<&BTreeMap<String, String>>) -> Result<Tags> {
    let mut tags = Tags::new();
    for c in &template.tag_propagation_configurations {
        if c.resource_type == TagPropagationResourceType::Cases {
            tags.extend(c.tag_map.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
        }
    }
    if let Some(req) = requested {
        check_tag_keys(req.keys())?;
        tags.extend(req.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::validation(format!(
            "The case would have {} tags (with those its template propagates); at most {MAX_TAGS} are allowed",
            tags.len()
        )));
    }
    Ok(tags)
}

pub(crate) async fn create_case(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateCaseRequest,
) -> Result<CreateCaseResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let domain_id = domain.domain_id.as_str();
    let digest = idempotency::request_digest(OPERATION, &input, &["fields"])?;
    let token = input.client_token.as_deref().filter(|t| !t.is_empty());
    if let Some(t) = token
        && let Some(out) =
            idempotency::remembered(svc, ctx, domain_id, OPERATION, t, &digest).await?
    {
        return Ok(out);
    }

    let template = case_template(svc, ctx, domain_id, &input.template_id).await?;
    let fields = svc.case_fields(ctx, domain_id).await?;
    let changes = validate::check_values(&fields, &input.fields, None)?;
    let demands =
        crate::cases::demands::demands(svc, ctx, domain_id, Some(&template), &fields).await?;
    let tags = case_tags(&template, input.tags.as_ref())?;
    let user = match &input.performed_by {
        Some(UserUnion::UserArn(u)) => Some(u.as_str()),
        _ => None,
    };

    let case_id = crate::new_id();
    let response = CreateCaseResponse {
        case_arn: arn::resource(&ctx.region, &ctx.account_id, domain_id, "case", &case_id),
        case_id: case_id.clone(),
    };
    let now = Timestamp::now();
    for _ in 0..REFERENCE_ATTEMPTS {
        let reference_number = format!("{:08}", rand::random_range(0..100_000_000u32));
        let mut values = maintain::initial(&case_id, &reference_number, now);
        maintain::apply(&mut values, changes.clone(), now, user);
        demands.check_new(&changes, &values)?;
        let event = audit::record(
            ctx,
            &case_id,
            AuditEventType::CaseCreated,
            now,
            audit::changed_fields(&BTreeMap::new(), &values),
            input.performed_by.as_ref(),
        )?;
        let case = CaseRecord {
            account_id: ctx.account_id.clone(),
            domain_id: domain_id.to_owned(),
            case_id: case_id.clone(),
            template_id: input.template_id.clone(),
            reference_number,
            fields: values,
            tags: tags.clone(),
            created: now,
            updated: now,
            version: 1,
        };
        let published = events::event(svc, ctx, Change::case(&case, &event)).await?;
        let remembered = token.map(|t| IdempotencyRecord {
            account_id: ctx.account_id.clone(),
            domain_id: domain_id.to_owned(),
            operation: OPERATION,
            token: t.to_owned(),
            request_hash: digest.clone(),
            response: serde_json::json!({
                "caseId": response.case_id,
                "caseArn": response.case_arn,
            }),
            created: now,
        });
        match svc
            .store
            .insert_case(&case, &event, published.as_ref(), remembered.as_ref())
            .await
        {
            Ok(Created::New) => return Ok(response),
            // A concurrent request with the same token committed first.
            Ok(Created::Replayed(seen)) => {
                return idempotency::replay(OPERATION, seen, &digest);
            }
            Err(StoreError::Duplicate(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::internal(
        "no free reference number found; the domain's reference numbers are nearly exhausted",
    ))
}

/// The template a new case is made from: it must exist (ResourceNotFoundException), and be
/// neither deleted nor Inactive (ValidationException).
async fn case_template(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    template_id: &str,
) -> Result<TemplateDoc> {
    let record = svc
        .template_record(ctx, domain_id, template_id)
        .await?
        .ok_or_else(|| Error::not_found("Template", template_id))?;
    if record.deleted {
        return Err(Error::validation(format!(
            "Template {template_id} has been deleted; cases cannot be created from it"
        )));
    }
    let doc = TemplateDoc::from_record(&record)?;
    if doc.status != TemplateStatus::Active {
        return Err(Error::validation(format!(
            "Template {template_id} is Inactive; cases can only be created from Active templates"
        )));
    }
    Ok(doc)
}
