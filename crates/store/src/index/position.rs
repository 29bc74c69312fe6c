//! Where the indexer stands in a change log, whatever the log.
//!
//! SQLite commits one transaction at a time, so its log's sequence numbers are in commit order and
//! a position is the last one applied. PostgreSQL commits many at once and a sequence number is
//! taken before its transaction commits, so a position there is a set of finished transactions
//! (`postgres::Snapshot`, see `postgres/changelog.rs`). The indexer needs only what this trait
//! says of either: where it starts, whether it has reached the horizon a search took, and how to
//! keep a position in the commit payload of the Tantivy index.

use crate::postgres::Snapshot;
use std::fmt;

pub trait Position: Clone + PartialEq + fmt::Display + fmt::Debug + Send + Sync + 'static {
    /// Before any change: an index here holds nothing.
    fn origin() -> Self;
    /// Whether every change delivered up to `other` is delivered up to `self`: a search that took
    /// `other` as its horizon is answered once the index's committed position covers it.
    fn covers(&self, other: &Self) -> bool;
    /// The text kept in the commit payload (after the document format), read back by `decode`.
    fn encode(&self) -> String {
        self.to_string()
    }
    /// `None` for a payload this log did not write: the index is then rebuilt.
    fn decode(text: &str) -> Option<Self>;
}

/// SQLite: the sequence number of the last change applied (`0`: none).
impl Position for i64 {
    fn origin() -> i64 {
        0
    }

    fn covers(&self, other: &i64) -> bool {
        self >= other
    }

    fn decode(text: &str) -> Option<i64> {
        text.parse().ok()
    }
}

/// PostgreSQL: the transactions whose changes were delivered.
impl Position for Snapshot {
    fn origin() -> Snapshot {
        Snapshot::origin()
    }

    fn covers(&self, other: &Snapshot) -> bool {
        Snapshot::covers(self, other)
    }

    fn decode(text: &str) -> Option<Snapshot> {
        Snapshot::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<P: Position>(p: P) {
        assert_eq!(P::decode(&p.encode()), Some(p.clone()), "{p}");
        assert!(p.covers(&p) && p.covers(&P::origin()), "{p}");
    }

    #[test]
    fn positions_round_trip_through_the_payload_and_cover_the_origin() {
        for seq in [0, 1, 42, i64::MAX] {
            round_trip(seq);
        }
        for text in ["1:1:", "20:20:", "10:20:10,14,15"] {
            round_trip(Snapshot::parse(text).unwrap());
        }
        // A payload of the other log is not a position of this one: the index is rebuilt.
        assert_eq!(<i64 as Position>::decode("10:20:10"), None);
        assert_eq!(<Snapshot as Position>::decode("42"), None);
        assert!(!Position::covers(
            &Snapshot::origin(),
            &Snapshot::parse("8:8:").unwrap()
        ));
        assert!(!1i64.covers(&2));
    }
}
