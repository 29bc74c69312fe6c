//! The service object: the state every operation shares (the store, quotas, the token signer,
//! the caches, the merge worker's waker) and the handful of look-ups many operations start with
//! (the caller's domain, a schema resource, a template, the domain's fields, a case, a related
//! item). Operations themselves are free functions taking `&Service`, found by the path that
//! `api.rs` names for each.

use crate::cases::fields::CaseFields;
use crate::schema::resource::type_name;
use crate::store::{CaseKey, DomainKey};
use crate::store::{
    CaseRecord, DomainRecord, RelatedItemRecord, ResourceKind, ResourceRecord, Store, StoreError,
};
use crate::{Quotas, cache, cases, paging, store};
use caseload_model::{Error, RequestContext, Result};
use std::sync::Arc;

/// The service: the store it runs on, its quotas, and the key that signs pagination tokens.
pub struct Service {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) quotas: Quotas,
    pub(crate) tokens: paging::TokenSigner,
    /// Each domain's fields as case operations need them, tagged with the store's schema
    /// generation they were read at (see `Store::schema_generation`).
    pub(crate) schema_cache: cases::fields::SchemaCache,
    /// Domains by (account, domain id), tagged with the schema generation they were read at.
    pub(crate) domain_cache: cache::GenerationCache<store::DomainRecord>,
    /// Case templates by (account, domain id, template id), as stored (deleted ones too), tagged
    /// the same way: CreateCase and UpdateCase read one on every call.
    pub(crate) template_cache:
        cache::GenerationCache<store::ResourceRecord, (String, String, String)>,
    /// Each domain's case event configuration, tagged the same way: every audited write reads
    /// it to decide its event (`events::event`).
    pub(crate) event_configs: crate::events::EventConfigCache,
    /// Wakes the server's merge worker when a merge starts (`merge::run`).
    pub(crate) merge_waker: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Service {
    pub async fn new(store: Arc<dyn Store>, quotas: Quotas) -> Result<Service, StoreError> {
        let key = store.token_secret().await?;
        Ok(Service {
            store,
            quotas,
            tokens: paging::TokenSigner::new(key),
            schema_cache: Default::default(),
            domain_cache: Default::default(),
            template_cache: Default::default(),
            event_configs: Default::default(),
            merge_waker: Default::default(),
        })
    }

    /// The store's schema generation for this request, which every cached look-up of the
    /// request (domain, fields, template, event configuration) uses: read from the store on the
    /// first and kept in `ctx`, so a request costs at most one read of it (one query on
    /// PostgreSQL, none on SQLite). Still correct, because it was read before any of the loads
    /// it tags, so a value cached under it is at least as new as it; a schema write landing
    /// after the read is the race a request always had with a concurrent write (it is seen as
    /// having run just before it), and the next request reads the new number. An error reading
    /// it fails the request with the store's (retryable) error rather than trust the cache.
    /// Requests make their schema writes after their cached look-ups, so none reads its own
    /// write through a cache.
    pub(crate) async fn schema_generation(&self, ctx: &RequestContext) -> Result<Option<u64>> {
        if let Some(g) = ctx.schema_generation.get() {
            return Ok(*g);
        }
        let g = self.store.schema_generation().await?;
        // Two look-ups of one request racing here (a batch) may both read it: keep the first.
        Ok(*ctx.schema_generation.get_or_init(|| g))
    }

    /// The caller's domain `domain_id`, or ResourceNotFoundException. A domain is visible only to
    /// its own account and to requests signed for the region it was created in.
    pub async fn domain(&self, ctx: &RequestContext, domain_id: &str) -> Result<DomainRecord> {
        // Every operation starts here, so existing domains are cached like schemas (domain writes
        // bump the same generation); an unknown id is never cached.
        let generation = self.schema_generation(ctx).await?;
        let key = (ctx.account_id.clone(), domain_id.to_owned());
        let found = match self.domain_cache.get(generation, &key) {
            Some(d) => Some(d),
            None => {
                let loaded = self
                    .store
                    .get_domain(DomainKey::new(&ctx.account_id, domain_id))
                    .await?;
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

    /// A schema resource of the caller's domain, deleted or not. A missing domain or resource is
    /// a ResourceNotFoundException naming whichever is missing.
    pub(crate) async fn resource(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        kind: ResourceKind,
        id: &str,
    ) -> Result<ResourceRecord> {
        self.domain(ctx, domain_id).await?;
        self.store
            .get_resource(DomainKey::new(&ctx.account_id, domain_id).resource(kind, id))
            .await?
            .ok_or_else(|| Error::not_found(type_name(kind), id))
    }

    /// A resource that may be referenced by another one (a template's required field, a layout's
    /// field): it must exist and not be deleted, otherwise a ValidationException naming `member`.
    pub(crate) async fn live_reference(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        kind: ResourceKind,
        id: &str,
        member: &str,
    ) -> Result<ResourceRecord> {
        match self
            .store
            .get_resource(DomainKey::new(&ctx.account_id, domain_id).resource(kind, id))
            .await?
        {
            Some(r) if !r.deleted => Ok(r),
            Some(_) => Err(Error::validation(format!(
                "{member}: {} {id} has been deleted",
                type_name(kind)
            ))),
            None => Err(Error::validation(format!(
                "{member}: {} {id} does not exist in this domain",
                type_name(kind)
            ))),
        }
    }

    /// A case template as stored (deleted or not), served from the template cache while the
    /// store reports no schema change since it was read.
    pub(crate) async fn template_record(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        template_id: &str,
    ) -> Result<Option<ResourceRecord>> {
        let generation = self.schema_generation(ctx).await?;
        let key = (
            ctx.account_id.clone(),
            domain_id.to_owned(),
            template_id.to_owned(),
        );
        if let Some(r) = self.template_cache.get(generation, &key) {
            return Ok(Some(r));
        }
        let loaded = self
            .store
            .get_resource(
                DomainKey::new(&ctx.account_id, domain_id)
                    .resource(ResourceKind::Template, template_id),
            )
            .await?;
        if let Some(r) = &loaded {
            self.template_cache.put(generation, key, r.clone());
        }
        Ok(loaded)
    }

    /// Every field of the domain, deleted ones included. Served from the schema cache while the
    /// store reports no schema change since it was filled.
    pub(crate) async fn case_fields(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
    ) -> Result<CaseFields> {
        // Read the generation before the fields: a change racing with the load then makes the
        // entry stale at once instead of hiding behind it.
        let generation = self.schema_generation(ctx).await?;
        let key = (ctx.account_id.clone(), domain_id.to_owned());
        if let Some(fields) = self.schema_cache.get(generation, &key) {
            return Ok(fields);
        }
        let fields = crate::cases::fields::load_case_fields(self, ctx, domain_id).await?;
        self.schema_cache.put(generation, key, fields.clone());
        Ok(fields)
    }

    /// A case of the caller's domain, or ResourceNotFoundException for the domain or the case.
    pub(crate) async fn case(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        case_id: &str,
    ) -> Result<CaseRecord> {
        self.domain(ctx, domain_id).await?;
        self.store
            .get_case(CaseKey::new(&ctx.account_id, domain_id, case_id))
            .await?
            .ok_or_else(|| Error::not_found("Case", case_id))
    }

    /// A related item of a case of the caller's domain, or ResourceNotFoundException for the
    /// domain, the case or the item.
    pub(crate) async fn related_item(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        case_id: &str,
        related_item_id: &str,
    ) -> Result<RelatedItemRecord> {
        self.case(ctx, domain_id, case_id).await?;
        self.store
            .get_related_item(
                CaseKey::new(&ctx.account_id, domain_id, case_id).item(related_item_id),
            )
            .await?
            .ok_or_else(|| crate::related::not_found(related_item_id))
    }

    /// Registers what wakes the merge worker when a merge starts (the server's worker loop).
    pub fn on_merge_started(&self, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.merge_waker.set(Box::new(wake));
    }

    /// Runs every recorded merge that has been IN_PROGRESS for at least `min_age`, and returns
    /// how long until the next one is due, if one is waiting (`merge::run`).
    pub async fn run_due_merges(
        &self,
        min_age: std::time::Duration,
    ) -> Result<Option<std::time::Duration>> {
        crate::merge::run::run_due_merges(self, min_age).await
    }
}

impl From<StoreError> for caseload_model::Error {
    fn from(e: StoreError) -> Self {
        // Callers handle Duplicate/QuotaExceeded/VersionMismatch where they mean something; one
        // that reaches here unhandled is a bug, reported as an internal error.
        match e {
            StoreError::Unavailable {
                retry_after_seconds,
                ..
            } => caseload_model::Error::Unavailable {
                retry_after_seconds,
            },
            e => caseload_model::Error::internal(e),
        }
    }
}
