//! Templates: which fields a case must have, its layout, its rules, and tags to propagate.
//! CreateTemplate, GetTemplate, UpdateTemplate, DeleteTemplate, ListTemplates.

use super::resource;
use crate::Service;
use crate::arn;
use crate::rules::definition::{CaseRuleDoc, template_rule_problem};
use crate::store::DomainKey;
use crate::store::{ResourceKind, ResourceRecord};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The stored body of a template. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateDoc {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_configuration: Option<LayoutConfiguration>,
    /// Ids of the fields a case created from this template must have.
    #[serde(default)]
    pub required_fields: Vec<String>,
    pub status: TemplateStatus,
    #[serde(default)]
    pub rules: Vec<TemplateRule>,
    #[serde(default)]
    pub tag_propagation_configurations: Vec<TagPropagationConfiguration>,
}

impl TemplateDoc {
    pub fn from_record(r: &ResourceRecord) -> Result<TemplateDoc> {
        resource::from_body(r)
    }
}

fn template_arn(ctx: &RequestContext, domain_id: &str, template_id: &str) -> String {
    arn::resource(
        &ctx.region,
        &ctx.account_id,
        domain_id,
        "template",
        template_id,
    )
}

/// The members CreateTemplate and UpdateTemplate share, as given (None = not given).
struct Settings<'a> {
    layout_configuration: Option<&'a LayoutConfiguration>,
    required_fields: Option<&'a [RequiredField]>,
    rules: Option<&'a [TemplateRule]>,
    tag_propagation_configurations: Option<&'a [TagPropagationConfiguration]>,
}

/// The `Settings` of a CreateTemplate or UpdateTemplate request, whose members share names.
macro_rules! settings_of {
    ($input:expr) => {
        Settings {
            layout_configuration: $input.layout_configuration.as_ref(),
            required_fields: $input.required_fields.as_deref(),
            rules: $input.rules.as_deref(),
            tag_propagation_configurations: $input.tag_propagation_configurations.as_deref(),
        }
    };
}

/// Checks that everything a template refers to exists in the domain and is not deleted:
/// required fields (each once), the default layout, case rules and the fields they apply
/// to; and that propagated tag keys are keys a user may set.
async fn check_template(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    s: &Settings<'_>,
) -> Result<()> {
    let mut seen = HashSet::new();
    for f in s.required_fields.unwrap_or_default() {
        if !seen.insert(f.field_id.as_str()) {
            return Err(Error::validation(format!(
                "requiredFields: field {} is listed more than once",
                f.field_id
            )));
        }
        svc.live_reference(
            ctx,
            domain_id,
            ResourceKind::Field,
            &f.field_id,
            "requiredFields",
        )
        .await?;
    }
    if let Some(layout) = s
        .layout_configuration
        .and_then(|l| l.default_layout.as_ref())
    {
        svc.live_reference(
            ctx,
            domain_id,
            ResourceKind::Layout,
            layout,
            "layoutConfiguration.defaultLayout",
        )
        .await?;
    }
    let rules = s.rules.unwrap_or_default();
    let fields = if rules.is_empty() {
        Default::default()
    } else {
        svc.case_fields(ctx, domain_id).await?
    };
    let mut attached = HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let member = format!("rules[{i}]");
        if !attached.insert((rule.case_rule_id.as_str(), rule.field_id.as_deref())) {
            return Err(Error::validation(format!(
                "{member}: case rule {} is attached to the same field more than once",
                rule.case_rule_id
            )));
        }
        let record = svc
            .live_reference(
                ctx,
                domain_id,
                ResourceKind::CaseRule,
                &rule.case_rule_id,
                &format!("{member}.caseRuleId"),
            )
            .await?;
        if let Some(field) = &rule.field_id {
            svc.live_reference(
                ctx,
                domain_id,
                ResourceKind::Field,
                field,
                &format!("{member}.fieldId"),
            )
            .await?;
        }
        let doc = CaseRuleDoc::from_record(&record)?;
        let type_of = |id: &str| fields.type_of(id);
        if let Some(problem) = template_rule_problem(&doc.rule, rule.field_id.as_deref(), &type_of)
        {
            return Err(Error::validation(format!(
                "{member}: case rule {} cannot be attached here: {problem}",
                rule.case_rule_id
            )));
        }
    }
    for t in s.tag_propagation_configurations.unwrap_or_default() {
        crate::tags::check_tag_keys(t.tag_map.keys())?;
    }
    Ok(())
}

/// The ids of the domain's deleted fields among `ids`: GetTemplate leaves them out.
async fn deleted_fields(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    ids: &[String],
) -> Result<HashSet<String>> {
    let mut deleted = HashSet::new();
    for id in ids {
        let r = svc
            .store
            .get_resource(
                DomainKey::new(&ctx.account_id, domain_id).resource(ResourceKind::Field, id),
            )
            .await?;
        if r.is_some_and(|r| r.deleted) {
            deleted.insert(id.clone());
        }
    }
    Ok(deleted)
}

