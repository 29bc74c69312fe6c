//! The SQLite backend. Writes are group-committed by one writer thread and reads run on a pool
//! of read-only connections (see `db`). Every `Store` method is one transaction.

mod bulk;
mod cases;
mod changes;
mod check;
mod db;
mod domains;
mod hints;
mod merges;
mod outbox;
mod related;
mod resources;
mod tokens;

use crate::index::{Mode, SearchIndex};
pub(crate) use cases::decode_selected_fields;
pub use check::DomainReport;

use caseload_domain::store::{
    AuditRecord, CaseKey, CasePage, CaseQuery, CaseRecord, Claim, Created, DomainKey, DomainRecord,
    EventRecord, IdempotencyRecord, MergeFinish, MergeRecord, MergeStart, NewRelatedItem,
    RelatedItemKey, RelatedItemRecord, RelatedPage, RelatedQuery, ResourceKey, ResourceKind,
    ResourceRecord, Store, StoreError, StoreResult, Tags, TokenClaim, TokenKey,
};
use caseload_model::Timestamp;
use caseload_model::shapes::CaseSummary;
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::sync::Arc;

/// Migrations in order; the position (1-based) is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_related_items_and_events.sql"),
    include_str!("../../migrations/sqlite/0003_merges.sql"),
    include_str!("../../migrations/sqlite/0004_token_claims.sql"),
];

#[derive(Clone)]
pub struct SqliteStore {
    db: db::Db,
    /// Bumped after every schema write; this process is the database's only writer.
    schema_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Serves SearchCases; derived from the `cases` table through the `changes` log.
    index: Arc<SearchIndex>,
    /// Where cases' rows are, for lookups by key (see `hints`).
    hints: Arc<hints::RowidHints>,
    /// Bumped after every write that ends or moves a client-token claim, so requests waiting
    /// for a claimant (`wait_token`) wake up when it is done; this process is the only writer.
    token_events: Arc<tokio::sync::watch::Sender<u64>>,
    /// How long a search waits for the index to reach the writes before it (see
    /// `with_search_wait`).
    search_wait: std::time::Duration,
    /// The data directory's lock, held as long as the store (see `lock_data_dir`).
    _lock: Option<Arc<std::fs::File>>,
}

