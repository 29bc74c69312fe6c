//! What fields, templates and layouts have in common: looking one up, saving a change without
//! losing a concurrent one, creating and soft-deleting with their quotas, and paging through a kind.

use crate::Service;
use crate::paging::PageRequest;
use crate::store::DomainKey;
use crate::store::{ResourceKind, ResourceRecord, Store, StoreError, StoreResult};
use caseload_model::{Error, RequestContext, Result, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Page size of ListFields, ListTemplates, ListLayouts and ListFieldOptions when `maxResults` is
/// absent. AWS does not document a default; this is the model's maximum, so a client that never
/// pages sees everything it would have seen in one AWS page at most.
pub(crate) const DEFAULT_PAGE: usize = 100;

/// How often a read-modify-write is retried when other requests keep changing the same record.
const MAX_ATTEMPTS: usize = 16;

/// The `resourceType` of a ResourceNotFoundException.
pub(crate) fn type_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Field => "Field",
        ResourceKind::Template => "Template",
        ResourceKind::Layout => "Layout",
        ResourceKind::CaseRule => "CaseRule",
    }
}

/// The kind in a sentence ("a case rule named …").
fn noun(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Field => "field",
        ResourceKind::Template => "template",
        ResourceKind::Layout => "layout",
        ResourceKind::CaseRule => "case rule",
    }
}

/// The kind at the start of a sentence ("Case rule … has been deleted").
fn title(kind: ResourceKind) -> String {
    let noun = noun(kind);
    noun[..1].to_uppercase() + &noun[1..]
}

/// A stored document as JSON.
pub(crate) fn to_body(doc: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(doc).map_err(Error::internal)
}

/// A record's stored document (a `FieldDoc`, `TemplateDoc`, …). A body that does not read is
/// an internal error: only this crate writes bodies.
pub(crate) fn from_body<D: DeserializeOwned>(r: &ResourceRecord) -> Result<D> {
    serde_json::from_value(r.body.clone()).map_err(Error::internal)
}

/// A resource about to be created: not deleted, untagged, created and modified at `now`.
pub(crate) fn new_record(
    domain: DomainKey,
    kind: ResourceKind,
    id: String,
    name: String,
    doc: &impl Serialize,
    now: Timestamp,
) -> Result<ResourceRecord> {
    Ok(ResourceRecord {
        account_id: domain.account_id,
        domain_id: domain.domain_id,
        kind,
        id,
        name,
        deleted: false,
        created: now,
        modified: now,
        body: to_body(doc)?,
        tags: Default::default(),
    })
}

/// Creates a resource of `kind` with a new id in the caller's domain `domain_id`, within the
/// domain's `quota` of that kind (errors as `insert_resource`), and returns it.
pub(crate) async fn create(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: String,
    kind: ResourceKind,
    name: String,
    doc: &impl Serialize,
    quota: usize,
) -> Result<ResourceRecord> {
    let domain = DomainKey::new(&ctx.account_id, &domain_id);
    let record = new_record(domain, kind, crate::new_id(), name, doc, Timestamp::now())?;
    insert_resource(svc, &record, quota).await?;
    Ok(record)
}

/// Refuses a change to a deleted resource (UpdateField, UpdateTemplate, UpdateLayout,
/// UpdateCaseRule) with a ValidationException.
pub(crate) fn check_not_deleted(r: &ResourceRecord) -> Result<()> {
    if r.deleted {
        return Err(Error::validation(format!(
            "{} {} has been deleted and cannot be updated",
            title(r.kind),
            r.id
        )));
    }
    Ok(())
}

/// The resource an update names, refused before the update's references are checked when it
/// is missing (ResourceNotFoundException) or deleted (as `check_not_deleted`).
pub(crate) async fn live_resource(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    kind: ResourceKind,
    id: &str,
) -> Result<ResourceRecord> {
    let r = svc.resource(ctx, domain_id, kind, id).await?;
    check_not_deleted(&r)?;
    Ok(r)
}

fn name_taken(kind: ResourceKind, name: &str) -> Error {
    Error::conflict(format!(
        "A {} named '{name}' already exists in this domain",
        noun(kind)
    ))
}

