//! CreateDomain, GetDomain, ListDomains, DeleteDomain.

use crate::Service;
use crate::arn;
use crate::store::{DomainRecord, StoreError};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result, Timestamp};

impl Service {
    /// The caller's domain `domain_id`, or ResourceNotFoundException. A domain is visible only to
    /// its own account and to requests signed for the region it was created in.
    pub async fn domain(&self, ctx: &RequestContext, domain_id: &str) -> Result<DomainRecord> {
        // Every operation starts here, so existing domains are cached like schemas (domain writes
        // bump the same generation); an unknown id is never cached.
        let generation = self.store.schema_generation();
        let key = (ctx.account_id.clone(), domain_id.to_owned());
        let found = match self.domain_cache.get(generation, &key) {
            Some(d) => Some(d),
            None => {
                let loaded = self.store.get_domain(&ctx.account_id, domain_id).await?;
                if let Some(d) = &loaded {
                    self.domain_cache.put(generation, key, d.clone());
                }
                loaded
            }
        };
        match found {
            Some(d) if d.region == ctx.region => Ok(d),
            _ => Err(Error::not_found("Domain", domain_id)),
        }
    }

    pub(crate) async fn create_domain_impl(
        &self,
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
        match self
            .store
            .insert_domain(&record, self.quotas.domains_per_account)
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
                    self.quotas.domains_per_account
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.create_system_fields(ctx, &record).await?;
        Ok(CreateDomainResponse {
            domain_arn: arn::domain(&ctx.region, &ctx.account_id, &record.domain_id),
            domain_id: record.domain_id,
            domain_status: DomainStatus::Active,
        })
    }

    pub(crate) async fn get_domain_impl(
        &self,
        ctx: &RequestContext,
        input: GetDomainRequest,
    ) -> Result<GetDomainResponse> {
        let d = self.domain(ctx, &input.domain_id).await?;
        Ok(GetDomainResponse {
            domain_arn: arn::domain(&d.region, &d.account_id, &d.domain_id),
            domain_id: d.domain_id,
            name: d.name,
            created_time: d.created,
            domain_status: DomainStatus::Active,
            tags: Some(d.tags),
        })
    }

    pub(crate) async fn list_domains_impl(
        &self,
        ctx: &RequestContext,
        input: ListDomainsRequest,
    ) -> Result<ListDomainsResponse> {
        let limit = input.max_results.unwrap_or(10) as usize;
        let query = crate::paging::query_digest(&("ListDomains", &ctx.account_id, &ctx.region));
        let after: Option<String> = match input.next_token.as_deref() {
            Some(t) if !t.is_empty() => Some(self.tokens.read(&query, t)?),
            _ => None,
        };
        let mut page = self
            .store
            .list_domains(&ctx.account_id, &ctx.region, after.as_deref(), limit + 1)
            .await?;
        let next_token = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|d| self.tokens.issue(&query, &d.domain_id))
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

    pub(crate) async fn delete_domain_impl(
        &self,
        ctx: &RequestContext,
        input: DeleteDomainRequest,
    ) -> Result<DeleteDomainResponse> {
        let d = self.domain(ctx, &input.domain_id).await?;
        if !self
            .store
            .delete_domain(&d.account_id, &d.domain_id)
            .await?
        {
            return Err(Error::not_found("Domain", &input.domain_id));
        }
        Ok(DeleteDomainResponse {})
    }
}
