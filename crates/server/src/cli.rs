//! The command line. Every flag has an environment variable so containers and CI can configure
//! the server without arguments.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "caseload",
    version,
    about = "An open-source server for the Amazon Connect Cases API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub log: LogArgs,
}

/// How this process logs (every subcommand).
#[derive(Args, Debug, Clone)]
pub struct LogArgs {
    /// This server's name in every log line and in the `caseload_node_info` metric, to tell a
    /// fleet's servers apart. Default: the host name.
    #[arg(long, env = "CASELOAD_NODE_NAME", global = true)]
    pub node_name: Option<String>,

    /// `text`, or `json` for one JSON object per line. The level is set by CASELOAD_LOG
    /// (e.g. `info`, `caseload=debug`; default `warn`).
    #[arg(
        long,
        env = "CASELOAD_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "text"
    )]
    pub log_format: crate::logging::LogFormat,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// Rebuild the search index of a data directory from its database (the server must not be
    /// running on it).
    Reindex(ReindexArgs),
    /// Compare the search index of a data directory with its database (per domain: the number
    /// of cases, and every case id and version) and name what differs; exit status 1 when they
    /// differ. The server must not be running on it.
    Check(CheckArgs),
    /// Write a whole domain (schema, rules, cases, tags) as newline-delimited JSON (the server
    /// must not be running on the data directory).
    Export(ExportArgs),
    /// Load an export file into a new (or empty) domain: directly into a data directory with the
    /// server stopped, or through a running server with --endpoint.
    Import(ImportArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Directory holding the SQLite database.
    #[arg(long, env = "CASELOAD_DATA_DIR", default_value = "./caseload-data")]
    pub data_dir: PathBuf,
    /// Export from this PostgreSQL database instead (servers may keep running on it).
    #[arg(long, env = "CASELOAD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The domain to export.
    #[arg(long)]
    pub domain_id: String,
    /// The account that owns the domain.
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// The export file (NDJSON).
    pub file: PathBuf,
    /// Import directly into this data directory (the server must be stopped).
    #[arg(long, env = "CASELOAD_DATA_DIR", default_value = "./caseload-data")]
    pub data_dir: PathBuf,
    /// Import through the server at this URL instead (e.g. http://127.0.0.1:4599), signing with
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Set for servers on PostgreSQL: a direct import into PostgreSQL is not supported yet, so
    /// without --endpoint the import stops with a message rather than write to --data-dir.
    #[arg(long, env = "CASELOAD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Import into this existing domain, which must be empty (no custom fields, templates,
    /// layouts or cases), instead of creating one.
    #[arg(long)]
    pub domain_id: Option<String>,
    /// Name of the new domain (default: the name in the file).
    #[arg(long, conflicts_with = "domain_id")]
    pub name: Option<String>,
    /// Account of the domain (direct import; through a server, the credentials decide).
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
    /// Region of the domain, and of the signature with --endpoint.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    #[arg(
        long,
        env = "AWS_ACCESS_KEY_ID",
        default_value = "test",
        hide_env_values = true
    )]
    pub access_key_id: String,
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "test",
        hide_env_values = true
    )]
    pub secret_access_key: String,
    /// Cases per transaction (direct import).
    #[arg(long, default_value_t = 10_000)]
    pub batch_size: usize,
    /// CreateCase calls in flight (import through a server).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// Directory holding the SQLite database.
    #[arg(long, env = "CASELOAD_DATA_DIR", default_value = "./caseload-data")]
    pub data_dir: PathBuf,
    /// Rebuild the index's documents of the domains that differ (exit status 0 once they agree).
    #[arg(long)]
    pub repair: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ReindexArgs {
    /// Directory holding the SQLite database.
    #[arg(long, env = "CASELOAD_DATA_DIR", default_value = "./caseload-data")]
    pub data_dir: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, env = "CASELOAD_LISTEN", default_value = "127.0.0.1:4599")]
    pub listen: SocketAddr,

    /// Directory holding the SQLite database (created if missing); with --database-url only this
    /// server's search index (a cache: deleting it loses nothing, it is rebuilt at start-up).
    #[arg(
        long,
        env = "CASELOAD_DATA_DIR",
        default_value = "./caseload-data",
        conflicts_with = "in_memory"
    )]
    pub data_dir: PathBuf,

    /// Keep everything in memory and lose it on exit (tests, demos).
    #[arg(long, env = "CASELOAD_IN_MEMORY")]
    pub in_memory: bool,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// TOML file of identities: `[[identity]]` tables with access_key_id, secret_access_key and
    /// account_id. Without it the only identity is access key `test`, secret `test`, account
    /// 000000000000, and the server refuses to listen on a non-loopback address.
    #[arg(long, env = "CASELOAD_CREDENTIALS")]
    pub credentials: Option<PathBuf>,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CASELOAD_MAX_BODY_BYTES", default_value_t = 5 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Domains per account (AWS default 5).
    #[arg(long, env = "CASELOAD_MAX_DOMAINS", default_value_t = 5)]
    pub max_domains: usize,

    /// Custom fields per domain (AWS default 500).
    #[arg(long, env = "CASELOAD_MAX_FIELDS", default_value_t = 500)]
    pub max_fields: usize,

    /// Templates per domain (AWS default 100).
    #[arg(long, env = "CASELOAD_MAX_TEMPLATES", default_value_t = 100)]
    pub max_templates: usize,

    /// Layouts per domain (AWS default 100).
    #[arg(long, env = "CASELOAD_MAX_LAYOUTS", default_value_t = 100)]
    pub max_layouts: usize,

    /// Options per SingleSelect field (AWS default 500).
    #[arg(long, env = "CASELOAD_MAX_FIELD_OPTIONS", default_value_t = 500)]
    pub max_field_options: usize,

    /// Serve `GET /_caseload/baseline` (and `PUT` to set its bytes) without authentication: the
    /// benchmark's bare endpoint on the same server stack. Never for production.
    #[arg(long, hide = true)]
    pub bench_baseline: bool,

    /// Case rules per domain (AWS default 100).
    #[arg(long, env = "CASELOAD_MAX_CASE_RULES", default_value_t = 100)]
    pub max_case_rules: usize,

    /// Related items per case (AWS default 200).
    #[arg(long, env = "CASELOAD_MAX_RELATED_ITEMS", default_value_t = 200)]
    pub max_related_items: usize,

    /// File related items per case (AWS default 50).
    #[arg(long, env = "CASELOAD_MAX_FILES", default_value_t = 50)]
    pub max_files: usize,

    /// SLA related items per case (AWS default 10).
    #[arg(long, env = "CASELOAD_MAX_SLAS", default_value_t = 10)]
    pub max_slas: usize,

    /// Fields in one Custom related item (AWS default 5).
    #[arg(long, env = "CASELOAD_MAX_CUSTOM_ITEM_FIELDS", default_value_t = 5)]
    pub max_custom_item_fields: usize,

    /// Deliver every case event to this http URL (repeatable), in order, at least once, signed
    /// with --webhook-secret (header X-Caseload-Signature: sha256=HMAC).
    #[arg(long, env = "CASELOAD_WEBHOOKS", value_delimiter = ',')]
    pub webhook: Vec<String>,

    /// The HMAC-SHA256 key webhook deliveries are signed with (required with --webhook).
    #[arg(long, env = "CASELOAD_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// How long delivered events stay available to resuming event feeds.
    #[arg(long, env = "CASELOAD_EVENT_RETENTION_HOURS", default_value_t = 24)]
    pub event_retention_hours: u64,

    /// Keep every merge IN_PROGRESS for at least this many milliseconds before running it, so
    /// clients that poll GetMergeCasesStatus, or meet ConflictException during a merge, can be
    /// tested. 0 runs merges at once.
    #[arg(long, env = "CASELOAD_MERGE_DELAY_MS", default_value_t = 0)]
    pub merge_delay_ms: u64,

    /// How long SearchCases waits for the search index to reach the writes before it (its
    /// read-your-writes guarantee) before it answers a retryable InternalServerException with
    /// Retry-After, e.g. while the index cannot commit on a full disk or is being rebuilt.
    #[arg(long, env = "CASELOAD_SEARCH_WAIT_MS", default_value_t = 5000)]
    pub search_wait_ms: u64,

    #[command(flatten)]
    pub edge: EdgeArgs,
}

