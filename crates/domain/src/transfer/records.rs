//! Stored records ↔ export lines. Export reads records into lines; a direct import turns checked
//! lines back into records with the same ids and times, so export → import → export gives the
//! same bytes.

use super::format::*;
use crate::related::ItemDoc;
use crate::related::query::ref_key;
use crate::schema::fields::FieldDoc;
use crate::schema::layouts::LayoutDoc;
use crate::schema::templates::TemplateDoc;
use crate::store::{CaseRecord, DomainRecord, RelatedItemRecord, ResourceKind, ResourceRecord};
use crate::value::Value;
use caseload_model::shapes::{CaseRuleDetails, RelatedItemContent, RelatedItemType, RequiredField};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the stored documents a direct import writes.
const DOC_VERSION: u32 = 1;

/// A case rule's stored body. Mirrors `rules::definition::CaseRuleDoc`, read and written as JSON
/// so that transfer does not depend on the case-rule module's internals.
#[derive(Serialize, Deserialize)]
struct CaseRuleBody {
    v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    rule: CaseRuleDetails,
}

fn unreadable(r: &ResourceRecord, e: impl std::fmt::Display) -> String {
    format!("stored {} {} cannot be read: {e}", r.kind.as_str(), r.id)
}

pub fn domain_line(d: &DomainRecord) -> DomainLine {
    DomainLine {
        format: FORMAT_VERSION,
        name: d.name.clone(),
        created_time: d.created,
        tags: d.tags.clone(),
    }
}

pub fn field_line(r: &ResourceRecord) -> Result<FieldLine, String> {
    let doc = FieldDoc::from_record(r).map_err(|e| unreadable(r, e))?;
    Ok(FieldLine {
        field_id: r.id.clone(),
        name: r.name.clone(),
        field_type: doc.field_type,
        namespace: doc.namespace,
        description: doc.description,
        attributes: doc.attributes,
        options: doc.options.into_iter().map(Into::into).collect(),
        deleted: r.deleted,
        created_time: r.created,
        last_modified_time: r.modified,
        tags: r.tags.clone(),
    })
}

pub fn case_rule_line(r: &ResourceRecord) -> Result<CaseRuleLine, String> {
    let doc: CaseRuleBody = serde_json::from_value(r.body.clone()).map_err(|e| unreadable(r, e))?;
    Ok(CaseRuleLine {
        case_rule_id: r.id.clone(),
        name: r.name.clone(),
        description: doc.description,
        rule: doc.rule,
        deleted: r.deleted,
        created_time: r.created,
        last_modified_time: r.modified,
        tags: r.tags.clone(),
    })
}

pub fn layout_line(r: &ResourceRecord) -> Result<LayoutLine, String> {
    let doc = LayoutDoc::from_record(r).map_err(|e| unreadable(r, e))?;
    Ok(LayoutLine {
        layout_id: r.id.clone(),
        name: r.name.clone(),
        content: doc.content,
        deleted: r.deleted,
        created_time: r.created,
        last_modified_time: r.modified,
        tags: r.tags.clone(),
    })
}

pub fn template_line(r: &ResourceRecord) -> Result<TemplateLine, String> {
    let doc = TemplateDoc::from_record(r).map_err(|e| unreadable(r, e))?;
    Ok(TemplateLine {
        template_id: r.id.clone(),
        name: r.name.clone(),
        description: doc.description,
        status: doc.status,
        layout_configuration: doc.layout_configuration,
        required_fields: doc
            .required_fields
            .into_iter()
            .map(|field_id| RequiredField { field_id })
            .collect(),
        rules: doc.rules,
        tag_propagation_configurations: doc.tag_propagation_configurations,
        deleted: r.deleted,
        created_time: r.created,
        last_modified_time: r.modified,
        tags: r.tags.clone(),
    })
}

pub fn case_line(c: &CaseRecord) -> CaseLine {
    CaseLine {
        case_id: c.case_id.clone(),
        template_id: c.template_id.clone(),
        fields: c
            .fields
            .iter()
            .map(|(id, v)| (id.clone(), v.to_wire()))
            .collect(),
        tags: c.tags.clone(),
    }
}

pub fn related_item_line(r: &RelatedItemRecord) -> Result<RelatedItemLine, String> {
    let doc = ItemDoc::from_body(&r.body).map_err(|e| {
        format!(
            "stored related item {} cannot be read: {e}",
            r.related_item_id
        )
    })?;
    Ok(RelatedItemLine {
        case_id: r.case_id.clone(),
        related_item_id: r.related_item_id.clone(),
        association_time: r.association_time,
        content: doc.content,
        performed_by: doc.created_by,
        last_updated_user: doc.last_updated_user,
        tags: r.tags.clone(),
    })
}

