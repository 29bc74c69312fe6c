//! The change log as one node's search indexer reads it (`index::ChangeLog` over `changelog`).
//!
//! Positions are `Snapshot`s (sets of finished transactions); each batch of changes comes with
//! every changed case's row read in the same snapshot. After each durable commit of its index the
//! node records its position (`record_position`), and now and then prunes what every live node
//! holds. A node whose position fell below the pruned floor gets `None` from `changes_after`,
//! and its index rebuilds from the tables.
//!
//! Why a runtime of its own: the indexer is a plain thread calling a synchronous trait, and
//! tokio-postgres is async. A `Handle` of the server's runtime would do for a multi-thread
//! runtime only (`Handle::block_on` cannot drive I/O on a current-thread one, as in tests), and
//! the pool's connections run on the runtime that opened them. So the indexer owns a small
//! current-thread runtime and one connection of its own, driven only while it reads: it never
//! takes a pool connection from requests, even through a rebuild that reads a million cases.

use super::changelog::{prune, read_changes_in, record_position, snapshot_transaction};
use super::error::{PgError, PgResult};
use super::rows::{CASE_COLUMNS, RESOURCE_COLUMNS, case_from_row, resource_from_row};
use super::snapshot::Snapshot;
use crate::index::check::DomainKey;
use crate::index::{Change, ChangeLog, FieldTypeMap, field_type_map};
use caseload_domain::store::{CaseRecord, ResourceKind, StoreResult};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

/// A node whose position was not recorded within this long is not waited for by pruning: its
/// index is rebuilt from the tables when it comes back.
pub const LIVE_WITHIN: Duration = Duration::from_secs(600);

/// How often a node marks itself live while its position does not move (an idle database).
const HEARTBEAT: Duration = Duration::from_secs(30);

/// How often a node records its position at most: the index may commit several times a second,
/// and a position recorded late only holds pruning back a little.
const RECORD_EVERY: Duration = Duration::from_secs(1);

/// How often a node prunes the log (any node may; each prune deletes what all live nodes hold).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

pub struct PgLog {
    node: String,
    config: tokio_postgres::Config,
    /// Always `Some` until dropped (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    /// The indexer's connection: made on first use, and again after it failed.
    client: Mutex<Option<Client>>,
    chores: Mutex<Chores>,
}

/// When the node last marked itself live, recorded its position and pruned the log.
struct Chores {
    live_at: Option<Instant>,
    recorded_at: Option<Instant>,
    pruned_at: Option<Instant>,
}

impl PgLog {
    /// The log for `node`'s index, over the database `config` names.
    pub fn new(node: &str, config: tokio_postgres::Config) -> StoreResult<PgLog> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PgError::Backend(format!("a runtime for the search indexer: {e}")))?;
        Ok(PgLog {
            node: node.to_owned(),
            config,
            runtime: Some(runtime),
            client: Mutex::new(None),
            chores: Mutex::new(Chores {
                live_at: None,
                recorded_at: None,
                pruned_at: None,
            }),
        })
    }

    /// Runs `op` on the indexer's connection, connecting first if needed; a connection that
    /// failed is dropped, so the next call connects again.
    fn with<T>(&self, op: impl AsyncFnOnce(&mut Client) -> PgResult<T>) -> StoreResult<T> {
        let heartbeat = self.chore(|c| &mut c.live_at, HEARTBEAT);
        let node = self.node.as_str();
        let runtime = self.runtime.as_ref().expect("present until dropped");
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = runtime.block_on(async {
            if slot.as_ref().is_none_or(Client::is_closed) {
                let (client, connection) = self.config.connect(NoTls).await?;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "the search indexer's database connection failed");
                    }
                });
                // This connection writes only bookkeeping (its position, the heartbeat, pruning),
                // so it need not wait for the WAL flush: a write lost in a crash of PostgreSQL
                // leaves an older position recorded or changes unpruned, which only hold pruning
                // back (a prune is one transaction: its floor and deletion are lost together).
                client
                    .batch_execute("SET synchronous_commit = off")
                    .await?;
                *slot = Some(client);
            }
            let client = slot.as_mut().expect("just connected");
            if heartbeat {
                // Keeps the recorded position (never ahead of this node's durable one) live for
                // pruning while no commit records a new one: an idle database, a long rebuild. A
                // node without a row has nothing to keep.
                client
                    .execute(
                        "UPDATE index_positions SET updated_at = now() WHERE node = $1",
                        &[&node],
                    )
                    .await?;
            }
            op(client).await
        });
        if let Err(e) = &outcome
            && !matches!(e, PgError::Pruned { .. })
        {
            *slot = None;
        }
        outcome.map_err(Into::into)
    }

    /// Whether the chore whose last run `last` picks is due (`every` since then, or never run),
    /// and if so counts it as run now.
    fn chore(
        &self,
        last: impl FnOnce(&mut Chores) -> &mut Option<Instant>,
        every: Duration,
    ) -> bool {
        let mut chores = self.chores.lock().unwrap_or_else(|e| e.into_inner());
        let last = last(&mut chores);
        let due = last.is_none_or(|t| t.elapsed() >= every);
        if due {
            *last = Some(Instant::now());
        }
        due
    }
}

