//! CreateRelatedItem and BatchCreateRelatedItem: a new item with its audit event, within the
//! case's quotas (all items, files, SLAs), and for an SLA the case's next breach kept current.
//! The batch call adds a comment to up to 100 cases, each succeeding or failing on its own, with
//! `clientToken` idempotency like CreateCase.

use super::{ItemDoc, attributes, content, item_arn, query, sla};
use crate::Service;
use crate::cases::audit;
use crate::events::{self, Change};
use crate::idempotency;
use crate::store::{CaseKey, DomainKey};
use crate::store::{
    CaseRecord, Created, IdempotencyRecord, NewRelatedItem, RelatedItemRecord, StoreError,
};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::{BTreeMap, HashSet};

/// Attempts before giving up on a case that other requests keep changing.
const MAX_ATTEMPTS: usize = 16;
const BATCH_OPERATION: &str = "BatchCreateRelatedItem";

fn busy(case_id: &str) -> Error {
    Error::conflict(format!(
        "Case {case_id} is being changed by other requests; retry"
    ))
}

/// The most items of type `t` a case may hold.
fn type_quota(svc: &Service, t: RelatedItemType) -> usize {
    match t {
        RelatedItemType::File => svc.quotas.files_per_case,
        RelatedItemType::Sla => svc.quotas.slas_per_case,
        _ => svc.quotas.related_items_per_case,
    }
}

/// Why one more item of type `t` does not fit in `case`, or `None` if it does.
async fn quota_breach(
    svc: &Service,
    case: &CaseRecord,
    t: RelatedItemType,
) -> Result<Option<Error>> {
    let items = svc.store.list_related_items(case.key()).await?;
    let max = svc.quotas.related_items_per_case;
    if items.len() >= max {
        return Ok(Some(Error::QuotaExceeded(format!(
            "Case {} already has the maximum of {max} related items",
            case.case_id
        ))));
    }
    let of_type = items.iter().filter(|i| i.item_type == t).count();
    let max = type_quota(svc, t);
    if of_type >= max {
        return Ok(Some(Error::QuotaExceeded(format!(
            "Case {} already has the maximum of {max} {} related items",
            case.case_id,
            t.as_str()
        ))));
    }
    Ok(None)
}

/// One item a request creates: its id, type and content, and on whose behalf.
struct ItemInput<'a> {
    related_item_id: &'a str,
    item_type: RelatedItemType,
    content: &'a RelatedItemInputContent,
    performed_by: Option<&'a UserUnion>,
}

/// Everything that creating one item in `case` writes.
async fn new_item(
    svc: &Service,
    ctx: &RequestContext,
    case: &CaseRecord,
    new: ItemInput<'_>,
    now: Timestamp,
) -> Result<NewRelatedItem> {
    let ItemInput {
        related_item_id,
        item_type,
        content: input,
        performed_by,
    } = new;
    let content =
        crate::related::content::new_content(svc, ctx, case, item_type, input, now).await?;
    // An SLA moves the case's next breach; the case is rewritten (with its version checked)
    // in the same transaction, which also orders this write against concurrent SLA writes.
    let case_update = match &content {
        RelatedItemContent::Sla(s) => {
            let slas = crate::related::sla::case_slas(svc, case).await?;
            let mut next = case.clone();
            sla::set_next_breach(
                &mut next.fields,
                slas.iter()
                    .filter_map(|(_, d)| sla::of(d))
                    .chain([&s.sla_configuration]),
            );
            next.version += 1;
            Some(next)
        }
        _ => None,
    };
    let event = audit::related_record(
        ctx,
        &case.case_id,
        AuditEventType::RelatedItemCreated,
        item_type,
        now,
        audit::changed_fields(&BTreeMap::new(), &attributes(&content)),
        performed_by,
    )?;
    let doc = ItemDoc {
        v: 1,
        created_by: performed_by.cloned(),
        last_updated_user: None,
        content,
    };
    let item = RelatedItemRecord {
        account_id: ctx.account_id.clone(),
        domain_id: case.domain_id.clone(),
        case_id: case.case_id.clone(),
        related_item_id: related_item_id.to_owned(),
        item_type,
        association_time: now,
        seq: 0,
        ref_key: query::ref_key(&doc.content),
        body: doc.to_body()?,
        // Items carry their case's tags, so tag-based access to a case covers what is
        // attached to it.
        tags: case.tags.clone(),
        version: 1,
    };
    let published = events::event(svc, ctx, Change::item(&item, &event)).await?;
    Ok(NewRelatedItem {
        item,
        audit: event,
        event: published,
        max_in_case: svc.quotas.related_items_per_case,
        max_of_type: type_quota(svc, item_type),
        case_update,
    })
}

