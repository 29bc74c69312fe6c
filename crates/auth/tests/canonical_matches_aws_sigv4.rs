//! The verifier builds canonical requests itself (for speed); aws-sigv4, the Rust SDK's signer,
//! is the oracle. Random requests (dot segments, repeated slashes, escapes and reserved
//! characters in paths, form-encoded queries with repeated keys, `+` and bare `%`, headers with
//! runs of spaces and several values, any body) are signed by aws-sigv4 as a client would sign
//! them, and every one must verify; the same request changed after signing must not.
//!
//! Escapes of bytes that are not UTF-8 (`%FF`) are where aws-sigv4 and AWS part: aws-sigv4
//! decodes the query into text, replacing them (`%EF%BF%BD`), while AWS and botocore keep the
//! bytes. The server follows AWS, so for those queries the oracle is botocore's rule: a query
//! already in canonical form is signed as sent, its pairs sorted.

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use caseload_auth::{Identities, verify};
use proptest::prelude::*;
use sha2::Digest;
use std::time::{Duration, SystemTime};

const KEY: &str = "AKIDPROPTEST";
const SECRET: &str = "proptest/secret+KEY";

fn identities() -> Identities {
    Identities::from_toml_str(&format!(
        "[[identity]]\naccess_key_id = {KEY:?}\nsecret_access_key = {SECRET:?}\naccount_id = \"123456789012\"\n"
    ))
    .unwrap()
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    target: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    region: &'static str,
    /// Seconds after 2026-01-01: keys of different days and regions are cached apart.
    at: u64,
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("domains".to_owned()),
        Just("cases:batchUpdateCase".to_owned()),
        Just("arn%3Aaws%3Acases%3Aus-east-1%3A1%3Adomain%2Fd".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(String::new()),
        Just("%7E~%20%2B+".to_owned()),
        Just("%C3%A9".to_owned()),
        "[A-Za-z0-9._~!$&'()*+,;=:@%-]{1,12}",
    ]
}

fn query() -> impl Strategy<Value = Option<String>> {
    let part = "[A-Za-z0-9._~!$'()*+,;:@/?%-]{0,8}";
    let pair = (part, proptest::option::of(part)).prop_map(|(k, v)| match v {
        Some(v) => format!("{k}={v}"),
        None => k,
    });
    proptest::option::of(proptest::collection::vec(pair, 0..5).prop_map(|p| p.join("&")))
}

fn header() -> impl Strategy<Value = (&'static str, String)> {
    (
        prop_oneof![
            Just("content-type"),
            Just("x-amz-user-agent"),
            Just("amz-sdk-request"),
            Just("x-custom"),
            Just("user-agent"),
        ],
        "[ -~]{0,20}",
    )
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE")],
        proptest::collection::vec(segment(), 0..6),
        any::<bool>(),
        query(),
        proptest::collection::vec(header(), 0..5),
        proptest::collection::vec(any::<u8>(), 0..64),
        prop_oneof![Just("us-east-1"), Just("eu-west-2")],
        0u64..86_400 * 3,
    )
        .prop_map(
            |(method, segments, trailing, query, headers, body, region, at)| {
                let mut target = format!("/{}", segments.join("/"));
                if trailing {
                    target.push('/');
                }
                if let Some(q) = query {
                    target.push('?');
                    target.push_str(&q);
                }
                Case {
                    method,
                    target,
                    headers,
                    body,
                    region,
                    at,
                }
            },
        )
}

/// The request as the server receives it after aws-sigv4 signed it, and the signing time.
fn signed(c: &Case) -> Option<(http::request::Parts, SystemTime)> {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + c.at);
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(KEY, SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(c.region)
        .name("cases")
        .time(now)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut request = http::Request::builder()
        .method(c.method)
        .uri(c.target.as_str())
        .header("host", "127.0.0.1:8099");
    for (k, v) in &c.headers {
        request = request.header(*k, v.as_str());
    }
    // Targets `http` would not accept never reach the server.
    let mut request = request.body(()).ok()?;
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let signable =
        SignableRequest::new(c.method, &c.target, headers, SignableBody::Bytes(&c.body)).ok()?;
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    Some((request.into_parts().0, now))
}