impl Drop for PgLog {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime (a failed `open` drops
        // the log on the caller's task); this does not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl ChangeLog for PgLog {
    type Position = Snapshot;

    fn horizon(&self) -> StoreResult<Snapshot> {
        self.with(async |client| super::changelog::horizon_now(&*client).await)
    }

    /// Records `from` at once: a node joining a busy fleet (or rebuilding) must keep the changes
    /// after it through a rebuild that may take minutes, or the other nodes would prune them and
    /// the rebuilt index would find its position gone, and rebuild again.
    fn rebuild_from(&self, from: &Snapshot) -> StoreResult<()> {
        self.chore(|c| &mut c.live_at, Duration::ZERO);
        self.chore(|c| &mut c.recorded_at, Duration::ZERO);
        let node = self.node.as_str();
        self.with(async |client| record_position(&*client, node, from).await)
    }

    fn changes_after(
        &self,
        after: &Snapshot,
        limit: usize,
    ) -> StoreResult<Option<(Vec<Change>, Snapshot)>> {
        self.with(async |client| changes_after(client, after, limit).await)
    }

    fn all_cases(
        &self,
        after: Option<(String, String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        let (a, d, c) = after.unwrap_or_default();
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE (account_id, domain_id, case_id) > ($1, $2, $3)
             ORDER BY account_id, domain_id, case_id LIMIT $4"
        );
        self.with(async |client| {
            let rows = client.query(&sql, &[&a, &d, &c, &(limit as i64)]).await?;
            rows.iter().map(case_from_row).collect()
        })
    }

    fn prune(&self, upto: &Snapshot) -> StoreResult<()> {
        if !self.chore(|c| &mut c.recorded_at, RECORD_EVERY) {
            return Ok(());
        }
        // Recording the position marks the node live as the heartbeat does.
        self.chore(|c| &mut c.live_at, Duration::ZERO);
        let due = self.chore(|c| &mut c.pruned_at, PRUNE_EVERY);
        let node = self.node.as_str();
        self.with(async |client| {
            record_position(&*client, node, upto).await?;
            if due {
                let pruned = prune(client, LIVE_WITHIN).await?;
                tracing::debug!(
                    floor = pruned.floor,
                    deleted = pruned.deleted,
                    "change log pruned"
                );
            }
            Ok(())
        })
    }

    fn case_counts(&self, at: &Snapshot) -> StoreResult<Option<BTreeMap<DomainKey, u64>>> {
        self.with(async |client| case_counts(client, at).await)
    }

    fn domain_cases(
        &self,
        key: &DomainKey,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        let after = after.unwrap_or_default();
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id > $3
             ORDER BY case_id LIMIT $4"
        );
        self.with(async |client| {
            let rows = client
                .query(&sql, &[&key.0, &key.1, &after, &(limit as i64)])
                .await?;
            rows.iter().map(case_from_row).collect()
        })
    }

