//! The search index: derived state that serves SearchCases, rebuilt from the system of record
//! (SQLite, or PostgreSQL in the scale-out mode) whenever needed.
//!
//! One Tantivy document per case:
//! - `terms` (raw tokens): the domain scope, the case key, and per field value its equality,
//!   presence, range, word and n-gram terms; tag terms (see `encode`);
//! - `case_id` (fast): the tie-breaker of every order and the id results are loaded by;
//! - `sort` (JSON, fast): field id → sort key, for ordering and for verifying `contains`.
//!
//! A single indexer thread applies a change log (`ChangeLog`) in batches and commits with its
//! position after the last applied change as the commit payload; at start-up it resumes from that
//! position (or rebuilds everything when there is no index, or when the log was pruned past it).
//! A position is the log's own type (`Position`): SQLite's is the last sequence number applied,
//! PostgreSQL's the set of transactions whose changes were applied (sequence numbers are not in
//! commit order there). A search first reads the log's horizon (what is committed now), wakes the
//! indexer, and waits until the index's position covers it: every write that completed before the
//! search is visible (read-your-writes), and a search waits only when such a write is not indexed
//! yet. Without a waiting search, applied changes are committed within a second
//! (`MAX_COMMIT_DELAY`).
//!
//! Durability: the indexer's position moves in two steps. `applied` is what was handed to
//! Tantivy's writer, `committed` what a durable commit holds (the payload). Only `committed`
//! is published to searches and written as the payload, and the log is pruned only up to it, so
//! the index never claims a change it does not hold and a change leaves the log only once a
//! durable commit contains it. Any failure between reading the log and a durable commit (a full
//! disk, typically) rolls the writer back to the last commit and the changes are read again
//! from the log on the next attempt.

mod bits;
mod cache;
pub mod check;
mod collect;
mod docbits;
pub mod encode;
mod eval;
#[cfg(feature = "failpoints")]
mod faulty;
mod order;
mod position;
mod query;
mod texts;

pub use order::Tuning;
pub use position::Position;

use bits::DenseTerms;
use caseload_domain::search::DEFAULT_SORT_FIELD;
use caseload_domain::store::CaseQuery;
use caseload_domain::store::{CaseRecord, ResourceRecord, StoreError, StoreResult};
use caseload_model::shapes::FieldType;
use check::DomainKey;
use collect::{Hit, SegmentSort, SortCollector};
use encode::SEP;
use order::Orders;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};
use tantivy::schema::{FAST, JsonObjectOptions, NumericOptions, OwnedValue, STRING, Schema};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, SegmentReader, TantivyDocument, Term,
};
use texts::Texts;
use tokio::sync::watch;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("search index: {e}"))
}

/// The fields of the index schema.
pub struct Fields {
    pub schema: Schema,
    pub terms: tantivy::schema::Field,
    pub case_id: tantivy::schema::Field,
    pub sort: tantivy::schema::Field,
    /// The case's version: with `case_id`, what `check` compares with the database.
    pub version: tantivy::schema::Field,
}

impl Fields {
    fn new() -> Fields {
        let mut b = Schema::builder();
        let terms = b.add_text_field("terms", STRING);
        let case_id = b.add_text_field("case_id", FAST);
        let sort = b.add_json_field("sort", JsonObjectOptions::default().set_fast("raw"));
        let version = b.add_i64_field("version", NumericOptions::default().set_fast());
        let schema = b.build();
        Fields {
            schema,
            terms,
            case_id,
            sort,
            version,
        }
    }
}

pub fn scope_term(account: &str, domain: &str) -> String {
    format!("s{SEP}{account}{SEP}{domain}")
}

fn key_term(account: &str, domain: &str, case_id: &str) -> String {
    format!("k{SEP}{account}{SEP}{domain}{SEP}{case_id}")
}

/// One change of the log, as the indexer applies it: the case's current row, or `None` when it
/// is gone. An empty `case_id` means the whole domain was deleted.
pub struct Change {
    pub account_id: String,
    pub domain_id: String,
    pub case_id: String,
    pub current: Option<CaseRecord>,
}

