//! Fault points: places on the write paths (database transactions and their commit, the WAL's
//! sync, the index commit, the change log's pruning, the event outbox) where tests make I/O
//! fail on demand, to check that an acknowledged write is durable and searchable and a refused
//! one changes nothing. Built on the `fail` crate; without the `failpoints` feature (every
//! build but the store's fault tests) a point compiles to nothing.
//!
//! The names, for `fail::cfg(NAME, "return")` and friends:
//! - `sqlite.commit`: a write transaction's COMMIT turns into a ROLLBACK (SQLite's commit hook);
//! - `sqlite.wal_sync`: SQLite's sync of the WAL fails (at a group's commit, see `vfs`);
//! - `sqlite.wal_write`: SQLite's writes to the WAL fail (at a commit, or when a large write
//!   spills its pages before it; SQLite then rolls the whole transaction back);
//! - `index.write`: every write of the search index's files fails (segments, `meta.json`,
//!   directory syncs), as on a full disk (see `index::faulty`);
//! - `changes.prune`: deleting indexed entries of the change log fails;
//! - `outbox.append`: appending an event to the outbox fails (the case write rolls back).

/// `point!(NAME, error)`: when the fault point NAME is active, the enclosing function returns
/// `Err(error)`; otherwise (and always without the feature) nothing happens.
macro_rules! point {
    ($name:expr, $err:expr) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, |_| Err($err));
    };
}

pub(crate) use point;

#[cfg(feature = "failpoints")]
pub(crate) mod vfs;

/// Whether the fault point NAME is active (for points that are not an early return).
#[cfg(feature = "failpoints")]
pub(crate) fn active(name: &str) -> bool {
    (|| {
        fail::fail_point!(name, |_| true);
        false
    })()
}
