//! `caseload check`: the search index against the database, domain by domain (how many cases,
//! and every case id with its version), after the index has applied the whole change log; and
//! the repair, which rebuilds the domains that differ.

use super::{SqliteStore, backend, changes};
use crate::index::check::{CaseDifference, DomainKey, case_differences, count_differences};
use caseload_domain::store::StoreResult;
use std::collections::BTreeSet;

/// A domain the index has wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainReport {
    pub key: DomainKey,
    /// Cases in the database and documents in the index.
    pub database: u64,
    pub index: u64,
    /// Each case that differs, by id.
    pub cases: Vec<CaseDifference>,
}

impl SqliteStore {
    /// Compares the index with the database once the index holds every change so far; empty
    /// when they agree. Meant for a store no one else writes to (the server stopped).
    pub async fn check_index(&self) -> StoreResult<Vec<DomainReport>> {
        self.wait_indexed().await?;
        let (_, database) = self.read(changes::case_counts).await?;
        let index = {
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.domain_counts())
                .await
                .map_err(backend)??
        };
        let counts_differ: BTreeSet<DomainKey> = count_differences(&database, &index)
            .into_iter()
            .map(|d| d.key)
            .collect();
        let mut keys: BTreeSet<DomainKey> = database.keys().cloned().collect();
        keys.extend(index.keys().cloned());
        let mut reports = Vec::new();
        for key in keys {
            let in_database = {
                let key = key.clone();
                self.read(move |c| changes::case_versions(c, &key)).await?
            };
            let in_index = {
                let (index, key) = (self.index.clone(), key.clone());
                tokio::task::spawn_blocking(move || index.domain_versions(&key))
                    .await
                    .map_err(backend)??
            };
            let cases = case_differences(&in_database, &in_index);
            if !cases.is_empty() || counts_differ.contains(&key) {
                reports.push(DomainReport {
                    database: database.get(&key).copied().unwrap_or(0),
                    index: index.get(&key).copied().unwrap_or(0),
                    key,
                    cases,
                });
            }
        }
        Ok(reports)
    }

    /// Rebuilds the index's documents of `domains` from the database, durably.
    pub async fn repair_index(&self, domains: Vec<DomainKey>) -> StoreResult<()> {
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.repair(domains))
            .await
            .map_err(backend)?
    }
}
