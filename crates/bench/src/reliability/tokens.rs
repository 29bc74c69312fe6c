//! Scenario 3: concurrent requests sharing one `clientToken`, for each operation that takes
//! one. N identical requests must act once and all answer alike; N requests with different
//! bodies must act once, answer 200 only for the body that acted and ConflictException for the
//! others. What acted is counted in the audit history (GetCaseAuditEvents), in SearchCases and
//! in SearchRelatedItems, never taken from the answers.

use super::api::{self, Answer, all_pages, call, strings};
use super::report::TokenResult;
use super::workload::Schema;
use super::{Args, start};
use caseload_client::{Client, HttpMethod as Method};
use serde_json::{Value as Json, json};
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
    let body = |k: usize| -> Json {
        let marker = if same {
            tag.clone()
        } else {
            format!("{tag}-{k}")
        };
        let cases: Vec<Json> = targets
            .iter()
            .map(|id| json!({ "caseIdentifier": { "caseId": id } }))
            .collect();
        match op {
            Op::CreateCase => json!({
                "templateId": s.template,
                "fields": [
                    { "id": "title", "value": { "stringValue": marker } },
                    { "id": s.note, "value": { "stringValue": tag } },
                ],
                "clientToken": tag,
            }),
            Op::BatchUpdateCase => json!({
                "domainId": s.domain,
                "cases": cases,
                "fields": [{ "fieldIdentifier": { "id": s.note }, "value": { "stringValue": marker } }],
                "clientToken": tag,
            }),
            Op::BatchCreateRelatedItem => json!({
                "domainId": s.domain,
                "cases": cases,
                "content": { "comment": { "body": marker, "contentType": "Text/Plain" } },
                "clientToken": tag,
            }),
        }
    };
    let (method, path) = match op {
        Op::CreateCase => (Method::POST, s.cases_path()),
        Op::BatchUpdateCase => (Method::PUT, "/cases:batchUpdateCase".to_owned()),
        Op::BatchCreateRelatedItem => (Method::POST, "/cases:batchCreateRelatedItem".to_owned()),
    };
    // All requests leave together: each task waits at the barrier with its body ready.
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|k| {
            let (client, barrier, path, method) = (
                client.clone(),
                barrier.clone(),
                path.clone(),
                method.clone(),
            );
            let b = body(k);
            tokio::spawn(async move {
                barrier.wait().await;
                call(&client, method, &path, &b, TIMEOUT).await.0
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.map_err(|e| e.to_string())?);
    }

    let mut r = TokenResult {
        operation: op.name().into(),
        variant: if same {
            "identical bodies"
        } else {
            "different bodies"
        }
        .into(),
        requests: n,
        ..Default::default()
    };
    let mut others: BTreeMap<String, u64> = BTreeMap::new();
    for a in &answers {
        match a {
            Answer::Ok(_) => r.ok += 1,
            Answer::Error { code, .. } if code == "ConflictException" => r.conflicts += 1,
            other => *others.entry(other.describe()).or_default() += 1,
        }
    }
    r.other_answers = others;
    let mut problems = Vec::new();
    if r.ok == 0 {
        problems.push("no request succeeded".to_owned());
    }
    if !r.other_answers.is_empty() {
        problems.push(format!("unexpected answers {:?}", r.other_answers));
    }
    // The bodies that were answered 200: one body only, and with identical bodies, one answer.
    let ok_bodies: Vec<usize> = (0..n)
        .filter(|k| matches!(answers[*k], Answer::Ok(_)))
        .collect();
    let mut distinct_answers: Vec<&Json> = Vec::new();
    for a in &answers {
        if let Answer::Ok(j) = a
            && !distinct_answers.contains(&j)
        {
            distinct_answers.push(j);
        }
    }
    if distinct_answers.len() > 1 {
        problems.push(format!(
            "{} different successful answers",
            distinct_answers.len()
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
                let created = events.iter().filter(|e| *e == "Case.Created").count();
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
                "Case.Updated"
            } else {
                "RelatedItem.Created"
            };
            let mut per_case = Vec::new();
            let mut winners = Vec::new();
            for id in &targets {
                let events = audit(client, s, id).await?;
                per_case.push(events.iter().filter(|e| *e == kind).count());
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

async fn ok(client: &Client, method: Method, path: &str, body: &Json) -> Result<Json, String> {
    api::ok(client, method, path, body, TIMEOUT).await
}

async fn create(client: &Client, s: &Schema, title: &str) -> Result<String, String> {
    let body = json!({
        "templateId": s.template,
        "fields": [{ "id": "title", "value": { "stringValue": title } }],
    });
    let out = ok(client, Method::POST, &s.cases_path(), &body).await?;
    out["caseId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no caseId in {out}"))
}

/// Ids of the cases whose note is `note` (at most 100).
async fn search_note(client: &Client, s: &Schema, note: &str) -> Result<Vec<String>, String> {
    let body = json!({
        "maxResults": 100,
        "filter": { "field": { "equalTo": { "id": s.note, "value": { "stringValue": note } } } },
    });
    let out = ok(
        client,
        Method::POST,
        &format!("{}-search", s.cases_path()),
        &body,
    )
    .await?;
    Ok(out["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["caseId"].as_str().map(str::to_owned))
        .collect())
}

/// The types of a case's audit events, every page.
async fn audit(client: &Client, s: &Schema, id: &str) -> Result<Vec<String>, String> {
    let path = format!("{}/audit-history", s.case_path(id));
    let events = all_pages(
        client,
        &path,
        json!({ "maxResults": 25 }),
        "auditEvents",
        20,
        TIMEOUT,
    )
    .await?;
    Ok(strings(&events, "/type"))
}

async fn field(client: &Client, s: &Schema, id: &str, field: &str) -> Result<String, String> {
    let out = ok(
        client,
        Method::POST,
        &s.case_path(id),
        &json!({ "fields": [{ "id": field }] }),
    )
    .await?;
    Ok(out["fields"][0]["value"]["stringValue"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn title(client: &Client, s: &Schema, id: &str) -> Result<String, String> {
    field(client, s, id, "title").await
}

async fn note_of(client: &Client, s: &Schema, id: &str) -> Result<String, String> {
    field(client, s, id, &s.note).await
}

async fn comment_bodies(client: &Client, s: &Schema, id: &str) -> Result<Vec<String>, String> {
    let path = format!("{}/related-items-search", s.case_path(id));
    let body = json!({ "maxResults": 25, "filters": [{ "comment": {} }] });
    let items = all_pages(client, &path, body, "relatedItems", 10, TIMEOUT).await?;
    Ok(strings(&items, "/content/comment/body"))
}