/// Inserts a new resource, answering a taken name with ConflictException and a full domain
/// with ServiceQuotaExceededException.
pub(crate) async fn insert_resource(svc: &Service, r: &ResourceRecord, quota: usize) -> Result<()> {
    match svc.store.insert_resource(r, quota).await {
        Ok(()) => Ok(()),
        Err(StoreError::Duplicate(_)) => Err(name_taken(r.kind, &r.name)),
        Err(StoreError::QuotaExceeded) => Err(Error::QuotaExceeded(format!(
            "The domain already has the maximum of {quota} {}s",
            noun(r.kind)
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Applies `change` to the current record and saves it. When another request changed the
/// record in between, it is re-read and `change` applied again, so concurrent updates (two
/// BatchPutFieldOptions calls, an UpdateField racing a TagResource) are never lost. `change`
/// sets `modified` itself when the change should show in `lastModifiedTime`.
pub(crate) async fn update_resource<F>(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    kind: ResourceKind,
    id: &str,
    mut change: F,
) -> Result<ResourceRecord>
where
    F: FnMut(&mut ResourceRecord) -> Result<()> + Send,
{
    for _ in 0..MAX_ATTEMPTS {
        let prior = svc.resource(ctx, domain_id, kind, id).await?;
        let mut next = prior.clone();
        change(&mut next)?;
        if next == prior {
            return Ok(next);
        }
        match svc.store.replace_resource_if(&next, &prior).await {
            Ok(true) => return Ok(next),
            Ok(false) => continue,
            Err(StoreError::Duplicate(_)) => return Err(name_taken(kind, &next.name)),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!(
        "{} {id} is being changed by other requests; retry",
        type_name(kind)
    )))
}

/// Applies `change` to a resource's document `D` (it sees the record as read, to refuse the
/// change) and saves the document, renamed to `rename` if given, with `modified` set to now;
/// concurrent changes are never lost, as in `update_resource`.
pub(crate) async fn update_doc<D, F>(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    kind: ResourceKind,
    id: &str,
    rename: Option<&str>,
    mut change: F,
) -> Result<()>
where
    D: Serialize + DeserializeOwned,
    F: FnMut(&ResourceRecord, &mut D) -> Result<()> + Send,
{
    update_resource(svc, ctx, domain_id, kind, id, |r| {
        let mut doc: D = from_body(r)?;
        change(r, &mut doc)?;
        if let Some(name) = rename {
            name.clone_into(&mut r.name);
        }
        r.body = to_body(&doc)?;
        r.modified = Timestamp::now();
        Ok(())
    })
    .await?;
    Ok(())
}

/// Soft-deletes a resource: it stays readable where AWS keeps it readable, frees its name
/// and its place in the quota, and disappears from the List operation. AWS documents that
/// at most `max_deleted` resources of a kind can be deleted per domain; deleting more is a
/// ServiceQuotaExceededException. Deleting a deleted resource again changes nothing.
pub(crate) async fn soft_delete(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    kind: ResourceKind,
    id: &str,
    max_deleted: usize,
) -> Result<()> {
    if svc.resource(ctx, domain_id, kind, id).await?.deleted {
        return Ok(());
    }
    // Not atomic with the write below: two concurrent deletes at the limit can both pass.
    // The limit protects storage, not correctness, so one extra deleted record is harmless.
    let deleted = svc
        .store
        .count_resources(DomainKey::new(&ctx.account_id, domain_id), kind, true)
        .await?;
    if deleted >= max_deleted {
        return Err(Error::QuotaExceeded(format!(
            "The domain already has the maximum of {max_deleted} deleted {}s",
            noun(kind)
        )));
    }
    update_resource(svc, ctx, domain_id, kind, id, |r| {
        r.deleted = true;
        r.modified = Timestamp::now();
        Ok(())
    })
    .await?;
    Ok(())
}

/// Every resource of a kind in the caller's domain `domain_id` (deleted ones too if asked),
/// ordered by id.
pub(crate) async fn all_of_kind(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    kind: ResourceKind,
    include_deleted: bool,
) -> Result<Vec<ResourceRecord>> {
    let key = DomainKey::new(&ctx.account_id, domain_id);
    Ok(list_all(svc.store.as_ref(), &key, kind, include_deleted).await?)
}

/// Every resource of a kind in a domain (deleted ones too if asked), ordered by id, read from
/// the store a batch at a time. A domain holds at most its quotas' worth of each kind, so the
/// whole list fits in memory.
pub(crate) async fn list_all(
    store: &dyn Store,
    domain: &DomainKey,
    kind: ResourceKind,
    include_deleted: bool,
) -> StoreResult<Vec<ResourceRecord>> {
    const BATCH: usize = 1000;
    let mut out: Vec<ResourceRecord> = Vec::new();
    loop {
        let after = out.last().map(|r| r.id.as_str());
        let batch = store
            .list_resources(domain.clone(), kind, after, BATCH, include_deleted)
            .await?;
        let done = batch.len() < BATCH;
        out.extend(batch);
        if done {
            return Ok(out);
        }
    }
}

/// One page of the resources of a kind that are not deleted and pass `keep`, ordered by id.
/// `query` holds what the request filters on, so a token is only accepted back with the same
/// operation, domain and filter.
pub(crate) async fn list_page(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    kind: ResourceKind,
    query: &impl Serialize,
    page_request: PageRequest<'_>,
    keep: impl Fn(&ResourceRecord) -> bool,
) -> Result<(Vec<ResourceRecord>, Option<String>)> {
    let PageRequest {
        max_results,
        next_token,
    } = page_request;
    svc.domain(ctx, domain_id).await?;
    // The wire layer has already held maxResults to the model's range (1–100).
    let limit = max_results.map_or(DEFAULT_PAGE, |n| n.max(1) as usize);
    let digest = crate::paging::query_digest(&(kind.as_str(), &ctx.account_id, domain_id, query));
    let mut after: Option<String> = match next_token {
        Some(t) if !t.is_empty() => Some(svc.tokens.read(&digest, t)?),
        _ => None,
    };
    // Fetch one more than the page to know whether another page follows; with a filter,
    // keep fetching until that many pass it or the kind is exhausted.
    let mut page = Vec::new();
    loop {
        let batch = svc
            .store
            .list_resources(
                DomainKey::new(&ctx.account_id, domain_id),
                kind,
                after.as_deref(),
                limit + 1,
                false,
            )
            .await?;
        let exhausted = batch.len() <= limit;
        for r in batch {
            after = Some(r.id.clone());
            if keep(&r) {
                page.push(r);
                if page.len() > limit {
                    break;
                }
            }
        }
        if exhausted || page.len() > limit {
            break;
        }
    }
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|r| svc.tokens.issue(&digest, &r.id))
    } else {
        None
    };
    Ok((page, next))
}
