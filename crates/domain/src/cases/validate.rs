//! The rules a case's field values must follow on CreateCase and UpdateCase (DESIGN.md §2):
//! the field exists and may be written, the value has the member its type takes, and the
//! type-specific rules (lengths, URLs, options, ARNs) hold. Pure functions over the domain's
//! fields, so every rule is unit-tested without a store.

use super::fields::CaseFields;
use crate::schema::fields::system_field;
use crate::value::{Value, typed_value};
use caseload_model::shapes::{FieldType, FieldValue};
use caseload_model::{Error, Result};
use std::collections::{BTreeMap, HashSet};

/// Longest string value (characters), and the shorter limit of `summary`.
pub const MAX_STRING: usize = 4100;
pub const MAX_SUMMARY: usize = 3000;

/// Checks the values of a CreateCase (`current` is `None`) or UpdateCase (`current` is the
/// case's stored values) and returns them in their stored form, in request order.
pub(crate) fn check_values(
    fields: &CaseFields,
    input: &[FieldValue],
    current: Option<&BTreeMap<String, Value>>,
) -> Result<Vec<(String, Value)>> {
    let mut seen = HashSet::new();
    let mut deleted = vec![];
    let mut out = Vec::with_capacity(input.len());
    for fv in input {
        let id = fv.id.as_str();
        if !seen.insert(id) {
            return Err(Error::validation(format!(
                "Field '{id}' is listed more than once"
            )));
        }
        let info = fields.get(id).ok_or_else(|| {
            Error::validation(format!("Field '{id}' does not exist in this domain"))
        })?;
        if system_field(id).is_some_and(|s| s.read_only) {
            return Err(Error::validation(format!(
                "Field '{id}' is maintained by the server and cannot be set"
            )));
        }
        let held = current
            .and_then(|c| c.get(id))
            .filter(|v| **v != Value::Empty);
        // A deleted field can no longer be given a value, but a case that already holds one
        // may still change or clear it.
        if info.deleted && held.is_none() {
            deleted.push(id);
            continue;
        }
        let value = typed_value(id, info.field_type, &fv.value)?;
        if value != Value::Empty {
            check_rules(id, info.field_type, &info.options, &value, held)?;
        }
        out.push((id.to_owned(), value));
    }
    if !deleted.is_empty() {
        return Err(Error::validation(format!(
            "These fields have been deleted and cannot be given values: {}",
            deleted.join(", ")
        )));
    }
    Ok(out)
}

/// The type- and field-specific rules of a value that is not empty.
fn check_rules(
    id: &str,
    t: FieldType,
    options: &[crate::schema::fields::FieldOptionDoc],
    value: &Value,
    held: Option<&Value>,
) -> Result<()> {
    let Value::String(s) = value else {
        return Ok(());
    };
    let len = s.chars().count();
    let max = if id == "summary" {
        MAX_SUMMARY
    } else {
        MAX_STRING
    };
    if len > max {
        return Err(Error::validation(format!(
            "Field '{id}' is {len} characters long; at most {max} are allowed"
        )));
    }
    match t {
        FieldType::Url if !is_http_url(s) => Err(Error::validation(format!(
            "Field '{id}' is of type Url and '{s}' is not an absolute http or https URL"
        ))),
        FieldType::SingleSelect => {
            let active = options.iter().any(|o| o.active && o.value == *s);
            // Deactivated options cannot be chosen any more, but a case keeps the one it has.
            if active || held == Some(value) {
                Ok(())
            } else if options.iter().any(|o| o.value == *s) {
                Err(Error::validation(format!(
                    "'{s}' is an inactive option of field '{id}' and cannot be chosen"
                )))
            } else {
                Err(Error::validation(format!(
                    "'{s}' is not an option of field '{id}'"
                )))
            }
        }
        _ if id == "assigned_queue" && !crate::arn::is_connect(s, "queue") => {
            Err(Error::validation(format!(
                "Field 'assigned_queue' takes the ARN of an Amazon Connect queue (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/queue/QUEUE_ID), not '{s}'"
            )))
        }
        _ if id == "customer_id" && !is_profile_arn(s) => Err(Error::validation(format!(
            "Field 'customer_id' takes a Customer Profiles profile ARN, and '{s}' is not one"
        ))),
        _ => Ok(()),
    }
}

