//! One benchmark run: for each corpus size, generate, import, start the server, measure, stop.

use crate::baseline;
use crate::generate::{self, Generated};
use crate::load::{self, Stats};
use crate::report::{Machine, QueryResult, Results, SizeResult, Visibility};
use crate::rng::Rng;
use crate::scenarios;
use crate::server::{self, Server};
use bytes::Bytes;
use caseload_client::{Client, HttpMethod as Method, build_request};
use caseload_model::shapes::{ListDomainsRequest, SearchCasesRequest};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct RunArgs {
    pub sizes: Vec<u64>,
    pub seed: u64,
    pub work_dir: PathBuf,
    /// Seconds per throughput measurement (one client count of one operation).
    pub seconds: f64,
    /// Timed requests per search query.
    pub search_iterations: u64,
    /// Create-then-search rounds of the write → visible measurement.
    pub visibility_rounds: u64,
    pub concurrency: Vec<usize>,
    /// Export each imported domain again and compare it with the generated file, up to this size.
    pub round_trip_up_to: u64,
}

pub const ACCOUNT: (&str, &str, &str) = ("test", "test", "us-east-1");

fn say(message: &str) {
    eprintln!("[bench] {message}");
}

pub async fn run(args: &RunArgs) -> Result<Results, String> {
    let started = Instant::now();
    let bin = server::binary()?;
    std::fs::create_dir_all(&args.work_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.work_dir.display()))?;
    let mut results = Results::new(Machine::here(), args.seed);
    let row = generated_row(args.seed);
    say("baseline: raw SQLite single-row transactions");
    let (dir, secs) = (args.work_dir.clone(), args.seconds);
    results.sqlite_baseline = tokio::task::spawn_blocking(move || {
        baseline::sqlite_single_row(&dir, Duration::from_secs_f64(secs), 1_000_000, &row)
    })
    .await
    .map_err(|e| e.to_string())??;
    for &n in &args.sizes {
        let r = one_size(&bin, args, n).await?;
        results.sizes.push(r);
    }
    results.run_seconds = started.elapsed().as_secs_f64();
    Ok(results)
}

