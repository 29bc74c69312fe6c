//! A node's search index over the PostgreSQL change log: what the PostgreSQL store calls to
//! answer SearchCases with read-your-writes across servers.

use super::changelog::horizon_now;
use super::index_log::PgLog;
use super::pool::PgPool;
use super::snapshot::Snapshot;
use crate::index::{IndexStatus, Mode, SearchIndex};
use caseload_domain::store::{CaseQuery, StoreError, StoreResult};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// One node's Tantivy index, fed from the change log; a derived cache (deleting its directory
/// loses nothing: it is rebuilt from the tables on the next open).
pub struct PgSearch {
    pool: PgPool,
    index: Arc<SearchIndex<Snapshot>>,
}

impl PgSearch {
    /// Opens (or creates) the index of `node` in `dir` and starts its indexer, which resumes from
    /// the position the index committed last, or rebuilds from the tables when there is none or
    /// the log no longer reaches back to it. `node` names this server among those sharing the
    /// database (its recorded position holds back the log's pruning); it must be stable across
    /// restarts and unique in the fleet.
    pub fn open(pool: PgPool, node: &str, dir: &Path) -> StoreResult<PgSearch> {
        let log = Arc::new(PgLog::new(node, pool.connect_config().clone())?);
        let index = SearchIndex::open(Some(dir), log, false, Mode::Serve)?;
        Ok(PgSearch { pool, index })
    }

    /// What is committed in the database now: a search that waits until the index covers it
    /// sees every write acknowledged before it, by any server.
    pub async fn horizon(&self) -> StoreResult<Snapshot> {
        let client = self.pool.get().await?;
        Ok(horizon_now(&**client).await?)
    }

    /// The total number of matches and the ids of the page's cases (at most `q.limit + 1`), once
    /// the index holds every write committed before this call; past `wait` it answers
    /// `StoreError::Unavailable` (retryable) instead.
    pub async fn search(&self, q: &CaseQuery, wait: Duration) -> StoreResult<(u64, Vec<String>)> {
        let horizon = self.horizon().await?;
        self.index.wait_for(horizon, Some(wait)).await?;
        let (index, query) = (self.index.clone(), q.clone());
        tokio::task::spawn_blocking(move || index.search(&query))
            .await
            .map_err(|e| StoreError::Backend(format!("search index: {e}")))?
    }

    /// Waits until the index holds every write committed so far; past `bound` (if any) it
    /// answers `StoreError::Unavailable` (for readiness: the index is caught up).
    pub async fn wait_indexed(&self, bound: Option<Duration>) -> StoreResult<()> {
        let horizon = self.horizon().await?;
        self.index.wait_for(horizon, bound).await
    }

    /// How many committed changes searches do not see yet (for the index-lag metric: positions
    /// here are sets of transactions, not numbers, so the lag is counted in the log itself).
    pub async fn changes_behind(&self) -> StoreResult<u64> {
        let searchable = self.index.status().indexed;
        let client = self.pool.get().await?;
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM changes WHERE xid >= $1 OR xid = ANY($2)",
                &[&searchable.xmax(), &searchable.in_progress()],
            )
            .await
            .map_err(super::PgError::from)?
            .get(0);
        Ok(n.max(0) as u64)
    }

    /// The position searches see, and why the indexer fails if it does (for readiness).
    pub fn status(&self) -> IndexStatus<Snapshot> {
        self.index.status()
    }

    /// Stops the indexer and waits until it has ended (its directory is then free).
    pub async fn close(self) -> StoreResult<()> {
        let index = self.index;
        tokio::task::spawn_blocking(move || index.close())
            .await
            .map_err(|e| StoreError::Backend(format!("search index: {e}")))?
    }

    /// The index itself (counts and versions for `check`, tuning for tests).
    pub fn index(&self) -> &Arc<SearchIndex<Snapshot>> {
        &self.index
    }
}
