//! Connections to the SQLite database, and group commit.
//!
//! Writes go to one writer thread that owns the only write connection. Each write is its own
//! transaction (so one failing request never affects another), committed with
//! `synchronous=NORMAL`, which in WAL mode appends to the WAL without syncing it. After running
//! every write that queued up meanwhile, the thread syncs the WAL file once and only then answers
//! all of them: each acknowledged write is on stable storage, and 64 concurrent writers cost one
//! fsync instead of 64. (SQLite itself syncs the WAL before checkpointing it into the database.)
//!
//! Reads run on a small pool of read-only connections, concurrently with the writer (WAL
//! readers see the last commit and never block it). A private in-memory database has a single
//! connection, so there everything runs on the writer thread.

use super::backend;
use caseload_domain::store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// A write (or, in memory, any statement) for the writer thread. It runs the caller's closure and
/// returns how to answer once the batch it belongs to is durable.
type Job = Box<dyn FnOnce(&mut Connection) -> Reply + Send>;
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
}

struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

/// Opens a connection to the database file with the settings every connection shares.
pub fn open_file(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    // The writer thread syncs the WAL itself after each group (see the module comment).
    conn.pragma_update(None, "synchronous", "NORMAL")
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
    /// are opened on it and its WAL is synced), `None` for a private in-memory database.
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
        let wal = file.map(|p| PathBuf::from(format!("{}-wal", p.display())));
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("caseload-writer".into())
            .spawn(move || writer_thread(writer, rx, wal))
            .map_err(backend)?;
        Ok(Db { jobs: tx, readers })
    }

    fn submit<T, F>(&self, f: F) -> StoreResult<tokio::sync::oneshot::Receiver<StoreResult<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            Box::new(move |durable: Result<(), String>| {
                let _ = tx.send(durable.map_err(StoreError::Backend).and(result));
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| backend("the database writer stopped"))?;
        Ok(rx)
    }

    /// Runs a write; returns once it is committed and durable.
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

fn writer_thread(mut conn: Connection, jobs: mpsc::Receiver<Job>, wal: Option<PathBuf>) {
    // The `sqlite.commit` fault point: SQLite turns a COMMIT into a ROLLBACK when the commit
    // hook says so, exactly as a commit that fails to write.
    #[cfg(feature = "failpoints")]
    if let Err(e) = conn.commit_hook(Some(|| crate::fault::active("sqlite.commit"))) {
        tracing::error!(error = %e, "the sqlite.commit fault point is not installed");
    }
    let mut wal_file: Option<(std::fs::File, u64)> = None;
    while let Ok(first) = jobs.recv() {
        let mut replies = vec![run(first, &mut conn)];
        while replies.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => replies.push(run(job, &mut conn)),
                Err(_) => break,
            }
        }
        let durable = match &wal {
            Some(path) => sync_wal(path, &mut wal_file),
            None => Ok(()),
        };
        for reply in replies.into_iter().flatten() {
            reply(durable.clone());
        }
    }
}

/// Runs one job; a job that panics has rolled back its transaction (the transaction guard's drop)
/// and its caller sees the reply channel close.
fn run(job: Job, conn: &mut Connection) -> Option<Reply> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))).ok()
}

/// fsyncs the WAL file, reopening it if SQLite replaced it since last time.
fn sync_wal(path: &Path, cached: &mut Option<(std::fs::File, u64)>) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    crate::fault::point!(
        "sqlite.wal_sync",
        "injected fault: cannot sync the WAL".to_owned()
    );
    let ino = match std::fs::metadata(path) {
        Ok(m) => m.ino(),
        // No WAL yet: nothing has been written, so there is nothing to sync.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot stat the WAL: {e}")),
    };
    if cached.as_ref().is_none_or(|(_, i)| *i != ino) {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .open(path)
            .map_err(|e| format!("cannot open the WAL: {e}"))?;
        *cached = Some((f, ino));
    }
    let (f, _) = cached.as_ref().expect("just opened");
    f.sync_data()
        .map_err(|e| format!("cannot sync the WAL: {e}"))
}