/// A case row as the server stores it, for the SQLite baseline's inserts.
fn generated_row(seed: u64) -> String {
    let mut out = Vec::new();
    let _ = generate::generate(1, seed, &mut out);
    String::from_utf8_lossy(&out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

async fn one_size(bin: &Path, args: &RunArgs, n: u64) -> Result<SizeResult, String> {
    let file = args.work_dir.join(format!("generated-{n}.ndjson"));
    let data = args.work_dir.join(format!("data-{n}"));
    let _ = std::fs::remove_dir_all(&data);
    say(&format!("{n} cases: generating"));
    let t = Instant::now();
    let g = {
        let f = std::fs::File::create(&file).map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        let g = generate::generate(n, args.seed, &mut out).map_err(|e| e.to_string())?;
        std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
        g
    };
    let mut r = SizeResult {
        cases: n,
        generate_s: t.elapsed().as_secs_f64(),
        file_bytes: std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0),
        ..Default::default()
    };

    say(&format!("{n} cases: importing"));
    let t = Instant::now();
    let out = Command::new(bin)
        .args(["import", "--quiet", "--data-dir"])
        .arg(&data)
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    r.import_s = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let domain = stdout
        .trim()
        .rsplit(' ')
        .next()
        .ok_or("no domain id in the import's output")?
        .to_owned();
    r.disk_bytes = server::disk_usage(&data);

    if n <= args.round_trip_up_to {
        say(&format!("{n} cases: export round trip"));
        let exported = args.work_dir.join(format!("exported-{n}.ndjson"));
        let status = Command::new(bin)
            .args(["export", "--quiet", "--domain-id", &domain, "--data-dir"])
            .arg(&data)
            .arg("--output")
            .arg(&exported)
            .status()
            .map_err(|e| e.to_string())?;
        let same = status.success()
            && std::fs::read(&exported).map_err(|e| e.to_string())?
                == std::fs::read(&file).map_err(|e| e.to_string())?;
        r.round_trip_identical = Some(same);
        let _ = std::fs::remove_file(&exported);
        if !same {
            return Err(format!(
                "export after import differs from the generated file ({n} cases)"
            ));
        }
    }
    let _ = std::fs::remove_file(&file);

    say(&format!("{n} cases: starting the server"));
    r.load_before = load_average();
    let started = Instant::now();
    let server = Server::start(bin, &data)?;
    r.startup_listening_ms = server.listening.as_secs_f64() * 1000.0;
    let (k, s, region) = ACCOUNT;
    let client = Client::new(&server.endpoint, k, s, region);
    wait_serving(&client).await?;
    r.startup_serving_ms = started.elapsed().as_secs_f64() * 1000.0;
    let g = Arc::new(g);
    let t = Instant::now();
    let first = client
        .execute(&SearchCasesRequest {
            domain_id: domain.clone(),
            fields: None,
            filter: None,
            max_results: Some(1),
            next_token: None,
            search_term: None,
            sorts: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    r.first_search_ms = t.elapsed().as_secs_f64() * 1000.0;
    r.first_search_total = first.total_count.unwrap_or(0) as u64;

    // The bare endpoint answers with exactly the bytes of a GetCase.
    // Every GetCase of the load is built before it (the sample of case ids is at most 20,000),
    // so the measured loop costs the client signing and sending only, as for the bare endpoint.
    let get_requests = g
        .case_ids
        .iter()
        .map(|id| build_request(&scenarios::get_input(&g, &domain, id)))
        .collect::<Result<Vec<_>, _>>()?;
    let get_requests = Arc::new(get_requests);
    let answer = client
        .send_request(&get_requests[0])
        .await
        .map_err(|e| e.to_string())?;
    if answer.status != 200 {
        return Err(format!("GetCase answered {}", answer.status));
    }
    r.get_case_bytes = answer.body.len() as u64;
    // The bare endpoint is the server's own (`/_caseload/`), not in the model: it is sent raw.
    client
        .send(Method::PUT, "/_caseload/baseline", answer.body.clone())
        .await
        .map_err(|e| e.to_string())?;

    say(&format!("{n} cases: search mix"));
    r.search_settle_s = Some(settle(&server).await);
    for q in scenarios::search_mix(&g, &domain) {
        r.search
            .push(search(&client, server.pid(), q, args.search_iterations).await?);
    }

    let secs = Duration::from_secs_f64(args.seconds);
    let pid = server.pid();
    const READ_ROUNDS: usize = 3;
    for &c in &args.concurrency {
        say(&format!("{n} cases: {c} clients"));
        // The bare endpoint and GetCase alternate in short rounds and each keeps its best: a
        // disturbance of the shared machine during one round (seen here: both sides slower by
        // a third for seconds at a time) then cannot decide the ratio between them.
        let round = secs.div_f64(READ_ROUNDS as f64);
        let (mut bare, mut gets) = (Vec::new(), Vec::new());
        for k in 0..READ_ROUNDS {
            let cl = client.clone();
            bare.push(
                load::with_cpu(
                    pid,
                    load::run(c, round, u64::MAX, move |_| {
                        let cl = cl.clone();
                        async move {
                            ok(cl
                                .send(Method::GET, "/_caseload/baseline", Bytes::new())
                                .await)
                        }
                    }),
                )
                .await,
            );
            let (cl, requests) = (client.clone(), get_requests.clone());
            gets.push(
                load::with_cpu(
                    pid,
                    load::run(c, round, u64::MAX, move |i| {
                        // Each round reads other cases than the rounds before it.
                        let i = i as usize + k * 1_000_003;
                        let (cl, requests) = (cl.clone(), requests.clone());
                        async move {
                            let request = &requests[(i * 7919) % requests.len()];
                            ok(cl.send_request(request).await)
                        }
                    }),
                )
                .await,
            );
        }
        r.bare.push(load::best(bare));
        r.get_case.push(load::best(gets));
        let (cl, gg) = (client.clone(), g.clone());
        let d2 = domain.clone();
        r.create_case.push(
            load::with_cpu(
                pid,
                load::run(c, secs, u64::MAX, move |i| {
                    let mut rng = Rng::new(args_seed(i));
                    let request = build_request(&scenarios::create_input(&gg, &mut rng, &d2, ""));
                    let cl = cl.clone();
                    async move { ok_built(&cl, request).await }
                }),
            )
            .await,
        );
        let (cl, gg) = (client.clone(), g.clone());
        let d2 = domain.clone();
        r.update_case.push(
            load::with_cpu(
                pid,
                load::run(c, secs, u64::MAX, move |i| {
                    let mut rng = Rng::new(args_seed(i) ^ 0xA5A5);
                    let id = &gg.case_ids[rng.below(gg.case_ids.len() as u64) as usize];
                    let request = build_request(&scenarios::update_input(&gg, &mut rng, &d2, id));
                    let cl = cl.clone();
                    async move { ok_built(&cl, request).await }
                }),
            )
            .await,
        );
    }

    say(&format!("{n} cases: write → visible"));
    r.visibility_settle_s = Some(settle(&server).await);
    r.visibility = visibility(&client, &domain, &g, args.visibility_rounds).await?;
    let memory = server.memory();
    r.rss_bytes = memory.rss;
    r.rss_peak_bytes = memory.peak;
    r.rss_anon_bytes = memory.anonymous;
    r.rss_file_bytes = memory.file;
    server.stop();
    r.load_after = load_average();
    r.disk_bytes_after = server::disk_usage(&data);
    let _ = std::fs::remove_dir_all(&data);
    Ok(r)
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A per-request seed, so request `i` has the same body in every run.
fn args_seed(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED
}

/// Sends a request the typed layer built (or counts it failed when it could not be built).
async fn ok_built(client: &Client, request: Result<caseload_client::HttpRequest, String>) -> bool {
    match request {
        Ok(request) => ok(client.send_request(&request).await),
        Err(_) => false,
    }
}

fn ok(r: Result<caseload_client::Response, caseload_client::ClientError>) -> bool {
    matches!(r, Ok(resp) if resp.status == 200)
}

/// Seconds waited for the server to become idle (`load::settle`).
async fn settle(server: &Server) -> f64 {
    load::settle(server.pid(), load::SETTLE_LIMIT)
        .await
        .as_secs_f64()
}

/// Waits until the server answers an API call (ListDomains) or 60 s have passed.
pub async fn wait_serving(client: &Client) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let list = ListDomainsRequest {
        max_results: None,
        next_token: None,
    };
    loop {
        let r = client.execute(&list).await;
        if r.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the server did not answer within 60 s: {r:?}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A query of the mix, timed on one client after a short warm-up, with the CPU time the server
/// (`pid`) used per request: unlike the latency, the server's CPU is not blurred by the load
/// generator's share of the machine, so it compares revisions on a busy machine.
async fn search(
    client: &Client,
    pid: u32,
    q: scenarios::Query,
    iterations: u64,
) -> Result<QueryResult, String> {
    let mut input = q.input;
    let mut description = q.description;
    for page in 0..q.skip_pages {
        let out = client
            .execute(&input)
            .await
            .map_err(|e| format!("{}: {e}", q.name))?;
        match out.next_token {
            Some(t) => input.next_token = Some(t),
            // A small corpus has fewer pages: its last one is as deep as it goes.
            None => {
                description = format!("{description} (only {} pages here)", page + 1);
                break;
            }
        }
    }
    let out = client
        .execute(&input)
        .await
        .map_err(|e| format!("{}: {e}", q.name))?;
    let total = out.total_count.unwrap_or(0) as u64;
    // Built once: the measured loop costs the client signing and sending only, as before.
    let request = Arc::new(build_request(&input)?);
    for _ in 0..5 {
        let _ = client.send_request(&request).await;
    }
    let cl = client.clone();
    let stats = load::with_cpu(
        pid,
        load::run(1, Duration::from_secs(30), iterations, move |_| {
            let (cl, request) = (cl.clone(), request.clone());
            async move { ok(cl.send_request(&request).await) }
        }),
    )
    .await;
    Ok(QueryResult {
        name: q.name.to_owned(),
        description,
        total_count: total,
        stats,
    })
}

/// Creates a case with a word no other case has, then searches for that word until it is found:
/// the time from the create's answer to the first search that finds it, and that search's
/// latency. Read-your-writes says the first search already finds it.
async fn visibility(
    client: &Client,
    d: &str,
    g: &Generated,
    rounds: u64,
) -> Result<Visibility, String> {
    let mut to_visible = Vec::new();
    let mut first_search = Vec::new();
    let mut extra_searches = 0u64;
    let mut rng = Rng::new(0x715_1B1E);
    for round in 0..rounds {
        let marker: String = (0..8)
            .map(|k| (b'a' + ((round * 7 + k * 13 + rng.below(26)) % 26) as u8) as char)
            .collect();
        let marker = format!("vis{marker}");
        client
            .execute(&scenarios::create_input(g, &mut rng, d, &marker))
            .await
            .map_err(|e| format!("CreateCase: {e}"))?;
        let created = Instant::now();
        let query = SearchCasesRequest {
            domain_id: d.to_owned(),
            fields: None,
            filter: None,
            max_results: Some(1),
            next_token: None,
            search_term: Some(marker.clone()),
            sorts: None,
        };
        let deadline = created + Duration::from_secs(10);
        let mut first = true;
        loop {
            let t = Instant::now();
            let out = client
                .execute(&query)
                .await
                .map_err(|e| format!("SearchCases: {e}"))?;
            if first {
                first_search.push(t.elapsed().as_micros() as u32);
                first = false;
            } else {
                extra_searches += 1;
            }
            if out.total_count.unwrap_or(0) >= 1 {
                to_visible.push(created.elapsed().as_micros() as u32);
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("case '{marker}' was not visible after 10 s"));
            }
        }
    }
    Ok(Visibility {
        create_to_visible: Stats::from_latencies(1, to_visible, 0, 0.0),
        first_search: Stats::from_latencies(1, first_search, 0, 0.0),
        searches_beyond_first: extra_searches,
    })
}
