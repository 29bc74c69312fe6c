//! TagResource, UntagResource, ListTagsForResource: tags on any resource, addressed by ARN.
//! An ARN of another account or region, or of a resource that does not exist, is not found:
//! accounts never learn about each other's resources.

use crate::Service;
use crate::arn::Arn;
use crate::store::{CaseKey, DomainKey};
use crate::store::{ResourceKind, Tags};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};

/// Most tags a resource may carry.
const MAX_TAGS: usize = 50;

/// Who owns a set of tags.
enum Owner {
    Domain(String),
    Resource(String, ResourceKind, String),
    Case(String, String),
}

async fn resolve(svc: &Service, ctx: &RequestContext, arn: &str) -> Result<(Owner, Tags)> {
    let not_found = || Error::not_found("Resource", arn);
    let parsed = Arn::parse(arn)
        .ok_or_else(|| Error::validation(format!("'{arn}' is not an ARN of a Cases resource")))?;
    if parsed.account_id != ctx.account_id || parsed.region != ctx.region {
        return Err(not_found());
    }
    let domain = svc
        .domain(ctx, &parsed.domain_id)
        .await
        .map_err(|_| not_found())?;
    let Some((kind, id)) = parsed.resource else {
        return Ok((Owner::Domain(domain.domain_id), domain.tags));
    };
    let resource_kind = match kind.as_str() {
        "field" => ResourceKind::Field,
        "template" => ResourceKind::Template,
        "layout" => ResourceKind::Layout,
        "case-rule" => ResourceKind::CaseRule,
        "case" => {
            let case = svc
                .store
                .get_case(CaseKey::new(&ctx.account_id, &domain.domain_id, &id))
                .await?
                .ok_or_else(not_found)?;
            return Ok((Owner::Case(domain.domain_id, id), case.tags));
        }
        _ => return Err(not_found()),
    };
    match svc
        .store
        .get_resource(
            DomainKey::new(&ctx.account_id, &domain.domain_id).resource(resource_kind, &id),
        )
        .await?
    {
        Some(r) if !r.deleted => Ok((Owner::Resource(domain.domain_id, resource_kind, id), r.tags)),
        _ => Err(not_found()),
    }
}

async fn save_tags(
    svc: &Service,
    ctx: &RequestContext,
    arn: &str,
    owner: Owner,
    tags: Tags,
) -> Result<()> {
    let not_found = || Error::not_found("Resource", arn);
    match owner {
        Owner::Domain(d) => {
            if !svc
                .store
                .update_domain_tags(DomainKey::new(&ctx.account_id, &d), &tags)
                .await?
            {
                return Err(not_found());
            }
        }
        Owner::Resource(d, kind, id) => {
            // A compare-and-swap update, so that a concurrent UpdateField/UpdateTemplate is
            // not overwritten with the body read before it.
            crate::schema::resource::update_resource(svc, ctx, &d, kind, &id, |r| {
                r.tags.clone_from(&tags);
                Ok(())
            })
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => not_found(),
                e => e,
            })?;
        }
        Owner::Case(d, id) => {
            crate::cases::update_case_tags(svc, ctx, &d, &id, tags).await?;
        }
    }
    Ok(())
}

pub(crate) async fn tag_resource(
    svc: &Service,
    ctx: &RequestContext,
    input: TagResourceRequest,
) -> Result<()> {
    check_tag_keys(input.tags.keys())?;
    let (owner, mut tags) = resolve(svc, ctx, &input.arn).await?;
    tags.extend(input.tags);
    if tags.len() > MAX_TAGS {
        return Err(Error::validation(format!(
            "A resource can have at most {MAX_TAGS} tags"
        )));
    }
    save_tags(svc, ctx, &input.arn, owner, tags).await
}

pub(crate) async fn untag_resource(
    svc: &Service,
    ctx: &RequestContext,
    input: UntagResourceRequest,
) -> Result<()> {
    let (owner, mut tags) = resolve(svc, ctx, &input.arn).await?;
    for k in &input.tag_keys {
        tags.remove(k);
    }
    save_tags(svc, ctx, &input.arn, owner, tags).await
}

pub(crate) async fn list_tags_for_resource(
    svc: &Service,
    ctx: &RequestContext,
    input: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse> {
    let (_, tags) = resolve(svc, ctx, &input.arn).await?;
    Ok(ListTagsForResourceResponse { tags: Some(tags) })
}

/// Tag keys users set: 1–128 characters, not in the `aws:` namespace AWS reserves.
pub fn check_tag_keys<'a>(keys: impl Iterator<Item = &'a String>) -> Result<()> {
    for k in keys {
        let len = k.chars().count();
        if len == 0 || len > 128 {
            return Err(Error::validation(format!(
                "Tag key '{k}' must be 1 to 128 characters long"
            )));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(Error::validation(format!(
                "Tag key '{k}' uses the reserved prefix 'aws:'"
            )));
        }
    }
    Ok(())
}
