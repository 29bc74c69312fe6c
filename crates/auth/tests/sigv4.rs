//! `verify` against requests captured from real AWS clients (boto3, AWS CLI v1, JS v3, Rust SDK),
//! plus tampered variants of them and a few requests signed here with aws-sigv4.

use std::time::{Duration, SystemTime};

use caseload_auth::{Caller, CredentialLookup, Identities, Identity, verify};
use caseload_model::Error;
use http::request::Parts;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;
use time::macros::format_description;

#[derive(Deserialize, Clone)]
struct Vector {
    method: String,
    /// The request target exactly as the client sent it (percent-encoded, with any query).
    path: String,
    headers: Vec<(String, String)>,
    body: String,
    secret: String,
    client: String,
}

const KEY: &str = "AKIDEXAMPLE";
const ACCOUNT: &str = "123456789012";

fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sigv4-vectors.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // Headers are a JSON object; keep them as pairs so tests can edit them in order.
            let mut raw: serde_json::Value = serde_json::from_str(l).unwrap();
            let headers = raw["headers"].as_object().unwrap().iter();
            let headers = headers.map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()));
            let headers: Vec<(String, String)> = headers.collect();
            raw["headers"] = serde_json::to_value(&headers).unwrap();
            serde_json::from_value(raw).unwrap()
        })
        .collect()
}

impl Vector {
    fn parts(&self) -> Parts {
        let mut builder = http::Request::builder()
            .method(self.method.as_str())
            .uri(self.path.as_str());
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.remove_header(name);
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    fn signed_at(&self) -> SystemTime {
        amz_date(self.header("x-amz-date").unwrap())
    }

    fn identities(&self) -> Identities {
        identities(KEY, &self.secret)
    }

    fn verify_at(&self, now: SystemTime) -> Result<Caller, Error> {
        verify(&self.parts(), self.body.as_bytes(), &self.identities(), now)
    }

    fn verify(&self) -> Result<Caller, Error> {
        self.verify_at(self.signed_at())
    }
}

fn amz_date(s: &str) -> SystemTime {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, format)
        .unwrap()
        .assume_utc()
        .into()
}

fn identities(key: &str, secret: &str) -> Identities {
    let toml = format!(
        "[[identity]]\naccess_key_id = {key:?}\nsecret_access_key = {secret:?}\naccount_id = {ACCOUNT:?}\n"
    );
    Identities::from_toml_str(&toml).unwrap()
}

