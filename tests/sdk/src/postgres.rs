//! The suite on PostgreSQL: with `CASELOAD_TEST_DATABASE_URL` set (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`), every test server runs with `--database-url`
//! on a database of its own, created before it starts and dropped after it stops (with FORCE, so
//! a server killed mid-way does not keep it). Without it every server is embedded, as before.
//!
//! A server on a data directory (`Server::start_persistent`, restarts on the same data) uses the
//! database recorded in the directory's `DB_MARKER` file, so that its successor sees the same
//! data; `TempDir` drops that database with the directory.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_postgres::NoTls;

pub const ADMIN_URL_ENV: &str = "CASELOAD_TEST_DATABASE_URL";

/// The file in a data directory that names its test database.
pub const DB_MARKER: &str = "test-database";

/// The admin URL, when the suite runs on PostgreSQL.
pub fn admin_url() -> Option<String> {
    std::env::var(ADMIN_URL_ENV).ok().filter(|u| !u.is_empty())
}

/// A database of one test's own, dropped with this value.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A new empty database, or `None` when the suite runs embedded.
    pub fn create() -> Option<TestDatabase> {
        let admin = admin_url()?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "caseload_sdk_{}_{nanos}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run_admin(&admin, format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating test database {name} on {admin}: {e}"));
        Some(TestDatabase {
            url: database_url(&admin, &name),
            name,
        })
    }

    /// The database recorded in data directory `dir`, created (and recorded) on first use.
    pub fn of_dir(dir: &Path) -> Option<String> {
        let admin = admin_url()?;
        let marker = dir.join(DB_MARKER);
        let name = match std::fs::read_to_string(&marker) {
            Ok(name) => name.trim().to_owned(),
            Err(_) => {
                let db = TestDatabase::create()?;
                std::fs::create_dir_all(dir).expect("create the data directory");
                std::fs::write(&marker, &db.name).expect("record the test database");
                // From now on the directory owns it (`drop_recorded`).
                let name = db.name.clone();
                std::mem::forget(db);
                name
            }
        };
        Some(database_url(&admin, &name))
    }
}

/// The URL of the database a server on PostgreSQL used with data directory `dir`, if one did
/// (for the offline tools: `caseload export --database-url`).
pub fn recorded_url(dir: &Path) -> Option<String> {
    let admin = admin_url()?;
    let name = std::fs::read_to_string(dir.join(DB_MARKER)).ok()?;
    Some(database_url(&admin, name.trim()))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop_database(&self.name);
    }
}

/// Drops the databases recorded in `dir` and its subdirectories (a `TempDir` going away).
pub fn drop_recorded(dir: &Path) {
    if let Ok(name) = std::fs::read_to_string(dir.join(DB_MARKER)) {
        drop_database(name.trim());
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            drop_recorded(&entry.path());
        }
    }
}

fn drop_database(name: &str) {
    let Some(admin) = admin_url() else { return };
    if let Err(e) = run_admin(
        &admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    ) {
        eprintln!("could not drop test database {name}: {e}");
    }
}

/// The admin URL pointed at database `name`: libpq lets a later `dbname` override the first,
/// as a query parameter of a URL or one more pair of a key=value string.
fn database_url(admin: &str, name: &str) -> String {
    if admin.contains("://") {
        let sep = if admin.contains('?') { '&' } else { '?' };
        format!("{admin}{sep}dbname={name}")
    } else {
        format!("{admin} dbname={name}")
    }
}

/// Runs one statement on the admin database, on a thread with a runtime of its own (callers are
/// synchronous, some inside a test's runtime, some in a `Drop` while a panic unwinds).
fn run_admin(admin: &str, sql: String) -> Result<(), String> {
    let admin = admin.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin, NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "the admin thread panicked".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn the_database_name_is_added_to_either_form() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/postgres?dbname=x"
        );
        assert_eq!(
            database_url("postgres://postgres@h/postgres?sslmode=disable", "x"),
            "postgres://postgres@h/postgres?sslmode=disable&dbname=x"
        );
        assert_eq!(
            database_url("host=h user=postgres", "x"),
            "host=h user=postgres dbname=x"
        );
    }
}
