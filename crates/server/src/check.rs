//! `caseload check`: the search index of a stopped server's data directory against its database
//! (see `SqliteStore::check_index`), and with `--repair` the rebuild of the domains that differ.

use crate::cli::CheckArgs;
use crate::startup::Fail;
use caseload_store::{DomainReport, SqliteStore};
use std::path::Path;

/// At most this many differing cases are listed per domain (the count says how many there are).
const LISTED: usize = 20;

/// Refuses a directory that holds no database: opening it would create one.
pub fn existing(dir: &Path) -> Result<(), Fail> {
    if !dir.join("caseload.sqlite3").exists() {
        return Err(Fail(format!(
            "{} holds no caseload database",
            dir.display()
        )));
    }
    Ok(())
}

pub async fn run(args: CheckArgs) -> Result<(), Fail> {
    existing(&args.data_dir)?;
    let started = std::time::Instant::now();
    let store = SqliteStore::open_for_check(&args.data_dir)?;
    let reports = store.check_index().await?;
    if reports.is_empty() {
        println!(
            "the search index of {} agrees with the database ({:.1?})",
            args.data_dir.display(),
            started.elapsed()
        );
        return Ok(());
    }
    for r in &reports {
        print(r);
    }
    if !args.repair {
        return Err(Fail(format!(
            "the search index differs from the database in {} domain(s); run `caseload check --repair`",
            reports.len()
        )));
    }
    store
        .repair_index(reports.into_iter().map(|r| r.key).collect())
        .await?;
    let left = store.check_index().await?;
    if !left.is_empty() {
        for r in &left {
            print(r);
        }
        return Err(Fail(format!(
            "the repair left {} domain(s) differing",
            left.len()
        )));
    }
    println!(
        "repaired: the search index of {} agrees with the database ({:.1?})",
        args.data_dir.display(),
        started.elapsed()
    );
    Ok(())
}

fn print(r: &DomainReport) {
    println!(
        "domain {} (account {}): {} cases in the database, {} in the index, {} case(s) differ",
        r.key.1,
        r.key.0,
        r.database,
        r.index,
        r.cases.len()
    );
    for c in r.cases.iter().take(LISTED) {
        println!("  {c}");
    }
    if r.cases.len() > LISTED {
        println!("  … and {} more", r.cases.len() - LISTED);
    }
}
