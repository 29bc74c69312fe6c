//! SearchCases: compiles the request against the domain's fields, asks the store for one page,
//! and answers with the projected fields, the exact total and a keyset `nextToken`.

use super::get::project;
use crate::Service;
use crate::paging::query_digest;
use crate::search::{CaseQuery, Cursor, compile_filter, compile_sorts, sort_key, words};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};

const DEFAULT_PAGE: usize = 25;
const MAX_PAGE: usize = 100;

pub(crate) async fn search_cases(
    svc: &Service,
    ctx: &RequestContext,
    input: SearchCasesRequest,
) -> Result<SearchCasesResponse> {
    let limit = match input.max_results {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE as i32).contains(&n) => n as usize,
        Some(n) => {
            return Err(Error::validation(format!(
                "maxResults must be between 1 and {MAX_PAGE}, not {n}"
            )));
        }
    };
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let fields = svc.case_fields(ctx, &domain.domain_id).await?;
    let type_of = |id: &str| fields.type_of(id);
    let filter = input
        .filter
        .as_ref()
        .map(|f| compile_filter(f, &type_of))
        .transpose()?;
    let sorts = compile_sorts(input.sorts.as_deref().unwrap_or_default(), &type_of)?;
    let search_terms = words(input.search_term.as_deref().unwrap_or_default());
    // A token is bound to what decides the result set and its order; page size and
    // projection may change from page to page.
    let digest = query_digest(&(
        "SearchCases",
        &ctx.account_id,
        &domain.domain_id,
        &filter,
        &search_terms,
        &sorts,
    ));
    let after = match input.next_token.as_deref() {
        Some(t) if !t.is_empty() => Some(svc.tokens.read::<Cursor>(&digest, t)?),
        _ => None,
    };
    let q = CaseQuery {
        account_id: ctx.account_id.clone(),
        domain_id: domain.domain_id.clone(),
        filter,
        search_terms,
        term_fields: fields.term_fields(),
        sorts,
        after,
        limit,
    };
    let page = svc.store.search_cases(&q).await?;
    let next_token = match page.cases.last() {
        Some(last) if page.more => Some(svc.tokens.issue(
            &digest,
            &Cursor {
                sort_values: sort_key(last, &q.sorts),
                case_id: last.case_id.clone(),
            },
        )),
        _ => None,
    };
    let projection = input.fields.unwrap_or_default();
    Ok(SearchCasesResponse {
        cases: page
            .cases
            .into_iter()
            .map(|c| {
                Some(SearchCasesResponseItem {
                    fields: project(&c.fields, &projection),
                    case_id: c.case_id,
                    tags: Some(c.tags),
                    template_id: c.template_id,
                })
            })
            .collect(),
        next_token,
        total_count: Some(page.total as i64),
    })
}
