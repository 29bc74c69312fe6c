//! Rule evaluation: a rule compiled against the domain's field types, and pure functions that
//! say what it decides for a case's values. No storage, no clock.
//!
//! The semantics (AWS documents only the outline; DESIGN.md §2 has the API enforce them):
//! - `equalTo` is true when the field holds exactly the operand (strings are case-sensitive,
//!   DateTime values compare as instants); with `emptyValue` it is true when the field has no
//!   value (never set, or cleared). `notEqualTo` is its negation.
//! - A condition *decides* a value: a comparison that is true decides its `result`; `orAll`
//!   decides what its first deciding child decides; `andAll` decides what its first child decides
//!   when every child decides (is true); otherwise a condition decides nothing.
//! - `required` and `hidden` rules take the value of their first deciding condition, or
//!   `defaultValue` when none decides ("the first condition to evaluate to true dictates the value
//!   of the rule").
//! - A `fieldOptions` rule restricts the child field to the options mapped to the parent's current
//!   value (a parent without a value is the empty string `""`). A parent value with no mapping
//!   leaves the child unrestricted: the rule says nothing about it.

use crate::value::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A condition whose operands are in the stored form of their field's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `equalTo` (`equal`) or `notEqualTo`. `operand` is `Value::Empty` for `emptyValue`.
    Compare {
        field_id: String,
        equal: bool,
        operand: Value,
        result: bool,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

/// A rule ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// A `required` or `hidden` rule: a flag set by the first deciding condition.
    Flag {
        default: bool,
        conditions: Vec<Condition>,
    },
    /// A `fieldOptions` rule: parent option value → the child options it allows.
    Options {
        parent: String,
        child: Option<String>,
        allowed: HashMap<String, HashSet<String>>,
    },
}

/// The values of a case, by field id.
pub type Values = BTreeMap<String, Value>;

/// True when the field's value `v` equals `operand` (`Value::Empty`: the field has no value).
pub fn equals(v: Option<&Value>, operand: &Value) -> bool {
    match (v, operand) {
        (None | Some(Value::Empty), Value::Empty) => true,
        (Some(v), operand) => v == operand,
        (None, _) => false,
    }
}

/// What `c` decides for `values`, if anything.
pub fn decide(c: &Condition, values: &Values) -> Option<bool> {
    match c {
        Condition::Compare {
            field_id,
            equal,
            operand,
            result,
        } => (equals(values.get(field_id), operand) == *equal).then_some(*result),
        Condition::Any(children) => children.iter().find_map(|c| decide(c, values)),
        Condition::All(children) => {
            let mut first = None;
            for c in children {
                let d = decide(c, values)?;
                first.get_or_insert(d);
            }
            first
        }
    }
}

/// The value of a `required` or `hidden` rule for `values`.
pub fn flag(default: bool, conditions: &[Condition], values: &Values) -> bool {
    conditions
        .iter()
        .find_map(|c| decide(c, values))
        .unwrap_or(default)
}

/// The child options a `fieldOptions` rule allows for `values`; `None` when it allows any.
pub fn allowed_options<'a>(
    parent: &str,
    allowed: &'a HashMap<String, HashSet<String>>,
    values: &Values,
) -> Option<&'a HashSet<String>> {
    allowed.get(parent_key(values.get(parent)))
}

/// The mapping key of a parent value: its string, or `""` when it has none.
pub fn parent_key(v: Option<&Value>) -> &str {
    match v {
        Some(Value::String(s)) => s,
        _ => "",
    }
}

/// The fields a condition list reads: a write that changes one of them may change the rule.
pub fn operand_fields<'a>(conditions: &'a [Condition], out: &mut HashSet<&'a str>) {
    for c in conditions {
        match c {
            Condition::Compare { field_id, .. } => {
                out.insert(field_id);
            }
            Condition::All(children) | Condition::Any(children) => operand_fields(children, out),
        }
    }
}
