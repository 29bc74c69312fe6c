//! Which values the primary case holds after a merge (the StartMergeCases documentation):
//! - a selected field takes the secondary's value, and is cleared when the secondary has none;
//! - an unselected field keeps the primary's value, or takes the secondary's when the primary
//!   has none, even if the field is not on the primary's template.
//!
//! Only mergeable fields take part: custom fields that are not deleted, and the system fields
//! `assigned_queue`, `assigned_user`, `summary` and `case_reason`. Pure, so it is unit-tested.

use crate::value::Value;
use std::collections::{BTreeMap, HashSet};

/// The system fields a merge may copy.
pub const MERGEABLE_SYSTEM_FIELDS: &[&str] =
    &["assigned_queue", "assigned_user", "summary", "case_reason"];

/// True when `v` is a value (not absent, not cleared).
fn has(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Empty))
}

/// The changes the merge makes to the primary's values, in field id order.
pub fn merged_changes(
    primary: &BTreeMap<String, Value>,
    secondary: &BTreeMap<String, Value>,
    selected: &HashSet<String>,
    mergeable: impl Fn(&str) -> bool,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let ids: std::collections::BTreeSet<&String> = secondary.keys().chain(selected).collect();
    for id in ids {
        if !mergeable(id) {
            continue;
        }
        let (mine, theirs) = (primary.get(id), secondary.get(id));
        let next = if selected.contains(id) {
            match theirs {
                Some(v) if has(Some(v)) => Some(v.clone()),
                _ if has(mine) => Some(Value::Empty),
                _ => None,
            }
        } else if !has(mine) && has(theirs) {
            theirs.cloned()
        } else {
            None
        };
        if let Some(v) = next
            && mine != Some(&v)
        {
            out.push((id.clone(), v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn selected_fields_follow_the_secondary_others_fill_gaps() {
        let primary = map(&[
            ("summary", s("mine")),
            ("a", s("mine")),
            ("b", Value::Empty),
            ("c", s("mine")),
            ("title", s("primary title")),
        ]);
        let secondary = map(&[
            ("summary", s("theirs")),
            ("a", s("theirs")),
            ("b", s("theirs")),
            ("c", Value::Empty),
            ("d", s("theirs")),
            ("title", s("secondary title")),
            ("status", s("open")),
        ]);
        let mergeable = |id: &str| !matches!(id, "title" | "status");
        let none = HashSet::new();
        assert_eq!(
            merged_changes(&primary, &secondary, &none, mergeable),
            vec![("b".into(), s("theirs")), ("d".into(), s("theirs"))]
        );
        let selected: HashSet<String> = ["summary", "c", "title"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(
            merged_changes(&primary, &secondary, &selected, mergeable),
            vec![
                ("b".into(), s("theirs")),
                ("c".into(), Value::Empty),
                ("d".into(), s("theirs")),
                ("summary".into(), s("theirs")),
            ]
        );
        // Nothing to clear when neither case has a value.
        let selected: HashSet<String> = ["e".to_owned()].into();
        assert!(merged_changes(&map(&[]), &map(&[]), &selected, mergeable).is_empty());
    }
}
