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
//! write is not indexed yet.

mod collect;
pub mod encode;
mod order;
mod query;
mod texts;

pub use order::Tuning;

use caseload_domain::search::{CaseQuery, DEFAULT_SORT_FIELD};
use caseload_domain::store::{CaseRecord, StoreError, StoreResult};
use collect::{Hit, SegmentSort, SortCollector};
use encode::SEP;
use order::Orders;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tantivy::DocSet;
use tantivy::collector::SegmentCollector;
use tantivy::query::{BitSetDocSet, EnableScoring, Weight};
use tantivy::schema::{FAST, JsonObjectOptions, OwnedValue, STRING, Schema};
use tantivy::{
    BitSet, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, SegmentReader, TantivyDocument,
    Term,
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
        let case_id = b.add_text_field("case_id", STRING | FAST);
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
}

pub struct SearchIndex {
    fields: Arc<Fields>,
    reader: IndexReader,
    orders: Arc<Orders>,
    texts: Arc<Texts>,
    tuning: Mutex<Tuning>,
    indexed: watch::Receiver<i64>,
    wake: Arc<(Mutex<bool>, Condvar)>,
}

struct Indexer {
    writer: IndexWriter,
    orders: Arc<Orders>,
    reader: IndexReader,
    fields: Arc<Fields>,
    log: Arc<dyn ChangeLog>,
    indexed: watch::Sender<i64>,
    wake: Arc<(Mutex<bool>, Condvar)>,
}

/// The document format, recorded with every commit before the sequence number. Change it whenever
/// `document` or `encode` change what is indexed: the next start-up then rebuilds the index.
const FORMAT: &str = "caseload-index-3:";

/// How many changes one commit applies at most (bounds memory during a long catch-up).
const BATCH: usize = 20_000;

impl SearchIndex {
    /// Opens the index in `dir` (or in memory when `None`), catches it up with `log`, and starts
    /// the indexer thread.
    pub fn open(
        dir: Option<&Path>,
        log: Arc<dyn ChangeLog>,
        rebuild: bool,
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
        let writer: IndexWriter = index
            .writer_with_num_threads(1, 64_000_000)
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
        let mut indexer = Indexer {
            writer,
            orders: orders.clone(),
            reader: reader.clone(),
            fields: fields.clone(),
            log,
            indexed: tx,
            wake: wake.clone(),
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
        }
        std::thread::Builder::new()
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
            tuning: Mutex::default(),
            indexed: rx,
            wake,
        }))
    }

    /// Waits until every change up to `seq` is searchable.
    pub async fn wait_for(&self, seq: i64) -> StoreResult<()> {
        if *self.indexed.borrow() >= seq {
            return Ok(());
        }
        {
            let (flag, cv) = &*self.wake;
            *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cv.notify_one();
        }
        let mut rx = self.indexed.clone();
        rx.wait_for(|s| *s >= seq)
            .await
            .map_err(|_| backend("the indexer stopped"))?;
        Ok(())
    }

    /// Changes when large result sets are walked in a precomputed order (tests use it to
    /// exercise both ways on small corpora).
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
        let weight = query
            .weight(EnableScoring::disabled_from_searcher(&searcher))
            .map_err(backend)?;
        let mut fruits = Vec::with_capacity(segments.len());
        for segment in segments {
            fruits.push(
                self.search_segment(weight.as_ref(), segment, &plan, tuning)
                    .map_err(backend)?,
            );
        }
        let (total, hits) = plan.merge(fruits);
        Ok((total, hits.into_iter().map(|h| h.case_id).collect()))
    }

    /// One segment's total and first `k` hits. The matches are gathered first (as document
    /// ids, which is all an exact total needs); few are then looked up one by one, many are
    /// picked by walking the segment in the query's order (see `order`).
    fn search_segment(
        &self,
        weight: &dyn Weight,
        segment: &SegmentReader,
        plan: &SortCollector,
        tuning: Tuning,
    ) -> tantivy::Result<(u64, Vec<Hit>)> {
        // The matches as bits: the exact total needs no more, and the walk tests membership.
        let mut matches = BitSet::with_max_value(segment.max_doc());
        let alive = segment.alive_bitset();
        weight.for_each_no_score(segment, &mut |block| {
            for &d in block {
                if alive.is_none_or(|a| a.is_alive(d)) {
                    matches.insert(d);
                }
            }
        })?;
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
            return Ok((total, sort.hits(&first)));
        }
        let mut docs = BitSetDocSet::from(matches);
        let mut doc = docs.doc();
        while doc != tantivy::TERMINATED {
            sort.collect(doc, 0.0);
            doc = docs.advance();
        }
        sort.set_total(total);
        Ok(sort.harvest())
    }
}

fn document(fields: &Fields, c: &CaseRecord) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_text(fields.terms, scope_term(&c.account_id, &c.domain_id));
    doc.add_text(
        fields.terms,
        key_term(&c.account_id, &c.domain_id, &c.case_id),
    );
    doc.add_text(fields.case_id, &c.case_id);
    let mut terms = Vec::new();
    let mut sort = BTreeMap::new();
    for (fid, value) in &c.fields {
        encode::value_terms(fid, value, &mut terms);
        if let Some(k) = encode::sort_key(value) {
            sort.insert(fid.clone(), OwnedValue::Str(k));
        }
    }
    for (key, value) in &c.tags {
        terms.push(encode::tag_key_term(key));
        if let Some(v) = value {
            terms.push(encode::tag_value_term(key, v));
        }
    }
    for t in terms {
        doc.add_text(fields.terms, t);
    }
    doc.add_object(fields.sort, sort);
    doc
}

impl Indexer {
    fn run(mut self) {
        loop {
            if let Err(e) = self.catch_up() {
                tracing::error!(error = %e, "search indexer failed; retrying");
                std::thread::sleep(Duration::from_millis(500));
            }
            if self.indexed.is_closed() {
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
                *guard = false;
            }
        }
    }

    /// Applies every change committed so far.
    fn catch_up(&mut self) -> StoreResult<()> {
        loop {
            let from = *self.indexed.borrow();
            if self.log.last_seq()? <= from {
                return Ok(());
            }
            let (changes, last) = self.log.changes_after(from, BATCH)?;
            if changes.is_empty() {
                self.indexed.send_replace(last.max(from));
                return Ok(());
            }
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
                    self.writer
                        .add_document(document(&self.fields, case))
                        .map_err(backend)?;
                }
            }
            self.commit(last)?;
            self.log.prune(last)?;
        }
    }

    fn commit(&mut self, seq: i64) -> StoreResult<()> {
        let mut prepared = self.writer.prepare_commit().map_err(backend)?;
        prepared.set_payload(&format!("{FORMAT}{seq}"));
        prepared.commit().map_err(backend)?;
        self.reader.reload().map_err(backend)?;
        self.indexed.send_replace(seq);
        self.warm_default_order();
        Ok(())
    }

    /// Computes the default order (newest first) of large segments new since the last commit
    /// (merges make them), so that no search pays for it. Other orders are computed on use.
    fn warm_default_order(&self) {
        let searcher = self.reader.searcher();
        let default = [(format!("sort.{DEFAULT_SORT_FIELD}"), true)];
        for segment in searcher.segment_readers() {
            if Tuning::default().ordered(segment)
                && let Err(e) = self.orders.get(segment, &default)
            {
                tracing::warn!(error = %e, "computing a segment's default order failed");
            }
        }
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
            for case in &batch {
                self.writer
                    .add_document(document(&self.fields, case))
                    .map_err(backend)?;
            }
        }
        self.commit(seq)?;
        self.log.prune(seq)
    }
}
