//! The connection pool never leaves a caller hanging: a database that is down, restarting or out
//! of connections answers with a retryable error in seconds, and the pool recovers by itself.

use crate::harness::{PrivateServer, TestDb};
use caseload_store::postgres::{MIGRATIONS, PgConfig, PgError, PgPool, migrate, schema_version};
use std::future::Future;
use std::time::Duration;

/// Far longer than any bounded wait of the pool (which are a few seconds here): reaching it means
/// a call hung.
const HANG: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, call)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {HANG:?}"))
}

async fn select_one(pool: &PgPool) -> Result<i32, PgError> {
    let client = pool.get().await?;
    Ok(client.query_one("SELECT 1", &[]).await?.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_down_or_restarting_answers_retryable_errors_and_the_pool_recovers() {
    let Some(server) = PrivateServer::start_off_runtime().await else {
        return;
    };
    let pool = server.short_wait_pool();
    {
        let mut client = pool.get().await.unwrap();
        migrate(&mut client, MIGRATIONS).await.unwrap();
    }
    assert_eq!(select_one(&pool).await.unwrap(), 1);

    // A statement in flight when the server goes down fails, retryably, rather than waiting.
    let busy = pool.get().await.unwrap();
    let in_flight = tokio::spawn(async move { busy.query_one("SELECT pg_sleep(60)", &[]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server = server.stopped().await;
    let cut = bounded("a statement during shutdown", in_flight)
        .await
        .unwrap()
        .map_err(PgError::from)
        .unwrap_err();
    assert!(cut.is_retryable(), "{cut}");

    for attempt in 0..5 {
        let refused = bounded("a call while the database is down", select_one(&pool))
            .await
            .unwrap_err();
        assert!(refused.is_retryable(), "attempt {attempt}: {refused}");
    }
    let usage = pool.usage();
    assert_eq!(usage.max, 4);

    let server = server.restarted().await;
    // Back up: the first call after the restart may still meet a connection from before it, but
    // within a few calls every one succeeds, with no action from the caller.
    let mut recovered = false;
    for _ in 0..50 {
        if bounded("a call after the restart", select_one(&pool))
            .await
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool did not recover after the restart");
    for _ in 0..20 {
        assert_eq!(select_one(&pool).await.unwrap(), 1);
    }
    let client = pool.get().await.unwrap();
    assert_eq!(
        schema_version(&client).await.unwrap(),
        MIGRATIONS.len() as i32,
        "what was committed before the restart is there"
    );
    drop(client);
    drop(server);
}

#[tokio::test]
async fn an_exhausted_pool_answers_unavailable_after_its_wait_timeout() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let pool = PgPool::new(&PgConfig {
        pool_size: 1,
        wait_timeout: Duration::from_millis(300),
        ..db.config()
    })
    .unwrap();
    let held = pool.get().await.unwrap();
    let waited = bounded("a checkout from a full pool", pool.get())
        .await
        .map(drop)
        .unwrap_err();
    assert!(matches!(waited, PgError::Unavailable(_)), "{waited}");
    assert_eq!(pool.usage().idle, 0);
    drop(held);
    assert_eq!(
        select_one(&pool).await.unwrap(),
        1,
        "usable again once returned"
    );
}

#[tokio::test]
async fn a_wrong_statement_is_not_retryable_and_a_refused_connection_is() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let wrong = PgError::from(client.query_one("SELECT 1/0", &[]).await.unwrap_err());
    assert!(matches!(wrong, PgError::Backend(_)), "{wrong}");
    assert!(wrong.to_string().contains("division by zero"), "{wrong}");

    let unknown_db = PgPool::new(&PgConfig::new(db.url_of("no_such_database"))).unwrap();
    let refused = bounded("connecting to a missing database", select_one(&unknown_db))
        .await
        .unwrap_err();
    // The server answers, but not for this database: a configuration error, not an outage.
    assert!(matches!(refused, PgError::Backend(_)), "{refused}");

    let nobody = PgPool::new(&PgConfig {
        connect_timeout: Duration::from_secs(1),
        ..PgConfig::new("host=127.0.0.1 port=1 user=postgres dbname=postgres")
    })
    .unwrap();
    let down = bounded("connecting to a closed port", select_one(&nobody))
        .await
        .unwrap_err();
    assert!(down.is_retryable(), "{down}");
}
