//! Maps a method and a raw request path to an operation, using the URI templates of the model.
//!
//! Matching works on the raw, still percent-encoded path split at `/`, and decodes each label
//! segment afterwards: an ARN label arrives as one segment with its `/` encoded as `%2F`
//! (`/tags/arn%3Aaws%3Acases%3A...%2Fdomain%2Fd-1`). Literal segments may contain a `:`
//! (`/cases:batchUpdateCase`), and two templates end in a `/` (`.../related-items/`,
//! `.../rules-list/`); a request without that trailing slash is accepted too.

use caseload_model::schema::OPERATIONS;
use caseload_model::{Error, Operation};
use percent_encoding::percent_decode_str;
use std::sync::OnceLock;

/// The operation a request addresses and the values of its URI labels (decoded).
#[derive(Debug)]
pub struct Routed {
    pub operation: Operation,
    pub labels: Vec<(&'static str, String)>,
}

#[derive(Debug)]
enum Segment {
    Literal(&'static str),
    Label(&'static str),
}

struct Template {
    operation: Operation,
    method: &'static str,
    segments: Vec<Segment>,
    literals: usize,
}

fn templates() -> &'static [Template] {
    static TEMPLATES: OnceLock<Vec<Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut all: Vec<Template> = Operation::ALL
            .iter()
            .map(|&op| {
                let def = &OPERATIONS[op as usize];
                let segments: Vec<Segment> = split(def.uri)
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(label) => Segment::Label(label.trim_end_matches('+')),
                            None => Segment::Literal(s),
                        },
                    )
                    .collect();
                let literals = segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                Template {
                    operation: op,
                    method: def.method,
                    segments,
                    literals,
                }
            })
            .collect();
        // The most specific template wins when two could match the same path.
        all.sort_by_key(|t| std::cmp::Reverse(t.literals));
        all
    })
}

/// Path segments without the leading `/` and without a trailing empty segment, so that
/// `/a/b/` and `/a/b` split alike.
fn split(path: &str) -> impl Iterator<Item = &str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    trimmed.split('/')
}

fn decode(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Finds the operation for `method` and the raw `path` (no query string).
pub fn route(method: &http::Method, path: &str) -> Result<Routed, Error> {
    let segments: Vec<&str> = split(path).collect();
    let mut path_matched = false;
    for t in templates() {
        if t.segments.len() != segments.len() {
            continue;
        }
        let mut labels = Vec::new();
        let matched = t
            .segments
            .iter()
            .zip(&segments)
            .all(|(want, got)| match want {
                // Most segments carry no escapes: compare them as they are, without allocating.
                Segment::Literal(lit) if !got.contains('%') => got == lit,
                Segment::Literal(lit) => decode(got).is_some_and(|g| g == *lit),
                Segment::Label(name) => match decode(got) {
                    Some(v) if !v.is_empty() => {
                        labels.push((*name, v));
                        true
                    }
                    _ => false,
                },
            });
        if !matched {
            continue;
        }
        if t.method != method.as_str() {
            path_matched = true;
            continue;
        }
        return Ok(Routed {
            operation: t.operation,
            labels,
        });
    }
    let why = if path_matched {
        "does not accept this method"
    } else {
        "matches no operation"
    };
    Err(Error::UnknownOperation(format!(
        "{method} {path} {why} of the ConnectCases API"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn op(method: Method, path: &str) -> Result<Operation, Error> {
        route(&method, path).map(|r| r.operation)
    }

    #[test]
    fn routes_every_operation_by_its_own_template() {
        for &o in Operation::ALL {
            let def = o.def();
            let path = def.uri.replace('{', "x").replace('}', "");
            let method = Method::from_bytes(def.method.as_bytes()).unwrap();
            assert_eq!(op(method, &path).unwrap(), o, "{}", def.uri);
        }
    }

    #[test]
    fn model_quirks() {
        assert_eq!(
            op(Method::PUT, "/cases:batchUpdateCase").unwrap(),
            Operation::BatchUpdateCase
        );
        assert_eq!(
            op(Method::PUT, "/cases%3AbatchUpdateCase").unwrap(),
            Operation::BatchUpdateCase
        );
        assert_eq!(
            op(Method::POST, "/domains/d/rules-list/").unwrap(),
            Operation::ListCaseRules
        );
        assert_eq!(
            op(Method::POST, "/domains/d/rules-list").unwrap(),
            Operation::ListCaseRules
        );
        assert_eq!(
            op(Method::POST, "/domains/d/cases/c/related-items/").unwrap(),
            Operation::CreateRelatedItem
        );
        assert_eq!(
            op(Method::POST, "/domains-list").unwrap(),
            Operation::ListDomains
        );
        let r = route(
            &Method::GET,
            "/tags/arn%3Aaws%3Acases%3Aus-east-1%3A123456789012%3Adomain%2Fd-123%2Fcase%2Fc%201",
        )
        .unwrap();
        assert_eq!(r.operation, Operation::ListTagsForResource);
        assert_eq!(
            r.labels,
            vec![(
                "arn",
                "arn:aws:cases:us-east-1:123456789012:domain/d-123/case/c 1".to_owned()
            )]
        );
        let r = route(&Method::PUT, "/domains/d%201/cases/c-2").unwrap();
        assert_eq!(r.operation, Operation::UpdateCase);
        assert_eq!(
            r.labels,
            vec![("domainId", "d 1".to_owned()), ("caseId", "c-2".to_owned())]
        );
    }

    #[test]
    fn unknown_routes_are_unknown_operations() {
        for (m, p) in [
            (Method::GET, "/"),
            (Method::GET, "/domains"),
            (Method::PATCH, "/domains/d"),
            (Method::POST, "/nope/x"),
            (Method::POST, "/domains//cases"),
        ] {
            assert!(matches!(op(m, p), Err(Error::UnknownOperation(_))), "{p}");
        }
    }
}
