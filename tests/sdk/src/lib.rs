//! Test harness: starts the real `caseload` binary on a free port and builds SDK clients for it;
//! `helpers` has the values and error readers every test file uses.
//!
//! The binary is the one cargo built for this workspace (`$CARGO_TARGET_DIR/debug/caseload`, or
//! `CASELOAD_BIN` if set). Each `Server` is its own process with its own data, stopped on drop:
//! embedded (in memory, or SQLite in a data directory), or with `CASELOAD_TEST_DATABASE_URL` set
//! on a PostgreSQL database of its own (`postgres`).

use aws_sdk_connectcases::config::{BehaviorVersion, Credentials, Region};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use aws_sdk_connectcases as sdk;
pub use helpers::*;

mod helpers;
pub mod postgres;

/// Path of the server binary under test.
pub fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("CASELOAD_BIN") {
        return PathBuf::from(p);
    }
    // Integration tests run from target/debug/deps; the binary is in target/debug.
    let exe = std::env::current_exe().expect("current exe");
    let debug_dir = exe.parent().and_then(Path::parent).expect("target/debug");
    debug_dir.join("caseload")
}

pub struct Server {
    pub endpoint: String,
    child: Child,
    args: Vec<String>,
    /// On PostgreSQL instead of in memory: its database and index directory, dropped after the
    /// process is stopped (fields drop after `Drop::drop`).
    _own: Option<(postgres::TestDatabase, TempDir)>,
}

impl Server {
    /// A throw-away in-memory server.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// An in-memory server with extra `serve` flags (e.g. lowered quotas).
    pub fn start_with(extra: &[&str]) -> Server {
        let mut args = vec!["--in-memory".to_owned()];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(args)
    }

    /// A server keeping its data in `dir` (on PostgreSQL: in the database `dir` records); start
    /// another on the same dir to test restarts.
    pub fn start_persistent(dir: &Path) -> Server {
        Self::spawn(vec!["--data-dir".into(), dir.display().to_string()])
    }

    /// An embedded server keeping its data in `dir`'s SQLite file, whichever backend the suite
    /// runs on: for the offline tools that read and write a data directory (export, direct
    /// import).
    pub fn start_embedded(dir: &Path) -> Server {
        Self::launch(vec!["--data-dir".into(), dir.display().to_string()], None)
    }

    /// A server with arbitrary `serve` flags (no `--in-memory` added). When the suite runs on
    /// PostgreSQL, `--in-memory` becomes a database of the server's own and `--data-dir DIR` the
    /// database `DIR` records (see `postgres`).
    pub fn spawn(mut args: Vec<String>) -> Server {
        let has = |args: &[String], flag: &str| args.iter().any(|a| a == flag);
        if postgres::admin_url().is_none() || has(&args, "--database-url") {
            return Self::launch(args, None);
        }
        if let Some(i) = args.iter().position(|a| a == "--in-memory") {
            let db = postgres::TestDatabase::create().expect("the admin URL is set");
            let dir = TempDir::new("pg-index");
            args.splice(
                i..=i,
                [
                    "--database-url".into(),
                    db.url.clone(),
                    "--data-dir".into(),
                    dir.path().display().to_string(),
                ],
            );
            return Self::launch(args, Some((db, dir)));
        }
        if let Some(i) = args.iter().position(|a| a == "--data-dir") {
            let dir = Path::new(args.get(i + 1).expect("--data-dir DIR"));
            let url = postgres::TestDatabase::of_dir(dir).expect("the admin URL is set");
            args.extend(["--database-url".into(), url]);
        }
        Self::launch(args, None)
    }

    fn launch(args: Vec<String>, own: Option<(postgres::TestDatabase, TempDir)>) -> Server {
        let mut cmd = Command::new(binary());
        cmd.arg("serve");
        if !args.iter().any(|a| a == "--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = cmd
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e} (build it with `cargo build -p caseload`)",
                    binary().display()
                )
            });
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_owned();
        Server {
            endpoint,
            child,
            args,
            _own: own,
        }
    }

    /// Stops the server abruptly (SIGKILL): nothing gets a chance to flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server gracefully (SIGTERM) and returns its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait for the server")
    }

    /// The flags this server was started with (to start a successor on the same data; a server
    /// that was `--in-memory` on PostgreSQL names its own database, dropped with it).
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// A client for the default identity (`test`/`test`, account 000000000000) in us-east-1.
    pub fn client(&self) -> sdk::Client {
        self.client_as("test", "test", "us-east-1")
    }

    /// A client signing with the given key and secret, for `region`. Retries are off, so a test
    /// sees exactly the server's first answer.
    pub fn client_as(&self, key: &str, secret: &str, region: &str) -> sdk::Client {
        let conf = sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(key, secret, None, None, "caseload-tests"))
            .endpoint_url(&self.endpoint)
            .retry_config(sdk::config::retry::RetryConfig::disabled())
            .build();
        sdk::Client::from_conf(conf)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "caseload-test-{name}-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        postgres::drop_recorded(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
