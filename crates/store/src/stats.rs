//! What a backend tells about itself for `GET /metrics`, in the same shape for every backend: how
//! many writes its group commits hold, how busy its connection pool is, and how far its derived
//! search index is behind the system of record. The server turns these into metrics; a backend
//! only counts.

use caseload_domain::store::StoreResult;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::postgres::PoolUsage;

/// A backend's numbers for metrics. Cheap to ask: the server asks `index_position` once a
/// second and the rest at every scrape.
#[async_trait::async_trait]
pub trait Stats: Send + Sync + 'static {
    /// The sizes of the transactions its writes were grouped into.
    fn group_sizes(&self) -> &GroupSizes;
    /// Its connection pool's use, if it has a pool.
    fn pool(&self) -> Option<PoolUsage>;
    /// Where the search index stands against the database.
    async fn index_position(&self) -> StoreResult<IndexPosition>;
}

/// The search index against the system of record. Positions grow in commit order, one per change
/// (for SQLite, the change log's sequence numbers), so `committed - searchable` is the number of
/// changes committed but not yet searchable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexPosition {
    /// The last change committed in the database (read first).
    pub committed: i64,
    /// The last change searches see (read after `committed`, so it may be ahead of it).
    pub searchable: i64,
    /// The indexer's last attempt failed (it retries by itself).
    pub failing: bool,
}

impl IndexPosition {
    /// Changes committed but not yet searchable.
    pub fn behind(&self) -> u64 {
        u64::try_from(self.committed.saturating_sub(self.searchable)).unwrap_or(0)
    }
}

/// Upper bounds of the group-size buckets: powers of two up to the SQLite writer's largest group
/// (512); larger groups (another backend's) fall in the `+Inf` bucket.
pub const GROUP_SIZE_BOUNDS: [u64; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/// A histogram of group sizes kept in atomics: recording one group is three relaxed atomic
/// additions, no lock and no allocation, so the writer thread never waits for a scrape.
#[derive(Debug, Default)]
pub struct GroupSizes {
    /// Groups per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; GROUP_SIZE_BOUNDS.len() + 1],
    /// Writes in all groups.
    writes: AtomicU64,
}

/// A `GroupSizes` read at one moment, in the shape `prometheus-client`'s encoders take.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSizesSnapshot {
    /// (upper bound, groups larger than the previous bound and at most this one), ending with
    /// `+Inf`. Not cumulative: the encoder adds them up.
    pub buckets: Vec<(f64, u64)>,
    pub groups: u64,
    pub writes: u64,
}

impl GroupSizes {
    /// Counts one group of `writes` writes.
    pub fn record(&self, writes: usize) {
        let i = GROUP_SIZE_BOUNDS.partition_point(|&bound| bound < writes as u64);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
    }

    /// The counts so far. The group count is the buckets' sum, so the two always agree; the
    /// write count may include a group recorded meanwhile.
    pub fn snapshot(&self) -> GroupSizesSnapshot {
        let mut buckets = Vec::with_capacity(self.buckets.len());
        let mut groups = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            let count = count.load(Ordering::Relaxed);
            groups += count;
            let bound = GROUP_SIZE_BOUNDS
                .get(i)
                .map_or(f64::INFINITY, |&b| b as f64);
            buckets.push((bound, count));
        }
        GroupSizesSnapshot {
            buckets,
            groups,
            writes: self.writes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_land_in_the_smallest_bucket_that_holds_them() {
        let sizes = GroupSizes::default();
        for n in [1, 1, 2, 3, 64, 65, 512, 513] {
            sizes.record(n);
        }
        let s = sizes.snapshot();
        assert_eq!(s.groups, 8);
        assert_eq!(s.writes, 1 + 1 + 2 + 3 + 64 + 65 + 512 + 513);
        let at = |bound: f64| s.buckets.iter().find(|(b, _)| *b == bound).unwrap().1;
        assert_eq!(at(1.0), 2);
        assert_eq!(at(2.0), 1);
        assert_eq!(at(4.0), 1);
        assert_eq!(at(8.0), 0);
        assert_eq!(at(64.0), 1);
        assert_eq!(at(128.0), 1);
        assert_eq!(at(512.0), 1);
        assert_eq!(s.buckets.last(), Some(&(f64::INFINITY, 1)));
        assert_eq!(s.buckets.len(), GROUP_SIZE_BOUNDS.len() + 1);
    }

    #[test]
    fn behind_counts_changes_not_yet_searchable_and_never_goes_negative() {
        let p = |committed, searchable| IndexPosition {
            committed,
            searchable,
            failing: false,
        };
        assert_eq!(p(10, 7).behind(), 3);
        assert_eq!(p(10, 10).behind(), 0);
        // Read in that order, the index may have moved past the committed position read.
        assert_eq!(p(10, 12).behind(), 0);
    }
}
