//! Results of a run (the JSON written to `bench/results/`) and BENCHMARKS.md made from them:
//! tables per corpus size, each result beside its baseline, the targets of DESIGN.md §4 with
//! what was met and by how much one was missed, a plot, and the hand-written analysis.

use crate::load::Stats;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub kernel: String,
    pub commit: String,
    pub profile: String,
}

impl Machine {
    /// The machine and the build measured, as a report's opening sentence names them:
    /// "CPU (2 cores, 8 GB RAM, Linux 6.1), caseload abc1234 (release build)".
    pub fn describe(&self) -> String {
        format!(
            "{} ({} cores, {:.0} GB RAM, Linux {}), caseload {} ({} build)",
            self.cpu,
            self.cores,
            self.memory_bytes as f64 / 1e9,
            self.kernel,
            self.commit,
            self.profile
        )
    }

    pub fn here() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                // The directory the bench is run from: the checkout being measured.
                .current_dir(std::env::current_dir().unwrap_or_else(|_| ".".into()))
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        };
        let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
        Machine {
            cpu: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
                .unwrap_or_default(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
                * 1024,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            commit: format!(
                "{}{}",
                git(&["rev-parse", "--short", "HEAD"]),
                if dirty {
                    " (with uncommitted changes)"
                } else {
                    ""
                }
            ),
            profile: if cfg!(debug_assertions) {
                "debug".into()
            } else {
                "release".into()
            },
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QueryResult {
    pub name: String,
    pub description: String,
    pub total_count: u64,
    pub stats: Stats,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Visibility {
    /// From CreateCase's answer to the first search that finds the case.
    pub create_to_visible: Stats,
    /// The latency of that first search.
    pub first_search: Stats,
    /// Searches that did not find the case yet (0 when every write is visible at once).
    pub searches_beyond_first: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SizeResult {
    pub cases: u64,
    pub generate_s: f64,
    pub file_bytes: u64,
    pub import_s: f64,
    pub round_trip_identical: Option<bool>,
    pub disk_bytes: u64,
    pub disk_bytes_after: u64,
    pub startup_listening_ms: f64,
    pub startup_serving_ms: f64,
    pub first_search_ms: f64,
    pub first_search_total: u64,
    /// Seconds the server took to become idle after start-up, before the search mix.
    #[serde(default)]
    pub search_settle_s: Option<f64>,
    /// The same before the write → visible rounds (after the write loads).
    #[serde(default)]
    pub visibility_settle_s: Option<f64>,
    pub get_case_bytes: u64,
    pub search: Vec<QueryResult>,
    pub bare: Vec<Stats>,
    pub get_case: Vec<Stats>,
    pub create_case: Vec<Stats>,
    pub update_case: Vec<Stats>,
    pub visibility: Visibility,
    pub rss_bytes: u64,
    pub rss_peak_bytes: u64,
    /// The part of `rss_bytes` that is heap and stacks, and the part that is mapped files.
    #[serde(default)]
    pub rss_anon_bytes: u64,
    #[serde(default)]
    pub rss_file_bytes: u64,
    /// `/proc/loadavg` before the server started and after it stopped: other work on the
    /// machine shares its two cores with the benchmark.
    pub load_before: String,
    pub load_after: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub format: u32,
    pub started: String,
    pub seed: u64,
    pub machine: Machine,
    pub durability: String,
    pub sqlite_baseline: Stats,
    pub sizes: Vec<SizeResult>,
    /// Wall time of the whole run.
    #[serde(default)]
    pub run_seconds: f64,
}

impl Results {
    pub fn new(machine: Machine, seed: u64) -> Results {
        Results {
            format: 1,
            started: caseload_model::Timestamp::now().to_iso8601(),
            seed,
            machine,
            durability: "server default: WAL, every write acknowledged only after its WAL frames \
                         are fsynced (group commit: one fsync per batch of concurrent writes); the \
                         SQLite baseline commits each row with synchronous=FULL (one fsync each)"
                .into(),
            ..Default::default()
        }
    }
}

fn mb(b: u64) -> String {
    format!("{:.0} MB", b as f64 / 1e6)
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "-".into()
    }
}

/// How long the server took to become idle before the measurements (index merges after the
/// import or after a write load), for results that recorded it.
fn settled(s: &SizeResult) -> String {
    let before: Vec<String> = [
        s.bare.as_slice(),
        &s.get_case,
        &s.create_case,
        &s.update_case,
    ]
    .concat()
    .iter()
    .filter_map(|st| st.settle_s)
    .map(|w| format!("{w:.1}"))
    .collect();
    match s.search_settle_s {
        Some(search) => format!(
            " Every measurement began once the server had used under a twentieth of a core for \
             half a second (0.5 s is idle at once; longer waits are index merges after the \
             import or a write load): {search:.1} s before the search mix, {} s before the \
             throughput measurements in turn, {} s before write → visible.",
            before.join(" / "),
            s.visibility_settle_s
                .map_or_else(|| "-".into(), |w| format!("{w:.1}"))
        ),
        None => String::new(),
    }
}

/// CPU microseconds per request, or `-` for results measured before it was recorded.
fn cpu(us: Option<f64>) -> String {
    us.map_or_else(|| "-".into(), |us| format!("{us:.0}"))
}

/// A target: what it asks, what was measured, and whether it holds.
struct Target {
    what: String,
    measured: String,
    verdict: String,
}

/// `value` against an upper `limit` (or a lower one when `at_least`).
fn verdict(value: f64, limit: f64, at_least: bool, unit: &str) -> String {
    let met = if at_least {
        value >= limit
    } else {
        value <= limit
    };
    if met {
        "met".into()
    } else {
        let by = (value - limit).abs();
        format!(
            "**missed** by {} {unit} ({:.0}%)",
            ms(by),
            by / limit * 100.0
        )
    }
}

fn targets(r: &Results) -> (u64, Vec<Target>) {
    let Some(s) = r.sizes.iter().max_by_key(|s| s.cases) else {
        return (0, vec![]);
    };
    let mut out = Vec::new();
    let worst = |pick: &dyn Fn(&Stats) -> f64, contains: bool| {
        s.search
            .iter()
            .filter(|q| (q.name == "contains") == contains)
            .map(|q| (pick(&q.stats), q.name.clone()))
            .fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a })
    };
    let (p50, q50) = s
        .search
        .iter()
        .map(|q| (q.stats.p50_ms, q.name.clone()))
        .fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
    out.push(Target {
        what: "SearchCases p50 ≤ 5 ms (every query of the mix)".into(),
        measured: format!("worst p50 {} ms ({q50})", ms(p50)),
        verdict: verdict(p50, 5.0, false, "ms"),
    });
    let (p99, q99) = worst(&|st: &Stats| st.p99_ms, false);
    out.push(Target {
        what: "SearchCases p99 ≤ 20 ms (every query but contains)".into(),
        measured: format!("worst p99 {} ms ({q99})", ms(p99)),
        verdict: verdict(p99, 20.0, false, "ms"),
    });
    let (c99, _) = worst(&|st: &Stats| st.p99_ms, true);
    out.push(Target {
        what: "contains p99 ≤ 30 ms".into(),
        measured: format!("{} ms", ms(c99)),
        verdict: verdict(c99, 30.0, false, "ms"),
    });
    if let (Some(g), Some(b)) = (s.get_case.last(), s.bare.last()) {
        let rel = g.per_second / b.per_second.max(1e-9);
        out.push(Target {
            what: format!(
                "GetCase throughput ≥ 0.5 × the bare endpoint ({} clients)",
                g.clients
            ),
            measured: format!("{:.0}/s vs {:.0}/s = {rel:.2}×", g.per_second, b.per_second),
            verdict: verdict(rel, 0.5, true, "×"),
        });
    }
    if let Some(c) = s.create_case.last() {
        out.push(Target {
            what: format!(
                "CreateCase ≥ 3,000/s, fsync-durable ({} clients)",
                c.clients
            ),
            measured: format!("{:.0}/s", c.per_second),
            verdict: verdict(c.per_second, 3000.0, true, "/s"),
        });
    }
    let v = s.visibility.create_to_visible.p99_ms;
    out.push(Target {
        what: "write → visible to search ≤ 150 ms p99".into(),
        measured: format!("{} ms", ms(v)),
        verdict: verdict(v, 150.0, false, "ms"),
    });
    out.push(Target {
        what: "import ≤ 120 s (at 1M cases)".into(),
        measured: format!("{:.1} s", s.import_s),
        verdict: verdict(s.import_s, 120.0, false, "s"),
    });
    let rss = s.rss_peak_bytes.max(s.rss_bytes) as f64 / 1e9;
    out.push(Target {
        what: "server RSS ≤ 1 GB (peak)".into(),
        measured: format!("{rss:.2} GB"),
        verdict: verdict(rss, 1.0, false, "GB"),
    });
    let st = s.startup_serving_ms / 1000.0;
    out.push(Target {
        what: "start-up to serving ≤ 2 s".into(),
        measured: format!("{st:.2} s"),
        verdict: verdict(st, 2.0, false, "s"),
    });
    (s.cases, out)
}

/// BENCHMARKS.md. `plot` is the SVG's path relative to the Markdown file; `analysis` the
/// hand-written explanation of the numbers, included as it is.
pub fn markdown(r: &Results, plot: &str, analysis: Option<&str>) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# caseload benchmarks\n\n<!-- Generated by `caseload-bench` from bench/results/; edit bench/analysis.md, not this file. -->\n"
    );
    let _ = writeln!(
        m,
        "Reproduce: `cargo run --release -p caseload-bench -- run --sizes {}`{}. The bench \
         generates each corpus (seed {}), imports it with `caseload import`, starts the release \
         server on a free loopback port and drives it with SigV4-signed requests from its own \
         closed-loop load generator. Client and server share the machine.\n",
        r.sizes
            .iter()
            .map(|s| s.cases.to_string())
            .collect::<Vec<_>>()
            .join(","),
        if r.run_seconds > 0.0 {
            format!(" (this run took {:.0} minutes)", r.run_seconds / 60.0)
        } else {
            String::new()
        },
        r.seed
    );
    let _ = writeln!(
        m,
        "- Run {} on {}.\n- Durability: {}.\n- Baselines, measured in the same run: a bare HTTP endpoint on the same server stack \
         returning the same bytes as GetCase ({} bytes), and raw SQLite single-row transactions: **{:.0}/s**, p50 {} ms, p99 {} ms.\n",
        r.started,
        r.machine.describe(),
        r.durability,
        r.sizes.first().map_or(0, |s| s.get_case_bytes),
        r.sqlite_baseline.per_second,
        ms(r.sqlite_baseline.p50_ms),
        ms(r.sqlite_baseline.p99_ms),
    );

    let (at, ts) = targets(r);
    let _ = writeln!(m, "## Targets (DESIGN.md §4), at {at} cases\n");
    let _ = writeln!(m, "| target | measured | |\n|---|---|---|");
    for t in ts {
        let _ = writeln!(m, "| {} | {} | {} |", t.what, t.measured, t.verdict);
    }
    let _ = writeln!(m, "\n![SearchCases latency against corpus size]({plot})\n");

    for s in &r.sizes {
        let bare1 = s.bare.first().map_or(0.0, |b| b.p50_ms);
        let _ = writeln!(m, "## {} cases\n", s.cases);
        let _ = writeln!(
            m,
            "Import {:.1} s ({} file{}); on disk {} after import, {} after the run; start-up: \
             listening after {} ms, serving after {} ms, first search {} ms; server RSS {} (peak {}{}). \
             Load average before / after: {} / {}.{}\n",
            s.import_s,
            mb(s.file_bytes),
            match s.round_trip_identical {
                Some(true) => ", exported again byte for byte",
                Some(false) => ", export differed",
                None => "",
            },
            mb(s.disk_bytes),
            mb(s.disk_bytes_after),
            ms(s.startup_listening_ms),
            ms(s.startup_serving_ms),
            ms(s.first_search_ms),
            mb(s.rss_bytes),
            mb(s.rss_peak_bytes),
            if s.rss_anon_bytes + s.rss_file_bytes > 0 {
                format!(
                    "; at the end {} heap, {} mapped index and database files",
                    mb(s.rss_anon_bytes),
                    mb(s.rss_file_bytes)
                )
            } else {
                String::new()
            },
            s.load_before,
            s.load_after,
            settled(s),
        );
        let _ = writeln!(
            m,
            "| SearchCases (25 per page, 1 client) | totalCount | p50 ms | p99 ms | p50 ÷ bare p50 | server CPU µs/req |\n|---|---:|---:|---:|---:|---:|"
        );
        for q in &s.search {
            let _ = writeln!(
                m,
                "| `{}`: {} | {} | {} | {} | {} | {} |",
                q.name,
                q.description,
                q.total_count,
                ms(q.stats.p50_ms),
                ms(q.stats.p99_ms),
                ratio(q.stats.p50_ms, bare1),
                cpu(q.stats.server_cpu_us)
            );
        }
        let _ = writeln!(
            m,
            "\n| operation | clients | req/s | p50 ms | p99 ms | errors | baseline req/s | ÷ baseline | server CPU µs/req | client CPU µs/req |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let ops: [(&str, &Vec<Stats>, bool); 4] = [
            ("bare endpoint", &s.bare, false),
            ("GetCase", &s.get_case, false),
            ("CreateCase", &s.create_case, true),
            ("UpdateCase", &s.update_case, true),
        ];
        for (name, list, write) in ops {
            for (i, st) in list.iter().enumerate() {
                let base = if write {
                    r.sqlite_baseline.per_second
                } else {
                    s.bare.get(i).map_or(0.0, |b| b.per_second)
                };
                let _ = writeln!(
                    m,
                    "| {name} | {} | {:.0} | {} | {} | {} | {:.0} {} | {} | {} | {} |",
                    st.clients,
                    st.per_second,
                    ms(st.p50_ms),
                    ms(st.p99_ms),
                    st.errors,
                    base,
                    if write { "(SQLite tx)" } else { "(bare)" },
                    ratio(st.per_second, base),
                    cpu(st.server_cpu_us),
                    cpu(st.client_cpu_us)
                );
            }
        }
        let v = &s.visibility;
        let _ = writeln!(
            m,
            "\nWrite → visible ({} rounds of CreateCase then SearchCases for its unique word): \
             visible after p50 {} ms, p99 {} ms; the first search took p50 {} ms, p99 {} ms \
             (a searchTerm query with no write before it: p50 {} ms); searches that missed it: {}.\n",
            v.create_to_visible.requests,
            ms(v.create_to_visible.p50_ms),
            ms(v.create_to_visible.p99_ms),
            ms(v.first_search.p50_ms),
            ms(v.first_search.p99_ms),
            s.search
                .iter()
                .find(|q| q.name == "search_term")
                .map_or("-".into(), |q| ms(q.stats.p50_ms)),
            v.searches_beyond_first,
        );
    }
    if let Some(a) = analysis {
        let _ = writeln!(m, "{}", a.trim_end());
    }
    m
}

pub fn write_json(r: &impl Serialize, path: &Path) -> Result<(), String> {
    let text = serde_json::to_string_pretty(r).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Result<Results, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
