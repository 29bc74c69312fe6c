//! Checks every write the ledger holds against a (restarted) server: unanswered creates are
//! retried with their `clientToken` first, so every case is known; then GetCase must show each
//! case's acknowledged values (or newer ones in flight at the crash), SearchRelatedItems its
//! acknowledged comments, and SearchCases must list exactly the known cases (`totalCount`
//! included), with the values GetCase shows, and find each by its current `note` (which asks
//! the search index, where a listing's values come from the database).

use super::api::{Answer, Paged, all_pages, call, read};
use super::ledger::{Finding, Ledger, judge, judge_comments};
use super::workload::{Schema, WRITE_TIMEOUT};
use crate::load;
use caseload_client::Client;
use caseload_model::shapes::{FieldValue, FieldValueUnion, SearchCasesRequest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What GetCase showed of a case: its `seq` and `note`, or nothing when it was not found.
type Held = Option<(u64, String)>;

/// Concurrent requests of a verification.
const READERS: usize = 8;
/// The findings a verdict keeps word for word (all are counted).
const KEPT: usize = 12;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Verdict {
    /// Cases known after the retries, and acknowledged writes so far.
    pub cases: u64,
    pub acknowledged: u64,
    /// Unanswered creates whose retry found or made their case.
    pub retried_creates: u64,
    pub lost: u64,
    pub divergences: u64,
    /// SearchCases' `totalCount` for the whole domain, when it answered.
    pub search_total: Option<u64>,
    /// Searches of the index by a `note` some cases hold.
    pub index_lookups: u64,
    /// The first findings.
    pub findings: Vec<String>,
}

impl Verdict {
    fn add(&mut self, f: Finding) {
        let text = match f {
            Finding::Lost(t) => {
                self.lost += 1;
                format!("lost: {t}")
            }
            Finding::Divergent(t) => {
                self.divergences += 1;
                format!("divergent: {t}")
            }
        };
        if self.findings.len() < KEPT {
            self.findings.push(text);
        }
    }

    pub fn clean(&self) -> bool {
        self.lost == 0 && self.divergences == 0
    }
}

/// The `seq` and `note` among the field values of a GetCase or SearchCases answer.
fn seq_and_note(s: &Schema, fields: &[FieldValue]) -> (u64, String) {
    let of = |id: &str| fields.iter().find(|f| f.id == id).map(|f| &f.value);
    (
        match of(&s.seq) {
            Some(FieldValueUnion::DoubleValue(v)) => *v,
            _ => -1.0,
        } as u64,
        match of(&s.note) {
            Some(FieldValueUnion::StringValue(v)) => v.clone(),
            _ => String::new(),
        },
    )
}

pub async fn verify(
    client: &Client,
    schema: &Arc<Schema>,
    ledger: &Arc<Mutex<Ledger>>,
    timeout: Duration,
) -> Verdict {
    let mut v = Verdict::default();
    retry_creates(client, schema, ledger, &mut v).await;
    let (ids, acknowledged) = {
        let l = ledger.lock().expect("ledger");
        (
            l.cases.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            l.acknowledged,
        )
    };
    v.cases = ids.len() as u64;
    v.acknowledged = acknowledged;

    // GetCase and the comments of every case, READERS at a time.
    let stored: Arc<Mutex<Vec<Held>>> = Arc::new(Mutex::new(vec![None; ids.len()]));
    let findings: Arc<Mutex<Vec<Finding>>> = Arc::default();
    {
        let (client, schema, ledger) = (client.clone(), schema.clone(), ledger.clone());
        let (stored, findings) = (stored.clone(), findings.clone());
        let ids = Arc::new(ids.clone());
        load::run(
            READERS,
            Duration::from_secs(600),
            ids.len() as u64,
            move |i| {
                let (client, schema, ledger) = (client.clone(), schema.clone(), ledger.clone());
                let (stored, findings, ids) = (stored.clone(), findings.clone(), ids.clone());
                async move {
                    let i = i as usize;
                    let found = read_case(&client, &schema, &ledger, i, &ids[i], timeout).await;
                    let mut f = findings.lock().expect("findings");
                    match found {
                        Ok(seen) => {
                            stored.lock().expect("stored")[i] = seen.0;
                            f.extend(seen.1);
                        }
                        Err(e) => f.push(Finding::Divergent(e)),
                    }
                    true
                }
            },
        )
        .await;
    }
    for f in std::mem::take(&mut *findings.lock().expect("findings")) {
        v.add(f);
    }
    let stored = std::mem::take(&mut *stored.lock().expect("stored"));
    search(client, schema, &ids, &stored, timeout, &mut v).await;
    v
}

/// Retries each unanswered CreateCase with its token: the case it made, or a new one.
async fn retry_creates(
    client: &Client,
    schema: &Schema,
    ledger: &Arc<Mutex<Ledger>>,
    v: &mut Verdict,
) {
    let pending = std::mem::take(&mut ledger.lock().expect("ledger").pending);
    for p in pending {
        let answer = call(client, &schema.create_case(p.seq), WRITE_TIMEOUT)
            .await
            .0;
        let mut l = ledger.lock().expect("ledger");
        match answer {
            Answer::Ok(out) => {
                let id = out.case_id;
                if l.position(&id).is_some() {
                    v.add(Finding::Divergent(format!(
                        "CreateCase retried with token {} answered {id}, a case another create made",
                        p.token
                    )));
                } else {
                    l.created(p.seq, id);
                    v.retried_creates += 1;
                }
            }
            other => {
                v.add(Finding::Divergent(format!(
                    "CreateCase retried with token {}: {}",
                    p.token,
                    other.describe()
                )));
                l.pending.push(p);
            }
        }
    }
}

/// GetCase (and the comments) of case `i`: what it holds, and what is wrong with it.
async fn read_case(
    client: &Client,
    schema: &Schema,
    ledger: &Arc<Mutex<Ledger>>,
    i: usize,
    id: &str,
    timeout: Duration,
) -> Result<(Held, Vec<Finding>), String> {
    let input = schema.get_case(id, &[&schema.seq, &schema.note]);
    let answer = read(client, &input, timeout).await.0;
    let held = match answer {
        Answer::Ok(out) => Some(seq_and_note(schema, &out.fields)),
        a if a.is_error("ResourceNotFoundException") => None,
        other => return Err(format!("GetCase {id}: {}", other.describe())),
    };
    let mut out = Vec::new();
    let has_comments = {
        let l = ledger.lock().expect("ledger");
        let c = &l.cases[i];
        out.extend(judge(c, held.as_ref().map(|(s, n)| (*s, n.as_str()))));
        !c.comments.is_empty() || c.comments_in_doubt > 0
    };
    if has_comments && held.is_some() {
        let found = comments(client, schema, id, timeout).await?;
        let l = ledger.lock().expect("ledger");
        out.extend(judge_comments(&l.cases[i], &found));
    }
    Ok((held, out))
}

/// The ids of a case's comments: 200 at most (the quota), in pages of 25.
async fn comments(
    client: &Client,
    schema: &Schema,
    id: &str,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let pages = all_pages(client, schema.comments(id), 10, timeout).await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.related_items)
        .flatten()
        .map(|i| i.related_item_id)
        .collect())
}