/// What the indexer needs from the system of record.
pub trait ChangeLog: Send + Sync + 'static {
    /// Where a reader of this log stands (see `Position`).
    type Position: Position;
    /// The position after every change committed so far.
    fn horizon(&self) -> StoreResult<Self::Position>;
    /// Changes after `after`, about `limit` of them, with each case's current row; and the
    /// position after them. `None` when the log no longer holds every change after `after` (it
    /// was pruned while this index was away): the index is then rebuilt from the tables.
    fn changes_after(
        &self,
        after: &Self::Position,
        limit: usize,
    ) -> StoreResult<Option<(Vec<Change>, Self::Position)>>;
    /// Every case, in batches after the given position, for a full rebuild.
    fn all_cases(
        &self,
        after: Option<(String, String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>>;
    /// Forget changes up to `upto`: a durable commit of the index holds them.
    fn prune(&self, upto: &Self::Position) -> StoreResult<()>;
    /// A rebuild from the tables starts at `from`: the changes after it are needed until the
    /// rebuild's commit (a log shared by several indexes must not prune them meanwhile).
    fn rebuild_from(&self, from: &Self::Position) -> StoreResult<()> {
        let _ = from;
        Ok(())
    }
    /// The number of cases of every domain that has any, read in one snapshot, if the tables
    /// are still exactly at `at` (no change after it is committed); `None` when they moved on.
    fn case_counts(&self, at: &Self::Position) -> StoreResult<Option<BTreeMap<DomainKey, u64>>>;
    /// A domain's cases ordered by id, after `after`, at most `limit` (to rebuild its part of
    /// the index).
    fn domain_cases(
        &self,
        key: &DomainKey,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>>;
    /// The type of every field of a domain, deleted ones included, so that values are indexed
    /// only for the queries their type allows. A field left out is indexed for every query.
    fn field_types(&self, account_id: &str, domain_id: &str) -> StoreResult<FieldTypeMap> {
        let _ = (account_id, domain_id);
        Ok(FieldTypeMap::new())
    }
}

pub type FieldTypeMap = HashMap<String, FieldType>;

/// The types of a domain's fields (`ResourceKind::Field` records, deleted ones too), for
/// `ChangeLog::field_types`. A field whose type cannot be read is left out, with a warning: its
/// values are then indexed for every query.
pub fn field_type_map(fields: Vec<ResourceRecord>) -> FieldTypeMap {
    let mut types = FieldTypeMap::new();
    for field in fields {
        match caseload_domain::schema::fields::field_type(&field) {
            Ok(t) => {
                types.insert(field.id, t);
            }
            Err(e) => {
                tracing::warn!(account = %field.account_id, domain = %field.domain_id, field = %field.id, error = %e, "a stored field's type cannot be read")
            }
        }
    }
    types
}

/// The index over a log whose positions are `P` (SQLite's sequence numbers by default).
pub struct SearchIndex<P: Position = i64> {
    fields: Arc<Fields>,
    reader: IndexReader,
    orders: Arc<Orders>,
    texts: Arc<Texts>,
    dense: Arc<DenseTerms>,
    /// Shared with the indexer, which reads the few-valued thresholds.
    tuning: Arc<Mutex<Tuning>>,
    indexed: watch::Receiver<P>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    /// Set while a bulk load is running (see `Mode::Bulk`); cleared by `finish_bulk`.
    bulk: Arc<AtomicBool>,
    /// Shared with the indexer: why its last attempt failed, `None` once one succeeds.
    failing: Arc<Mutex<Option<String>>>,
    /// Domains to rebuild from the database, for the indexer to take (see `repair`).
    repairs: Arc<Mutex<Vec<Repair>>>,
    thread: Mutex<Option<std::thread::JoinHandle<StoreResult<()>>>>,
}

/// A request to rebuild some domains' documents, and where to answer.
struct Repair {
    domains: Vec<DomainKey>,
    done: mpsc::Sender<StoreResult<()>>,
}

/// What the indexer is doing, for readiness probes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexStatus<P = i64> {
    /// The position searches see.
    pub indexed: P,
    /// Why the indexer's last attempt failed (it retries), if it did.
    pub failing: Option<String>,
}

/// How the indexer applies the change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A server: commit every batch, so searches see writes within one batch.
    Serve,
    /// A direct import into a stopped server's data directory: index the log as it grows
    /// with more threads and memory, but commit once, when `finish_bulk` is called, and wait
    /// for Tantivy's merges then. One commit makes a few large segments instead of one small
    /// segment per batch that the merge policy would merge again and again (the super-linear
    /// part of a large import), and the server started afterwards inherits no merge work.
    Bulk,
    /// `caseload check`: as `Serve`, but without the start-up comparison and repair (see
    /// `Indexer::check_counts`), so that the check sees and reports what differs.
    Check,
}

struct Indexer<P: Position> {
    index: Index,
    /// `None` after a rollback failed: made anew from `index` on next use.
    writer: Option<IndexWriter>,
    /// The writer's indexing threads and memory (per `Mode`).
    threads: usize,
    heap: usize,
    /// Asks the order warmer (`spawn_order_warmer`) to look at the segments after a commit.
    warm: mpsc::SyncSender<()>,
    reader: IndexReader,
    fields: Arc<Fields>,
    log: Arc<dyn ChangeLog<Position = P>>,
    indexed: watch::Sender<P>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    bulk: Arc<AtomicBool>,
    mode: Mode,
    /// The position after the last change added to the writer; ahead of `committed` until the
    /// next commit.
    applied: P,
    /// The position after the last change a durable commit holds. Never ahead of what the index
    /// holds: a failed commit leaves it where it was (see `discard_uncommitted`). It may be ahead
    /// of the commit's payload only by positions that changed no document (see `apply_log`).
    committed: P,
    failing: Arc<Mutex<Option<String>>>,
    repairs: Arc<Mutex<Vec<Repair>>>,
    /// Whether to compare per-domain counts with the database once caught up (see
    /// `check_counts`): set when the index was resumed rather than rebuilt.
    check_at_start: bool,
    types: TypeCache,
    few: FewValues,
    tuning: Arc<Mutex<Tuning>>,
    scratch: encode::Scratch,
    /// Changes added to the writer since the last commit, and since when.
    pending: usize,
    pending_since: Option<Instant>,
    /// Whether the reader shows the last durable commit: a position reached without a document
    /// changed (PostgreSQL's, moved by other transactions) is then published without a reload.
    reader_current: bool,
}

