//! Import straight into a data directory (the server stopped): records are written with the ids
//! and times of the file, cases in large batches. The store is opened for a bulk load: the
//! search index takes the cases in from the change log as the batches land, on the other core,
//! but commits once at the end (and waits for its merges), instead of once per batch.
//!
//! Nothing half-imported is left behind: the whole file is checked first, and the domain's own
//! row is written last, so until then the domain does not exist for any request. When writing
//! fails, everything written under the domain's id is removed again. A process killed mid-way
//! leaves rows under an id no domain has, invisible to every request.

use super::lines::{Lines, check_file};
use super::progress::Progress;
use caseload_domain::search::{CaseQuery, SortSpec};
use caseload_domain::store::DomainKey;
use caseload_domain::store::{
    CaseRecord, DomainRecord, RelatedItemRecord, ResourceKind, ResourceRecord, Store,
};
use caseload_domain::transfer::format::Line;
use caseload_domain::transfer::{Plan, Target};
use caseload_model::shapes::FieldType;
use caseload_store::SqliteStore;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub struct DirectImport {
    pub file: PathBuf,
    pub data_dir: PathBuf,
    pub account_id: String,
    pub region: String,
    /// An existing domain to import into; it must hold nothing but its system fields.
    pub domain_id: Option<String>,
    /// The new domain's name, instead of the file's.
    pub name: Option<String>,
    /// Cases per transaction.
    pub batch: usize,
    pub quiet: bool,
}

/// What an import did.
pub struct Imported {
    pub domain_id: String,
    pub name: String,
    pub schema_resources: usize,
    pub cases: u64,
}

/// A domain taken over by an import: what to put back if the import fails.
struct Previous {
    domain: DomainRecord,
    resources: Vec<ResourceRecord>,
}

pub async fn run(args: DirectImport) -> Result<Imported, String> {
    let started = Instant::now();
    let plan = check_file(&args.file, args.quiet)?;
    let sqlite = Arc::new(
        SqliteStore::open_for_bulk_load(&args.data_dir).map_err(|e| {
            format!(
                "cannot open {}: {e} (is a server running on it? a direct import needs it stopped; \
             use --endpoint to import through a running server)",
                args.data_dir.display()
            )
        })?,
    );
    let store: Arc<dyn Store> = sqlite.clone();
    let (domain, previous) = target_domain(store.as_ref(), &args, &plan).await?;
    let target = Target {
        account_id: domain.account_id.clone(),
        domain_id: domain.domain_id.clone(),
    };
    let written = write(store.clone(), &target, plan, &args).await;
    let written = match written {
        Ok(w) => store
            .insert_domain(&domain, usize::MAX)
            .await
            .map(|()| w)
            .map_err(|e| format!("cannot create domain '{}': {e}", domain.name)),
        Err(e) => Err(e),
    };
    let (schema_resources, cases) = match written {
        Ok(w) => w,
        Err(e) => {
            undo(store.as_ref(), &domain, previous).await;
            return Err(format!("{e}; nothing was imported"));
        }
    };
    let progress = Progress::waiting("indexing", args.quiet);
    sqlite
        .finish_bulk_load()
        .await
        .map_err(|e| format!("cannot finish the search index: {e}"))?;
    let indexed = count_indexed(store.as_ref(), &target).await?;
    progress.finish("done");
    if indexed != cases {
        return Err(format!(
            "imported {cases} cases but the search index holds {indexed}; run `caseload reindex`"
        ));
    }
    if !args.quiet {
        eprintln!("imported in {:.1?}", started.elapsed());
    }
    Ok(Imported {
        domain_id: domain.domain_id,
        name: domain.name,
        schema_resources,
        cases,
    })
}

