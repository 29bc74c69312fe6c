//! Results of a reliability run (the JSON beside the report) and RELIABILITY.md made from them:
//! a verdict per scenario, the tables behind it, the findings word for word, and the soak's RSS
//! over time as an SVG drawn with the benchmark's plot pieces.

use super::Args;
use super::verify::Verdict;
use super::workload::Failures;
use crate::load::Stats;
use crate::plot::{self, Axis, MARGIN, PANEL_H, PANEL_W, Panel, Scale};
use crate::report::Machine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Round {
    pub round: u32,
    /// Writes sent, acknowledged and left without an answer in this round.
    pub writes: u64,
    pub acknowledged: u64,
    pub in_doubt: u64,
    pub killed_after_s: f64,
    /// From starting the server again to its first answer.
    pub restart_s: f64,
    /// Set when the server had already died before the kill.
    pub crashed: Option<String>,
    /// Failed answers by kind (the kill breaks the connections of the writes in flight).
    pub failures: BTreeMap<String, Failures>,
    /// Every write of this round and the rounds before it, checked after the restart.
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KillResult {
    pub clients: usize,
    pub round_seconds: f64,
    pub rounds: Vec<Round>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Probe {
    pub ms: f64,
    pub answer: String,
    /// No answer within the bound.
    pub hung: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DiskFullResult {
    /// Why the episode did not run (the tmpfs could not be mounted).
    pub skipped: Option<String>,
    pub tmpfs_mb: u64,
    pub filler_mb: u64,
    pub writers: usize,
    pub bytes_per_write: u64,
    pub acknowledged: u64,
    pub write_errors: u64,
    /// The failed answers by kind.
    pub failures: BTreeMap<String, Failures>,
    /// When the first writes failed; `None` when the disk never filled.
    pub filled_after_s: Option<f64>,
    pub search_bound_ms: f64,
    /// Searches while the disk was full.
    pub probes: Vec<Probe>,
    /// Set when the server died while the disk was full.
    pub exited: Option<String>,
    /// The attempt at which a write was acknowledged again after space was freed.
    pub resumed_at_attempt: Option<u32>,
    pub after_free: Verdict,
    /// Whether SIGTERM stopped the server within 30 s before the restart.
    pub stopped_cleanly: bool,
    pub after_restart: Verdict,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TokenResult {
    pub operation: String,
    pub variant: String,
    pub requests: usize,
    pub ok: usize,
    pub conflicts: usize,
    pub other_answers: BTreeMap<String, u64>,
    /// What acted, as the server's records show it.
    pub effect: String,
    pub passed: bool,
    pub problem: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds into the soak.
    pub t: f64,
    pub rss: u64,
    pub anonymous: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SoakResult {
    pub seconds: f64,
    pub clients: usize,
    pub readers: usize,
    pub writes: Stats,
    pub searches: Stats,
    pub failures: BTreeMap<String, Failures>,
    pub samples: Vec<Sample>,
    pub peak_bytes: u64,
    pub verdict: Verdict,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub format: u32,
    pub started: String,
    pub seed: u64,
    pub command: String,
    pub machine: Machine,
    pub run_seconds: f64,
    pub kill: KillResult,
    pub disk_full: DiskFullResult,
    pub tokens: Vec<TokenResult>,
    pub soak: SoakResult,
}

impl Results {
    pub fn new(machine: Machine, args: &Args) -> Results {
        Results {
            format: 1,
            started: caseload_model::Timestamp::now().to_iso8601(),
            seed: args.seed,
            command: args.command.clone(),
            machine,
            ..Default::default()
        }
    }

    /// Everything that went wrong, one line each: empty when the run passed.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let verdict = |out: &mut Vec<String>, what: &str, v: &Verdict| {
            if !v.clean() {
                out.push(format!(
                    "{what}: {} lost, {} divergent ({})",
                    v.lost,
                    v.divergences,
                    v.findings.first().map_or("", String::as_str)
                ));
            }
        };
        if let Some(e) = &self.kill.error {
            out.push(format!("kill -9 rounds could not run: {e}"));
        }
        for r in &self.kill.rounds {
            if let Some(c) = &r.crashed {
                out.push(format!("kill round {}: {c}", r.round));
            }
            verdict(&mut out, &format!("kill round {}", r.round), &r.verdict);
        }
        let d = &self.disk_full;
        if d.skipped.is_none() {
            if let Some(e) = &d.error {
                out.push(format!("disk-full could not run to its end: {e}"));
            }
            if d.filled_after_s.is_none() && d.error.is_none() {
                out.push("disk-full: the disk never filled, nothing was tested".into());
            }
            let hung = d.probes.iter().filter(|p| p.hung).count();
            if hung > 0 {
                out.push(format!(
                    "disk-full: {hung} of {} searches did not answer within {:.0} ms",
                    d.probes.len(),
                    d.search_bound_ms
                ));
            }
            if let Some(e) = &d.exited {
                out.push(format!(
                    "disk-full: the server died while the disk was full: {e}"
                ));
            }
            if d.error.is_none() && d.resumed_at_attempt.is_none() {
                out.push("disk-full: writes did not work again after space was freed".into());
            }
            if d.error.is_none() {
                verdict(&mut out, "disk-full, space freed", &d.after_free);
                verdict(&mut out, "disk-full, after a restart", &d.after_restart);
            }
        }
        for t in self.tokens.iter().filter(|t| !t.passed) {
            out.push(format!(
                "clientToken, {} with {} {}: {}",
                t.operation,
                t.requests,
                t.variant,
                t.problem.as_deref().unwrap_or_default()
            ));
        }
        if let Some(e) = &self.soak.error {
            out.push(format!("soak could not run: {e}"));
        } else {
            verdict(&mut out, "soak", &self.soak.verdict);
        }
        out
    }
}

fn mb(b: u64) -> String {
    format!("{:.0} MB", b as f64 / 1e6)
}

/// `3× InternalServerException (500): "message"`, …
fn failures_text(f: &BTreeMap<String, Failures>) -> String {
    f.iter()
        .map(|(kind, f)| {
            if f.example.is_empty() {
                format!("{}× {kind}", f.count)
            } else {
                format!("{}× {kind}: \"{}\"", f.count, f.example)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row of a Markdown table.
fn row(m: &mut String, cells: &[String]) {
    let _ = writeln!(m, "| {} |", cells.join(" | "));
}

fn verdict_cell(v: &Verdict) -> String {
    if v.clean() {
        "none".into()
    } else {
        format!("**{} lost, {} divergent**", v.lost, v.divergences)
    }
}

fn search_cell(v: &Verdict) -> String {
    v.search_total
        .map_or_else(|| "no answer".into(), |t| t.to_string())
}

fn findings(m: &mut String, title: &str, v: &Verdict) {
    if v.findings.is_empty() {
        return;
    }
    let _ = writeln!(
        m,
        "\n{title} (the first {} of {}):\n",
        v.findings.len(),
        v.lost + v.divergences
    );
    for f in &v.findings {
        let _ = writeln!(m, "- {f}");
    }
}

/// RELIABILITY.md; `plot` is the RSS SVG's path relative to it.
pub fn markdown(r: &Results, plot: &str) -> String {
    let mut m = String::new();
    let failures = r.failures();
    let _ = writeln!(
        m,
        "# caseload reliability\n\n<!-- Generated by `caseload-bench reliability`; do not edit. -->\n"
    );
    let _ = writeln!(
        m,
        "Reproduce: `{}` (this run took {:.0} s). Run {} on {}, seed {}. The server is the real binary on a loopback port; \
         the writers are the benchmark's closed-loop clients, and each acknowledged write \
         (a 200) is recorded, then checked through GetCase, SearchRelatedItems and SearchCases.\n",
        r.command,
        r.run_seconds,
        r.started,
        r.machine.describe(),
        r.seed
    );
    if failures.is_empty() {
        let _ = writeln!(
            m,
            "**Result: passed.** Nothing acknowledged was lost, nothing diverged.\n"
        );
    } else {
        let _ = writeln!(m, "**Result: {} failure(s).**\n", failures.len());
        for f in &failures {
            let _ = writeln!(m, "- {f}");
        }
        m.push('\n');
    }
    let _ = writeln!(
        m,
        "How a write is judged: every write stamps its cases with a number from one counter \
         (a Number field, and a Text field holding the same number), and no two requests write \
         one case at once. After a restart a case must hold its last acknowledged number, or a \
         newer one from a write that had no answer yet (in doubt); anything older is **lost**, \
         anything else **divergent**. CreateCases without an answer are sent again with their \
         `clientToken` first, so every case is known: SearchCases must list exactly those \
         cases (`totalCount` equal to the number GetCase sees) with the values GetCase shows, \
         and a search by each held Text value must find exactly the cases holding it. \
         Verification reads are sent again while they get a retryable answer (a 5xx or a 429, \
         as while an index catches up), as SDKs do, for at most {} s; what still fails then \
         counts.\n",
        super::api::RECOVERY.as_secs()
    );

    let k = &r.kill;
    let _ = writeln!(
        m,
        "## kill -9 under write load\n\n{} writers (CreateCase 30%, UpdateCase 35%, \
         BatchUpdateCase of 2-5 cases 15%, CreateRelatedItem 20%) for up to {:.1} s per round; \
         SIGKILL at a random moment; restart on the same data; every write of every round so \
         far verified.\n",
        k.clients, k.round_seconds
    );
    if let Some(e) = &k.error {
        let _ = writeln!(m, "**The rounds stopped: {e}**\n");
    }
    let _ = writeln!(
        m,
        "| round | killed after | writes sent | acknowledged | in doubt | restart | cases | SearchCases totalCount | lost / divergent |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for x in &k.rounds {
        row(
            &mut m,
            &[
                x.round.to_string(),
                format!("{:.1} s", x.killed_after_s),
                x.writes.to_string(),
                x.acknowledged.to_string(),
                x.in_doubt.to_string(),
                format!("{:.2} s", x.restart_s),
                x.verdict.cases.to_string(),
                search_cell(&x.verdict),
                verdict_cell(&x.verdict),
            ],
        );
    }
    let total: u64 = k.rounds.iter().map(|x| x.acknowledged).sum();
    let _ = writeln!(m, "\nAcknowledged writes in all: {total}.");
    for x in k.rounds.iter().filter(|x| !x.failures.is_empty()) {
        let _ = writeln!(
            m,
            "Failed writes in round {}: {}.",
            x.round,
            failures_text(&x.failures)
        );
    }
    for x in &k.rounds {
        findings(&mut m, &format!("Round {}", x.round), &x.verdict);
    }

    let d = &r.disk_full;
    let _ = writeln!(m, "\n## Disk full\n");
    if let Some(why) = &d.skipped {
        let _ = writeln!(m, "**Skipped** (not passed): {why}\n");
    } else {
        let _ = writeln!(
            m,
            "The data directory on a {} MB tmpfs, {} MB of it taken by a filler file; {} writers \
             of {} KB of Text per write until every writer had about one failure; then {} \
             SearchCases with a bound of {:.0} ms; then the filler deleted, writes tried again, \
             everything verified, the server restarted and everything verified again.\n",
            d.tmpfs_mb,
            d.filler_mb,
            d.writers,
            d.bytes_per_write / 1000,
            d.probes.len(),
            d.search_bound_ms
        );
        if let Some(e) = &d.error {
            let _ = writeln!(m, "**The episode stopped: {e}**\n");
        }
        let _ = writeln!(
            m,
            "- Acknowledged before the disk was full: {}; failed writes: {} ({}), the first after {}.",
            d.acknowledged,
            d.write_errors,
            failures_text(&d.failures),
            d.filled_after_s
                .map_or_else(|| "never".into(), |s| format!("{s:.1} s"))
        );
        let _ = writeln!(
            m,
            "- Searches while full: {}.",
            d.probes
                .iter()
                .map(|p| format!(
                    "{:.0} ms → {}{}",
                    p.ms,
                    p.answer,
                    if p.hung { " (**hung**)" } else { "" }
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        if let Some(e) = &d.exited {
            let _ = writeln!(m, "- **The server died while the disk was full: {e}.**");
        }
        let _ = writeln!(
            m,
            "- After freeing space: {}; verified {} cases: SearchCases totalCount {}, {}.",
            d.resumed_at_attempt.map_or_else(
                || "**no write was acknowledged again**".into(),
                |a| format!("a write was acknowledged again at attempt {a}")
            ),
            d.after_free.cases,
            search_cell(&d.after_free),
            verdict_cell(&d.after_free)
        );
        let _ = writeln!(
            m,
            "- After a restart ({}): verified {} cases: SearchCases totalCount {}, {}.",
            if d.stopped_cleanly {
                "SIGTERM stopped the server"
            } else {
                "**SIGTERM did not stop the server within 30 s; it was killed**"
            },
            d.after_restart.cases,
            search_cell(&d.after_restart),
            verdict_cell(&d.after_restart)
        );
        findings(&mut m, "\nAfter freeing space", &d.after_free);
        findings(&mut m, "\nAfter the restart", &d.after_restart);
    }

    let _ = writeln!(
        m,
        "\n## clientToken: concurrent requests sharing one token\n\nEach operation that takes \
         a `clientToken`, N requests at once: identical ones must act once and answer alike; \
         different ones must act once, with 200 only for the body that acted and \
         ConflictException for the others. What acted is counted in GetCaseAuditEvents, \
         SearchCases and SearchRelatedItems.\n"
    );
    let _ = writeln!(
        m,
        "| operation | requests | 200 | Conflict | other | what acted | exactly once |\n|---|---:|---:|---:|---|---|---|"
    );
    for t in &r.tokens {
        row(
            &mut m,
            &[
                format!("{} ({})", t.operation, t.variant),
                t.requests.to_string(),
                t.ok.to_string(),
                t.conflicts.to_string(),
                t.other_answers
                    .iter()
                    .map(|(k, v)| format!("{v}× {k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                t.effect.clone(),
                if t.passed {
                    "yes".into()
                } else {
                    format!("**no**: {}", t.problem.as_deref().unwrap_or_default())
                },
            ],
        );
    }

    let s = &r.soak;
    let first = s.samples.first().map_or(0, |x| x.rss);
    let last = s.samples.last().map_or(0, |x| x.rss);
    let max = s.samples.iter().map(|x| x.rss).max().unwrap_or(0);
    let _ = writeln!(
        m,
        "\n## Soak\n\n{} writers and {} searching clients for {:.0} s, the server's RSS sampled \
         every second.\n",
        s.clients, s.readers, s.seconds
    );
    if let Some(e) = &s.error {
        let _ = writeln!(m, "**The soak stopped: {e}**\n");
    }
    let _ = writeln!(
        m,
        "- Writes: {} sent, {:.0}/s acknowledged, {} failed{}; searches: {}, {:.0}/s, {} failed.\n\
         - RSS: {} at the first sample, {} at the last, {} at most (peak VmHWM {}).\n\
         - Verified afterwards: {} cases, {} acknowledged writes, SearchCases totalCount {}; {}.\n",
        s.writes.requests,
        s.writes.per_second,
        s.writes.errors,
        if s.failures.is_empty() {
            String::new()
        } else {
            format!(" ({})", failures_text(&s.failures))
        },
        s.searches.requests,
        s.searches.per_second,
        s.searches.errors,
        mb(first),
        mb(last),
        mb(max),
        mb(s.peak_bytes),
        s.verdict.cases,
        s.verdict.acknowledged,
        search_cell(&s.verdict),
        verdict_cell(&s.verdict)
    );
    findings(&mut m, "Soak", &s.verdict);
    let _ = writeln!(m, "\n![Server RSS during the soak]({plot})");
    m
}

/// The soak's RSS and heap (RssAnon) against time.
pub fn rss_svg(s: &SoakResult) -> String {
    let to_mb = |b: u64| b as f64 / 1e6;
    let top = s.samples.iter().map(|x| to_mb(x.rss)).fold(1.0, f64::max);
    let p = Panel {
        x0: MARGIN,
        y0: MARGIN,
        x: Axis {
            lo: 0.0,
            hi: s.samples.last().map_or(1.0, |x| x.t.max(1.0)),
            scale: Scale::Linear,
        },
        y: Axis {
            lo: 0.0,
            hi: top * 1.1,
            scale: Scale::Linear,
        },
    };
    let mut svg = plot::begin(PANEL_W + 2.0 * MARGIN + 150.0, PANEL_H + 2.0 * MARGIN);
    p.frame(
        &mut svg,
        "server memory (MB) during the soak",
        &p.x.ticks(),
        "seconds",
    );
    let rss: Vec<(f64, f64)> = s.samples.iter().map(|x| (x.t, to_mb(x.rss))).collect();
    let heap: Vec<(f64, f64)> = s
        .samples
        .iter()
        .map(|x| (x.t, to_mb(x.anonymous)))
        .collect();
    p.series(&mut svg, 0, &rss, false);
    p.series(&mut svg, 1, &heap, false);
    plot::legend(
        &mut svg,
        PANEL_W + MARGIN + 20.0,
        MARGIN + 15.0,
        &["RSS".into(), "heap (RssAnon)".into()],
    );
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_anywhere_fails_the_run_and_a_skip_does_not_pass_silently() {
        let mut r = Results::default();
        r.disk_full.skipped = Some("mount refused".into());
        r.soak.samples = vec![Sample {
            t: 1.0,
            rss: 5_000_000,
            anonymous: 2_000_000,
        }];
        assert!(r.failures().is_empty());
        let md = markdown(&r, "bench/rss.svg");
        assert!(
            md.contains("**Skipped** (not passed): mount refused"),
            "{md}"
        );
        r.kill.rounds.push(Round {
            round: 1,
            verdict: Verdict {
                lost: 1,
                findings: vec!["lost: case c is not found".into()],
                ..Default::default()
            },
            ..Default::default()
        });
        r.tokens.push(TokenResult {
            operation: "BatchUpdateCase".into(),
            problem: Some("Case.Updated events per case [2, 2, 2], not 1 each".into()),
            ..Default::default()
        });
        let f = r.failures();
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].starts_with("kill round 1: 1 lost"));
        assert!(markdown(&r, "x.svg").contains("**Result: 2 failure(s).**"));
        assert!(rss_svg(&r.soak).contains("<polyline"));
    }
}
