//! Reading a whole domain out of a store as export lines, in the file's order.

use super::format::Line;
use super::records;
use crate::schema::resource::list_all;
use crate::store::DomainKey;
use crate::store::{ResourceKind, Store, StoreError};

/// Cases and related items read from the store per call.
const PAGE: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("domain {0} does not exist in this account")]
    NoDomain(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unreadable(String),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// Hands every line of the domain to `emit`, in order: domain, fields, case rules, layouts,
/// templates, cases, related items. Returns how many cases there were.
pub async fn export(
    store: &dyn Store,
    account_id: &str,
    domain_id: &str,
    emit: &mut (dyn FnMut(Line) -> std::io::Result<()> + Send),
) -> Result<u64, ExportError> {
    let domain = store
        .get_domain(DomainKey::new(account_id, domain_id))
        .await?
        .ok_or_else(|| ExportError::NoDomain(domain_id.to_owned()))?;
    emit(Line::Domain(records::domain_line(&domain)))?;
    for kind in [
        ResourceKind::Field,
        ResourceKind::CaseRule,
        ResourceKind::Layout,
        ResourceKind::Template,
    ] {
        let all = list_all(store, &DomainKey::new(account_id, domain_id), kind, true).await?;
        for r in &all {
            let line = match kind {
                ResourceKind::Field => records::field_line(r).map(Line::Field),
                ResourceKind::CaseRule => records::case_rule_line(r).map(Line::CaseRule),
                ResourceKind::Layout => records::layout_line(r).map(Line::Layout),
                ResourceKind::Template => records::template_line(r).map(Line::Template),
            }
            .map_err(ExportError::Unreadable)?;
            emit(line)?;
        }
    }
    let mut cases = 0;
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_cases(
                DomainKey::new(account_id, domain_id),
                after.as_deref(),
                PAGE,
            )
            .await?;
        for c in &page {
            emit(Line::Case(records::case_line(c)))?;
        }
        cases += page.len() as u64;
        if page.len() < PAGE {
            break;
        }
        after = page.last().map(|c| c.case_id.clone());
    }
    let mut after: Option<(String, i64)> = None;
    loop {
        let page = store
            .list_domain_related_items(
                DomainKey::new(account_id, domain_id),
                after.as_ref().map(|(c, s)| (c.as_str(), *s)),
                PAGE,
            )
            .await?;
        for item in &page {
            let line = records::related_item_line(item).map_err(ExportError::Unreadable)?;
            emit(Line::RelatedItem(line))?;
        }
        if page.len() < PAGE {
            return Ok(cases);
        }
        after = page.last().map(|i| (i.case_id.clone(), i.seq));
    }
}
