//! Sets of finished transactions, in the shape of PostgreSQL's `pg_snapshot`.
//!
//! A `Snapshot` says which transaction ids are *done*: every id below `xmax` that is not in `xip`
//! (the transactions that were still in progress). PostgreSQL's own snapshots have this shape
//! (`pg_current_snapshot()`, text form `xmin:xmax:xip,...`), and so does a change-log reader's
//! position: the transactions whose changes it has delivered. A finished transaction never
//! changes its rows again, so "done in the position" means "all of its changes delivered".
//!
//! Pure code: the reader (`changelog.rs`) and its tests build on it.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    xmax: i64,
    /// Sorted, distinct, all below `xmax`.
    xip: Vec<i64>,
}

impl Snapshot {
    /// The position before anything: no transaction is done. (PostgreSQL's first normal
    /// transaction id is 3.)
    pub fn origin() -> Snapshot {
        Snapshot {
            xmax: 1,
            xip: Vec::new(),
        }
    }

    /// From `xmax` and the in-progress ids (any order; ids at or above `xmax` are dropped, as
    /// they are not done anyway).
    pub fn new(xmax: i64, mut xip: Vec<i64>) -> Snapshot {
        xip.retain(|&x| x < xmax);
        xip.sort_unstable();
        xip.dedup();
        Snapshot { xmax, xip }
    }

    /// Parses `pg_snapshot`'s text form, `xmin:xmax:xip1,xip2,...`.
    pub fn parse(text: &str) -> Option<Snapshot> {
        let mut parts = text.trim().splitn(3, ':');
        let xmin: i64 = parts.next()?.parse().ok()?;
        let xmax: i64 = parts.next()?.parse().ok()?;
        let list = parts.next()?;
        let xip = if list.is_empty() {
            Vec::new()
        } else {
            list.split(',')
                .map(|x| x.parse().ok())
                .collect::<Option<Vec<i64>>>()?
        };
        // `xmin` is implied by the rest (ids below the lowest in progress are done either way);
        // it only has to be consistent with it.
        let consistent = xmin <= xmax && xip.iter().all(|&x| x >= xmin);
        consistent.then(|| Snapshot::new(xmax, xip))
    }

    /// The lowest transaction id that is not done: every id below it is.
    pub fn xmin(&self) -> i64 {
        self.xip.first().copied().unwrap_or(self.xmax)
    }

    /// The first id not covered: every id at or above it is not done.
    pub fn xmax(&self) -> i64 {
        self.xmax
    }

    /// The ids below `xmax` that are not done.
    pub fn in_progress(&self) -> &[i64] {
        &self.xip
    }

    pub fn is_done(&self, xid: i64) -> bool {
        xid < self.xmax && self.xip.binary_search(&xid).is_err()
    }

    /// Whether every transaction done in `other` is done here. A reader whose position covers
    /// the snapshot a request took when it arrived has delivered every change committed before
    /// that request.
    pub fn covers(&self, other: &Snapshot) -> bool {
        // Ids in [self.xmax, other.xmax) are not done here, so they must not be done there.
        let beyond = (other.xmax - self.xmax).max(0);
        let unfinished_beyond = other.xip.iter().filter(|&&x| x >= self.xmax).count() as i64;
        unfinished_beyond == beyond
            && self
                .xip
                .iter()
                .all(|&x| x >= other.xmax || other.xip.binary_search(&x).is_ok())
    }

    /// The position after delivering, from `self`, every change visible in the later snapshot
    /// `now` whose transaction id is at most `through`: the ids up to `through` are done as in
    /// `now`, those above it as in `self`. (A batch of the change log ends at a transaction
    /// boundary; this is the reader's position after it.)
    pub fn advanced_through(&self, now: &Snapshot, through: i64) -> Snapshot {
        let xmax = self.xmax.max(through + 1);
        let mut xip: Vec<i64> = now.xip.iter().copied().filter(|&x| x <= through).collect();
        xip.extend(self.xip.iter().copied().filter(|&x| x > through));
        Snapshot::new(xmax, xip)
    }
}

impl fmt::Display for Snapshot {
    /// `pg_snapshot`'s text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.xmin(), self.xmax)?;
        for (i, x) in self.xip.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Snapshot;

    fn snap(text: &str) -> Snapshot {
        Snapshot::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    /// The done set over a small range of ids, for comparing positions by what they mean.
    fn done_set(s: &Snapshot, upto: i64) -> Vec<i64> {
        (1..upto).filter(|&x| s.is_done(x)).collect()
    }

    #[test]
    fn parses_and_formats_pg_snapshot_text() {
        for text in ["20:20:", "10:20:10,14,15", "7:7:", "100:105:100"] {
            assert_eq!(snap(text).to_string(), text);
        }
        // The same set of finished transactions, whatever the xmin said.
        assert_eq!(snap("10:20:"), snap("20:20:"));
        assert_eq!(snap("5:20:14"), snap("14:20:14"));
        assert_eq!(snap("10:20:15,10").to_string(), "10:20:10,15");
        for bad in [
            "", "10", "10:20", "x:20:", "10:20:a", "12:20:10", "20:10:", "11:20:10",
        ] {
            assert_eq!(Snapshot::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn done_means_below_xmax_and_not_in_progress() {
        let s = snap("10:20:10,14");
        assert_eq!(
            done_set(&s, 25),
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 18, 19]
        );
        assert_eq!(s.xmin(), 10);
        assert!(!Snapshot::origin().is_done(1));
        assert!(!Snapshot::origin().is_done(3));
    }

    #[test]
    fn covers_is_inclusion_of_done_sets() {
        // Checked against the definition over every pair of a family of snapshots.
        let family: Vec<Snapshot> = [
            "1:1:",
            "5:5:",
            "5:8:5",
            "5:8:5,6,7",
            "5:8:6",
            "6:8:6,7",
            "8:8:",
            "5:10:5,9",
            "9:10:9",
            "10:10:",
            "5:12:5,10,11",
            "7:12:7",
        ]
        .iter()
        .map(|t| snap(t))
        .collect();
        for a in &family {
            for b in &family {
                let by_definition = done_set(b, 20).iter().all(|&x| a.is_done(x));
                assert_eq!(a.covers(b), by_definition, "{a} covers {b}");
            }
        }
    }

    #[test]
    fn advancing_through_a_transaction_takes_the_later_view_up_to_it() {
        let family: Vec<(Snapshot, Snapshot)> = [
            ("5:8:5", "5:12:5,10"),
            ("5:8:5,6", "6:12:6,9"),
            ("8:8:", "8:15:8,9,14"),
            ("3:9:3,7", "7:12:7"),
            ("1:1:", "4:9:4,6"),
        ]
        .iter()
        .map(|(a, b)| (snap(a), snap(b)))
        .collect();
        for (before, now) in &family {
            // Every id done in `now` could be the last one a batch delivers.
            for through in (1..now.xmax()).filter(|&x| now.is_done(x)) {
                let after = before.advanced_through(now, through);
                for x in 1..20 {
                    let expected = if x <= through {
                        now.is_done(x)
                    } else {
                        before.is_done(x)
                    };
                    assert_eq!(
                        after.is_done(x),
                        expected,
                        "{before} then {now} through {through}: {after}, id {x}"
                    );
                }
                assert!(now.covers(&after) && after.covers(before));
            }
        }
    }
}
