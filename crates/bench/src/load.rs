//! The load generator: a fixed number of clients, each sending its next request as soon as the
//! previous one is answered (a closed loop), until a time or request budget is spent. Bounded in
//! both, so a run always ends by itself.

use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Latency and throughput of one measurement.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Stats {
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Successful requests per second.
    pub per_second: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// CPU time (user and system, all threads) the server process used per request during the
    /// measurement, in microseconds: the client's share of the two cores does not blur it.
    #[serde(default)]
    pub server_cpu_us: Option<f64>,
    /// The same for the load generator (this process).
    #[serde(default)]
    pub client_cpu_us: Option<f64>,
    /// Seconds waited before the measurement for the server to finish background work (index
    /// merges after an import or an earlier write load), see `settle`.
    #[serde(default)]
    pub settle_s: Option<f64>,
    /// Where this is the best of several rounds (`best`), the throughput of every round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_per_second: Vec<f64>,
}

impl Stats {
    /// Summarises latencies (in microseconds) measured over `seconds`.
    pub fn from_latencies(clients: usize, mut us: Vec<u32>, errors: u64, seconds: f64) -> Stats {
        us.sort_unstable();
        let pick = |q: f64| -> f64 {
            if us.is_empty() {
                return 0.0;
            }
            // Nearest rank: the smallest value with at least q of the samples at or below it.
            let rank = ((q * us.len() as f64).ceil() as usize).clamp(1, us.len());
            us[rank - 1] as f64 / 1000.0
        };
        let ok = us.len() as u64;
        Stats {
            clients,
            requests: ok + errors,
            errors,
            seconds,
            per_second: if seconds > 0.0 {
                ok as f64 / seconds
            } else {
                0.0
            },
            mean_ms: if us.is_empty() {
                0.0
            } else {
                us.iter().map(|&u| u as f64).sum::<f64>() / us.len() as f64 / 1000.0
            },
            p50_ms: pick(0.50),
            p90_ms: pick(0.90),
            p99_ms: pick(0.99),
            max_ms: us.last().map_or(0.0, |&u| u as f64 / 1000.0),
            server_cpu_us: None,
            client_cpu_us: None,
            settle_s: None,
            rounds_per_second: Vec::new(),
        }
    }
}

/// CPU seconds (user and system, all threads) process `pid` has used so far, from
/// `/proc/PID/stat`; `None` where there is no such file.
#[allow(unsafe_code)] // sysconf: std has no safe wrapper.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12th and 13th after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks as f64 / per_second as f64)
}

/// Waits until process `pid` has been idle (under a twentieth of a core for half a second), at
/// most `limit`; returns how long it waited. Background work (Tantivy merging the segments an
/// import or a write load left) would otherwise run during the next measurement and be charged
/// to it.
pub async fn settle(pid: u32, limit: Duration) -> Duration {
    const WINDOW: Duration = Duration::from_millis(500);
    let started = Instant::now();
    let mut last = cpu_seconds(pid);
    while started.elapsed() < limit {
        tokio::time::sleep(WINDOW).await;
        let now = cpu_seconds(pid);
        match (last, now) {
            (Some(a), Some(b)) if (b - a) < 0.05 * WINDOW.as_secs_f64() => break,
            (None, _) | (_, None) => break,
            _ => last = now,
        }
    }
    started.elapsed()
}

/// Once the server is idle (`settle`), runs `measurement` and adds the CPU time the server
/// (`server_pid`) and this process used per request during it.
pub async fn with_cpu(server_pid: u32, measurement: impl Future<Output = Stats>) -> Stats {
    let waited = settle(server_pid, SETTLE_LIMIT).await;
    let before = (cpu_seconds(server_pid), cpu_seconds(std::process::id()));
    let mut stats = measurement.await;
    let after = (cpu_seconds(server_pid), cpu_seconds(std::process::id()));
    let per_request = |b: Option<f64>, a: Option<f64>| match (b, a) {
        (Some(b), Some(a)) if stats.requests > 0 => Some((a - b) * 1e6 / stats.requests as f64),
        _ => None,
    };
    stats.server_cpu_us = per_request(before.0, after.0);
    stats.client_cpu_us = per_request(before.1, after.1);
    stats.settle_s = Some(waited.as_secs_f64());
    stats
}

/// The round with the highest throughput, remembering every round's.
pub fn best(rounds: Vec<Stats>) -> Stats {
    let all: Vec<f64> = rounds.iter().map(|r| r.per_second).collect();
    let mut best = rounds
        .into_iter()
        .max_by(|a, b| a.per_second.total_cmp(&b.per_second))
        .unwrap_or_default();
    best.rounds_per_second = all;
    best
}

/// The longest wait for the server to become idle before a measurement.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(180);

/// Runs `clients` closed-loop clients for at most `duration` and `max_requests` requests in
/// all. `request(i)` sends request number `i` and says whether it succeeded.
pub async fn run<F, Fut>(clients: usize, duration: Duration, max_requests: u64, request: F) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    run_until(
        clients,
        duration,
        max_requests,
        Arc::new(AtomicBool::new(false)),
        request,
    )
    .await
}

/// `run`, ending early once `stop` is set: the reliability run stops its writers when it has
/// killed the server or filled its disk, instead of letting them spin on refused connections.
pub async fn run_until<F, Fut>(
    clients: usize,
    duration: Duration,
    max_requests: u64,
    stop: Arc<AtomicBool>,
    request: F,
) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (request, next, errors) = (request.clone(), next.clone(), errors.clone());
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                if stop.load(Ordering::Relaxed) {
                    return latencies;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max_requests || started.elapsed() >= duration {
                    return latencies;
                }
                let t = Instant::now();
                if request(i).await {
                    latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let seconds = started.elapsed().as_secs_f64();
    Stats::from_latencies(clients, all, errors.load(Ordering::Relaxed), seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s = Stats::from_latencies(1, (1..=100).map(|i| i * 1000).collect(), 2, 2.0);
        assert_eq!(
            (s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!((s.requests, s.errors), (102, 2));
        assert_eq!(s.per_second, 50.0);
    }

    #[test]
    fn this_process_uses_cpu_time_that_grows() {
        let before = cpu_seconds(std::process::id()).expect("/proc is mounted");
        let mut x = 0u64;
        // Spin until the process's CPU time has grown, not for a fixed wall time: on a loaded
        // machine (a load of 14 on 2 cores was seen) 150 ms of wall time was 40 ms of CPU.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut after = before;
        while after - before < 0.05 {
            assert!(Instant::now() < deadline, "{before} → {after} in 60 s");
            for _ in 0..1_000_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            after = cpu_seconds(std::process::id()).unwrap();
        }
        std::hint::black_box(x);
        assert_eq!(cpu_seconds(u32::MAX), None);
    }

    #[tokio::test]
    async fn the_request_budget_bounds_a_run() {
        let s = run(4, Duration::from_secs(60), 37, |_| async { true }).await;
        assert_eq!(s.requests, 37);
    }

    #[tokio::test]
    async fn setting_stop_ends_a_run() {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // The 20th request sets the flag: no client starts another one after it.
        let s = run_until(1, Duration::from_secs(60), u64::MAX, stop, move |i| {
            if i == 19 {
                flag.store(true, Ordering::Relaxed);
            }
            async { true }
        })
        .await;
        assert_eq!(s.requests, 20);
    }
}
