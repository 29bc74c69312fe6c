//! Databases for the PostgreSQL tests.
//!
//! `TestDb` creates a uniquely named database on the shared server (127.0.0.1:5432 unless
//! `CASELOAD_TEST_POSTGRES_URL` names another, as a libpq string or URL of its maintenance
//! database) and drops it when dropped, which also happens when the test panics, so runs never see
//! each other's data. `PrivateServer` runs a throw-away PostgreSQL of its own (initdb + pg_ctl on a
//! free port in a temporary directory) for tests that stop and restart the server. As root it runs
//! the PostgreSQL binaries as the `postgres` user (initdb refuses root); the binaries are taken from
//! `CASELOAD_PG_BIN`, else `pg_config --bindir`, else `/usr/lib/postgresql/15/bin`.
//!
//! Without a reachable PostgreSQL a test returns early, after one note on the terminal, unless
//! `CASELOAD_REQUIRE_POSTGRES` is set (CI sets it): then it fails.

use caseload_store::postgres::{MIGRATIONS, PgConfig, PgPool, migrate};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_postgres::NoTls;

const ADMIN_URL_ENV: &str = "CASELOAD_TEST_POSTGRES_URL";
const REQUIRE_ENV: &str = "CASELOAD_REQUIRE_POSTGRES";
const DEFAULT_ADMIN_URL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Fails the test when PostgreSQL is required, else notes the skip once and returns `None`.
fn unavailable<T>(why: &str) -> Option<T> {
    if required() {
        panic!("{REQUIRE_ENV} is set but {why}");
    }
    static NOTE: Once = Once::new();
    NOTE.call_once(|| {
        // Straight to the terminal: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPING the PostgreSQL tests: {why}. Start PostgreSQL on 127.0.0.1:5432 (trust \
             auth) or set {ADMIN_URL_ENV}; set {REQUIRE_ENV}=1 to make this a failure.\n"
        );
    });
    None
}

