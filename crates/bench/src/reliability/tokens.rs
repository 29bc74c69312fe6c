//! Scenario 3: concurrent requests sharing one `clientToken`, for each operation that takes
//! one. N identical requests must act once and all answer alike; N requests with different
//! bodies must act once, answer 200 only for the body that acted and ConflictException for the
//! others. What acted is counted in the audit history (GetCaseAuditEvents), in SearchCases and
//! in SearchRelatedItems, never taken from the answers.

use super::api::{self, Answer, all_pages, call, text, value};
use super::report::TokenResult;
use super::workload::{Schema, case_id, comment};
use super::{Args, start};
use caseload_client::Client;
use caseload_model::OperationInput;
use caseload_model::shapes::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// Cases each batch operation targets.
const TARGETS: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(bin: &Path, args: &Args) -> Vec<TokenResult> {
    match checks(bin, args).await {
        Ok(r) => r,
        Err(e) => vec![TokenResult {
            operation: "setup".into(),
            problem: Some(e),
            ..Default::default()
        }],
    }
}

/// The operations and how their effect is counted.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    CreateCase,
    BatchUpdateCase,
    BatchCreateRelatedItem,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::CreateCase => "CreateCase",
            Op::BatchUpdateCase => "BatchUpdateCase",
            Op::BatchCreateRelatedItem => "BatchCreateRelatedItem",
        }
    }
}

