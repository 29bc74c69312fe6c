//! CreateCaseRule, BatchGetCaseRule, ListCaseRules, UpdateCaseRule, DeleteCaseRule. Case rules
//! are schema resources (`ResourceKind::CaseRule`) with a `CaseRuleDoc` body, so they share the
//! lookup, concurrent-safe update, soft delete and paging of fields, templates and layouts.

use super::definition::{self, CaseRuleDoc, FieldFacts, Purpose, rule_type};
use crate::Service;
use crate::arn;
use crate::schema::resource;
use crate::schema::templates::TemplateDoc;
use crate::store::DomainKey;
use crate::store::{ResourceKind, ResourceRecord};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};

const KIND: ResourceKind = ResourceKind::CaseRule;

fn case_rule_arn(ctx: &RequestContext, domain_id: &str, id: &str) -> String {
    arn::resource(&ctx.region, &ctx.account_id, domain_id, "case-rule", id)
}

fn describe(ctx: &RequestContext, r: ResourceRecord) -> Result<GetCaseRuleResponse> {
    let doc = CaseRuleDoc::from_record(&r)?;
    Ok(GetCaseRuleResponse {
        case_rule_arn: case_rule_arn(ctx, &r.domain_id, &r.id),
        case_rule_id: r.id,
        name: r.name,
        description: doc.description,
        rule: doc.rule,
        deleted: Some(r.deleted),
        created_time: Some(r.created),
        last_modified_time: Some(r.modified),
        tags: Some(r.tags),
    })
}

/// A template that attaches a case rule, and how.
struct Use {
    template_id: String,
    template_name: String,
    field_id: Option<String>,
}

/// Checks a rule about to be saved against the domain's current fields.
async fn check_rule(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    rule: &CaseRuleDetails,
) -> Result<()> {
    let fields = svc.case_fields(ctx, domain_id).await?;
    let facts = |id: &str| {
        fields.get(id).map(|f| FieldFacts {
            field_type: f.field_type,
            deleted: f.deleted,
        })
    };
    definition::compile(rule, &facts, Purpose::Save)?;
    Ok(())
}

/// The templates (not deleted) whose `rules` list `rule_id`.
async fn rule_uses(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    rule_id: &str,
) -> Result<Vec<Use>> {
    let mut uses = Vec::new();
    let templates =
        resource::all_of_kind(svc, ctx, domain_id, ResourceKind::Template, false).await?;
    for t in templates {
        let doc = TemplateDoc::from_record(&t)?;
        for r in doc.rules.iter().filter(|r| r.case_rule_id == rule_id) {
            uses.push(Use {
                template_id: t.id.clone(),
                template_name: t.name.clone(),
                field_id: r.field_id.clone(),
            });
        }
    }
    Ok(uses)
}

pub(crate) async fn create_case_rule(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateCaseRuleRequest,
) -> Result<CreateCaseRuleResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    check_rule(svc, ctx, &input.domain_id, &input.rule).await?;
    let doc = CaseRuleDoc {
        v: 1,
        description: input.description,
        rule: input.rule,
    };
    let record = resource::create(
        svc,
        ctx,
        input.domain_id,
        KIND,
        input.name,
        &doc,
        svc.quotas.case_rules_per_domain,
    )
    .await?;
    Ok(CreateCaseRuleResponse {
        case_rule_arn: case_rule_arn(ctx, &record.domain_id, &record.id),
        case_rule_id: record.id,
    })
}

/// Deleted rules are described with `deleted: true`; unknown ids are reported in `errors`
/// one by one; only a missing domain fails the call.
pub(crate) async fn batch_get_case_rule(
    svc: &Service,
    ctx: &RequestContext,
    input: BatchGetCaseRuleRequest,
) -> Result<BatchGetCaseRuleResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    let mut case_rules = Vec::new();
    let mut errors = Vec::new();
    for CaseRuleIdentifier { id } in input.case_rules {
        match svc
            .store
            .get_resource(DomainKey::new(&ctx.account_id, &input.domain_id).resource(KIND, &id))
            .await?
        {
            Some(r) => case_rules.push(describe(ctx, r)?),
            None => errors.push(CaseRuleError {
                message: Some(format!("CaseRule {id} could not be found")),
                error_code: "ResourceNotFoundException".to_owned(),
                id,
            }),
        }
    }
    Ok(BatchGetCaseRuleResponse {
        case_rules,
        errors,
        // Every id is answered in one call; nothing is ever left for a retry.
        unprocessed_case_rules: Some(vec![]),
    })
}

