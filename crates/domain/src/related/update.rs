//! UpdateRelatedItem: per type, what can change. A comment's text is replaced; a custom item's
//! fields are replaced as a whole (fields left out are removed); an SLA takes a new target,
//! counted from its creation, with its status re-derived and the case's next breach kept
//! current. Contacts, files and linked cases cannot be updated.

use super::content::{custom_fields, member};
use super::{ItemDoc, attributes, item_arn, query, sla};
use crate::Service;
use crate::cases::audit;
use crate::events::{self, Change};
use crate::store::{CaseRecord, RelatedItemRecord};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};

fn update_member(u: &RelatedItemUpdateContent) -> &'static str {
    match u {
        RelatedItemUpdateContent::Comment(_) => "comment",
        RelatedItemUpdateContent::Custom(_) => "custom",
        RelatedItemUpdateContent::Sla(_) => "sla",
    }
}

/// The case rewritten with its next breach as it is once SLA `item_id` has `config`.
pub(super) async fn case_with_sla(
    svc: &Service,
    ctx: &RequestContext,
    item: &RelatedItemRecord,
    config: Option<&SlaConfiguration>,
) -> Result<CaseRecord> {
    let case = svc.case(ctx, &item.domain_id, &item.case_id).await?;
    let slas = crate::related::sla::case_slas(svc, &case).await?;
    let mut next = case.clone();
    sla::set_next_breach(
        &mut next.fields,
        slas.iter()
            .filter(|(i, _)| i.related_item_id != item.related_item_id)
            .filter_map(|(_, d)| sla::of(d))
            .chain(config),
    );
    next.version += 1;
    Ok(next)
}

pub(crate) async fn update_related_item(
    svc: &Service,
    ctx: &RequestContext,
    input: UpdateRelatedItemRequest,
) -> Result<UpdateRelatedItemResponse> {
    let input = &input;
    let (domain_id, case_id) = (&input.domain_id, &input.case_id);
    super::change_item(
        svc,
        ctx,
        domain_id,
        case_id,
        &input.related_item_id,
        |item| async move {
            let mut doc = ItemDoc::from_body(&item.body)?;
            let before = attributes(&doc.content);
            let now = Timestamp::now();
            let mut case_update = None;
            match (&mut doc.content, &input.content) {
                (RelatedItemContent::Comment(c), RelatedItemUpdateContent::Comment(u)) => {
                    c.body.clone_from(&u.body);
                    c.content_type = u.content_type;
                }
                (RelatedItemContent::Custom(c), RelatedItemUpdateContent::Custom(u)) => {
                    let fields = svc.case_fields(ctx, &item.domain_id).await?;
                    c.fields =
                        custom_fields(&fields, &u.fields, svc.quotas.fields_per_custom_item)?;
                }
                (
                    RelatedItemContent::Sla(s),
                    RelatedItemUpdateContent::Sla(SlaUpdateContent::SlaUpdateConfiguration(u)),
                ) => {
                    let c = &mut s.sla_configuration;
                    sla::retarget(c, item.association_time, u.target_sla_minutes, now);
                    case_update = Some(case_with_sla(svc, ctx, &item, Some(c)).await?);
                }
                (_, u) => return Err(not_updatable(&item, u)),
            }
            if input.performed_by.is_some() {
                doc.last_updated_user.clone_from(&input.performed_by);
            }
            let event = audit::related_record(
                ctx,
                &item.case_id,
                AuditEventType::RelatedItemUpdated,
                item.item_type,
                now,
                audit::changed_fields(&before, &attributes(&doc.content)),
                input.performed_by.as_ref(),
            )?;
            let mut next = item.clone();
            next.body = doc.to_body()?;
            next.ref_key = query::ref_key(&doc.content);
            next.version += 1;
            let published = events::event(svc, ctx, Change::item(&next, &event)).await?;
            let written = svc
                .store
                .update_related_item(&next, &event, published.as_ref(), case_update.as_ref())
                .await;
            Ok(written.map(|()| UpdateRelatedItemResponse {
                association_time: next.association_time,
                content: doc.content_at(now),
                created_by: doc.created_by,
                last_updated_user: doc.last_updated_user,
                related_item_arn: item_arn(ctx, &next),
                related_item_id: next.related_item_id,
                tags: Some(next.tags),
                r#type: next.item_type,
            }))
        },
    )
    .await
}

/// Why `update` does not apply to `item`: an update for another type, or a type that cannot
/// be updated.
fn not_updatable(item: &RelatedItemRecord, update: &RelatedItemUpdateContent) -> Error {
    let t = item.item_type;
    Error::validation(
        if matches!(
            t,
            RelatedItemType::Comment | RelatedItemType::Custom | RelatedItemType::Sla
        ) {
            format!(
                "Related item {} is of type {} and takes a content.{} update, not content.{}",
                item.related_item_id,
                t.as_str(),
                member(t),
                update_member(update)
            )
        } else {
            format!(
                "Related item {} is of type {}, which cannot be updated; only Comment, Custom and Sla items can",
                item.related_item_id,
                t.as_str()
            )
        },
    )
}
