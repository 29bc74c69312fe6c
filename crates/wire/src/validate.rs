//! Checks a JSON document against a shape of the model: JSON types, required members, lengths,
//! ranges, patterns, enum values, and unions with exactly one member. Interprets the generated
//! `SHAPES` table, so every constraint of the model is enforced without a line per constraint.
//!
//! A value of the wrong JSON type is a `SerializationException` (the document cannot be read as
//! the shape at all); a broken constraint is a `ValidationException` whose message has AWS's
//! form: `1 validation error detected: Value 'x' at 'fields.1.member.id' failed to satisfy
//! constraint: Member must have length less than or equal to 500`.
//!
//! It also normalizes the document: `null` members of structures are removed (they mean "absent"),
//! so that typed deserialization sees exactly one member in a union.

use caseload_model::schema::{Kind, Location, SHAPES, ShapeDef};
use caseload_model::{Error, Timestamp};
use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

/// Validates an operation's input document; `shape` is the input shape's index in `SHAPES`.
pub fn validate_input(shape: usize, doc: &mut Value) -> Result<(), Error> {
    let mut v = Validator::default();
    v.check(shape, doc, "");
    if let Some(e) = v.type_errors.into_iter().next() {
        return Err(Error::Serialization(e));
    }
    match v.violations.len() {
        0 => Ok(()),
        1 => Err(Error::Validation(format!(
            "1 validation error detected: {}",
            v.violations[0]
        ))),
        n => Err(Error::Validation(format!(
            "{n} validation errors detected: {}",
            v.violations.join("; ")
        ))),
    }
}

#[derive(Default)]
struct Validator {
    type_errors: Vec<String>,
    violations: Vec<String>,
}

/// A String shape's pattern and forbidden prefix, compiled.
#[derive(Default)]
struct Patterns {
    pattern: Option<Regex>,
    forbidden_prefix: Option<Regex>,
}

/// The compiled patterns of shape `index`: every shape's are compiled once per process, so a
/// check is an index into a table (no lock, no hashing on the request path).
fn patterns(index: usize) -> &'static Patterns {
    static TABLE: OnceLock<Vec<Patterns>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        SHAPES
            .iter()
            .map(|shape| match &shape.kind {
                Kind::String {
                    pattern,
                    forbidden_prefix,
                    ..
                } => Patterns {
                    pattern: pattern.map(compile),
                    // Matched at the start of the value; Java's `(?i)` folds ASCII letters only.
                    forbidden_prefix: forbidden_prefix.map(|p| match p.strip_prefix("(?i)") {
                        Some(rest) => compile(&format!("^(?i-u:{rest})")),
                        None => compile(&format!("^{p}")),
                    }),
                },
                _ => Patterns::default(),
            })
            .collect()
    });
    &table[index]
}

fn compile(pattern: &str) -> Regex {
    Regex::new(&ascii_classes(pattern)).expect("model patterns compile")
}