pub(crate) async fn list_case_rules(
    svc: &Service,
    ctx: &RequestContext,
    input: ListCaseRulesRequest,
) -> Result<ListCaseRulesResponse> {
    let (page, next_token) = resource::list_page(
        svc,
        ctx,
        &input.domain_id,
        KIND,
        &(),
        crate::paging::PageRequest::new(input.max_results, input.next_token.as_ref()),
        |_| true,
    )
    .await?;
    let case_rules = page
        .into_iter()
        .map(|r| {
            let doc = CaseRuleDoc::from_record(&r)?;
            Ok(CaseRuleSummary {
                case_rule_arn: case_rule_arn(ctx, &r.domain_id, &r.id),
                case_rule_id: r.id,
                name: r.name,
                rule_type: rule_type(&doc.rule),
                description: doc.description,
            })
        })
        .collect::<Result<_>>()?;
    Ok(ListCaseRulesResponse {
        case_rules,
        next_token,
    })
}

/// A partial update: members left out keep their value. A new `rule` must still fit every
/// template that uses it (a Required rule needs the template's `fieldId`, a FieldOptions
/// rule's child must agree with it), so templates never hold a rule they could not attach.
pub(crate) async fn update_case_rule(
    svc: &Service,
    ctx: &RequestContext,
    input: UpdateCaseRuleRequest,
) -> Result<UpdateCaseRuleResponse> {
    if input.name.is_none() && input.description.is_none() && input.rule.is_none() {
        return Err(Error::validation(
            "UpdateCaseRule needs at least one of name, description, rule",
        ));
    }
    let domain_id = input.domain_id.as_str();
    resource::live_resource(svc, ctx, domain_id, KIND, &input.case_rule_id).await?;
    if let Some(rule) = &input.rule {
        check_rule(svc, ctx, domain_id, rule).await?;
        let fields = svc.case_fields(ctx, domain_id).await?;
        let type_of = |id: &str| fields.type_of(id);
        for u in rule_uses(svc, ctx, domain_id, &input.case_rule_id).await? {
            if let Some(problem) =
                definition::template_rule_problem(rule, u.field_id.as_deref(), &type_of)
            {
                return Err(Error::validation(format!(
                    "rule: template '{}' ({}) uses this case rule, and {problem}",
                    u.template_name, u.template_id
                )));
            }
        }
    }
    resource::update_doc(
        svc,
        ctx,
        domain_id,
        KIND,
        &input.case_rule_id,
        input.name.as_deref(),
        |r, doc: &mut CaseRuleDoc| {
            resource::check_not_deleted(r)?;
            if let Some(d) = &input.description {
                doc.description = Some(d.clone());
            }
            if let Some(rule) = &input.rule {
                doc.rule = rule.clone();
            }
            Ok(())
        },
    )
    .await?;
    Ok(UpdateCaseRuleResponse {})
}

/// A rule still attached to a template cannot be deleted (ConflictException): the template
/// would silently stop enforcing it. Deleting a deleted rule again changes nothing.
pub(crate) async fn delete_case_rule(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteCaseRuleRequest,
) -> Result<DeleteCaseRuleResponse> {
    let domain_id = input.domain_id.as_str();
    let rule = svc
        .resource(ctx, domain_id, KIND, &input.case_rule_id)
        .await?;
    if !rule.deleted
        && let Some(u) = rule_uses(svc, ctx, domain_id, &input.case_rule_id)
            .await?
            .first()
    {
        return Err(Error::conflict(format!(
            "Case rule {} is used by template '{}' ({}); remove it from the template's rules first",
            rule.id, u.template_name, u.template_id
        )));
    }
    // AWS documents no limit on deleted case rules, unlike fields, templates and layouts.
    resource::soft_delete(svc, ctx, domain_id, KIND, &input.case_rule_id, usize::MAX).await?;
    Ok(DeleteCaseRuleResponse {})
}
