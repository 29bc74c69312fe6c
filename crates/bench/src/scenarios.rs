//! What the benchmark asks the server: the SearchCases query mix and the bodies of GetCase,
//! CreateCase and UpdateCase, all over a generated domain.

use crate::generate::Generated;
use crate::rng::Rng;
use caseload_model::Timestamp;
use serde_json::{Value as Json, json};

/// One query of the mix.
pub struct Query {
    pub name: &'static str,
    pub description: String,
    pub body: Json,
    /// Pages to walk (with `nextToken`) before the measured one: 0 for a first page.
    pub skip_pages: usize,
}

fn eq(id: &str, value: Json) -> Json {
    json!({ "field": { "equalTo": { "id": id, "value": value } } })
}

fn s(v: &str) -> Json {
    json!({ "stringValue": v })
}

/// The fields every search returns per case.
fn projection() -> Json {
    json!([{ "id": "title" }, { "id": "status" }, { "id": "assigned_queue" }, { "id": "last_updated_datetime" }])
}

/// The mix of issue 7: equality, a two-predicate AND, an OR of three values with NOT, a date
/// range, a searchTerm, a contains, and a deep page. Values are chosen by rank in the generated
/// distributions, so every size asks the same question.
pub fn search_mix(g: &Generated) -> Vec<Query> {
    let with = |mut body: Json| {
        body["fields"] = projection();
        body["maxResults"] = json!(25);
        body
    };
    let day = 86_400_000;
    let from = Timestamp::from_unix_millis(g.start.unix_millis() + 300 * day).to_iso8601();
    let to = Timestamp::from_unix_millis(g.start.unix_millis() + 330 * day).to_iso8601();
    let term = &g.words[40];
    let users: Vec<Json> = g.users[..3]
        .iter()
        .map(|u| eq("assigned_user", json!({ "userArnValue": u })))
        .collect();
    vec![
        Query {
            name: "equality",
            description: "status = open (15% of cases), newest first".into(),
            body: with(json!({ "filter": eq("status", s("open")) })),
            skip_pages: 0,
        },
        Query {
            name: "and",
            description: "status = open AND assigned_queue = 3rd busiest queue".into(),
            body: with(json!({ "filter": { "andAll": [eq("status", s("open")), eq("assigned_queue", s(&g.queues[2]))] } })),
            skip_pages: 0,
        },
        Query {
            name: "or_not",
            description: "(assigned_user = one of the 3 busiest agents) AND NOT status = closed, by order value"
                .into(),
            body: with(json!({
                "filter": { "andAll": [
                    { "orAll": users },
                    { "not": eq("status", s("closed")) },
                ] },
                "sorts": [{ "fieldId": g.fields["order_value"], "sortOrder": "Desc" }],
            })),
            skip_pages: 0,
        },
        Query {
            name: "date_range",
            description: "created_datetime in a 30-day window".into(),
            body: with(json!({ "filter": { "andAll": [
                { "field": { "greaterThanOrEqualTo": { "id": "created_datetime", "value": s(&from) } } },
                { "field": { "lessThan": { "id": "created_datetime", "value": s(&to) } } },
            ] } })),
            skip_pages: 0,
        },
        Query {
            name: "search_term",
            description: format!("searchTerm '{term}' (the 41st most frequent word)"),
            body: with(json!({ "searchTerm": term })),
            skip_pages: 0,
        },
        Query {
            name: "contains",
            description: "title contains 'rint'".into(),
            body: with(json!({ "filter": { "field": { "contains": { "id": "title", "value": s("rint") } } } })),
            skip_pages: 0,
        },
        Query {
            name: "deep_page",
            description: "status = closed, page 41 (cases 1,001-1,025) by nextToken".into(),
            body: with(json!({ "filter": eq("status", s("closed")) })),
            skip_pages: 40,
        },
    ]
}

/// The fields GetCase asks for (eight, a typical agent view).
pub fn get_body(g: &Generated) -> Json {
    let ids = [
        "title",
        "status",
        "summary",
        "assigned_queue",
        "assigned_user",
        "created_datetime",
        &g.fields["priority"],
        &g.fields["order_value"],
    ];
    json!({ "fields": ids.iter().map(|i| json!({ "id": i })).collect::<Vec<_>>() })
}

/// A new case like the generated ones; `marker` makes its title unique when it is not empty.
pub fn create_body(g: &Generated, rng: &mut Rng, marker: &str) -> Json {
    let words = |rng: &mut Rng, n: u64| {
        (0..n)
            .map(|_| g.words[(rng.below(200)) as usize].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let title = format!("{} {marker}", words(rng, 5)).trim().to_owned();
    json!({
        "templateId": g.templates[0],
        "fields": [
            { "id": "title", "value": s(&title) },
            { "id": "summary", "value": s(&words(rng, 20)) },
            { "id": "assigned_queue", "value": s(&g.queues[rng.below(g.queues.len() as u64) as usize]) },
            { "id": "assigned_user", "value": { "userArnValue": g.users[rng.below(g.users.len() as u64) as usize] } },
            { "id": g.fields["priority"], "value": s("medium") },
            { "id": g.fields["escalated"], "value": { "booleanValue": false } },
        ],
    })
}

/// An update of two fields of a case.
pub fn update_body(g: &Generated, rng: &mut Rng) -> Json {
    let priorities = ["low", "medium", "high", "urgent"];
    json!({
        "fields": [
            { "id": g.fields["priority"], "value": s(priorities[rng.below(4) as usize]) },
            { "id": "assigned_user", "value": { "userArnValue": g.users[rng.below(g.users.len() as u64) as usize] } },
        ],
    })
}