/// The scale-out mode: PostgreSQL as the system of record, shared by any number of servers.
#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Run on this PostgreSQL database (15 or later) instead of a SQLite file, e.g.
    /// postgres://caseload@db.internal:5432/caseload. The server creates and migrates the schema
    /// itself; several servers may share the database (give each its own --node-name).
    #[arg(
        long,
        env = "CASELOAD_DATABASE_URL",
        conflicts_with = "in_memory",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Most connections this server holds open to PostgreSQL (its search indexer holds one
    /// more of its own).
    #[arg(long, env = "CASELOAD_DATABASE_POOL_SIZE", default_value_t = 16)]
    pub database_pool_size: usize,

    /// How long start-up keeps trying to reach PostgreSQL before it gives up, in seconds.
    #[arg(long, env = "CASELOAD_DATABASE_START_TIMEOUT", default_value_t = 30.0, value_parser = seconds)]
    pub database_start_timeout: f64,
}

/// How connections are bounded, and failures served on purpose (`listener`, `faults`).
#[derive(Args, Debug, Clone)]
pub struct EdgeArgs {
    /// Close a connection that has no request in progress and sends nothing for this many
    /// seconds: a new connection that sends nothing, an idle keep-alive connection.
    #[arg(long, env = "CASELOAD_IDLE_TIMEOUT", default_value_t = 60.0, value_parser = seconds)]
    pub idle_timeout: f64,