/// The domain the file goes into: a new one, or an existing empty one, which is removed for the
/// time of the import (and put back if it fails).
async fn target_domain(
    store: &dyn Store,
    args: &DirectImport,
    plan: &Plan,
) -> Result<(DomainRecord, Option<Previous>), String> {
    let err = |e: caseload_domain::store::StoreError| e.to_string();
    let Some(id) = &args.domain_id else {
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| plan.domain.name.clone());
        let mut after: Option<String> = None;
        loop {
            let page = store
                .list_domains(&args.account_id, &args.region, after.as_deref(), 100)
                .await
                .map_err(err)?;
            if page.iter().any(|d| d.name == name) {
                return Err(format!(
                    "a domain named '{name}' already exists; choose another with --name"
                ));
            }
            if page.len() < 100 {
                break;
            }
            after = page.last().map(|d| d.domain_id.clone());
        }
        let domain = DomainRecord {
            account_id: args.account_id.clone(),
            region: args.region.clone(),
            domain_id: caseload_domain::new_id(),
            name,
            created: plan.domain.created_time,
            tags: plan.domain.tags.clone(),
        };
        return Ok((domain, None));
    };
    let domain = store
        .get_domain(DomainKey::new(&args.account_id, id))
        .await
        .map_err(err)?
        .ok_or_else(|| format!("domain {id} does not exist in account {}", args.account_id))?;
    if !store
        .list_cases(DomainKey::new(&args.account_id, id), None, 1)
        .await
        .map_err(err)?
        .is_empty()
    {
        return Err(format!(
            "domain {id} already has cases; import into an empty domain"
        ));
    }
    let mut resources = Vec::new();
    for kind in [
        ResourceKind::Field,
        ResourceKind::CaseRule,
        ResourceKind::Layout,
        ResourceKind::Template,
    ] {
        let page = store
            .list_resources(DomainKey::new(&args.account_id, id), kind, None, 1000, true)
            .await
            .map_err(err)?;
        let system = |r: &ResourceRecord| {
            r.kind == ResourceKind::Field
                && caseload_domain::schema::fields::system_field(&r.id).is_some()
        };
        if let Some(r) = page.iter().find(|r| !system(r)) {
            return Err(format!(
                "domain {id} already has a {} ({}); import into an empty domain",
                r.kind.as_str(),
                r.name
            ));
        }
        resources.extend(page);
    }
    store
        .delete_domain(DomainKey::new(&args.account_id, id))
        .await
        .map_err(err)?;
    let previous = Previous {
        domain: domain.clone(),
        resources,
    };
    Ok((domain, Some(previous)))
}

/// Pass two: every record of the file, in file order. Returns (schema resources, cases).
async fn write(
    store: Arc<dyn Store>,
    target: &Target,
    mut plan: Plan,
    args: &DirectImport,
) -> Result<(usize, u64), String> {
    let mut resources = 0;
    for f in std::mem::take(&mut plan.default_system_fields) {
        insert(store.as_ref(), target.field(&f)).await?;
        resources += 1;
    }
    let mut lines = Lines::open(&args.file)?.parse_ahead()?;
    let mut progress = Progress::bytes("importing", lines.total_bytes, args.quiet);
    let mut batch: Vec<CaseRecord> = Vec::with_capacity(args.batch);
    let mut items: Vec<RelatedItemRecord> = Vec::new();
    // One batch is written while the next is read and checked.
    let mut writing: Option<tokio::task::JoinHandle<Result<(), String>>> = None;
    let mut cases = 0u64;
    while let Some((number, parsed)) = lines.next_line()? {
        let at = |e: String| format!("line {number}: {e}");
        let record = match parsed.map_err(at)? {
            Line::Domain(_) => continue,
            Line::Field(f) => target.field(&f),
            Line::CaseRule(r) => target.case_rule(&r),
            Line::Layout(l) => target.layout(&l),
            Line::Template(t) => target.template(&t),
            Line::Case(c) => {
                let values = plan.case_values(&c).map_err(at)?;
                batch.push(target.case(c, values));
                cases += 1;
                if batch.len() >= args.batch {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(args.batch));
                    writing = Some(flush(&store, writing, Batch::Cases(full)).await?);
                    progress.set(lines.bytes_read);
                }
                continue;
            }
            // Items follow every case (the checked order), so the last cases go first.
            Line::RelatedItem(r) => {
                if !batch.is_empty() {
                    let cases = std::mem::take(&mut batch);
                    writing = Some(flush(&store, writing, Batch::Cases(cases)).await?);
                }
                items.push(target.related_item(r));
                if items.len() >= args.batch {
                    let full = std::mem::take(&mut items);
                    writing = Some(flush(&store, writing, Batch::Items(full)).await?);
                    progress.set(lines.bytes_read);
                }
                continue;
            }
        };
        insert(store.as_ref(), record).await?;
        resources += 1;
    }
    let cases_left = flush(&store, writing, Batch::Cases(batch)).await?;
    let last = flush(&store, Some(cases_left), Batch::Items(items)).await?;
    last.await.map_err(|e| e.to_string())??;
    progress.finish("done");
    Ok((resources, cases))
}