pub(crate) async fn create_related_item(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateRelatedItemRequest,
) -> Result<CreateRelatedItemResponse> {
    let related_item_id = crate::new_id();
    for _ in 0..MAX_ATTEMPTS {
        let case = svc.case(ctx, &input.domain_id, &input.case_id).await?;
        // A running merge's secondary case and its related items are read-only.
        crate::merge::status::refuse_merging_secondary(svc, ctx, &input.domain_id, &input.case_id)
            .await?;
        let new = new_item(
            svc,
            ctx,
            &case,
            ItemInput {
                related_item_id: &related_item_id,
                item_type: input.r#type,
                content: &input.content,
                performed_by: input.performed_by.as_ref(),
            },
            Timestamp::now(),
        )
        .await?;
        match svc
            .store
            .insert_related_items(std::slice::from_ref(&new), None)
            .await
        {
            Ok(_) => {
                return Ok(CreateRelatedItemResponse {
                    related_item_arn: item_arn(ctx, &new.item),
                    related_item_id,
                });
            }
            // The case changed or vanished since it was read: read it again.
            Err(StoreError::VersionMismatch) => continue,
            Err(StoreError::QuotaExceeded) => {
                match quota_breach(svc, &case, input.r#type).await? {
                    Some(e) => return Err(e),
                    // Another request freed room meanwhile.
                    None => continue,
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy(&input.case_id))
}

pub(crate) async fn batch_create_related_item(
    svc: &Service,
    ctx: &RequestContext,
    input: BatchCreateRelatedItemRequest,
) -> Result<BatchCreateRelatedItemResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let domain_id = domain.domain_id.as_str();
    let digest = idempotency::request_digest(BATCH_OPERATION, &input, &[])?;
    let token = input.client_token.as_deref().filter(|t| !t.is_empty());
    if let Some(t) = token
        && let Some(out) =
            idempotency::remembered(svc, ctx, domain_id, BATCH_OPERATION, t, &digest).await?
    {
        return Ok(out);
    }
    if !matches!(input.content, RelatedItemInputContent::Comment(_)) {
        return Err(Error::validation(format!(
            "BatchCreateRelatedItem adds comments only; content has a {} member",
            content::member(content::input_type(&input.content))
        )));
    }
    let mut seen = HashSet::new();
    for c in &input.cases {
        if !seen.insert(describe(&c.case_identifier)) {
            return Err(Error::validation(format!(
                "cases lists {} more than once",
                describe(&c.case_identifier)
            )));
        }
    }

    for _ in 0..MAX_ATTEMPTS {
        // Resolve every identifier first: a reference id that matches no case fails the whole
        // request, and two identifiers of one case are a duplicate.
        let mut resolved: Vec<(CaseIdentifier, Option<CaseRecord>)> = vec![];
        let mut case_ids = HashSet::new();
        for c in &input.cases {
            let (shown, case) = match &c.case_identifier {
                CaseIdentifierUnion::CaseId(id) => (
                    CaseIdentifier {
                        case_id: Some(id.clone()),
                        reference_id: None,
                        reference_number: None,
                    },
                    svc.store
                        .get_case(CaseKey::new(&ctx.account_id, domain_id, id))
                        .await?,
                ),
                CaseIdentifierUnion::ReferenceId(r) => {
                    let case = svc
                        .store
                        .get_case_by_reference(DomainKey::new(&ctx.account_id, domain_id), r)
                        .await?
                        .ok_or_else(|| Error::not_found("Case", r))?;
                    let shown = CaseIdentifier {
                        case_id: None,
                        reference_id: Some(r.clone()),
                        reference_number: None,
                    };
                    (shown, Some(case))
                }
            };
            if let Some(case) = &case
                && !case_ids.insert(case.case_id.clone())
            {
                return Err(Error::validation(format!(
                    "cases names case {} more than once",
                    case.case_id
                )));
            }
            resolved.push((shown, case));
        }

        let now = Timestamp::now();
        let mut writes = vec![];
        let mut response = BatchCreateRelatedItemResponse {
            failed_items: vec![],
            successful_items: vec![],
        };
        for (shown, case) in resolved {
            let Some(case) = case else {
                response
                    .failed_items
                    .push(BatchCreateRelatedItemErrorEntry {
                        error_code: "CASE_NOT_FOUND".into(),
                        error_message: format!(
                            "Case {} could not be found",
                            shown.case_id.as_deref().unwrap_or_default()
                        ),
                        case_identifier: shown,
                    });
                continue;
            };
            if let Some(e) = quota_breach(svc, &case, RelatedItemType::Comment).await? {
                response
                    .failed_items
                    .push(BatchCreateRelatedItemErrorEntry {
                        case_identifier: shown,
                        error_code: "SERVICE_QUOTA_EXCEEDED".into(),
                        error_message: e.to_string(),
                    });
                continue;
            }
            // A running merge's secondary case and its related items are read-only.
            if let Err(e) =
                crate::merge::status::refuse_merging_secondary(svc, ctx, domain_id, &case.case_id)
                    .await
            {
                response
                    .failed_items
                    .push(BatchCreateRelatedItemErrorEntry {
                        case_identifier: shown,
                        error_code: "CONFLICT".into(),
                        error_message: e.to_string(),
                    });
                continue;
            }
            let new = new_item(
                svc,
                ctx,
                &case,
                ItemInput {
                    related_item_id: &crate::new_id(),
                    item_type: RelatedItemType::Comment,
                    content: &input.content,
                    performed_by: input.performed_by.as_ref(),
                },
                now,
            )
            .await?;
            response
                .successful_items
                .push(BatchCreateRelatedItemSuccessEntry {
                    case_identifier: shown,
                    related_item_arn: item_arn(ctx, &new.item),
                    related_item_id: new.item.related_item_id.clone(),
                });
            writes.push(new);
        }
        let remembered = token
            .map(|t| {
                Ok::<_, Error>(IdempotencyRecord {
                    account_id: ctx.account_id.clone(),
                    domain_id: domain_id.to_owned(),
                    operation: BATCH_OPERATION,
                    token: t.to_owned(),
                    request_hash: digest.clone(),
                    response: serde_json::to_value(&response).map_err(Error::internal)?,
                    created: now,
                })
            })
            .transpose()?;
        match svc
            .store
            .insert_related_items(&writes, remembered.as_ref())
            .await
        {
            Ok(Created::New) => return Ok(response),
            Ok(Created::Replayed(seen)) => {
                return idempotency::replay(BATCH_OPERATION, seen, &digest);
            }
            // A case changed, vanished or filled up since it was read: decide again.
            Err(StoreError::VersionMismatch | StoreError::QuotaExceeded) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "The cases of this batch are being changed by other requests; retry",
    ))
}

fn describe(id: &CaseIdentifierUnion) -> String {
    match id {
        CaseIdentifierUnion::CaseId(c) => format!("caseId {c}"),
        CaseIdentifierUnion::ReferenceId(r) => format!("referenceId {r}"),
    }
}
