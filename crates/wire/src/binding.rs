//! Builds an operation's input document from the three places restJson1 carries it: URI labels,
//! the query string and the JSON body. The result is one JSON object keyed by member name, checked
//! by `validate` against the input shape, ready for typed deserialization.

use crate::router::Routed;
use crate::validate;
use caseload_model::Error;
use caseload_model::schema::{Kind, Location, SHAPES};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

pub fn bind_input(routed: &Routed, query: Option<&str>, body: &[u8]) -> Result<Value, Error> {
    let def = routed.operation.def();
    let Some(input_shape) = def.input else {
        return Ok(Value::Object(Map::new()));
    };
    let Kind::Structure { members, .. } = &SHAPES[input_shape].kind else {
        return Err(Error::internal("input shape is not a structure"));
    };

    // An empty body (POST with no Content-Type is common: GetDomain) is an empty document.
    let mut doc = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(Error::Serialization(
                    "the request body must be a JSON object".into(),
                ));
            }
            Err(e) => {
                return Err(Error::Serialization(format!(
                    "the request body is not valid JSON: {e}"
                )));
            }
        }
    };

    // Members bound to the URI or the query string never come from the body.
    for m in members.iter().filter(|m| m.location != Location::Body) {
        doc.remove(m.name);
    }
    for (label, value) in &routed.labels {
        if let Some(m) = members
            .iter()
            .find(|m| m.location == Location::Label && m.location_name == *label)
        {
            doc.insert(m.name.to_owned(), Value::String(value.clone()));
        }
    }
    for (key, value) in query.map(parse_query).unwrap_or_default() {
        let Some(m) = members
            .iter()
            .find(|m| m.location == Location::Query && m.location_name == key)
        else {
            continue;
        };
        let value = match &SHAPES[m.target].kind {
            Kind::Integer { .. } => match value.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    return Err(Error::Serialization(format!(
                        "query parameter '{key}' must be an integer, got '{value}'"
                    )));
                }
            },
            Kind::List { .. } => {
                let entry = doc
                    .entry(m.name.to_owned())
                    .or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(items) = entry {
                    items.push(Value::String(value));
                }
                continue;
            }
            _ => Value::String(value),
        };
        doc.insert(m.name.to_owned(), value);
    }

    let mut doc = Value::Object(doc);
    validate::validate_input(input_shape, &mut doc)?;
    Ok(doc)
}

/// `a=1&b=x%20y&b=z` → [("a","1"), ("b","x y"), ("b","z")]. `+` is kept literally: the SDKs
/// encode spaces as `%20` and a `+` as `%2B`.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let d = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (d(k), d(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::route;
    use http::Method;
    use serde_json::json;

    fn bind(method: Method, pq: &str, body: &str) -> Result<Value, Error> {
        let (path, query) = match pq.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (pq, None),
        };
        bind_input(&route(&method, path)?, query, body.as_bytes())
    }

    #[test]
    fn labels_query_and_body_make_one_document() {
        let v = bind(Method::POST, "/domains-list?maxResults=2&nextToken=abc", "").unwrap();
        assert_eq!(v, json!({"maxResults": 2, "nextToken": "abc"}));
        let v = bind(Method::DELETE, "/tags/arn%3Aaws%3Acases%3Aus-east-1%3A000000000000%3Adomain%2Fd?tagKeys=a&tagKeys=b%3Ac", "").unwrap();
        assert_eq!(
            v,
            json!({"arn": "arn:aws:cases:us-east-1:000000000000:domain/d", "tagKeys": ["a", "b:c"]})
        );
        let v = bind(Method::POST, "/domains/d-1/cases", r#"{"templateId":"t","fields":[{"id":"title","value":{"stringValue":"x"}}],"domainId":"spoofed"}"#).unwrap();
        assert_eq!(v["domainId"], "d-1");
    }

    #[test]
    fn bad_bodies_are_serialization_errors() {
        for body in ["{", "[]", "42", "{\"name\": 1}"] {
            assert!(
                matches!(
                    bind(Method::POST, "/domains", body),
                    Err(Error::Serialization(_))
                ),
                "{body}"
            );
        }
        assert!(matches!(
            bind(Method::POST, "/domains-list?maxResults=x", ""),
            Err(Error::Serialization(_))
        ));
    }
}
