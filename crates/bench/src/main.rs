//! `caseload-bench`: the data generator and the benchmark behind BENCHMARKS.md.
//!
//! - `generate`: a seeded, realistic domain of any size in the import format (`generate`, `rng`).
//! - `run`: for each size, generate, import, start the real server and drive it over loopback
//!   (`run`, `server`, `load`, `scenarios`), with baselines measured in the same run
//!   (`baseline`, and the server's `--bench-baseline` endpoint); results as JSON, and
//!   BENCHMARKS.md with its plot (`report`, `plot`).
//! - `report`: BENCHMARKS.md again from a results file (after editing bench/analysis.md).
//! - `reliability`: kill -9 rounds, a disk-full episode, concurrent `clientToken` retries and a
//!   soak, every acknowledged write verified; RELIABILITY.md with its RSS plot (`reliability`).

mod baseline;
mod generate;
mod load;
mod plot;
mod reliability;
mod report;
mod rng;
mod run;
mod scenarios;
mod server;

use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "caseload-bench",
    about = "caseload's data generator and benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a generated domain in the import format.
    Generate {
        /// Number of cases.
        #[arg(long, default_value_t = 1000)]
        cases: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Run the benchmark and write its results and BENCHMARKS.md.
    Run(RunCli),
    /// Kill -9, disk-full, clientToken and soak runs; writes RELIABILITY.md. Exits 1 when
    /// an acknowledged write was lost or anything diverged.
    Reliability(ReliabilityCli),
    /// Write BENCHMARKS.md from a results file.
    Report {
        /// Results JSON (default: the newest in bench/results).
        results: Option<PathBuf>,
        #[arg(long)]
        markdown: Option<PathBuf>,
    },
}

#[derive(Args)]
struct RunCli {
    /// Corpus sizes, in cases.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<u64>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seconds per throughput measurement.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Timed requests per search query.
    #[arg(long, default_value_t = 300)]
    search_iterations: u64,
    /// Rounds of the write → visible measurement.
    #[arg(long, default_value_t = 200)]
    visibility_rounds: u64,
    /// Concurrent clients of the throughput measurements.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Check export(import(file)) == file up to this size.
    #[arg(long, default_value_t = 100_000)]
    round_trip_up_to: u64,
    #[command(flatten)]
    out: Output,
}

/// Where a run works and what it writes, shared by `run` and `reliability`.
#[derive(Args)]
struct Output {
    /// Scratch space for generated files and data directories (removed afterwards).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Where the results JSON goes (default: bench/results).
    #[arg(long)]
    results_dir: Option<PathBuf>,
    /// The Markdown report to write (its plot goes beside it, in bench/).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// A smoke test for CI: short durations and small counts.
    #[arg(long)]
    quick: bool,
}

#[derive(Args)]
struct ReliabilityCli {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Kill -9 rounds.
    #[arg(long, default_value_t = 10)]
    rounds: u32,
    /// Seconds of write load per round (the kill comes at a random moment within them).
    #[arg(long, default_value_t = 8.0)]
    round_seconds: f64,
    /// Concurrent writers of the kill rounds and the soak.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Size of the disk-full episode's tmpfs, in MB.
    #[arg(long, default_value_t = 64)]
    disk_mb: u64,
    /// Part of it taken by a filler file, deleted to free space again, in MB.
    #[arg(long, default_value_t = 16)]
    filler_mb: u64,
    /// The longest the writers may take to fill the disk, in seconds.
    #[arg(long, default_value_t = 120.0)]
    fill_seconds: f64,
    /// Concurrent requests per clientToken check.
    #[arg(long, default_value_t = 16)]
    token_requests: usize,
    /// Seconds of the soak.
    #[arg(long, default_value_t = 300.0)]
    soak_seconds: f64,
    /// The longest a search while the disk is full may take to answer, in milliseconds: the
    /// server's own bound (`--search-wait-ms`, 5,000 by default) plus a margin for a busy machine.
    #[arg(long, default_value_t = 8000)]
    search_bound_ms: u64,
    /// `--quick`: 2 kill rounds of 3 s, a 32 MB disk, 8 requests per token, a 20 s soak.
    #[command(flatten)]
    out: Output,
}

/// The repository's root (the bench is always run from this workspace).
fn repo() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate {
            cases,
            seed,
            output,
        } => generate_to(cases, seed, output),
        Command::Run(args) => run(args),
        Command::Reliability(args) => reliability(args),
        Command::Report { results, markdown } => report(results, markdown),
    };
    if let Err(e) = result {
        eprintln!("caseload-bench: {e}");
        std::process::exit(1);
    }
}