pub(crate) async fn create_template(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateTemplateRequest,
) -> Result<CreateTemplateResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    check_template(svc, ctx, &input.domain_id, &settings_of!(input)).await?;
    let doc = TemplateDoc {
        v: 1,
        description: input.description,
        layout_configuration: input.layout_configuration,
        required_fields: input
            .required_fields
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.field_id)
            .collect(),
        // AWS does not document the default; a template is usable unless made Inactive.
        status: input.status.unwrap_or(TemplateStatus::Active),
        rules: input.rules.unwrap_or_default(),
        tag_propagation_configurations: input.tag_propagation_configurations.unwrap_or_default(),
    };
    let record = resource::create(
        svc,
        ctx,
        input.domain_id,
        ResourceKind::Template,
        input.name,
        &doc,
        svc.quotas.templates_per_domain,
    )
    .await?;
    Ok(CreateTemplateResponse {
        template_arn: template_arn(ctx, &record.domain_id, &record.id),
        template_id: record.id,
    })
}

/// A deleted template is still returned, with `deleted: true` (DeleteTemplate documentation).
pub(crate) async fn get_template(
    svc: &Service,
    ctx: &RequestContext,
    input: GetTemplateRequest,
) -> Result<GetTemplateResponse> {
    let r = svc
        .resource(
            ctx,
            &input.domain_id,
            ResourceKind::Template,
            &input.template_id,
        )
        .await?;
    let doc = TemplateDoc::from_record(&r)?;
    // "GetTemplate does not return field IDs for deleted fields" (DeleteField documentation).
    let gone = deleted_fields(svc, ctx, &r.domain_id, &doc.required_fields).await?;
    Ok(GetTemplateResponse {
        template_arn: template_arn(ctx, &r.domain_id, &r.id),
        template_id: r.id,
        name: r.name,
        description: doc.description,
        layout_configuration: doc.layout_configuration,
        required_fields: Some(
            doc.required_fields
                .into_iter()
                .filter(|f| !gone.contains(f))
                .map(|field_id| RequiredField { field_id })
                .collect(),
        ),
        rules: Some(doc.rules),
        status: doc.status,
        tag_propagation_configurations: Some(doc.tag_propagation_configurations),
        tags: Some(r.tags),
        deleted: Some(r.deleted),
        created_time: Some(r.created),
        last_modified_time: Some(r.modified),
    })
}

/// A partial update: members left out keep their value (UpdateTemplate documentation).
pub(crate) async fn update_template(
    svc: &Service,
    ctx: &RequestContext,
    input: UpdateTemplateRequest,
) -> Result<UpdateTemplateResponse> {
    if input.name.is_none()
        && input.description.is_none()
        && input.layout_configuration.is_none()
        && input.required_fields.is_none()
        && input.rules.is_none()
        && input.status.is_none()
        && input.tag_propagation_configurations.is_none()
    {
        return Err(Error::validation(
            "UpdateTemplate needs at least one of name, description, layoutConfiguration, \
             requiredFields, status, rules, tagPropagationConfigurations",
        ));
    }
    // Refuse a deleted or missing template before checking what the update refers to.
    resource::live_resource(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Template,
        &input.template_id,
    )
    .await?;
    check_template(svc, ctx, &input.domain_id, &settings_of!(input)).await?;
    resource::update_doc(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Template,
        &input.template_id,
        input.name.as_deref(),
        |r, doc: &mut TemplateDoc| {
            resource::check_not_deleted(r)?;
            if let Some(d) = &input.description {
                doc.description = Some(d.clone());
            }
            if let Some(l) = &input.layout_configuration {
                doc.layout_configuration = Some(l.clone());
            }
            if let Some(f) = &input.required_fields {
                doc.required_fields = f.iter().map(|f| f.field_id.clone()).collect();
            }
            if let Some(rules) = &input.rules {
                doc.rules.clone_from(rules);
            }
            if let Some(s) = input.status {
                doc.status = s;
            }
            if let Some(t) = &input.tag_propagation_configurations {
                doc.tag_propagation_configurations.clone_from(t);
            }
            Ok(())
        },
    )
    .await?;
    Ok(UpdateTemplateResponse {})
}

pub(crate) async fn delete_template(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteTemplateRequest,
) -> Result<DeleteTemplateResponse> {
    resource::soft_delete(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Template,
        &input.template_id,
        svc.quotas.deleted_templates_per_domain,
    )
    .await?;
    Ok(DeleteTemplateResponse {})
}

pub(crate) async fn list_templates(
    svc: &Service,
    ctx: &RequestContext,
    input: ListTemplatesRequest,
) -> Result<ListTemplatesResponse> {
    // No status filter means every status.
    let statuses = input.status.unwrap_or_default();
    let (page, next_token) = resource::list_page(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Template,
        &statuses,
        crate::paging::PageRequest::new(input.max_results, input.next_token.as_ref()),
        |r| {
            statuses.is_empty()
                || TemplateDoc::from_record(r).is_ok_and(|d| statuses.contains(&d.status))
        },
    )
    .await?;
    let templates = page
        .into_iter()
        .map(|r| {
            let doc = TemplateDoc::from_record(&r)?;
            Ok(TemplateSummary {
                template_arn: template_arn(ctx, &r.domain_id, &r.id),
                template_id: r.id,
                name: r.name,
                status: doc.status,
                tag_propagation_configurations: Some(doc.tag_propagation_configurations),
            })
        })
        .collect::<Result<_>>()?;
    Ok(ListTemplatesResponse {
        templates,
        next_token,
    })
}
