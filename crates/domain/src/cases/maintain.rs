//! The server-maintained fields (DESIGN.md §2): what a create or an update does besides storing
//! the caller's values. They are ordinary entries of the case's field map, so GetCase returns
//! them and SearchCases filters and sorts on them like any other field.

use crate::value::Value;
use caseload_model::Timestamp;
use std::collections::BTreeMap;

pub const STATUS: &str = "status";
pub const CLOSED: &str = "closed";
pub const DEFAULT_STATUS: &str = "open";

/// The fields a new case starts with before the caller's values are applied.
pub(crate) fn initial(
    case_id: &str,
    reference_number: &str,
    now: Timestamp,
) -> BTreeMap<String, Value> {
    [
        ("case_id", Value::String(case_id.to_owned())),
        (
            "reference_number",
            Value::String(reference_number.to_owned()),
        ),
        ("created_datetime", Value::String(now.to_iso8601())),
        (STATUS, Value::String(DEFAULT_STATUS.to_owned())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn status(fields: &BTreeMap<String, Value>) -> Option<&str> {
    match fields.get(STATUS) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Applies the caller's `changes` to `fields` and maintains the fields a write at `now` by
/// `user` (a `performedBy.userArn`) affects: closing sets `last_closed_datetime`, leaving
/// `closed` sets `last_reopened_datetime`, every write sets `last_updated_datetime`, and
/// `last_updated_user` when the writer is a user. A write without a user keeps the last user:
/// the field names the last *user* who changed the case.
pub(crate) fn apply(
    fields: &mut BTreeMap<String, Value>,
    changes: Vec<(String, Value)>,
    now: Timestamp,
    user: Option<&str>,
) {
    let before = status(fields).map(str::to_owned);
    fields.extend(changes);
    let after = status(fields).map(str::to_owned);
    let now_value = Value::String(now.to_iso8601());
    let was_closed = before.as_deref() == Some(CLOSED);
    let is_closed = after.as_deref() == Some(CLOSED);
    if is_closed && !was_closed {
        fields.insert("last_closed_datetime".into(), now_value.clone());
    }
    if was_closed && !is_closed {
        fields.insert("last_reopened_datetime".into(), now_value.clone());
    }
    fields.insert("last_updated_datetime".into(), now_value);
    if let Some(u) = user {
        fields.insert("last_updated_user".into(), Value::UserArn(u.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn status_transitions_stamp_the_right_fields() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let t1 = Timestamp::parse("2026-01-02T00:00:00Z").unwrap();
        let t2 = Timestamp::parse("2026-01-03T00:00:00Z").unwrap();
        let mut f = initial("c", "12345678", t0);
        apply(&mut f, vec![("title".into(), s("x"))], t0, None);
        assert_eq!(f["status"], s("open"));
        assert_eq!(f["created_datetime"], s("2026-01-01T00:00:00.000Z"));
        assert_eq!(f["last_updated_datetime"], f["created_datetime"]);
        assert!(!f.contains_key("last_closed_datetime"));
        assert!(!f.contains_key("last_updated_user"));

        apply(
            &mut f,
            vec![("status".into(), s("closed"))],
            t1,
            Some("arn:u"),
        );
        assert_eq!(f["last_closed_datetime"], s("2026-01-02T00:00:00.000Z"));
        assert_eq!(f["last_updated_user"], Value::UserArn("arn:u".into()));
        assert!(!f.contains_key("last_reopened_datetime"));

        // Staying closed does not move the closing time; a write without a user keeps the user.
        apply(&mut f, vec![("status".into(), s("closed"))], t2, None);
        assert_eq!(f["last_closed_datetime"], s("2026-01-02T00:00:00.000Z"));
        assert_eq!(f["last_updated_user"], Value::UserArn("arn:u".into()));

        apply(&mut f, vec![("status".into(), s("open"))], t2, None);
        assert_eq!(f["last_reopened_datetime"], s("2026-01-03T00:00:00.000Z"));
        assert_eq!(f["last_closed_datetime"], s("2026-01-02T00:00:00.000Z"));
        assert_eq!(f["last_updated_datetime"], s("2026-01-03T00:00:00.000Z"));
    }
}
