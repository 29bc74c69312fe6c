//! SLAs: a target time for a case field to reach one of its target values. The status is
//! derived, not stored: an SLA that has not been completed is `Active` until its target time and
//! `Overdue` after it; one completed (its field reached a target value) is `Met` if that happened
//! by the target time and `NotMet` otherwise. The case's `next_sla_breach_datetime` is the
//! earliest target time of its SLAs that are not completed, kept current by every SLA write and
//! by case updates that complete SLAs.

use super::ItemDoc;
use crate::Service;
use crate::cases::fields::CaseFields;
use crate::store::{CaseRecord, RelatedItemRecord};
use crate::value::Value;
use caseload_model::shapes::{
    FieldType, RelatedItemContent, RelatedItemType, SlaConfiguration, SlaInputConfiguration,
    SlaStatus,
};
use caseload_model::{Error, Result, Timestamp};
use std::collections::BTreeMap;

/// The server-maintained case field SLAs keep current.
pub const NEXT_BREACH: &str = "next_sla_breach_datetime";

pub fn status(c: &SlaConfiguration, now: Timestamp) -> SlaStatus {
    match c.completion_time {
        Some(done) if done <= c.target_time => SlaStatus::Met,
        Some(_) => SlaStatus::NotMet,
        None if now > c.target_time => SlaStatus::Overdue,
        None => SlaStatus::Active,
    }
}

/// True when the case's values put the SLA's field at one of its target values.
pub(crate) fn reached(c: &SlaConfiguration, fields: &BTreeMap<String, Value>) -> bool {
    let (Some(field_id), Some(targets)) = (&c.field_id, &c.target_field_values) else {
        return false;
    };
    match fields.get(field_id) {
        None | Some(Value::Empty) => false,
        Some(have) => targets.iter().any(|t| Value::from_wire(t) == *have),
    }
}

fn target_time(start: Timestamp, minutes: i64) -> Timestamp {
    Timestamp::from_unix_millis(start.unix_millis().saturating_add(minutes * 60_000))
}

/// A new SLA from its input, checked against the domain's fields: it tracks a SingleSelect field
/// that still exists, towards values that are options of it. It is completed at once if the case
/// already holds a target value.
pub(crate) fn new_sla(
    input: &SlaInputConfiguration,
    fields: &CaseFields,
    case_fields: &BTreeMap<String, Value>,
    now: Timestamp,
) -> Result<SlaConfiguration> {
    let member = "content.sla.slaInputConfiguration";
    let Some(field_id) = &input.field_id else {
        return Err(Error::validation(format!(
            "{member}.fieldId is required: an SLA of type CaseField tracks a case field"
        )));
    };
    let Some(targets) = input.target_field_values.as_ref().filter(|t| !t.is_empty()) else {
        return Err(Error::validation(format!(
            "{member}.targetFieldValues is required: an SLA of type CaseField is met when its field reaches one of them"
        )));
    };
    let info = fields.get(field_id).filter(|f| !f.deleted).ok_or_else(|| {
        Error::validation(format!(
            "{member}.fieldId '{field_id}' is not a field of this domain"
        ))
    })?;
    if info.field_type != FieldType::SingleSelect {
        return Err(Error::validation(format!(
            "{member}.fieldId '{field_id}' is of type {}; an SLA tracks a SingleSelect field",
            info.field_type.as_str()
        )));
    }
    for t in targets {
        let ok = match Value::from_wire(t) {
            Value::String(s) => info.options.iter().any(|o| o.value == s),
            _ => false,
        };
        if !ok {
            return Err(Error::validation(format!(
                "{member}.targetFieldValues must be stringValues naming options of field '{field_id}'"
            )));
        }
    }
    let mut c = SlaConfiguration {
        completion_time: None,
        field_id: Some(field_id.clone()),
        name: input.name.clone(),
        status: SlaStatus::Active,
        target_field_values: Some(targets.clone()),
        target_time: target_time(now, input.target_sla_minutes),
        r#type: input.r#type,
    };
    if reached(&c, case_fields) {
        c.completion_time = Some(now);
    }
    c.status = status(&c, now);
    Ok(c)
}

/// UpdateRelatedItem on an SLA: a new target, counted from when the SLA was created.
pub(crate) fn retarget(c: &mut SlaConfiguration, created: Timestamp, minutes: i64, now: Timestamp) {
    c.target_time = target_time(created, minutes);
    c.status = status(c, now);
}

