//! The export format: newline-delimited JSON, one resource per line, each line an object whose
//! `type` says what it is. Members follow the API's names and shapes (GetField, GetLayout,
//! GetTemplate, GetCase), minus ARNs, so a file reads like API output and does not depend on how
//! a backend stores things.
//!
//! A file is `domain` first, then `field`s, `caseRule`s, `layout`s, `template`s (each kind ordered
//! by id), then `case`s ordered by case id, then `relatedItem`s ordered by case id and, within a
//! case, in the order they were added: every line refers only to lines before it, so an import
//! can check and apply a file in one pass. Nothing in a file names the domain's id,
//! account or region: the same file imports anywhere.

use caseload_model::Timestamp;
use caseload_model::shapes::{
    CaseRuleDetails, FieldAttributes, FieldNamespace, FieldOption, FieldType, FieldValueUnion,
    LayoutConfiguration, LayoutContent, RelatedItemContent, RequiredField,
    TagPropagationConfiguration, TemplateRule, TemplateStatus, UserUnion,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the format this build writes and reads (`domain.format`).
pub const FORMAT_VERSION: u32 = 1;

/// Tag key → value, as the model's sparse tag maps allow (`null` is a tag without a value).
pub type Tags = BTreeMap<String, Option<String>>;

/// One line of an export file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Line {
    Domain(DomainLine),
    Field(FieldLine),
    CaseRule(CaseRuleLine),
    Layout(LayoutLine),
    Template(TemplateLine),
    Case(CaseLine),
    RelatedItem(RelatedItemLine),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainLine {
    /// `FORMAT_VERSION` of the file.
    pub format: u32,
    pub name: String,
    pub created_time: Timestamp,
    #[serde(default)]
    pub tags: Tags,
}

/// Declares the line of a schema resource (field, case rule, layout, template): its own members,
/// then what every schema resource has, written once here: whether it is deleted, its times, its
/// tags. (`#[serde(flatten)]` would share them as a struct, but serde cannot then refuse unknown
/// members.)
macro_rules! resource_line {
    ($(#[$attr:meta])* pub struct $name:ident { $($member:tt)* }) => {
        $(#[$attr])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $($member)*
            #[serde(default)]
            pub deleted: bool,
            pub created_time: Timestamp,
            pub last_modified_time: Timestamp,
            #[serde(default)]
            pub tags: Tags,
        }
    };
}

resource_line! {
    pub struct FieldLine {
        pub field_id: String,
        pub name: String,
        #[serde(rename = "fieldType")]
        pub field_type: FieldType,
        pub namespace: FieldNamespace,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub attributes: Option<FieldAttributes>,
        /// SingleSelect options, in the order they were added.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub options: Vec<FieldOption>,
    }
}

resource_line! {
    pub struct CaseRuleLine {
        pub case_rule_id: String,
        pub name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
        pub rule: CaseRuleDetails,
    }
}

resource_line! {
    pub struct LayoutLine {
        pub layout_id: String,
        pub name: String,
        pub content: LayoutContent,
    }
}

resource_line! {
    pub struct TemplateLine {
        pub template_id: String,
        pub name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
        pub status: TemplateStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub layout_configuration: Option<LayoutConfiguration>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub required_fields: Vec<RequiredField>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub rules: Vec<TemplateRule>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub tag_propagation_configurations: Vec<TagPropagationConfiguration>,
    }
}

/// A case with every value it holds, the server-maintained ones (`case_id`, `reference_number`,
/// the `*_datetime` fields, `last_updated_user`) included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseLine {
    pub case_id: String,
    pub template_id: String,
    /// Field id → value, in the API's value form (`{"stringValue": "…"}`).
    pub fields: BTreeMap<String, FieldValueUnion>,
    #[serde(default)]
    pub tags: Tags,
}

/// A related item of a case, as SearchRelatedItems shows it (its kind is the member of
/// `content`), with what the store keeps besides: who last updated it. An SLA's `status` is the
/// stored one; reads derive the current status from the times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelatedItemLine {
    pub case_id: String,
    pub related_item_id: String,
    pub association_time: Timestamp,
    pub content: RelatedItemContent,
    /// Who created the item (the API's `performedBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_by: Option<UserUnion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_user: Option<UserUnion>,
    #[serde(default)]
    pub tags: Tags,
}