/// Which Text fields have few distinct values, per domain, as this indexer has seen them: a
/// field is few-valued once it has shown `Tuning::few_values_min_seen` values and until it shows
/// more than `Tuning::few_values_max` distinct ones, and values indexed meanwhile are marked
/// (`encode::TermUse::FewValued`). The choice is made per document, and `contains` and
/// `searchTerm` read both kinds, so it may differ between processes (the counts start afresh) and
/// over time without changing any answer.
#[derive(Default)]
struct FewValues {
    /// By a hash of (account, domain), then field id: what was seen, or `None` once there were
    /// too many distinct values. A hash collision can only change a choice, not an answer.
    domains: HashMap<u64, HashMap<String, Option<Seen>>>,
}

/// A field's values seen so far, and the hashes of the distinct ones.
#[derive(Default)]
struct Seen {
    values: u64,
    distinct: HashSet<u64>,
}

impl FewValues {
    fn hash(parts: &[&str]) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        parts.hash(&mut h);
        h.finish()
    }

    /// Records `value` of `field` in a domain and says whether it is to be indexed as few-valued.
    fn few(
        &mut self,
        (account, domain): (&str, &str),
        field: &str,
        value: &str,
        tuning: &Tuning,
    ) -> bool {
        if tuning.few_values_max == 0 {
            return false;
        }
        let fields = self
            .domains
            .entry(Self::hash(&[account, domain]))
            .or_default();
        if !fields.contains_key(field) {
            fields.insert(field.to_owned(), Some(Seen::default()));
        }
        let Some(Some(seen)) = fields.get_mut(field) else {
            return false;
        };
        seen.values += 1;
        seen.distinct.insert(Self::hash(&[value]));
        if seen.distinct.len() > tuning.few_values_max {
            fields.insert(field.to_owned(), None);
            return false;
        }
        seen.values >= tuning.few_values_min_seen
    }
}

/// Field types per domain. A field's type never changes and field ids are never reused, so an
/// entry can only lack fields created since it was read, never be wrong; a case holding an
/// unknown field re-reads its domain's types (at most once per domain and batch).
#[derive(Default)]
struct TypeCache {
    domains: HashMap<(String, String), FieldTypeMap>,
    read_in_batch: HashSet<(String, String)>,
}

impl TypeCache {
    fn for_case<L: ChangeLog + ?Sized>(
        &mut self,
        log: &L,
        c: &CaseRecord,
    ) -> StoreResult<&FieldTypeMap> {
        let key = (c.account_id.clone(), c.domain_id.clone());
        let stale = match self.domains.get(&key) {
            None => true,
            Some(types) => c.fields.keys().any(|f| !types.contains_key(f)),
        };
        if stale && self.read_in_batch.insert(key.clone()) {
            let types = log.field_types(&c.account_id, &c.domain_id)?;
            self.domains.insert(key.clone(), types);
        }
        Ok(self.domains.entry(key).or_default())
    }
}

/// The document format, recorded with every commit before the sequence number. Change it whenever
/// `document` or `encode` change what is indexed: the next start-up then rebuilds the index.
const FORMAT: &str = "caseload-index-9:";

/// How many changes one commit applies at most (bounds memory during a long catch-up).
const BATCH: usize = 20_000;

/// How long applied changes wait for a commit when no search asks for them. A search wakes the
/// indexer and waits for the writes before it (read-your-writes), so commits serve searches;
/// committing every poll instead made a small segment, with its own term dictionary, several
/// times a second under a write load, and merging them was a quarter of the server's CPU.
const MAX_COMMIT_DELAY: Duration = Duration::from_secs(1);

/// A bulk load's Tantivy writer: two indexing threads (the machine's cores, shared with the
/// thread building documents) and a large heap, so segments are flushed rarely.
const BULK_THREADS: usize = 2;
const BULK_HEAP: usize = 1_000_000_000;

/// How long the indexer waits before trying again after a failure (a full disk, say).
const RETRY_DELAY: Duration = Duration::from_millis(500);

