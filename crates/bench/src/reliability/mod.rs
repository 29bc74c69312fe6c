//! `caseload-bench reliability`: the server under kill -9, a full disk, concurrent retries of
//! one `clientToken` and a sustained load, each followed by checking every acknowledged write.
//!
//! - `workload`: a domain made for the run and the mixed writers, on `load::run_until`;
//!   `ledger`: what they were told, and what counts as lost or divergent; `verify`: the checks
//!   through GetCase, SearchRelatedItems and SearchCases; `api`: one bounded call.
//! - The scenarios: `kill`, `disk_full`, `tokens`, `soak`.
//! - `report`: the results (JSON) and RELIABILITY.md with the RSS plot.

mod api;
mod disk_full;
mod kill;
mod ledger;
pub mod report;
mod soak;
mod tokens;
mod verify;
mod workload;

use crate::report::Machine;
use crate::run::{ACCOUNT, wait_serving};
use crate::server::{self, Server};
use caseload_client::Client;
use report::Results;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Args {
    pub seed: u64,
    pub work_dir: PathBuf,
    /// Kill rounds, and seconds of writing before each kill (it comes at a random moment).
    pub rounds: u32,
    pub round_seconds: f64,
    /// Concurrent writers (the disk-full episode always has 8).
    pub clients: usize,
    /// Size of the tmpfs of the disk-full episode, and of the file that fills part of it.
    pub disk_mb: u64,
    pub filler_mb: u64,
    /// The longest the writers may take to fill the disk.
    pub fill_seconds: f64,
    /// Concurrent requests per clientToken check.
    pub token_requests: usize,
    pub soak_seconds: f64,
    /// The longest a search during the full disk may take to answer.
    pub search_bound: Duration,
    /// The longest a verification read may take.
    pub read_timeout: Duration,
    /// The command line, for the report.
    pub command: String,
}

/// The servers' log, in the work directory (kept when the run fails).
pub fn log_path(work_dir: &Path) -> PathBuf {
    work_dir.join("server.log")
}

/// A server on `data`, logging to the work directory's `server.log`, and a client for it once
/// it answers.
async fn start(bin: &Path, args: &Args, data: &Path) -> Result<(Server, Client), String> {
    let server = Server::start_logging_to(bin, data, &log_path(&args.work_dir))?;
    let (k, s, region) = ACCOUNT;
    let client = Client::new(&server.endpoint, k, s, region);
    wait_serving(&client).await?;
    Ok((server, client))
}

pub async fn run(args: &Args) -> Result<Results, String> {
    let started = Instant::now();
    let bin = server::binary()?;
    std::fs::create_dir_all(&args.work_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.work_dir.display()))?;
    let mut results = Results::new(Machine::here(), args);
    say("kill -9 rounds");
    results.kill = kill::run(&bin, args).await;
    say("disk-full episode");
    results.disk_full = disk_full::run(&bin, args).await;
    say("concurrent clientToken retries");
    results.tokens = tokens::run(&bin, args).await;
    say("soak");
    results.soak = soak::run(&bin, args).await;
    results.run_seconds = started.elapsed().as_secs_f64();
    Ok(results)
}

fn say(message: &str) {
    eprintln!("[reliability] {message}");
}