/// True when `v` counts as a value for a required field: present, not cleared, and for strings
/// not blank.
pub(crate) fn is_filled(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Empty) => false,
        Some(Value::String(s)) | Some(Value::UserArn(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// On create: every required field has a value.
pub(crate) fn check_required_present(
    required: &[String],
    values: &BTreeMap<String, Value>,
) -> Result<()> {
    let missing: Vec<&str> = required
        .iter()
        .filter(|id| !is_filled(values.get(id.as_str())))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::validation(format!(
        "Required fields have no value: {}",
        missing.join(", ")
    )))
}

/// On create and update: no required field (nor `status`, which every case has) is cleared or
/// blanked. Only the fields the request touches are checked, so a case created before its
/// template gained a required field can still be updated.
pub(crate) fn check_none_blanked(required: &[String], changes: &[(String, Value)]) -> Result<()> {
    for (id, v) in changes {
        let must_stay = id == "status" || required.iter().any(|r| r == id);
        if must_stay && !is_filled(Some(v)) {
            return Err(Error::validation(format!(
                "Field '{id}' is required and cannot be empty"
            )));
        }
    }
    Ok(())
}

/// An absolute `http`/`https` URL with a host, and no whitespace or control characters.
pub fn is_http_url(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) if !h.is_empty() => (h, p.strip_prefix(':')),
            _ => return false,
        }
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '%' | ':' | '~'));
    host_ok && port_ok
}

/// The model's `CustomerProfileArn` pattern, `[a-zA-Z0-9/_\-:.]+`.
fn is_profile_arn(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | ':' | '.'))
}

#[cfg(test)]
mod tests {
    use super::super::fields::FieldInfo;
    use super::*;
    use crate::schema::fields::FieldOptionDoc;
    use caseload_model::shapes::{EmptyFieldValue, FieldValueUnion as W};

    fn fields() -> CaseFields {
        let info = |t, deleted, options: &[(&str, bool)]| FieldInfo {
            field_type: t,
            deleted,
            options: options
                .iter()
                .map(|(v, active)| FieldOptionDoc {
                    name: v.to_uppercase(),
                    value: (*v).to_owned(),
                    active: *active,
                })
                .collect(),
        };
        CaseFields::new([
            ("title".into(), info(FieldType::Text, false, &[])),
            ("summary".into(), info(FieldType::Text, false, &[])),
            ("case_id".into(), info(FieldType::Text, false, &[])),
            (
                "created_datetime".into(),
                info(FieldType::DateTime, false, &[]),
            ),
            ("assigned_queue".into(), info(FieldType::Text, false, &[])),
            ("customer_id".into(), info(FieldType::Text, false, &[])),
            (
                "status".into(),
                info(
                    FieldType::SingleSelect,
                    false,
                    &[("open", true), ("closed", true), ("old", false)],
                ),
            ),
            ("web".into(), info(FieldType::Url, false, &[])),
            ("when".into(), info(FieldType::DateTime, false, &[])),
            ("gone".into(), info(FieldType::Text, true, &[])),
            ("gone2".into(), info(FieldType::Number, true, &[])),
        ])
    }

    fn one(id: &str, v: W) -> Result<Vec<(String, Value)>> {
        check_values(
            &fields(),
            &[FieldValue {
                id: id.into(),
                value: v,
            }],
            None,
        )
    }

    fn msg(r: Result<Vec<(String, Value)>>) -> String {
        r.unwrap_err().to_string()
    }

    fn st(s: &str) -> W {
        W::StringValue(s.into())
    }

