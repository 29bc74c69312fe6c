//! What is stored for a new related item, per type, and the rules its input must follow:
//! - Contact: a Connect contact ARN. caseload has no Connect instance to ask (AWS calls
//!   DescribeContact), so the channel is recorded as `VOICE` and the connection time as the
//!   association time.
//! - Comment: stored as given (the model bounds its body to 15,000 characters).
//! - File: a Connect attached-file ARN.
//! - Sla: see `sla`.
//! - ConnectCase: a link to another case of the domain, which must exist.
//! - Custom: up to `fields_per_custom_item` values of custom fields, checked like case values.
//!
//! `attributes` flattens a content into named values, the unit audit events and event streams
//! report changes in.

use super::sla;
use crate::cases::fields::CaseFields;
use crate::cases::validate::check_values;
use crate::schema::fields::system_field;
use crate::store::CaseKey;
use crate::store::CaseRecord;
use crate::value::Value;
use crate::{Service, arn};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::BTreeMap;

/// The channel recorded for contacts (see the module comment).
pub const CONTACT_CHANNEL: &str = "VOICE";
/// Longest string an audit event value may hold (the model's limit).
const MAX_AUDIT_STRING: usize = 4100;

/// The type the content member of an input stands for.
pub(crate) fn input_type(c: &RelatedItemInputContent) -> RelatedItemType {
    match c {
        RelatedItemInputContent::Contact(_) => RelatedItemType::Contact,
        RelatedItemInputContent::Comment(_) => RelatedItemType::Comment,
        RelatedItemInputContent::File(_) => RelatedItemType::File,
        RelatedItemInputContent::Sla(_) => RelatedItemType::Sla,
        RelatedItemInputContent::ConnectCase(_) => RelatedItemType::ConnectCase,
        RelatedItemInputContent::Custom(_) => RelatedItemType::Custom,
    }
}

/// The wire name of a type's content member.
pub(crate) fn member(t: RelatedItemType) -> &'static str {
    match t {
        RelatedItemType::Contact => "contact",
        RelatedItemType::Comment => "comment",
        RelatedItemType::File => "file",
        RelatedItemType::Sla => "sla",
        RelatedItemType::ConnectCase => "connectCase",
        RelatedItemType::Custom => "custom",
    }
}

/// Checks a Custom item's values: at most `max` of them (a quota), custom fields only, each
/// valid for its field like a case value. Returns them in their stored form.
pub(crate) fn custom_fields(
    fields: &CaseFields,
    input: &[FieldValue],
    max: usize,
) -> Result<Vec<FieldValue>> {
    if input.len() > max {
        return Err(Error::QuotaExceeded(format!(
            "A Custom related item can have at most {max} fields, and content.custom.fields has {}",
            input.len()
        )));
    }
    if let Some(f) = input.iter().find(|f| system_field(&f.id).is_some()) {
        return Err(Error::validation(format!(
            "Field '{}' is a system field; Custom related items take custom fields only",
            f.id
        )));
    }
    Ok(check_values(fields, input, None)?
        .into_iter()
        .map(|(id, v)| FieldValue {
            id,
            value: v.to_wire(),
        })
        .collect())
}