/// The type of an item with this content.
pub fn content_type(c: &RelatedItemContent) -> RelatedItemType {
    match c {
        RelatedItemContent::Comment(_) => RelatedItemType::Comment,
        RelatedItemContent::ConnectCase(_) => RelatedItemType::ConnectCase,
        RelatedItemContent::Contact(_) => RelatedItemType::Contact,
        RelatedItemContent::Custom(_) => RelatedItemType::Custom,
        RelatedItemContent::File(_) => RelatedItemType::File,
        RelatedItemContent::Sla(_) => RelatedItemType::Sla,
    }
}

/// Where imported records go.
#[derive(Clone, Debug)]
pub struct Target {
    pub account_id: String,
    pub domain_id: String,
}

impl Target {
    fn resource(
        &self,
        kind: ResourceKind,
        id: &str,
        name: &str,
        body: serde_json::Value,
        (deleted, created, modified, tags): (
            bool,
            caseload_model::Timestamp,
            caseload_model::Timestamp,
            &Tags,
        ),
    ) -> ResourceRecord {
        ResourceRecord {
            account_id: self.account_id.clone(),
            domain_id: self.domain_id.clone(),
            kind,
            id: id.to_owned(),
            name: name.to_owned(),
            deleted,
            created,
            modified,
            body,
            tags: tags.clone(),
        }
    }

    pub fn field(&self, l: &FieldLine) -> ResourceRecord {
        let doc = FieldDoc {
            v: DOC_VERSION,
            field_type: l.field_type,
            namespace: l.namespace,
            description: l.description.clone(),
            attributes: l.attributes.clone(),
            options: l.options.iter().map(Into::into).collect(),
        };
        self.resource(
            ResourceKind::Field,
            &l.field_id,
            &l.name,
            to_json(&doc),
            (l.deleted, l.created_time, l.last_modified_time, &l.tags),
        )
    }

    pub fn case_rule(&self, l: &CaseRuleLine) -> ResourceRecord {
        let doc = CaseRuleBody {
            v: DOC_VERSION,
            description: l.description.clone(),
            rule: l.rule.clone(),
        };
        self.resource(
            ResourceKind::CaseRule,
            &l.case_rule_id,
            &l.name,
            to_json(&doc),
            (l.deleted, l.created_time, l.last_modified_time, &l.tags),
        )
    }

    pub fn layout(&self, l: &LayoutLine) -> ResourceRecord {
        let doc = LayoutDoc {
            v: DOC_VERSION,
            content: l.content.clone(),
        };
        self.resource(
            ResourceKind::Layout,
            &l.layout_id,
            &l.name,
            to_json(&doc),
            (l.deleted, l.created_time, l.last_modified_time, &l.tags),
        )
    }

    pub fn template(&self, l: &TemplateLine) -> ResourceRecord {
        let doc = TemplateDoc {
            v: DOC_VERSION,
            description: l.description.clone(),
            layout_configuration: l.layout_configuration.clone(),
            required_fields: l
                .required_fields
                .iter()
                .map(|f| f.field_id.clone())
                .collect(),
            status: l.status,
            rules: l.rules.clone(),
            tag_propagation_configurations: l.tag_propagation_configurations.clone(),
        };
        self.resource(
            ResourceKind::Template,
            &l.template_id,
            &l.name,
            to_json(&doc),
            (l.deleted, l.created_time, l.last_modified_time, &l.tags),
        )
    }

    /// A case from its checked values (`Plan::case_values`). Its record times are those of its
    /// `created_datetime` and `last_updated_datetime` values, as for a case made by CreateCase.
    pub fn case(&self, l: CaseLine, fields: BTreeMap<String, Value>) -> CaseRecord {
        let time = |id: &str| match fields.get(id) {
            Some(Value::String(s)) => caseload_model::Timestamp::parse(s),
            _ => None,
        };
        let created = time("created_datetime").unwrap_or_else(caseload_model::Timestamp::now);
        let updated = time("last_updated_datetime").unwrap_or(created);
        let reference_number = match fields.get("reference_number") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        CaseRecord {
            account_id: self.account_id.clone(),
            domain_id: self.domain_id.clone(),
            case_id: l.case_id,
            template_id: l.template_id,
            reference_number,
            fields,
            tags: l.tags,
            created,
            updated,
            version: 1,
        }
    }
}

impl Target {
    /// The stored item of a related-item line, with the line's id, time and content. The
    /// version starts again at 1 (it only orders this store's own updates).
    pub fn related_item(&self, l: RelatedItemLine) -> RelatedItemRecord {
        let doc = ItemDoc {
            v: 1,
            content: l.content,
            created_by: l.performed_by,
            last_updated_user: l.last_updated_user,
        };
        RelatedItemRecord {
            account_id: self.account_id.clone(),
            domain_id: self.domain_id.clone(),
            case_id: l.case_id,
            related_item_id: l.related_item_id,
            item_type: content_type(&doc.content),
            association_time: l.association_time,
            seq: 0,
            ref_key: ref_key(&doc.content),
            body: to_json(&doc),
            tags: l.tags,
            version: 1,
        }
    }
}

fn to_json(doc: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(doc).expect("stored documents serialize")
}