impl Line {
    /// The `type` member of this kind of line.
    pub fn kind(&self) -> &'static str {
        match self {
            Line::Domain(_) => "domain",
            Line::Field(_) => "field",
            Line::CaseRule(_) => "caseRule",
            Line::Layout(_) => "layout",
            Line::Template(_) => "template",
            Line::Case(_) => "case",
            Line::RelatedItem(_) => "relatedItem",
        }
    }

    /// Reads one line. Case lines, nearly all of a large file, are read straight into their
    /// struct: serde's internally tagged enums buffer the whole object first, which doubles the
    /// cost of reading a million cases.
    pub fn parse(text: &str) -> Result<Line, String> {
        #[derive(Deserialize)]
        struct Kind<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<std::borrow::Cow<'a, str>>,
        }
        let kind = serde_json::from_str::<Kind>(text)
            .map_err(|e| e.to_string())?
            .kind
            .ok_or("the line has no \"type\" member")?;
        if kind == "case" {
            return parse_case(text).map(Line::Case);
        }
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// One line of JSON, without the newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("export lines serialize")
    }
}

/// Reads a case line, whose `type` member has already been seen to be `case`.
fn parse_case(text: &str) -> Result<CaseLine, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Raw {
        #[serde(rename = "type")]
        _kind: serde::de::IgnoredAny,
        case_id: String,
        template_id: String,
        fields: BTreeMap<String, FieldValueUnion>,
        #[serde(default)]
        tags: Tags,
    }
    let raw: Raw = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(CaseLine {
        case_id: raw.case_id,
        template_id: raw.template_id,
        fields: raw.fields,
        tags: raw.tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_lines_round_trip_through_both_paths() {
        let line = Line::Case(CaseLine {
            case_id: "c1".into(),
            template_id: "t1".into(),
            fields: [
                ("title".to_owned(), FieldValueUnion::StringValue("x".into())),
                ("n".to_owned(), FieldValueUnion::DoubleValue(1.5)),
            ]
            .into(),
            tags: [("k".to_owned(), None)].into(),
        });
        let text = line.to_json();
        assert!(
            text.starts_with(r#"{"type":"case","caseId":"c1""#),
            "{text}"
        );
        // The fast path and serde's tagged enum agree on both reading and writing.
        assert_eq!(serde_json::to_string(&line).unwrap(), text);
        assert_eq!(Line::parse(&text).unwrap(), line);
        assert_eq!(serde_json::from_str::<Line>(&text).unwrap(), line);
    }

    #[test]
    fn related_item_lines_round_trip() {
        let text = r#"{"type":"relatedItem","caseId":"c1","relatedItemId":"r1","associationTime":"2026-01-01T00:00:00.000Z","content":{"comment":{"body":"hi","contentType":"Text/Plain"}},"performedBy":{"userArn":"arn:u"},"tags":{}}"#;
        let line = Line::parse(text).unwrap();
        assert_eq!(line.kind(), "relatedItem");
        assert_eq!(line.to_json(), text);
        assert!(Line::parse(&text.replace(r#""tags":{}"#, r#""version":2"#)).is_err());
    }

    #[test]
    fn unknown_members_and_kinds_are_refused() {
        assert!(
            Line::parse(r#"{"type":"case","caseId":"c","templateId":"t","fields":{},"x":1}"#)
                .is_err()
        );
        assert!(Line::parse(r#"{"type":"nope"}"#).is_err());
        assert!(
            Line::parse(r#"{"caseId":"c"}"#)
                .unwrap_err()
                .contains("type")
        );
        assert!(Line::parse("not json").is_err());
    }
}
