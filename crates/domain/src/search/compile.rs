//! From the wire's `CaseFilter` and `Sort`s to the compiled query, with every field's type
//! resolved from the domain's schema. Everything a backend could trip over is refused here with a
//! ValidationException that names the field and the rule, so backends only ever see valid queries.

use super::{DEFAULT_SORT_FIELD, FieldPredicate, Filter, Op, SortSpec};
use crate::value::{Value, typed_value};
use caseload_model::shapes::{CaseFilter, FieldFilter, FieldType, Order, Sort, TagFilter};
use caseload_model::{Error, Result};

/// The deepest filter accepted: a leaf is depth 1, each `not`/`andAll`/`orAll` around it adds 1.
pub const MAX_FILTER_DEPTH: usize = 5;
/// The most children an `andAll` or `orAll` may have (the model's list limit).
pub const MAX_FILTER_CHILDREN: usize = 10;
/// The most sorts a search may have (the model's list limit).
pub const MAX_SORTS: usize = 2;

/// Compiles a filter. `field_type` resolves a field id of the domain (deleted fields included,
/// since filters on them still match stored values); unknown ids are refused.
pub fn compile_filter(
    f: &CaseFilter,
    field_type: &impl Fn(&str) -> Option<FieldType>,
) -> Result<Filter> {
    compile_at(f, field_type, 1)
}

fn compile_at(
    f: &CaseFilter,
    field_type: &impl Fn(&str) -> Option<FieldType>,
    depth: usize,
) -> Result<Filter> {
    if depth > MAX_FILTER_DEPTH {
        return Err(Error::validation(format!(
            "The filter is nested more than {MAX_FILTER_DEPTH} levels deep; simplify it"
        )));
    }
    let children = |list: &[CaseFilter], name: &str| -> Result<Vec<Filter>> {
        if list.len() > MAX_FILTER_CHILDREN {
            return Err(Error::validation(format!(
                "{name} has {} filters; at most {MAX_FILTER_CHILDREN} are allowed",
                list.len()
            )));
        }
        list.iter()
            .map(|c| compile_at(c, field_type, depth + 1))
            .collect()
    };
    Ok(match f {
        CaseFilter::Field(ff) => Filter::Field(compile_field(ff, field_type)?),
        CaseFilter::Not(inner) => Filter::Not(Box::new(compile_at(inner, field_type, depth + 1)?)),
        CaseFilter::AndAll(list) => Filter::And(children(list, "andAll")?),
        CaseFilter::OrAll(list) => Filter::Or(children(list, "orAll")?),
        CaseFilter::Tag(TagFilter::EqualTo(tv)) => match &tv.key {
            Some(key) if !key.is_empty() => Filter::Tag {
                key: key.clone(),
                value: tv.value.clone(),
            },
            _ => {
                return Err(Error::validation(
                    "A tag filter needs a key (and optionally a value)",
                ));
            }
        },
    })
}

fn compile_field(
    ff: &FieldFilter,
    field_type: &impl Fn(&str) -> Option<FieldType>,
) -> Result<FieldPredicate> {
    let (op, name, fv) = match ff {
        FieldFilter::EqualTo(v) => (Op::EqualTo, "equalTo", v),
        FieldFilter::Contains(v) => (Op::Contains, "contains", v),
        FieldFilter::GreaterThan(v) => (Op::GreaterThan, "greaterThan", v),
        FieldFilter::GreaterThanOrEqualTo(v) => {
            (Op::GreaterThanOrEqualTo, "greaterThanOrEqualTo", v)
        }
        FieldFilter::LessThan(v) => (Op::LessThan, "lessThan", v),
        FieldFilter::LessThanOrEqualTo(v) => (Op::LessThanOrEqualTo, "lessThanOrEqualTo", v),
    };
    let id = &fv.id;
    let t = field_type(id).ok_or_else(|| {
        Error::validation(format!(
            "The filter uses field '{id}', which does not exist in this domain"
        ))
    })?;
    let allowed = match op {
        Op::EqualTo => true,
        Op::Contains => matches!(t, FieldType::Text | FieldType::Url),
        _ => matches!(t, FieldType::Number | FieldType::DateTime),
    };
    if !allowed {
        let applies_to = if op == Op::Contains {
            "Text and Url fields"
        } else {
            "Number and DateTime fields"
        };
        return Err(Error::validation(format!(
            "The {name} operator cannot be used on field '{id}' of type {}; it applies to {applies_to}",
            t.as_str()
        )));
    }
    let value = typed_value(id, t, &fv.value)?;
    if value == Value::Empty && op != Op::EqualTo {
        return Err(Error::validation(format!(
            "emptyValue can only be used with equalTo (field '{id}' uses {name})"
        )));
    }
    Ok(FieldPredicate {
        field_id: id.clone(),
        field_type: t,
        op,
        value,
    })
}

/// Compiles the sorts; none means `last_updated_datetime` descending. Any field type can be
/// sorted on; an unknown field is refused.
pub fn compile_sorts(
    sorts: &[Sort],
    field_type: &impl Fn(&str) -> Option<FieldType>,
) -> Result<Vec<SortSpec>> {
    if sorts.len() > MAX_SORTS {
        return Err(Error::validation(format!(
            "A search can have at most {MAX_SORTS} sorts, not {}",
            sorts.len()
        )));
    }
    if sorts.is_empty() {
        return Ok(vec![SortSpec {
            field_id: DEFAULT_SORT_FIELD.to_owned(),
            field_type: FieldType::DateTime,
            descending: true,
        }]);
    }
    sorts
        .iter()
        .map(|s| {
            let t = field_type(&s.field_id).ok_or_else(|| {
                Error::validation(format!(
                    "Cannot sort by field '{}': it does not exist in this domain",
                    s.field_id
                ))
            })?;
            Ok(SortSpec {
                field_id: s.field_id.clone(),
                field_type: t,
                descending: s.sort_order == Order::Desc,
            })
        })
        .collect()
}

/// The words of a text for `searchTerm`: maximal runs of letters and digits, lower-cased. The
/// same function splits the search term and the values searched, so they always agree.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}