/// The content stored for a new item of `case` from its input, checked.
pub(crate) async fn new_content(
    svc: &Service,
    ctx: &RequestContext,
    case: &CaseRecord,
    declared: RelatedItemType,
    input: &RelatedItemInputContent,
    now: Timestamp,
) -> Result<RelatedItemContent> {
    let given = input_type(input);
    if given != declared {
        return Err(Error::validation(format!(
            "type is {} but content has a {} member; they must agree",
            declared.as_str(),
            member(given)
        )));
    }
    Ok(match input {
        RelatedItemInputContent::Contact(c) => {
            if !arn::is_connect(&c.contact_arn, "contact") {
                return Err(Error::validation(format!(
                    "content.contact.contactArn takes the ARN of an Amazon Connect contact (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/contact/CONTACT_ID), not '{}'",
                    c.contact_arn
                )));
            }
            RelatedItemContent::Contact(ContactContent {
                channel: CONTACT_CHANNEL.to_owned(),
                connected_to_system_time: now,
                contact_arn: c.contact_arn.clone(),
            })
        }
        RelatedItemInputContent::Comment(c) => RelatedItemContent::Comment(c.clone()),
        RelatedItemInputContent::File(f) => {
            if !arn::is_connect(&f.file_arn, "file") {
                return Err(Error::validation(format!(
                    "content.file.fileArn takes the ARN of an Amazon Connect attached file (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/file/FILE_ID), not '{}'",
                    f.file_arn
                )));
            }
            RelatedItemContent::File(f.clone())
        }
        RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(s)) => {
            let fields = svc.case_fields(ctx, &case.domain_id).await?;
            RelatedItemContent::Sla(SlaContent {
                sla_configuration: sla::new_sla(s, &fields, &case.fields, now)?,
            })
        }
        RelatedItemInputContent::ConnectCase(c) => {
            if c.case_id == case.case_id {
                return Err(Error::validation(format!(
                    "content.connectCase.caseId is case {} itself; a case cannot be linked to itself",
                    c.case_id
                )));
            }
            svc.store
                .get_case(CaseKey::new(&ctx.account_id, &case.domain_id, &c.case_id))
                .await?
                .ok_or_else(|| Error::not_found("Case", &c.case_id))?;
            RelatedItemContent::ConnectCase(ConnectCaseContent {
                case_id: c.case_id.clone(),
            })
        }
        RelatedItemInputContent::Custom(c) => {
            let fields = svc.case_fields(ctx, &case.domain_id).await?;
            RelatedItemContent::Custom(CustomContent {
                fields: custom_fields(&fields, &c.fields, svc.quotas.fields_per_custom_item)?,
            })
        }
    })
}

fn audit_string(s: &str) -> Value {
    Value::String(s.chars().take(MAX_AUDIT_STRING).collect())
}

/// A content as named values (`comment.body`, `sla.targetTime`, `custom.<fieldId>`, …). Audit
/// events record the ones a write changed, and events list their names as `changedAttributes`.
/// Strings are cut at the 4,100 characters an audit value may hold.
pub(crate) fn attributes(content: &RelatedItemContent) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    match content {
        RelatedItemContent::Contact(c) => {
            put("contact.contactArn", audit_string(&c.contact_arn));
            put("contact.channel", audit_string(&c.channel));
            put(
                "contact.connectedToSystemTime",
                Value::String(c.connected_to_system_time.to_iso8601()),
            );
        }
        RelatedItemContent::Comment(c) => {
            put("comment.body", audit_string(&c.body));
            put(
                "comment.contentType",
                Value::String(c.content_type.as_str().to_owned()),
            );
        }
        RelatedItemContent::File(f) => put("file.fileArn", audit_string(&f.file_arn)),
        RelatedItemContent::Sla(s) => {
            let c = &s.sla_configuration;
            put("sla.name", audit_string(&c.name));
            put("sla.type", Value::String(c.r#type.as_str().to_owned()));
            if let Some(f) = &c.field_id {
                put("sla.fieldId", audit_string(f));
            }
            if let Some(v) = c.target_field_values.as_ref().and_then(|v| v.first()) {
                put("sla.targetFieldValues", Value::from_wire(v));
            }
            put("sla.targetTime", Value::String(c.target_time.to_iso8601()));
            if let Some(t) = c.completion_time {
                put("sla.completionTime", Value::String(t.to_iso8601()));
            }
        }
        RelatedItemContent::ConnectCase(c) => put("connectCase.caseId", audit_string(&c.case_id)),
        RelatedItemContent::Custom(c) => {
            for f in &c.fields {
                let v = match Value::from_wire(&f.value) {
                    Value::String(s) => audit_string(&s),
                    other => other,
                };
                put(&format!("custom.{}", f.id), v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_name_each_member() {
        let a = attributes(&RelatedItemContent::Comment(CommentContent {
            body: "x".repeat(5000),
            content_type: CommentBodyTextType::TextPlain,
        }));
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            ["comment.body", "comment.contentType"]
        );
        assert_eq!(a["comment.body"], Value::String("x".repeat(4100)));
    }
}
