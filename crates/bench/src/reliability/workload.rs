//! The mixed write load of the reliability run: a domain made for it, and writers that send
//! CreateCase, UpdateCase, BatchUpdateCase and CreateRelatedItem through the benchmark's load
//! generator (`load::run_until`), recording every answer in the `Ledger`.

use super::api::{self, Answer, call, text, value};
use super::ledger::{Ledger, Plan, create_token, note};
use crate::load::{self, Stats};
use crate::rng::Rng;
use caseload_client::Client;
use caseload_model::OperationInput;
use caseload_model::shapes::*;
use serde::{Deserialize, Serialize};
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

async fn ok<I: OperationInput>(client: &Client, input: &I) -> Result<I::Output, String> {
    api::ok(client, input, WRITE_TIMEOUT).await
}

/// A case of a batch operation's `cases`.
pub fn case_id(id: &str) -> CaseIdentifierUnion {
    CaseIdentifierUnion::CaseId(id.to_owned())
}

impl Schema {
    /// Creates a domain named `name` with the fields and an empty template.
    pub async fn create(
        client: &Client,
        name: &str,
        pads: usize,
        pad_chars: usize,
    ) -> Result<Schema, String> {
        let domain = ok(
            client,
            &CreateDomainRequest {
                name: name.to_owned(),
            },
        )
        .await?
        .domain_id;
        let field = |name: String, r#type: FieldType| {
            let input = CreateFieldRequest {
                attributes: None,
                description: None,
                domain_id: domain.clone(),
                name,
                r#type,
            };
            async move { Ok::<_, String>(ok(client, &input).await?.field_id) }
        };
        let seq = field("seq".into(), FieldType::Number).await?;
        let note = field("note".into(), FieldType::Text).await?;
        let mut pad_ids = Vec::new();
        for i in 0..pads {
            pad_ids.push(field(format!("pad{i}"), FieldType::Text).await?);
        }
        let template = ok(
            client,
            &CreateTemplateRequest {
                description: None,
                domain_id: domain.clone(),
                layout_configuration: None,
                name: "reliability".into(),
                required_fields: None,
                rules: None,
                status: Some(TemplateStatus::Active),
                tag_propagation_configurations: None,
            },
        )
        .await?
        .template_id;
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
    pub fn values(&self, seq: u64) -> Vec<FieldValue> {
        let mut v = vec![
            value(&self.seq, FieldValueUnion::DoubleValue(seq as f64)),
            value(&self.note, text(note(seq))),
        ];
        let word = format!("p{seq} ");
        let pad: String = word.chars().cycle().take(self.pad_chars).collect();
        for p in &self.pads {
            v.push(value(p, text(pad.clone())));
        }
        v
    }

    /// The CreateCase of `seq`, with its `clientToken`.
    pub fn create_case(&self, seq: u64) -> CreateCaseRequest {
        let mut fields = vec![value("title", text(format!("case {seq}")))];
        fields.extend(self.values(seq));
        self.new_case(fields, Some(create_token(seq)))
    }

    /// A CreateCase from the template with `fields`.
    pub fn new_case(
        &self,
        fields: Vec<FieldValue>,
        client_token: Option<String>,
    ) -> CreateCaseRequest {
        CreateCaseRequest {
            client_token,
            domain_id: self.domain.clone(),
            fields,
            performed_by: None,
            tags: None,
            template_id: self.template.clone(),
        }
    }

    /// A SearchCases of the domain: a page of 100 (with `seq` and `note`) matching `filter`.
    pub fn search(&self, filter: Option<CaseFilter>) -> SearchCasesRequest {
        SearchCasesRequest {
            domain_id: self.domain.clone(),
            fields: Some(vec![
                FieldIdentifier {
                    id: self.seq.clone(),
                },
                FieldIdentifier {
                    id: self.note.clone(),
                },
            ]),
            filter,
            max_results: Some(100),
            next_token: None,
            search_term: None,
            sorts: None,
        }
    }

