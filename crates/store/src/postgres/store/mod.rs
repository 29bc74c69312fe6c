//! `PgStore`: the storage contract (`caseload_domain::store::Store`) over PostgreSQL, for many
//! servers sharing one database.
//!
//! Every method is one transaction on a pooled connection (READ COMMITTED unless a module says
//! otherwise), and a refusal rolls it back whole. What SQLite gets from having one writer, this
//! backend gets from the database, so that it holds across servers; each module says how:
//! unique indexes for names, reference numbers and ids; `INSERT … ON CONFLICT` for client tokens;
//! `WHERE version = …` updates for optimistic writes; row locks for read-modify-write (a resource
//! replaced against what was read, a claim taken over, a case's related-item quota); advisory
//! locks for checks that span rows (quotas of domains and resources, a case's merges); a table
//! lock taken by the readers of the event outbox for commit order (`outbox`). Every case write
//! appends to the change log (`postgres::changelog`) in its transaction, as the search indexes
//! of all servers follow it.
//!
//! Throughput: a transaction of several statements costs a round trip each, during which its
//! connection is busy. CreateCase, the hot write, is therefore one statement (its token, case,
//! audit event, change-log row and event in data-modifying CTEs, `cases::insert`), and so is an
//! UpdateCase that moves no related item and holds no claim (`cases::update_alone`): concurrent
//! ones commit independently and PostgreSQL's WAL flush already takes the commits that arrive
//! together in one write, which is the group commit the embedded mode does in its writer thread.
//! Measured with `create_case_throughput` (64 callers, debug build, a 2-core machine at load 10):
//! 492/s as a six-statement transaction, 1,435/s as one statement, against 2,113/s for raw
//! single-row INSERTs on the same database.
//!
//! SearchCases is served by this server's own Tantivy index (`PgSearch`, opened by
//! `with_search`), fed from the change log: a search first takes the database's snapshot, waits
//! (at most `with_search_wait`) until the index covers it, so it sees every write any server
//! acknowledged before it arrived, then reads the page's cases from the tables.

mod bulk;
mod cases;
mod domains;
mod merges;
mod outbox;
mod related;
mod resources;
mod sql;
mod tokens;

use super::{MIGRATIONS, PgConfig, PgPool, PgSearch, migrate};
use crate::stats::{GroupSizes, IndexPosition, PoolUsage, Stats};
use caseload_domain::store::{
    AuditRecord, CaseKey, CasePage, CaseQuery, CaseRecord, Claim, Created, DomainKey, DomainRecord,
    EventRecord, IdempotencyRecord, MergeFinish, MergeRecord, MergeStart, NewRelatedItem,
    RelatedItemKey, RelatedItemRecord, RelatedPage, RelatedQuery, ResourceKey, ResourceKind,
    ResourceRecord, Store, StoreError, StoreResult, Tags, TokenClaim, TokenKey,
};
use caseload_model::Timestamp;
use caseload_model::shapes::CaseSummary;
use deadpool_postgres::Object;
use sql::db;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::IsolationLevel;

/// The shortest and longest pause between two looks of `wait_token` at a claim held by a request
/// that may run on another server.
const TOKEN_POLL_FIRST: Duration = Duration::from_millis(10);
const TOKEN_POLL_MAX: Duration = Duration::from_millis(250);

/// How long SearchCases waits for this server's index to reach the writes before it, unless
/// `with_search_wait` says otherwise (the embedded store's default).
const DEFAULT_SEARCH_WAIT: Duration = Duration::from_secs(5);

/// How long a readiness probe waits for the index to catch up before it answers "not ready".
const READY_WAIT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Bumped after this server ends or moves a client-token claim, so its own requests waiting
    /// in `wait_token` look again at once; claims ended by other servers are found by polling.
    token_events: Arc<tokio::sync::watch::Sender<u64>>,
    /// Writes counted for metrics (`stats::Stats`).
    groups: Arc<GroupSizes>,
    /// This server's search index (`with_search`); without one SearchCases is unavailable.
    search: Option<Arc<PgSearch>>,
    search_wait: Duration,
}

impl PgStore {
    /// Connects to the database `config` names and brings its schema up to date (safe when
    /// several servers start at once, see `migrate`).
    pub async fn open(config: &PgConfig) -> StoreResult<PgStore> {
        let pool = PgPool::new(config)?;
        {
            let mut conn = pool.get().await?;
            migrate(&mut conn, MIGRATIONS).await?;
        }
        Ok(PgStore {
            pool,
            token_events: Arc::new(tokio::sync::watch::Sender::new(0)),
            groups: Default::default(),
            search: None,
            search_wait: DEFAULT_SEARCH_WAIT,
        })
    }

