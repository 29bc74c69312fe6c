//! The `CasesApi` implementation: one line per operation, each delegating to the module that owns
//! the resource. Operations not listed here answer `NotImplemented` (the trait's default).

use crate::Service;
use caseload_model::shapes::*;
use caseload_model::{CasesApi, RequestContext, Result};

#[async_trait::async_trait]
impl CasesApi for Service {
    async fn create_domain(
        &self,
        ctx: &RequestContext,
        input: CreateDomainRequest,
    ) -> Result<CreateDomainResponse> {
        self.create_domain_impl(ctx, input).await
    }
    async fn get_domain(
        &self,
        ctx: &RequestContext,
        input: GetDomainRequest,
    ) -> Result<GetDomainResponse> {
        self.get_domain_impl(ctx, input).await
    }
    async fn list_domains(
        &self,
        ctx: &RequestContext,
        input: ListDomainsRequest,
    ) -> Result<ListDomainsResponse> {
        self.list_domains_impl(ctx, input).await
    }
    async fn delete_domain(
        &self,
        ctx: &RequestContext,
        input: DeleteDomainRequest,
    ) -> Result<DeleteDomainResponse> {
        self.delete_domain_impl(ctx, input).await
    }
    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<()> {
        self.tag_resource_impl(ctx, input).await
    }
    async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: UntagResourceRequest,
    ) -> Result<()> {
        self.untag_resource_impl(ctx, input).await
    }
    async fn list_tags_for_resource(
        &self,
        ctx: &RequestContext,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse> {
        self.list_tags_for_resource_impl(ctx, input).await
    }
}
