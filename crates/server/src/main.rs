//! `caseload`: the composition root. Parses the command line, opens the store, builds the
//! service, binds the listener, and serves until SIGTERM/SIGINT.

mod cli;
mod http;

use caseload_auth::Identities;
use caseload_domain::{Quotas, Service};
use caseload_store::SqliteStore;
use clap::Parser;
use cli::{Cli, Command, ReindexArgs, ServeArgs};
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

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CASELOAD_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Reindex(args) => reindex(args),
        }
    });
    if let Err(Fail(message)) = result {
        eprintln!("caseload: {message}");
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs) -> Result<(), Fail> {
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
    let store = if args.in_memory {
        SqliteStore::in_memory()?
    } else {
        SqliteStore::open(&args.data_dir)?
    };
    let quotas = Quotas {
        domains_per_account: args.max_domains,
        fields_per_domain: args.max_fields,
        templates_per_domain: args.max_templates,
        layouts_per_domain: args.max_layouts,
        options_per_field: args.max_field_options,
        ..Quotas::default()
    };
    let service = Service::new(Arc::new(store), quotas).await?;
    let state = Arc::new(http::AppState {
        api: Arc::new(service),
        identities,
        max_body_bytes: args.max_body_bytes,
    });

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Fail(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    // Tests and scripts wait for this exact line to learn the port.
    println!("listening on http://{addr}");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

fn reindex(args: ReindexArgs) -> Result<(), Fail> {
    if !args.data_dir.join("caseload.sqlite3").exists() {
        return Err(Fail(format!(
            "{} holds no caseload database",
            args.data_dir.display()
        )));
    }
    let started = std::time::Instant::now();
    SqliteStore::reindex(&args.data_dir)?;
    println!(
        "rebuilt the search index of {} in {:.1?}",
        args.data_dir.display(),
        started.elapsed()
    );
    Ok(())
}

/// Resolves on SIGTERM or SIGINT; axum then stops accepting and finishes in-flight requests.
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
