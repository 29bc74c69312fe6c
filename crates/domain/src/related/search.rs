//! SearchRelatedItems (one case, newest first), SearchAllRelatedItems (the whole domain, with
//! its sorts) and ListCasesForContact. Each compiles the request, asks the store for one page and
//! answers with a keyset `nextToken` bound to the query.

use super::ItemDoc;
use super::query::{self, ItemKey, RelatedQuery};
use crate::Service;
use crate::paging::PageRequest;
use crate::paging::query_digest;
use crate::store::DomainKey;
use crate::store::RelatedItemRecord;
use caseload_model::shapes::*;
use caseload_model::{RequestContext, Result, Timestamp};

/// Page size of the two searches when the request names none (also the model's maximum).
const DEFAULT_PAGE: usize = 25;
/// ListCasesForContact's page size when the request names none (also the model's maximum).
const DEFAULT_CONTACT_PAGE: usize = 10;
/// Index entries a domain-wide search examines per filter and request (see
/// `RelatedQuery::scan_budget`): enough that ordinary pages fill, few enough that a request never
/// costs more than a few milliseconds.
const SCAN_BUDGET: usize = 2000;

/// An item as a search returns it.
struct Found {
    item: RelatedItemRecord,
    doc: ItemDoc,
}

/// Compiles and runs a search, returning the items found and the next page's token.
async fn run_related_search(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    case_id: Option<&str>,
    filters: &[RelatedItemTypeFilter],
    sorts: Vec<query::ItemSort>,
    page_request: PageRequest<'_>,
) -> Result<(Vec<Found>, Option<String>)> {
    let PageRequest {
        max_results,
        next_token,
    } = page_request;
    let needs_fields = filters
        .iter()
        .any(|f| matches!(f, RelatedItemTypeFilter::Custom(c) if c.fields.is_some()));
    let fields = if needs_fields {
        svc.case_fields(ctx, domain_id).await?
    } else {
        Default::default()
    };
    let filters = query::compile_filters(filters, &|id| fields.type_of(id))?;
    // A token is bound to what decides the result set and its order; the page size may
    // change from page to page.
    let digest = query_digest(&(
        "SearchRelatedItems",
        &ctx.account_id,
        domain_id,
        case_id,
        &filters,
        &sorts,
    ));
    let after = match next_token {
        Some(t) if !t.is_empty() => Some(svc.tokens.read::<ItemKey>(&digest, t)?),
        _ => None,
    };
    let now = Timestamp::now();
    let q = RelatedQuery {
        account_id: ctx.account_id.clone(),
        domain_id: domain_id.to_owned(),
        case_id: case_id.map(str::to_owned),
        filters,
        sorts,
        after,
        limit: max_results.map_or(DEFAULT_PAGE, |n| n as usize),
        now,
        scan_budget: SCAN_BUDGET,
    };
    let page = svc.store.search_related_items(&q).await?;
    let next = page.next.map(|k| svc.tokens.issue(&digest, &k));
    let found = page
        .items
        .into_iter()
        .map(|item| {
            let doc = ItemDoc::from_body(&item.body)?;
            Ok(Found { item, doc })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((found, next))
}

pub(crate) async fn search_related_items(
    svc: &Service,
    ctx: &RequestContext,
    input: SearchRelatedItemsRequest,
) -> Result<SearchRelatedItemsResponse> {
    let case = svc.case(ctx, &input.domain_id, &input.case_id).await?;
    let (found, next_token) = run_related_search(
        svc,
        ctx,
        &case.domain_id,
        Some(&case.case_id),
        input.filters.as_deref().unwrap_or_default(),
        vec![query::NEWEST_FIRST],
        PageRequest::new(input.max_results, input.next_token.as_ref()),
    )
    .await?;
    let now = Timestamp::now();
    Ok(SearchRelatedItemsResponse {
        next_token,
        related_items: found
            .into_iter()
            .map(|Found { item, doc }| {
                Some(SearchRelatedItemsResponseItem {
                    association_time: item.association_time,
                    content: doc.content_at(now),
                    performed_by: doc.created_by,
                    related_item_id: item.related_item_id,
                    tags: Some(item.tags),
                    r#type: item.item_type,
                })
            })
            .collect(),
    })
}

pub(crate) async fn search_all_related_items(
    svc: &Service,
    ctx: &RequestContext,
    input: SearchAllRelatedItemsRequest,
) -> Result<SearchAllRelatedItemsResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let sorts = query::compile_sorts(input.sorts.as_deref().unwrap_or_default())?;
    let (found, next_token) = run_related_search(
        svc,
        ctx,
        &domain.domain_id,
        None,
        input.filters.as_deref().unwrap_or_default(),
        sorts,
        PageRequest::new(input.max_results, input.next_token.as_ref()),
    )
    .await?;
    let now = Timestamp::now();
    Ok(SearchAllRelatedItemsResponse {
        next_token,
        related_items: found
            .into_iter()
            .map(|Found { item, doc }| {
                Some(SearchAllRelatedItemsResponseItem {
                    association_time: item.association_time,
                    case_id: item.case_id,
                    content: doc.content_at(now),
                    performed_by: doc.created_by,
                    related_item_id: item.related_item_id,
                    tags: Some(item.tags),
                    r#type: item.item_type,
                })
            })
            .collect(),
    })
}

pub(crate) async fn list_cases_for_contact(
    svc: &Service,
    ctx: &RequestContext,
    input: ListCasesForContactRequest,
) -> Result<ListCasesForContactResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let limit = input
        .max_results
        .map_or(DEFAULT_CONTACT_PAGE, |n| n as usize);
    let digest = query_digest(&(
        "ListCasesForContact",
        &ctx.account_id,
        &domain.domain_id,
        &input.contact_arn,
    ));
    let after: Option<String> = match input.next_token.as_deref() {
        Some(t) if !t.is_empty() => Some(svc.tokens.read(&digest, t)?),
        _ => None,
    };
    let mut cases = svc
        .store
        .list_cases_for_contact(
            DomainKey::new(&ctx.account_id, &domain.domain_id),
            &input.contact_arn,
            after.as_deref(),
            limit + 1,
        )
        .await?;
    let next_token = if cases.len() > limit {
        cases.truncate(limit);
        cases.last().map(|c| svc.tokens.issue(&digest, &c.case_id))
    } else {
        None
    };
    Ok(ListCasesForContactResponse { cases, next_token })
}