/// Sets `next_sla_breach_datetime` from the SLAs a case has (after a write): the earliest target
/// of those not completed, or no value when there is none.
pub(crate) fn set_next_breach<'a>(
    fields: &mut BTreeMap<String, Value>,
    slas: impl IntoIterator<Item = &'a SlaConfiguration>,
) {
    let next = slas
        .into_iter()
        .filter(|c| c.completion_time.is_none())
        .map(|c| c.target_time)
        .min();
    match next {
        Some(t) => {
            fields.insert(NEXT_BREACH.to_owned(), Value::String(t.to_iso8601()));
        }
        None => {
            fields.remove(NEXT_BREACH);
        }
    }
}

/// The SLA configuration of an item, if it is an SLA.
pub(crate) fn of(doc: &ItemDoc) -> Option<&SlaConfiguration> {
    match &doc.content {
        RelatedItemContent::Sla(s) => Some(&s.sla_configuration),
        _ => None,
    }
}

/// The SLAs of a case, as stored items with their documents.
pub(crate) async fn case_slas(
    svc: &Service,
    case: &CaseRecord,
) -> Result<Vec<(RelatedItemRecord, ItemDoc)>> {
    let items = svc.store.list_related_items(case.key()).await?;
    items
        .into_iter()
        .filter(|i| i.item_type == RelatedItemType::Sla)
        .map(|i| {
            let doc = ItemDoc::from_body(&i.body)?;
            Ok((i, doc))
        })
        .collect()
}

/// Case updates complete SLAs: for an update of `before` into `next` at `now`, the SLAs that
/// `next`'s values complete, as items to write with the case, and `next` with its
/// `next_sla_breach_datetime` recomputed. A case without a pending SLA (no next breach) costs
/// nothing here.
pub(crate) async fn sla_progress(
    svc: &Service,
    before: &CaseRecord,
    next: &mut CaseRecord,
    now: Timestamp,
) -> Result<Vec<RelatedItemRecord>> {
    if matches!(before.fields.get(NEXT_BREACH), None | Some(Value::Empty)) {
        return Ok(vec![]);
    }
    let mut slas = case_slas(svc, before).await?;
    let mut changed = vec![];
    for (item, doc) in &mut slas {
        let Some(RelatedItemContent::Sla(s)) = Some(&mut doc.content) else {
            continue;
        };
        let c = &mut s.sla_configuration;
        if c.completion_time.is_none() && reached(c, &next.fields) {
            c.completion_time = Some(now);
            c.status = status(c, now);
            let mut updated = item.clone();
            updated.body = doc.to_body()?;
            updated.version += 1;
            changed.push(updated);
        }
    }
    set_next_breach(&mut next.fields, slas.iter().filter_map(|(_, d)| of(d)));
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::shapes::{FieldValueUnion, SlaType};

    fn sla(target: &str, done: Option<&str>) -> SlaConfiguration {
        SlaConfiguration {
            completion_time: done.map(|d| Timestamp::parse(d).unwrap()),
            field_id: Some("status".into()),
            name: "n".into(),
            status: SlaStatus::Active,
            target_field_values: Some(vec![FieldValueUnion::StringValue("closed".into())]),
            target_time: Timestamp::parse(target).unwrap(),
            r#type: SlaType::CaseField,
        }
    }

    #[test]
    fn status_follows_time_and_completion() {
        let now = Timestamp::parse("2026-01-02T00:00:00Z").unwrap();
        assert_eq!(
            status(&sla("2026-01-03T00:00:00Z", None), now),
            SlaStatus::Active
        );
        assert_eq!(
            status(&sla("2026-01-01T00:00:00Z", None), now),
            SlaStatus::Overdue
        );
        assert_eq!(
            status(
                &sla("2026-01-03T00:00:00Z", Some("2026-01-02T00:00:00Z")),
                now
            ),
            SlaStatus::Met
        );
        assert_eq!(
            status(
                &sla("2026-01-01T00:00:00Z", Some("2026-01-02T00:00:00Z")),
                now
            ),
            SlaStatus::NotMet
        );
    }

    #[test]
    fn next_breach_is_the_earliest_pending_target() {
        let mut fields = BTreeMap::new();
        let a = sla("2026-01-03T00:00:00Z", None);
        let b = sla("2026-01-02T00:00:00Z", Some("2026-01-01T00:00:00Z"));
        let c = sla("2026-01-04T00:00:00Z", None);
        set_next_breach(&mut fields, [&a, &b, &c]);
        assert_eq!(
            fields[NEXT_BREACH],
            Value::String("2026-01-03T00:00:00.000Z".into())
        );
        set_next_breach(&mut fields, [&b]);
        assert!(!fields.contains_key(NEXT_BREACH));
        let done: BTreeMap<String, Value> =
            [("status".to_owned(), Value::String("closed".into()))].into();
        assert!(reached(&a, &done));
        assert!(!reached(&a, &BTreeMap::new()));
    }
}