/// SearchCases: the whole domain page by page, then each case by its note.
async fn search(
    client: &Client,
    schema: &Arc<Schema>,
    ids: &[String],
    stored: &[Held],
    timeout: Duration,
    v: &mut Verdict,
) {
    let mut input = schema.search(None);
    let mut listed: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let pages = ids.len() / 100 + 10;
    for _ in 0..pages {
        let out = match read(client, &input, timeout).await.0 {
            Answer::Ok(out) => out,
            other => {
                v.add(Finding::Divergent(format!(
                    "SearchCases did not list the domain: {}",
                    other.describe()
                )));
                return;
            }
        };
        if v.search_total.is_none() {
            v.search_total = out.total_count.map(|n| n as u64);
        }
        for c in out.cases.into_iter().flatten() {
            listed.insert(c.case_id, seq_and_note(schema, &c.fields));
        }
        match out.next_token {
            Some(t) => input.set_token(t),
            None => break,
        }
    }
    if v.search_total != Some(ids.len() as u64) {
        v.add(Finding::Divergent(format!(
            "SearchCases totalCount is {:?}, GetCase sees {} cases",
            v.search_total,
            ids.len()
        )));
    }
    for (id, held) in ids.iter().zip(stored) {
        match (listed.remove(id), held) {
            (None, Some(_)) => v.add(Finding::Divergent(format!(
                "case {id} is not listed by SearchCases"
            ))),
            (Some(shown), Some(held)) if shown != *held => v.add(Finding::Divergent(format!(
                "case {id}: SearchCases shows {shown:?}, GetCase {held:?}"
            ))),
            _ => {}
        }
    }
    for id in listed.keys() {
        v.add(Finding::Divergent(format!(
            "SearchCases lists case {id}, which no acknowledged or retried create made"
        )));
    }

    // The index itself: each note finds exactly the cases GetCase shows holding it (one, or
    // the cases of one BatchUpdateCase, which writes the same values to each).
    let mut by_note: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, held) in ids.iter().zip(stored) {
        if let Some((_, note)) = held {
            by_note.entry(note.clone()).or_default().push(id.clone());
        }
    }
    let wanted: Vec<(String, Vec<String>)> = by_note
        .into_iter()
        .map(|(note, mut ids)| {
            ids.sort_unstable();
            (note, ids)
        })
        .collect();
    let findings: Arc<Mutex<Vec<Finding>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stats = {
        let (client, findings, stop2) = (client.clone(), findings.clone(), stop.clone());
        let (wanted, schema) = (Arc::new(wanted), schema.clone());
        load::run_until(
            READERS,
            Duration::from_secs(600),
            wanted.len() as u64,
            stop,
            move |i| {
                let (client, findings, stop) = (client.clone(), findings.clone(), stop2.clone());
                let (wanted, schema) = (wanted.clone(), schema.clone());
                async move {
                    let (note, want) = &wanted[i as usize];
                    let input = SearchCasesRequest {
                        fields: None,
                        ..schema.search(Some(schema.holding(&schema.note, note)))
                    };
                    let finding = match read(&client, &input, timeout).await.0 {
                        Answer::Ok(out) => {
                            let mut got: Vec<String> =
                                out.cases.into_iter().flatten().map(|c| c.case_id).collect();
                            got.sort_unstable();
                            (got != *want).then(|| {
                                Finding::Divergent(format!(
                                    "searching note = {note} finds {got:?}, not {want:?}"
                                ))
                            })
                        }
                        other => {
                            // One search that does not answer is enough: the rest would wait
                            // as long.
                            stop.store(true, std::sync::atomic::Ordering::Relaxed);
                            Some(Finding::Divergent(format!(
                                "SearchCases for note = {note}: {}",
                                other.describe()
                            )))
                        }
                    };
                    let ok = finding.is_none();
                    findings.lock().expect("findings").extend(finding);
                    ok
                }
            },
        )
        .await
    };
    v.index_lookups = stats.requests;
    for f in std::mem::take(&mut *findings.lock().expect("findings")) {
        v.add(f);
    }
}