    /// A number that changes with every schema write of any server, atomically with it (what
    /// `Store::schema_generation` would answer if it could ask the database: see there).
    pub async fn schema_generation_now(&self) -> StoreResult<u64> {
        sql::schema_generation(&self.conn().await?).await
    }

    /// Opens this server's search index in `dir` (a derived cache, rebuilt from the tables when
    /// missing) under the name `node`, which must be stable across restarts and unique among
    /// the servers sharing the database (see `PgSearch::open`).
    pub fn with_search(mut self, node: &str, dir: &Path) -> StoreResult<PgStore> {
        self.search = Some(Arc::new(PgSearch::open(self.pool.clone(), node, dir)?));
        Ok(self)
    }

    /// How long SearchCases waits for the index to reach the writes before it (its
    /// read-your-writes guarantee) before it answers a retryable `Unavailable`.
    pub fn with_search_wait(mut self, wait: Duration) -> PgStore {
        self.search_wait = wait;
        self
    }

    /// The search index, or `Unavailable` when none was opened.
    fn search(&self) -> StoreResult<&PgSearch> {
        self.search
            .as_deref()
            .ok_or_else(|| StoreError::Unavailable {
                detail: "this PostgreSQL store has no search index (PgStore::with_search)".into(),
                retry_after_seconds: 1,
            })
    }

    /// Waits until the search index holds every write committed so far (at most `bound`).
    pub async fn wait_indexed(&self, bound: Option<Duration>) -> StoreResult<()> {
        self.search()?.wait_indexed(bound).await
    }

    /// The connection pool (for metrics, and for the change-log reader of the search index).
    pub fn pg_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn conn(&self) -> StoreResult<Object> {
        Ok(self.pool.get().await?)
    }

    /// Wakes this server's requests waiting in `wait_token`.
    fn token_changed(&self) {
        self.token_events.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Runs `$body` in a read-write transaction `$tx` on a pooled connection and commits it when
/// the body returns `Ok` (dropping the transaction on an error rolls it back); a committed one
/// counts as a write for metrics.
macro_rules! in_tx {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let out = in_tx!(uncounted $self, |$tx| $body)?;
        $self.groups.record(1);
        Ok(out)
    }};
    (uncounted $self:ident, |$tx:ident| $body:expr) => {{
        let mut conn = $self.conn().await?;
        let $tx = conn.transaction().await.map_err(db)?;
        let out = $body;
        $tx.commit().await.map_err(db)?;
        StoreResult::Ok(out)
    }};
}

/// `in_tx!` for a read that must see one snapshot (REPEATABLE READ, read only).
macro_rules! in_snapshot {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let mut conn = $self.conn().await?;
        let $tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db)?;
        let out = $body;
        $tx.commit().await.map_err(db)?;
        Ok(out)
    }};
}

