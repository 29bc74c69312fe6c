//! Audit events: an `AuditEvent` document per case or related-item write, with the old and new
//! value of every field (or related-item attribute, see `related::attributes`) the write changed;
//! and GetCaseAuditEvents, which returns a case's events newest first.

use crate::Service;
use crate::paging::query_digest;
use crate::store::AuditRecord;
use crate::store::CaseKey;
use crate::value::Value;
use caseload_model::shapes::{
    AuditEvent, AuditEventField, AuditEventFieldValueUnion, AuditEventPerformedBy, AuditEventType,
    EmptyFieldValue, GetCaseAuditEventsRequest, GetCaseAuditEventsResponse, RelatedItemType,
    UserUnion,
};
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::BTreeMap;

/// GetCaseAuditEvents' page size when the request names none (also the model's maximum).
const DEFAULT_PAGE: usize = 25;

fn audit_value(v: &Value) -> AuditEventFieldValueUnion {
    match v {
        Value::String(s) => AuditEventFieldValueUnion::StringValue(s.clone()),
        Value::Double(d) => AuditEventFieldValueUnion::DoubleValue(*d),
        Value::Boolean(b) => AuditEventFieldValueUnion::BooleanValue(*b),
        Value::UserArn(u) => AuditEventFieldValueUnion::UserArnValue(u.clone()),
        Value::Empty => AuditEventFieldValueUnion::EmptyValue(EmptyFieldValue {}),
    }
}

/// The fields that differ between `before` and `after`, in field id order. A field that was
/// never set has no old value.
pub(crate) fn changed_fields(
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
) -> Vec<AuditEventField> {
    let mut out = vec![];
    for (id, new) in after {
        let old = before.get(id);
        if old != Some(new) {
            out.push(AuditEventField {
                event_field_id: id.clone(),
                new_value: audit_value(new),
                old_value: old.map(audit_value),
            });
        }
    }
    // Nothing removes a field today (clearing stores `Value::Empty`), but an event must never
    // hide a change if something does.
    for (id, old) in before {
        if !after.contains_key(id) {
            out.push(AuditEventField {
                event_field_id: id.clone(),
                new_value: audit_value(&Value::Empty),
                old_value: Some(audit_value(old)),
            });
        }
    }
    out
}

/// The audit record of a write to `case_id` by the caller of `ctx`.
pub(crate) fn record(
    ctx: &RequestContext,
    case_id: &str,
    kind: AuditEventType,
    now: Timestamp,
    fields: Vec<AuditEventField>,
    performed_by: Option<&UserUnion>,
) -> Result<AuditRecord> {
    build(ctx, case_id, kind, None, now, fields, performed_by)
}

/// The audit record of a write to a related item of type `item_type` of `case_id`.
pub(crate) fn related_record(
    ctx: &RequestContext,
    case_id: &str,
    kind: AuditEventType,
    item_type: RelatedItemType,
    now: Timestamp,
    fields: Vec<AuditEventField>,
    performed_by: Option<&UserUnion>,
) -> Result<AuditRecord> {
    build(
        ctx,
        case_id,
        kind,
        Some(item_type),
        now,
        fields,
        performed_by,
    )
}

fn build(
    ctx: &RequestContext,
    case_id: &str,
    kind: AuditEventType,
    related_item_type: Option<RelatedItemType>,
    now: Timestamp,
    fields: Vec<AuditEventField>,
    performed_by: Option<&UserUnion>,
) -> Result<AuditRecord> {
    let event = AuditEvent {
        event_id: crate::new_id(),
        fields: fields.into_iter().map(Some).collect(),
        merge_metadata: None,
        performed_by: Some(AuditEventPerformedBy {
            iam_principal_arn: ctx.principal_arn.clone(),
            user: performed_by.cloned(),
        }),
        performed_time: now,
        related_item_type,
        r#type: kind,
    };
    Ok(AuditRecord {
        event_id: event.event_id.clone(),
        case_id: case_id.to_owned(),
        performed_time: now,
        body: serde_json::to_value(&event).map_err(Error::internal)?,
    })
}

pub(crate) async fn get_case_audit_events(
    svc: &Service,
    ctx: &RequestContext,
    input: GetCaseAuditEventsRequest,
) -> Result<GetCaseAuditEventsResponse> {
    let limit = input.max_results.map_or(DEFAULT_PAGE, |n| n as usize);
    let case = svc.case(ctx, &input.domain_id, &input.case_id).await?;
    let digest = query_digest(&(
        "GetCaseAuditEvents",
        &ctx.account_id,
        &case.domain_id,
        &case.case_id,
    ));
    // The position is the last event id returned; events only ever get older behind it.
    let after: Option<String> = match input.next_token.as_deref() {
        Some(t) if !t.is_empty() => Some(svc.tokens.read(&digest, t)?),
        _ => None,
    };
    let mut page = svc
        .store
        .list_audit(
            CaseKey::new(&ctx.account_id, &case.domain_id, &case.case_id),
            after.as_deref(),
            limit + 1,
        )
        .await?;
    let next_token = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|e| svc.tokens.issue(&digest, &e.event_id))
    } else {
        None
    };
    let audit_events = page
        .into_iter()
        .map(|e| serde_json::from_value(e.body).map(Some))
        .collect::<Result<Vec<Option<AuditEvent>>, _>>()
        .map_err(Error::internal)?;
    Ok(GetCaseAuditEventsResponse {
        audit_events,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_with_old_values() {
        let before: BTreeMap<String, Value> = [
            ("a".to_owned(), Value::String("x".into())),
            ("b".to_owned(), Value::Double(1.0)),
        ]
        .into();
        let mut after = before.clone();
        after.insert("b".into(), Value::Empty);
        after.insert("c".into(), Value::Boolean(true));
        let ch = changed_fields(&before, &after);
        let ids: Vec<_> = ch.iter().map(|f| f.event_field_id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
        assert_eq!(
            ch[0].old_value,
            Some(AuditEventFieldValueUnion::DoubleValue(1.0))
        );
        assert_eq!(
            ch[0].new_value,
            AuditEventFieldValueUnion::EmptyValue(EmptyFieldValue {})
        );
        assert_eq!(ch[1].old_value, None);
    }
}