fn expect_err(result: Result<Caller, Error>) -> Error {
    match result {
        Ok(caller) => panic!("verified unexpectedly as {caller:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_invalid_signature(v: &Vector, result: Result<Caller, Error>) -> String {
    match expect_err(result) {
        Error::InvalidSignature(m) => m,
        other => panic!(
            "{} {}: expected InvalidSignature, got {other:?}",
            v.client, v.path
        ),
    }
}

#[track_caller]
fn assert_incomplete(result: Result<Caller, Error>, needle: &str) {
    match expect_err(result) {
        Error::IncompleteSignature(m) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected IncompleteSignature, got {other:?}"),
    }
}

fn by_client(client: &str) -> Vector {
    vectors().into_iter().find(|v| v.client == client).unwrap()
}

#[test]
fn every_captured_request_verifies() {
    let vs = vectors();
    assert_eq!(vs.len(), 11);
    for client in ["boto3", "awscli-v1", "js-v3", "rust-sdk"] {
        assert!(vs.iter().any(|v| v.client == client), "no {client} vector");
    }
    for v in &vs {
        let caller = v
            .verify()
            .unwrap_or_else(|e| panic!("{} {}: {e:?}", v.client, v.path));
        let expected = Caller {
            access_key_id: KEY.into(),
            account_id: ACCOUNT.into(),
            region: "us-east-1".into(),
        };
        assert_eq!(caller, expected);
        assert_eq!(
            caller.principal_arn(),
            "arn:aws:iam::123456789012:user/AKIDEXAMPLE"
        );
    }
}

#[test]
fn one_changed_body_byte_is_rejected() {
    for mut v in vectors().into_iter().filter(|v| !v.body.is_empty()) {
        v.body = v.body.replacen('e', "f", 1);
        assert_invalid_signature(&v, v.verify());
    }
}

#[test]
fn changed_path_or_query_is_rejected() {
    for v in vectors() {
        let (path, query) = v.path.split_once('?').unwrap_or((&v.path, ""));
        let mut changed = vec![format!("{path}x"), v.path.replace("d-123", "d-124")];
        if !query.is_empty() {
            changed.push(format!(
                "{path}?{}",
                query.replace("maxResults=2", "maxResults=3")
            ));
            changed.push(path.to_owned());
        }
        for changed in changed.into_iter().filter(|p| *p != v.path) {
            let v = Vector {
                path: changed,
                ..v.clone()
            };
            assert_invalid_signature(&v, v.verify());
        }
    }
    // The signature covers the encoded path: the same ARN sent decoded is a different request.
    let mut v = vectors()
        .into_iter()
        .find(|v| v.path.starts_with("/tags/"))
        .unwrap();
    v.path = v.path.replace("%3A", ":");
    assert_invalid_signature(&v, v.verify());
}

#[test]
fn changed_signed_header_is_rejected_but_unsigned_is_not() {
    let mut v = by_client("boto3");
    v.set_header("Content-Type", "application/x-amz-json-1.1");
    assert_invalid_signature(&v, v.verify());

    // Proxies add and rewrite headers the client never signed.
    let mut v = by_client("boto3");
    v.set_header("User-Agent", "something else");
    v.set_header("X-Forwarded-For", "10.0.0.1");
    v.verify().unwrap();
}

#[test]
fn wrong_secret_is_rejected() {
    for v in vectors() {
        let wrong = identities(KEY, "not-the-secret");
        let result = verify(&v.parts(), v.body.as_bytes(), &wrong, v.signed_at());
        let message = assert_invalid_signature(&v, result);
        assert!(message.starts_with("The request signature we calculated does not match"));
    }
}

#[test]
fn unknown_access_key_is_unrecognized() {
    for v in vectors() {
        let other = identities("AKIDSOMEONEELSE", &v.secret);
        let result = verify(&v.parts(), v.body.as_bytes(), &other, v.signed_at());
        match expect_err(result) {
            Error::UnrecognizedClient(m) => {
                assert_eq!(m, "The security token included in the request is invalid.")
            }
            other => panic!("expected UnrecognizedClient, got {other:?}"),
        }
    }
}

#[test]
fn missing_authorization_is_missing_token() {
    let mut v = by_client("rust-sdk");
    v.remove_header("authorization");
    match expect_err(v.verify()) {
        Error::MissingAuthenticationToken(m) => assert_eq!(m, "Missing Authentication Token"),
        other => panic!("expected MissingAuthenticationToken, got {other:?}"),
    }
}

#[test]
fn clock_skew_beyond_15_minutes_is_expired() {
    let min = |m: u64| Duration::from_secs(60 * m);
    for v in vectors() {
        let t = v.signed_at();
        for ok in [t + min(14), t - min(14), t + min(15), t - min(15)] {
            v.verify_at(ok).unwrap();
        }
        for late in [t + min(16), t - min(16)] {
            let message = assert_invalid_signature(&v, v.verify_at(late));
            assert!(message.starts_with("Signature expired: "), "{message}");
        }
    }

    let v = by_client("boto3"); // signed at 20261126T172150Z
    let now = v.signed_at() + min(16);
    assert_eq!(
        assert_invalid_signature(&v, v.verify_at(now)),
        "Signature expired: 20261126T172150Z is now earlier than 20261126T172250Z \
         (20261126T173750Z - 15 min.)"
    );
    let now = v.signed_at() - min(16);
    assert_eq!(
        assert_invalid_signature(&v, v.verify_at(now)),
        "Signature expired: 20261126T172150Z is now later than 20261126T172050Z \
         (20261126T170550Z + 15 min.)"
    );
}

#[test]
fn content_sha256_header_must_match_body() {
    let original = by_client("js-v3");
    assert!(original.header("x-amz-content-sha256").is_some());

    // Header tampered, body intact: the claim is checked against the body before anything else.
    let mut v = original.clone();
    v.set_header("x-amz-content-sha256", &hex::encode(Sha256::digest(b"{}")));
    let message = assert_invalid_signature(&v, v.verify());
    assert!(message.contains("x-amz-content-sha256"), "{message}");

    // Body swapped and the header made consistent with it: the signature covers the header.
    let mut v = original.clone();
    v.body = r#"{"templateId":"evil"}"#.into();
    v.set_header(
        "x-amz-content-sha256",
        &hex::encode(Sha256::digest(v.body.as_bytes())),
    );
    let message = assert_invalid_signature(&v, v.verify());
    assert!(
        message.starts_with("The request signature we calculated"),
        "{message}"
    );

    // Unsigned payloads are a claim we cannot check.
    let mut v = original;
    v.set_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    assert_invalid_signature(&v, v.verify());
}

/// Replaces the Authorization header of the Rust SDK vector with one edited by `edit`.
fn with_authorization(edit: impl Fn(&str) -> String) -> Vector {
    let mut v = by_client("rust-sdk");
    let auth = edit(v.header("authorization").unwrap());
    v.set_header("authorization", &auth);
    v
}

#[test]
fn malformed_requests_are_incomplete_signatures() {
    let v = with_authorization(|_| "Bearer abc".into());
    assert_incomplete(v.verify(), "Bearer");
    let v = with_authorization(|a| a.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"));
    assert_incomplete(v.verify(), "algorithm");
    let v = with_authorization(|a| a.replace(", Signature=", ", Sig="));
    assert_incomplete(v.verify(), "Sig");
    let v = with_authorization(|a| a.split(", Signature=").next().unwrap().to_owned());
    assert_incomplete(v.verify(), "Signature");
    let v = with_authorization(|a| a.replace("/aws4_request", ""));
    assert_incomplete(v.verify(), "Credential");
    let v = with_authorization(|a| a.replace("/20261126/", "/20261125/"));
    assert_incomplete(v.verify(), "X-Amz-Date");
    let v = with_authorization(|a| a.replace("/cases/", "/s3/"));
    assert_incomplete(v.verify(), "service");
    let v = with_authorization(|a| a.replace("host;", ""));
    assert_incomplete(v.verify(), "'host'");
    let v = with_authorization(|a| a.replace(";x-amz-date", ""));
    assert_incomplete(v.verify(), "'x-amz-date'");

    let mut v = by_client("rust-sdk");
    let now = v.signed_at();
    v.remove_header("x-amz-date");
    assert_incomplete(v.verify_at(now), "X-Amz-Date");
    v.set_header("x-amz-date", "2026-11-26T17:32:59Z");
    assert_incomplete(v.verify_at(now), "X-Amz-Date");
    let mut v = by_client("rust-sdk");
    v.remove_header("content-type");
    assert_incomplete(v.verify(), "content-type");
    let mut v = by_client("js-v3");
    v.set_header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    assert_incomplete(v.verify(), "Streaming");
}

/// Signs a request here the way the Rust SDK does, for cases no captured vector covers.
fn sign(
    uri: &str,
    host: Option<&str>,
    key: &str,
    secret: &str,
    region: &str,
) -> (Parts, SystemTime) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    let now = amz_date("20261126T120000Z");
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(key, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("cases")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut request = http::Request::builder().method("GET").uri(uri);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let mut request = request.body(()).unwrap();
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let signable = SignableRequest::new("GET", uri, headers, SignableBody::Bytes(b"")).unwrap();
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params)
        .unwrap()
        .into_parts();
    instructions.apply_to_request_http1x(&mut request);
    (request.into_parts().0, now)
}

#[test]
fn any_region_and_the_default_identity() {
    let (parts, now) = sign(
        "/domains/d-1",
        Some("localhost:8099"),
        "test",
        "test",
        "eu-west-2",
    );
    let caller = verify(&parts, b"", &Identities::default_test(), now).unwrap();
    assert_eq!(
        caller,
        Caller {
            access_key_id: "test".into(),
            account_id: "000000000000".into(),
            region: "eu-west-2".into()
        }
    );
    assert_eq!(
        caller.principal_arn(),
        "arn:aws:iam::000000000000:user/test"
    );
}

#[test]
fn host_may_come_from_the_uri_authority() {
    // HTTP/2 carries the host as :authority, which arrives in the URI rather than a Host header.
    let (parts, now) = sign(
        "http://localhost:8099/domains/d-1",
        None,
        "test",
        "test",
        "us-east-1",
    );
    assert!(parts.headers.get("host").is_none());
    verify(&parts, b"", &Identities::default_test(), now).unwrap();
}

#[test]
fn lookup_is_pluggable() {
    struct One;
    impl CredentialLookup for One {
        fn lookup(&self, access_key_id: &str) -> Option<Identity> {
            (access_key_id == KEY).then(|| Identity {
                access_key_id: KEY.into(),
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
                account_id: "999999999999".into(),
            })
        }
    }
    let v = by_client("js-v3");
    let caller = verify(&v.parts(), v.body.as_bytes(), &One, v.signed_at()).unwrap();
    assert_eq!(caller.account_id, "999999999999");
}

#[test]
fn the_scope_must_name_a_region_shaped_like_aws_ones() {
    let long = format!("us-{}-1", "x".repeat(300));
    for region in [
        "a:b:c",
        "<script>",
        "us-east-1 ",
        "US-EAST-1",
        long.as_str(),
    ] {
        // Correctly signed for that scope: only the region's shape is wrong.
        let (parts, now) = sign(
            "/domains/d-1",
            Some("localhost:8099"),
            "test",
            "test",
            region,
        );
        match expect_err(verify(&parts, b"", &Identities::default_test(), now)) {
            Error::InvalidSignature(m) => {
                assert!(m.contains("scoped to a valid region"), "{region}: {m}")
            }
            other => panic!("{region}: expected InvalidSignature, got {other:?}"),
        }
    }
    for region in [
        "us-gov-west-1",
        "cn-north-1",
        "us-isob-east-1",
        "ap-southeast-5",
    ] {
        let (parts, now) = sign(
            "/domains/d-1",
            Some("localhost:8099"),
            "test",
            "test",
            region,
        );
        let caller = verify(&parts, b"", &Identities::default_test(), now).unwrap();
        assert_eq!(caller.region, region);
    }
}

#[test]
fn a_repeated_authorization_or_date_header_is_refused() {
    for name in ["Authorization", "X-Amz-Date"] {
        let mut v = by_client("rust-sdk");
        let value = v.header(name).unwrap().to_owned();
        // Even the same value twice: which one was signed is not the server's guess to make.
        v.headers.push((name.to_owned(), value));
        assert_incomplete(v.verify(), "more than one");
    }
}
