//! What the benchmark asks the server: the SearchCases query mix and the inputs of GetCase,
//! CreateCase and UpdateCase, all over a generated domain, as the API's generated shapes (so the
//! typed client addresses them and a model change breaks them at compile time).

use crate::generate::Generated;
use crate::rng::Rng;
use caseload_model::Timestamp;
use caseload_model::shapes::*;

/// One query of the mix.
pub struct Query {
    pub name: &'static str,
    pub description: String,
    pub input: SearchCasesRequest,
    /// Pages to walk (with `nextToken`) before the measured one: 0 for a first page.
    pub skip_pages: usize,
}

fn field(filter: FieldFilter) -> CaseFilter {
    CaseFilter::Field(filter)
}

fn eq(id: &str, value: FieldValueUnion) -> CaseFilter {
    field(FieldFilter::EqualTo(FieldValue {
        id: id.to_owned(),
        value,
    }))
}

fn s(v: &str) -> FieldValueUnion {
    FieldValueUnion::StringValue(v.to_owned())
}

fn user(arn: &str) -> FieldValueUnion {
    FieldValueUnion::UserArnValue(arn.to_owned())
}

fn value(id: &str, value: FieldValueUnion) -> FieldValue {
    FieldValue {
        id: id.to_owned(),
        value,
    }
}

fn ids(ids: &[&str]) -> Vec<FieldIdentifier> {
    ids.iter()
        .map(|id| FieldIdentifier {
            id: (*id).to_owned(),
        })
        .collect()
}

/// A first page of 25 cases of `domain`, with the fields every search returns per case.
fn search(domain: &str, filter: Option<CaseFilter>) -> SearchCasesRequest {
    SearchCasesRequest {
        domain_id: domain.to_owned(),
        fields: Some(ids(&[
            "title",
            "status",
            "assigned_queue",
            "last_updated_datetime",
        ])),
        filter,
        max_results: Some(25),
        next_token: None,
        search_term: None,
        sorts: None,
    }
}

/// The mix of issue 7: equality, a two-predicate AND, an OR of three values with NOT, a date
/// range, a searchTerm, a contains, and a deep page. Values are chosen by rank in the generated
/// distributions, so every size asks the same question.
pub fn search_mix(g: &Generated, domain: &str) -> Vec<Query> {
    let day = 86_400_000;
    let from = Timestamp::from_unix_millis(g.start.unix_millis() + 300 * day).to_iso8601();
    let to = Timestamp::from_unix_millis(g.start.unix_millis() + 330 * day).to_iso8601();
    let term = &g.words[40];
    let users = g.users[..3]
        .iter()
        .map(|u| eq("assigned_user", user(u)))
        .collect();
    vec![
        Query {
            name: "equality",
            description: "status = open (15% of cases), newest first".into(),
            input: search(domain, Some(eq("status", s("open")))),
            skip_pages: 0,
        },
        Query {
            name: "and",
            description: "status = open AND assigned_queue = 3rd busiest queue".into(),
            input: search(
                domain,
                Some(CaseFilter::AndAll(vec![
                    eq("status", s("open")),
                    eq("assigned_queue", s(&g.queues[2])),
                ])),
            ),
            skip_pages: 0,
        },
        Query {
            name: "or_not",
            description: "(assigned_user = one of the 3 busiest agents) AND NOT status = closed, by order value"
                .into(),
            input: SearchCasesRequest {
                sorts: Some(vec![Sort {
                    field_id: g.fields["order_value"].clone(),
                    sort_order: Order::Desc,
                }]),
                ..search(
                    domain,
                    Some(CaseFilter::AndAll(vec![
                        CaseFilter::OrAll(users),
                        CaseFilter::Not(Box::new(eq("status", s("closed")))),
                    ])),
                )
            },
            skip_pages: 0,
        },
        Query {
            name: "date_range",
            description: "created_datetime in a 30-day window".into(),
            input: search(
                domain,
                Some(CaseFilter::AndAll(vec![
                    field(FieldFilter::GreaterThanOrEqualTo(value(
                        "created_datetime",
                        s(&from),
                    ))),
                    field(FieldFilter::LessThan(value("created_datetime", s(&to)))),
                ])),
            ),
            skip_pages: 0,
        },
        Query {
            name: "search_term",
            description: format!("searchTerm '{term}' (the 41st most frequent word)"),
            input: SearchCasesRequest {
                search_term: Some(term.clone()),
                ..search(domain, None)
            },
            skip_pages: 0,
        },
        Query {
            name: "contains",
            description: "title contains 'rint'".into(),
            input: search(
                domain,
                Some(field(FieldFilter::Contains(value("title", s("rint"))))),
            ),
            skip_pages: 0,
        },
        Query {
            name: "deep_page",
            description: "status = closed, page 41 (cases 1,001-1,025) by nextToken".into(),
            input: search(domain, Some(eq("status", s("closed")))),
            skip_pages: 40,
        },
    ]
}

/// GetCase of `case_id` with the fields an agent view asks for (eight).
pub fn get_input(g: &Generated, domain: &str, case_id: &str) -> GetCaseRequest {
    GetCaseRequest {
        case_id: case_id.to_owned(),
        domain_id: domain.to_owned(),
        fields: ids(&[
            "title",
            "status",
            "summary",
            "assigned_queue",
            "assigned_user",
            "created_datetime",
            &g.fields["priority"],
            &g.fields["order_value"],
        ]),
        next_token: None,
    }
}

/// A new case like the generated ones; `marker` makes its title unique when it is not empty.
pub fn create_input(g: &Generated, rng: &mut Rng, domain: &str, marker: &str) -> CreateCaseRequest {
    let words = |rng: &mut Rng, n: u64| {
        (0..n)
            .map(|_| g.words[(rng.below(200)) as usize].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let title = format!("{} {marker}", words(rng, 5)).trim().to_owned();
    let summary = words(rng, 20);
    let queue = &g.queues[rng.below(g.queues.len() as u64) as usize];
    let agent = &g.users[rng.below(g.users.len() as u64) as usize];
    CreateCaseRequest {
        client_token: None,
        domain_id: domain.to_owned(),
        fields: vec![
            value("title", s(&title)),
            value("summary", s(&summary)),
            value("assigned_queue", s(queue)),
            value("assigned_user", user(agent)),
            value(&g.fields["priority"], s("medium")),
            value(&g.fields["escalated"], FieldValueUnion::BooleanValue(false)),
        ],
        performed_by: None,
        tags: None,
        template_id: g.templates[0].clone(),
    }
}

/// An update of two fields of a case.
pub fn update_input(
    g: &Generated,
    rng: &mut Rng,
    domain: &str,
    case_id: &str,
) -> UpdateCaseRequest {
    let priorities = ["low", "medium", "high", "urgent"];
    let priority = priorities[rng.below(4) as usize];
    let agent = &g.users[rng.below(g.users.len() as u64) as usize];
    UpdateCaseRequest {
        case_id: case_id.to_owned(),
        domain_id: domain.to_owned(),
        fields: vec![
            value(&g.fields["priority"], s(priority)),
            value("assigned_user", user(agent)),
        ],
        performed_by: None,
    }
}
