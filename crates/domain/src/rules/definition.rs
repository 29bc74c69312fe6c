//! A case rule as stored, the checks a rule must pass before it is saved, and its compilation
//! into the form `eval` runs. Pure: the domain's fields come in as a lookup function.

use super::eval::{Condition, Rule};
use crate::store::ResourceRecord;
use crate::value::Value;
use caseload_model::shapes::{
    BooleanCondition, BooleanOperands, CaseRuleDetails, FieldOptionsCaseRule, FieldType,
    OperandOne, OperandTwo, RuleType,
};
use caseload_model::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Most comparisons (`equalTo`/`notEqualTo`) in one rule, and how deep conditions may nest: the
/// top-level list is level 1, the children of an `andAll`/`orAll` level 2 (the CompoundCondition
/// documentation: "a maximum of 5 conditions, spread across a maximum of 2 levels of nesting").
pub const MAX_CONDITIONS: usize = 5;
pub const MAX_LEVELS: usize = 2;

/// The stored body of a case rule. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseRuleDoc {
    pub v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The rule exactly as the client gave it; GetCaseRule returns it unchanged.
    pub rule: CaseRuleDetails,
}

impl CaseRuleDoc {
    pub fn from_record(r: &ResourceRecord) -> Result<CaseRuleDoc> {
        serde_json::from_value(r.body.clone()).map_err(Error::internal)
    }
}

pub fn rule_type(rule: &CaseRuleDetails) -> RuleType {
    match rule {
        CaseRuleDetails::Required(_) => RuleType::Required,
        CaseRuleDetails::Hidden(_) => RuleType::Hidden,
        CaseRuleDetails::FieldOptions(_) => RuleType::FieldOptions,
    }
}

/// What compiling a rule needs to know about a field of the domain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldFacts {
    pub field_type: FieldType,
    pub deleted: bool,
}

/// How strictly a rule is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// CreateCaseRule / UpdateCaseRule: every field must exist and not be deleted.
    Save,
    /// Enforcing a stored rule: fields deleted since the rule was saved are still understood.
    Enforce,
}

/// Checks `rule` against the domain's fields and compiles it. Errors are ValidationExceptions
/// naming the member (`rule.required.conditions[0].equalTo.operandTwo`) and the rule broken.
pub fn compile(
    rule: &CaseRuleDetails,
    field: &dyn Fn(&str) -> Option<FieldFacts>,
    purpose: Purpose,
) -> Result<Rule> {
    let cx = Cx { field, purpose };
    match rule {
        CaseRuleDetails::Required(r) => cx.flag("rule.required", r.default_value, &r.conditions),
        CaseRuleDetails::Hidden(r) => cx.flag("rule.hidden", r.default_value, &r.conditions),
        CaseRuleDetails::FieldOptions(r) => cx.options(r),
    }
}

/// Why a template cannot attach `rule` with the template rule's `fieldId`, if it cannot.
/// `type_of` gives the type of a field of the domain.
pub fn template_rule_problem(
    rule: &CaseRuleDetails,
    field_id: Option<&str>,
    type_of: &dyn Fn(&str) -> Option<FieldType>,
) -> Option<String> {
    match rule {
        CaseRuleDetails::Required(_) | CaseRuleDetails::Hidden(_) => {
            field_id.is_none().then(|| {
                format!(
                    "a {} rule applies to the field named by fieldId, which is missing",
                    rule_type(rule).as_str()
                )
            })
        }
        CaseRuleDetails::FieldOptions(r) => match (r.child_field_id.as_deref(), field_id) {
            (None, None) => Some(
                "a FieldOptions rule without a childFieldId applies to the field named by \
                 fieldId, which is missing"
                    .to_owned(),
            ),
            (Some(child), Some(f)) if child != f => Some(format!(
                "the rule's child field is '{child}', so fieldId must be '{child}' or left out, not '{f}'"
            )),
            (None, Some(f)) if r.parent_field_id.as_deref() == Some(f) => Some(format!(
                "field '{f}' is the rule's parent field and cannot also be its child"
            )),
            (None, Some(f)) => match type_of(f) {
                Some(FieldType::SingleSelect) | None => None,
                Some(t) => Some(format!(
                    "field '{f}' is of type {}; the child of a FieldOptions rule is a SingleSelect field",
                    t.as_str()
                )),
            },
            _ => None,
        },
    }
}

