//! The verifier builds canonical requests itself (for speed); aws-sigv4, the Rust SDK's signer,
//! is the oracle. Random requests (dot segments, repeated slashes, escapes and reserved
//! characters in paths, form-encoded queries with repeated keys, `+` and bare `%`, headers with
//! runs of spaces and several values, any body) are signed by aws-sigv4 as a client would sign
//! them, and every one must verify; the same request changed after signing must not.

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use caseload_auth::{Identities, verify};
use proptest::prelude::*;
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn whatever_aws_sigv4_signs_verifies(c in case()) {
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