impl<P: Position> SearchIndex<P> {
    /// Opens the index in `dir` (or in memory when `None`), catches it up with `log`, and starts
    /// the indexer thread.
    pub fn open(
        dir: Option<&Path>,
        log: Arc<dyn ChangeLog<Position = P>>,
        rebuild: bool,
        mode: Mode,
    ) -> StoreResult<Arc<SearchIndex<P>>> {
        let fields = Fields::new();
        let index = match dir {
            None => Index::create_in_ram(fields.schema.clone()),
            Some(dir) => {
                if rebuild && dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(backend)?;
                }
                std::fs::create_dir_all(dir).map_err(backend)?;
                let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(backend)?;
                #[cfg(feature = "failpoints")]
                let mmap = faulty::FaultyDirectory(Box::new(mmap));
                Index::open_or_create(mmap, fields.schema.clone()).map_err(backend)?
            }
        };
        let payload = index.load_metas().map_err(backend)?.payload;
        let (threads, heap) = match mode {
            Mode::Serve | Mode::Check => (1, 64_000_000),
            Mode::Bulk => (BULK_THREADS, BULK_HEAP),
        };
        let writer: IndexWriter = index
            .writer_with_num_threads(threads, heap)
            .map_err(backend)?;
        let failing = Arc::<Mutex<Option<String>>>::default();
        let repairs = Arc::<Mutex<Vec<Repair>>>::default();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(backend)?;
        let (tx, rx) = watch::channel(P::origin());
        let wake = Arc::new((Mutex::new(false), Condvar::new()));
        let fields = Arc::new(fields);
        let orders = Arc::<Orders>::default();
        let bulk = Arc::new(AtomicBool::new(mode == Mode::Bulk));
        let tuning = Arc::<Mutex<Tuning>>::default();
        let warm = spawn_order_warmer(reader.clone(), orders.clone())?;
        let mut indexer = Indexer {
            index,
            writer: Some(writer),
            threads,
            heap,
            warm,
            reader: reader.clone(),
            fields: fields.clone(),
            log,
            indexed: tx,
            wake: wake.clone(),
            bulk: bulk.clone(),
            mode,
            applied: P::origin(),
            committed: P::origin(),
            failing: failing.clone(),
            repairs: repairs.clone(),
            check_at_start: false,
            types: TypeCache::default(),
            few: FewValues::default(),
            tuning: tuning.clone(),
            scratch: encode::Scratch::default(),
            pending: 0,
            pending_since: None,
            reader_current: true,
        };
        // Resume from the last committed change, or rebuild from the cases table. Both happen on
        // the indexer thread: the server starts serving at once, and searches wait for the index
        // to reach the writes that preceded them.
        // An index written by another document format is rebuilt, like a missing one.
        let resume_from = payload
            .and_then(|p| p.strip_prefix(FORMAT).map(str::to_owned))
            .and_then(|position| P::decode(&position));
        if let Some(position) = &resume_from {
            indexer.indexed.send_replace(position.clone());
            indexer.applied = position.clone();
            indexer.committed = position.clone();
            // A rebuilt index matches the database by construction; a resumed one is checked.
            indexer.check_at_start = mode == Mode::Serve && dir.is_some();
        }
        let thread = std::thread::Builder::new()
            .name("caseload-indexer".into())
            .spawn(move || {
                if resume_from.is_none() {
                    while let Err(e) = indexer.rebuild() {
                        indexer.failed("rebuilding the search index", &e);
                        if indexer.indexed.is_closed() {
                            return Err(e);
                        }
                        std::thread::sleep(RETRY_DELAY);
                    }
                } else {
                    indexer.warm_default_order();
                }
                indexer.run()
            })
            .map_err(backend)?;
        Ok(Arc::new(SearchIndex {
            fields,
            reader,
            orders,
            texts: Arc::default(),
            dense: Arc::default(),
            tuning,
            indexed: rx,
            wake,
            bulk,
            failing,
            repairs,
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Ends a bulk load (`Mode::Bulk`): indexes what is left of the log, commits, waits for
    /// Tantivy's merges and stops the indexer. Blocks until then. Searches keep working (they
    /// see everything up to the commit); later writes are indexed by the next process.
    pub fn finish_bulk(&self) -> StoreResult<()> {
        if !self.bulk.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        self.nudge();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        match thread {
            Some(t) => t.join().map_err(|_| backend("the indexer panicked"))?,
            None => Ok(()),
        }
    }

    /// Stops the indexer and waits until it has ended, so that another `open` may use the
    /// directory; fails if the index is still shared (a search holds it). Blocks.
    pub fn close(self: Arc<Self>) -> StoreResult<()> {
        let index = Arc::try_unwrap(self).map_err(|_| backend("the index is still in use"))?;
        let thread = index
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let wake = index.wake.clone();
        // The indexer ends once no `SearchIndex` watches its position.
        drop(index);
        let (flag, cv) = &*wake;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_one();
        match thread {
            Some(t) => t.join().map_err(|_| backend("the indexer panicked"))?,
            None => Ok(()),
        }
    }

    fn nudge(&self) {
        let (flag, cv) = &*self.wake;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_one();
    }

    /// Waits until every change up to `seq` (a horizon of the log) is searchable; past `bound`
    /// (if any) it gives up with `StoreError::Unavailable`, so that a search never hangs on an
    /// indexer that cannot commit (a full disk): the client retries, and succeeds once the
    /// indexer has recovered.
    pub async fn wait_for(&self, seq: P, bound: Option<Duration>) -> StoreResult<()> {
        if self.indexed.borrow().covers(&seq) {
            return Ok(());
        }
        self.nudge();
        let mut rx = self.indexed.clone();
        let reached = rx.wait_for(|s| s.covers(&seq));
        let outcome = match bound {
            None => reached.await.map(|_| ()),
            Some(bound) => match tokio::time::timeout(bound, reached).await {
                Ok(r) => r.map(|_| ()),
                Err(_) => {
                    let status = self.status();
                    let detail = format!(
                        "the search index has not reached change {seq} within {bound:?} (it is at {}{})",
                        status.indexed,
                        status
                            .failing
                            .map(|e| format!("; last failure: {e}"))
                            .unwrap_or_default()
                    );
                    tracing::warn!(%detail, "search refused");
                    return Err(StoreError::Unavailable {
                        detail,
                        retry_after_seconds: bound.as_secs().clamp(1, 60) as u32,
                    });
                }
            },
        };
        outcome.map_err(|_| backend("the indexer stopped"))
    }

    /// The position searches see and whether the indexer is failing.
    pub fn status(&self) -> IndexStatus<P> {
        IndexStatus {
            indexed: self.indexed.borrow().clone(),
            failing: self
                .failing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    /// Rebuilds the documents of `domains` from the database on the indexer's thread, and
    /// returns once a durable commit holds them (blocking).
    pub fn repair(&self, domains: Vec<DomainKey>) -> StoreResult<()> {
        let (done, answer) = mpsc::channel();
        self.repairs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Repair { domains, done });
        self.nudge();
        answer
            .recv()
            .map_err(|_| backend("the indexer stopped before the repair"))?
    }

    /// Live documents per domain, as the last published commit holds them.
    pub fn domain_counts(&self) -> StoreResult<BTreeMap<DomainKey, u64>> {
        check::domain_counts(&self.reader.searcher(), &self.fields).map_err(backend)
    }

    /// A domain's (case id, version) pairs in the index, by id.
    pub fn domain_versions(&self, key: &DomainKey) -> StoreResult<Vec<(String, i64)>> {
        check::domain_versions(&self.reader.searcher(), &self.fields, key).map_err(backend)
    }

    /// Changes the thresholds that choose between equivalent ways of indexing and searching
    /// (tests use it to exercise every way on small corpora).
    pub fn set_tuning(&self, tuning: Tuning) {
        *self.tuning.lock().unwrap_or_else(|e| e.into_inner()) = tuning;
    }

    /// Runs `q` and returns the total number of matches and the ids of the page (at most
    /// `q.limit + 1`, to tell whether more follow).
    pub fn search(&self, q: &CaseQuery) -> StoreResult<(u64, Vec<String>)> {
        let tuning = *self.tuning.lock().unwrap_or_else(|e| e.into_inner());
        let scope = scope_term(&q.account_id, &q.domain_id);
        let compiler = query::Compiler {
            fields: &self.fields,
            orders: &self.orders,
            texts: &self.texts,
            dense: &self.dense,
            tuning,
        };
        let query = query::compile(&compiler, q, &scope);
        let plan = SortCollector {
            sorts: q
                .sorts
                .iter()
                .map(|s| (format!("sort.{}", s.field_id), s.descending))
                .collect(),
            after: q.after.as_ref().map(|c| Hit {
                keys: c
                    .sort_values
                    .iter()
                    .map(|v| v.as_ref().and_then(encode::sort_key))
                    .collect(),
                case_id: c.case_id.clone(),
            }),
            k: q.limit + 1,
        };
        let searcher = self.reader.searcher();
        let segments = searcher.segment_readers();
        let live: Vec<_> = segments.iter().map(|s| s.segment_id()).collect();
        self.orders.keep_only(&live);
        self.texts.keep_only(&live);
        self.dense.keep_only(&live);
        let mut total = 0;
        let mut streams = Vec::with_capacity(segments.len());
        for segment in segments {
            let (count, sort, docs) = self
                .search_segment(&query, segment, &plan, tuning)
                .map_err(backend)?;
            total += count;
            if !docs.is_empty() {
                streams.push((sort, docs.into_iter()));
            }
        }
        let hits = merge_segments(streams, &plan);
        Ok((total, hits))
    }

    /// One segment's total and first `k` hits. The matches are gathered first (as document
    /// ids, which is all an exact total needs); few are then looked up one by one, many are
    /// picked by walking the segment in the query's order (see `order`).
    fn search_segment(
        &self,
        query: &eval::Compiled,
        segment: &SegmentReader,
        plan: &SortCollector,
        tuning: Tuning,
    ) -> tantivy::Result<(u64, SegmentSort, Vec<DocId>)> {
        // The matches as bits: the exact total needs no more, and the walk tests membership.
        let matches = query.matches(segment)?;
        let total = matches.len() as u64;
        let mut sort: SegmentSort = plan.segment(segment)?;
        if plan.k > 0 && matches.len() >= tuning.walk_min_matches && tuning.ordered(segment) {
            let order = self.orders.get(segment, &plan.sorts)?;
            let first: Vec<DocId> = order[sort.cursor_start(&order)..]
                .iter()
                .copied()
                .filter(|d| matches.contains(*d))
                .take(plan.k)
                .collect();
            return Ok((total, sort, first));
        }
        for doc in matches.iter() {
            sort.collect(doc);
        }
        let first = sort.first_docs();
        Ok((total, sort, first))
    }
}

/// The first `k` case ids of all segments: a merge of the segments' ordered documents that
/// turns a document's sort keys and case id into text only when it reaches the head of its
/// segment (resolving an ordinal decodes part of a dictionary block, so resolving every
/// segment's `k` would cost `k` × segments lookups instead of about `k` + segments).
fn merge_segments(
    mut streams: Vec<(SegmentSort, std::vec::IntoIter<DocId>)>,
    plan: &SortCollector,
) -> Vec<String> {
    let descending: Vec<bool> = plan.sorts.iter().map(|(_, d)| *d).collect();
    let mut heads: Vec<Option<Hit>> = streams
        .iter_mut()
        .map(|(sort, docs)| docs.next().map(|d| sort.hit(d)))
        .collect();
    let mut out = Vec::with_capacity(plan.k);
    while out.len() < plan.k {
        let Some(i) = (0..heads.len())
            .filter(|i| heads[*i].is_some())
            .min_by(|a, b| match (&heads[*a], &heads[*b]) {
                (Some(x), Some(y)) => collect::compare(x, y, &descending),
                _ => std::cmp::Ordering::Equal,
            })
        else {
            break;
        };
        let (sort, docs) = &mut streams[i];
        let next = docs.next().map(|d| sort.hit(d));
        if let Some(hit) = std::mem::replace(&mut heads[i], next) {
            out.push(hit.case_id);
        }
    }
    out
}

/// The document of a case; `types` says which terms each field's values need, `few` which Text
/// values are few-valued.
fn document(
    fields: &Fields,
    c: &CaseRecord,
    types: &FieldTypeMap,
    few: &mut FewValues,
    tuning: &Tuning,
    scratch: &mut encode::Scratch,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_text(fields.terms, scope_term(&c.account_id, &c.domain_id));
    doc.add_text(
        fields.terms,
        key_term(&c.account_id, &c.domain_id, &c.case_id),
    );
    doc.add_text(fields.case_id, &c.case_id);
    doc.add_i64(fields.version, c.version);
    let mut sort = BTreeMap::new();
    // The document copies each term into its own buffer, so terms can be borrowed.
    let mut emit = |t: &str| doc.add_text(fields.terms, t);
    for (fid, value) in &c.fields {
        let mut used = encode::TermUse::of(types.get(fid).copied());
        if let (encode::TermUse::WordsAndGrams, caseload_domain::value::Value::String(v)) =
            (used, value)
            && few.few((&c.account_id, &c.domain_id), fid, v, tuning)
        {
            used = encode::TermUse::FewValued;
        }
        encode::value_terms(fid, used, value, scratch, &mut emit);
        if let Some(k) = encode::sort_key(value) {
            sort.insert(fid.clone(), OwnedValue::Str(k));
        }
    }
    for (key, value) in &c.tags {
        emit(&encode::tag_key_term(key));
        if let Some(v) = value {
            emit(&encode::tag_value_term(key, v));
        }
    }
    doc.add_object(fields.sort, sort);
    doc
}

/// Starts the thread that computes the default order (newest first) of large segments after
/// commits (merges make new ones), so that no search pays for it; other orders are computed on
/// use. Not on the indexer's thread: sorting a merged segment of a million documents takes ~0.1
/// s, which would delay the next commit and every write waiting to become visible. It stops
/// when the indexer (the sender) is gone.
fn spawn_order_warmer(
    reader: IndexReader,
    orders: Arc<Orders>,
) -> StoreResult<mpsc::SyncSender<()>> {
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("caseload-order".into())
        .spawn(move || {
            let default = [(format!("sort.{DEFAULT_SORT_FIELD}"), true)];
            while rx.recv().is_ok() {
                for segment in reader.searcher().segment_readers() {
                    if Tuning::default().ordered(segment)
                        && let Err(e) = orders.get(segment, &default)
                    {
                        tracing::warn!(error = %e, "computing a segment's default order failed");
                    }
                }
            }
        })
        .map_err(backend)?;
    Ok(tx)
}

impl<P: Position> Indexer<P> {
    fn tuning(&self) -> Tuning {
        *self.tuning.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn document(&mut self, case: &CaseRecord, tuning: &Tuning) -> StoreResult<TantivyDocument> {
        let types = self.types.for_case(self.log.as_ref(), case)?;
        Ok(document(
            &self.fields,
            case,
            types,
            &mut self.few,
            tuning,
            &mut self.scratch,
        ))
    }

    fn writer(&mut self) -> StoreResult<&mut IndexWriter> {
        if self.writer.is_none() {
            let writer = self
                .index
                .writer_with_num_threads(self.threads, self.heap)
                .map_err(backend)?;
            self.writer = Some(writer);
        }
        Ok(self.writer.as_mut().expect("just made"))
    }

    /// Records a failed attempt (for readiness probes and refused searches) and logs it.
    fn failed(&self, what: &str, e: &StoreError) {
        tracing::error!(error = %e, "{what} failed; retrying");
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
    }

    fn succeeded(&self) {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if failing.take().is_some() {
            tracing::warn!("the search indexer has recovered");
        }
    }

    fn run(mut self) -> StoreResult<()> {
        // Whether to make what is applied visible: at start-up, when a search waits for it, and
        // when it has waited long enough (see `MAX_COMMIT_DELAY`).
        let mut visible = true;
        loop {
            // Read before catching up: everything written before `finish_bulk` is then in.
            let bulk = self.bulk.load(Ordering::SeqCst);
            let mut outcome = self.catch_up(bulk, visible);
            if outcome.is_ok() && self.check_at_start {
                outcome = self.check_counts();
                self.check_at_start = outcome.is_err();
            }
            if outcome.is_ok() {
                outcome = self.serve_repairs();
            }
            if let Err(e) = outcome {
                self.failed("search indexing", &e);
                if self.indexed.is_closed() {
                    return Err(e);
                }
                std::thread::sleep(RETRY_DELAY);
                continue;
            }
            self.succeeded();
            if self.indexed.is_closed() {
                return Ok(());
            }
            if self.mode == Mode::Bulk && !bulk {
                return self.end_bulk();
            }
            {
                let (flag, cv) = &*self.wake;
                let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
                // Without a waiting search, poll a few times a second: writes do not wake us, so
                // that a burst of writes becomes one commit.
                let (mut guard, _) = cv
                    .wait_timeout_while(guard, Duration::from_millis(200), |woken| !*woken)
                    .unwrap_or_else(|e| e.into_inner());
                visible = *guard
                    || self
                        .pending_since
                        .is_some_and(|t| t.elapsed() >= MAX_COMMIT_DELAY);
                *guard = false;
            }
        }
    }

    /// Applies every change committed so far, and commits unless `bulk`: at once when `visible`,
    /// else only every `BATCH` changes (the writer's memory and the log stay bounded). On a
    /// failure everything since the last durable commit is discarded, to be read again.
    fn catch_up(&mut self, bulk: bool, visible: bool) -> StoreResult<()> {
        let outcome = self.apply_log(bulk, visible);
        if outcome.is_err() {
            self.discard_uncommitted();
        }
        outcome
    }

    fn apply_log(&mut self, bulk: bool, visible: bool) -> StoreResult<()> {
        // Up to the end of the log as it is now, not as it grows meanwhile: under a write load
        // faster than indexing, chasing the end would put off the commit a waiting search needs
        // until `BATCH` changes had piled up. Later changes are the next round's.
        let end = self.log.horizon()?;
        loop {
            if self.applied.covers(&end) {
                break;
            }
            let Some((changes, last)) = self.log.changes_after(&self.applied, BATCH)? else {
                tracing::warn!(
                    position = %self.applied,
                    "the change log was pruned past the search index's position; rebuilding it from the tables"
                );
                self.discard_uncommitted();
                return self.rebuild_all();
            };
            if changes.is_empty() {
                // Positions with no change left (SQLite), or transactions that changed no case
                // (PostgreSQL): they change no document.
                if last.covers(&self.applied) {
                    self.applied = last;
                }
                if self.pending == 0 {
                    self.committed = self.applied.clone();
                }
                break;
            }
            self.types.read_in_batch.clear();
            let tuning = self.tuning();
            for c in &changes {
                if c.case_id.is_empty() {
                    let scope = Term::from_field_text(
                        self.fields.terms,
                        &scope_term(&c.account_id, &c.domain_id),
                    );
                    self.writer()?.delete_term(scope);
                    continue;
                }
                let key = Term::from_field_text(
                    self.fields.terms,
                    &key_term(&c.account_id, &c.domain_id, &c.case_id),
                );
                self.writer()?.delete_term(key);
                if let Some(case) = &c.current {
                    let doc = self.document(case, &tuning)?;
                    self.writer()?.add_document(doc).map_err(backend)?;
                }
            }
            self.applied = last;
            self.pending += changes.len();
            self.pending_since.get_or_insert_with(Instant::now);
            if !bulk && self.pending >= BATCH {
                self.commit()?;
            }
        }
        if !bulk && visible {
            if self.pending > 0 {
                self.commit()?;
            } else if self.committed != *self.indexed.borrow() {
                // Committed but not published yet (a reload failed, or entries that change no
                // document).
                if self.reader_current {
                    self.indexed.send_replace(self.committed.clone());
                } else {
                    self.publish()?;
                }
            }
        }
        Ok(())
    }

    /// After a failure anywhere between reading the log and a durable commit: throws away what
    /// the writer holds beyond the last commit (Tantivy's rollback makes a new writer from the
    /// committed state, which also replaces indexing threads that died) and goes back to the
    /// last durable position, so the lost changes are read again from the log, which still has
    /// them (it is pruned only after a durable commit). The files the failed attempt left
    /// (half-written segments) are deleted: Tantivy collects garbage only after a successful
    /// commit, so on a full disk every retry would otherwise leave more of them and the disk
    /// would never have room again.
    fn discard_uncommitted(&mut self) {
        if let Some(writer) = self.writer.as_mut() {
            match writer.rollback() {
                Ok(_) => {
                    if let Err(e) = writer.garbage_collect_files().wait() {
                        tracing::warn!(error = %e, "deleting the search index's unused files failed");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "rolling back the search index writer failed; it is made anew");
                    self.writer = None;
                }
            }
        }
        self.applied = self.committed.clone();
        self.pending = 0;
        self.pending_since = None;
    }

    /// The end of a bulk load: one commit for everything, then Tantivy's merges, so that the
    /// process (and the server after it) finds the index at rest. A failure is the caller's
    /// (`finish_bulk`): the log keeps every change, and the next start indexes them.
    fn end_bulk(mut self) -> StoreResult<()> {
        if let Err(e) = self.commit() {
            self.discard_uncommitted();
            return Err(e);
        }
        match self.writer.take() {
            Some(writer) => writer.wait_merging_threads().map_err(backend),
            None => Ok(()),
        }
    }

    /// Commits everything applied, durably, with the position as the payload; only then moves
    /// `committed`, prunes the log and publishes. The caller discards the uncommitted state on
    /// an error.
    fn commit(&mut self) -> StoreResult<()> {
        let position = self.applied.clone();
        let writer = self.writer()?;
        let mut prepared = writer.prepare_commit().map_err(backend)?;
        prepared.set_payload(&format!("{FORMAT}{}", position.encode()));
        prepared.commit().map_err(backend)?;
        self.reader_current = false;
        self.committed = position;
        self.pending = 0;
        self.pending_since = None;
        // A failed prune only keeps entries longer: they are applied again, to the same effect.
        if let Err(e) = self.log.prune(&self.committed) {
            tracing::warn!(error = %e, "pruning the change log failed; retried after the next commit");
        }
        self.publish()
    }

    /// Makes the committed state visible to searches.
    fn publish(&mut self) -> StoreResult<()> {
        self.reader.reload().map_err(backend)?;
        self.reader_current = true;
        // Recovered before the searches waiting for this commit see it, so that none of them
        // finds the indexer still reported as failing.
        self.succeeded();
        self.indexed.send_replace(self.committed.clone());
        self.warm_default_order();
        Ok(())
    }

    /// Has the default order of segments new since the last commit computed on the warmer's
    /// thread (see `spawn_order_warmer`); a request already pending covers this one.
    fn warm_default_order(&self) {
        let _ = self.warm.try_send(());
    }

    /// Rebuilds the index from every case in the system of record.
    fn rebuild(&mut self) -> StoreResult<()> {
        let outcome = self.rebuild_all();
        if outcome.is_err() {
            self.discard_uncommitted();
        }
        outcome
    }

    fn rebuild_all(&mut self) -> StoreResult<()> {
        // Taken before the tables are read: every change it covers is in what they show, and the
        // changes after it are applied again on top.
        let seq = self.log.horizon()?;
        self.log.rebuild_from(&seq)?;
        self.writer()?.delete_all_documents().map_err(backend)?;
        let mut after = None;
        loop {
            let batch = self.log.all_cases(after.clone(), BATCH)?;
            let Some(last) = batch.last() else { break };
            after = Some((
                last.account_id.clone(),
                last.domain_id.clone(),
                last.case_id.clone(),
            ));
            self.types.read_in_batch.clear();
            let tuning = self.tuning();
            for case in &batch {
                let doc = self.document(case, &tuning)?;
                self.writer()?.add_document(doc).map_err(backend)?;
            }
        }
        // Changes after `seq` are applied again on top: each reads its case's current row.
        self.applied = seq;
        self.commit()
    }

    /// The cheap part of `caseload check`, at start-up: the number of cases per domain in the
    /// database and in the index, compared at one position of the log. A difference means the
    /// index lost or kept documents behind the log's back (a bug, or files restored or edited
    /// by hand); it is logged as an error and the domains concerned are rebuilt here, on the
    /// indexer's thread, while the server answers.
    fn check_counts(&mut self) -> StoreResult<()> {
        // Writes arriving meanwhile move the database on; the comparison needs a quiet moment.
        for _ in 0..20 {
            let counts = match self.pending {
                0 => self.log.case_counts(&self.applied)?,
                _ => None,
            };
            let Some(database) = counts else {
                self.catch_up(false, true)?;
                continue;
            };
            let index =
                check::domain_counts(&self.reader.searcher(), &self.fields).map_err(backend)?;
            let differ = check::count_differences(&database, &index);
            if differ.is_empty() {
                return Ok(());
            }
            for d in &differ {
                tracing::error!(
                    account = %d.key.0,
                    domain = %d.key.1,
                    database = d.database,
                    index = d.index,
                    "the search index disagrees with the database; rebuilding the domain's documents"
                );
            }
            let domains: Vec<DomainKey> = differ.into_iter().map(|d| d.key).collect();
            self.reindex_domains(&domains)?;
            tracing::warn!(domains = domains.len(), "search index repaired");
            return Ok(());
        }
        tracing::warn!("writes kept arriving: the start-up index check is skipped");
        Ok(())
    }

    /// Answers the pending `SearchIndex::repair` requests.
    fn serve_repairs(&mut self) -> StoreResult<()> {
        let requests = std::mem::take(&mut *self.repairs.lock().unwrap_or_else(|e| e.into_inner()));
        for r in requests {
            let outcome = self.reindex_domains(&r.domains);
            let failed = outcome.as_ref().err().map(ToString::to_string);
            let _ = r.done.send(outcome);
            if let Some(e) = failed {
                return Err(backend(e));
            }
        }
        Ok(())
    }

    /// Replaces the documents of `domains` by their cases as the database has them now, and
    /// commits. The commit's position stays `applied`: changes after it are applied again on
    /// top, to the same effect (each reads its case's current row).
    fn reindex_domains(&mut self, domains: &[DomainKey]) -> StoreResult<()> {
        let outcome = self.replace_domains(domains);
        if outcome.is_err() {
            self.discard_uncommitted();
        }
        outcome
    }

    fn replace_domains(&mut self, domains: &[DomainKey]) -> StoreResult<()> {
        for key in domains {
            let scope = Term::from_field_text(self.fields.terms, &scope_term(&key.0, &key.1));
            self.writer()?.delete_term(scope);
            self.pending += 1;
            let mut after = None;
            loop {
                let batch = self.log.domain_cases(key, after.take(), BATCH)?;
                let Some(last) = batch.last() else { break };
                after = Some(last.case_id.clone());
                self.types.read_in_batch.clear();
                let tuning = self.tuning();
                for case in &batch {
                    let doc = self.document(case, &tuning)?;
                    self.writer()?.add_document(doc).map_err(backend)?;
                }
            }
        }
        self.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field is few-valued from its `few_values_min_seen`th value until it shows more than
    /// `few_values_max` distinct ones, per domain and field.
    #[test]
    fn few_values_start_after_enough_values_and_stop_past_the_limit() {
        let tuning = Tuning {
            few_values_max: 3,
            few_values_min_seen: 4,
            ..Tuning::default()
        };
        let mut few = FewValues::default();
        let d = ("1", "d");
        let marked: Vec<bool> = ["a", "b", "a", "c", "a", "b", "c", "d", "a"]
            .iter()
            .map(|v| few.few(d, "queue", v, &tuning))
            .collect();
        // Marked from the fourth value; the fourth distinct one ("d") ends it for good.
        assert_eq!(
            marked,
            [false, false, false, true, true, true, true, false, false]
        );
        // Another field, and the same field in another domain, count on their own.
        assert!(!few.few(d, "title", "a", &tuning));
        let other = ("1", "e");
        let marked: Vec<bool> = ["x"; 5]
            .iter()
            .map(|v| few.few(other, "queue", v, &tuning))
            .collect();
        assert_eq!(marked, [false, false, false, true, true]);
        // A limit of 0 marks nothing.
        let off = Tuning {
            few_values_max: 0,
            few_values_min_seen: 0,
            ..Tuning::default()
        };
        assert!(!FewValues::default().few(d, "queue", "a", &off));
    }
}