impl PgStore {
    /// UpdateRelatedItem and DeleteRelatedItem: the item's row changed with its case, audit
    /// record and event, in one transaction.
    async fn change_related(
        &self,
        change: related::ItemChange,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()> {
        in_tx!(self, |tx| related::change(
            &tx,
            change,
            item,
            audit,
            event,
            case_update
        )
        .await?)
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    /// The database's counter (`schema_generation_now`, one read of a one-row table), bumped in
    /// every schema write's transaction by whichever server makes it: a change made through any
    /// server moves it for all of them, so each enforces the change on its next request.
    async fn schema_generation(&self) -> StoreResult<Option<u64>> {
        Ok(Some(self.schema_generation_now().await?))
    }

    /// Ready when the database answers and a search would now be answered: the indexer is not
    /// failing and covers what is committed within `READY_WAIT`.
    async fn readiness(&self) -> Result<(), String> {
        let conn = self
            .conn()
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        conn.simple_query("SELECT 1")
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        drop(conn);
        let search = self.search().map_err(|e| e.to_string())?;
        if let Some(e) = search.status().failing {
            return Err(format!("the search indexer is failing: {e}"));
        }
        search
            .wait_indexed(Some(READY_WAIT.min(self.search_wait)))
            .await
            .map_err(|e| format!("the search index is behind the database: {e}"))
    }

    async fn token_secret(&self) -> StoreResult<Vec<u8>> {
        let conn = self.conn().await?;
        let key: [u8; 32] = rand::random();
        // The first server to start stores its key; the others (the insert waits for a
        // concurrent one to commit) read the stored one.
        sql::exec(
            &conn,
            "INSERT INTO meta (key, value) VALUES ('token_secret', $1) ON CONFLICT (key) DO NOTHING",
            &[&key.to_vec()],
        )
        .await?;
        let row = sql::query_opt(
            &conn,
            "SELECT value FROM meta WHERE key = 'token_secret'",
            &[],
        )
        .await?
        .ok_or_else(|| StoreError::Backend("the token secret vanished".into()))?;
        sql::col(&row, 0)
    }

    async fn insert_domain(&self, d: &DomainRecord, max: usize) -> StoreResult<()> {
        in_tx!(self, |tx| {
            domains::insert(&tx, d, max).await?;
            sql::bump_schema_generation(&tx).await?
        })
    }
    async fn get_domain(&self, key: DomainKey) -> StoreResult<Option<DomainRecord>> {
        domains::get(&self.conn().await?, &key).await
    }
    async fn list_domains(
        &self,
        account_id: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<DomainRecord>> {
        domains::list(&self.conn().await?, account_id, region, after, limit).await
    }
    async fn update_domain_tags(&self, key: DomainKey, tags: &Tags) -> StoreResult<bool> {
        in_tx!(self, |tx| {
            let found = domains::update_tags(&tx, &key, tags).await?;
            sql::bump_schema_generation(&tx).await?;
            found
        })
    }
    async fn delete_domain(&self, key: DomainKey) -> StoreResult<bool> {
        in_tx!(self, |tx| {
            let found = domains::delete(&tx, &key).await?;
            sql::bump_schema_generation(&tx).await?;
            found
        })
    }

    async fn insert_resource(&self, r: &ResourceRecord, quota: usize) -> StoreResult<()> {
        in_tx!(self, |tx| {
            resources::insert(&tx, r, quota).await?;
            sql::bump_schema_generation(&tx).await?
        })
    }
    async fn replace_resource_if(
        &self,
        r: &ResourceRecord,
        prior: &ResourceRecord,
    ) -> StoreResult<bool> {
        in_tx!(self, |tx| {
            let written = resources::replace_if(&tx, r, prior).await?;
            if written {
                sql::bump_schema_generation(&tx).await?;
            }
            written
        })
    }
    async fn count_resources(
        &self,
        key: DomainKey,
        kind: ResourceKind,
        deleted: bool,
    ) -> StoreResult<usize> {
        resources::count_of(&self.conn().await?, &key, kind, deleted).await
    }
    async fn get_resource(&self, key: ResourceKey) -> StoreResult<Option<ResourceRecord>> {
        resources::get(&self.conn().await?, &key).await
    }
    async fn list_resources(
        &self,
        key: DomainKey,
        kind: ResourceKind,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> StoreResult<Vec<ResourceRecord>> {
        let conn = self.conn().await?;
        resources::list(&conn, &key, kind, after, limit, include_deleted).await
    }

    async fn get_idempotency(&self, key: TokenKey) -> StoreResult<Option<IdempotencyRecord>> {
        let d = &key.domain;
        let conn = self.conn().await?;
        tokens::get(
            &conn,
            &d.account_id,
            &d.domain_id,
            key.operation,
            &key.token,
        )
        .await
    }
    async fn insert_case(
        &self,
        case: &CaseRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created> {
        // One statement, its own transaction (see `cases::insert`).
        let created = cases::insert(&self.conn().await?, case, audit, event, token).await?;
        self.groups.record(1);
        Ok(created)
    }
    async fn get_case(&self, key: CaseKey) -> StoreResult<Option<CaseRecord>> {
        cases::get(&self.conn().await?, &key).await
    }
    async fn get_case_fields(
        &self,
        key: CaseKey,
        ids: &[String],
    ) -> StoreResult<Option<CaseRecord>> {
        cases::get_fields(&self.conn().await?, &key, ids).await
    }
    async fn update_case_with_items(
        &self,
        case: &CaseRecord,
        audit: Option<&AuditRecord>,
        event: Option<&EventRecord>,
        items: &[RelatedItemRecord],
        claim: Option<&TokenClaim>,
    ) -> StoreResult<()> {
        if items.is_empty() && claim.is_none() {
            // The common case, one statement (see `cases::update_alone`).
            cases::update_alone(&self.conn().await?, case, audit, event).await?;
            self.groups.record(1);
            return Ok(());
        }
        in_tx!(self, |tx| cases::update(
            &tx, case, audit, event, items, claim
        )
        .await?)
    }
    async fn delete_case(&self, case: &CaseRecord, event: Option<&EventRecord>) -> StoreResult<()> {
        in_tx!(self, |tx| cases::delete(&tx, case, event).await?)
    }
    async fn get_case_by_reference(
        &self,
        key: DomainKey,
        reference_number: &str,
    ) -> StoreResult<Option<CaseRecord>> {
        cases::get_by_reference(&self.conn().await?, &key, reference_number).await
    }
    async fn list_audit(
        &self,
        key: CaseKey,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>> {
        cases::list_audit(&self.conn().await?, &key, after, limit).await
    }
    /// Through this server's index, not SQL over the cases table (issue 15: search stays on
    /// Tantivy); the page's cases are then read from the tables, so a case deleted since the
    /// index saw it is left out.
    async fn search_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        let (total, mut ids) = self.search()?.search(q, self.search_wait).await?;
        let more = ids.len() > q.limit;
        ids.truncate(q.limit);
        let domain = DomainKey::new(&q.account_id, &q.domain_id);
        let cases = cases::get_many(&self.conn().await?, &domain, &ids).await?;
        Ok(CasePage { cases, total, more })
    }

    async fn claim_token(&self, claim: &TokenClaim, stale_before: Timestamp) -> StoreResult<Claim> {
        let out: StoreResult<Claim> =
            in_tx!(self, |tx| tokens::claim(&tx, claim, stale_before).await?);
        if matches!(out, Ok(Claim::Owned)) {
            // A takeover: whoever waits here for the stale claim must look again.
            self.token_changed();
        }
        out
    }
    async fn finish_token(
        &self,
        claim: &TokenClaim,
        response: &serde_json::Value,
    ) -> StoreResult<bool> {
        let out = tokens::finish(&self.conn().await?, claim, response).await;
        self.token_changed();
        out
    }
    async fn release_token(&self, claim: &TokenClaim) -> StoreResult<()> {
        let out = tokens::release(&self.conn().await?, claim).await;
        self.token_changed();
        out
    }
    /// Polls the claim with a growing pause (10 ms doubling to 250 ms), and wakes at once for
    /// claims this server ends. Polling rather than LISTEN/NOTIFY: a notification can be missed
    /// (a listening connection that drops and reconnects loses what was sent meanwhile), so a
    /// poll would be needed as well; a wait is rare (a client retrying a request still running)
    /// and short, and a look is one indexed read.
    async fn wait_token(
        &self,
        claim: &TokenClaim,
        claim_id: &str,
        timeout: Duration,
    ) -> StoreResult<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        // Subscribed before looking: a claim this server ends after the look bumps the counter.
        let mut changes = self.token_events.subscribe();
        let mut pause = TOKEN_POLL_FIRST;
        loop {
            let holder = tokens::holder(&self.conn().await?, claim).await?;
            if holder.as_deref() != Some(claim_id) {
                return Ok(());
            }
            let wake = (tokio::time::Instant::now() + pause).min(deadline);
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = changes.changed() => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
            pause = (pause * 2).min(TOKEN_POLL_MAX);
        }
    }

    async fn list_cases(
        &self,
        key: DomainKey,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        bulk::list(&self.conn().await?, &key, after, limit).await
    }
    async fn import_cases(&self, cases: Vec<CaseRecord>) -> StoreResult<()> {
        in_tx!(self, |tx| bulk::insert(&tx, &cases).await?)
    }
    async fn list_domain_related_items(
        &self,
        key: DomainKey,
        after: Option<(&str, i64)>,
        limit: usize,
    ) -> StoreResult<Vec<RelatedItemRecord>> {
        related::list_domain(&self.conn().await?, &key, after, limit).await
    }
    async fn import_related_items(&self, items: Vec<RelatedItemRecord>) -> StoreResult<()> {
        in_tx!(self, |tx| related::import(&tx, &items).await?)
    }

    async fn insert_related_items(
        &self,
        items: &[NewRelatedItem],
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created> {
        in_tx!(self, |tx| related::insert_many(&tx, items, token).await?)
    }
    async fn get_related_item(
        &self,
        key: RelatedItemKey,
    ) -> StoreResult<Option<RelatedItemRecord>> {
        related::get(&self.conn().await?, &key).await
    }
    async fn list_related_items(&self, key: CaseKey) -> StoreResult<Vec<RelatedItemRecord>> {
        let d = &key.domain;
        let conn = self.conn().await?;
        related::list_case(&conn, &d.account_id, &d.domain_id, &key.case_id).await
    }
    async fn update_related_item(
        &self,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()> {
        self.change_related(
            related::ItemChange::Replace,
            item,
            audit,
            event,
            case_update,
        )
        .await
    }
    async fn delete_related_item(
        &self,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()> {
        self.change_related(related::ItemChange::Remove, item, audit, event, case_update)
            .await
    }
    async fn search_related_items(&self, q: &RelatedQuery) -> StoreResult<RelatedPage> {
        in_snapshot!(self, |tx| related::search(&tx, q).await?)
    }
    async fn list_cases_for_contact(
        &self,
        key: DomainKey,
        contact_arn: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseSummary>> {
        let conn = self.conn().await?;
        related::cases_for_contact(&conn, &key, contact_arn, after, limit).await
    }

    async fn get_event_config(&self, key: DomainKey) -> StoreResult<Option<serde_json::Value>> {
        outbox::get_config(&self.conn().await?, &key).await
    }
    async fn put_event_config(
        &self,
        key: DomainKey,
        region: &str,
        body: &serde_json::Value,
    ) -> StoreResult<()> {
        // A schema write: writes decide their events by the configuration they read.
        in_tx!(self, |tx| {
            outbox::put_config(&tx, &key, region, body).await?;
            sql::bump_schema_generation(&tx).await?
        })
    }
    async fn events_after(
        &self,
        after: i64,
        scope: Option<(&str, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        in_tx!(uncounted self, |tx| outbox::events_after(&tx, after, scope, limit).await?)
    }
    async fn last_event_seq(&self) -> StoreResult<i64> {
        in_tx!(uncounted self, |tx| outbox::last_seq(&tx).await?)
    }
    async fn delivery_cursor(&self, target: &str) -> StoreResult<Option<i64>> {
        outbox::cursor(&self.conn().await?, target).await
    }
    async fn set_delivery_cursor(&self, target: &str, seq: i64) -> StoreResult<()> {
        outbox::set_cursor(&self.conn().await?, target, seq).await
    }
    async fn lease_delivery(
        &self,
        target: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> StoreResult<bool> {
        outbox::lease(&self.conn().await?, target, holder, ttl).await
    }
    async fn release_delivery(&self, target: &str, holder: &str) -> StoreResult<()> {
        outbox::release(&self.conn().await?, target, holder).await
    }
    async fn save_delivery_cursor(
        &self,
        target: &str,
        holder: &str,
        seq: i64,
    ) -> StoreResult<bool> {
        outbox::save_cursor(&self.conn().await?, target, holder, seq).await
    }
    async fn prune_events(&self, up_to_seq: i64, older_than: Timestamp) -> StoreResult<usize> {
        outbox::prune(&self.conn().await?, up_to_seq, older_than).await
    }

    async fn start_merge(&self, m: &MergeRecord) -> StoreResult<MergeStart> {
        in_tx!(self, |tx| merges::start(&tx, m).await?)
    }
    async fn merges_of_case(&self, key: CaseKey) -> StoreResult<Vec<MergeRecord>> {
        let d = &key.domain;
        let conn = self.conn().await?;
        merges::of_case(&conn, &d.account_id, &d.domain_id, &key.case_id).await
    }
    async fn running_merges(&self, limit: usize) -> StoreResult<Vec<MergeRecord>> {
        merges::running(&self.conn().await?, limit).await
    }
    async fn finish_merge(&self, f: &MergeFinish) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(db)?;
        if merges::finish(&tx, f).await? {
            tx.commit().await.map_err(db)?;
        }
        // Already completed by another worker: dropping the transaction rolls it back.
        Ok(())
    }
}

/// Each write is a transaction (or a statement) of its own: groups of one. PostgreSQL groups the
/// commits that arrive together into one WAL flush by itself, which this cannot see.
#[async_trait::async_trait]
impl Stats for PgStore {
    fn group_sizes(&self) -> &GroupSizes {
        &self.groups
    }

    fn pool(&self) -> Option<PoolUsage> {
        Some(self.pool.usage())
    }

    /// Positions are change-log rows: `committed` the newest one's sequence number (read first),
    /// and `searchable` that less the committed changes searches do not see yet.
    async fn index_position(&self) -> StoreResult<IndexPosition> {
        let search = self.search()?;
        let row = sql::query_opt(
            &self.conn().await?,
            "SELECT coalesce(max(seq), 0) FROM changes",
            &[],
        )
        .await?
        .ok_or_else(|| StoreError::Backend("no row from a SELECT".into()))?;
        let committed: i64 = sql::col(&row, 0)?;
        let behind = i64::try_from(search.changes_behind().await?).unwrap_or(i64::MAX);
        let status = search.status();
        Ok(IndexPosition {
            committed,
            searchable: committed.saturating_sub(behind),
            failing: status.failing.is_some(),
        })
    }
}
