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
    // Schema: fields, field options, templates, layouts.
    async fn create_field(
        &self,
        ctx: &RequestContext,
        input: CreateFieldRequest,
    ) -> Result<CreateFieldResponse> {
        self.create_field_impl(ctx, input).await
    }
    async fn update_field(
        &self,
        ctx: &RequestContext,
        input: UpdateFieldRequest,
    ) -> Result<UpdateFieldResponse> {
        self.update_field_impl(ctx, input).await
    }
    async fn delete_field(
        &self,
        ctx: &RequestContext,
        input: DeleteFieldRequest,
    ) -> Result<DeleteFieldResponse> {
        self.delete_field_impl(ctx, input).await
    }
    async fn list_fields(
        &self,
        ctx: &RequestContext,
        input: ListFieldsRequest,
    ) -> Result<ListFieldsResponse> {
        self.list_fields_impl(ctx, input).await
    }
    async fn batch_get_field(
        &self,
        ctx: &RequestContext,
        input: BatchGetFieldRequest,
    ) -> Result<BatchGetFieldResponse> {
        self.batch_get_field_impl(ctx, input).await
    }
    async fn batch_put_field_options(
        &self,
        ctx: &RequestContext,
        input: BatchPutFieldOptionsRequest,
    ) -> Result<BatchPutFieldOptionsResponse> {
        self.batch_put_field_options_impl(ctx, input).await
    }
    async fn list_field_options(
        &self,
        ctx: &RequestContext,
        input: ListFieldOptionsRequest,
    ) -> Result<ListFieldOptionsResponse> {
        self.list_field_options_impl(ctx, input).await
    }
    async fn create_template(
        &self,
        ctx: &RequestContext,
        input: CreateTemplateRequest,
    ) -> Result<CreateTemplateResponse> {
        self.create_template_impl(ctx, input).await
    }
    async fn get_template(
        &self,
        ctx: &RequestContext,
        input: GetTemplateRequest,
    ) -> Result<GetTemplateResponse> {
        self.get_template_impl(ctx, input).await
    }
    async fn update_template(
        &self,
        ctx: &RequestContext,
        input: UpdateTemplateRequest,
    ) -> Result<UpdateTemplateResponse> {
        self.update_template_impl(ctx, input).await
    }
    async fn delete_template(
        &self,
        ctx: &RequestContext,
        input: DeleteTemplateRequest,
    ) -> Result<DeleteTemplateResponse> {
        self.delete_template_impl(ctx, input).await
    }
    async fn list_templates(
        &self,
        ctx: &RequestContext,
        input: ListTemplatesRequest,
    ) -> Result<ListTemplatesResponse> {
        self.list_templates_impl(ctx, input).await
    }
    async fn create_layout(
        &self,
        ctx: &RequestContext,
        input: CreateLayoutRequest,
    ) -> Result<CreateLayoutResponse> {
        self.create_layout_impl(ctx, input).await
    }
    async fn get_layout(
        &self,
        ctx: &RequestContext,
        input: GetLayoutRequest,
    ) -> Result<GetLayoutResponse> {
        self.get_layout_impl(ctx, input).await
    }
    async fn update_layout(
        &self,
        ctx: &RequestContext,
        input: UpdateLayoutRequest,
    ) -> Result<UpdateLayoutResponse> {
        self.update_layout_impl(ctx, input).await
    }
    async fn delete_layout(
        &self,
        ctx: &RequestContext,
        input: DeleteLayoutRequest,
    ) -> Result<DeleteLayoutResponse> {
        self.delete_layout_impl(ctx, input).await
    }
    async fn list_layouts(
        &self,
        ctx: &RequestContext,
        input: ListLayoutsRequest,
    ) -> Result<ListLayoutsResponse> {
        self.list_layouts_impl(ctx, input).await
    }
    async fn create_case(
        &self,
        ctx: &RequestContext,
        input: CreateCaseRequest,
    ) -> Result<CreateCaseResponse> {
        self.create_case_impl(ctx, input).await
    }
    async fn get_case(
        &self,
        ctx: &RequestContext,
        input: GetCaseRequest,
    ) -> Result<GetCaseResponse> {
        self.get_case_impl(ctx, input).await
    }
    async fn update_case(
        &self,
        ctx: &RequestContext,
        input: UpdateCaseRequest,
    ) -> Result<UpdateCaseResponse> {
        self.update_case_impl(ctx, input).await
    }
    async fn delete_case(
        &self,
        ctx: &RequestContext,
        input: DeleteCaseRequest,
    ) -> Result<DeleteCaseResponse> {
        self.delete_case_impl(ctx, input).await
    }
    async fn search_cases(
        &self,
        ctx: &RequestContext,
        input: SearchCasesRequest,
    ) -> Result<SearchCasesResponse> {
        self.search_cases_impl(ctx, input).await
    }
    async fn batch_update_case(
        &self,
        ctx: &RequestContext,
        input: BatchUpdateCaseRequest,
    ) -> Result<BatchUpdateCaseResponse> {
        self.batch_update_case_impl(ctx, input).await
    }
    async fn start_merge_cases(
        &self,
        ctx: &RequestContext,
        input: StartMergeCasesRequest,
    ) -> Result<StartMergeCasesResponse> {
        self.start_merge_cases_impl(ctx, input).await
    }
    async fn get_merge_cases_status(
        &self,
        ctx: &RequestContext,
        input: GetMergeCasesStatusRequest,
    ) -> Result<GetMergeCasesStatusResponse> {
        self.get_merge_cases_status_impl(ctx, input).await
    }
    // Case rules.
    async fn create_case_rule(
        &self,
        ctx: &RequestContext,
        input: CreateCaseRuleRequest,
    ) -> Result<CreateCaseRuleResponse> {
        self.create_case_rule_impl(ctx, input).await
    }
    async fn batch_get_case_rule(
        &self,
        ctx: &RequestContext,
        input: BatchGetCaseRuleRequest,
    ) -> Result<BatchGetCaseRuleResponse> {
        self.batch_get_case_rule_impl(ctx, input).await
    }
    async fn list_case_rules(
        &self,
        ctx: &RequestContext,
        input: ListCaseRulesRequest,
    ) -> Result<ListCaseRulesResponse> {
        self.list_case_rules_impl(ctx, input).await
    }
    async fn update_case_rule(
        &self,
        ctx: &RequestContext,
        input: UpdateCaseRuleRequest,
    ) -> Result<UpdateCaseRuleResponse> {
        self.update_case_rule_impl(ctx, input).await
    }
    async fn delete_case_rule(
        &self,
        ctx: &RequestContext,
        input: DeleteCaseRuleRequest,
    ) -> Result<DeleteCaseRuleResponse> {
        self.delete_case_rule_impl(ctx, input).await
    }
    // Related items, audit history and case events.
    async fn create_related_item(
        &self,
        ctx: &RequestContext,
        input: CreateRelatedItemRequest,
    ) -> Result<CreateRelatedItemResponse> {
        self.create_related_item_impl(ctx, input).await
    }
    async fn batch_create_related_item(
        &self,
        ctx: &RequestContext,
        input: BatchCreateRelatedItemRequest,
    ) -> Result<BatchCreateRelatedItemResponse> {
        self.batch_create_related_item_impl(ctx, input).await
    }
    async fn update_related_item(
        &self,
        ctx: &RequestContext,
        input: UpdateRelatedItemRequest,
    ) -> Result<UpdateRelatedItemResponse> {
        self.update_related_item_impl(ctx, input).await
    }
    async fn delete_related_item(
        &self,
        ctx: &RequestContext,
        input: DeleteRelatedItemRequest,
    ) -> Result<DeleteRelatedItemResponse> {
        self.delete_related_item_impl(ctx, input).await
    }
    async fn search_related_items(
        &self,
        ctx: &RequestContext,
        input: SearchRelatedItemsRequest,
    ) -> Result<SearchRelatedItemsResponse> {
        self.search_related_items_impl(ctx, input).await
    }
    async fn search_all_related_items(
        &self,
        ctx: &RequestContext,
        input: SearchAllRelatedItemsRequest,
    ) -> Result<SearchAllRelatedItemsResponse> {
        self.search_all_related_items_impl(ctx, input).await
    }
    async fn list_cases_for_contact(
        &self,
        ctx: &RequestContext,
        input: ListCasesForContactRequest,
    ) -> Result<ListCasesForContactResponse> {
        self.list_cases_for_contact_impl(ctx, input).await
    }
    async fn get_case_audit_events(
        &self,
        ctx: &RequestContext,
        input: GetCaseAuditEventsRequest,
    ) -> Result<GetCaseAuditEventsResponse> {
        self.get_case_audit_events_impl(ctx, input).await
    }
    async fn get_case_event_configuration(
        &self,
        ctx: &RequestContext,
        input: GetCaseEventConfigurationRequest,
    ) -> Result<GetCaseEventConfigurationResponse> {
        self.get_case_event_configuration_impl(ctx, input).await
    }
    async fn put_case_event_configuration(
        &self,
        ctx: &RequestContext,
        input: PutCaseEventConfigurationRequest,
    ) -> Result<PutCaseEventConfigurationResponse> {
        self.put_case_event_configuration_impl(ctx, input).await
    }
}