/// How long a search waits for the index by default (`--search-wait-ms`).
pub const DEFAULT_SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a readiness probe waits for the index to reach the database.
const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/caseload.sqlite3` and the search index in `dir/index`,
    /// and brings both up to date.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(dir, false, Mode::Serve)
    }

    /// Opens the store in `dir` for a bulk load (`caseload import` into a data directory): the
    /// search index takes the imported cases in as they are written but commits only in
    /// `finish_bulk_load`, which the loader must call before it searches.
    pub fn open_for_bulk_load(dir: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(dir, false, Mode::Bulk)
    }

    /// Ends a bulk load: commits the search index and waits for its merges (blocking; minutes
    /// for millions of cases). Searches are answered from then on; writes made afterwards
    /// through this store are indexed when the data directory is next opened.
    pub async fn finish_bulk_load(&self) -> StoreResult<()> {
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.finish_bulk())
            .await
            .map_err(backend)?
    }

    /// Opens the store in `dir` after throwing the search index away and rebuilding it from the
    /// database (`caseload reindex`).
    pub fn reindex(dir: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(dir, true, Mode::Serve)
    }

    /// Opens the store in `dir` for `caseload check`: the index is not compared with the
    /// database and repaired at start-up, as a server does, so `check_index` sees what differs.
    pub fn open_for_check(dir: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(dir, false, Mode::Check)
    }

    /// Sets how long a search waits for the index to reach the writes that preceded it before
    /// it answers `StoreError::Unavailable` (the index cannot commit, or is rebuilding).
    pub fn with_search_wait(mut self, wait: std::time::Duration) -> SqliteStore {
        self.search_wait = wait;
        self
    }

    /// What the search indexer is doing (its position, and why it fails if it does).
    pub fn index_status(&self) -> crate::index::IndexStatus {
        self.index.status()
    }

    /// Waits, without bound, until the index holds every change committed so far.
    pub async fn wait_indexed(&self) -> StoreResult<()> {
        let seq = self.read(|c| changes::last_seq(c)).await?;
        self.index.wait_for(seq, None).await
    }

    fn open_with(dir: &Path, rebuild_index: bool, mode: Mode) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let lock = lock_data_dir(dir)?;
        let path = dir.join("caseload.sqlite3");
        let conn = db::open_file(&path)?;
        let mut store = Self::init(
            conn,
            Some(&path),
            Some(&dir.join("index")),
            rebuild_index,
            mode,
        )?;
        store._lock = Some(Arc::new(lock));
        Ok(store)
    }

    /// Changes when searches walk large result sets in a precomputed order (see
    /// `index::Tuning`); tests force that path on small corpora.
    pub fn tune_search(&self, tuning: crate::index::Tuning) {
        self.index.set_tuning(tuning);
    }

    /// A private database that lives as long as the process.
    pub fn in_memory() -> StoreResult<SqliteStore> {
        Self::init(
            Connection::open_in_memory().map_err(backend)?,
            None,
            None,
            false,
            Mode::Serve,
        )
    }

    fn init(
        mut conn: Connection,
        file: Option<&Path>,
        index_dir: Option<&Path>,
        rebuild_index: bool,
        mode: Mode,
    ) -> StoreResult<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(db::STATEMENT_CACHE);
        migrate(&mut conn)?;
        let db = db::Db::start(conn, file)?;
        let log = Arc::new(changes::SqliteLog { db: db.clone() });
        let index = SearchIndex::open(index_dir, log, rebuild_index, mode)?;
        let hints = Arc::<hints::RowidHints>::default();
        if let (Some(path), Mode::Serve) = (file, mode) {
            load_hints(path, hints.clone())?;
        }
        Ok(SqliteStore {
            db,
            schema_generation: Default::default(),
            index,
            hints,
            token_events: Arc::new(tokio::sync::watch::Sender::new(0)),
            search_wait: DEFAULT_SEARCH_WAIT,
            _lock: None,
        })
    }

    /// Runs a write transaction; returns once it is durable.
    pub(crate) async fn with<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.write(f).await
    }

    /// Runs a write that changes a schema resource or a domain, and bumps the schema generation
    /// once it is durable (and also if it failed: a spurious bump only costs a cache reload).
    async fn schema_write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let r = self.db.write(f).await;
        self.schema_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        r
    }

    /// Runs a read (it sees every write that returned before it started).
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.read(f).await
    }

    /// Runs a lookup by key, on the calling thread when a reader is free (see `Db::read_point`).
    pub(crate) async fn read_point<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.db.read_point(f).await
    }

    /// UpdateRelatedItem and DeleteRelatedItem: the item's row changed with its case, audit
    /// record and event, in one write.
    async fn change_related(
        &self,
        change: related::ItemChange,
        item: &RelatedItemRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        case_update: Option<&CaseRecord>,
    ) -> StoreResult<()> {
        let (item, audit) = (item.clone(), audit.clone());
        let (event, case) = (event.cloned(), case_update.cloned());
        self.with(move |c| related::change(c, change, &item, &audit, event.as_ref(), case.as_ref()))
            .await
    }

    /// Wakes the requests waiting in `wait_token`.
    fn token_changed(&self) {
        self.token_events.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Takes an exclusive advisory lock on `dir/caseload.lock`, kept as long as the store: one
/// process at a time owns a data directory, so `caseload check`, `reindex`, `export` or a direct
/// `import` refuse to run under a server (or a second server) instead of racing it. The kernel
/// releases the lock when the process ends, however it ends.
fn lock_data_dir(dir: &Path) -> StoreResult<std::fs::File> {
    let path = dir.join("caseload.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| backend(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(backend(format!(
            "the data directory {} is in use by another caseload process (a running server?); stop it first",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(backend(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

/// Loads the rowid hints of the database at `path` on a thread of its own, with its own
/// connection: the server answers meanwhile (by key).
fn load_hints(path: &Path, hints: Arc<hints::RowidHints>) -> StoreResult<()> {
    let conn = db::open_reader(path)?;
    std::thread::Builder::new()
        .name("caseload-hints".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            match hints.load(&conn) {
                Ok(n) => {
                    tracing::debug!(cases = n, elapsed = ?started.elapsed(), "row hints loaded")
                }
                Err(e) => tracing::warn!(error = %e, "loading row hints failed; lookups go by key"),
            }
        })
        .map_err(backend)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(backend)?;
    let current = current.max(0) as usize;
    if current > MIGRATIONS.len() {
        return Err(backend(format!(
            "the database has schema version {current}, newer than this caseload ({}); upgrade caseload",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn tags_to_text(t: &Tags) -> String {
    serde_json::to_string(t).unwrap_or_else(|_| "{}".into())
}

pub(crate) fn tags_from_text(s: &str) -> StoreResult<Tags> {
    serde_json::from_str(s).map_err(backend)
}

/// True when `e` is a UNIQUE constraint failure.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

#[async_trait::async_trait]
impl crate::stats::Stats for SqliteStore {
    fn group_sizes(&self) -> &crate::stats::GroupSizes {
        self.db.group_sizes()
    }

    fn pool(&self) -> Option<crate::stats::PoolUsage> {
        self.db.read_pool()
    }

    async fn index_position(&self) -> StoreResult<crate::stats::IndexPosition> {
        let committed = self.read(|c| changes::last_seq(c)).await?;
        let status = self.index.status();
        Ok(crate::stats::IndexPosition {
            committed,
            searchable: status.indexed,
            failing: status.failing.is_some(),
        })
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn schema_generation(&self) -> Option<u64> {
        Some(
            self.schema_generation
                .load(std::sync::atomic::Ordering::SeqCst),
        )
    }

    /// Ready when the database answers and a search would now be answered: the indexer is not
    /// failing and reaches the database's last change within `READY_WAIT`.
    async fn readiness(&self) -> Result<(), String> {
        let seq = self
            .read(|c| changes::last_seq(c))
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        if let Some(e) = self.index.status().failing {
            return Err(format!("the search indexer is failing: {e}"));
        }
        self.index
            .wait_for(seq, Some(READY_WAIT.min(self.search_wait)))
            .await
            .map_err(|_| "the search index is behind the database".to_owned())
    }

    async fn token_secret(&self) -> StoreResult<Vec<u8>> {
        self.with(|conn| {
            let existing: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT value FROM meta WHERE key = 'token_secret'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if let Some(k) = existing {
                return Ok(k);
            }
            let key: [u8; 32] = rand::random();
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('token_secret', ?1)",
                [key.to_vec()],
            )
            .map_err(backend)?;
            Ok(key.to_vec())
        })
        .await
    }

    async fn insert_domain(&self, d: &DomainRecord, max: usize) -> StoreResult<()> {
        let d = d.clone();
        self.schema_write(move |c| domains::insert(c, &d, max))
            .await
    }
    async fn get_domain(&self, key: DomainKey) -> StoreResult<Option<DomainRecord>> {
        self.read_point(move |c| domains::get(c, &key)).await
    }
    async fn list_domains(
        &self,
        account_id: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<DomainRecord>> {
        let (a, r, after) = (
            account_id.to_owned(),
            region.to_owned(),
            after.map(str::to_owned),
        );
        self.read(move |c| domains::list(c, &a, &r, after.as_deref(), limit))
            .await
    }
    async fn update_domain_tags(&self, key: DomainKey, tags: &Tags) -> StoreResult<bool> {
        let t = tags.clone();
        self.schema_write(move |c| domains::update_tags(c, &key, &t))
            .await
    }
    async fn delete_domain(&self, key: DomainKey) -> StoreResult<bool> {
        self.schema_write(move |c| domains::delete(c, &key)).await
    }

    async fn insert_resource(&self, r: &ResourceRecord, quota: usize) -> StoreResult<()> {
        let r = r.clone();
        self.schema_write(move |c| resources::insert(c, &r, quota))
            .await
    }
    async fn replace_resource_if(
        &self,
        r: &ResourceRecord,
        prior: &ResourceRecord,
    ) -> StoreResult<bool> {
        let (r, prior) = (r.clone(), prior.clone());
        self.schema_write(move |c| resources::replace_if(c, &r, &prior))
            .await
    }
    async fn count_resources(
        &self,
        key: DomainKey,
        kind: ResourceKind,
        deleted: bool,
    ) -> StoreResult<usize> {
        self.read(move |c| resources::count(c, &key, kind, deleted))
            .await
    }
    async fn get_resource(&self, key: ResourceKey) -> StoreResult<Option<ResourceRecord>> {
        self.read_point(move |c| resources::get(c, &key)).await
    }
    async fn list_resources(
        &self,
        key: DomainKey,
        kind: ResourceKind,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> StoreResult<Vec<ResourceRecord>> {
        let after = after.map(str::to_owned);
        self.read(move |c| resources::list(c, &key, kind, after.as_deref(), limit, include_deleted))
            .await
    }

    async fn get_idempotency(&self, key: TokenKey) -> StoreResult<Option<IdempotencyRecord>> {
        self.read_point(move |c| {
            let d = &key.domain;
            tokens::get(c, &d.account_id, &d.domain_id, key.operation, &key.token)
        })
        .await
    }
    async fn insert_case(
        &self,
        case: &CaseRecord,
        audit: &AuditRecord,
        event: Option<&EventRecord>,
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created> {
        let text = cases::CaseText::of(case, Some(audit))?;
        let (case, audit, event, token) =
            (case.clone(), audit.clone(), event.cloned(), token.cloned());
        self.with(move |c| cases::insert(c, &case, &text, &audit, event.as_ref(), token.as_ref()))
            .await
    }
    async fn get_case(&self, key: CaseKey) -> StoreResult<Option<CaseRecord>> {
        let hint = self
            .hints
            .get(&key.domain.account_id, &key.domain.domain_id, &key.case_id);
        self.read_point(move |c| cases::get_at(c, &key, hint)).await
    }
    async fn get_case_fields(
        &self,
        key: CaseKey,
        ids: &[String],
    ) -> StoreResult<Option<CaseRecord>> {
        let ids = ids.to_vec();
        let hint = self
            .hints
            .get(&key.domain.account_id, &key.domain.domain_id, &key.case_id);
        self.read_point(move |c| cases::get_fields(c, &key, hint, &ids))
            .await
    }
    async fn update_case_with_items(
        &self,
        case: &CaseRecord,
        audit: Option<&AuditRecord>,
        event: Option<&EventRecord>,
        items: &[RelatedItemRecord],
        claim: Option<&TokenClaim>,
    ) -> StoreResult<()> {
        let text = cases::CaseText::of(case, audit)?;
        let (case, audit, event, items, claim) = (
            case.clone(),
            audit.cloned(),
            event.cloned(),
            items.to_vec(),
            claim.cloned(),
        );
        self.with(move |c| {
            let (audit, event, claim) = (audit.as_ref(), event.as_ref(), claim.as_ref());
            cases::update(c, &case, &text, audit, event, &items, claim)
        })
        .await
    }
    async fn delete_case(&self, case: &CaseRecord, event: Option<&EventRecord>) -> StoreResult<()> {
        let (case, event) = (case.clone(), event.cloned());
        self.with(move |c| cases::delete(c, &case, event.as_ref()))
            .await
    }
    async fn get_case_by_reference(
        &self,
        key: DomainKey,
        reference_number: &str,
    ) -> StoreResult<Option<CaseRecord>> {
        let r = reference_number.to_owned();
        self.read_point(move |c| cases::get_by_reference(c, &key, &r))
            .await
    }
    async fn list_audit(
        &self,
        key: CaseKey,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>> {
        let after = after.map(str::to_owned);
        self.read(move |c| cases::list_audit(c, &key, after.as_deref(), limit))
            .await
    }
    async fn search_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        // Read-your-writes: wait until every change committed before this point is indexed.
        let seq = self.read_point(|c| changes::last_seq(c)).await?;
        self.index.wait_for(seq, Some(self.search_wait)).await?;
        let (index, query) = (self.index.clone(), q.clone());
        let (total, mut ids) = tokio::task::spawn_blocking(move || index.search(&query))
            .await
            .map_err(backend)??;
        let more = ids.len() > q.limit;
        ids.truncate(q.limit);
        let (account, domain) = (q.account_id.clone(), q.domain_id.clone());
        let cases = self
            .read(move |c| {
                let mut out = Vec::with_capacity(ids.len());
                for id in &ids {
                    // A case deleted since the index snapshot is simply left out.
                    if let Some(case) = cases::get(c, &account, &domain, id)? {
                        out.push(case);
                    }
                }
                Ok(out)
            })
            .await?;
        Ok(CasePage { cases, total, more })
    }

    async fn claim_token(&self, claim: &TokenClaim, stale_before: Timestamp) -> StoreResult<Claim> {
        let claim = claim.clone();
        let out = self
            .with(move |c| tokens::claim(c, &claim, stale_before))
            .await?;
        if out == Claim::Owned {
            // A takeover: whoever waits for the stale claim must look again.
            self.token_changed();
        }
        Ok(out)
    }
    async fn finish_token(
        &self,
        claim: &TokenClaim,
        response: &serde_json::Value,
    ) -> StoreResult<bool> {
        let (claim, response) = (claim.clone(), response.clone());
        let out = self
            .with(move |c| tokens::finish(c, &claim, &response))
            .await;
        self.token_changed();
        out
    }
    async fn release_token(&self, claim: &TokenClaim) -> StoreResult<()> {
        let claim = claim.clone();
        let out = self.with(move |c| tokens::release(c, &claim)).await;
        self.token_changed();
        out
    }
    async fn wait_token(
        &self,
        claim: &TokenClaim,
        claim_id: &str,
        timeout: std::time::Duration,
    ) -> StoreResult<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        // Subscribed before looking: a claim ended after the look bumps the counter after it is
        // durable, and one ended before it is visible to the look.
        let mut changes = self.token_events.subscribe();
        loop {
            let c = claim.clone();
            let holder = self
                .read_point(move |conn| tokens::holder(conn, &c))
                .await?;
            if holder.as_deref() != Some(claim_id) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                // Timed out, or the store is going away.
                Ok(Err(_)) | Err(_) => return Ok(()),
            }
        }
    }

    async fn start_merge(&self, m: &MergeRecord) -> StoreResult<MergeStart> {
        let m = m.clone();
        self.with(move |c| merges::start(c, &m)).await
    }
    async fn merges_of_case(&self, key: CaseKey) -> StoreResult<Vec<MergeRecord>> {
        self.read_point(move |c| {
            merges::of_case(
                c,
                &key.domain.account_id,
                &key.domain.domain_id,
                &key.case_id,
            )
        })
        .await
    }
    async fn running_merges(&self, limit: usize) -> StoreResult<Vec<MergeRecord>> {
        self.read(move |c| merges::running(c, limit)).await
    }
    async fn finish_merge(&self, f: &MergeFinish) -> StoreResult<()> {
        let f = f.clone();
        self.with(move |c| merges::finish(c, &f)).await
    }

    async fn list_cases(
        &self,
        key: DomainKey,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        let after = after.map(str::to_owned);
        self.read(move |c| bulk::list(c, &key, after.as_deref(), limit))
            .await
    }
    async fn import_cases(&self, cases: Vec<CaseRecord>) -> StoreResult<()> {
        self.with(move |c| bulk::insert(c, &cases)).await
    }

    async fn list_domain_related_items(
        &self,
        key: DomainKey,
        after: Option<(&str, i64)>,
        limit: usize,
    ) -> StoreResult<Vec<RelatedItemRecord>> {
        let after = after.map(|(c, s)| (c.to_owned(), s));
        self.read(move |c| {
            let after = after.as_ref().map(|(c, s)| (c.as_str(), *s));
            related::list_domain(c, &key, after, limit)
        })
        .await
    }

    async fn import_related_items(&self, items: Vec<RelatedItemRecord>) -> StoreResult<()> {
        self.with(move |c| related::import(c, &items)).await
    }

    async fn insert_related_items(
        &self,
        items: &[NewRelatedItem],
        token: Option<&IdempotencyRecord>,
    ) -> StoreResult<Created> {
        let (items, token) = (items.to_vec(), token.cloned());
        self.with(move |c| related::insert_many(c, &items, token.as_ref()))
            .await
    }
    async fn get_related_item(
        &self,
        key: RelatedItemKey,
    ) -> StoreResult<Option<RelatedItemRecord>> {
        self.read(move |c| related::get(c, &key)).await
    }
    async fn list_related_items(&self, key: CaseKey) -> StoreResult<Vec<RelatedItemRecord>> {
        self.read(move |c| {
            related::list_case(
                c,
                &key.domain.account_id,
                &key.domain.domain_id,
                &key.case_id,
            )
        })
        .await
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
        let q = q.clone();
        self.read(move |c| related::search(c, &q)).await
    }
    async fn list_cases_for_contact(
        &self,
        key: DomainKey,
        contact_arn: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CaseSummary>> {
        let (arn, after) = (contact_arn.to_owned(), after.map(str::to_owned));
        self.read(move |c| related::cases_for_contact(c, &key, &arn, after.as_deref(), limit))
            .await
    }

    async fn get_event_config(&self, key: DomainKey) -> StoreResult<Option<serde_json::Value>> {
        self.read(move |c| {
            Ok(outbox::get_config(c, &key.account_id, &key.domain_id)?.map(|(_, body)| body))
        })
        .await
    }
    async fn put_event_config(
        &self,
        key: DomainKey,
        region: &str,
        body: &serde_json::Value,
    ) -> StoreResult<()> {
        let (r, b) = (region.to_owned(), body.clone());
        // A schema write: writes decide their events by the configuration they read.
        self.schema_write(move |c| outbox::put_config(c, &key, &r, &b))
            .await
    }
    async fn events_after(
        &self,
        after: i64,
        scope: Option<(&str, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<EventRecord>> {
        let scope = scope.map(|(a, r)| (a.to_owned(), r.to_owned()));
        self.read(move |c| {
            outbox::events_after(
                c,
                after,
                scope.as_ref().map(|(a, r)| (a.as_str(), r.as_str())),
                limit,
            )
        })
        .await
    }
    async fn last_event_seq(&self) -> StoreResult<i64> {
        self.read(|c| outbox::last_seq(c)).await
    }
    async fn delivery_cursor(&self, target: &str) -> StoreResult<Option<i64>> {
        let t = target.to_owned();
        self.read(move |c| outbox::cursor(c, &t)).await
    }
    async fn set_delivery_cursor(&self, target: &str, seq: i64) -> StoreResult<()> {
        let t = target.to_owned();
        self.with(move |c| outbox::set_cursor(c, &t, seq)).await
    }
    async fn prune_events(&self, up_to_seq: i64, older_than: Timestamp) -> StoreResult<usize> {
        self.with(move |c| outbox::prune(c, up_to_seq, older_than))
            .await
    }
}

/// The backend conformance suite (`crate::conformance`) on a store in memory and on one in a
/// data directory.
#[cfg(test)]
mod conformance {
    use super::SqliteStore;
    use caseload_domain::store::Store;
    use std::sync::Arc;

    mod in_memory {
        use super::*;

        async fn make() -> Arc<dyn Store> {
            Arc::new(SqliteStore::in_memory().unwrap())
        }

        crate::conformance_tests!(make);
    }

    mod on_disk {
        use super::*;
        use std::sync::atomic::{AtomicUsize, Ordering};

        /// A store in a fresh data directory, removed with it.
        struct OnDisk {
            store: Option<Arc<dyn Store>>,
            dir: std::path::PathBuf,
        }

        impl std::ops::Deref for OnDisk {
            type Target = dyn Store;
            fn deref(&self) -> &(dyn Store + 'static) {
                self.store
                    .as_deref()
                    .expect("the store lives as long as its directory")
            }
        }

        impl Drop for OnDisk {
            fn drop(&mut self) {
                self.store.take();
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }

        async fn make() -> OnDisk {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "caseload-conformance-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ));
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir).unwrap());
            OnDisk {
                store: Some(store),
                dir,
            }
        }

        crate::conformance_tests!(make);
    }
}
