//! Checking an import file before anything is written: the order of lines, that every id a line
//! refers to was defined by an earlier line, unique ids and names, and each case's values against
//! the file's own schema with the same rules CreateCase applies (`cases::validate`).
//!
//! A case from an export carries the values only the server writes (`case_id`, `reference_number`,
//! the `*_datetime` fields, `last_updated_user`) and may hold values for fields deleted since, or
//! options deactivated since: the case already has them, so they are accepted as CreateCase
//! would accept them on a case that holds them. A hand-written case may leave the server-written
//! values out; `Plan::case_values` fills them in as CreateCase would.

use super::format::*;
use crate::cases::fields::{CaseFields, FieldInfo};
use crate::cases::validate;
use crate::schema::fields::{SYSTEM_FIELDS, default_options, system_field};
use crate::value::{Value, typed_value};
use caseload_model::Timestamp;
use caseload_model::shapes::{
    FieldNamespace, FieldType, FieldValue, FieldValueUnion, LayoutContent, Section,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The order kinds must come in: each refers only to kinds before it.
fn rank(kind: &str) -> u8 {
    match kind {
        "domain" => 0,
        "field" => 1,
        "caseRule" => 2,
        "layout" => 3,
        "template" => 4,
        "case" => 5,
        _ => 6,
    }
}

/// Reference numbers have exactly this many digits.
const REFERENCE_DIGITS: usize = 8;
/// Most tags on one resource (the model's limit).
const MAX_TAGS: usize = 50;

/// Pass one: every line of a file, in order.
#[derive(Default)]
pub struct Checker {
    last_rank: u8,
    domain: Option<DomainLine>,
    /// Field id → (type, deleted, options), system fields included from the start.
    fields: HashMap<String, FieldInfo>,
    /// Field ids a line of the file defined (a system field may be left out of a file).
    defined_fields: HashSet<String>,
    /// (kind, name) of the live resources, for name uniqueness.
    names: HashSet<(&'static str, String)>,
    case_rules: HashSet<String>,
    layouts: HashSet<String>,
    templates: HashSet<String>,
    schema: Option<CaseFields>,
    case_ids: HashSet<String>,
    references: HashSet<u32>,
    cases: u64,
    related_item_ids: HashSet<String>,
    related_items: u64,
}

/// What pass two needs from pass one.
pub struct Plan {
    pub domain: DomainLine,
    /// System fields the file has no line for: they get their defaults, as in a new domain.
    pub default_system_fields: Vec<FieldLine>,
    pub cases: u64,
    pub related_items: u64,
    schema: CaseFields,
    references: HashSet<u32>,
    next_reference: u32,
}

fn default_field_info(t: FieldType, id: &str) -> FieldInfo {
    FieldInfo {
        field_type: t,
        deleted: false,
        options: default_options(id),
    }
}

impl Checker {
    pub fn new() -> Checker {
        let fields = SYSTEM_FIELDS
            .iter()
            .map(|f| (f.id.to_owned(), default_field_info(f.field_type, f.id)))
            .collect();
        Checker {
            fields,
            ..Default::default()
        }
    }

    /// Checks the next line of the file.
    pub fn check(&mut self, line: &Line) -> Result<(), String> {
        let rank = rank(line.kind());
        if self.domain.is_none() && rank != 0 {
            return Err("the first line must be the domain line".into());
        }
        if rank < self.last_rank || (rank == 0 && self.domain.is_some()) {
            return Err(format!(
                "a {} line cannot come here: lines go domain, fields, case rules, layouts, templates, cases, related items",
                line.kind()
            ));
        }
        self.last_rank = rank;
        match line {
            Line::Domain(d) => self.domain(d),
            Line::Field(f) => self.field(f),
            Line::CaseRule(r) => self.case_rule(r),
            Line::Layout(l) => self.layout(l),
            Line::Template(t) => self.template(t),
            Line::Case(c) => self.case(c),
            Line::RelatedItem(r) => self.related_item(r),
        }
    }

    /// After the last line: what pass two needs.
    pub fn finish(self) -> Result<Plan, String> {
        let domain = self
            .domain
            .ok_or("the file is empty: it has no domain line")?;
        let default_system_fields = SYSTEM_FIELDS
            .iter()
            .filter(|f| !self.defined_fields.contains(f.id))
            .map(|f| FieldLine {
                field_id: f.id.to_owned(),
                name: f.name.to_owned(),
                field_type: f.field_type,
                namespace: FieldNamespace::System,
                description: None,
                attributes: None,
                options: default_options(f.id).into_iter().map(Into::into).collect(),
                deleted: false,
                created_time: domain.created_time,
                last_modified_time: domain.created_time,
                tags: Tags::new(),
            })
            .collect();
        let schema = self
            .schema
            .unwrap_or_else(|| CaseFields::new(self.fields.clone()));
        Ok(Plan {
            domain,
            default_system_fields,
            cases: self.cases,
            related_items: self.related_items,
            schema,
            references: self.references,
            next_reference: 0,
        })
    }

    fn domain(&mut self, d: &DomainLine) -> Result<(), String> {
        if d.format != FORMAT_VERSION {
            return Err(format!(
                "format {} is not one this caseload reads (it reads {FORMAT_VERSION})",
                d.format
            ));
        }
        if d.name.trim().is_empty() {
            return Err("the domain name is empty".into());
        }
        check_tags(&d.tags)?;
        self.domain = Some(d.clone());
        Ok(())
    }

    fn name(&mut self, kind: &'static str, name: &str, deleted: bool) -> Result<(), String> {
        if name.trim().is_empty() {
            return Err(format!("the {kind} has an empty name"));
        }
        if !deleted && !self.names.insert((kind, name.to_owned())) {
            return Err(format!("another {kind} is already named '{name}'"));
        }
        Ok(())
    }

    fn field(&mut self, f: &FieldLine) -> Result<(), String> {
        let id = f.field_id.as_str();
        if !self.defined_fields.insert(id.to_owned()) {
            return Err(format!("field {id} is defined twice"));
        }
        match (system_field(id), f.namespace) {
            (Some(s), FieldNamespace::System) if s.field_type != f.field_type => {
                return Err(format!(
                    "system field {id} is of type {}, not {}",
                    s.field_type.as_str(),
                    f.field_type.as_str()
                ));
            }
            (Some(_), FieldNamespace::System) if f.deleted => {
                return Err(format!("system field {id} cannot be deleted"));
            }
            (Some(_), FieldNamespace::Custom) => {
                return Err(format!("{id} is the id of a system field"));
            }
            (None, FieldNamespace::System) => {
                return Err(format!("{id} is not a system field"));
            }
            _ => {}
        }
        if id.is_empty() {
            return Err("the field id is empty".into());
        }
        self.name("field", &f.name, f.deleted)?;
        if !f.options.is_empty() && f.field_type != FieldType::SingleSelect {
            return Err(format!(
                "field {id} is of type {} and cannot have options",
                f.field_type.as_str()
            ));
        }
        let mut values = HashSet::new();
        for o in &f.options {
            if !values.insert(o.value.as_str()) {
                return Err(format!("field {id} has option '{}' twice", o.value));
            }
        }
        check_tags(&f.tags)?;
        self.fields.insert(
            id.to_owned(),
            FieldInfo {
                field_type: f.field_type,
                deleted: f.deleted,
                options: f.options.iter().map(Into::into).collect(),
            },
        );
        Ok(())
    }

    fn known_field(&self, id: &str, member: &str) -> Result<(), String> {
        if self.fields.contains_key(id) {
            Ok(())
        } else {
            Err(format!(
                "{member}: field {id} is not defined by an earlier line"
            ))
        }
    }

    fn case_rule(&mut self, r: &CaseRuleLine) -> Result<(), String> {
        if !self.case_rules.insert(r.case_rule_id.clone()) {
            return Err(format!("case rule {} is defined twice", r.case_rule_id));
        }
        self.name("case rule", &r.name, r.deleted)?;
        check_tags(&r.tags)
    }

    fn layout(&mut self, l: &LayoutLine) -> Result<(), String> {
        if !self.layouts.insert(l.layout_id.clone()) {
            return Err(format!("layout {} is defined twice", l.layout_id));
        }
        self.name("layout", &l.name, l.deleted)?;
        let LayoutContent::Basic(basic) = &l.content;
        for panel in [&basic.top_panel, &basic.more_info].into_iter().flatten() {
            for Section::FieldGroup(g) in panel.sections.iter().flatten() {
                for f in &g.fields {
                    self.known_field(&f.id, "content")?;
                }
            }
        }
        check_tags(&l.tags)
    }

    fn template(&mut self, t: &TemplateLine) -> Result<(), String> {
        if !self.templates.insert(t.template_id.clone()) {
            return Err(format!("template {} is defined twice", t.template_id));
        }
        self.name("template", &t.name, t.deleted)?;
        for f in &t.required_fields {
            self.known_field(&f.field_id, "requiredFields")?;
        }
        if let Some(layout) = t
            .layout_configuration
            .as_ref()
            .and_then(|c| c.default_layout.as_ref())
            && !self.layouts.contains(layout)
        {
            return Err(format!(
                "layoutConfiguration: layout {layout} is not defined by an earlier line"
            ));
        }
        for r in &t.rules {
            if !self.case_rules.contains(&r.case_rule_id) {
                return Err(format!(
                    "rules: case rule {} is not defined by an earlier line",
                    r.case_rule_id
                ));
            }
            if let Some(f) = &r.field_id {
                self.known_field(f, "rules")?;
            }
        }
        check_tags(&t.tags)
    }

    fn case(&mut self, c: &CaseLine) -> Result<(), String> {
        if c.case_id.is_empty() {
            return Err("the case id is empty".into());
        }
        if !self.case_ids.insert(c.case_id.clone()) {
            return Err(format!("case {} is defined twice", c.case_id));
        }
        if let Some(FieldValueUnion::StringValue(r)) = c.fields.get("reference_number") {
            let n = parse_reference(r)?;
            if !self.references.insert(n) {
                return Err(format!("reference number {r} is used by an earlier case"));
            }
        }
        if !self.templates.contains(&c.template_id) {
            return Err(format!(
                "template {} is not defined by an earlier line",
                c.template_id
            ));
        }
        // The schema is complete once cases begin (the order guarantees it).
        if self.schema.is_none() {
            self.schema = Some(CaseFields::new(self.fields.clone()));
        }
        self.cases += 1;
        let schema = self.schema.as_ref().expect("set above");
        check_values(schema, c, Timestamp::now()).map(|_| ())
    }
}

impl Checker {
    /// An item's case must be an earlier line, its id unique. Its content is kept as the store
    /// held it: the rules CreateRelatedItem applies are about new items (an SLA's target in the
    /// future, a linked case that still exists), which a restored item need not meet.
    fn related_item(&mut self, r: &RelatedItemLine) -> Result<(), String> {
        if r.related_item_id.is_empty() {
            return Err("the related item id is empty".into());
        }
        if !self.case_ids.contains(&r.case_id) {
            return Err(format!(
                "case {} is not defined by an earlier line",
                r.case_id
            ));
        }
        if !self.related_item_ids.insert(r.related_item_id.clone()) {
            return Err(format!(
                "related item {} is defined twice",
                r.related_item_id
            ));
        }
        self.related_items += 1;
        check_tags(&r.tags)
    }
}

fn parse_reference(r: &str) -> Result<u32, String> {
    if r.len() != REFERENCE_DIGITS || !r.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "reference number '{r}' is not {REFERENCE_DIGITS} digits"
        ));
    }
    r.parse()
        .map_err(|_| format!("reference number '{r}' is not a number"))
}