/// Java's `\s` (which AWS validates with) is the ASCII class `[ \t\n\x0B\f\r]` and `\S` its
/// complement over all characters, where `regex`'s are Unicode's white space: both are spelled
/// out as classes (inside a bracket they become nested classes, which `regex` accepts).
fn ascii_classes(pattern: &str) -> String {
    const SPACE: &str = "\\t\\n\\x0B\\x0C\\r ";
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push_str(&format!("[{SPACE}]")),
            Some('S') => out.push_str(&format!("[^{SPACE}]")),
            Some(escaped) => {
                out.push('\\');
                out.push(escaped);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

/// How AWS shows a value in a validation message. Long values are cut so a 4 KB string does not
/// produce a 4 KB error.
fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 100 {
        format!("{}...", s.chars().take(100).collect::<String>())
    } else {
        s
    }
}

impl Validator {
    fn violation(&mut self, shape: &ShapeDef, value: Option<&Value>, path: &str, rule: String) {
        let sensitive = matches!(
            shape.kind,
            Kind::String {
                sensitive: true,
                ..
            }
        );
        let shown = match value {
            Some(v) if !sensitive => format!("Value '{}' at", show(v)),
            _ => "Value at".to_owned(),
        };
        self.violations.push(format!(
            "{shown} '{path}' failed to satisfy constraint: {rule}"
        ));
    }

    fn wrong_type(&mut self, expected: &str, v: &Value, path: &str) {
        self.type_errors.push(format!(
            "Expected {expected} at '{path}' but found {}",
            describe(v)
        ));
    }

    fn length(
        &mut self,
        shape: &ShapeDef,
        v: &Value,
        path: &str,
        len: usize,
        min: Option<i64>,
        max: Option<i64>,
    ) {
        let len = len as i64;
        if let Some(min) = min.filter(|&m| len < m) {
            self.violation(
                shape,
                Some(v),
                path,
                format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = max.filter(|&m| len > m) {
            self.violation(
                shape,
                Some(v),
                path,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn check(&mut self, index: usize, v: &mut Value, path: &str) {
        let shape = &SHAPES[index];
        match &shape.kind {
            Kind::String {
                min,
                max,
                pattern,
                forbidden_prefix,
                enum_values,
                ..
            } => {
                let Value::String(s) = &*v else {
                    return self.wrong_type("a string", v, path);
                };
                self.length(shape, v, path, s.chars().count(), *min, *max);
                if !enum_values.is_empty() && !enum_values.contains(&s.as_str()) {
                    let set = enum_values.join(", ");
                    self.violation(
                        shape,
                        Some(v),
                        path,
                        format!("Member must satisfy enum value set: [{set}]"),
                    );
                    return;
                }
                let compiled = patterns(index);
                let bad_prefix = compiled
                    .forbidden_prefix
                    .as_ref()
                    .is_some_and(|p| p.is_match(s));
                let bad_pattern = compiled.pattern.as_ref().is_some_and(|p| !p.is_match(s));
                if bad_prefix || bad_pattern {
                    let shown = pattern
                        .map(|p| p.trim_start_matches("^(?:").trim_end_matches(")$"))
                        .unwrap_or("");
                    let rule = match forbidden_prefix {
                        Some(p) => format!(
                            "Member must satisfy regular expression pattern: (?!{}){shown}",
                            p.trim_start_matches("(?i)")
                        ),
                        None => format!("Member must satisfy regular expression pattern: {shown}"),
                    };
                    self.violation(shape, Some(v), path, rule);
                }
            }
            Kind::Integer { min, max } => {
                let Some(n) = v.as_i64() else {
                    return self.wrong_type("an integer", v, path);
                };
                if let Some(min) = min.filter(|&m| n < m) {
                    self.violation(
                        shape,
                        Some(v),
                        path,
                        format!("Member must have value greater than or equal to {min}"),
                    );
                }
                if let Some(max) = max.filter(|&m| n > m) {
                    self.violation(
                        shape,
                        Some(v),
                        path,
                        format!("Member must have value less than or equal to {max}"),
                    );
                }
            }
            Kind::Double => {
                if !v.is_number() {
                    self.wrong_type("a number", v, path);
                }
            }
            Kind::Boolean => {
                if !v.is_boolean() {
                    self.wrong_type("a boolean", v, path);
                }
            }
            Kind::Timestamp => match v.as_str() {
                Some(s) if Timestamp::parse(s).is_some() => {}
                _ => self.wrong_type("an ISO-8601 timestamp", v, path),
            },
            Kind::List {
                member,
                min,
                max,
                sparse,
            } => {
                let len = match v.as_array() {
                    Some(a) => a.len(),
                    None => return self.wrong_type("a list", v, path),
                };
                self.length(
                    shape,
                    &Value::String(format!("[{len} items]")),
                    path,
                    len,
                    *min,
                    *max,
                );
                let Value::Array(items) = v else { return };
                for (i, item) in items.iter_mut().enumerate() {
                    let p = format!("{}.{}.member", path, i + 1);
                    if item.is_null() {
                        if !sparse {
                            self.violations.push(format!("Value at '{p}' failed to satisfy constraint: Member must not be null"));
                        }
                        continue;
                    }
                    self.check(*member, item, &p);
                }
            }
            Kind::Map {
                key,
                value,
                min,
                max,
                sparse,
            } => {
                let len = match v.as_object() {
                    Some(m) => m.len(),
                    None => return self.wrong_type("an object", v, path),
                };
                self.length(
                    shape,
                    &Value::String(format!("{{{len} entries}}")),
                    path,
                    len,
                    *min,
                    *max,
                );
                let Value::Object(entries) = v else { return };
                for (k, item) in entries.iter_mut() {
                    let p = format!("{path}.{k}");
                    self.check(*key, &mut Value::String(k.clone()), &format!("{p}.key"));
                    if item.is_null() {
                        if !sparse {
                            self.violations.push(format!("Value at '{p}' failed to satisfy constraint: Member must not be null"));
                        }
                        continue;
                    }
                    self.check(*value, item, &p);
                }
            }
            Kind::Structure { union, members } => {
                let Value::Object(obj) = v else {
                    return self.wrong_type("an object", v, path);
                };
                obj.retain(|_, value| !value.is_null());
                if *union {
                    if let Some(unknown) = obj
                        .keys()
                        .find(|k| !members.iter().any(|m| m.name == k.as_str()))
                    {
                        let known: Vec<&str> = members.iter().map(|m| m.name).collect();
                        self.violations.push(format!(
                            "Value at '{}' failed to satisfy constraint: Member '{unknown}' is not one of [{}]",
                            join(path, unknown), known.join(", ")
                        ));
                        return;
                    }
                    if obj.len() != 1 {
                        self.violations.push(format!(
                            "Value at '{}' failed to satisfy constraint: Member must have exactly one of its members set, found {}",
                            if path.is_empty() { "." } else { path }, obj.len()
                        ));
                        return;
                    }
                }
                for m in members.iter() {
                    let p = join(path, m.name);
                    match obj.get_mut(m.name) {
                        Some(value) => self.check(m.target, value, &p),
                        // SDKs fill in idempotency tokens; a raw client may leave them out.
                        None if m.required
                            && !m.idempotency_token
                            && m.location != Location::Header =>
                        {
                            self.violations.push(format!("Value null at '{p}' failed to satisfy constraint: Member must not be null"));
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::schema::shape;
    use serde_json::json;

    fn check(shape_name: &str, mut v: Value) -> Result<Value, Error> {
        let idx = SHAPES.iter().position(|s| s.name == shape_name).unwrap();
        assert!(shape(shape_name).is_some());
        validate_input(idx, &mut v).map(|_| v)
    }

    fn message(r: Result<Value, Error>) -> String {
        match r {
            Err(Error::Validation(m)) | Err(Error::Serialization(m)) => m,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn required_length_enum_and_pattern() {
        assert!(check("CreateDomainRequest", json!({"name": "ok"})).is_ok());
        assert_eq!(
            message(check("CreateDomainRequest", json!({}))),
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
        );
        let m = message(check(
            "CreateDomainRequest",
            json!({"name": "x".repeat(101)}),
        ));
        assert!(m.contains("at 'name' failed to satisfy constraint: Member must have length less than or equal to 100"), "{m}");
        let m = message(check("CreateDomainRequest", json!({"name": "   "})));
        assert!(m.contains("regular expression pattern"), "{m}");
        let m = message(check(
            "CreateFieldRequest",
            json!({"domainId": "d", "name": "n", "type": "Texty"}),
        ));
        assert!(m.contains("Member must satisfy enum value set: [Text, Number, Boolean, DateTime, SingleSelect, Url, User]"), "{m}");
    }

    /// Whether `value` passes the pattern and forbidden prefix of String shape `shape_name`.
    fn allowed(shape_name: &str, value: &str) -> bool {
        let idx = SHAPES.iter().position(|s| s.name == shape_name).unwrap();
        let p = patterns(idx);
        assert!(
            p.pattern.is_some() || p.forbidden_prefix.is_some(),
            "{shape_name}"
        );
        p.pattern.as_ref().is_none_or(|r| r.is_match(value))
            && !p
                .forbidden_prefix
                .as_ref()
                .is_some_and(|r| r.is_match(value))
    }

    #[test]
    fn patterns_have_javas_ascii_white_space_and_case_folding() {
        // `.*[\S]`: ends with a character that is not ASCII white space; U+00A0 and U+2003 are
        // Unicode spaces but not Java's.
        for ok in ["name", "a b", "name\u{a0}", "x\u{2003}", "é"] {
            assert!(allowed("DomainName", ok), "{ok:?}");
        }
        for bad in [
            "",
            " ",
            "name\t",
            "name\u{b}",
            "name\u{c}",
            "name\r",
            "name\n",
        ] {
            assert!(!allowed("DomainName", bad), "{bad:?}");
        }
        // `\s` inside a bracket: ASCII white space only.
        assert!(allowed("CaseStatus", "In progress"));
        assert!(allowed("CaseStatus", "a\tb-c_d"));
        assert!(!allowed("CaseStatus", "a\u{2003}b"));
        assert!(!allowed("CaseStatus", "a.b"));
        // `$|^.*[\S]`: empty or ending in a non-space.
        assert!(allowed("ParentChildFieldOptionValue", ""));
        assert!(!allowed("ParentChildFieldOptionValue", "x "));
        // `[\s\S]*` is anything at all.
        let any = SHAPES
            .iter()
            .find(|s| matches!(s.kind, Kind::String { pattern: Some(p), .. } if p.contains("[\\s\\S]")))
            .map(|s| s.name)
            .unwrap();
        assert!(allowed(any, "line\n\u{2003}\ttab"));
        // Forbidden prefixes: `(?i)aws:` in any ASCII case, `aws:` exactly, only at the start.
        for bad in ["aws:x", "AWS:x", "AwS:key"] {
            assert!(!allowed("MutableTagKey", bad), "{bad:?}");
        }
        assert!(allowed("MutableTagKey", "x-aws:y"));
        assert!(allowed("MutableTagKey", "aws-key"));
        assert!(!allowed("TagKey", "aws:x"));
        assert!(allowed("TagKey", "AWS:x"));
    }

    #[test]
    fn lists_maps_and_nested_paths() {
        let m = message(check(
            "CreateCaseRequest",
            json!({"domainId": "d", "templateId": "t", "fields": [{"id": "title", "value": {"stringValue": "a"}}, {"id": "", "value": {"stringValue": "b"}}]}),
        ));
        assert!(m.contains("at 'fields.2.member.id'"), "{m}");
        let m = message(check(
            "TagResourceRequest",
            json!({"arn": "a", "tags": {"team": 7}}),
        ));
        assert!(m.contains("at 'tags.team'"), "{m}");
        let m = message(check(
            "UntagResourceRequest",
            json!({"arn": "a", "tagKeys": ["ok", "aws:x"]}),
        ));
        assert!(m.contains("at 'tagKeys.2.member'"), "{m}");
        assert!(
            check(
                "TagResourceRequest",
                json!({"arn": "a", "tags": {"team": "blue"}})
            )
            .is_ok()
        );
    }

    #[test]
    fn unions_take_exactly_one_member() {
        let ok = json!({"domainId": "d", "filter": {"field": {"equalTo": {"id": "status", "value": {"stringValue": "open"}}}}});
        assert!(check("SearchCasesRequest", ok).is_ok());
        let two = json!({"domainId": "d", "filter": {"field": {"equalTo": {"id": "s", "value": {"stringValue": "o", "doubleValue": 1}}}}});
        assert!(message(check("SearchCasesRequest", two)).contains("exactly one"));
        let none = json!({"domainId": "d", "filter": {}});
        assert!(message(check("SearchCasesRequest", none)).contains("exactly one"));
        let unknown = json!({"domainId": "d", "filter": {"bogus": 1}});
        assert!(message(check("SearchCasesRequest", unknown)).contains("'bogus' is not one of"));
        let nulls = check(
            "SearchCasesRequest",
            json!({"domainId": "d", "filter": {"tag": {"equalTo": {"key": "k"}}, "not": null}}),
        )
        .unwrap();
        assert_eq!(nulls["filter"], json!({"tag": {"equalTo": {"key": "k"}}}));
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let r = check("CreateDomainRequest", json!({"name": 5}));
        assert!(
            matches!(&r, Err(Error::Serialization(m)) if m.contains("Expected a string at 'name' but found a number")),
            "{r:?}"
        );
        let r = check("ListDomainsRequest", json!({"maxResults": 1.5}));
        assert!(matches!(r, Err(Error::Serialization(_))));
        let r = check("ListDomainsRequest", json!({"maxResults": 11}));
        assert!(message(r).contains("Member must have value less than or equal to 10"));
    }
}
