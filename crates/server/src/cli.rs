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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// Rebuild the search index of a data directory from its database (the server must not be
    /// running on it).
    Reindex(ReindexArgs),
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

    /// Directory holding the SQLite database (created if missing).
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
}
