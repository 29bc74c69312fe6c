//! CreateDomain, GetDomain, ListDomains, DeleteDomain.

use crate::Service;
use crate::arn;
use crate::store::DomainKey;
use crate::store::{DomainRecord, StoreError};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};

pub(crate) async fn create_domain(
    svc: &Service,
    ctx: &RequestContext,
    input: CreateDomainRequest,
) -> Result<CreateDomainResponse> {
    let record = DomainRecord {
        account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        domain_id: crate::new_id(),
        name: input.name,
        created: Timestamp::now(),
        tags: Default::default(),
    };
    match svc
        .store
        .insert_domain(&record, svc.quotas.domains_per_account)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            return Err(Error::conflict(format!(
                "A domain named '{}' already exists in this account",
                record.name
            )));
        }
        Err(StoreError::QuotaExceeded) => {
            return Err(Error::QuotaExceeded(format!(
                "The account already has the maximum of {} domains",
                svc.quotas.domains_per_account
            )));
        }
        Err(e) => return Err(e.into()),
    }
    crate::schema::fields::create_system_fields(svc, ctx, &record).await?;
    Ok(CreateDomainResponse {
        domain_arn: arn::domain(&ctx.region, &ctx.account_id, &record.domain_id),
        domain_id: record.domain_id,
        domain_status: DomainStatus::Active,
    })
}

pub(crate) async fn get_domain(
    svc: &Service,
    ctx: &RequestContext,
    input: GetDomainRequest,
) -> Result<GetDomainResponse> {
    let d = svc.domain(ctx, &input.domain_id).await?;
    Ok(GetDomainResponse {
        domain_arn: arn::domain(&d.region, &d.account_id, &d.domain_id),
        domain_id: d.domain_id,
        name: d.name,
        created_time: d.created,
        domain_status: DomainStatus::Active,
        tags: Some(d.tags),
    })
}

pub(crate) async fn list_domains(
    svc: &Service,
    ctx: &RequestContext,
    input: ListDomainsRequest,
) -> Result<ListDomainsResponse> {
    let limit = input.max_results.unwrap_or(10) as usize;
    let query = crate::paging::query_digest(&("ListDomains", &ctx.account_id, &ctx.region));
    let after: Option<String> = match input.next_token.as_deref() {
        Some(t) if !t.is_empty() => Some(svc.tokens.read(&query, t)?),
        _ => None,
    };
    let mut page = svc
        .store
        .list_domains(&ctx.account_id, &ctx.region, after.as_deref(), limit + 1)
        .await?;
    let next_token = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|d| svc.tokens.issue(&query, &d.domain_id))
    } else {
        None
    };
    Ok(ListDomainsResponse {
        domains: page
            .into_iter()
            .map(|d| DomainSummary {
                domain_arn: arn::domain(&d.region, &d.account_id, &d.domain_id),
                domain_id: d.domain_id,
                name: d.name,
            })
            .collect(),
        next_token,
    })
}

pub(crate) async fn delete_domain(
    svc: &Service,
    ctx: &RequestContext,
    input: DeleteDomainRequest,
) -> Result<DeleteDomainResponse> {
    let d = svc.domain(ctx, &input.domain_id).await?;
    if !svc
        .store
        .delete_domain(DomainKey::new(&d.account_id, &d.domain_id))
        .await?
    {
        return Err(Error::not_found("Domain", &input.domain_id));
    }
    Ok(DeleteDomainResponse {})
}
