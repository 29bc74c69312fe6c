//! Scenario 4: the mixed write load and searches for a while, the server's RSS sampled every
//! second, then every acknowledged write verified.

use super::ledger::Ledger;
use super::report::{Sample, SoakResult};
use super::verify::verify;
use super::workload::{Schema, Writers};
use super::{Args, api, start};
use crate::load;
use crate::server::memory_of;
use caseload_model::shapes::{Order, SearchCasesRequest, Sort};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clients searching beside the writers.
const READERS: usize = 2;

pub async fn run(bin: &Path, args: &Args) -> SoakResult {
    let mut result = SoakResult {
        seconds: args.soak_seconds,
        clients: args.clients,
        readers: READERS,
        ..Default::default()
    };
    if let Err(e) = soak(bin, args, &mut result).await {
        result.error = Some(e);
    }
    result
}

async fn soak(bin: &Path, args: &Args, result: &mut SoakResult) -> Result<(), String> {
    let data = args.work_dir.join("soak");
    let _ = std::fs::remove_dir_all(&data);
    let (server, client) = start(bin, args, &data).await?;
    let schema = Arc::new(Schema::create(&client, "reliability-soak", 0, 0).await?);
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let writers = Writers::new(client.clone(), schema.clone(), ledger.clone(), args.seed);
    let stop = Arc::new(AtomicBool::new(false));
    let duration = Duration::from_secs_f64(args.soak_seconds);

    let sampler = {
        let (pid, stop) = (server.pid(), stop.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let m = memory_of(pid);
                samples.push(Sample {
                    t: started.elapsed().as_secs_f64(),
                    rss: m.rss,
                    anonymous: m.anonymous,
                });
            }
            samples
        })
    };
    let readers = {
        let (client, schema) = (client.clone(), schema.clone());
        let never = Arc::new(AtomicBool::new(false));
        tokio::spawn(load::run_until(
            READERS,
            duration,
            u64::MAX,
            never,
            move |i| {
                let client = client.clone();
                // Newest first, a page deep or not, with a term or not: the index's caches fill.
                let mut input = SearchCasesRequest {
                    fields: None,
                    max_results: Some(25),
                    ..schema.search(None)
                };
                if i % 2 == 0 {
                    input.search_term = Some("case".into());
                } else {
                    input.sorts = Some(vec![Sort {
                        field_id: "created_datetime".into(),
                        sort_order: Order::Asc,
                    }]);
                }
                async move {
                    let answer = api::call(&client, &input, Duration::from_secs(30));
                    matches!(answer.await.0, api::Answer::Ok(_))
                }
            },
        ))
    };
    let writes = writers
        .run(
            args.clients,
            duration,
            u64::MAX,
            Arc::new(AtomicBool::new(false)),
            u64::MAX,
        )
        .await;
    let searches = readers.await.map_err(|e| e.to_string())?;
    stop.store(true, Ordering::Relaxed);
    result.samples = sampler.await.map_err(|e| e.to_string())?;
    result.writes = writes;
    result.searches = searches;
    result.failures = writers.failures.lock().expect("failures").clone();
    result.verdict = verify(&client, &schema, &ledger, args.read_timeout).await;
    result.peak_bytes = server.memory().peak;
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