    /// The filter of cases whose `field` holds the Text `value`.
    pub fn holding(&self, field: &str, value: &str) -> CaseFilter {
        CaseFilter::Field(FieldFilter::EqualTo(api::value(field, text(value))))
    }

    /// GetCase of case `id`, with `fields`.
    pub fn get_case(&self, id: &str, fields: &[&str]) -> GetCaseRequest {
        GetCaseRequest {
            case_id: id.to_owned(),
            domain_id: self.domain.clone(),
            fields: fields
                .iter()
                .map(|f| FieldIdentifier {
                    id: (*f).to_owned(),
                })
                .collect(),
            next_token: None,
        }
    }

    /// SearchRelatedItems of case `id`'s comments, 25 a page.
    pub fn comments(&self, id: &str) -> SearchRelatedItemsRequest {
        SearchRelatedItemsRequest {
            case_id: id.to_owned(),
            domain_id: self.domain.clone(),
            filters: Some(vec![RelatedItemTypeFilter::Comment(CommentFilter {})]),
            max_results: Some(25),
            next_token: None,
        }
    }
}

/// A plain-text comment.
pub fn comment(body: String) -> RelatedItemInputContent {
    RelatedItemInputContent::Comment(CommentContent {
        body,
        content_type: CommentBodyTextType::TextPlain,
    })
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
    fn failed<T>(&self, answer: &Answer<T>) {
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
                let answer = call(c, &s.create_case(seq), WRITE_TIMEOUT).await.0;
                self.failed(&answer);
                let mut l = self.ledger.lock().expect("ledger");
                match answer {
                    Answer::Ok(out) => {
                        l.created(seq, out.case_id);
                        true
                    }
                    other => {
                        l.create_failed(seq, other.in_doubt());
                        false
                    }
                }
            }
            Plan::Update { case, seq } => {
                let input = UpdateCaseRequest {
                    case_id: ids[0].clone(),
                    domain_id: s.domain.clone(),
                    fields: s.values(seq),
                    performed_by: None,
                };
                let answer = call(c, &input, WRITE_TIMEOUT).await.0;
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
                let input = BatchUpdateCaseRequest {
                    cases: ids
                        .iter()
                        .map(|id| BatchUpdateCaseIdentifier {
                            case_identifier: case_id(id),
                        })
                        .collect(),
                    client_token: Some(format!("batch-{seq}")),
                    customer_id: None,
                    domain_id: s.domain.clone(),
                    fields: s
                        .values(seq)
                        .into_iter()
                        .map(|v| FieldValueInput {
                            field_identifier: FieldIdentifierUnion::Id(v.id),
                            value: v.value,
                        })
                        .collect(),
                    performed_by: None,
                    status: None,
                    title: None,
                };
                let answer = call(c, &input, WRITE_TIMEOUT).await.0;
                self.failed(&answer);
                let mut l = self.ledger.lock().expect("ledger");
                for (case, id) in cases.iter().zip(&ids) {
                    let applied = match &answer {
                        Answer::Ok(out) => Some(
                            out.successful_cases
                                .iter()
                                .any(|ok| ok.case_identifier.case_id.as_ref() == Some(id)),
                        ),
                        a if a.in_doubt() => None,
                        _ => Some(false),
                    };
                    l.updated(*case, seq, applied);
                }
                matches!(answer, Answer::Ok(_))
            }
            Plan::Comment { case, seq } => {
                let input = CreateRelatedItemRequest {
                    case_id: ids[0].clone(),
                    content: comment(format!("c{seq}")),
                    domain_id: s.domain.clone(),
                    performed_by: None,
                    r#type: RelatedItemType::Comment,
                };
                let answer = call(c, &input, WRITE_TIMEOUT).await.0;
                self.failed(&answer);
                let result = match answer {
                    Answer::Ok(out) => Ok(out.related_item_id),
                    a => Err(a.in_doubt()),
                };
                let acked = result.is_ok();
                self.ledger.lock().expect("ledger").commented(case, result);
                acked
            }
        }
    }
}