/// The field a template rule acts on: its `fieldId`, or for a FieldOptions rule the rule's own
/// `childFieldId` when it names one.
pub fn target_field(rule: &CaseRuleDetails, field_id: Option<&str>) -> Option<String> {
    match rule {
        CaseRuleDetails::FieldOptions(r) => r.child_field_id.as_deref().or(field_id),
        _ => field_id,
    }
    .map(str::to_owned)
}

struct Cx<'a> {
    field: &'a dyn Fn(&str) -> Option<FieldFacts>,
    purpose: Purpose,
}

impl Cx<'_> {
    /// The facts of a field a rule names, refusing unknown (and, when saving, deleted) fields.
    fn field(&self, member: &str, id: &str) -> Result<FieldFacts> {
        match (self.field)(id) {
            None => Err(Error::validation(format!(
                "{member}: field '{id}' does not exist in this domain"
            ))),
            Some(f) if f.deleted && self.purpose == Purpose::Save => Err(Error::validation(
                format!("{member}: field '{id}' has been deleted"),
            )),
            Some(f) => Ok(f),
        }
    }

    fn flag(&self, member: &str, default: bool, conditions: &[BooleanCondition]) -> Result<Rule> {
        let member = format!("{member}.conditions");
        let count = comparisons(conditions);
        if count > MAX_CONDITIONS {
            return Err(Error::validation(format!(
                "{member}: a case rule can have at most {MAX_CONDITIONS} conditions; this one has {count}"
            )));
        }
        Ok(Rule::Flag {
            default,
            conditions: self.conditions(&member, conditions, 1)?,
        })
    }

    fn conditions(
        &self,
        member: &str,
        conditions: &[BooleanCondition],
        level: usize,
    ) -> Result<Vec<Condition>> {
        conditions
            .iter()
            .enumerate()
            .map(|(i, c)| self.condition(&format!("{member}[{i}]"), c, level))
            .collect()
    }

    fn condition(&self, member: &str, c: &BooleanCondition, level: usize) -> Result<Condition> {
        let compound = |name: &str, children: &[BooleanCondition]| -> Result<Vec<Condition>> {
            let member = format!("{member}.{name}.conditions");
            if level >= MAX_LEVELS {
                return Err(Error::validation(format!(
                    "{member}: conditions can be nested at most {MAX_LEVELS} levels deep"
                )));
            }
            if children.is_empty() {
                return Err(Error::validation(format!(
                    "{member}: {name} needs at least one condition"
                )));
            }
            self.conditions(&member, children, level + 1)
        };
        Ok(match c {
            BooleanCondition::EqualTo(o) => self.compare(&format!("{member}.equalTo"), o, true)?,
            BooleanCondition::NotEqualTo(o) => {
                self.compare(&format!("{member}.notEqualTo"), o, false)?
            }
            BooleanCondition::AndAll(c) => Condition::All(compound("andAll", &c.conditions)?),
            BooleanCondition::OrAll(c) => Condition::Any(compound("orAll", &c.conditions)?),
        })
    }

    fn compare(&self, member: &str, o: &BooleanOperands, equal: bool) -> Result<Condition> {
        let OperandOne::FieldId(field_id) = &o.operand_one;
        let facts = self.field(&format!("{member}.operandOne.fieldId"), field_id)?;
        let operand = operand_value(
            &format!("{member}.operandTwo"),
            field_id,
            facts,
            &o.operand_two,
        )?;
        Ok(Condition::Compare {
            field_id: field_id.clone(),
            equal,
            operand,
            result: o.result,
        })
    }

    fn options(&self, r: &FieldOptionsCaseRule) -> Result<Rule> {
        let member = "rule.fieldOptions";
        let parent = r.parent_field_id.as_deref().ok_or_else(|| {
            Error::validation(format!(
                "{member}.parentFieldId: a fieldOptions rule needs the parent field whose value selects the child's options"
            ))
        })?;
        self.single_select(&format!("{member}.parentFieldId"), parent)?;
        if let Some(child) = r.child_field_id.as_deref() {
            self.single_select(&format!("{member}.childFieldId"), child)?;
            if child == parent {
                return Err(Error::validation(format!(
                    "{member}.childFieldId: the child field cannot be the parent field '{parent}'"
                )));
            }
        }
        let mut allowed: HashMap<String, HashSet<String>> = HashMap::new();
        for (i, m) in r.parent_child_field_options_mappings.iter().enumerate() {
            let values = m.child_field_option_values.iter().cloned().collect();
            if allowed
                .insert(m.parent_field_option_value.clone(), values)
                .is_some()
            {
                return Err(Error::validation(format!(
                    "{member}.parentChildFieldOptionsMappings[{i}].parentFieldOptionValue: '{}' is mapped more than once",
                    m.parent_field_option_value
                )));
            }
        }
        Ok(Rule::Options {
            parent: parent.to_owned(),
            child: r.child_field_id.clone(),
            allowed,
        })
    }

    fn single_select(&self, member: &str, id: &str) -> Result<()> {
        let facts = self.field(member, id)?;
        if facts.field_type != FieldType::SingleSelect {
            return Err(Error::validation(format!(
                "{member}: field '{id}' is of type {}; field options rules relate SingleSelect fields",
                facts.field_type.as_str()
            )));
        }
        Ok(())
    }
}

