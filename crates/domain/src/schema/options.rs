//! Options of SingleSelect fields: BatchPutFieldOptions and ListFieldOptions. Options are stored
//! in the field's document in the order they were first added; they are never removed, only
//! deactivated, so a position in that list is a stable paging cursor.

use super::fields::{FieldDoc, FieldOptionDoc};
use super::resource::{self, DEFAULT_PAGE};
use crate::Service;
use crate::store::ResourceKind;
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};
use std::collections::HashSet;

/// The options of the system `status` field that a domain starts with. The admin guide says they
/// cannot be changed; other statuses can be added.
pub(crate) const FIXED_STATUS_OPTIONS: &[&str] = &["open", "closed"];

/// The `errorCode` of an option refused on its own (the rest of the batch still applies).
/// AWS does not document its codes; this names the exception the option would have raised alone.
const OPTION_ERROR: &str = "ValidationException";

fn option_error(value: &str, message: String) -> FieldOptionError {
    FieldOptionError {
        error_code: OPTION_ERROR.to_owned(),
        message,
        value: value.to_owned(),
    }
}

/// Applies `options` to `doc` (create or update by value), returning the options refused.
fn put_options(
    field_id: &str,
    doc: &mut FieldDoc,
    options: &[FieldOption],
) -> Vec<FieldOptionError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for o in options {
        if !seen.insert(o.value.as_str()) {
            errors.push(option_error(
                &o.value,
                format!(
                    "The value '{}' appears more than once in this request",
                    o.value
                ),
            ));
            continue;
        }
        match doc.options.iter_mut().find(|e| e.value == o.value) {
            Some(existing) => {
                let fixed =
                    field_id == "status" && FIXED_STATUS_OPTIONS.contains(&o.value.as_str());
                if fixed && (existing.name != o.name || existing.active != o.active) {
                    errors.push(option_error(
                        &o.value,
                        format!(
                            "The '{}' option of the status field cannot be renamed or deactivated",
                            o.value
                        ),
                    ));
                    continue;
                }
                existing.name.clone_from(&o.name);
                existing.active = o.active;
            }
            None => doc.options.push(o.into()),
        }
    }
    errors
}

pub(crate) async fn batch_put_field_options(
    svc: &Service,
    ctx: &RequestContext,
    input: BatchPutFieldOptionsRequest,
) -> Result<BatchPutFieldOptionsResponse> {
    let quota = svc.quotas.options_per_field;
    let mut errors = Vec::new();
    resource::update_doc(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Field,
        &input.field_id,
        None,
        |r, doc: &mut FieldDoc| {
            if r.deleted {
                return Err(Error::validation(format!(
                    "Field {} has been deleted; its options cannot be changed",
                    r.id
                )));
            }
            if doc.field_type != FieldType::SingleSelect {
                return Err(Error::validation(format!(
                    "Field {} is of type {}; only SingleSelect fields have options",
                    r.id,
                    doc.field_type.as_str()
                )));
            }
            errors = put_options(&r.id, doc, &input.options);
            // All or nothing for the quota: a batch that would overflow adds no option.
            if doc.options.len() > quota {
                return Err(Error::QuotaExceeded(format!(
                    "Field {} would have {} options; the maximum is {quota}",
                    r.id,
                    doc.options.len()
                )));
            }
            Ok(())
        },
    )
    .await?;
    Ok(BatchPutFieldOptionsResponse {
        errors: Some(errors),
    })
}

pub(crate) async fn list_field_options(
    svc: &Service,
    ctx: &RequestContext,
    input: ListFieldOptionsRequest,
) -> Result<ListFieldOptionsResponse> {
    let (_, doc) = super::fields::read_field(svc, ctx, &input.domain_id, &input.field_id).await?;
    let values = input.values.unwrap_or_default();
    let digest = crate::paging::query_digest(&(
        "ListFieldOptions",
        &ctx.account_id,
        &input.domain_id,
        &input.field_id,
        &values,
    ));
    let start: usize = match input.next_token.as_deref() {
        Some(t) if !t.is_empty() => svc.tokens.read(&digest, t)?,
        _ => 0,
    };
    let limit = input
        .max_results
        .map_or(DEFAULT_PAGE, |n| n.max(1) as usize);
    let mut matching = doc
        .options
        .into_iter()
        .enumerate()
        .skip(start)
        .filter(|(_, o)| values.is_empty() || values.contains(&o.value));
    let page: Vec<(usize, FieldOptionDoc)> = matching.by_ref().take(limit).collect();
    let next_token = match (page.last(), matching.next()) {
        (Some((last, _)), Some(_)) => Some(svc.tokens.issue(&digest, &(last + 1))),
        _ => None,
    };
    Ok(ListFieldOptionsResponse {
        options: page.into_iter().map(|(_, o)| o.into()).collect(),
        next_token,
    })
}
