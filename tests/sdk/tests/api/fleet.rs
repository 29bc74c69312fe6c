//! Three servers on one PostgreSQL database, calls spread over them round-robin (issue 15,
//! item 3): read-your-writes across servers, schema changes enforced by the others at once,
//! client tokens across servers, and a server killed under writes.
//!
//! These run only when the suite runs on PostgreSQL (`CASELOAD_TEST_DATABASE_URL`, see
//! `caseload_sdk_tests::postgres`). Without it each test returns at once, after printing
//! "SKIPPED (no CASELOAD_TEST_DATABASE_URL)" to the terminal: an embedded server cannot share its
//! data, so there is nothing to test.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{FieldType, RequiredField};
use caseload_sdk_tests::postgres::TestDatabase;
use caseload_sdk_tests::{Server, TempDir, error_code, fv, message, s};
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Three servers on one database of the test's own, each with its own index directory and node
/// name. Dropped in field order: the servers, then their directories, then the database.
struct Fleet {
    servers: Vec<Server>,
    _dirs: Vec<TempDir>,
    _db: TestDatabase,
}

impl Fleet {
    /// `None` (the test is skipped, and says so) when the suite runs embedded.
    fn start(test: &str) -> Option<Fleet> {
        let Some(db) = TestDatabase::create() else {
            let _ = writeln!(
                std::io::stderr(),
                "fleet::{test}: SKIPPED (no CASELOAD_TEST_DATABASE_URL)"
            );
            return None;
        };
        let dirs: Vec<TempDir> = (0..3)
            .map(|i| TempDir::new(&format!("fleet-{i}")))
            .collect();
        let servers = (0..3)
            .map(|i| Server::spawn(node_args(&db, &dirs[i], i)))
            .collect();
        Some(Fleet {
            servers,
            _dirs: dirs,
            _db: db,
        })
    }

    fn clients(&self) -> Vec<Client> {
        self.servers.iter().map(Server::client).collect()
    }
}

fn node_args(db: &TestDatabase, dir: &TempDir, i: usize) -> Vec<String> {
    vec![
        "--database-url".into(),
        db.url.clone(),
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--node-name".into(),
        format!("node-{i}"),
    ]
}

/// A domain and a template, made through different servers.
async fn domain_and_template(a: &Client, b: &Client) -> (String, String) {
    let d = a
        .create_domain()
        .name("fleet")
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned();
    let t = b
        .create_template()
        .domain_id(&d)
        .name("T")
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();
    (d, t)
}

/// Every case id SearchCases finds in `d` through `c`, following its pages.
async fn all_case_ids(c: &Client, d: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut token = None;
    loop {
        let page = c
            .search_cases()
            .domain_id(d)
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        ids.extend(
            page.cases()
                .iter()
                .flatten()
                .map(|item| item.case_id().to_owned()),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return ids;
        }
    }
}

