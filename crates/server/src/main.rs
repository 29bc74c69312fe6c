//! `caseload`: the composition root. Parses the command line, opens the store, builds the
//! service, binds the listener, and serves until SIGTERM/SIGINT.

mod check;
mod cli;
mod events;
mod faults;
mod health;
mod http;
mod listener;
mod logging;
mod merges;
mod metrics;
mod storage;
mod throttle;
mod transfer;
mod ui;

use caseload_auth::Identities;
use caseload_domain::{Quotas, Service};
use caseload_store::SqliteStore;
use clap::Parser;
use cli::{Cli, Command, ExportArgs, ImportArgs, ReindexArgs, ServeArgs};
use startup::Fail;
use std::sync::Arc;

/// A fatal start-up error: printed as one line, exit status 1. Any displayable error converts.
mod startup {
    pub struct Fail(pub String);
    impl<E: std::fmt::Display> From<E> for Fail {
        fn from(e: E) -> Self {
            Fail(e.to_string())
        }
    }
}

/// mimalloc rather than the system allocator: indexing and request handling allocate many small,
/// short-lived buffers, and glibc's malloc was a fifth of a bulk import's CPU (see
/// bench/analysis.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let node = logging::node_name(cli.log.node_name.clone());
    logging::init(cli.log.log_format, &node);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args, node).await,
            Command::Reindex(args) => reindex(args).await,
            Command::Check(args) => check::run(args).await,
            Command::Export(args) => export(args).await,
            Command::Import(args) => import(args).await,
        }
    });
    if let Err(Fail(message)) = result {
        eprintln!("caseload: {message}");
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs, node: String) -> Result<(), Fail> {
    let identities = match &args.credentials {
        Some(path) => Identities::from_file(path)?,
        None => Identities::default_test(),
    };
    if !args.listen.ip().is_loopback() && identities.only_default() {
        return Err(Fail(format!(
            "refusing to listen on {} with only the built-in test/test identity: anyone could use it. \
             Declare identities in a TOML file and pass --credentials FILE (or CASELOAD_CREDENTIALS)",
            args.listen
        )));
    }
    let storage::Opened { store, stats } = storage::open(&args, &node).await.map_err(Fail)?;
    let quotas = Quotas {
        domains_per_account: args.max_domains,
        fields_per_domain: args.max_fields,
        templates_per_domain: args.max_templates,
        layouts_per_domain: args.max_layouts,
        options_per_field: args.max_field_options,
        case_rules_per_domain: args.max_case_rules,
        related_items_per_case: args.max_related_items,
        files_per_case: args.max_files,
        slas_per_case: args.max_slas,
        fields_per_custom_item: args.max_custom_item_fields,
        ..Quotas::default()
    };
    let service = Arc::new(Service::new(store.clone(), quotas).await?);
    if !args.webhook.is_empty() && args.webhook_secret.is_none() {
        return Err(Fail(
            "--webhook needs --webhook-secret (or CASELOAD_WEBHOOK_SECRET): receivers verify deliveries with it".into(),
        ));
    }
    // Open event feeds end when this flips, so that a graceful shutdown does not wait on them.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let events = events::Hub::start(
        store.clone(),
        events::Options {
            webhooks: args.webhook.clone(),
            secret: args.webhook_secret.clone().unwrap_or_default().into_bytes(),
            retention: std::time::Duration::from_secs(args.event_retention_hours * 3600),
            // The random part keeps two processes given one --node-name from sharing a lease.
            holder: format!("{node}/{}", uuid::Uuid::new_v4().simple()),
        },
        stop_rx,
    )
    .await
    .map_err(Fail)?;
    merges::spawn(
        service.clone(),
        std::time::Duration::from_millis(args.merge_delay_ms),
    );
    let edge = &args.edge;
    let throttle = (edge.throttle || !edge.throttle_rates.is_empty())
        .then(|| throttle::Throttle::new(&edge.throttle_rates))
        .transpose()
        .map_err(Fail)?;
    let hub = events.clone();
    let state = Arc::new(http::AppState {
        api: service,
        identities,
        max_body_bytes: args.max_body_bytes,
        baseline: args.bench_baseline.then(Default::default),
        events,
        body_timeout: std::time::Duration::from_secs_f64(edge.body_timeout),
        throttle,
        faults: faults::Faults::new(&edge.fault_rates).map_err(Fail)?,
        store,
        metrics: metrics::Metrics::new(&node, Some(stats)),
    });
    let connections = state.metrics.connections();
    let limits = listener::Limits {
        max_connections: listener::connection_cap(edge.max_connections),
        idle: std::time::Duration::from_secs_f64(edge.idle_timeout),
        header: std::time::Duration::from_secs_f64(edge.header_timeout),
    };

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Fail(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    // Tests and scripts wait for this exact line to learn the port.
    println!("listening on http://{addr}");
    // Harnesses may stop reading after the first line: a closed stdout must not stop the server
    // (println! would panic on it).
    {
        use std::io::Write;
        let from = if ui::embedded() {
            ""
        } else {
            " (files read from ui/ at each request)"
        };
        let _ = writeln!(
            std::io::stdout(),
            "web page: http://{addr}{}{from}",
            ui::PATH
        );
    }
    listener::serve(
        listener,
        http::router(state),
        limits,
        connections,
        async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        },
    )
    .await;
    hub.release_leases().await;
    Ok(())
}

async fn reindex(args: ReindexArgs) -> Result<(), Fail> {
    check::existing(&args.data_dir)?;
    let started = std::time::Instant::now();
    // The rebuild runs on the indexer's thread: wait for it, so that the message is true.
    SqliteStore::reindex(&args.data_dir)?.wait_indexed().await?;
    println!(
        "rebuilt the search index of {} in {:.1?}",
        args.data_dir.display(),
        started.elapsed()
    );
    Ok(())
}

async fn export(args: ExportArgs) -> Result<(), Fail> {
    let cases = transfer::export::run(transfer::export::Export {
        data_dir: args.data_dir,
        database_url: args.database_url,
        account_id: args.account_id,
        domain_id: args.domain_id,
        output: args.output,
        quiet: args.quiet,
    })
    .await
    .map_err(Fail)?;
    if !args.quiet {
        eprintln!("exported {cases} cases");
    }
    Ok(())
}

async fn import(args: ImportArgs) -> Result<(), Fail> {
    let imported = match args.endpoint {
        Some(endpoint) => {
            transfer::remote::run(transfer::remote::RemoteImport {
                file: args.file,
                endpoint,
                access_key_id: args.access_key_id,
                secret_access_key: args.secret_access_key,
                region: args.region,
                domain_id: args.domain_id,
                name: args.name,
                concurrency: args.concurrency,
                quiet: args.quiet,
            })
            .await
        }
        None if args.database_url.is_some() => Err(
            "a direct import into PostgreSQL is not supported yet: import through a running \
             server with --endpoint URL"
                .to_owned(),
        ),
        None => {
            transfer::direct::run(transfer::direct::DirectImport {
                file: args.file,
                data_dir: args.data_dir,
                account_id: args.account_id,
                region: args.region,
                domain_id: args.domain_id,
                name: args.name,
                batch: args.batch_size.max(1),
                quiet: args.quiet,
            })
            .await
        }
    }
    .map_err(Fail)?;
    // One line for scripts: the domain's id comes last.
    println!(
        "imported domain '{}': {} schema resources, {} cases; domain id {}",
        imported.name, imported.schema_resources, imported.cases, imported.domain_id
    );
    Ok(())
}

/// Resolves on SIGTERM or SIGINT; the listener then stops accepting and finishes in-flight
/// requests.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