/// A name no other run or test uses.
fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` (a libpq key=value string or a postgres:// URL) pointed at database `name`.
fn with_dbname(url: &str, name: &str) -> String {
    match url.find("://") {
        None => format!("{url} dbname={name}"),
        Some(scheme) => {
            let rest = scheme + 3;
            let path = url[rest..].find('/').map(|i| rest + i);
            let query = url[rest..].find('?').map(|i| rest + i);
            let host_end = path.or(query).unwrap_or(url.len());
            let query = query.map_or("", |q| &url[q..]);
            format!("{}/{name}{query}", &url[..host_end])
        }
    }
}

/// A connection whose driver task runs on the current runtime.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A database of its own for one test, dropped with it.
pub struct TestDb {
    pub name: String,
    admin_url: String,
    pub url: String,
}

impl TestDb {
    /// A new empty database, or `None` (skip) when no PostgreSQL is reachable.
    pub async fn create() -> Option<TestDb> {
        let admin_url = std::env::var(ADMIN_URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let admin = match tokio::time::timeout(Duration::from_secs(5), connect(&admin_url)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return unavailable(&format!("PostgreSQL at {admin_url:?} refused: {e}")),
            Err(_) => return unavailable(&format!("PostgreSQL at {admin_url:?} did not answer")),
        };
        let name = unique_name("caseload_test");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        let url = with_dbname(&admin_url, &name);
        Some(TestDb {
            name,
            admin_url,
            url,
        })
    }

    /// A new database with caseload's schema.
    pub async fn migrated() -> Option<TestDb> {
        let db = TestDb::create().await?;
        let mut client = db.client().await;
        migrate(&mut client, MIGRATIONS)
            .await
            .expect("migrating a fresh database");
        Some(db)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.name))
    }

    /// The URL of another database on the same server.
    pub fn url_of(&self, dbname: &str) -> String {
        with_dbname(&self.admin_url, dbname)
    }

    pub fn config(&self) -> PgConfig {
        PgConfig::new(self.url.clone())
    }

    pub fn pool(&self) -> PgPool {
        PgPool::new(&self.config()).expect("a pool for the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime (possibly while a panic unwinds it), where nothing
        // can be awaited: a thread of its own with its own runtime drops the database. FORCE ends
        // connections the test left open.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            rt.block_on(async {
                let admin = connect(&admin_url).await?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test database {}: {dropped:?}",
                self.name
            );
        }
    }
}

/// A PostgreSQL server of the test's own, on a free port, removed when dropped.
pub struct PrivateServer {
    root: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivateServer {
    /// Creates and starts the server, or `None` (skip) when PostgreSQL is not installed.
    pub fn start() -> Option<PrivateServer> {
        let Some(bin) = pg_bin() else {
            return unavailable(
                "the PostgreSQL server binaries (initdb, pg_ctl) are not installed",
            );
        };
        let as_postgres = is_root();
        let root = std::env::temp_dir().join(unique_name("caseload-pg"));
        std::fs::create_dir_all(&root).expect("a directory for the private server");
        let port = free_port();
        let server = PrivateServer {
            root,
            bin,
            port,
            as_postgres,
        };
        if as_postgres {
            server.run("chown", &["postgres:", path_str(&server.root)], false);
        }
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            true,
        );
        server.start_again();
        Some(server)
    }

    /// `start`, off the runtime's threads (it waits for initdb and pg_ctl).
    pub async fn start_off_runtime() -> Option<PrivateServer> {
        tokio::task::spawn_blocking(PrivateServer::start)
            .await
            .expect("starting the private server")
    }

    /// `stop`, off the runtime's threads.
    pub async fn stopped(self) -> PrivateServer {
        tokio::task::spawn_blocking(move || {
            self.stop();
            self
        })
        .await
        .expect("stopping the private server")
    }

    /// `start_again`, off the runtime's threads.
    pub async fn restarted(self) -> PrivateServer {
        tokio::task::spawn_blocking(move || {
            self.start_again();
            self
        })
        .await
        .expect("restarting the private server")
    }

    /// A small pool with short bounded waits, for tests that stop the server under it.
    pub fn short_wait_pool(&self) -> PgPool {
        PgPool::new(&PgConfig {
            pool_size: 4,
            connect_timeout: Duration::from_secs(2),
            wait_timeout: Duration::from_secs(3),
            ..PgConfig::new(self.url())
        })
        .expect("a pool for the private server")
    }

    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Stops the server the way an administrator's restart does (`pg_ctl stop -m fast`: open
    /// sessions are terminated, then it shuts down).
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]);
    }

    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            path_str(&self.root)
        );
        let log = self.root.join("server.log");
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            path_str(&log),
            "-o",
            &options,
        ]);
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data();
        let mut all = vec!["-D", path_str(&data)];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all, true);
    }

    /// Runs a PostgreSQL binary (`from_bin`) or a system command, as `postgres` when root.
    fn run(&self, program: &str, args: &[&str], from_bin: bool) {
        let program_path = if from_bin {
            self.bin.join(program)
        } else {
            PathBuf::from(program)
        };
        let mut command = if self.as_postgres && from_bin {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program_path);
            c
        } else {
            Command::new(&program_path)
        };
        let output = command
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let data = self.data();
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = command
            .args(["-D", path_str(&data), "stop", "-m", "immediate", "-w"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn pg_bin() -> Option<PathBuf> {
    let candidates = std::env::var_os("CASELOAD_PG_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            Command::new("pg_config")
                .arg("--bindir")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())),
        )
        .chain([PathBuf::from("/usr/lib/postgresql/15/bin")]);
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn database_urls_get_the_test_database_name() {
    assert_eq!(
        with_dbname("host=h user=u dbname=postgres", "t1"),
        "host=h user=u dbname=postgres dbname=t1"
    );
    assert_eq!(
        with_dbname("postgres://u@h:5/postgres", "t1"),
        "postgres://u@h:5/t1"
    );
    assert_eq!(with_dbname("postgres://u@h:5", "t1"), "postgres://u@h:5/t1");
    assert_eq!(
        with_dbname("postgresql://u@h/db?sslmode=disable", "t1"),
        "postgresql://u@h/t1?sslmode=disable"
    );
}

async fn database_exists(probe: &tokio_postgres::Client, name: &str) -> bool {
    probe
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

#[tokio::test]
async fn a_test_database_is_dropped_after_the_test_even_when_it_fails() {
    let Some(probe_db) = TestDb::create().await else {
        return;
    };
    let probe = probe_db.client().await;

    let passing = TestDb::create().await.unwrap();
    let name = passing.name.clone();
    let _open = passing.client().await;
    assert!(database_exists(&probe, &name).await);
    drop(passing);
    assert!(
        !database_exists(&probe, &name).await,
        "dropped, open connection and all"
    );

    let (tx, rx) = tokio::sync::oneshot::channel();
    let failing = tokio::spawn(async move {
        let db = TestDb::create().await.unwrap();
        tx.send(db.name.clone()).unwrap();
        panic!("a failing test");
    });
    assert!(failing.await.unwrap_err().is_panic());
    let name = rx.await.unwrap();
    assert!(
        !database_exists(&probe, &name).await,
        "dropped while the panic unwound"
    );
}
