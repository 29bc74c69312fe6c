//! What a merge does to related items (the StartMergeCases documentation), as a pure plan:
//! - items of the selected types move from the secondary to the primary, keeping their id,
//!   creator, association time and tags; File and SLA items never move;
//! - a contact attached to both cases does not move: the primary keeps its item, which gains
//!   the tag keys only the secondary's item has;
//! - a secondary's link to a case the primary already links to is removed instead of moved, and
//!   so is a secondary's link to the primary itself (it would link the primary to itself);
//! - the two cases end up linked to each other (a ConnectCase item on each, unless one exists).

use crate::store::RelatedItemRecord;
use caseload_model::shapes::RelatedItemType;

/// Item types a merge never moves.
const NEVER_MOVED: &[RelatedItemType] = &[RelatedItemType::File, RelatedItemType::Sla];

#[derive(Debug, Default, PartialEq)]
pub struct RelatedPlan {
    /// Items to replace (each at its stored version + 1): moved to the primary, or given tags.
    pub changed: Vec<RelatedItemRecord>,
    /// Secondary items to delete.
    pub removed: Vec<RelatedItemRecord>,
    /// How many of `changed` move from the secondary to the primary.
    pub moved: usize,
    /// Whether the primary needs a new link to the secondary, and the secondary one to the primary.
    pub link_primary: bool,
    pub link_secondary: bool,
}

impl RelatedPlan {
    /// How many related items each case holds after the merge: (primary, secondary).
    pub fn counts(&self, primary_now: usize, secondary_now: usize) -> (usize, usize) {
        (
            primary_now + self.moved + usize::from(self.link_primary),
            secondary_now - self.moved - self.removed.len() + usize::from(self.link_secondary),
        )
    }
}

fn links_to(items: &[RelatedItemRecord], case_id: &str) -> bool {
    items.iter().any(|i| {
        i.item_type == RelatedItemType::ConnectCase && i.ref_key.as_deref() == Some(case_id)
    })
}

/// Plans the related-item side of merging `secondary_items` into `primary_items`.
pub fn plan(
    primary_id: &str,
    primary_items: &[RelatedItemRecord],
    secondary_id: &str,
    secondary_items: &[RelatedItemRecord],
    move_types: &[RelatedItemType],
) -> RelatedPlan {
    let mut plan = RelatedPlan::default();
    let mut secondary_keeps_link = false;
    for item in secondary_items {
        let selected =
            move_types.contains(&item.item_type) && !NEVER_MOVED.contains(&item.item_type);
        if !selected {
            if item.item_type == RelatedItemType::ConnectCase
                && item.ref_key.as_deref() == Some(primary_id)
            {
                secondary_keeps_link = true;
            }
            continue;
        }
        match item.item_type {
            RelatedItemType::Contact => {
                let twin = primary_items
                    .iter()
                    .find(|p| p.item_type == RelatedItemType::Contact && p.ref_key == item.ref_key);
                if let Some(twin) = twin {
                    let mut merged = twin.clone();
                    for (k, v) in &item.tags {
                        merged.tags.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    if merged.tags != twin.tags {
                        merged.version += 1;
                        plan.changed.push(merged);
                    }
                    continue;
                }
            }
            RelatedItemType::ConnectCase => {
                let target = item.ref_key.as_deref().unwrap_or_default();
                if target == primary_id || links_to(primary_items, target) {
                    plan.removed.push(item.clone());
                    continue;
                }
            }
            _ => {}
        }
        let mut moved = item.clone();
        moved.case_id = primary_id.to_owned();
        moved.version += 1;
        plan.changed.push(moved);
        plan.moved += 1;
    }
    plan.link_primary = !links_to(primary_items, secondary_id);
    plan.link_secondary = !secondary_keeps_link;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::Timestamp;

    fn item(
        case: &str,
        id: &str,
        t: RelatedItemType,
        key: Option<&str>,
        tags: &[&str],
    ) -> RelatedItemRecord {
        RelatedItemRecord {
            account_id: "a".into(),
            domain_id: "d".into(),
            case_id: case.into(),
            related_item_id: id.into(),
            item_type: t,
            association_time: Timestamp::from_unix_millis(1),
            seq: 0,
            ref_key: key.map(str::to_owned),
            body: serde_json::json!({}),
            tags: tags
                .iter()
                .map(|k| ((*k).to_owned(), Some("v".to_owned())))
                .collect(),
            version: 3,
        }
    }

    #[test]
    fn items_move_merge_or_go_and_the_cases_get_linked() {
        use RelatedItemType::*;
        let primary = vec![
            item("p", "p-contact", Contact, Some("arn:c1"), &["a"]),
            item("p", "p-link", ConnectCase, Some("x"), &[]),
        ];
        let secondary = vec![
            item("s", "s-comment", Comment, None, &[]),
            item("s", "s-contact-dup", Contact, Some("arn:c1"), &["a", "b"]),
            item("s", "s-contact", Contact, Some("arn:c2"), &[]),
            item("s", "s-link-dup", ConnectCase, Some("x"), &[]),
            item("s", "s-link-self", ConnectCase, Some("p"), &[]),
            item("s", "s-link", ConnectCase, Some("y"), &[]),
            item("s", "s-file", File, Some("arn:f"), &[]),
            item("s", "s-sla", Sla, Some("sla"), &[]),
            item("s", "s-custom", Custom, None, &[]),
        ];
        let all = [Comment, Contact, ConnectCase, Custom, File, Sla];
        let plan = plan("p", &primary, "s", &secondary, &all);
        let changed: Vec<(&str, &str, i64)> = plan
            .changed
            .iter()
            .map(|i| (i.related_item_id.as_str(), i.case_id.as_str(), i.version))
            .collect();
        assert_eq!(
            changed,
            vec![
                ("s-comment", "p", 4),
                ("p-contact", "p", 4),
                ("s-contact", "p", 4),
                ("s-link", "p", 4),
                ("s-custom", "p", 4),
            ]
        );
        assert_eq!(plan.changed[1].tags.len(), 2);
        let removed: Vec<&str> = plan
            .removed
            .iter()
            .map(|i| i.related_item_id.as_str())
            .collect();
        assert_eq!(removed, vec!["s-link-dup", "s-link-self"]);
        assert_eq!(plan.moved, 4);
        assert!(plan.link_primary && plan.link_secondary);
        assert_eq!(
            plan.counts(primary.len(), secondary.len()),
            (2 + 4 + 1, 9 - 4 - 2 + 1)
        );

        // Nothing selected: nothing moves; an existing link either way is kept, not doubled.
        let plan = super::plan("p", &primary, "s", &secondary, &[]);
        assert!(plan.changed.is_empty() && plan.removed.is_empty());
        assert!(plan.link_primary && !plan.link_secondary);
        let linked = vec![item("p", "p-to-s", ConnectCase, Some("s"), &[])];
        assert!(!super::plan("p", &linked, "s", &[], &all).link_primary);
    }
}