fn check_tags(tags: &Tags) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "{} tags; at most {MAX_TAGS} are allowed",
            tags.len()
        ));
    }
    crate::tags::check_tag_keys(tags.keys()).map_err(|e| e.to_string())
}

/// A case's values in their stored form, checked against the schema. Server-written values are
/// kept when the line has them and filled in (as CreateCase at `now` would) when it has not,
/// except the reference number, which needs the whole file (`Plan::case_values`).
fn check_values(
    schema: &CaseFields,
    c: &CaseLine,
    now: Timestamp,
) -> Result<BTreeMap<String, Value>, String> {
    let mut values = BTreeMap::new();
    let mut writable = Vec::with_capacity(c.fields.len());
    let mut held = BTreeMap::new();
    for (id, v) in &c.fields {
        let info = schema
            .get(id)
            .ok_or_else(|| format!("field {id} is not defined by an earlier line"))?;
        let server_written = system_field(id).is_some_and(|s| s.read_only);
        if server_written || info.deleted {
            // No rule but the type applies: the server wrote these, or the field is gone and
            // only the value the case holds remains.
            let value = typed_value(id, info.field_type, v).map_err(|e| e.to_string())?;
            if id == "case_id" && value != Value::String(c.case_id.clone()) {
                return Err(format!("field case_id differs from caseId {}", c.case_id));
            }
            values.insert(id.clone(), value);
        } else {
            // The case already holds this value: an option deactivated since is accepted, as
            // UpdateCase accepts it on a case that holds it. A value that never was an option
            // is not held by anything and is refused.
            if let FieldValueUnion::StringValue(s) = v
                && info.options.iter().any(|o| &o.value == s)
            {
                held.insert(id.clone(), Value::String(s.clone()));
            }
            writable.push(FieldValue {
                id: id.clone(),
                value: v.clone(),
            });
        }
    }
    let checked =
        validate::check_values(schema, &writable, Some(&held)).map_err(|e| e.to_string())?;
    values.extend(checked);
    let title = ["title".to_owned()];
    validate::check_required_present(&title, &values).map_err(|e| e.to_string())?;
    if matches!(values.get("status"), Some(Value::Empty)) {
        return Err("field status cannot be empty".into());
    }
    let now = Value::String(now.to_iso8601());
    values
        .entry("status".into())
        .or_insert_with(|| Value::String("open".into()));
    values
        .entry("case_id".into())
        .or_insert_with(|| Value::String(c.case_id.clone()));
    let created = values
        .entry("created_datetime".into())
        .or_insert(now)
        .clone();
    values
        .entry("last_updated_datetime".into())
        .or_insert(created);
    Ok(values)
}

