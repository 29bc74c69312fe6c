//! A realistic support domain of any size, in the import format, the same bytes for the same seed.
//!
//! Distributions: most cases closed (80% closed, 15% open, 5% pending); 50 queues and 2,000 users
//! drawn by Zipf's law (a few queues and agents carry most of the work); creation times uniform
//! over two years, updates within 30 days of creation; custom Number, Boolean, SingleSelect and
//! DateTime fields, some only on part of the cases; titles and summaries of words drawn by Zipf's
//! law from a 10,000-word vocabulary, so a few words are everywhere and most are rare. One case in
//! ten has a comment (a related item) by its assigned agent, drawn from a random stream of its
//! own so that the cases are the same with or without comments.
//!
//! Lines come in the order `caseload export` writes them (fields, layouts, templates by id; cases
//! by case id; then related items by case id), so importing a generated file and exporting it
//! again gives the same bytes.

use crate::rng::{Rng, Zipf};
use caseload_domain::schema::fields::SYSTEM_FIELDS;
use caseload_domain::transfer::format::*;
use caseload_model::Timestamp;
use caseload_model::shapes::{
    CommentBodyTextType, CommentContent, FieldNamespace, FieldOption, FieldType,
    FieldValueUnion as V, RelatedItemContent, UserUnion,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;

pub const QUEUES: usize = 50;
pub const USERS: usize = 2_000;
pub const VOCABULARY: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
/// The share of cases with a comment (one each).
const COMMENTED: f64 = 0.1;
/// Mixed into the seed for the comments' own random stream.
const COMMENT_STREAM: u64 = 0xC044_E475;
/// The generated history ends here (fixed, so the output does not depend on the clock).
const END_MS: i64 = 1_790_812_800_000; // 2026-10-01T00:00:00Z
const SPAN_MS: i64 = 730 * DAY_MS;
const INSTANCE: &str = "7c1e6a2f-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

/// Frequent words first: Zipf's law makes the first ranks most of every text.
const COMMON: &[&str] = &[
    "the",
    "to",
    "and",
    "a",
    "not",
    "is",
    "my",
    "order",
    "on",
    "i",
    "it",
    "for",
    "of",
    "with",
    "account",
    "after",
    "can",
    "in",
    "printer",
    "payment",
    "login",
    "error",
    "refund",
    "update",
    "working",
    "customer",
    "invoice",
    "delivery",
    "password",
    "app",
    "card",
    "charged",
    "twice",
    "missing",
    "package",
    "broken",
    "screen",
    "reset",
    "cannot",
    "access",
    "slow",
    "connection",
    "subscription",
    "cancel",
    "request",
    "issue",
    "problem",
    "please",
    "help",
    "email",
    "phone",
    "number",
    "address",
    "change",
    "billing",
    "late",
    "damaged",
    "item",
    "return",
    "label",
    "shipping",
    "tracking",
    "code",
    "discount",
    "coupon",
    "price",
    "wrong",
    "size",
    "color",
    "exchange",
    "warranty",
    "repair",
    "battery",
    "charger",
    "cable",
    "wifi",
    "router",
    "network",
    "outage",
    "service",
    "technician",
    "appointment",
    "schedule",
    "reschedule",
    "confirm",
    "status",
    "still",
    "waiting",
    "since",
    "yesterday",
    "today",
    "week",
    "month",
    "again",
    "urgent",
    "asap",
    "thanks",
    "support",
    "agent",
    "call",
    "back",
    "chat",
    "message",
    "notification",
    "settings",
    "profile",
    "upgrade",
    "downgrade",
    "plan",
    "contract",
    "renewal",
    "trial",
    "expired",
    "locked",
    "verification",
    "sms",
    "two",
    "factor",
    "device",
    "laptop",
    "tablet",
    "install",
    "crash",
    "freeze",
    "sync",
    "backup",
    "restore",
    "data",
    "lost",
    "file",
    "upload",
    "download",
    "link",
    "expired",
    "sign",
    "out",
    "unable",
    "report",
    "feature",
    "bug",
    "fix",
    "version",
    "release",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "su", "ra", "ti", "po", "de", "fa", "gu", "be", "zo", "ve", "ch", "an",
    "or", "el", "is", "um",
];

/// The vocabulary by rank: common words, then invented ones (two to four syllables).
pub fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = Vec::with_capacity(VOCABULARY);
    let mut seen = std::collections::HashSet::new();
    for w in COMMON {
        if seen.insert(w.to_string()) {
            words.push(w.to_string());
        }
    }
    let mut i = 0usize;
    while words.len() < VOCABULARY {
        let mut n = i;
        let mut w = String::new();
        for _ in 0..(2 + i % 3) {
            w.push_str(SYLLABLES[n % SYLLABLES.len()]);
            n /= SYLLABLES.len();
        }
        w.push_str(&(i / 4000).to_string().replace('0', ""));
        if seen.insert(w.clone()) {
            words.push(w);
        }
        i += 1;
    }
    words
}

