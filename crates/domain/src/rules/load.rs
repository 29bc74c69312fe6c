//! Loading the enforceable rules a template attaches, compiled against the domain's fields.

use super::definition::{self, CaseRuleDoc, FieldFacts, Purpose};
use super::enforce::AppliedRule;
use crate::Service;
use crate::cases::fields::CaseFields;
use crate::schema::templates::TemplateDoc;
use crate::store::DomainKey;
use crate::store::ResourceKind;
use caseload_model::shapes::CaseRuleDetails;
use caseload_model::{RequestContext, Result};

/// The `required` and `fieldOptions` rules of `template`, one per (rule, field) it lists.
/// Left out: `hidden` rules (nothing to enforce), rules deleted since the template was saved,
/// and rules on fields deleted since (such a field can no longer be given a value, as with a
/// template's `requiredFields`).
pub(crate) async fn applied_rules(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    template: &TemplateDoc,
    fields: &CaseFields,
) -> Result<Vec<AppliedRule>> {
    let facts = |id: &str| {
        fields.get(id).map(|f| FieldFacts {
            field_type: f.field_type,
            deleted: f.deleted,
        })
    };
    let mut out = Vec::new();
    for t in &template.rules {
        let Some(record) = svc
            .store
            .get_resource(
                DomainKey::new(&ctx.account_id, domain_id)
                    .resource(ResourceKind::CaseRule, &t.case_rule_id),
            )
            .await?
            .filter(|r| !r.deleted)
        else {
            continue;
        };
        let doc = CaseRuleDoc::from_record(&record)?;
        if matches!(doc.rule, CaseRuleDetails::Hidden(_)) {
            continue;
        }
        let Some(field_id) = definition::target_field(&doc.rule, t.field_id.as_deref()) else {
            continue;
        };
        if fields.get(&field_id).is_none_or(|f| f.deleted) {
            continue;
        }
        out.push(AppliedRule {
            rule: definition::compile(&doc.rule, &facts, Purpose::Enforce)?,
            rule_id: record.id,
            rule_name: record.name,
            field_id,
        });
    }
    Ok(out)
}
