//! The mixed write load of the reliability run: a domain made for it, and writers that send
//! CreateCase, UpdateCase, BatchUpdateCase and CreateRelatedItem through the benchmark's load
//! generator (`load::run_until`), recording every answer in the `Ledger`.

use super::api::{self, Answer, call};
use super::ledger::{Ledger, Plan, create_token, note};
use crate::load::{self, Stats};
use crate::rng::Rng;
use caseload_client::{Client, HttpMethod as Method, segment};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest a write may take before it counts as unanswered.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The domain the writers write to: `seq` (Number) and `note` (Text) on every write, and
/// `pads` Text fields filled with `pad_chars` characters each (to fill a disk).
#[derive(Clone, Debug)]
pub struct Schema {
    pub domain: String,
    pub template: String,
    pub seq: String,
    pub note: String,
    pub pads: Vec<String>,
    pub pad_chars: usize,
}

async fn ok(client: &Client, method: Method, path: &str, body: &Json) -> Result<Json, String> {
    api::ok(client, method, path, body, WRITE_TIMEOUT).await
}

fn id_of(answer: &Json, key: &str) -> Result<String, String> {
    answer[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no {key} in {answer}"))
}

impl Schema {
    /// Creates a domain named `name` with the fields and an empty template.
    pub async fn create(
        client: &Client,
        name: &str,
        pads: usize,
        pad_chars: usize,
    ) -> Result<Schema, String> {
        let domain = id_of(
            &ok(client, Method::POST, "/domains", &json!({ "name": name })).await?,
            "domainId",
        )?;
        let d = segment(&domain);
        let field = |name: String, kind: &'static str| {
            let path = format!("/domains/{d}/fields");
            async move {
                id_of(
                    &ok(
                        client,
                        Method::POST,
                        &path,
                        &json!({ "name": name, "type": kind }),
                    )
                    .await?,
                    "fieldId",
                )
            }
        };
        let seq = field("seq".into(), "Number").await?;
        let note = field("note".into(), "Text").await?;
        let mut pad_ids = Vec::new();
        for i in 0..pads {
            pad_ids.push(field(format!("pad{i}"), "Text").await?);
        }
        let template = id_of(
            &ok(
                client,
                Method::POST,
                &format!("/domains/{d}/templates"),
                &json!({ "name": "reliability", "status": "Active" }),
            )
            .await?,
            "templateId",
        )?;
        Ok(Schema {
            domain,
            template,
            seq,
            note,
            pads: pad_ids,
            pad_chars,
        })
    }

    /// The values one write sets: `seq`, its note and the pads, all derived from `seq`.
    pub fn values(&self, seq: u64) -> Vec<(String, Json)> {
        let mut v = vec![
            (self.seq.clone(), json!({ "doubleValue": seq as f64 })),
            (self.note.clone(), json!({ "stringValue": note(seq) })),
        ];
        let word = format!("p{seq} ");
        let pad: String = word.chars().cycle().take(self.pad_chars).collect();
        for p in &self.pads {
            v.push((p.clone(), json!({ "stringValue": pad })));
        }
        v
    }

    /// The CreateCase body of `seq`, with its `clientToken`.
    pub fn create_body(&self, seq: u64) -> Json {
        let mut fields =
            vec![json!({ "id": "title", "value": { "stringValue": format!("case {seq}") } })];
        fields.extend(
            self.values(seq)
                .into_iter()
                .map(|(id, value)| json!({ "id": id, "value": value })),
        );
        json!({ "templateId": self.template, "fields": fields, "clientToken": create_token(seq) })
    }

    pub fn cases_path(&self) -> String {
        format!("/domains/{}/cases", segment(&self.domain))
    }

    pub fn case_path(&self, id: &str) -> String {
        format!("{}/{}", self.cases_path(), segment(id))
    }
}

/// How often one kind of failed answer came, and the first one's message.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Failures {
    pub count: u64,
    pub example: String,
}

/// Writers on one server: a client, the domain and the shared ledger.
#[derive(Clone)]
pub struct Writers {
    pub client: Client,
    pub schema: Arc<Schema>,
    pub ledger: Arc<Mutex<Ledger>>,
    pub seed: u64,
    /// Failed answers by kind (`InternalServerException (500)`, …).
    pub failures: Arc<Mutex<BTreeMap<String, Failures>>>,
}

impl Writers {
    pub fn new(client: Client, schema: Arc<Schema>, ledger: Arc<Mutex<Ledger>>, seed: u64) -> Self {
        Writers {
            client,
            schema,
            ledger,
            seed,
            failures: Arc::default(),
        }
    }

    /// `clients` writers for at most `duration` (and `max_requests` writes), ending early once
    /// `stop` is set, which they set themselves after `fail_limit` writes without success.
    pub async fn run(
        &self,
        clients: usize,
        duration: Duration,
        max_requests: u64,
        stop: Arc<AtomicBool>,
        fail_limit: u64,
    ) -> Stats {
        let w = self.clone();
        // Request numbers restart with every run: mix in the ledger's size so that runs on the
        // same domain draw other plans.
        let salt = w.ledger.lock().expect("ledger").cases.len() as u64;
        let failed = Arc::new(AtomicU64::new(0));
        let flag = stop.clone();
        load::run_until(clients, duration, max_requests, stop, move |i| {
            let (w, failed, flag) = (w.clone(), failed.clone(), flag.clone());
            async move {
                let ok = w.write(i, salt, clients).await;
                if !ok && failed.fetch_add(1, Ordering::Relaxed) + 1 >= fail_limit {
                    flag.store(true, Ordering::Relaxed);
                }
                ok
            }
        })
        .await
    }

