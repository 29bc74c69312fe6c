//! What can go wrong talking to PostgreSQL, sorted by what the caller should do about it.

use caseload_domain::store::StoreError;
use tokio_postgres::error::SqlState;

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The database cannot be reached, is starting up or shutting down, dropped the connection,
    /// or the pool had no connection to give in time. Nothing was committed by the failed call
    /// unless the connection broke during COMMIT; retrying later is right.
    #[error("PostgreSQL is unavailable: {0}")]
    Unavailable(String),
    /// The transaction lost a serialization or deadlock conflict; running it again may succeed.
    #[error("PostgreSQL transaction conflict: {0}")]
    Conflict(String),
    /// The change log no longer holds every change this reader needs (they were pruned while it
    /// was away): its index must be rebuilt from the tables.
    #[error(
        "the change log was pruned up to transaction {floor}; this position still needs transaction {needed}"
    )]
    Pruned { needed: i64, floor: i64 },
    /// Anything else: bad SQL, a constraint, a schema newer than this server. Not retryable.
    #[error("PostgreSQL: {0}")]
    Backend(String),
}

pub type PgResult<T> = Result<T, PgError>;

impl PgError {
    /// Whether the same call may succeed if made again later, unchanged.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PgError::Unavailable(_) | PgError::Conflict(_))
    }
}

/// SQLSTATE classes and codes that mean "the server cannot serve now" rather than "this request is
/// wrong": connection exceptions (08), operator intervention (57: shutdown, starting up, cancelled
/// by the administrator), insufficient resources (53, e.g. too many connections), and a lock not
/// granted within `lock_timeout` (55P03: another transaction holds it for now).
fn unavailable_code(code: &SqlState) -> bool {
    let code = code.code();
    code.starts_with("08") || code.starts_with("57") || code.starts_with("53") || code == "55P03"
}

/// Whether a driver error without SQLSTATE is about reaching the server (the driver's error kinds
/// are private: an I/O cause, a closed connection, or one of the connection-level messages).
fn connection_trouble(e: &tokio_postgres::Error) -> bool {
    const CONNECTION_LEVEL: [&str; 4] = [
        "timeout waiting for server",
        "unexpected message from server",
        "error performing TLS handshake",
        "error connecting to server",
    ];
    let io_cause = std::error::Error::source(e).is_some_and(|c| c.is::<std::io::Error>());
    e.is_closed() || io_cause || CONNECTION_LEVEL.contains(&e.to_string().as_str())
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> PgError {
        // A database error's own text says what the server refused; the wrapper's says only
        // "db error".
        let text = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |d| d.to_string());
        match e.code() {
            // No SQLSTATE: the connection's own trouble (refused, reset, closed, timed out), or
            // this side's mistake (a parameter or column of the wrong type), which retrying
            // cannot mend.
            None if connection_trouble(&e) => PgError::Unavailable(text),
            None => PgError::Backend(text),
            Some(code) if unavailable_code(code) => PgError::Unavailable(text),
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                PgError::Conflict(text)
            }
            Some(_) => PgError::Backend(text),
        }
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> PgError {
        use deadpool_postgres::PoolError;
        match e {
            PoolError::Backend(e) => e.into(),
            PoolError::Timeout(kind) => {
                PgError::Unavailable(format!("no database connection in time ({kind:?})"))
            }
            PoolError::Closed => PgError::Unavailable("the connection pool is closed".into()),
            other => PgError::Backend(other.to_string()),
        }
    }
}

impl From<PgError> for StoreError {
    fn from(e: PgError) -> StoreError {
        match e {
            PgError::Unavailable(_) | PgError::Conflict(_) => StoreError::Unavailable {
                detail: e.to_string(),
                retry_after_seconds: 1,
            },
            PgError::Pruned { .. } | PgError::Backend(_) => StoreError::Backend(e.to_string()),
        }
    }
}
