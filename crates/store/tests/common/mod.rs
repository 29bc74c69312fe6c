//! What the store's integration tests share: the caller, a temporary data directory, the
//! service over a store, a domain with a template, and reopening a data directory.
#![allow(dead_code)] // Each test file uses its own part.

use caseload_domain::Service;
use caseload_model::shapes::*;
use caseload_model::{CasesApi, RequestContext};
use caseload_store::SqliteStore;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The caller of every request.
pub fn ctx() -> RequestContext {
    RequestContext {
        account_id: "000000000000".into(),
        region: "us-east-1".into(),
        principal_arn: "arn:aws:iam::000000000000:user/test".into(),
        request_id: "r".into(),
        schema_generation: Default::default(),
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "caseload-store-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service over `store`.
pub async fn service(store: Arc<SqliteStore>) -> Service {
    Service::new(store, Default::default()).await.unwrap()
}

/// A store in memory and the service over it.
pub async fn in_memory() -> (Arc<SqliteStore>, Service) {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    (store.clone(), service(store).await)
}

/// A new domain named `name` with a template "T"; returns their ids.
pub async fn domain_with_template(svc: &Service, name: &str) -> (String, String) {
    let d = svc
        .create_domain(&ctx(), CreateDomainRequest { name: name.into() })
        .await
        .unwrap()
        .domain_id;
    let t = svc
        .create_template(
            &ctx(),
            serde_json::from_value(json!({"domainId": d, "name": "T"})).unwrap(),
        )
        .await
        .unwrap()
        .template_id;
    (d, t)
}

/// A new case of template `t` in domain `d` with the given title; returns its id.
pub async fn create_case(svc: &Service, d: &str, t: &str, title: &str) -> String {
    svc.create_case(
        &ctx(),
        serde_json::from_value(json!({
            "domainId": d, "templateId": t,
            "fields": [{"id": "title", "value": {"stringValue": title}}]
        }))
        .unwrap(),
    )
    .await
    .unwrap()
    .case_id
}

/// Opens the store in `dir` with `open`, retrying while the previous store's threads still hold
/// the directory (they end on their next poll).
pub fn reopen(
    dir: &Path,
    open: impl Fn(&Path) -> caseload_domain::store::StoreResult<SqliteStore>,
) -> SqliteStore {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match open(dir) {
            Ok(s) => return s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("cannot reopen {}: {e}", dir.display()),
        }
    }
}