#[tokio::test]
async fn a_case_created_on_one_server_is_found_at_once_on_the_next() {
    let Some(fleet) = Fleet::start("read_your_writes") else {
        return;
    };
    let c = fleet.clients();
    let (d, t) = domain_and_template(&c[0], &c[1]).await;
    let mut made = BTreeSet::new();
    for i in 0..12 {
        let id = c[i % 3]
            .create_case()
            .domain_id(&d)
            .template_id(&t)
            .fields(fv("title", s(&format!("case {i}"))))
            .send()
            .await
            .unwrap()
            .case_id()
            .to_owned();
        made.insert(id.clone());
        // No sleep: the next server's search must already see it, and every case before it.
        let next = &c[(i + 1) % 3];
        let found = next
            .search_cases()
            .domain_id(&d)
            .max_results(25)
            .send()
            .await
            .unwrap();
        assert_eq!(found.total_count() as usize, made.len(), "after case {i}");
        let ids: BTreeSet<String> = found
            .cases()
            .iter()
            .flatten()
            .map(|item| item.case_id().to_owned())
            .collect();
        assert_eq!(ids, made, "after case {i}");
        // And GetCase on the third.
        c[(i + 2) % 3]
            .get_case()
            .domain_id(&d)
            .case_id(&id)
            .fields(caseload_sdk_tests::ident("title"))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_schema_change_made_on_one_server_is_enforced_by_another_on_its_next_request() {
    let Some(fleet) = Fleet::start("schema_change") else {
        return;
    };
    let c = fleet.clients();
    let (d, t) = domain_and_template(&c[0], &c[1]).await;
    // A field made on A is known to B at once.
    let f = c[0]
        .create_field()
        .domain_id(&d)
        .name("Priority")
        .r#type(FieldType::Text)
        .send()
        .await
        .unwrap()
        .field_id()
        .to_owned();
    c[1].create_case()
        .domain_id(&d)
        .template_id(&t)
        .fields(fv("title", s("known")))
        .fields(fv(&f, s("high")))
        .send()
        .await
        .unwrap();
    // A field required by the template through A is required by C on its next request.
    c[0].update_template()
        .domain_id(&d)
        .template_id(&t)
        .required_fields(RequiredField::builder().field_id(&f).build().unwrap())
        .send()
        .await
        .unwrap();
    let e = c[2]
        .create_case()
        .domain_id(&d)
        .template_id(&t)
        .fields(fv("title", s("no priority")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains(&f), "{}", message(&e));
    // A field deleted through B is unknown to A on its next request.
    c[1].delete_field()
        .domain_id(&d)
        .field_id(&f)
        .send()
        .await
        .unwrap();
    c[1].update_template()
        .domain_id(&d)
        .template_id(&t)
        .set_required_fields(Some(vec![]))
        .send()
        .await
        .unwrap();
    let e = c[0]
        .create_case()
        .domain_id(&d)
        .template_id(&t)
        .fields(fv("title", s("deleted field")))
        .fields(fv(&f, s("high")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains(&f), "{}", message(&e));
}

#[tokio::test]
async fn twenty_identical_create_case_calls_with_one_token_over_three_servers_make_one_case() {
    let Some(fleet) = Fleet::start("client_token") else {
        return;
    };
    let c = fleet.clients();
    let (d, t) = domain_and_template(&c[0], &c[1]).await;
    let calls = (0..20).map(|i| {
        let (c, d, t) = (c[i % 3].clone(), d.clone(), t.clone());
        tokio::spawn(async move {
            c.create_case()
                .domain_id(&d)
                .template_id(&t)
                .client_token("one-token")
                .fields(fv("title", s("once")))
                .send()
                .await
                .map(|out| out.case_id().to_owned())
                .map_err(|e| error_code(&e))
        })
    });
    let mut ids = BTreeSet::new();
    for call in calls.collect::<Vec<_>>() {
        // Every call answers with the one case (a retry of a request still running waits for
        // it, whichever server runs it).
        ids.insert(call.await.unwrap().expect("CreateCase"));
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    for client in &c {
        assert_eq!(all_case_ids(client, &d).await, ids);
    }
}

#[tokio::test]
async fn a_server_killed_under_writes_loses_nothing_acknowledged_and_catches_up_on_restart() {
    let Some(mut fleet) = Fleet::start("kill") else {
        return;
    };
    let c = fleet.clients();
    let (d, t) = domain_and_template(&c[0], &c[1]).await;
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    // Six writers, two per server, until each has made 25 calls.
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (c, d, t, acked) = (c[w % 3].clone(), d.clone(), t.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0..25 {
                    let out = c
                        .create_case()
                        .domain_id(&d)
                        .template_id(&t)
                        .fields(fv("title", s(&format!("w{w} #{i}"))))
                        .send()
                        .await;
                    // Calls to the killed server fail; only acknowledged cases count.
                    if let Ok(out) = out {
                        acked.lock().unwrap().insert(out.case_id().to_owned());
                    }
                }
            })
        })
        .collect();
    // Kill the third server once writes are flowing.
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let args = fleet.servers[2].args().to_vec();
    fleet.servers.pop().expect("three servers").kill();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100, "the live servers kept acknowledging");
    for client in &c[..2] {
        let found = all_case_ids(client, &d).await;
        assert!(
            found.is_superset(&acked),
            "missing: {:?}",
            acked.difference(&found)
        );
        for id in acked.iter().take(10) {
            client
                .get_case()
                .domain_id(&d)
                .case_id(id)
                .fields(caseload_sdk_tests::ident("title"))
                .send()
                .await
                .unwrap();
        }
    }
    // The killed server comes back on its index directory and catches up with what the others
    // wrote meanwhile.
    let back = Server::spawn(args);
    let found = all_case_ids(&back.client(), &d).await;
    assert!(
        found.is_superset(&acked),
        "missing: {:?}",
        acked.difference(&found)
    );
    assert_eq!(found, all_case_ids(&c[0], &d).await);
}
