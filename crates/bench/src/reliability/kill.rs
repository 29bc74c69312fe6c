//! Scenario 1: rounds of SIGKILL under the mixed write load. Each round writes for a while,
//! kills the server at a random moment, restarts it on the same data and verifies every write
//! acknowledged in this round and all rounds before it.

use super::ledger::Ledger;
use super::report::{KillResult, Round};
use super::verify::verify;
use super::workload::{Schema, Writers};
use super::{Args, say, start};
use crate::rng::Rng;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub async fn run(bin: &Path, args: &Args) -> KillResult {
    let mut result = KillResult {
        clients: args.clients,
        round_seconds: args.round_seconds,
        ..Default::default()
    };
    if let Err(e) = rounds(bin, args, &mut result).await {
        result.error = Some(e);
    }
    result
}

async fn rounds(bin: &Path, args: &Args, result: &mut KillResult) -> Result<(), String> {
    let data = args.work_dir.join("kill");
    let _ = std::fs::remove_dir_all(&data);
    let (mut server, mut client) = start(bin, args, &data).await?;
    let schema = Arc::new(Schema::create(&client, "reliability-kill", 0, 0).await?);
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let mut rng = Rng::new(args.seed ^ 0x4B11);
    for round in 1..=args.rounds {
        let before = counts(&ledger);
        let writers = Writers::new(
            client.clone(),
            schema.clone(),
            ledger.clone(),
            args.seed ^ u64::from(round),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let load = {
            let (w, stop) = (writers.clone(), stop.clone());
            let seconds = Duration::from_secs_f64(args.round_seconds);
            let clients = args.clients;
            tokio::spawn(async move { w.run(clients, seconds, u64::MAX, stop, u64::MAX).await })
        };
        // The moment of the kill is the point of the round, drawn from the seed: somewhere in
        // the middle of the load, never at its quiet start or end.
        let at = args.round_seconds * (0.3 + 0.6 * rng.unit());
        tokio::time::sleep(Duration::from_secs_f64(at)).await;
        let crashed = server
            .exited()
            .map(|s| format!("the server exited by itself: {s}"));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        let writes = load.await.map_err(|e| e.to_string())?;
        let t = Instant::now();
        (server, client) = start(bin, args, &data).await?;
        let restart_s = t.elapsed().as_secs_f64();
        let after = counts(&ledger);
        let verdict = verify(&client, &schema, &ledger, args.read_timeout).await;
        say(&format!(
            "round {round}: killed after {at:.1} s, {} acknowledged, {} in doubt; {} cases, {} lost, {} divergent",
            after.0 - before.0,
            after.1 - before.1,
            verdict.cases,
            verdict.lost,
            verdict.divergences
        ));
        result.rounds.push(Round {
            round,
            writes: writes.requests,
            acknowledged: after.0 - before.0,
            in_doubt: after.1 - before.1,
            killed_after_s: at,
            restart_s,
            crashed,
            failures: writers.failures.lock().expect("failures").clone(),
            verdict,
        });
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// Acknowledged and in-doubt writes so far.
fn counts(ledger: &Mutex<Ledger>) -> (u64, u64) {
    let l = ledger.lock().expect("ledger");
    (l.acknowledged, l.in_doubt)
}
