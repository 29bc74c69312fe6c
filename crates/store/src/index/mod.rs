//! The search index: derived state that serves SearchCases, rebuilt from SQLite whenever needed.
//!
//! One Tantivy document per case:
//! - `terms` (raw tokens): the domain scope, the case key, and per field value its equality,
//!   presence, range, word and n-gram terms; tag terms (see `encode`);
//! - `case_id` (fast): the tie-breaker of every order and the id results are loaded by;
//! - `sort` (JSON, fast): field id → sort key, for ordering and for verifying `contains`.
//!
//! A single indexer thread applies the SQLite `changes` log in batches and commits with the last
//! applied sequence number as the commit payload; at start-up it resumes from that number (or
//! rebuilds everything when there is no index). A search first reads the log's current sequence
//! number, wakes the indexer, and waits until the index has caught up with it: every write that
//! completed before the search is visible (read-your-writes), and a search waits only when such a
//! write is not indexed yet. Without a waiting search, applied changes are committed within a
//! second (`MAX_COMMIT_DELAY`).

mod bits;
mod cache;
mod collect;
mod docbits;
pub mod encode;
mod eval;
mod order;
mod query;
mod texts;

pub use order::Tuning;

use bits::DenseTerms;
use caseload_domain::search::{CaseQuery, DEFAULT_SORT_FIELD};
use caseload_domain::store::{CaseRecord, StoreError, StoreResult};
use caseload_model::shapes::FieldType;
use collect::{Hit, SegmentSort, SortCollector};
use encode::SEP;
use order::Orders;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};
use tantivy::schema::{FAST, JsonObjectOptions, OwnedValue, STRING, Schema};
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
}