async fn checks(bin: &Path, args: &Args) -> Result<Vec<TokenResult>, String> {
    let data = args.work_dir.join("tokens");
    let _ = std::fs::remove_dir_all(&data);
    let (server, client) = start(bin, args, &data).await?;
    let s = Schema::create(&client, "reliability-tokens", 0, 0).await?;
    let mut out = Vec::new();
    for op in [
        Op::CreateCase,
        Op::BatchUpdateCase,
        Op::BatchCreateRelatedItem,
    ] {
        for same in [true, false] {
            out.push(check(&client, &s, op, same, args.token_requests).await?);
        }
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    Ok(out)
}

/// One operation, `n` concurrent requests under one token: identical ones when `same`.
async fn check(
    client: &Client,
    s: &Schema,
    op: Op,
    same: bool,
    n: usize,
) -> Result<TokenResult, String> {
    let tag = format!("{}-{}", op.name(), if same { "same" } else { "different" });
    let targets = if op == Op::CreateCase {
        vec![]
    } else {
        let mut ids = Vec::new();
        for k in 0..TARGETS {
            ids.push(create(client, s, &format!("{tag}-target-{k}")).await?);
        }
        ids
    };
    // Body `k` (all the same body when `same`): its marker says which body acted.
    let marker = |k: usize| {
        if same {
            tag.clone()
        } else {
            format!("{tag}-{k}")
        }
    };
    let token = Some(tag.clone());
    let answers = match op {
        Op::CreateCase => {
            let create = |k| {
                let fields = vec![value("title", text(marker(k))), value(&s.note, text(&tag))];
                s.new_case(fields, token.clone())
            };
            Answers::of(race(client, (0..n).map(create).collect()).await?)
        }
        Op::BatchUpdateCase => {
            let update = |k| BatchUpdateCaseRequest {
                cases: targets
                    .iter()
                    .map(|id| BatchUpdateCaseIdentifier {
                        case_identifier: case_id(id),
                    })
                    .collect(),
                client_token: token.clone(),
                customer_id: None,
                domain_id: s.domain.clone(),
                fields: vec![FieldValueInput {
                    field_identifier: FieldIdentifierUnion::Id(s.note.clone()),
                    value: text(marker(k)),
                }],
                performed_by: None,
                status: None,
                title: None,
            };
            Answers::of(race(client, (0..n).map(update).collect()).await?)
        }
        Op::BatchCreateRelatedItem => {
            let add = |k| BatchCreateRelatedItemRequest {
                cases: targets
                    .iter()
                    .map(|id| BatchCreateRelatedItemIdentifier {
                        case_identifier: case_id(id),
                    })
                    .collect(),
                client_token: token.clone(),
                content: comment(marker(k)),
                domain_id: s.domain.clone(),
                performed_by: None,
            };
            Answers::of(race(client, (0..n).map(add).collect()).await?)
        }
    };

    let mut r = TokenResult {
        operation: op.name().into(),
        variant: if same {
            "identical bodies"
        } else {
            "different bodies"
        }
        .into(),
        requests: n,
        ok: answers.ok_bodies.len(),
        conflicts: answers.conflicts,
        other_answers: answers.others,
        ..Default::default()
    };
    let ok_bodies = answers.ok_bodies;
    let mut problems = Vec::new();
    if r.ok == 0 {
        problems.push("no request succeeded".to_owned());
    }
    if !r.other_answers.is_empty() {
        problems.push(format!("unexpected answers {:?}", r.other_answers));
    }
    // The bodies that were answered 200: one body only, and with identical bodies, one answer.
    if answers.distinct_ok > 1 {
        problems.push(format!(
            "{} different successful answers",
            answers.distinct_ok
        ));
    }

    match op {
        Op::CreateCase => {
            // Cases with the tag as note: exactly one, whichever body made it.
            let found = search_note(client, s, &tag).await?;
            r.effect = format!("{} case(s) created", found.len());
            if found.len() != 1 {
                problems.push(format!("{} cases created, not 1", found.len()));
            }
            for id in &found {
                let events = audit(client, s, id).await?;
                let created = events
                    .iter()
                    .filter(|e| **e == AuditEventType::CaseCreated)
                    .count();
                if created != 1 {
                    problems.push(format!("case {id} has {created} Case.Created events"));
                }
            }
            if !same && let [id] = found.as_slice() {
                let title = title(client, s, id).await?;
                if let Some(p) = winner_answered(&ok_bodies, &tag, &title, n) {
                    problems.push(p);
                }
            }
        }
        Op::BatchUpdateCase | Op::BatchCreateRelatedItem => {
            let kind = if op == Op::BatchUpdateCase {
                AuditEventType::CaseUpdated
            } else {
                AuditEventType::RelatedItemCreated
            };
            let mut per_case = Vec::new();
            let mut winners = Vec::new();
            for id in &targets {
                let events = audit(client, s, id).await?;
                per_case.push(events.iter().filter(|e| **e == kind).count());
                winners.push(if op == Op::BatchUpdateCase {
                    note_of(client, s, id).await?
                } else {
                    let bodies = comment_bodies(client, s, id).await?;
                    if bodies.len() != 1 {
                        problems.push(format!("case {id} has {} comments, not 1", bodies.len()));
                    }
                    bodies.into_iter().next().unwrap_or_default()
                });
            }
            let kind = kind.as_str();
            r.effect = format!("{kind} events per case: {per_case:?}");
            if per_case.iter().any(|&c| c != 1) {
                problems.push(format!("{kind} events per case {per_case:?}, not 1 each"));
            }
            winners.sort_unstable();
            winners.dedup();
            if winners.len() != 1 {
                problems.push(format!(
                    "the cases hold the values of different bodies: {winners:?}"
                ));
            } else if !same && let Some(p) = winner_answered(&ok_bodies, &tag, &winners[0], n) {
                problems.push(p);
            }
        }
    }
    if !same && r.conflicts + r.ok != n {
        problems.push("some different bodies were not refused with ConflictException".into());
    }
    r.passed = problems.is_empty();
    r.problem = (!problems.is_empty()).then(|| problems.join("; "));
    Ok(r)
}

/// With different bodies, only the body whose `marker` the server holds may have been answered
/// 200: what is wrong otherwise.
fn winner_answered(ok_bodies: &[usize], tag: &str, marker: &str, n: usize) -> Option<String> {
    let winner = (0..n).find(|k| marker == format!("{tag}-{k}"));
    let wrong: Vec<usize> = ok_bodies
        .iter()
        .copied()
        .filter(|k| Some(*k) != winner)
        .collect();
    if wrong.is_empty() {
        return None;
    }
    Some(match winner {
        Some(w) => format!("body {w} acted, but bodies {wrong:?} were answered 200"),
        None => {
            format!("no body's value is held ('{marker}'), but bodies {wrong:?} were answered 200")
        }
    })
}

/// Sends all `inputs` at once: each task waits at a barrier with its request ready.
async fn race<I>(client: &Client, inputs: Vec<I>) -> Result<Vec<Answer<I::Output>>, String>
where
    I: OperationInput + Send + Sync + 'static,
    I::Output: Send,
{
    let barrier = Arc::new(Barrier::new(inputs.len()));
    let tasks: Vec<_> = inputs
        .into_iter()
        .map(|input| {
            let (client, barrier) = (client.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                call(&client, &input, TIMEOUT).await.0
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.map_err(|e| e.to_string())?);
    }
    Ok(answers)
}

/// The answers to the requests of one check, by kind.
struct Answers {
    /// The bodies answered 200, by number.
    ok_bodies: Vec<usize>,
    conflicts: usize,
    /// Other answers by kind.
    others: BTreeMap<String, u64>,
    /// How many different successful answers there were.
    distinct_ok: usize,
}

impl Answers {
    fn of<T: PartialEq>(answers: Vec<Answer<T>>) -> Answers {
        let mut out = Answers {
            ok_bodies: Vec::new(),
            conflicts: 0,
            others: BTreeMap::new(),
            distinct_ok: 0,
        };
        let mut distinct: Vec<&T> = Vec::new();
        for (k, a) in answers.iter().enumerate() {
            match a {
                Answer::Ok(output) => {
                    out.ok_bodies.push(k);
                    if !distinct.contains(&output) {
                        distinct.push(output);
                    }
                }
                a if a.is_error("ConflictException") => out.conflicts += 1,
                other => *out.others.entry(other.describe()).or_default() += 1,
            }
        }
        out.distinct_ok = distinct.len();
        out
    }
}

async fn ok<I: OperationInput>(client: &Client, input: &I) -> Result<I::Output, String> {
    api::ok(client, input, TIMEOUT).await
}

async fn create(client: &Client, s: &Schema, title: &str) -> Result<String, String> {
    let input = s.new_case(vec![value("title", text(title))], None);
    Ok(ok(client, &input).await?.case_id)
}

/// Ids of the cases whose note is `note` (at most 100).
async fn search_note(client: &Client, s: &Schema, note: &str) -> Result<Vec<String>, String> {
    let input = SearchCasesRequest {
        fields: None,
        ..s.search(Some(s.holding(&s.note, note)))
    };
    let out = ok(client, &input).await?;
    Ok(out.cases.into_iter().flatten().map(|c| c.case_id).collect())
}

/// The types of a case's audit events, every page.
async fn audit(client: &Client, s: &Schema, id: &str) -> Result<Vec<AuditEventType>, String> {
    let input = GetCaseAuditEventsRequest {
        case_id: id.to_owned(),
        domain_id: s.domain.clone(),
        max_results: Some(25),
        next_token: None,
    };
    let pages = all_pages(client, input, 20, TIMEOUT).await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.audit_events)
        .flatten()
        .map(|e| e.r#type)
        .collect())
}

/// The Text value of `field` of case `id` (empty when it has none).
async fn field(client: &Client, s: &Schema, id: &str, field: &str) -> Result<String, String> {
    let out = ok(client, &s.get_case(id, &[field])).await?;
    Ok(match out.fields.into_iter().next().map(|f| f.value) {
        Some(FieldValueUnion::StringValue(v)) => v,
        _ => String::new(),
    })
}

async fn title(client: &Client, s: &Schema, id: &str) -> Result<String, String> {
    field(client, s, id, "title").await
}

async fn note_of(client: &Client, s: &Schema, id: &str) -> Result<String, String> {
    field(client, s, id, &s.note).await
}

async fn comment_bodies(client: &Client, s: &Schema, id: &str) -> Result<Vec<String>, String> {
    let pages = all_pages(client, s.comments(id), 10, TIMEOUT).await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.related_items)
        .flatten()
        .filter_map(|i| match i.content {
            RelatedItemContent::Comment(c) => Some(c.body),
            _ => None,
        })
        .collect())
}
