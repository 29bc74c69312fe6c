//! The load generator: a fixed number of clients, each sending its next request as soon as the
//! previous one is answered (a closed loop), until a time or request budget is spent. Bounded in
//! both, so a run always ends by itself.

use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
        }
    }
}

/// Runs `clients` closed-loop clients for at most `duration` and `max_requests` requests in
/// all. `request(i)` sends request number `i` and says whether it succeeded.
pub async fn run<F, Fut>(clients: usize, duration: Duration, max_requests: u64, request: F) -> Stats
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
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
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

    #[tokio::test]
    async fn the_request_budget_bounds_a_run() {
        let s = run(4, Duration::from_secs(60), 37, |_| async { true }).await;
        assert_eq!(s.requests, 37);
    }
}