    fn field_types(&self, account_id: &str, domain_id: &str) -> StoreResult<FieldTypeMap> {
        let sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE account_id = $1 AND domain_id = $2 AND kind = $3"
        );
        let fields = self.with(async |client| {
            let rows = client
                .query(
                    &sql,
                    &[&account_id, &domain_id, &ResourceKind::Field.as_str()],
                )
                .await?;
            rows.iter()
                .map(resource_from_row)
                .collect::<PgResult<Vec<_>>>()
        })?;
        Ok(field_type_map(fields))
    }
}

/// One batch of changes after `after` with the changed cases' rows, all read in one snapshot;
/// `None` when the log was pruned past `after`.
async fn changes_after(
    client: &mut Client,
    after: &Snapshot,
    limit: usize,
) -> PgResult<Option<(Vec<Change>, Snapshot)>> {
    let (tx, now) = snapshot_transaction(client).await?;
    let batch = match read_changes_in(&tx, &now, after, limit).await {
        Err(PgError::Pruned { needed, floor }) => {
            tracing::debug!(
                needed,
                floor,
                "the change log no longer holds this index's position"
            );
            return Ok(None);
        }
        other => other?,
    };
    // Each case is indexed from its current row, so one entry per case is enough.
    let mut seen = HashSet::new();
    let keys: Vec<(String, String, String)> = batch
        .changes
        .into_iter()
        .map(|c| (c.account_id, c.domain_id, c.case_id))
        .filter(|k| seen.insert(k.clone()))
        .collect();
    let (mut accounts, mut domains, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for (a, d, c) in keys.iter().filter(|k| !k.2.is_empty()) {
        accounts.push(a.as_str());
        domains.push(d.as_str());
        ids.push(c.as_str());
    }
    let mut rows: HashMap<(String, String, String), CaseRecord> = HashMap::new();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases
             WHERE (account_id, domain_id, case_id) IN
                   (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))"
        );
        for row in tx.query(&sql, &[&accounts, &domains, &ids]).await? {
            let case = case_from_row(&row)?;
            let key = (
                case.account_id.clone(),
                case.domain_id.clone(),
                case.case_id.clone(),
            );
            rows.insert(key, case);
        }
    }
    tx.commit().await?;
    let changes = keys
        .into_iter()
        .map(|key| {
            // An empty case id is a deleted domain (as in SQLite's log): its documents go.
            let current = rows.remove(&key);
            let (account_id, domain_id, case_id) = key;
            Change {
                account_id,
                domain_id,
                case_id,
                current,
            }
        })
        .collect();
    Ok(Some((changes, batch.position)))
}

/// The number of cases per domain, if the tables are exactly as of `at`: the snapshot read in
/// sees no change of a transaction `at` does not hold (every case write logs one). `None` when
/// some such change exists, or the log was pruned past `at` (the indexer then catches up or
/// rebuilds, and asks again).
async fn case_counts(
    client: &mut Client,
    at: &Snapshot,
) -> PgResult<Option<BTreeMap<DomainKey, u64>>> {
    let (tx, now) = snapshot_transaction(client).await?;
    match read_changes_in(&tx, &now, at, 1).await {
        Err(PgError::Pruned { .. }) => return Ok(None),
        Err(e) => return Err(e),
        Ok(batch) if !batch.changes.is_empty() => return Ok(None),
        Ok(_) => {}
    }
    let mut counts = BTreeMap::new();
    for row in tx
        .query(
            "SELECT account_id, domain_id, count(*) FROM cases GROUP BY account_id, domain_id",
            &[],
        )
        .await?
    {
        let n: i64 = row.try_get(2)?;
        counts.insert((row.try_get(0)?, row.try_get(1)?), n.max(0) as u64);
    }
    tx.commit().await?;
    Ok(Some(counts))
}
