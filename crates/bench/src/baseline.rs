//! The storage baseline: raw SQLite single-row transactions with the durability the server uses
//! (WAL, every commit synced before it returns), on the same file system as the server's data.

use crate::load::Stats;
use rusqlite::{Connection, params};
use std::path::Path;
use std::time::{Duration, Instant};

/// Inserts rows of `row` bytes, one per transaction, sequentially, for `duration` or `max` rows.
pub fn sqlite_single_row(
    dir: &Path,
    duration: Duration,
    max: u64,
    row: &str,
) -> Result<Stats, String> {
    let path = dir.join("baseline.sqlite3");
    let _ = std::fs::remove_file(&path);
    let err = |e: rusqlite::Error| e.to_string();
    let conn = Connection::open(&path).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(err)?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .map_err(err)?;
    let mut stmt = conn
        .prepare("INSERT INTO t (id, body) VALUES (?1, ?2)")
        .map_err(err)?;
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut i = 0u64;
    while i < max && started.elapsed() < duration {
        let t = Instant::now();
        // Autocommit: each INSERT is its own transaction, synced at commit.
        stmt.execute(params![i as i64, row]).map_err(err)?;
        latencies.push(t.elapsed().as_micros() as u32);
        i += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(stmt);
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("baseline.sqlite3{suffix}")));
    }
    Ok(Stats::from_latencies(1, latencies, 0, seconds))
}
