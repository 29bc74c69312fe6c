//! The storage backend's metrics: group-commit sizes, connection-pool use and the search index's
//! lag, read from any backend's `caseload_store::stats::Stats`.
//!
//! A scrape reads only atomics and the last sample: it never waits on the database, so
//! `/metrics` answers while the database is slow or stuck (the lag then grows, which is the
//! point). The index's position is sampled once a second by `spawn_sampler` (one point read).

use caseload_store::stats::{IndexPosition, Stats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the index's position is read.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Committed positions remembered while the index is behind (one per sample that saw a new
/// one): an hour of samples. Past that the oldest are kept and newer ones dropped, so the lag
/// in seconds can only be overstated, never understated.
const MAX_PENDING: usize = 3600;

/// The index's lag as the samples tell it.
#[derive(Debug)]
pub struct IndexLag {
    /// The last sample.
    last: Option<IndexPosition>,
    /// Every change committed before this moment is searchable, as far as the samples show.
    covered_at: Instant,
    /// Committed positions not yet searchable, with when each was read, oldest first.
    pending: VecDeque<(i64, Instant)>,
}

impl IndexLag {
    /// Before any sample, the index counts as caught up at `start` (the server's start).
    pub fn new(start: Instant) -> IndexLag {
        IndexLag {
            last: None,
            covered_at: start,
            pending: VecDeque::new(),
        }
    }

    /// Takes a sample read at `at`. Positions grow in commit order: once the index has reached
    /// a position read at time t, every change committed before t is searchable.
    pub fn observe(&mut self, p: IndexPosition, at: Instant) {
        self.last = Some(p);
        if p.behind() == 0 {
            self.pending.clear();
            self.covered_at = at;
            return;
        }
        while let Some(&(position, read_at)) = self.pending.front() {
            if position > p.searchable {
                break;
            }
            self.covered_at = read_at;
            self.pending.pop_front();
        }
        let newer = self
            .pending
            .back()
            .is_none_or(|&(last, _)| last < p.committed);
        if newer && self.pending.len() < MAX_PENDING {
            self.pending.push_back((p.committed, at));
        }
    }

    /// Changes committed but not searchable at the last sample.
    pub fn changes(&self) -> Option<u64> {
        self.last.map(|p| p.behind())
    }

    /// 0 when the last sample found every committed change searchable; otherwise how long ago
    /// (from `now`) the index last covered everything committed until then.
    pub fn seconds(&self, now: Instant) -> Option<f64> {
        let last = self.last?;
        Some(if last.behind() == 0 {
            0.0
        } else {
            now.saturating_duration_since(self.covered_at).as_secs_f64()
        })
    }

    pub fn failing(&self) -> Option<bool> {
        self.last.map(|p| p.failing)
    }
}

/// Reads the backend's index position every `SAMPLE_EVERY` into `lag`, for as long as the
/// process runs. A failed read leaves the last sample (and the lag in seconds keeps growing if
/// the index was behind).
pub fn spawn_sampler(stats: Arc<dyn Stats>, lag: Arc<Mutex<IndexLag>>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SAMPLE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let at = Instant::now();
            match stats.index_position().await {
                Ok(p) => lag.lock().unwrap_or_else(|e| e.into_inner()).observe(p, at),
                Err(e) => tracing::debug!(error = %e, "cannot read the index's position"),
            }
        }
    });
}

/// Encodes the backend's metrics at each scrape.
pub struct BackendCollector {
    pub stats: Arc<dyn Stats>,
    pub lag: Arc<Mutex<IndexLag>>,
}

impl std::fmt::Debug for BackendCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendCollector").finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

/// Writes one gauge without labels.
fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: impl prometheus_client::encoding::EncodeGaugeValue + Send + Sync + std::fmt::Debug,
) -> std::fmt::Result {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, unit, g.metric_type())?)
}