/// How many comparisons a condition list holds, at any depth.
fn comparisons(conditions: &[BooleanCondition]) -> usize {
    conditions
        .iter()
        .map(|c| match c {
            BooleanCondition::EqualTo(_) | BooleanCondition::NotEqualTo(_) => 1,
            BooleanCondition::AndAll(c) | BooleanCondition::OrAll(c) => comparisons(&c.conditions),
        })
        .sum()
}

/// `operandTwo` in the stored form of the field's values, so that it compares with them by
/// plain equality. The member must be the one the field's type takes, or `emptyValue`.
fn operand_value(
    member: &str,
    field_id: &str,
    facts: FieldFacts,
    operand: &OperandTwo,
) -> Result<Value> {
    let t = facts.field_type;
    let mismatch = |given: &str| {
        let takes = match t {
            FieldType::Number => "doubleValue",
            FieldType::Boolean => "booleanValue",
            _ => "stringValue",
        };
        Error::validation(format!(
            "{member}: field '{field_id}' is of type {} and is compared with a {takes} or an emptyValue, not a {given}",
            t.as_str()
        ))
    };
    Ok(match operand {
        OperandTwo::EmptyValue(_) => Value::Empty,
        OperandTwo::StringValue(s) => match t {
            FieldType::Text | FieldType::Url | FieldType::SingleSelect => Value::String(s.clone()),
            FieldType::User => Value::UserArn(s.clone()),
            FieldType::DateTime => {
                let ts = Timestamp::parse(s).ok_or_else(|| {
                    Error::validation(format!(
                        "{member}: field '{field_id}' is of type DateTime and '{s}' is not an ISO-8601 date-time with an offset"
                    ))
                })?;
                Value::String(ts.to_iso8601())
            }
            _ => return Err(mismatch("stringValue")),
        },
        // -0.0 is stored as 0.0 (see `value::typed_value`); the operand must match it.
        OperandTwo::DoubleValue(d) if t == FieldType::Number => {
            Value::Double(if *d == 0.0 { 0.0 } else { *d })
        }
        OperandTwo::DoubleValue(_) => return Err(mismatch("doubleValue")),
        OperandTwo::BooleanValue(b) if t == FieldType::Boolean => Value::Boolean(*b),
        OperandTwo::BooleanValue(_) => return Err(mismatch("booleanValue")),
    })
}
