//! Any request through the SigV4 verifier, with aws-sigv4 (the Rust SDK's signer) as the oracle.
//!
//! The input is a secret on the first line, then an HTTP/1 request as text (see
//! `caseload_fuzz::RawRequest`). Properties:
//! - nothing panics;
//! - soundness: when `verify` accepts the request (its date taken as the present), aws-sigv4,
//!   signing the same method, target, body and exactly the headers the request says it signed,
//!   at its date, in its region, computes the very signature the request carries. So a signed
//!   request altered in any way the signature covers (the corpus holds real SDK requests, which
//!   libFuzzer alters) is refused unless the alteration leaves the canonical request as it was;
//! - completeness: the same request, stripped of its signature and signed by aws-sigv4 as an SDK
//!   would sign it, verifies.
//!
//! Both properties leave out queries whose escapes decode to bytes that are not UTF-8 (`%FF`):
//! aws-sigv4 turns those into U+FFFD before signing, while botocore and AWS sign the bytes as
//! sent, and so does `verify`. There aws-sigv4 is no oracle; `crates/auth/tests` checks those
//! queries against a signer that keeps the bytes, as botocore does.
#![no_main]

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use caseload_auth::{CredentialLookup, Identity, verify};
use caseload_fuzz::RawRequest;
use libfuzzer_sys::fuzz_target;
use std::time::SystemTime;
use time::PrimitiveDateTime;
use time::macros::format_description;

/// Every access key has the input's secret.
struct Secret(String);

impl CredentialLookup for Secret {
    fn lookup(&self, access_key_id: &str) -> Option<Identity> {
        Some(Identity {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: self.0.clone(),
            account_id: "123456789012".into(),
        })
    }
}

fn amz_date(s: &str) -> Option<SystemTime> {
    let f = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, f)
        .ok()
        .map(|t| t.assume_utc().into())
}

/// aws-sigv4's signature of the request over `headers`, at `at`, in `region`; `None` when it
/// cannot sign it at all.
fn aws_signature(
    parts: &http::request::Parts,
    headers: &[(&str, &str)],
    body: &[u8],
    secret: &str,
    region: &str,
    at: SystemTime,
) -> Option<(String, aws_sigv4::http_request::SigningInstructions)> {
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new("AKIDFUZZ", secret, None, None, "fuzz").into();
    let mut settings = SigningSettings::default();
    // Sign every header given: the caller chooses them.
    settings.excluded_headers = None;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("cases")
        .time(at)
        .settings(settings)
        .build()
        .ok()?
        .into();
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let signable = SignableRequest::new(
        parts.method.as_str(),
        target,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .ok()?;
    let (instructions, signature) = sign(signable, &params).ok()?.into_parts();
    Some((signature, instructions))
}

/// Whether every escape of the query decodes to UTF-8 (see the module comment).
fn query_is_utf8(parts: &http::request::Parts) -> bool {
    let q = parts.uri.query().unwrap_or("").as_bytes();
    let mut bytes = Vec::with_capacity(q.len());
    let mut i = 0;
    while i < q.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            q[i],
            q.get(i + 1).copied().and_then(hex),
            q.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&bytes).is_ok()
}

/// The `name=value` components of an Authorization header.
fn component<'a>(authorization: &'a str, key: &str) -> Option<&'a str> {
    let (_, rest) = authorization.trim().split_once(' ')?;
    rest.split(',').map(str::trim).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k == key).then_some(v)
    })
}

fn soundness(parts: &http::request::Parts, body: &[u8], secret: &str) {
    let Some(date) = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let Some(now) = amz_date(date) else { return };
    if verify(parts, body, &Secret(secret.to_owned()), now).is_err() {
        return;
    }
    let authorization = parts.headers[http::header::AUTHORIZATION].to_str().unwrap();
    let credential = component(authorization, "Credential").unwrap();
    let region = credential.split('/').nth(2).unwrap();
    let signature = component(authorization, "Signature").unwrap();
    let mut names: Vec<String> = component(authorization, "SignedHeaders")
        .unwrap()
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    names.sort();
    names.dedup();
    // aws-sigv4 adds X-Amz-Date itself, from the time it signs at.
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in names.iter().filter(|n| *n != "x-amz-date") {
        let values: Vec<&str> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        if values.is_empty() && name == "host" {
            headers.extend(parts.uri.authority().map(|a| ("host", a.as_str())));
        }
        headers.extend(values.into_iter().map(|v| (name.as_str(), v)));
    }
    // What aws-sigv4 cannot sign, no SDK sends; nothing to compare with.
    let Some((expected, _)) = aws_signature(parts, &headers, body, secret, region, now) else {
        return;
    };
    assert_eq!(
        signature, expected,
        "verify accepted a request whose canonical form aws-sigv4 signs differently"
    );
}

fn completeness(parts: &http::request::Parts, body: &[u8], secret: &str) {
    let mut request = http::Request::from_parts(parts.clone(), ());
    let h = request.headers_mut();
    for name in [
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ] {
        h.remove(name);
    }
    // Values that are not visible ASCII are refused before any signature is looked at; SDKs do
    // not send them.
    let opaque: Vec<http::HeaderName> = h
        .iter()
        .filter(|(_, v)| v.to_str().is_err())
        .map(|(k, _)| k.clone())
        .collect();
    for name in opaque {
        h.remove(name);
    }
    // aws-sigv4 is given the path and query only (the part `verify` reads), so the host goes in
    // a header, as HTTP/1 carries it.
    if !h.contains_key("host") {
        let host = request
            .uri()
            .authority()
            .map_or("127.0.0.1:8099", |a| a.as_str());
        let Ok(host) = http::HeaderValue::from_str(host) else {
            return;
        };
        request.headers_mut().insert("host", host);
    }
    let (parts, _) = request.into_parts();
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
        .collect();
    let at = amz_date("20261126T172150Z").unwrap();
    let Some((_, instructions)) = aws_signature(&parts, &headers, body, secret, "us-east-1", at)
    else {
        return;
    };
    let mut request = http::Request::from_parts(parts.clone(), ());
    instructions.apply_to_request_http1x(&mut request);
    let (parts, _) = request.into_parts();
    if let Err(e) = verify(&parts, body, &Secret(secret.to_owned()), at) {
        panic!("a request aws-sigv4 signed was refused: {e:?}\n{parts:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let (secret, request) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => return,
    };
    let Ok(secret) = std::str::from_utf8(secret) else {
        return;
    };
    if secret.is_empty() {
        return;
    }
    let raw = RawRequest::parse(request);
    let Some(parts) = raw.to_parts() else { return };
    if !query_is_utf8(&parts) {
        return;
    }
    soundness(&parts, raw.body, secret);
    completeness(&parts, raw.body, secret);
});