/// What a benchmark needs to know about a generated domain to query it.
pub struct Generated {
    /// Custom field ids by name: priority, channel, order_value, escalated, due_date, satisfaction.
    pub fields: BTreeMap<&'static str, String>,
    pub templates: Vec<String>,
    pub queues: Vec<String>,
    pub users: Vec<String>,
    pub words: Vec<String>,
    /// Up to `SAMPLE` case ids spread over the whole file.
    pub case_ids: Vec<String>,
    /// When the generated history begins.
    pub start: Timestamp,
}

/// Case ids remembered for GetCase and UpdateCase.
const SAMPLE: u64 = 20_000;

const STATUSES: &[&str] = &["open", "closed", "pending"];
const REASONS: &[&str] = &[
    "question",
    "billing",
    "technical",
    "delivery",
    "account",
    "complaint",
    "feedback",
    "other",
];
const PRIORITIES: &[&str] = &["low", "medium", "high", "urgent"];
const CHANNELS: &[&str] = &["email", "phone", "chat", "web"];

fn options(values: &[&str]) -> Vec<FieldOption> {
    values
        .iter()
        .map(|v| FieldOption {
            name: v.to_owned().to_owned(),
            value: v.to_owned().to_owned(),
            active: true,
        })
        .collect()
}

fn time(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}

fn datetime(ms: i64) -> V {
    V::StringValue(time(ms).to_iso8601())
}

/// Words drawn by Zipf's law, the first capitalised.
fn text(rng: &mut Rng, zipf: &Zipf, words: &[String], min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let w = &words[zipf.sample(rng)];
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(w);
        }
    }
    out
}

