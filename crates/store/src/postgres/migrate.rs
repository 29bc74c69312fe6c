//! Versioned schema migrations, applied by the server itself at start.
//!
//! Every server of a fleet runs this on start, possibly at the same moment. All of it happens in
//! one transaction that first takes a transaction-level advisory lock: the servers queue on the
//! lock, the first applies what is missing, and the others then find nothing left to do. DDL is
//! transactional in PostgreSQL, so a migration that fails leaves no trace and no version recorded.

use super::error::{PgError, PgResult};
use tokio_postgres::Client;

/// One schema version: its SQL runs once, in order, and is recorded in `schema_migrations`.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The schema of this version of caseload, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "change_log",
        sql: include_str!("../../migrations/postgres/0002_change_log.sql"),
    },
    Migration {
        version: 3,
        name: "bytewise_keys",
        sql: include_str!("../../migrations/postgres/0003_bytewise_keys.sql"),
    },
    Migration {
        version: 4,
        name: "schema_generation",
        sql: include_str!("../../migrations/postgres/0004_schema_generation.sql"),
    },
    Migration {
        version: 5,
        name: "delivery_leases",
        sql: include_str!("../../migrations/postgres/0005_delivery_leases.sql"),
    },
];

/// The advisory lock key the migration step holds ("caseload" in ASCII, then a 1 for the
/// migration lock), distinct from any other lock caseload takes.
const MIGRATION_LOCK: i64 = 0x6361_7365_6c6f_6101;

/// Brings the database to the latest of `migrations` (normally `MIGRATIONS`); returns the
/// versions it applied (none when another server, or an earlier start, already did).
pub async fn migrate(client: &mut Client, migrations: &[Migration]) -> PgResult<Vec<i32>> {
    check_order(migrations)?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    // Under the lock, each statement sees what earlier holders committed (READ COMMITTED).
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: Vec<(i32, String)> = tx
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (version, name) in &applied {
        match migrations.iter().find(|m| m.version == *version) {
            Some(m) if m.name == name => {}
            Some(m) => {
                return Err(PgError::Backend(format!(
                    "schema version {version} in the database is {name:?}, this server knows it as {:?}",
                    m.name
                )));
            }
            None => {
                return Err(PgError::Backend(format!(
                    "the database has schema version {version} ({name}), newer than this server \
                     knows (up to {}): run a caseload at least as new as the one that migrated it",
                    migrations.last().map_or(0, |m| m.version)
                )));
            }
        }
    }
    let mut done = Vec::new();
    for m in migrations {
        if applied.iter().any(|(v, _)| *v == m.version) {
            continue;
        }
        tx.batch_execute(m.sql).await.map_err(|e| {
            PgError::Backend(format!(
                "migration {} ({}) failed: {}",
                m.version,
                m.name,
                PgError::from(e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await?;
        done.push(m.version);
    }
    tx.commit().await?;
    Ok(done)
}

/// The schema version the database is at (0 before the first migration).
pub async fn schema_version(client: &Client) -> PgResult<i32> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0))
}

fn check_order(migrations: &[Migration]) -> PgResult<()> {
    for (i, m) in migrations.iter().enumerate() {
        if m.version != i as i32 + 1 {
            return Err(PgError::Backend(format!(
                "migration {:?} has version {}, expected {}",
                m.name,
                m.version,
                i + 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS, check_order};

    #[test]
    fn shipped_migrations_are_numbered_from_one_without_gaps() {
        check_order(MIGRATIONS).expect("MIGRATIONS in order");
    }
}