impl Collector for BackendCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let sizes = self.stats.group_sizes().snapshot();
        encoder
            .encode_descriptor(
                "store_group_commit_writes",
                "Writes per transaction the store committed them in (group commit).",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(
                sizes.writes as f64,
                sizes.groups,
                &sizes.buckets,
                None,
            )?;

        if let Some(pool) = self.stats.pool() {
            let mut m = encoder.encode_descriptor(
                "store_pool_connections",
                "Database connections of the store's pool, by state.",
                None,
                MetricType::Gauge,
            )?;
            let in_use = pool.open.saturating_sub(pool.idle);
            for (state, n) in [("in_use", in_use), ("idle", pool.idle)] {
                ConstGauge::new(n as i64).encode(m.encode_family(&PoolState { state })?)?;
            }
            gauge(
                &mut encoder,
                "store_pool_max_connections",
                "Most connections the store's pool holds.",
                None,
                pool.max as i64,
            )?;
        }

        let (changes, seconds, failing) = {
            let lag = self.lag.lock().unwrap_or_else(|e| e.into_inner());
            (lag.changes(), lag.seconds(Instant::now()), lag.failing())
        };
        if let (Some(changes), Some(seconds), Some(failing)) = (changes, seconds, failing) {
            gauge(
                &mut encoder,
                "index_lag_changes",
                "Changes committed in the database but not yet searchable (sampled every second).",
                None,
                changes as i64,
            )?;
            gauge(
                &mut encoder,
                "index_lag",
                "0 when the search index held every committed change at the last sample; otherwise seconds since it last did.",
                Some(&Unit::Seconds),
                seconds,
            )?;
            gauge(
                &mut encoder,
                "index_failing",
                "1 while the search indexer's last attempt failed (it retries by itself).",
                None,
                i64::from(failing),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(committed: i64, searchable: i64) -> IndexPosition {
        IndexPosition {
            committed,
            searchable,
            failing: false,
        }
    }

    #[test]
    fn nothing_is_known_before_the_first_sample() {
        let lag = IndexLag::new(Instant::now());
        assert_eq!(lag.changes(), None);
        assert_eq!(lag.seconds(Instant::now()), None);
    }

    #[test]
    fn a_caught_up_index_lags_by_nothing() {
        let t0 = Instant::now();
        let mut lag = IndexLag::new(t0);
        lag.observe(at(5, 5), t0);
        assert_eq!(lag.changes(), Some(0));
        assert_eq!(lag.seconds(t0 + Duration::from_secs(30)), Some(0.0));
    }

    #[test]
    fn the_lag_runs_from_the_last_moment_the_index_covered_everything_committed() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut lag = IndexLag::new(t0);
        lag.observe(at(10, 10), t0);
        // Writes arrive faster than they are indexed.
        lag.observe(at(20, 12), t0 + s(1));
        assert_eq!(lag.changes(), Some(8));
        assert_eq!(lag.seconds(t0 + s(1)), Some(1.0));
        lag.observe(at(30, 19), t0 + s(2));
        // Change 20 (committed by t0+1) is not searchable yet: covered only up to t0.
        assert_eq!(lag.seconds(t0 + s(2)), Some(2.0));
        lag.observe(at(40, 25), t0 + s(3));
        // 20 is searchable now: everything committed before t0+1 is.
        assert_eq!(lag.changes(), Some(15));
        assert_eq!(lag.seconds(t0 + s(3)), Some(2.0));
        lag.observe(at(40, 40), t0 + s(4));
        assert_eq!(lag.seconds(t0 + s(4)), Some(0.0));
    }

    #[test]
    fn a_stuck_index_lags_ever_more_and_says_it_fails() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut lag = IndexLag::new(t0);
        lag.observe(at(3, 3), t0);
        for i in 1..=10 {
            lag.observe(
                IndexPosition {
                    committed: 3 + i,
                    searchable: 3,
                    failing: true,
                },
                t0 + s(i as u64),
            );
        }
        assert_eq!(lag.changes(), Some(10));
        assert_eq!(lag.failing(), Some(true));
        assert_eq!(lag.seconds(t0 + s(15)), Some(15.0));
    }

    #[test]
    fn an_index_behind_since_start_up_lags_since_start_up() {
        let t0 = Instant::now();
        let mut lag = IndexLag::new(t0);
        lag.observe(at(100, 0), t0 + Duration::from_secs(2));
        assert_eq!(lag.seconds(t0 + Duration::from_secs(5)), Some(5.0));
    }
}
