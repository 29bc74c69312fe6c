//! The store the server runs on: a SQLite file in `--data-dir` (or memory), or with
//! `--database-url` a PostgreSQL database shared with other servers, `--data-dir` then holding
//! only this server's search index.

use crate::cli::ServeArgs;
use caseload_domain::store::{Store, StoreError};
use caseload_store::SqliteStore;
use caseload_store::postgres::{PgConfig, PgStore};
use caseload_store::stats::Stats;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The directory under `--data-dir` that holds a PostgreSQL server's search index (not SQLite's
/// `index`, so that a data directory used by both modes never mixes their indexes).
const PG_INDEX_DIR: &str = "pg-index";

/// The pause between two attempts to reach PostgreSQL at start-up.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The opened store, as the service and as the metrics see it.
pub struct Opened {
    pub store: Arc<dyn Store>,
    pub stats: Arc<dyn Stats>,
}

pub async fn open(args: &ServeArgs, node: &str) -> Result<Opened, String> {
    let search_wait = Duration::from_millis(args.search_wait_ms.max(1));
    let Some(url) = &args.database.database_url else {
        let store = Arc::new(
            if args.in_memory {
                SqliteStore::in_memory()
            } else {
                SqliteStore::open(&args.data_dir)
            }
            .map_err(|e| e.to_string())?
            .with_search_wait(search_wait),
        );
        return Ok(Opened {
            store: store.clone(),
            stats: store,
        });
    };
    let config = PgConfig {
        pool_size: args.database.database_pool_size.max(1),
        ..PgConfig::new(url.clone())
    };
    let patience = Duration::from_secs_f64(args.database.database_start_timeout);
    let store = open_postgres(&config, patience).await.map_err(|e| {
        format!(
            "cannot open the PostgreSQL database {}: {e}",
            without_password(url)
        )
    })?;
    let dir = args.data_dir.join(PG_INDEX_DIR);
    let store = Arc::new(
        store
            .with_search(node, &dir)
            .map_err(|e| format!("cannot open the search index in {}: {e}", dir.display()))?
            .with_search_wait(search_wait),
    );
    Ok(Opened {
        store: store.clone(),
        stats: store,
    })
}

/// Connects and migrates, trying again while the database is unreachable (it may be starting
/// beside this server), for at most `patience`; any other failure (a bad URL, a refused login,
/// a missing database) ends it at once.
async fn open_postgres(config: &PgConfig, patience: Duration) -> Result<PgStore, String> {
    let started = Instant::now();
    loop {
        match PgStore::open(config).await {
            Ok(store) => return Ok(store),
            Err(StoreError::Unavailable { detail, .. }) => {
                if started.elapsed() + RETRY_PAUSE >= patience {
                    return Err(format!(
                        "{detail} (still unreachable after {:.0?})",
                        started.elapsed()
                    ));
                }
                tracing::warn!(error = %detail, "PostgreSQL is not reachable yet; trying again");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A database URL fit for a message: a `postgres://user:secret@host` URL loses its password, a
/// `key=value` string its `password=` value.
fn without_password(url: &str) -> String {
    if let Some(scheme) = url.find("://") {
        let rest = scheme + 3;
        let authority_end = url[rest..].find(['/', '?']).map_or(url.len(), |i| rest + i);
        if let Some(at) = url[rest..authority_end].rfind('@').map(|i| rest + i)
            && let Some(colon) = url[rest..at].find(':').map(|i| rest + i)
        {
            return format!("{}:***{}", &url[..colon], &url[at..]);
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***".to_owned(),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn messages_never_show_the_password() {
        assert_eq!(
            without_password("postgres://app:s3cret@db:5432/caseload"),
            "postgres://app:***@db:5432/caseload"
        );
        assert_eq!(
            without_password("postgres://app@db/caseload?sslmode=disable"),
            "postgres://app@db/caseload?sslmode=disable"
        );
        // An `@` after the authority is not a password's end.
        assert_eq!(
            without_password("postgres://db/caseload?application_name=a:b@c"),
            "postgres://db/caseload?application_name=a:b@c"
        );
        assert_eq!(
            without_password("host=db user=app password=s3cret dbname=caseload"),
            "host=db user=app password=*** dbname=caseload"
        );
    }
}
