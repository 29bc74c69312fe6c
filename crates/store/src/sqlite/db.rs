//! Connections to the SQLite database, and group commit.
//!
//! Writes go to one writer thread that owns the only write connection. The writes that queue up
//! while it works form a group, run as ONE transaction, each in a savepoint of its own: a write
//! that fails (or panics) rolls back to its savepoint and is answered at once, the others go on.
//! The group then commits once with `synchronous=FULL`, under which SQLite syncs the WAL before
//! it publishes the commit to readers, and every write of the group is answered by the outcome
//! of that commit. So an acknowledged write is on stable storage, a refused one was never
//! visible to anyone (readers, the search indexer, event delivery) and is not in the database,
//! and 64 concurrent writers cost one fsync instead of 64.
//!
//! SQLite may roll the whole transaction back by itself on some errors (an I/O error, a full
//! disk, no memory): the writer checks after every write, refuses the writes of the group that
//! ran so far with it, and runs the rest in a new transaction.
//!
//! Reads run on a small pool of read-only connections, concurrently with the writer (WAL
//! readers see the last commit and never block it). A private in-memory database has a single
//! connection, so there everything runs on the writer thread, one job per transaction (nothing
//! to sync, and a read must not see a write that could still be refused).

use super::backend;
use crate::stats::{GroupSizes, PoolUsage};
use caseload_domain::store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// A write (or, in memory, any statement) for the writer thread. It runs the caller's closure on
/// the connection (or, when no transaction could be begun, is told why not) and returns whether
/// the closure succeeded and how to answer once the group's commit is decided.
type Job = Box<dyn FnOnce(Result<&mut Connection, String>) -> (bool, Reply) + Send>;
/// Answers a job with the outcome of its group's commit.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// Most writes in one group (bounds the latency the first of them sees).
const MAX_GROUP: usize = 512;
/// Read-only connections in file mode.
const READERS: usize = 4;
/// Prepared statements kept per connection. rusqlite's default (16) is smaller than the set a
/// case write touches (case, audit, change log, outbox, idempotency) plus the lookups around it,
/// so hot statements would be evicted and re-prepared (parsing showed up at ~8% of a GetCase).
pub(crate) const STATEMENT_CACHE: usize = 64;

#[derive(Clone)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
    readers: Option<Arc<Readers>>,
    /// The sizes of the groups the writer committed (file mode only: in memory nothing is
    /// grouped, and reads run on the writer too).
    groups: Arc<GroupSizes>,
}

struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

