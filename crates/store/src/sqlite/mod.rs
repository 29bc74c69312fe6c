//! The SQLite backend. Writes are group-committed by one writer thread and reads run on a pool
//! of read-only connections (see `db`). Every `Store` method is one transaction.

mod bulk;
mod cases;
mod changes;
mod db;
mod domains;
mod resources;

use crate::index::SearchIndex;

use caseload_domain::store::{StoreError, StoreResult, Tags};
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::sync::Arc;

/// Migrations in order; the position (1-based) is the schema version.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_initial.sql")];

#[derive(Clone)]
pub struct SqliteStore {
    db: db::Db,
    /// Bumped after every schema write; this process is the database's only writer.
    schema_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Serves SearchCases; derived from the `cases` table through the `changes` log.
    index: Arc<SearchIndex>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/caseload.sqlite3` and the search index in `dir/index`,
    /// and brings both up to date.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(dir, false)
    }

    /// Opens the store in `dir` after throwing the search index away and rebuilding it from the
    /// database (`caseload reindex`).
    pub fn reindex(dir: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(dir, true)
    }

    fn open_with(dir: &Path, rebuild_index: bool) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join("caseload.sqlite3");
        let conn = db::open_file(&path)?;
        Self::init(conn, Some(&path), Some(&dir.join("index")), rebuild_index)
    }

    /// A private database that lives as long as the process.
    pub fn in_memory() -> StoreResult<SqliteStore> {
        Self::init(
            Connection::open_in_memory().map_err(backend)?,
            None,
            None,
            false,
        )
    }

    fn init(
        mut conn: Connection,
        file: Option<&Path>,
        index_dir: Option<&Path>,
        rebuild_index: bool,
    ) -> StoreResult<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        migrate(&mut conn)?;
        let db = db::Db::start(conn, file)?;
        let log = Arc::new(changes::SqliteLog { db: db.clone() });
        let index = SearchIndex::open(index_dir, log, rebuild_index)?;
        Ok(SqliteStore {
            db,
            schema_generation: Default::default(),
            index,
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
impl caseload_domain::store::Store for SqliteStore {
    fn schema_generation(&self) -> Option<u64> {
        Some(
            self.schema_generation
                .load(std::sync::atomic::Ordering::SeqCst),
        )
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

    async fn insert_domain(
        &self,
        d: &caseload_domain::store::DomainRecord,
        max: usize,
    ) -> StoreResult<()> {
        let d = d.clone();
        self.schema_write(move |c| domains::insert(c, &d, max))
            .await
    }
    async fn get_domain(
        &self,
        account_id: &str,
        domain_id: &str,
    ) -> StoreResult<Option<caseload_domain::store::DomainRecord>> {
        let (a, d) = (account_id.to_owned(), domain_id.to_owned());
        self.read(move |c| domains::get(c, &a, &d)).await
    }
    async fn list_domains(
        &self,
        account_id: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<caseload_domain::store::DomainRecord>> {
        let (a, r, after) = (
            account_id.to_owned(),
            region.to_owned(),
            after.map(str::to_owned),
        );
        self.read(move |c| domains::list(c, &a, &r, after.as_deref(), limit))
            .await
    }
    async fn update_domain_tags(
        &self,
        account_id: &str,
        domain_id: &str,
        tags: &Tags,
    ) -> StoreResult<bool> {
        let (a, d, t) = (account_id.to_owned(), domain_id.to_owned(), tags.clone());
        self.with(move |c| domains::update_tags(c, &a, &d, &t))
            .await
    }
    async fn delete_domain(&self, account_id: &str, domain_id: &str) -> StoreResult<bool> {
        let (a, d) = (account_id.to_owned(), domain_id.to_owned());
        self.schema_write(move |c| domains::delete(c, &a, &d)).await
    }

    async fn insert_resource(
        &self,
        r: &caseload_domain::store::ResourceRecord,
        quota: usize,
    ) -> StoreResult<()> {
        let r = r.clone();
        self.schema_write(move |c| resources::insert(c, &r, quota))
            .await
    }
    async fn replace_resource(
        &self,
        r: &caseload_domain::store::ResourceRecord,
    ) -> StoreResult<bool> {
        let r = r.clone();
        self.schema_write(move |c| resources::replace(c, &r)).await
    }
    async fn replace_resource_if(
        &self,
        r: &caseload_domain::store::ResourceRecord,
        prior: &caseload_domain::store::ResourceRecord,
    ) -> StoreResult<bool> {
        let (r, prior) = (r.clone(), prior.clone());
        self.schema_write(move |c| resources::replace_if(c, &r, &prior))
            .await
    }
    async fn count_resources(
        &self,
        account_id: &str,
        domain_id: &str,
        kind: caseload_domain::store::ResourceKind,
        deleted: bool,
    ) -> StoreResult<usize> {
        let (a, d) = (account_id.to_owned(), domain_id.to_owned());
        self.read(move |c| resources::count(c, &a, &d, kind, deleted))
            .await
    }
    async fn get_resource(
        &self,
        account_id: &str,
        domain_id: &str,
        kind: caseload_domain::store::ResourceKind,
        id: &str,
    ) -> StoreResult<Option<caseload_domain::store::ResourceRecord>> {
        let (a, d, i) = (account_id.to_owned(), domain_id.to_owned(), id.to_owned());
        self.read(move |c| resources::get(c, &a, &d, kind, &i))
            .await
    }
    async fn list_resources(
        &self,
        account_id: &str,
        domain_id: &str,
        kind: caseload_domain::store::ResourceKind,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> StoreResult<Vec<caseload_domain::store::ResourceRecord>> {
        let (a, d, after) = (
            account_id.to_owned(),
            domain_id.to_owned(),
            after.map(str::to_owned),
        );
        self.read(move |c| {
            resources::list(c, &a, &d, kind, after.as_deref(), limit, include_deleted)
        })
        .await
    }

    async fn get_idempotency(
        &self,
        account_id: &str,
        domain_id: &str,
        operation: &'static str,
        token: &str,
    ) -> StoreResult<Option<caseload_domain::store::IdempotencyRecord>> {
        let (a, d, t) = (
            account_id.to_owned(),
            domain_id.to_owned(),
            token.to_owned(),
        );
        self.read(move |c| cases::get_idempotency(c, &a, &d, operation, &t))
            .await
    }
    async fn insert_case(
        &self,
        case: &caseload_domain::store::CaseRecord,
        audit: &caseload_domain::store::AuditRecord,
        token: Option<&caseload_domain::store::IdempotencyRecord>,
    ) -> StoreResult<caseload_domain::store::Created> {
        let (case, audit, token) = (case.clone(), audit.clone(), token.cloned());
        self.with(move |c| cases::insert(c, &case, &audit, token.as_ref()))
            .await
    }
    async fn get_case(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
    ) -> StoreResult<Option<caseload_domain::store::CaseRecord>> {
        let (a, d, i) = (
            account_id.to_owned(),
            domain_id.to_owned(),
            case_id.to_owned(),
        );
        self.read(move |c| cases::get(c, &a, &d, &i)).await
    }
    async fn update_case(
        &self,
        case: &caseload_domain::store::CaseRecord,
        audit: Option<&caseload_domain::store::AuditRecord>,
    ) -> StoreResult<()> {
        let (case, audit) = (case.clone(), audit.cloned());
        self.with(move |c| cases::update(c, &case, audit.as_ref()))
            .await
    }
    async fn delete_case(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
    ) -> StoreResult<bool> {
        let (a, d, i) = (
            account_id.to_owned(),
            domain_id.to_owned(),
            case_id.to_owned(),
        );
        self.with(move |c| cases::delete(c, &a, &d, &i)).await
    }
    async fn list_audit(
        &self,
        account_id: &str,
        domain_id: &str,
        case_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<caseload_domain::store::AuditRecord>> {
        let (a, d, i, after) = (
            account_id.to_owned(),
            domain_id.to_owned(),
            case_id.to_owned(),
            after.map(str::to_owned),
        );
        self.read(move |c| cases::list_audit(c, &a, &d, &i, after.as_deref(), limit))
            .await
    }
    async fn search_cases(
        &self,
        q: &caseload_domain::search::CaseQuery,
    ) -> StoreResult<caseload_domain::store::CasePage> {
        // Read-your-writes: wait until every change committed before this point is indexed.
        let seq = self.read(|c| changes::last_seq(c)).await?;
        self.index.wait_for(seq).await?;
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
        Ok(caseload_domain::store::CasePage { cases, total, more })
    }

    async fn list_cases(
        &self,
        account_id: &str,
        domain_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<caseload_domain::store::CaseRecord>> {
        let (a, d, after) = (
            account_id.to_owned(),
            domain_id.to_owned(),
            after.map(str::to_owned),
        );
        self.read(move |c| bulk::list(c, &a, &d, after.as_deref(), limit))
            .await
    }
    async fn import_cases(
        &self,
        cases: Vec<caseload_domain::store::CaseRecord>,
    ) -> StoreResult<()> {
        self.with(move |c| bulk::insert(c, &cases)).await
    }
}
