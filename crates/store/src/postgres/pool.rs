//! The connection pool: a bounded number of connections, and bounded waits everywhere, so that a
//! database that is down or restarting answers every caller with a retryable error in seconds
//! instead of leaving requests hanging.

use super::error::{PgError, PgResult};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::NoTls;

/// How to reach the database and how many connections to hold.
#[derive(Clone, Debug)]
pub struct PgConfig {
    /// A libpq-style connection string: `postgres://user@host:port/db` or `host=… user=…`.
    pub url: String,
    /// Most connections this server holds open at once.
    pub pool_size: usize,
    /// Longest wait for a TCP connection and the server's greeting.
    pub connect_timeout: Duration,
    /// Longest wait for a free connection from the pool when all are in use (or for a new one,
    /// including `connect_timeout`).
    pub wait_timeout: Duration,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> PgConfig {
        PgConfig {
            url: url.into(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(3),
            wait_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct PgPool {
    pool: Pool,
    /// How its connections are made, for a connection of one's own (the search indexer's).
    connect: tokio_postgres::Config,
}

impl PgPool {
    /// Builds the pool. Connects lazily: a database that is down fails the first `get`, not this.
    pub fn new(config: &PgConfig) -> PgResult<PgPool> {
        let mut pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| PgError::Backend(format!("bad database URL: {e}")))?;
        pg.connect_timeout(config.connect_timeout);
        // A peer that vanished without closing (a dead host, a cut network) is noticed by
        // keepalives rather than never.
        pg.keepalives(true);
        pg.keepalives_idle(Duration::from_secs(10));
        if pg.get_application_name().is_none() {
            pg.application_name("caseload");
        }
        let manager = Manager::from_config(
            pg.clone(),
            NoTls,
            ManagerConfig {
                // A connection closed by a server restart is noticed by its connection task and
                // dropped on checkout; no round trip per checkout.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.wait_timeout))
            .create_timeout(Some(config.wait_timeout.max(config.connect_timeout)))
            .recycle_timeout(Some(config.wait_timeout))
            .build()
            .map_err(|e| PgError::Backend(format!("building the connection pool: {e}")))?;
        Ok(PgPool { pool, connect: pg })
    }

    /// A connection, returned to the pool when dropped.
    pub async fn get(&self) -> PgResult<Object> {
        Ok(self.pool.get().await?)
    }

    /// The settings the pool's connections are made with (timeouts and keepalives included).
    pub fn connect_config(&self) -> &tokio_postgres::Config {
        &self.connect
    }

    /// Connections open now and how many of them are in use (for metrics).
    pub fn usage(&self) -> PoolUsage {
        let status = self.pool.status();
        PoolUsage {
            max: status.max_size,
            open: status.size,
            idle: status.available,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    pub max: usize,
    pub open: usize,
    pub idle: usize,
}