/// Opens a connection to the database file with the settings every connection shares.
pub fn open_file(path: &Path) -> StoreResult<Connection> {
    #[cfg(not(feature = "failpoints"))]
    let conn = Connection::open(path).map_err(backend)?;
    // With fault points, through the VFS whose WAL writes and syncs can be made to fail.
    #[cfg(feature = "failpoints")]
    let conn = {
        crate::fault::vfs::register();
        Connection::open_with_flags_and_vfs(
            path,
            rusqlite::OpenFlags::default(),
            crate::fault::vfs::NAME,
        )
        .map_err(backend)?
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    // FULL: the WAL is synced at each commit, before the commit is visible (the writer commits
    // once per group, see the module comment). Readers never commit anything.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// A read-only connection to the database file.
pub fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = open_file(path)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(backend)?;
    Ok(conn)
}

impl Db {
    /// Starts the writer thread on `writer`. `file` is the database path in file mode (readers
    /// are opened on it), `None` for a private in-memory database.
    pub fn start(writer: Connection, file: Option<&Path>) -> StoreResult<Db> {
        let readers = match file {
            None => None,
            Some(path) => {
                let mut conns = Vec::new();
                for _ in 0..READERS {
                    conns.push(Mutex::new(open_reader(path)?));
                }
                Some(Arc::new(Readers {
                    conns,
                    next: AtomicUsize::new(0),
                }))
            }
        };
        let max_group = if file.is_some() { MAX_GROUP } else { 1 };
        let groups = Arc::new(GroupSizes::default());
        let counted = file.is_some().then(|| groups.clone());
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("caseload-writer".into())
            .spawn(move || writer_thread(writer, rx, max_group, counted))
            .map_err(backend)?;
        Ok(Db {
            jobs: tx,
            readers,
            groups,
        })
    }

    /// The sizes of the groups committed so far (empty in memory).
    pub fn group_sizes(&self) -> &GroupSizes {
        &self.groups
    }

    /// The read pool's use now (`None` in memory, where there is no pool). Counted by trying
    /// each connection's lock, at the asker's cost: the read paths count nothing.
    pub fn read_pool(&self) -> Option<PoolUsage> {
        let readers = self.readers.as_ref()?;
        let idle = readers
            .conns
            .iter()
            .filter(|c| !matches!(c.try_lock(), Err(std::sync::TryLockError::WouldBlock)))
            .count();
        Some(PoolUsage {
            max: readers.conns.len(),
            open: readers.conns.len(),
            idle,
        })
    }

    fn submit<T, F>(&self, f: F) -> StoreResult<tokio::sync::oneshot::Receiver<StoreResult<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.map_err(StoreError::Backend).and_then(f);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |committed: Result<(), String>| {
                // A failed write's own error wins: it changed nothing whatever the commit did.
                let _ = tx
                    .send(result.and_then(|v| committed.map(|()| v).map_err(StoreError::Backend)));
            });
            (ok, reply)
        });
        self.jobs
            .send(job)
            .map_err(|_| backend("the database writer stopped"))?;
        Ok(rx)
    }

    /// Runs a write; returns once it is committed and durable. The closure runs inside the
    /// group's transaction, in a savepoint of its own: it must not begin, commit or roll back a
    /// transaction itself (a nested `savepoint()` is fine).
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(f)?
            .await
            .map_err(|_| backend("a database write was abandoned"))?
    }

    /// `write` for a thread that is not async (the search indexer).
    pub fn write_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(f)?
            .blocking_recv()
            .map_err(|_| backend("a database write was abandoned"))?
    }

    /// Runs a read on a reader connection (on a blocking thread).
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        match &self.readers {
            None => self.write(f).await,
            Some(readers) => {
                let readers = readers.clone();
                tokio::task::spawn_blocking(move || readers.run(f))
                    .await
                    .map_err(backend)?
            }
        }
    }

    /// A short read (a lookup by key): runs on the calling thread when a reader connection is
    /// free, saving the hand-off to the blocking pool and back, which costs more than the lookup
    /// itself; otherwise it waits its turn like `read`. Only for reads that cannot take long.
    pub async fn read_point<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let Some(readers) = &self.readers else {
            return self.write(f).await;
        };
        // The guard must be gone before any await (it is not `Send`).
        // From the first connection on: point reads run inline on the async workers (at most
        // one per worker at a time), so they keep to the first few connections, whose page
        // caches then hold the B-trees' interior pages.
        let f = match readers.try_free_from(0) {
            Some(mut conn) => return f(&mut conn),
            None => f,
        };
        let readers = readers.clone();
        tokio::task::spawn_blocking(move || readers.run(f))
            .await
            .map_err(backend)?
    }

    /// `read` for a thread that is not async.
    pub fn read_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        match &self.readers {
            None => self.write_blocking(f),
            Some(readers) => readers.run(f),
        }
    }
}

