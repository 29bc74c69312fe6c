//! `caseload export`: a domain of a data directory (the server stopped), or of a PostgreSQL
//! database (servers may be running on it), as an NDJSON file.

use super::progress::Progress;
use caseload_domain::store::Store;
use caseload_store::SqliteStore;
use caseload_store::postgres::{PgConfig, PgStore};
use std::io::Write;
use std::path::PathBuf;

pub struct Export {
    pub data_dir: PathBuf,
    /// Read from this PostgreSQL database instead of `data_dir`.
    pub database_url: Option<String>,
    pub account_id: String,
    pub domain_id: String,
    /// `None`: standard output.
    pub output: Option<PathBuf>,
    pub quiet: bool,
}

/// Writes the export; returns the number of cases.
pub async fn run(args: Export) -> Result<u64, String> {
    let store: Box<dyn Store> = match &args.database_url {
        // Pages are read in separate transactions: a domain written to meanwhile may export a
        // mix of before and after (stop writing to it for an exact copy).
        Some(url) => Box::new(
            PgStore::open(&PgConfig::new(url.clone()))
                .await
                .map_err(|e| format!("cannot open the PostgreSQL database: {e}"))?,
        ),
        None => Box::new(SqliteStore::open(&args.data_dir).map_err(|e| {
            format!(
                "cannot open {}: {e} (is a server running on it? export needs it stopped)",
                args.data_dir.display()
            )
        })?),
    };
    let sink: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut progress = Progress::bytes("exporting", 0, args.quiet);
    let mut lines = 0u64;
    let mut emit = |line: caseload_domain::transfer::format::Line| {
        out.write_all(line.to_json().as_bytes())?;
        out.write_all(b"\n")?;
        lines += 1;
        if lines.is_multiple_of(4096) {
            progress.set(lines);
        }
        Ok(())
    };
    let cases = caseload_domain::transfer::export(
        store.as_ref(),
        &args.account_id,
        &args.domain_id,
        &mut emit,
    )
    .await
    .map_err(|e| e.to_string())?;
    out.flush()
        .map_err(|e| format!("cannot write the export: {e}"))?;
    progress.finish(&format!("{lines} lines, {cases} cases"));
    Ok(cases)
}
