//! `caseload-bench`: the data generator and the benchmark behind BENCHMARKS.md.
//!
//! - `generate`: a seeded, realistic domain of any size in the import format (`generate`, `rng`).
//! - `run`: for each size, generate, import, start the real server and drive it over loopback
//!   (`run`, `server`, `load`, `scenarios`), with baselines measured in the same run
//!   (`baseline`, and the server's `--bench-baseline` endpoint); results as JSON, and
//!   BENCHMARKS.md with its plot (`report`, `plot`).
//! - `report`: BENCHMARKS.md again from a results file (after editing bench/analysis.md).

mod baseline;
mod generate;
mod load;
mod plot;
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
    /// Scratch space for generated files and data directories (removed after each size).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Where the results JSON goes.
    #[arg(long)]
    results_dir: Option<PathBuf>,
    /// The Markdown report to write (its plot goes beside it).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// A smoke test: tiny durations and counts, for CI (numbers mean nothing).
    #[arg(long)]
    quick: bool,
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
    let work_dir = a.work_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("caseload-bench-{}", std::process::id()))
    });
    let args = run::RunArgs {
        sizes: a.sizes,
        seed: a.seed,
        work_dir: work_dir.clone(),
        seconds: if a.quick { 0.3 } else { a.seconds },
        search_iterations: if a.quick { 10 } else { a.search_iterations },
        visibility_rounds: if a.quick { 5 } else { a.visibility_rounds },
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
    let dir = a
        .results_dir
        .unwrap_or_else(|| repo().join("bench/results"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let stamp: String = results
        .started
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .take(15)
        .collect();
    let json = dir.join(format!("run-{stamp}.json"));
    report::write_json(&results, &json)?;
    eprintln!("[bench] results: {}", json.display());
    write_markdown(
        &results,
        &a.markdown.unwrap_or_else(|| repo().join("BENCHMARKS.md")),
    )
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