    #[test]
    fn each_rule_names_the_field() {
        assert_eq!(
            msg(one("nope", st("x"))),
            "Field 'nope' does not exist in this domain"
        );
        assert_eq!(
            msg(one("case_id", st("x"))),
            "Field 'case_id' is maintained by the server and cannot be set"
        );
        assert_eq!(
            msg(one("created_datetime", st("2026-01-01T00:00:00Z"))),
            "Field 'created_datetime' is maintained by the server and cannot be set"
        );
        assert_eq!(
            msg(one("title", W::DoubleValue(1.0))),
            "Field 'title' is of type Text and takes a stringValue, not a doubleValue"
        );
        assert_eq!(
            msg(one("summary", st(&"x".repeat(3001)))),
            "Field 'summary' is 3001 characters long; at most 3000 are allowed"
        );
        assert!(one("summary", st(&"é".repeat(3000))).is_ok());
        assert!(one("title", st(&"x".repeat(4100))).is_ok());
        assert!(msg(one("title", st(&"x".repeat(4101)))).contains("at most 4100"));
        assert_eq!(
            msg(one("status", st("nope"))),
            "'nope' is not an option of field 'status'"
        );
        assert_eq!(
            msg(one("status", st("old"))),
            "'old' is an inactive option of field 'status' and cannot be chosen"
        );
        assert!(msg(one("web", st("ftp://x.example"))).contains("absolute http or https URL"));
        assert!(msg(one("when", st("tomorrow"))).contains("ISO-8601"));
        assert!(
            msg(one("assigned_queue", st("queue-1"))).contains("ARN of an Amazon Connect queue")
        );
        assert!(
            one(
                "assigned_queue",
                st("arn:aws:connect:us-east-1:000000000000:instance/i-1/queue/q-1")
            )
            .is_ok()
        );
        assert!(msg(one("customer_id", st("not a profile"))).contains("Customer Profiles"));
        let dup = check_values(
            &fields(),
            &[
                FieldValue {
                    id: "title".into(),
                    value: st("a"),
                },
                FieldValue {
                    id: "title".into(),
                    value: st("b"),
                },
            ],
            None,
        );
        assert_eq!(msg(dup), "Field 'title' is listed more than once");
        let deleted = check_values(
            &fields(),
            &[
                FieldValue {
                    id: "gone".into(),
                    value: st("a"),
                },
                FieldValue {
                    id: "gone2".into(),
                    value: W::DoubleValue(1.0),
                },
            ],
            None,
        );
        assert_eq!(
            msg(deleted),
            "These fields have been deleted and cannot be given values: gone, gone2"
        );
    }

    #[test]
    fn held_values_keep_their_privileges_on_update() {
        let current: BTreeMap<String, Value> = [
            ("gone".to_owned(), Value::String("kept".into())),
            ("status".to_owned(), Value::String("old".into())),
        ]
        .into();
        let update = |id: &str, v: W| {
            check_values(
                &fields(),
                &[FieldValue {
                    id: id.into(),
                    value: v,
                }],
                Some(&current),
            )
        };
        assert!(update("gone", st("changed")).is_ok());
        assert!(update("gone", W::EmptyValue(EmptyFieldValue {})).is_ok());
        assert!(update("gone2", W::DoubleValue(1.0)).is_err());
        assert!(update("status", st("old")).is_ok());
        assert_eq!(
            update("when", st("2026-01-01T01:00:00+01:00")).unwrap(),
            vec![(
                "when".to_owned(),
                Value::String("2026-01-01T00:00:00.000Z".into())
            )]
        );
    }

    #[test]
    fn required_fields() {
        let req = vec!["title".to_owned(), "summary".to_owned()];
        let vals: BTreeMap<String, Value> = [
            ("title".to_owned(), Value::String("  ".into())),
            ("other".to_owned(), Value::Empty),
        ]
        .into();
        assert_eq!(
            check_required_present(&req, &vals).unwrap_err().to_string(),
            "Required fields have no value: title, summary"
        );
        assert!(check_none_blanked(&req, &[("other".into(), Value::Empty)]).is_ok());
        assert_eq!(
            check_none_blanked(&req, &[("summary".into(), Value::Empty)])
                .unwrap_err()
                .to_string(),
            "Field 'summary' is required and cannot be empty"
        );
        assert!(check_none_blanked(&[], &[("status".into(), Value::Empty)]).is_err());
    }

    #[test]
    fn urls() {
        for ok in [
            "http://a.example",
            "HTTPS://a.example/x?y=1#z",
            "https://user:pw@a.example:8443/p",
            "http://[::1]:80/",
            "https://bücher.example/",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "a.example",
            "https://",
            "https:///path",
            "mailto:x@y",
            "https://a b.example",
            "https://a.example:99999",
            "https://a.example:/x",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
