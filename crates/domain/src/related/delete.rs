//! DeleteRelatedItem: removes a comment, contact link, SLA, case link or custom item, with a
//! `RelatedItem.Deleted` audit event holding its last content. File items are not deleted here:
//! as in AWS, they go with the attached file (Amazon Connect's DeleteAttachedFile).

use super::{ItemDoc, attributes};
use crate::Service;
use crate::cases::audit;
use crate::events::{self, Change};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};
use std::collections::BTreeMap;

pub(crate) async fn delete_related_item(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteRelatedItemRequest,
) -> Result<DeleteRelatedItemResponse> {
    let (domain_id, case_id) = (&input.domain_id, &input.case_id);
    super::change_item(svc, ctx, domain_id, case_id, &input.related_item_id, |item| async move {
        if item.item_type == RelatedItemType::File {
            return Err(Error::validation(format!(
                "Related item {} is a File; File related items are removed by deleting the attached file (Amazon Connect DeleteAttachedFile), not with DeleteRelatedItem",
                item.related_item_id
            )));
        }
        let doc = ItemDoc::from_body(&item.body)?;
        let case_update = match item.item_type {
            RelatedItemType::Sla => {
                Some(crate::related::update::case_with_sla(svc, ctx, &item, None).await?)
            }
            _ => None,
        };
        let event = audit::related_record(
            ctx,
            &item.case_id,
            AuditEventType::RelatedItemDeleted,
            item.item_type,
            Timestamp::now(),
            audit::changed_fields(&attributes(&doc.content), &BTreeMap::new()),
            None,
        )?;
        let published = events::event(svc, ctx, Change::item(&item, &event)).await?;
        Ok(svc
            .store
            .delete_related_item(&item, &event, published.as_ref(), case_update.as_ref())
            .await
            .map(|()| DeleteRelatedItemResponse {}))
    })
    .await
}