fn generate_to(cases: u64, seed: u64, output: Option<PathBuf>) -> Result<(), String> {
    use std::io::Write;
    let sink: Box<dyn Write> = match &output {
        Some(p) => Box::new(
            std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    generate::generate(cases, seed, &mut out).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

fn run(a: RunCli) -> Result<(), String> {
    let work_dir = a.out.work_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("caseload-bench-{}", std::process::id()))
    });
    let args = run::RunArgs {
        sizes: a.sizes,
        seed: a.seed,
        work_dir: work_dir.clone(),
        seconds: if a.out.quick { 0.3 } else { a.seconds },
        search_iterations: if a.out.quick { 10 } else { a.search_iterations },
        visibility_rounds: if a.out.quick { 5 } else { a.visibility_rounds },
        concurrency: a.clients,
        round_trip_up_to: a.round_trip_up_to,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let results = runtime.block_on(run::run(&args));
    let _ = std::fs::remove_dir_all(&work_dir);
    let results = results?;
    save_json(&results, "run", &results.started, a.out.results_dir)?;
    write_markdown(
        &results,
        &a.out
            .markdown
            .unwrap_or_else(|| repo().join("BENCHMARKS.md")),
    )
}

/// Writes `results` as `bench/results/{kind}-{stamp}.json` (or into `dir`).
fn save_json(
    results: &impl serde::Serialize,
    kind: &str,
    started: &str,
    dir: Option<PathBuf>,
) -> Result<(), String> {
    let dir = dir.unwrap_or_else(|| repo().join("bench/results"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let stamp: String = started
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .take(15)
        .collect();
    let json = dir.join(format!("{kind}-{stamp}.json"));
    report::write_json(results, &json)?;
    eprintln!("[bench] results: {}", json.display());
    Ok(())
}

fn reliability(a: ReliabilityCli) -> Result<(), String> {
    let work_dir = a.out.work_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("caseload-reliability-{}", std::process::id()))
    });
    let quick = a.out.quick;
    let args = reliability::Args {
        seed: a.seed,
        work_dir: work_dir.clone(),
        rounds: if quick { 2 } else { a.rounds },
        round_seconds: if quick { 3.0 } else { a.round_seconds },
        clients: a.clients,
        disk_mb: if quick { 32 } else { a.disk_mb },
        filler_mb: if quick { 8 } else { a.filler_mb },
        fill_seconds: if quick { 40.0 } else { a.fill_seconds },
        token_requests: if quick { 8 } else { a.token_requests },
        soak_seconds: if quick { 20.0 } else { a.soak_seconds },
        search_bound: std::time::Duration::from_millis(a.search_bound_ms),
        read_timeout: std::time::Duration::from_secs(10),
        command: std::iter::once("caseload-bench".to_owned())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let results = runtime.block_on(reliability::run(&args))?;
    save_json(&results, "reliability", &results.started, a.out.results_dir)?;
    let path = a
        .out
        .markdown
        .unwrap_or_else(|| repo().join("RELIABILITY.md"));
    let relative = "bench/rss.svg";
    let plot = path.with_file_name(relative);
    if let Some(dir) = plot.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&plot, reliability::report::rss_svg(&results.soak))
        .map_err(|e| e.to_string())?;
    std::fs::write(&path, reliability::report::markdown(&results, relative))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("[bench] report: {}", path.display());
    let failures = results.failures();
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&work_dir);
        return Ok(());
    }
    for f in &failures {
        eprintln!("[reliability] FAILED: {f}");
    }
    // The data directories are gone; the servers' log stays for whoever reads the failures.
    Err(format!(
        "{} reliability failure(s), see {} and the servers' log {}",
        failures.len(),
        path.display(),
        reliability::log_path(&work_dir).display()
    ))
}

fn write_markdown(results: &report::Results, path: &Path) -> Result<(), String> {
    // The plot goes to bench/ beside the report, where the results are.
    let relative = "bench/latency.svg";
    let plot = path.with_file_name(relative);
    if let Some(dir) = plot.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&plot, plot::svg(results)).map_err(|e| e.to_string())?;
    let analysis = std::fs::read_to_string(repo().join("bench/analysis.md")).ok();
    std::fs::write(
        path,
        report::markdown(results, relative, analysis.as_deref()),
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("[bench] report: {}", path.display());
    Ok(())
}

fn report(results: Option<PathBuf>, markdown: Option<PathBuf>) -> Result<(), String> {
    let path = match results {
        Some(p) => p,
        None => {
            let dir = repo().join("bench/results");
            let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            runs.sort();
            runs.pop().ok_or("no results in bench/results")?
        }
    };
    let results = report::read_json(&path)?;
    write_markdown(
        &results,
        &markdown.unwrap_or_else(|| repo().join("BENCHMARKS.md")),
    )
}
