//! Scenario 2: the data directory on a small tmpfs that writers of large Text values fill.
//! While it is full, searches must answer (an error is fine) within a bound; once a filler file
//! made beforehand on the same tmpfs is deleted, writes must work again and every acknowledged
//! write must be there, in GetCase and in SearchCases, before and after a restart.

use super::api::{Answer, call};
use super::ledger::Ledger;
use super::report::{DiskFullResult, Probe};
use super::verify::verify;
use super::workload::{Schema, Writers};
use super::{Args, say, start};
use caseload_model::shapes::SearchCasesRequest;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Writers of the episode.
const WRITERS: usize = 8;
/// Large Text fields per write, and characters in each (a Text value holds up to 4,100).
const PADS: usize = 4;
const PAD_CHARS: usize = 4000;
/// Searches sent while the disk is full.
const PROBES: usize = 3;
/// Writes tried, one at a time, after space is freed, before concluding writes stay broken.
const RESUME_TRIES: u32 = 20;

/// A mounted tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, mb: u64) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs was refused: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

pub async fn run(bin: &Path, args: &Args) -> DiskFullResult {
    let mut result = DiskFullResult {
        tmpfs_mb: args.disk_mb,
        filler_mb: args.filler_mb,
        writers: WRITERS,
        bytes_per_write: (PADS * PAD_CHARS) as u64,
        search_bound_ms: args.search_bound.as_secs_f64() * 1000.0,
        ..Default::default()
    };
    let dir = args.work_dir.join("disk-full");
    let tmpfs = match Tmpfs::mount(&dir, args.disk_mb) {
        Ok(t) => t,
        Err(e) => {
            say(&format!("disk-full skipped: {e}"));
            result.skipped = Some(e);
            return result;
        }
    };
    if let Err(e) = episode(bin, args, &tmpfs.0, &mut result).await {
        result.error = Some(e);
    }
    drop(tmpfs);
    result
}

fn fill(path: &Path, mb: u64) -> Result<(), String> {
    let mut f = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let block = vec![0x5Au8; 1 << 20];
    for _ in 0..mb {
        f.write_all(&block).map_err(|e| e.to_string())?;
    }
    f.sync_all().map_err(|e| e.to_string())
}

async fn episode(
    bin: &Path,
    args: &Args,
    dir: &Path,
    result: &mut DiskFullResult,
) -> Result<(), String> {
    let filler = dir.join("filler");
    fill(&filler, args.filler_mb)?;
    let data = dir.join("data");
    let (mut server, client) = start(bin, args, &data).await?;
    let schema = Arc::new(Schema::create(&client, "reliability-disk", PADS, PAD_CHARS).await?);
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let writers = Writers::new(client.clone(), schema.clone(), ledger.clone(), args.seed);

    // Until every writer has had about one failure, or the time is up.
    let t = Instant::now();
    let writes = writers
        .run(
            WRITERS,
            Duration::from_secs_f64(args.fill_seconds),
            u64::MAX,
            Arc::new(AtomicBool::new(false)),
            WRITERS as u64,
        )
        .await;
    result.failures = writers.failures.lock().expect("failures").clone();
    result.acknowledged = ledger.lock().expect("ledger").acknowledged;
    result.write_errors = writes.errors;
    if writes.errors > 0 {
        result.filled_after_s = Some(t.elapsed().as_secs_f64());
    }
    say(&format!(
        "{} writes acknowledged, {} failed ({}) after {:.1} s",
        result.acknowledged,
        writes.errors,
        result
            .failures
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        t.elapsed().as_secs_f64(),
    ));

    let search = SearchCasesRequest {
        fields: None,
        max_results: Some(10),
        ..schema.search(None)
    };
    for _ in 0..PROBES {
        let (answer, took) = call(&client, &search, args.search_bound).await;
        result.probes.push(Probe {
            ms: took.as_secs_f64() * 1000.0,
            answer: answer.describe(),
            hung: matches!(answer, Answer::Lost(_)),
        });
    }
    result.exited = server.exited().map(|s| s.to_string());

    std::fs::remove_file(&filler).map_err(|e| format!("cannot delete the filler: {e}"))?;
    result.resumed_at_attempt = resume(&writers).await;
    say(&match result.resumed_at_attempt {
        Some(a) => format!("space freed; a write was acknowledged again at attempt {a}"),
        None => "space freed; no write was acknowledged again".into(),
    });
    result.after_free = verify(&client, &schema, &ledger, args.read_timeout).await;
    result.stopped_cleanly = server.stop();
    let (server, client) = start(bin, args, &data).await?;
    result.after_restart = verify(&client, &schema, &ledger, args.read_timeout).await;
    server.stop();
    Ok(())
}

/// Writes one at a time until one is acknowledged: the attempt that was, if any.
async fn resume(writers: &Writers) -> Option<u32> {
    for attempt in 1..=RESUME_TRIES {
        let stats = writers
            .run(
                1,
                Duration::from_secs(30),
                1,
                Arc::new(AtomicBool::new(false)),
                u64::MAX,
            )
            .await;
        if stats.errors == 0 && stats.requests == 1 {
            return Some(attempt);
        }
        // No event says the server can write again; a short pause between attempts keeps this
        // from spinning.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}
