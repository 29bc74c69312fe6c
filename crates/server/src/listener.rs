//! The accept loop, in place of `axum::serve`, which never times a connection out and accepts
//! until the process runs out of descriptors: then no call succeeds, since the connections that
//! hold them never end (a client that connects and sends nothing, or half a request).
//!
//! Here every connection is served by hyper (HTTP/1.1, or HTTP/2 with prior knowledge) under a
//! watchdog that closes it when it has no request in progress and is
//! - idle (nothing received since its last request ended, or since it was opened) for
//!   `idle`, or
//! - in the middle of a request header for `header` since the header's first byte.
//!
//! A request in progress is never cut by the watchdog: its body is bounded by the body timeout
//! in `http::authenticate`, and the handlers bound their own work. Connections are counted: at
//! the cap a new one makes room by closing the connection idle longest, or is closed itself
//! when every connection has a request in progress, so the descriptors the store and the index
//! need are always there and a real client gets in even while hundreds of idle sockets are held
//! open.
//!
//! Per request this costs a few atomic operations and one clock read (`Busy`); the watchdog's
//! timer is only re-armed when it fires, not per request.

use axum::Router;
use axum::body::{Body, HttpBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower_service::Service;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub idle: Duration,
    pub header: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets every
/// connection finish the request it is serving (idle ones close at once) and returns when all
/// have ended.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    counted: crate::metrics::Connections,
    shutdown: impl Future<Output = ()>,
) {
    counted.max.set(limits.max_connections as i64);
    let registry = Arc::new(Registry {
        epoch: Instant::now(),
        conns: Mutex::new(HashMap::new()),
        live: AtomicUsize::new(0),
        ended: Notify::new(),
        counted,
    });
    let builder = Arc::new(Builder::new(TokioExecutor::new()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(&registry, e).await;
                    continue;
                }
            },
        };
        let at_cap = registry.live.load(Ordering::Acquire) >= limits.max_connections;
        if at_cap && !registry.evict_idlest() {
            // Every connection has a request in progress: this one waits for none of them.
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection refused: every connection is busy"
            );
            registry.counted.refused.inc();
            drop(stream);
            continue;
        }
        if at_cap {
            // Let the evicted connections close (and give their descriptors back) before the
            // next accept.
            tokio::task::yield_now().await;
        }
        next_id += 1;
        let conn = registry.add(next_id);
        tokio::spawn(serve_connection(
            stream,
            conn,
            registry.clone(),
            builder.clone(),
            router.clone(),
            limits,
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    loop {
        let ended = registry.ended.notified();
        if registry.live.load(Ordering::Acquire) == 0 {
            break;
        }
        ended.await;
    }
}

/// Out of descriptors (or another transient failure): make room if an idle connection can give
/// its descriptor back, otherwise pause before accepting again rather than spin.
async fn accept_failed(registry: &Registry, e: io::Error) {
    let out_of_descriptors = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
    if out_of_descriptors && registry.evict_idlest() {
        tokio::task::yield_now().await;
        return;
    }
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

struct Registry {
    /// Times are kept as milliseconds since this instant in atomics.
    epoch: Instant,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    live: AtomicUsize,
    /// Notified when a connection ends (graceful shutdown waits for the last one).
    ended: Notify,
    /// What `/metrics` shows of the connections.
    counted: crate::metrics::Connections,
}

impl Registry {
    fn add(&self, id: u64) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id,
            epoch: self.epoch,
            inflight: AtomicU32::new(0),
            last_change: AtomicU64::new(self.now_ms()),
            head_started: AtomicU64::new(0),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.live.fetch_add(1, Ordering::AcqRel);
        self.counted.open.inc();
        self.lock().insert(id, conn.clone());
        conn
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
        self.live.fetch_sub(1, Ordering::AcqRel);
        self.counted.open.dec();
        self.ended.notify_waiters();
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the connection without a request in progress that has been quiet longest to close.
    /// False when every connection is busy.
    fn evict_idlest(&self) -> bool {
        let conns = self.lock();
        let idlest = conns
            .values()
            .filter(|c| {
                c.inflight.load(Ordering::Acquire) == 0 && !c.evicting.load(Ordering::Acquire)
            })
            .min_by_key(|c| c.quiet_since());
        match idlest {
            Some(c) => {
                c.evicting.store(true, Ordering::Release);
                c.evict.notify_one();
                self.counted.evicted.inc();
                true
            }
            None => false,
        }
    }
}

/// One connection's state, shared by its task, its reads (`Watched`) and its requests (`Busy`).
struct Conn {
    id: u64,
    epoch: Instant,
    /// Requests in progress: from the call of the service until the response body is dropped
    /// (written in full, or the connection gone).
    inflight: AtomicU32,
    /// When the last request ended (or the connection opened), in ms since `epoch`.
    last_change: AtomicU64,
    /// When the first byte after that arrived, in ms since `epoch`, plus one; 0 while none has.
    head_started: AtomicU64,
    evicting: AtomicBool,
    evict: Notify,
}

impl Conn {
    fn quiet_since(&self) -> u64 {
        match self.head_started.load(Ordering::Acquire) {
            0 => self.last_change.load(Ordering::Acquire),
            started => started - 1,
        }
    }

    /// When the watchdog closes the connection if nothing changes, or `None` while a request
    /// is in progress.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.inflight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let ms = |v: u64| self.epoch + Duration::from_millis(v);
        Some(match self.head_started.load(Ordering::Acquire) {
            0 => ms(self.last_change.load(Ordering::Acquire)) + limits.idle,
            started => ms(started - 1) + limits.header,
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

async fn serve_connection(
    stream: TcpStream,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    builder: Arc<Builder<TokioExecutor>>,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched {
        io: stream,
        conn: conn.clone(),
    });
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = Busy::start(conn.clone());
            let mut router = router.clone();
            let response = router.call(request.map(Body::new));
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Guarded { body, _busy: busy }),
                )
            }
        })
    };
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        // A request header that starts arriving moves the deadline earlier without waking this
        // task, so the watchdog also looks at least once per header timeout: cheaper than a
        // notification per request.
        let next_look = Instant::now()
            + if stopping {
                STOPPING_LOOK
            } else {
                limits.header.min(limits.idle)
            };
        let wake = conn
            .deadline(&limits)
            .map_or(next_look, |d| d.min(next_look));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            () = tokio::time::sleep_until(wake) => {
                if stopping && conn.inflight.load(Ordering::Acquire) == 0 {
                    // Shutting down, and nothing in progress: no reason to wait for anything.
                    break;
                }
                if conn.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("connection timed out");
                    break;
                }
            }
            () = conn.evict.notified() => {
                // Requests start only while this task polls the connection, so none can begin
                // between this check and the drop.
                if conn.inflight.load(Ordering::Acquire) == 0 {
                    tracing::debug!("idle connection closed to make room for a new one");
                    break;
                }
                conn.evicting.store(false, Ordering::Release);
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_err() || *stop.borrow() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    registry.remove(conn.id);
}