impl Plan {
    /// Pass two: the stored values of a case pass one accepted, with a fresh reference number
    /// when the line has none.
    pub fn case_values(&mut self, c: &CaseLine) -> Result<BTreeMap<String, Value>, String> {
        let mut values = check_values(&self.schema, c, Timestamp::now())?;
        if !values.contains_key("reference_number") {
            while self.references.contains(&self.next_reference) {
                self.next_reference += 1;
            }
            if self.next_reference >= 10u32.pow(REFERENCE_DIGITS as u32) {
                return Err("no reference numbers are left".into());
            }
            self.references.insert(self.next_reference);
            values.insert(
                "reference_number".into(),
                Value::String(format!("{:08}", self.next_reference)),
            );
        }
        Ok(values)
    }

    /// The type of a field of the file's schema.
    pub fn field_type(&self, id: &str) -> Option<FieldType> {
        self.schema.type_of(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str =
        r#"{"type":"domain","format":1,"name":"d","createdTime":"2026-01-01T00:00:00.000Z"}"#;
    const TEMPLATE: &str = r#"{"type":"template","templateId":"t1","name":"T","status":"Active","createdTime":"2026-01-01T00:00:00.000Z","lastModifiedTime":"2026-01-01T00:00:00.000Z"}"#;

    /// Checks `lines` in order; the first error with its 1-based line number.
    fn check(lines: &[&str]) -> Result<Plan, (usize, String)> {
        let mut c = Checker::new();
        for (i, text) in lines.iter().enumerate() {
            Line::parse(text)
                .and_then(|l| c.check(&l))
                .map_err(|e| (i + 1, e))?;
        }
        c.finish().map_err(|e| (0, e))
    }

    fn case(id: &str, fields: &str) -> String {
        format!(r#"{{"type":"case","caseId":"{id}","templateId":"t1","fields":{{{fields}}}}}"#)
    }

    #[test]
    fn a_minimal_file_gets_the_defaults_of_a_new_domain() {
        let c = case("c1", r#""title":{"stringValue":"Hello"}"#);
        let mut plan = check(&[DOMAIN, TEMPLATE, &c]).unwrap();
        assert_eq!(plan.cases, 1);
        assert_eq!(plan.default_system_fields.len(), SYSTEM_FIELDS.len());
        let Line::Case(line) = Line::parse(&c).unwrap() else {
            unreachable!()
        };
        let values = plan.case_values(&line).unwrap();
        assert_eq!(values["status"], Value::String("open".into()));
        assert_eq!(values["case_id"], Value::String("c1".into()));
        assert_eq!(values["reference_number"], Value::String("00000000".into()));
        assert_eq!(values["created_datetime"], values["last_updated_datetime"]);
    }

    #[test]
    fn bad_lines_are_named_with_what_is_wrong() {
        let cases: &[(&[&str], usize, &str)] = &[
            (&[TEMPLATE], 1, "first line must be the domain"),
            (&[DOMAIN, DOMAIN], 2, "cannot come here"),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    r#"{"type":"field","fieldId":"f","name":"F","fieldType":"Text","namespace":"Custom","createdTime":"2026-01-01T00:00:00Z","lastModifiedTime":"2026-01-01T00:00:00Z"}"#,
                ],
                3,
                "cannot come here",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case("c1", r#""nope":{"stringValue":"x"}"#),
                ],
                3,
                "field nope is not defined",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case("c1", r#""summary":{"stringValue":"x"}"#),
                ],
                3,
                "Required fields have no value: title",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case("c1", r#""title":{"doubleValue":1.0}"#),
                ],
                3,
                "takes a stringValue",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case(
                        "c1",
                        r#""title":{"stringValue":"x"},"status":{"stringValue":"lost"}"#,
                    ),
                ],
                3,
                "not an option of field 'status'",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case(
                        "c1",
                        r#""title":{"stringValue":"x"},"reference_number":{"stringValue":"12"}"#,
                    ),
                ],
                3,
                "not 8 digits",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case(
                        "c1",
                        r#""title":{"stringValue":"x"},"case_id":{"stringValue":"c2"}"#,
                    ),
                ],
                3,
                "differs from caseId",
            ),
            (
                &[
                    DOMAIN,
                    TEMPLATE,
                    &case("c1", r#""title":{"stringValue":"x"}"#),
                    &case("c1", r#""title":{"stringValue":"y"}"#),
                ],
                4,
                "defined twice",
            ),
            (
                &[DOMAIN, &case("c1", r#""title":{"stringValue":"x"}"#)],
                2,
                "template t1 is not defined",
            ),
            (
                &[
                    DOMAIN,
                    r#"{"type":"template","templateId":"t1","name":"T","status":"Active","requiredFields":[{"fieldId":"gone"}],"createdTime":"2026-01-01T00:00:00Z","lastModifiedTime":"2026-01-01T00:00:00Z"}"#,
                ],
                2,
                "requiredFields: field gone",
            ),
            (
                &[
                    DOMAIN,
                    r#"{"type":"field","fieldId":"title","name":"Title","fieldType":"Number","namespace":"System","createdTime":"2026-01-01T00:00:00Z","lastModifiedTime":"2026-01-01T00:00:00Z"}"#,
                ],
                2,
                "is of type Text",
            ),
            (
                &[
                    r#"{"type":"domain","format":2,"name":"d","createdTime":"2026-01-01T00:00:00Z"}"#,
                ],
                1,
                "format 2",
            ),
        ];
        for (lines, at, message) in cases {
            let (line, e) = check(lines)
                .err()
                .unwrap_or_else(|| panic!("accepted: {lines:?}"));
            assert_eq!(line, *at, "{e}");
            assert!(e.contains(message), "{e:?} should say {message:?}");
        }
    }

    #[test]
    fn values_a_case_already_holds_are_kept() {
        // A deleted field and a deactivated option still hold their values on the case.
        let field = r#"{"type":"field","fieldId":"p","name":"P","fieldType":"SingleSelect","namespace":"Custom","options":[{"name":"a","value":"a","active":false}],"deleted":true,"createdTime":"2026-01-01T00:00:00Z","lastModifiedTime":"2026-01-01T00:00:00Z"}"#;
        let c = case(
            "c1",
            r#""title":{"stringValue":"x"},"p":{"stringValue":"a"},"created_datetime":{"stringValue":"2025-03-01T10:00:00+01:00"},"reference_number":{"stringValue":"00000000"}"#,
        );
        let mut plan = check(&[DOMAIN, field, TEMPLATE, &c]).unwrap();
        let Line::Case(line) = Line::parse(&c).unwrap() else {
            unreachable!()
        };
        let values = plan.case_values(&line).unwrap();
        assert_eq!(values["p"], Value::String("a".into()));
        assert_eq!(
            values["created_datetime"],
            Value::String("2025-03-01T09:00:00.000Z".into())
        );
        // A case without a number gets one no other case of the file uses.
        let other = case("c2", r#""title":{"stringValue":"y"}"#);
        let Line::Case(other) = Line::parse(&other).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            plan.case_values(&other).unwrap()["reference_number"],
            Value::String("00000001".into())
        );
    }
}
