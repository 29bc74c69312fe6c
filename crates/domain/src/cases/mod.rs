//! Cases: CreateCase, GetCase, UpdateCase, BatchUpdateCase, DeleteCase, SearchCases.
//!
//! - `fields`: the domain's fields as case operations need them.
//! - `validate`: the rules values must follow; `demands`: what the case's template requires
//!   (required fields, case rules); `maintain`: the server-maintained fields;
//!   `audit`: the audit event of each write, and GetCaseAuditEvents.
//! - `create`, `get` (GetCase, DeleteCase), `update`, `batch_update`, `search`: the operations.

pub(crate) mod audit;
mod batch_update;
mod create;
mod demands;
pub(crate) mod fields;
mod get;
pub(crate) mod maintain;
mod search;
mod update;
pub(crate) mod validate;

use crate::Service;
use crate::store::{ResourceKind, ResourceRecord, Tags};
use caseload_model::{Error, RequestContext, Result};

impl Service {
    /// A case template as stored (deleted or not), served from the template cache while the
    /// store reports no schema change since it was read.
    pub(crate) async fn template_record(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        template_id: &str,
    ) -> Result<Option<ResourceRecord>> {
        let generation = self.store.schema_generation();
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
                &ctx.account_id,
                domain_id,
                ResourceKind::Template,
                template_id,
            )
            .await?;
        if let Some(r) = &loaded {
            self.template_cache.put(generation, key, r.clone());
        }
        Ok(loaded)
    }

    /// Replaces a case's tags (TagResource / UntagResource on a case ARN). Not a field change, so
    /// no audit event.
    pub(crate) async fn update_case_tags(
        &self,
        ctx: &RequestContext,
        domain_id: &str,
        case_id: &str,
        tags: Tags,
    ) -> Result<()> {
        for _attempt in 0..5 {
            let mut case = self
                .store
                .get_case(&ctx.account_id, domain_id, case_id)
                .await?
                .ok_or_else(|| Error::not_found("Case", case_id))?;
            case.tags = tags.clone();
            case.version += 1;
            match self.store.update_case(&case, None).await {
                Ok(()) => return Ok(()),
                Err(crate::store::StoreError::VersionMismatch) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::conflict(format!(
            "Case {case_id} is being changed concurrently; retry"
        )))
    }
}