impl Readers {
    /// A reader connection no one is using, if there is one, looking from `start` on.
    fn try_free_from(&self, start: usize) -> Option<std::sync::MutexGuard<'_, Connection>> {
        (0..self.conns.len())
            .find_map(|i| self.conns[(start + i) % self.conns.len()].try_lock().ok())
    }

    /// A free connection, looking from the next one in turn: reads spread over the pool.
    fn try_free(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        self.try_free_from(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// Runs `f` on the first free connection, else waits for the next one in turn.
    fn run<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        if let Some(mut c) = self.try_free() {
            return f(&mut c);
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let mut c = self.conns[turn].lock().unwrap_or_else(|e| e.into_inner());
        f(&mut c)
    }
}

fn writer_thread(
    mut conn: Connection,
    jobs: mpsc::Receiver<Job>,
    max_group: usize,
    sizes: Option<Arc<GroupSizes>>,
) {
    // The `sqlite.commit` fault point: SQLite turns a COMMIT into a ROLLBACK when the commit
    // hook says so, exactly as a commit that fails to write.
    #[cfg(feature = "failpoints")]
    if let Err(e) = conn.commit_hook(Some(|| crate::fault::active("sqlite.commit"))) {
        tracing::error!(error = %e, "the sqlite.commit fault point is not installed");
    }
    while let Ok(first) = jobs.recv() {
        let mut group = Group::default();
        group.run(first, &mut conn);
        while group.size < max_group {
            match jobs.try_recv() {
                Ok(job) => group.run(job, &mut conn),
                Err(_) => break,
            }
        }
        if let Some(sizes) = &sizes {
            sizes.record(group.size);
        }
        group.commit(&mut conn);
    }
}

/// The writes of one group: one transaction, a savepoint per write (see the module comment).
#[derive(Default)]
struct Group {
    /// Jobs run so far.
    size: usize,
    /// The answers of the writes that succeeded and are in the open transaction.
    pending: Vec<Reply>,
}

/// The statements that frame a group and its jobs (prepared once: they run for every write).
const BEGIN: &str = "BEGIN IMMEDIATE";
const SAVEPOINT: &str = "SAVEPOINT caseload_job";
const RELEASE: &str = "RELEASE caseload_job";
const ROLLBACK_TO: &str = "ROLLBACK TO caseload_job";
const COMMIT: &str = "COMMIT";

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

impl Group {
    fn run(&mut self, job: Job, conn: &mut Connection) {
        self.size += 1;
        if conn.is_autocommit()
            && let Err(e) = exec(conn, BEGIN)
        {
            let (_, reply) = job(Err(format!("cannot begin a write transaction: {e}")));
            reply(Ok(()));
            return;
        }
        if let Err(e) = exec(conn, SAVEPOINT) {
            let msg = format!("cannot begin a savepoint: {e}");
            self.abort(conn, &msg);
            let (_, reply) = job(Err(msg));
            reply(Ok(()));
            return;
        }
        // A job that panics loses only itself: it is rolled back to its savepoint below and its
        // caller sees the reply channel close.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Ok(&mut *conn))));
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back by itself: this write and every earlier
            // one of the group are undone.
            let msg = "the database rolled the write transaction back (an I/O error, a full disk or no memory)";
            self.refuse(msg);
            if let Ok((_, reply)) = ran {
                reply(Err(msg.to_owned()));
            }
            return;
        }
        let ok = matches!(ran, Ok((true, _)));
        let end = if ok {
            exec(conn, RELEASE)
        } else {
            exec(conn, ROLLBACK_TO).and_then(|()| exec(conn, RELEASE))
        };
        if let Err(e) = end {
            // What this write left behind is unknown: nothing of the group is kept.
            let msg = format!("cannot end a write's savepoint: {e}");
            self.abort(conn, &msg);
            if let Ok((_, reply)) = ran {
                reply(Err(msg));
            }
            return;
        }
        match ran {
            Ok((true, reply)) => self.pending.push(reply),
            // A failed write changed nothing: its answer (its own error) need not wait.
            Ok((false, reply)) => reply(Ok(())),
            Err(_) => {}
        }
    }

    /// Rolls the open transaction back and refuses the writes in it.
    fn abort(&mut self, conn: &mut Connection, msg: &str) {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.refuse(msg);
    }

    fn refuse(&mut self, msg: &str) {
        for reply in self.pending.drain(..) {
            reply(Err(msg.to_owned()));
        }
    }

    /// Commits the group's transaction (SQLite syncs the WAL first) and answers its writes.
    fn commit(mut self, conn: &mut Connection) {
        if conn.is_autocommit() {
            return;
        }
        match exec(conn, COMMIT) {
            Ok(()) => {
                for reply in self.pending.drain(..) {
                    reply(Ok(()));
                }
            }
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                // Sealed before the refusals are sent: a process that dies once a client has
                // been told "refused" must not bring the write back on recovery.
                seal_wal(conn);
                self.refuse(&format!("the write transaction failed to commit: {e}"));
            }
        }
    }
}

