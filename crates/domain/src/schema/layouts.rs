//! Layouts: how the agent UI arranges a case's fields. CreateLayout, GetLayout, UpdateLayout,
//! DeleteLayout, ListLayouts.

use super::resource;
use crate::Service;
use crate::arn;
use crate::store::DomainKey;
use crate::store::{ResourceKind, ResourceRecord};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The stored body of a layout. `v` is the document version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayoutDoc {
    pub v: u32,
    pub content: LayoutContent,
}

impl LayoutDoc {
    pub fn from_record(r: &ResourceRecord) -> Result<LayoutDoc> {
        resource::from_body(r)
    }
}

/// Fields the documentation says cannot be placed in a layout: they are not configurable (the
/// agent UI always shows them in fixed places).
const NOT_IN_LAYOUTS: &[&str] = &["title", "status"];

fn layout_arn(ctx: &RequestContext, domain_id: &str, layout_id: &str) -> String {
    arn::resource(&ctx.region, &ctx.account_id, domain_id, "layout", layout_id)
}

/// Every field group of a layout, with the panel it is in (for messages).
fn groups_mut(content: &mut LayoutContent) -> Vec<(&'static str, &mut FieldGroup)> {
    let LayoutContent::Basic(basic) = content;
    let panels = [
        ("topPanel", basic.top_panel.as_mut()),
        ("moreInfo", basic.more_info.as_mut()),
    ];
    let mut out = Vec::new();
    for (panel, sections) in panels {
        let Some(sections) = sections.and_then(|s| s.sections.as_mut()) else {
            continue;
        };
        for Section::FieldGroup(g) in sections.iter_mut() {
            out.push((panel, g));
        }
    }
    out
}

/// The fields of a layout must exist and not be deleted, appear once, not be `title` or
/// `status`, and number at most the per-layout quota.
async fn check_layout(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    content: &LayoutContent,
) -> Result<()> {
    let mut content = content.clone();
    let mut seen = HashSet::new();
    for (panel, group) in groups_mut(&mut content) {
        for FieldItem { id } in &group.fields {
            let member = format!("content.basic.{panel}");
            if NOT_IN_LAYOUTS.contains(&id.as_str()) {
                return Err(Error::validation(format!(
                    "{member}: the {id} field cannot be placed in a layout"
                )));
            }
            if !seen.insert(id.clone()) {
                return Err(Error::validation(format!(
                    "{member}: field {id} appears more than once in the layout"
                )));
            }
            svc.live_reference(ctx, domain_id, ResourceKind::Field, id, &member)
                .await?;
        }
    }
    // A service quota (AWS lists it, not adjustable), hence 402 rather than a validation error.
    let max = svc.quotas.fields_per_layout;
    if seen.len() > max {
        return Err(Error::QuotaExceeded(format!(
            "A layout can hold at most {max} fields; this one has {}",
            seen.len()
        )));
    }
    Ok(())
}

pub(crate) async fn create_layout(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateLayoutRequest,
) -> Result<CreateLayoutResponse> {
    svc.domain(ctx, &input.domain_id).await?;
    check_layout(svc, ctx, &input.domain_id, &input.content).await?;
    let doc = LayoutDoc {
        v: 1,
        content: input.content,
    };
    let record = resource::create(
        svc,
        ctx,
        input.domain_id,
        ResourceKind::Layout,
        input.name,
        &doc,
        svc.quotas.layouts_per_domain,
    )
    .await?;
    Ok(CreateLayoutResponse {
        layout_arn: layout_arn(ctx, &record.domain_id, &record.id),
        layout_id: record.id,
    })
}

/// A deleted layout is still returned, with `deleted: true` (DeleteLayout documentation).
pub(crate) async fn get_layout(
    svc: &Service,
    ctx: &RequestContext,
    input: GetLayoutRequest,
) -> Result<GetLayoutResponse> {
    let r = svc
        .resource(
            ctx,
            &input.domain_id,
            ResourceKind::Layout,
            &input.layout_id,
        )
        .await?;
    let mut content = LayoutDoc::from_record(&r)?.content;
    // "GetLayout does not return field IDs for deleted fields" (DeleteField documentation).
    for (_, group) in groups_mut(&mut content) {
        let mut live = Vec::with_capacity(group.fields.len());
        for item in group.fields.drain(..) {
            let field = svc
                .store
                .get_resource(
                    DomainKey::new(&ctx.account_id, &r.domain_id)
                        .resource(ResourceKind::Field, &item.id),
                )
                .await?;
            if field.is_some_and(|f| !f.deleted) {
                live.push(item);
            }
        }
        group.fields = live;
    }
    Ok(GetLayoutResponse {
        layout_arn: layout_arn(ctx, &r.domain_id, &r.id),
        layout_id: r.id,
        name: r.name,
        content,
        tags: Some(r.tags),
        deleted: Some(r.deleted),
        created_time: Some(r.created),
        last_modified_time: Some(r.modified),
    })
}

pub(crate) async fn update_layout(
    svc: &Service,
    ctx: &RequestContext,
    input: UpdateLayoutRequest,
) -> Result<UpdateLayoutResponse> {
    resource::live_resource(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Layout,
        &input.layout_id,
    )
    .await?;
    if let Some(content) = &input.content {
        check_layout(svc, ctx, &input.domain_id, content).await?;
    }
    resource::update_doc(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Layout,
        &input.layout_id,
        input.name.as_deref(),
        |r, doc: &mut LayoutDoc| {
            resource::check_not_deleted(r)?;
            if let Some(content) = &input.content {
                doc.content = content.clone();
            }
            Ok(())
        },
    )
    .await?;
    Ok(UpdateLayoutResponse {})
}

pub(crate) async fn delete_layout(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteLayoutRequest,
) -> Result<DeleteLayoutResponse> {
    resource::soft_delete(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Layout,
        &input.layout_id,
        svc.quotas.deleted_layouts_per_domain,
    )
    .await?;
    Ok(DeleteLayoutResponse {})
}

pub(crate) async fn list_layouts(
    svc: &Service,
    ctx: &RequestContext,
    input: ListLayoutsRequest,
) -> Result<ListLayoutsResponse> {
    let (page, next_token) = resource::list_page(
        svc,
        ctx,
        &input.domain_id,
        ResourceKind::Layout,
        &(),
        crate::paging::PageRequest::new(input.max_results, input.next_token.as_ref()),
        |_| true,
    )
    .await?;
    Ok(ListLayoutsResponse {
        layouts: page
            .into_iter()
            .map(|r| LayoutSummary {
                layout_arn: layout_arn(ctx, &r.domain_id, &r.id),
                layout_id: r.id,
                name: r.name,
            })
            .collect(),
        next_token,
    })
}