/// Records written in one transaction.
enum Batch {
    Cases(Vec<CaseRecord>),
    Items(Vec<RelatedItemRecord>),
}

/// Waits for the batch being written, then starts writing `batch`.
async fn flush(
    store: &Arc<dyn Store>,
    writing: Option<tokio::task::JoinHandle<Result<(), String>>>,
    batch: Batch,
) -> Result<tokio::task::JoinHandle<Result<(), String>>, String> {
    if let Some(previous) = writing {
        previous.await.map_err(|e| e.to_string())??;
    }
    let store = store.clone();
    Ok(tokio::spawn(async move {
        match batch {
            Batch::Cases(cases) if !cases.is_empty() => store
                .import_cases(cases)
                .await
                .map_err(|e| format!("cannot write cases: {e}")),
            Batch::Items(items) if !items.is_empty() => store
                .import_related_items(items)
                .await
                .map_err(|e| format!("cannot write related items: {e}")),
            _ => Ok(()),
        }
    }))
}

async fn insert(store: &dyn Store, r: ResourceRecord) -> Result<(), String> {
    store
        .insert_resource(&r, usize::MAX)
        .await
        .map_err(|e| format!("cannot write {} {}: {e}", r.kind.as_str(), r.id))
}

/// Removes everything written under the domain's id, and puts back the domain it replaced.
async fn undo(store: &dyn Store, domain: &DomainRecord, previous: Option<Previous>) {
    if let Err(e) = store
        .delete_domain(DomainKey::new(&domain.account_id, &domain.domain_id))
        .await
    {
        eprintln!("caseload: could not remove the partial import: {e}");
    }
    if let Some(p) = previous {
        let restored = async {
            store.insert_domain(&p.domain, usize::MAX).await?;
            for r in &p.resources {
                store.insert_resource(r, usize::MAX).await?;
            }
            Ok::<_, caseload_domain::store::StoreError>(())
        };
        if let Err(e) = restored.await {
            eprintln!(
                "caseload: could not restore domain {}: {e}",
                p.domain.domain_id
            );
        }
    }
}

/// How many cases the search index holds for the domain, once it has caught up with every write
/// (a search waits for that).
async fn count_indexed(store: &dyn Store, target: &Target) -> Result<u64, String> {
    let q = CaseQuery {
        account_id: target.account_id.clone(),
        domain_id: target.domain_id.clone(),
        filter: None,
        search_terms: vec![],
        term_fields: Default::default(),
        sorts: vec![SortSpec {
            field_id: "last_updated_datetime".into(),
            field_type: FieldType::DateTime,
            descending: true,
        }],
        after: None,
        limit: 1,
    };
    store
        .search_cases(&q)
        .await
        .map(|p| p.total)
        .map_err(|e| format!("the search index did not catch up: {e}"))
}