/// After a failed commit: commits a transaction that changes nothing, so that its frame
/// overwrites the first WAL frame of the refused group. A commit whose sync failed may still have
/// written all its frames with valid checksums; were the process to die now, SQLite's recovery
/// at the next start would read them as committed and bring the refused writes back. The seal's
/// own sync may fail too: its frame is written all the same and breaks the checksum chain of
/// the frames after it (recovery stops there), and a commit that changes nothing is harmless
/// wherever recovery stops.
fn seal_wal(conn: &mut Connection) {
    let sealed = (|| -> rusqlite::Result<()> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        conn.pragma_update(None, "user_version", version)?;
        conn.execute_batch("COMMIT")
    })();
    if let Err(e) = sealed {
        tracing::warn!(error = %e, "sealing the WAL after a failed commit failed");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

// The tests below that arm a fault point (`failpoints` feature) affect every connection in the
// process while armed, so with that feature this crate's unit tests run one at a time
// (`--test-threads=1`, see scripts/test.sh).
#[cfg(test)]
mod tests {
    use super::*;

    /// A database file with one table in a fresh directory (removed on drop), its `Db`, and a
    /// connection of its own to look with.
    struct Fixture {
        db: Db,
        dir: std::path::PathBuf,
    }

    impl Fixture {
        fn new(name: &str) -> Fixture {
            use std::sync::atomic::AtomicU64;
            static N: AtomicU64 = AtomicU64::new(0);
            let dir = std::env::temp_dir().join(format!(
                "caseload-db-{name}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("db.sqlite3");
            let conn = open_file(&path).unwrap();
            conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
                .unwrap();
            let db = Db::start(conn, Some(&path)).unwrap();
            Fixture { db, dir }
        }

        /// The ids in the table, as a reader sees them.
        fn ids(&self) -> Vec<i64> {
            self.db
                .read_blocking(|c| {
                    let mut s = c.prepare("SELECT id FROM t ORDER BY id").map_err(backend)?;
                    let ids = s.query_map([], |r| r.get(0)).map_err(backend)?;
                    ids.collect::<Result<_, _>>().map_err(backend)
                })
                .unwrap()
        }

        /// Holds the writer until the returned sender is dropped or sent to, so the writes
        /// submitted meanwhile form one group behind it.
        fn hold(&self) -> mpsc::Sender<()> {
            let (go, wait) = mpsc::channel::<()>();
            let _held = self.db.submit(move |_| {
                let _ = wait.recv();
                Ok(())
            });
            go
        }

        fn insert(
            &self,
            id: i64,
            body: String,
            then: fn() -> StoreResult<()>,
        ) -> tokio::sync::oneshot::Receiver<StoreResult<()>> {
            self.db
                .submit(move |c| {
                    c.execute(
                        "INSERT INTO t (id, body) VALUES (?1, ?2)",
                        rusqlite::params![id, body],
                    )
                    .map_err(backend)?;
                    then()
                })
                .unwrap()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fine() -> StoreResult<()> {
        Ok(())
    }

    /// Every group the writer commits is counted with its size; the read pool's use is what is
    /// held at the moment it is asked.
    #[test]
    fn groups_are_counted_with_their_size_and_the_pool_with_its_use() {
        let f = Fixture::new("stats");
        let go = f.hold();
        let writes: Vec<_> = (1..=5).map(|id| f.insert(id, "x".into(), fine)).collect();
        go.send(()).unwrap();
        for w in writes {
            w.blocking_recv().unwrap().unwrap();
        }
        // The holding job and the five writes queued behind it: one group of six.
        let s = f.db.group_sizes().snapshot();
        assert_eq!((s.groups, s.writes), (1, 6));
        let in_bucket = |bound: f64| s.buckets.iter().find(|(b, _)| *b == bound).unwrap().1;
        assert_eq!((in_bucket(4.0), in_bucket(8.0), in_bucket(16.0)), (0, 1, 0));

        let idle = PoolUsage {
            max: READERS,
            open: READERS,
            idle: READERS,
        };
        assert_eq!(f.db.read_pool(), Some(idle));
        let db = f.db.clone();
        let during = f.db.read_blocking(move |_| Ok(db.read_pool())).unwrap();
        assert_eq!(
            during,
            Some(PoolUsage {
                idle: READERS - 1,
                ..idle
            })
        );
    }

    /// Within one group, a write that fails after writing, and one that panics after writing,
    /// lose only themselves: the writes before and after them are committed and acknowledged.
    #[test]
    fn a_failing_or_panicking_write_loses_only_itself() {
        let f = Fixture::new("isolation");
        let go = f.hold();
        let first = f.insert(1, "a".into(), fine);
        let failed = f.insert(2, "b".into(), || Err(backend("refused after writing")));
        let panicked = f.insert(3, "c".into(), || panic!("a job that panics after writing"));
        let last = f.insert(4, "d".into(), fine);
        go.send(()).unwrap();
        first.blocking_recv().unwrap().unwrap();
        assert!(
            matches!(failed.blocking_recv().unwrap(), Err(StoreError::Backend(m)) if m == "refused after writing")
        );
        assert!(
            panicked.blocking_recv().is_err(),
            "a panicked job's caller sees its reply dropped"
        );
        last.blocking_recv().unwrap().unwrap();
        assert_eq!(f.ids(), vec![1, 4]);
    }

    /// The writer answers a group only after its commit: a reader never sees a write of a group
    /// that is still running.
    #[test]
    fn a_group_is_invisible_until_it_commits() {
        let f = Fixture::new("visibility");
        let go = f.hold();
        let (seen_tx, seen_rx) = mpsc::channel::<()>();
        let (look_tx, look_rx) = mpsc::channel::<()>();
        let first = f.insert(1, "a".into(), fine);
        // The second write holds the group open after the first has run.
        let second = f.db.submit(move |c| {
            c.execute("INSERT INTO t (id, body) VALUES (2, 'b')", [])
                .map_err(backend)?;
            seen_tx.send(()).unwrap();
            let _ = look_rx.recv();
            Ok(())
        });
        go.send(()).unwrap();
        seen_rx.recv().unwrap();
        assert_eq!(
            f.ids(),
            Vec::<i64>::new(),
            "writes seen before their group committed"
        );
        look_tx.send(()).unwrap();
        first.blocking_recv().unwrap().unwrap();
        second.unwrap().blocking_recv().unwrap().unwrap();
        assert_eq!(f.ids(), vec![1, 2]);
    }

    /// SQLite rolls the whole transaction back when writing the WAL fails in the middle of a
    /// write (here a write larger than the page cache, whose pages spill into the WAL before the
    /// commit): that write and the group's earlier ones are refused and absent, and the writes
    /// after it run in a new transaction and are committed.
    #[cfg(feature = "failpoints")]
    #[test]
    fn a_transaction_rolled_back_by_sqlite_refuses_the_group_so_far_and_the_rest_goes_on() {
        let scenario = fail::FailScenario::setup();
        let f = Fixture::new("rollback");
        f.insert(1, "before".into(), fine)
            .blocking_recv()
            .unwrap()
            .unwrap();
        let go = f.hold();
        let earlier = f.insert(2, "earlier".into(), fine);
        // ~6 MB of rows against the default 2 MB page cache.
        let big = f.db.submit(|c| {
            let body = "x".repeat(2000);
            for id in 1000..4000 {
                c.execute(
                    "INSERT INTO t (id, body) VALUES (?1, ?2)",
                    rusqlite::params![id, body],
                )
                .map_err(backend)?;
            }
            Ok(())
        });
        let later = f.insert(3, "later".into(), fine);
        // Only the first WAL write fails: the spill of the big write.
        fail::cfg("sqlite.wal_write", "1*return").unwrap();
        go.send(()).unwrap();
        let rolled_back = |r: StoreResult<()>| matches!(r, Err(StoreError::Backend(m)) if m.contains("rolled the write transaction back"));
        let big = big.unwrap().blocking_recv().unwrap();
        assert!(
            matches!(&big, Err(StoreError::Backend(m)) if m.contains("I/O")),
            "{big:?}"
        );
        assert!(rolled_back(earlier.blocking_recv().unwrap()));
        later.blocking_recv().unwrap().unwrap();
        fail::remove("sqlite.wal_write");
        assert_eq!(f.ids(), vec![1, 3]);
        scenario.teardown();
    }

    /// A group whose commit cannot sync the WAL is refused as a whole and was never visible;
    /// the writer goes on with the next group once syncing works again.
    #[cfg(feature = "failpoints")]
    #[test]
    fn a_failed_wal_sync_refuses_the_whole_group() {
        let scenario = fail::FailScenario::setup();
        let f = Fixture::new("sync");
        f.insert(1, "before".into(), fine)
            .blocking_recv()
            .unwrap()
            .unwrap();
        fail::cfg("sqlite.wal_sync", "return").unwrap();
        let go = f.hold();
        let group: Vec<_> = (2..6).map(|id| f.insert(id, "in".into(), fine)).collect();
        go.send(()).unwrap();
        for r in group {
            let r = r.blocking_recv().unwrap();
            assert!(
                matches!(&r, Err(StoreError::Backend(m)) if m.contains("failed to commit")),
                "{r:?}"
            );
        }
        assert_eq!(f.ids(), vec![1]);
        fail::remove("sqlite.wal_sync");
        f.insert(9, "after".into(), fine)
            .blocking_recv()
            .unwrap()
            .unwrap();
        assert_eq!(f.ids(), vec![1, 9]);
        scenario.teardown();
    }
}
