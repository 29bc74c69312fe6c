//! What a template's case rules demand of a case write (DESIGN.md §2: the API enforces them):
//! a field whose `required` rule is true has a value, and a field under a `fieldOptions` rule
//! holds an option that its parent's current value allows. `hidden` rules are returned for
//! clients to honour and demand nothing here.
//!
//! A new case must satisfy every rule. An update must satisfy the rules it can have changed: those
//! whose field, or a field their conditions read, it writes. So closing a case whose template
//! requires a close reason when closed fails without one, while a case that predates a rule can
//! still be edited elsewhere.

use super::eval::{self, Rule, Values};
use crate::cases::validate::is_filled;
use caseload_model::{Error, Result};
use std::collections::HashSet;

/// One enforceable rule as a template attaches it to a field.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedRule {
    pub rule_id: String,
    pub rule_name: String,
    /// The field the rule acts on: the required field, or the child of a field options rule.
    pub field_id: String,
    pub rule: Rule,
}

impl AppliedRule {
    fn describe(&self) -> String {
        format!("case rule '{}' ({})", self.rule_name, self.rule_id)
    }

    /// True when a write to the fields in `touched` can change whether the rule holds.
    fn affected_by(&self, touched: &HashSet<String>) -> bool {
        if touched.contains(&self.field_id) {
            return true;
        }
        match &self.rule {
            Rule::Flag { conditions, .. } => {
                let mut read = HashSet::new();
                eval::operand_fields(conditions, &mut read);
                read.iter().any(|f| touched.contains(*f))
            }
            Rule::Options { parent, .. } => touched.contains(parent),
        }
    }
}

/// Checks `values` (a case as it would be stored) against `rules`. `touched` holds the fields an
/// update writes, `None` for a new case.
pub fn check(
    rules: &[AppliedRule],
    values: &Values,
    touched: Option<&HashSet<String>>,
) -> Result<()> {
    for r in rules {
        if touched.is_some_and(|t| !r.affected_by(t)) {
            continue;
        }
        match &r.rule {
            Rule::Flag {
                default,
                conditions,
            } => {
                if eval::flag(*default, conditions, values) && !is_filled(values.get(&r.field_id)) {
                    return Err(Error::validation(format!(
                        "Field '{}' is required by {} and has no value",
                        r.field_id,
                        r.describe()
                    )));
                }
            }
            Rule::Options {
                parent, allowed, ..
            } => {
                let Some(crate::value::Value::String(chosen)) = values.get(&r.field_id) else {
                    continue;
                };
                let Some(permitted) = eval::allowed_options(parent, allowed, values) else {
                    continue;
                };
                if !permitted.contains(chosen) {
                    let mut list: Vec<&str> = permitted.iter().map(String::as_str).collect();
                    list.sort_unstable();
                    let parent_value = match eval::parent_key(values.get(parent)) {
                        "" => "has no value".to_owned(),
                        p => format!("is '{p}'"),
                    };
                    return Err(Error::validation(format!(
                        "'{chosen}' is not an allowed option of field '{}' while field '{parent}' {parent_value} ({}); allowed: [{}]",
                        r.field_id,
                        r.describe(),
                        list.join(", ")
                    )));
                }
            }
        }
    }
    Ok(())
}