    /// Close a connection whose request header is not complete this many seconds after its
    /// first byte.
    #[arg(long, env = "CASELOAD_HEADER_TIMEOUT", default_value_t = 10.0, value_parser = seconds)]
    pub header_timeout: f64,

    /// Answer 408 RequestTimeoutException when a request body has not arrived in full this many
    /// seconds after its header.
    #[arg(long, env = "CASELOAD_BODY_TIMEOUT", default_value_t = 30.0, value_parser = seconds)]
    pub body_timeout: f64,

    /// Connections served at once. Beyond it the connection idle longest is closed to make
    /// room, or the new one if every connection has a request in progress. Default: the
    /// descriptor limit (raised to its hard limit at start-up) less a reserve for the database,
    /// the index and webhooks.
    #[arg(long, env = "CASELOAD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Enforce AWS's default per-account request rates of Connect Cases (per account, region
    /// and operation): beyond them a call gets 429 ThrottlingException.
    #[arg(long, env = "CASELOAD_THROTTLE")]
    pub throttle: bool,

    /// Override one operation's rate (implies --throttle): OPERATION=RATE[:BURST] in requests
    /// per second, e.g. GetCase=100:200. Repeatable.
    #[arg(
        long = "throttle-rate",
        env = "CASELOAD_THROTTLE_RATES",
        value_delimiter = ','
    )]
    pub throttle_rates: Vec<String>,

    /// Answer this fraction (0 to 1) of API calls with a retryable error AWS sends
    /// (InternalServerException 500 and ThrottlingException 429, alternately) before the
    /// operation runs; OPERATION=P for one operation. Repeatable.
    #[arg(
        long = "fault-rate",
        env = "CASELOAD_FAULT_RATES",
        value_delimiter = ','
    )]
    pub fault_rates: Vec<String>,
}

/// A duration in seconds (fractions allowed), positive and finite.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 86400"
        )),
    }
}