/// Whether every percent escape of the query decodes (as a form) to UTF-8 text: the queries on
/// which aws-sigv4 signs what AWS verifies.
fn query_is_utf8(target: &str) -> bool {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query.split(['&', '=']).all(|part| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .is_ok()
    })
}

/// A query string in canonical form: each byte outside RFC 3986's unreserved set escaped with
/// upper-case hex, as botocore's serializers write it.
fn canonical_component(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs `GET /domains-list?{query}` as botocore does: the query exactly as sent, its pairs
/// sorted; host and x-amz-date signed.
fn signed_like_botocore(query: &str, at: SystemTime) -> http::request::Parts {
    let amz_date = "20260101T000000Z";
    let mut pairs: Vec<&str> = query.split('&').collect();
    pairs.sort_by_key(|p| p.split_once('=').map_or((*p, ""), |(k, v)| (k, v)));
    let canonical = format!(
        "GET\n/domains-list\n{}\nhost:127.0.0.1:8099\nx-amz-date:{amz_date}\n\nhost;x-amz-date\n{}",
        pairs.join("&"),
        hex::encode(sha2::Sha256::digest(b"")),
    );
    let scope = "20260101/us-east-1/cases/aws4_request";
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(SECRET, at, "us-east-1", "cases");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, to_sign.as_bytes());
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("/domains-list?{query}"))
        .header("host", "127.0.0.1:8099")
        .header("x-amz-date", amz_date)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={KEY}/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}"
            ),
        )
        .body(())
        .unwrap();
    request.into_parts().0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn whatever_aws_sigv4_signs_verifies(c in case()) {
        prop_assume!(query_is_utf8(&c.target), "aws-sigv4 replaces escapes of non-UTF-8 bytes");
        let Some((parts, now)) = signed(&c) else {
            return Err(TestCaseError::reject("not a valid request target"));
        };
        let ids = identities();
        let verified = verify(&parts, &c.body, &ids, now);
        prop_assert!(verified.is_ok(), "{c:?}: {verified:?}");

        // Changed after signing, it must not verify: another body, another method, another
        // value of a signed header.
        let mut other_body = c.body.clone();
        other_body.push(b'x');
        prop_assert!(verify(&parts, &other_body, &ids, now).is_err());
        let mut moved = parts.clone();
        moved.method = if c.method == "GET" { http::Method::POST } else { http::Method::GET };
        prop_assert!(verify(&moved, &c.body, &ids, now).is_err());
        if let Some((name, value)) = c.headers.first() {
            let mut changed = parts.clone();
            let v = format!("{}!", value.trim());
            changed.headers.insert(*name, v.parse().unwrap());
            prop_assert!(verify(&changed, &c.body, &ids, now).is_err(), "{name}: {v}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes, UTF-8 or not (`%FF`, `%C3%28`, a lone `%80`), escaped as botocore escapes them.
    #[test]
    fn whatever_botocore_signs_verifies(
        pairs in proptest::collection::vec(
            (
                proptest::collection::vec(any::<u8>(), 1..6),
                proptest::collection::vec(any::<u8>(), 0..6),
            ),
            1..4,
        ),
    ) {
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", canonical_component(k), canonical_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let parts = signed_like_botocore(&query, now);
        let verified = verify(&parts, b"", &identities(), now);
        prop_assert!(verified.is_ok(), "{query}: {verified:?}");

        // One byte of one value changed after signing: refused.
        let changed = query.replacen('=', "=%00", 1);
        let mut moved = parts.clone();
        moved.uri = format!("/domains-list?{changed}").parse().unwrap();
        prop_assert!(verify(&moved, b"", &identities(), now).is_err(), "{changed}");
    }
}