    /// Counts a failed answer by its kind, keeping the first message.
    fn failed(&self, answer: &Answer) {
        if !matches!(answer, Answer::Ok(_)) {
            let mut all = self.failures.lock().expect("failures");
            let f = all.entry(answer.describe()).or_default();
            if f.count == 0 {
                f.example = answer.message().chars().take(200).collect();
            }
            f.count += 1;
        }
    }

    /// Plans, sends and records write number `i`; true when it was acknowledged.
    async fn write(&self, i: u64, salt: u64, clients: usize) -> bool {
        let mut rng = Rng::new(self.seed ^ salt.rotate_left(32) ^ i.wrapping_mul(0x9E37_79B9));
        let (plan, ids) = {
            let mut l = self.ledger.lock().expect("ledger");
            let plan = l.plan(&mut rng, clients);
            let ids: Vec<String> = match &plan {
                Plan::Create { .. } => vec![],
                Plan::Update { case, .. } | Plan::Comment { case, .. } => {
                    vec![l.cases[*case].id.clone()]
                }
                Plan::Batch { cases, .. } => cases.iter().map(|&c| l.cases[c].id.clone()).collect(),
            };
            (plan, ids)
        };
        let s = &self.schema;
        let c = &self.client;
        match plan {
            Plan::Create { seq } => {
                let answer = call(
                    c,
                    Method::POST,
                    &s.cases_path(),
                    &s.create_body(seq),
                    WRITE_TIMEOUT,
                )
                .await
                .0;
                self.failed(&answer);
                let mut l = self.ledger.lock().expect("ledger");
                match answer {
                    Answer::Ok(out) => match out["caseId"].as_str() {
                        Some(id) => {
                            l.created(seq, id.to_owned());
                            true
                        }
                        None => {
                            l.create_failed(seq, true);
                            false
                        }
                    },
                    other => {
                        l.create_failed(seq, other.in_doubt());
                        false
                    }
                }
            }
            Plan::Update { case, seq } => {
                let fields: Vec<Json> = s
                    .values(seq)
                    .into_iter()
                    .map(|(id, value)| json!({ "id": id, "value": value }))
                    .collect();
                let answer = call(
                    c,
                    Method::PUT,
                    &s.case_path(&ids[0]),
                    &json!({ "fields": fields }),
                    WRITE_TIMEOUT,
                )
                .await
                .0;
                self.failed(&answer);
                let applied = match &answer {
                    Answer::Ok(_) => Some(true),
                    a if a.in_doubt() => None,
                    _ => Some(false),
                };
                self.ledger
                    .lock()
                    .expect("ledger")
                    .updated(case, seq, applied);
                applied == Some(true)
            }
            Plan::Batch { cases, seq } => {
                let fields: Vec<Json> = s
                    .values(seq)
                    .into_iter()
                    .map(|(id, value)| json!({ "fieldIdentifier": { "id": id }, "value": value }))
                    .collect();
                let body = json!({
                    "domainId": s.domain,
                    "cases": ids.iter().map(|id| json!({ "caseIdentifier": { "caseId": id } })).collect::<Vec<_>>(),
                    "fields": fields,
                    "clientToken": format!("batch-{seq}"),
                });
                let answer = call(
                    c,
                    Method::PUT,
                    "/cases:batchUpdateCase",
                    &body,
                    WRITE_TIMEOUT,
                )
                .await
                .0;
                self.failed(&answer);
                let mut l = self.ledger.lock().expect("ledger");
                for (case, id) in cases.iter().zip(&ids) {
                    let applied = match &answer {
                        Answer::Ok(out) => Some(
                            out["successfulCases"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|ok| ok["caseIdentifier"]["caseId"].as_str() == Some(id)),
                        ),
                        a if a.in_doubt() => None,
                        _ => Some(false),
                    };
                    l.updated(*case, seq, applied);
                }
                matches!(answer, Answer::Ok(_))
            }
            Plan::Comment { case, seq } => {
                let body = json!({
                    "type": "Comment",
                    "content": { "comment": { "body": format!("c{seq}"), "contentType": "Text/Plain" } },
                });
                let path = format!("{}/related-items/", s.case_path(&ids[0]));
                let answer = call(c, Method::POST, &path, &body, WRITE_TIMEOUT).await.0;
                self.failed(&answer);
                let result = match &answer {
                    Answer::Ok(out) => out["relatedItemId"].as_str().map(str::to_owned).ok_or(true),
                    a => Err(a.in_doubt()),
                };
                let acked = result.is_ok();
                self.ledger.lock().expect("ledger").commented(case, result);
                acked
            }
        }
    }
}