impl Fields {
    fn new() -> Fields {
        let mut b = Schema::builder();
        let terms = b.add_text_field("terms", STRING);
        let case_id = b.add_text_field("case_id", FAST);
        let sort = b.add_json_field("sort", JsonObjectOptions::default().set_fast("raw"));
        let schema = b.build();
        Fields {
            schema,
            terms,
            case_id,
            sort,
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
    /// The sequence number of the last committed change (0 if none).
    fn last_seq(&self) -> StoreResult<i64>;
    /// Changes after `after`, at most `limit`, with each case's current row; and the sequence
    /// number of the last one returned.
    fn changes_after(&self, after: i64, limit: usize) -> StoreResult<(Vec<Change>, i64)>;
    /// Every case, in batches after the given position, for a full rebuild.
    fn all_cases(
        &self,
        after: Option<(String, String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>>;
    /// Forget changes up to `seq`: they are in the index.
    fn prune(&self, seq: i64) -> StoreResult<()>;
    /// The type of every field of a domain, deleted ones included, so that values are indexed
    /// only for the queries their type allows. A field left out is indexed for every query.
    fn field_types(&self, account_id: &str, domain_id: &str) -> StoreResult<FieldTypeMap> {
        let _ = (account_id, domain_id);
        Ok(FieldTypeMap::new())
    }
}

pub type FieldTypeMap = HashMap<String, FieldType>;

pub struct SearchIndex {
    fields: Arc<Fields>,
    reader: IndexReader,
    orders: Arc<Orders>,
    texts: Arc<Texts>,
    dense: Arc<DenseTerms>,
    /// Shared with the indexer, which reads the few-valued thresholds.
    tuning: Arc<Mutex<Tuning>>,
    indexed: watch::Receiver<i64>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    /// Set while a bulk load is running (see `Mode::Bulk`); cleared by `finish_bulk`.
    bulk: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
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
}

struct Indexer {
    writer: IndexWriter,
    /// Asks the order warmer (`spawn_order_warmer`) to look at the segments after a commit.
    warm: mpsc::SyncSender<()>,
    reader: IndexReader,
    fields: Arc<Fields>,
    log: Arc<dyn ChangeLog>,
    indexed: watch::Sender<i64>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    bulk: Arc<AtomicBool>,
    mode: Mode,
    /// The last change added to the writer; ahead of `indexed` until the next commit.
    applied: i64,
    types: TypeCache,
    few: FewValues,
    tuning: Arc<Mutex<Tuning>>,
    scratch: encode::Scratch,
    /// Changes added to the writer since the last commit, and since when.
    pending: usize,
    pending_since: Option<Instant>,
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
    fn for_case(&mut self, log: &dyn ChangeLog, c: &CaseRecord) -> StoreResult<&FieldTypeMap> {
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
const FORMAT: &str = "caseload-index-8:";

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

impl SearchIndex {
    /// Opens the index in `dir` (or in memory when `None`), catches it up with `log`, and starts
    /// the indexer thread.
    pub fn open(
        dir: Option<&Path>,
        log: Arc<dyn ChangeLog>,
        rebuild: bool,
        mode: Mode,
    ) -> StoreResult<Arc<SearchIndex>> {
        let fields = Fields::new();
        let index = match dir {
            None => Index::create_in_ram(fields.schema.clone()),
            Some(dir) => {
                if rebuild && dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(backend)?;
                }
                std::fs::create_dir_all(dir).map_err(backend)?;
                let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(backend)?;
                Index::open_or_create(mmap, fields.schema.clone()).map_err(backend)?
            }
        };
        let payload = index.load_metas().map_err(backend)?.payload;
        let (threads, heap) = match mode {
            Mode::Serve => (1, 64_000_000),
            Mode::Bulk => (BULK_THREADS, BULK_HEAP),
        };
        let writer: IndexWriter = index
            .writer_with_num_threads(threads, heap)
            .map_err(backend)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(backend)?;
        let (tx, rx) = watch::channel(0);
        let wake = Arc::new((Mutex::new(false), Condvar::new()));
        let fields = Arc::new(fields);
        let orders = Arc::<Orders>::default();
        let bulk = Arc::new(AtomicBool::new(mode == Mode::Bulk));
        let tuning = Arc::<Mutex<Tuning>>::default();
        let warm = spawn_order_warmer(reader.clone(), orders.clone())?;
        let mut indexer = Indexer {
            writer,
            warm,
            reader: reader.clone(),
            fields: fields.clone(),
            log,
            indexed: tx,
            wake: wake.clone(),
            bulk: bulk.clone(),
            mode,
            applied: 0,
            types: TypeCache::default(),
            few: FewValues::default(),
            tuning: tuning.clone(),
            scratch: encode::Scratch::default(),
            pending: 0,
            pending_since: None,
        };
        // Resume from the last committed change, or rebuild from the cases table. Both happen on
        // the indexer thread: the server starts serving at once, and searches wait for the index
        // to reach the writes that preceded them.
        // An index written by another document format is rebuilt, like a missing one.
        let resume_from = payload
            .and_then(|p| p.strip_prefix(FORMAT).map(str::to_owned))
            .and_then(|seq| seq.parse::<i64>().ok());
        if let Some(seq) = resume_from {
            indexer.indexed.send_replace(seq);
            indexer.applied = seq;
        }
        let thread = std::thread::Builder::new()
            .name("caseload-indexer".into())
            .spawn(move || {
                if resume_from.is_none() {
                    while let Err(e) = indexer.rebuild() {
                        tracing::error!(error = %e, "rebuilding the search index failed; retrying");
                        std::thread::sleep(Duration::from_millis(500));
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
        if let Some(t) = thread {
            t.join().map_err(|_| backend("the indexer panicked"))?;
        }
        Ok(())
    }

    fn nudge(&self) {
        let (flag, cv) = &*self.wake;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_one();
    }

    /// Waits until every change up to `seq` is searchable.
    pub async fn wait_for(&self, seq: i64) -> StoreResult<()> {
        if *self.indexed.borrow() >= seq {
            return Ok(());
        }
        self.nudge();
        let mut rx = self.indexed.clone();
        rx.wait_for(|s| *s >= seq)
            .await
            .map_err(|_| backend("the indexer stopped"))?;
        Ok(())
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

impl Indexer {
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

    fn run(mut self) {
        // Whether to make what is applied visible: at start-up, when a search waits for it, and
        // when it has waited long enough (see `MAX_COMMIT_DELAY`).
        let mut visible = true;
        loop {
            // Read before catching up: everything written before `finish_bulk` is then in.
            let bulk = self.bulk.load(Ordering::SeqCst);
            if let Err(e) = self.catch_up(bulk, visible) {
                tracing::error!(error = %e, "search indexer failed; retrying");
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            if self.indexed.is_closed() {
                return;
            }
            if self.mode == Mode::Bulk && !bulk {
                if let Err(e) = self.end_bulk() {
                    tracing::error!(error = %e, "finishing the bulk index load failed");
                }
                return;
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
    /// else only every `BATCH` changes (the writer's memory and the log stay bounded).
    fn catch_up(&mut self, bulk: bool, visible: bool) -> StoreResult<()> {
        loop {
            let from = self.applied;
            if self.log.last_seq()? <= from {
                break;
            }
            let (changes, last) = self.log.changes_after(from, BATCH)?;
            if changes.is_empty() {
                self.applied = last.max(from);
                break;
            }
            self.types.read_in_batch.clear();
            let tuning = self.tuning();
            for c in &changes {
                if c.case_id.is_empty() {
                    self.writer.delete_term(Term::from_field_text(
                        self.fields.terms,
                        &scope_term(&c.account_id, &c.domain_id),
                    ));
                    continue;
                }
                self.writer.delete_term(Term::from_field_text(
                    self.fields.terms,
                    &key_term(&c.account_id, &c.domain_id, &c.case_id),
                ));
                if let Some(case) = &c.current {
                    let doc = self.document(case, &tuning)?;
                    self.writer.add_document(doc).map_err(backend)?;
                }
            }
            self.applied = last;
            self.pending += changes.len();
            self.pending_since.get_or_insert_with(Instant::now);
            if !bulk && self.pending >= BATCH {
                self.commit(last)?;
                self.log.prune(last)?;
            }
        }
        if !bulk && visible && self.applied > *self.indexed.borrow() {
            if self.pending > 0 {
                self.commit(self.applied)?;
                self.log.prune(self.applied)?;
            } else {
                // Only entries that change no document: nothing to commit.
                self.indexed.send_replace(self.applied);
            }
        }
        Ok(())
    }

    /// The end of a bulk load: one commit for everything, then Tantivy's merges, so that the
    /// process (and the server after it) finds the index at rest.
    fn end_bulk(mut self) -> StoreResult<()> {
        let seq = self.applied;
        self.commit(seq)?;
        self.log.prune(seq)?;
        self.writer.wait_merging_threads().map_err(backend)
    }

    fn commit(&mut self, seq: i64) -> StoreResult<()> {
        let mut prepared = self.writer.prepare_commit().map_err(backend)?;
        prepared.set_payload(&format!("{FORMAT}{seq}"));
        prepared.commit().map_err(backend)?;
        self.pending = 0;
        self.pending_since = None;
        self.reader.reload().map_err(backend)?;
        self.indexed.send_replace(seq);
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
        let seq = self.log.last_seq()?;
        self.writer.delete_all_documents().map_err(backend)?;
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
                self.writer.add_document(doc).map_err(backend)?;
            }
        }
        self.applied = seq;
        self.commit(seq)?;
        self.log.prune(seq)
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