/// How often a connection looks whether it can close during a graceful shutdown: hyper closes
/// an HTTP/1.1 connection after its response, but not one still receiving a refused body.
const STOPPING_LOOK: Duration = Duration::from_millis(100);

/// A request in progress on its connection, until dropped.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Busy {
        conn.inflight.fetch_add(1, Ordering::AcqRel);
        conn.head_started.store(0, Ordering::Release);
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.last_change.store(conn.now_ms(), Ordering::Release);
        conn.head_started.store(0, Ordering::Release);
        conn.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in progress until hyper has written it
/// (or dropped it with the connection).
struct Guarded {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Guarded {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The connection's socket, noting when the first byte of a request header arrives.
struct Watched {
    io: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            let conn = &self.conn;
            if conn.inflight.load(Ordering::Acquire) == 0
                && conn.head_started.load(Ordering::Acquire) == 0
            {
                conn.head_started
                    .store(conn.now_ms() + 1, Ordering::Release);
            }
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Descriptors kept out of the connection cap: SQLite's database, WAL and shared-memory files
/// for every pooled connection, the search index's files, webhook connections, the runtime's
/// own. Counted in /proc/PID/fd (no client connections) on a release server over a 1M-case data
/// directory: 25 at start-up, 26 after a mix of searches, at most 54 while 16 writers added 22,600
/// cases in 60 s and the index committed and merged segments (194 files in `index/` at the peak;
/// Tantivy keeps a segment's files memory-mapped, not open). 96 is that peak with ~75% to spare
/// (webhook connections come out of it too). `scripts/count-descriptors.py` measures it again.
const RESERVED_DESCRIPTORS: usize = 96;

/// Raises the soft limit on open descriptors to the hard limit (the default soft limit, often
/// 1,024, is what a busy server runs out of first) and returns the connection cap it leaves
/// room for, or `requested` if that fits.
pub fn connection_cap(requested: Option<usize>) -> usize {
    let limit = raise_descriptor_limit();
    let fits = limit.saturating_sub(RESERVED_DESCRIPTORS).max(16);
    match requested {
        Some(n) if n <= fits => n.max(1),
        Some(n) => {
            tracing::warn!(
                requested = n,
                descriptor_limit = limit,
                using = fits,
                "--max-connections leaves no descriptors for the store; lowered"
            );
            fits
        }
        None => fits,
    }
}

/// The soft `RLIMIT_NOFILE` after raising it as far as the hard limit allows.
#[allow(unsafe_code)] // getrlimit/setrlimit: std has no safe wrapper.
fn raise_descriptor_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    // An unlimited hard limit cannot be the soft one (the kernel caps it at nr_open).
    let target = limit.rlim_max.min(1 << 20);
    if limit.rlim_cur < target {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads the struct it is given and nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = target;
        }
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}