/// Writes a domain with `cases` cases generated from `seed` to `out`.
pub fn generate(cases: u64, seed: u64, out: &mut impl Write) -> std::io::Result<Generated> {
    let mut rng = Rng::new(seed);
    let start = END_MS - SPAN_MS;
    let created = time(start - DAY_MS);
    let words = vocabulary();
    let queues: Vec<String> = (0..QUEUES)
        .map(|_| {
            format!(
                "arn:aws:connect:us-east-1:000000000000:instance/{INSTANCE}/queue/{}",
                rng.uuid()
            )
        })
        .collect();
    let users: Vec<String> = (0..USERS)
        .map(|_| {
            format!(
                "arn:aws:connect:us-east-1:000000000000:instance/{INSTANCE}/agent/{}",
                rng.uuid()
            )
        })
        .collect();
    let custom = [
        ("priority", "Priority", FieldType::SingleSelect),
        ("channel", "Channel", FieldType::SingleSelect),
        ("order_value", "Order value", FieldType::Number),
        ("escalated", "Escalated", FieldType::Boolean),
        ("due_date", "Due date", FieldType::DateTime),
        ("satisfaction", "Satisfaction", FieldType::Number),
    ];
    let fields: BTreeMap<&'static str, String> =
        custom.iter().map(|(k, _, _)| (*k, rng.uuid())).collect();

    let line = |out: &mut dyn Write, l: Line| -> std::io::Result<()> {
        out.write_all(l.to_json().as_bytes())?;
        out.write_all(b"\n")
    };
    line(
        out,
        Line::Domain(DomainLine {
            format: FORMAT_VERSION,
            name: "bench".into(),
            created_time: created,
            tags: Tags::new(),
        }),
    )?;

    let field_line = |id: &str, name: &str, t: FieldType, ns: FieldNamespace| FieldLine {
        field_id: id.to_owned(),
        name: name.to_owned(),
        field_type: t,
        namespace: ns,
        description: None,
        attributes: None,
        options: vec![],
        deleted: false,
        created_time: created,
        last_modified_time: created,
        tags: Tags::new(),
    };
    let mut field_lines: Vec<FieldLine> = SYSTEM_FIELDS
        .iter()
        .map(|f| {
            let mut l = field_line(f.id, f.name, f.field_type, FieldNamespace::System);
            l.options = match f.id {
                "status" => options(STATUSES),
                "case_reason" => options(REASONS),
                _ => vec![],
            };
            l
        })
        .collect();
    for (key, name, t) in custom {
        let mut l = field_line(&fields[key], name, t, FieldNamespace::Custom);
        l.options = match key {
            "priority" => options(PRIORITIES),
            "channel" => options(CHANNELS),
            _ => vec![],
        };
        field_lines.push(l);
    }
    field_lines.sort_by(|a, b| a.field_id.cmp(&b.field_id));
    for f in field_lines {
        line(out, Line::Field(f))?;
    }

    let layout_id = rng.uuid();
    let group = |name: &str, ids: &[&str]| json!({ "fieldGroup": { "name": name, "fields": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>() } });
    let content = json!({ "basic": {
        "topPanel": { "sections": [group("Details", &[&fields["priority"], &fields["channel"], "assigned_queue", "assigned_user"])] },
        "moreInfo": { "sections": [group("More", &[&fields["order_value"], &fields["escalated"], &fields["due_date"], &fields["satisfaction"], "summary"])] },
    }});
    line(
        out,
        Line::Layout(LayoutLine {
            layout_id: layout_id.clone(),
            name: "Agent view".into(),
            content: serde_json::from_value(content).expect("a valid layout"),
            deleted: false,
            created_time: created,
            last_modified_time: created,
            tags: Tags::new(),
        }),
    )?;

    let mut templates: Vec<(String, TemplateLine)> = ["General", "Billing", "Technical"]
        .iter()
        .map(|name| {
            let id = rng.uuid();
            let required = if *name == "Billing" {
                vec![caseload_model::shapes::RequiredField {
                    field_id: fields["priority"].clone(),
                }]
            } else {
                vec![]
            };
            let t = TemplateLine {
                template_id: id.clone(),
                name: (*name).into(),
                description: None,
                status: caseload_model::shapes::TemplateStatus::Active,
                layout_configuration: Some(caseload_model::shapes::LayoutConfiguration {
                    default_layout: Some(layout_id.clone()),
                }),
                required_fields: required,
                rules: vec![],
                tag_propagation_configurations: vec![],
                deleted: false,
                created_time: created,
                last_modified_time: created,
                tags: Tags::new(),
            };
            (id, t)
        })
        .collect();
    let template_ids: Vec<String> = templates.iter().map(|(id, _)| id.clone()).collect();
    templates.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, t) in templates {
        line(out, Line::Template(t))?;
    }

    // Case ids first, sorted, so cases come in id order like an export's.
    let mut ids: Vec<String> = (0..cases).map(|_| rng.uuid()).collect();
    ids.sort_unstable();
    let sample_every = (cases / SAMPLE).max(1);
    let mut case_ids = Vec::new();
    let (zq, zu, zr, zw) = (
        Zipf::new(QUEUES),
        Zipf::new(USERS),
        Zipf::new(REASONS.len()),
        Zipf::new(VOCABULARY),
    );
    let reference_offset = rng.below(100_000_000);
    // Comments draw from a stream of their own, so the cases are the same as without them.
    let mut comment_rng = Rng::new(seed ^ COMMENT_STREAM);
    let mut comments: Vec<RelatedItemLine> = Vec::new();
    for (i, case_id) in ids.into_iter().enumerate() {
        if (i as u64).is_multiple_of(sample_every) {
            case_ids.push(case_id.clone());
        }
        let mut f: BTreeMap<String, V> = BTreeMap::new();
        let mut put = |k: &str, v: V| {
            f.insert(k.to_owned(), v);
        };
        let created_ms = start + rng.below(SPAN_MS as u64) as i64;
        let updated_ms =
            created_ms + rng.below((30 * DAY_MS).min(END_MS - created_ms) as u64 + 1) as i64;
        let r = rng.unit();
        let status = if r < 0.80 {
            "closed"
        } else if r < 0.95 {
            "open"
        } else {
            "pending"
        };
        let assigned = &users[zu.sample(&mut rng)];
        put("case_id", V::StringValue(case_id.clone()));
        // A multiplier prime to 10^8 makes this a permutation: every case a different number.
        let reference = (i as u64 * 48_271 + reference_offset) % 100_000_000;
        put(
            "reference_number",
            V::StringValue(format!("{reference:08}")),
        );
        put("created_datetime", datetime(created_ms));
        put("last_updated_datetime", datetime(updated_ms));
        if status == "closed" {
            put("last_closed_datetime", datetime(updated_ms));
        }
        put("status", V::StringValue(status.into()));
        put("title", V::StringValue(text(&mut rng, &zw, &words, 3, 8)));
        put(
            "summary",
            V::StringValue(text(&mut rng, &zw, &words, 10, 40)),
        );
        put(
            "case_reason",
            V::StringValue(REASONS[zr.sample(&mut rng)].into()),
        );
        put(
            "assigned_queue",
            V::StringValue(queues[zq.sample(&mut rng)].clone()),
        );
        put("assigned_user", V::UserArnValue(assigned.clone()));
        let updater = if rng.chance(0.7) {
            assigned.clone()
        } else {
            users[zu.sample(&mut rng)].clone()
        };
        put("last_updated_user", V::UserArnValue(updater));
        if rng.chance(0.3) {
            put(
                "customer_id",
                V::StringValue(format!(
                    "arn:aws:profile:us-east-1:000000000000:domains/bench/profiles/{:016x}{:016x}",
                    rng.next_u64(),
                    rng.next_u64()
                )),
            );
        }
        let p = rng.unit();
        let priority = if p < 0.40 {
            "low"
        } else if p < 0.75 {
            "medium"
        } else if p < 0.95 {
            "high"
        } else {
            "urgent"
        };
        put(&fields["priority"], V::StringValue(priority.into()));
        put(
            &fields["channel"],
            V::StringValue(CHANNELS[rng.below(4) as usize].into()),
        );
        if rng.chance(0.5) {
            let cents = (rng.unit() * 8.0).exp() * 100.0;
            put(
                &fields["order_value"],
                V::DoubleValue(cents.round() / 100.0),
            );
        }
        put(&fields["escalated"], V::BooleanValue(rng.chance(0.1)));
        if rng.chance(0.5) {
            let due = created_ms + (1 + rng.below(14) as i64) * DAY_MS;
            put(&fields["due_date"], datetime(due));
        }
        if status == "closed" && rng.chance(0.6) {
            put(
                &fields["satisfaction"],
                V::DoubleValue((1 + rng.below(5)) as f64),
            );
        }
        let t = rng.unit();
        let template = if t < 0.6 {
            0
        } else if t < 0.85 {
            1
        } else {
            2
        };
        let mut tags = Tags::new();
        if rng.chance(0.1) {
            tags.insert("vip".into(), Some("true".into()));
        }
        if comment_rng.chance(COMMENTED) {
            let at = created_ms + comment_rng.below((updated_ms - created_ms) as u64 + 1) as i64;
            comments.push(RelatedItemLine {
                case_id: case_id.clone(),
                related_item_id: comment_rng.uuid(),
                association_time: time(at),
                content: RelatedItemContent::Comment(CommentContent {
                    body: text(&mut comment_rng, &zw, &words, 5, 20),
                    content_type: CommentBodyTextType::TextPlain,
                }),
                performed_by: Some(UserUnion::UserArn(assigned.clone())),
                last_updated_user: None,
                tags: Tags::new(),
            });
        }
        line(
            out,
            Line::Case(CaseLine {
                case_id,
                template_id: template_ids[template].clone(),
                fields: f,
                tags,
            }),
        )?;
    }
    // After every case, in case id order (the ids were sorted), as an export writes them.
    for c in comments {
        line(out, Line::RelatedItem(c))?;
    }
    Ok(Generated {
        fields,
        templates: template_ids,
        queues,
        users,
        words,
        case_ids,
        start: time(start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_domain::transfer::Checker;

    fn file(cases: u64, seed: u64) -> String {
        let mut out = Vec::new();
        generate(cases, seed, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_and_every_line_passes_the_import_checks() {
        let a = file(300, 11);
        assert_eq!(a, file(300, 11));
        assert_ne!(a, file(300, 12));
        let mut checker = Checker::new();
        for (i, text) in a.lines().enumerate() {
            let line = Line::parse(text).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            checker
                .check(&line)
                .unwrap_or_else(|e| panic!("line {}: {e}\n{text}", i + 1));
        }
        let plan = checker.finish().unwrap();
        assert_eq!(plan.cases, 300);
        assert!(
            (15..50).contains(&plan.related_items),
            "{} comments on 300 cases",
            plan.related_items
        );
        assert!(
            plan.default_system_fields.is_empty(),
            "the generator writes every system field"
        );
    }

    #[test]
    fn the_distributions_have_their_shape() {
        let text = file(5_000, 1);
        let closed = text.matches(r#""status":{"stringValue":"closed"}"#).count();
        assert!((3_800..4_200).contains(&closed), "{closed} of 5000 closed");
        let words = vocabulary();
        assert_eq!(words.len(), VOCABULARY);
        assert_eq!(
            words.iter().collect::<std::collections::HashSet<_>>().len(),
            VOCABULARY
        );
    }
}
