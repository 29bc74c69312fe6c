//! StartMergeCases: checks everything the StartMergeCases documentation says makes a merge fail,
//! in the order a caller can act on (missing cases, cases already merging, the request itself,
//! the cases' state, then limits), records the merge and wakes the merge worker.

use super::MergeDoc;
use super::fields::{MERGEABLE_SYSTEM_FIELDS, merged_changes};
use super::related::plan;
use crate::Service;
use crate::cases::fields::CaseFields;
use crate::cases::validate::is_filled;
use crate::schema::fields::system_field;
use crate::store::CaseKey;
use crate::store::{CaseRecord, MergeRecord, MergeStart};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::HashSet;

/// Most field values a case may hold after a merge.
pub const MAX_FIELD_VALUES: usize = 500;

/// True when a merge may copy field `id`: a custom field that is not deleted, or one of the
/// system fields the documentation names.
pub(crate) fn mergeable(fields: &CaseFields, id: &str) -> bool {
    fields.get(id).is_some_and(|f| !f.deleted)
        && (system_field(id).is_none() || MERGEABLE_SYSTEM_FIELDS.contains(&id))
}

fn status(case: &CaseRecord) -> Option<&str> {
    match case.fields.get("status") {
        Some(crate::value::Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The related item types `c` selects.
fn move_types(c: Option<&RelatedItemsConfiguration>) -> Vec<RelatedItemType> {
    let Some(c) = c else { return vec![] };
    [
        (c.comment, RelatedItemType::Comment),
        (c.connect_case, RelatedItemType::ConnectCase),
        (c.contact, RelatedItemType::Contact),
        (c.custom, RelatedItemType::Custom),
    ]
    .into_iter()
    .filter(|(on, _)| *on == Some(true))
    .map(|(_, t)| t)
    .collect()
}

/// The fields `fieldsConfiguration` selects, checked: at most one entry, taking its values from
/// the secondary case, each field mergeable, held by the secondary, and listed once.
fn selection(
    config: Option<&[FieldsConfiguration]>,
    secondary: &CaseRecord,
    fields: &CaseFields,
) -> Result<Vec<String>> {
    let config = config.unwrap_or_default();
    let Some(entry) = config.first() else {
        return Ok(vec![]);
    };
    if config.len() > 1 {
        return Err(Error::validation(
            "fieldsConfiguration: give at most one entry, for the secondary case",
        ));
    }
    if entry.source_case_id != secondary.case_id {
        return Err(Error::validation(format!(
            "fieldsConfiguration[0].sourceCaseId: the values are taken from the secondary case {}, not {}",
            secondary.case_id, entry.source_case_id
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, FieldIdentifier { id }) in entry.field_ids.iter().enumerate() {
        let member = format!("fieldsConfiguration[0].fieldIds[{i}].id");
        let problem = match fields.get(id) {
            None => Some(format!("field '{id}' does not exist in this domain")),
            Some(f) if f.deleted => Some(format!("field '{id}' has been deleted")),
            Some(_) if !mergeable(fields, id) => Some(format!(
                "field '{id}' cannot be merged; only custom fields and {} can",
                MERGEABLE_SYSTEM_FIELDS.join(", ")
            )),
            Some(_) if !secondary.fields.contains_key(id) => Some(format!(
                "the secondary case {} has no field '{id}'",
                secondary.case_id
            )),
            Some(_) if out.contains(id) => Some(format!("field '{id}' is listed more than once")),
            Some(_) => None,
        };
        if let Some(p) = problem {
            return Err(Error::validation(format!("{member}: {p}")));
        }
        out.push(id.clone());
    }
    Ok(out)
}

/// ConflictException when `case` is in a running merge or was merged away before.
async fn refuse_merged(svc: &Service, ctx: &RequestContext, case: &CaseRecord) -> Result<()> {
    for m in svc
        .store
        .merges_of_case(CaseKey::new(
            &ctx.account_id,
            &case.domain_id,
            &case.case_id,
        ))
        .await?
    {
        conflict(&m, &case.case_id)?;
    }
    Ok(())
}

pub(crate) async fn start_merge_cases(
    svc: &Service,
    ctx: &RequestContext,
    input: StartMergeCasesRequest,
) -> Result<StartMergeCasesResponse> {
    let domain_id = input.domain_id.as_str();
    let primary = svc.case(ctx, domain_id, &input.case_id).await?;
    let [secondary_id] = input.secondary_case_ids.as_slice() else {
        return Err(Error::validation(
            "secondaryCaseIds: give exactly one secondary case",
        ));
    };
    if *secondary_id == primary.case_id {
        return Err(Error::validation(format!(
            "secondaryCaseIds: case {secondary_id} cannot be merged into itself"
        )));
    }
    let secondary = svc.case(ctx, domain_id, secondary_id).await?;
    refuse_merged(svc, ctx, &primary).await?;
    refuse_merged(svc, ctx, &secondary).await?;

    let fields = svc.case_fields(ctx, domain_id).await?;
    let selected = selection(input.fields_configuration.as_deref(), &secondary, &fields)?;
    for case in [&primary, &secondary] {
        if status(case) == Some(crate::cases::maintain::CLOSED) {
            return Err(Error::validation(format!(
                "Case {} is closed; closed cases cannot be merged",
                case.case_id
            )));
        }
    }
    let (mine, theirs) = (
        primary.fields.get("customer_id"),
        secondary.fields.get("customer_id"),
    );
    if is_filled(mine) && is_filled(theirs) && mine != theirs {
        return Err(Error::validation(format!(
            "Cases {} and {} have different customers; cases can only be merged when they have the same customer or one has none",
            primary.case_id, secondary.case_id
        )));
    }
    let chosen: HashSet<String> = selected.iter().cloned().collect();
    let mut after = primary.fields.clone();
    after.extend(merged_changes(
        &primary.fields,
        &secondary.fields,
        &chosen,
        |id| mergeable(&fields, id),
    ));
    let values = after.values().filter(|v| is_filled(Some(v))).count();
    if values > MAX_FIELD_VALUES {
        return Err(Error::validation(format!(
            "After the merge, case {} would hold {values} field values; a case holds at most {MAX_FIELD_VALUES}",
            primary.case_id
        )));
    }

    let types = move_types(input.related_items_configuration.as_ref());
    let (p_items, s_items) = (
        svc.store
            .list_related_items(CaseKey::new(&ctx.account_id, domain_id, &primary.case_id))
            .await?,
        svc.store
            .list_related_items(CaseKey::new(&ctx.account_id, domain_id, &secondary.case_id))
            .await?,
    );
    let moves = plan(
        &primary.case_id,
        &p_items,
        &secondary.case_id,
        &s_items,
        &types,
    );
    let (p_count, s_count) = moves.counts(p_items.len(), s_items.len());
    let quota = svc.quotas.related_items_per_case;
    for (case, count) in [(&primary, p_count), (&secondary, s_count)] {
        if count > quota {
            return Err(Error::QuotaExceeded(format!(
                "After the merge, case {} would have {count} related items; a case can have at most {quota}",
                case.case_id
            )));
        }
    }

    let doc = MergeDoc {
        v: 1,
        field_ids: selected,
        move_types: types,
        performed_by: input.performed_by,
        principal_arn: ctx.principal_arn.clone(),
        region: ctx.region.clone(),
    };
    let record = MergeRecord {
        account_id: ctx.account_id.clone(),
        domain_id: domain_id.to_owned(),
        merge_id: crate::new_id(),
        primary_case_id: primary.case_id,
        secondary_case_id: secondary.case_id,
        completed: false,
        started: Timestamp::now(),
        body: serde_json::to_value(&doc).map_err(Error::internal)?,
    };
    match svc.store.start_merge(&record).await? {
        MergeStart::Started => {}
        // A concurrent StartMergeCases got there first.
        MergeStart::Busy(case_id) | MergeStart::MergedBefore(case_id) => {
            let merges = svc
                .store
                .merges_of_case(CaseKey::new(&ctx.account_id, domain_id, &case_id))
                .await?;
            for m in &merges {
                conflict(m, &case_id)?;
            }
            return Err(Error::conflict(format!(
                "Case {case_id} is already part of a merge"
            )));
        }
    }
    crate::merge::run::wake_merge_worker(svc);
    Ok(StartMergeCasesResponse {})
}

/// The ConflictException `m` means for a new merge of `case_id`, if any.
fn conflict(m: &MergeRecord, case_id: &str) -> Result<()> {
    if !m.completed {
        return Err(Error::conflict(format!(
            "Case {case_id} is already part of a merge that is running (case {} into case {})",
            m.secondary_case_id, m.primary_case_id
        )));
    }
    if m.secondary_case_id == case_id {
        return Err(Error::conflict(format!(
            "Case {case_id} was merged into case {} and cannot be merged again",
            m.primary_case_id
        )));
    }
    Ok(())
}
