//! What a case's template demands of a write (DESIGN.md §2 "Required fields", "Case rules"):
//! `title`, the template's `requiredFields`, and its `required` and `fieldOptions` case rules.
//! Loaded once per request and template; the checks themselves are pure.

use super::create::required_fields;
use super::fields::CaseFields;
use super::validate;
use crate::Service;
use crate::rules::enforce::{self, AppliedRule};
use crate::schema::templates::TemplateDoc;
use crate::value::Value;
use caseload_model::{RequestContext, Result};
use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Debug, Default)]
pub(crate) struct Demands {
    required: Vec<String>,
    rules: Vec<AppliedRule>,
}

impl Demands {
    /// A new case: `changes` are the caller's values, `values` the case as it would be stored.
    /// Every required field has a value and every rule holds.
    pub fn check_new(
        &self,
        changes: &[(String, Value)],
        values: &BTreeMap<String, Value>,
    ) -> Result<()> {
        validate::check_none_blanked(&self.required, changes)?;
        validate::check_required_present(&self.required, values)?;
        enforce::check(&self.rules, values, None)
    }

    /// An update: no required field is cleared, and the rules the written fields can affect
    /// still hold (see `rules::enforce`).
    pub fn check_update(
        &self,
        changes: &[(String, Value)],
        values: &BTreeMap<String, Value>,
    ) -> Result<()> {
        validate::check_none_blanked(&self.required, changes)?;
        let touched: HashSet<String> = changes.iter().map(|(id, _)| id.clone()).collect();
        enforce::check(&self.rules, values, Some(&touched))
    }
}

/// What `template` demands of cases made from it. A case whose template is gone (it cannot
/// be: templates are only soft-deleted) would still need a title.
pub(crate) async fn demands(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    template: Option<&TemplateDoc>,
    fields: &CaseFields,
) -> Result<Demands> {
    let rules = match template {
        Some(t) => crate::rules::load::applied_rules(svc, ctx, domain_id, t, fields).await?,
        None => vec![],
    };
    Ok(Demands {
        required: required_fields(template, fields),
        rules,
    })
}
