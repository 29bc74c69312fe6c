//! The SigV4 canonical request of a request as received, and signing keys, cached.
//!
//! aws-sigv4 (the signer of the Rust SDK) can recompute a signature from a request, but only
//! through its signer, which derives the signing key again every time (four HMACs) and builds the
//! canonical request through a header map and several intermediate strings: together about a
//! tenth of the server's CPU time per GetCase. This module builds the same canonical request
//! directly from the received request, with exactly aws-sigv4's rules (double percent-encoding of
//! the path after removing dot segments, the query decoded as a form and re-encoded, sorted,
//! header values trimmed), and keeps each derived signing key for the day it is valid. Keys are
//! derived by aws-sigv4, and a property test checks every signature this module computes against
//! aws-sigv4's signer (`tests/canonical_matches_aws_sigv4.rs`).

use percent_encoding::{AsciiSet, CONTROLS, percent_decode, percent_encode, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::SystemTime;

/// What aws-smithy-http encodes in a query key or value: everything but RFC 3986's unreserved
/// characters.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'/')
    .add(b':')
    .add(b',')
    .add(b'?')
    .add(b'#')
    .add(b'[')
    .add(b']')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'@')
    .add(b'!')
    .add(b'$')
    .add(b'&')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b';')
    .add(b'=')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'"')
    .add(b'^')
    .add(b'`')
    .add(b'\\');
/// A path is encoded like a query value except that `/` separates segments.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// The canonical request: method, canonical URI, canonical query, the signed headers with their
/// values, the list of their names, and the payload hash, one per line.
///
/// `headers` are the signed headers as (lower-case name, value) pairs in the order received;
/// several values of one name are joined with `,`.
pub(crate) fn canonical_request<N: AsRef<str>>(
    method: &str,
    path_and_query: &str,
    headers: &[(N, &str)],
    payload_hash: &str,
) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path_and_query, ""),
    };
    let mut out = String::with_capacity(256 + path_and_query.len() * 2);
    out.push_str(method);
    out.push('\n');
    let _ = write!(out, "{}", utf8_percent_encode(&normalize_path(path), PATH));
    out.push('\n');
    push_query(&mut out, query);
    out.push('\n');

    let mut names: Vec<&str> = headers.iter().map(|(n, _)| n.as_ref()).collect();
    names.sort_unstable();
    names.dedup();
    for name in &names {
        out.push_str(name);
        out.push(':');
        let values = headers.iter().filter(|(n, _)| n.as_ref() == *name);
        for (i, (_, value)) in values.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_trimmed(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// RFC 3986's "remove dot segments", as aws-sigv4 applies it: only when the path has a `.` or
/// an empty segment, which also collapses repeated slashes.
fn normalize_path(path: &str) -> std::borrow::Cow<'_, str> {
    if path.is_empty() {
        return "/".into();
    }
    let path: std::borrow::Cow<'_, str> = if path.starts_with('/') {
        path.into()
    } else {
        format!("/{path}").into()
    };
    if !(path.contains('.') || path.contains("//")) {
        return path;
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut out = format!("/{}", kept.join("/"));
    let ends_with_slash = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|s| path.ends_with(s));
    if ends_with_slash && !out.ends_with('/') {
        out.push('/');
    }
    out.into()
}

/// The query decoded as a form (`+` is a space), each key and value encoded again, pairs sorted.
///
/// Escapes are decoded to bytes and the bytes encoded again, never through text: `%FF` stays
/// `%FF`, as AWS and botocore (which signs the query as sent) have it. A decoding into UTF-8 text
/// first, as `form_urlencoded::parse` does, turns it into `%EF%BF%BD` and refuses a request
/// botocore signed correctly. For escapes of valid UTF-8 both ways agree with aws-sigv4.
fn push_query(out: &mut String, query: &str) {
    if query.is_empty() {
        return;
    }
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(k), reencode(v))
        })
        .collect();
    pairs.sort();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
}

/// One query key or value as the canonical query has it: `+` a space, escapes decoded to bytes,
/// then every byte outside RFC 3986's unreserved set escaped again (upper-case hex).
fn reencode(component: &str) -> String {
    let plus_as_space: Cow<'_, [u8]> = if component.contains('+') {
        component.replace('+', " ").into_bytes().into()
    } else {
        component.as_bytes().into()
    };
    let bytes: Cow<'_, [u8]> = percent_decode(&plus_as_space).into();
    percent_encode(&bytes, QUERY).to_string()
}

/// A header value without leading and trailing spaces, runs of spaces inside made one.
fn push_trimmed(out: &mut String, value: &str) {
    let mut previous_space = false;
    for c in value.trim_matches(' ').chars() {
        if c == ' ' && previous_space {
            continue;
        }
        previous_space = c == ' ';
        out.push(c);
    }
}

/// Lower-case hex of the SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex_string(&Sha256::digest(bytes))
}

fn hex_string(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // `encode_to_slice` writes through a lookup table; `hex::encode` goes char by char.
    let _ = hex::encode_to_slice(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The string to sign for a canonical request made at `amz_date` (`yyyymmddThhmmssZ`) in the
/// scope `date/region/service/aws4_request`.
pub(crate) fn string_to_sign(
    amz_date: &str,
    scope_date: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let hashed = sha256_hex(canonical_request.as_bytes());
    let mut out = String::with_capacity(64 + amz_date.len() + region.len() + hashed.len() + 32);
    for part in [
        "AWS4-HMAC-SHA256\n",
        amz_date,
        "\n",
        scope_date,
        "/",
        region,
        "/",
        service,
        "/aws4_request\n",
        &hashed,
    ] {
        out.push_str(part);
    }
    out
}

/// The signature of `string_to_sign` with a signing key: lower-case hex of its HMAC-SHA256.
pub(crate) fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex_string(&mac.finalize().into_bytes())
}

/// The signing key of `secret` for one day, region and service. Keys are derived once (by
/// aws-sigv4) and kept: a client signs every request of a day with the same one.
pub(crate) fn signing_key(
    secret: &str,
    day: SystemTime,
    scope_date: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    struct Cached {
        secret: String,
        scope_date: String,
        region: String,
        service: String,
        key: [u8; 32],
    }
    /// A server has a handful of identities, each signing in a region or two per day: a short
    /// list compared field by field beats hashing (and allocating) a key per request. Past this
    /// many, the oldest entry makes room.
    const MAX_KEYS: usize = 64;
    static KEYS: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
    let found = |k: &Cached| {
        k.secret == secret
            && k.scope_date == scope_date
            && k.region == region
            && k.service == service
    };
    if let Some(k) = KEYS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|k| found(k))
    {
        return k.key;
    }
    let derived = aws_sigv4::sign::v4::generate_signing_key(secret, day, region, service);
    let mut key = [0u8; 32];
    key.copy_from_slice(derived.as_ref());
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    if !keys.iter().any(found) {
        if keys.len() >= MAX_KEYS {
            keys.remove(0);
        }
        keys.push(Cached {
            secret: secret.to_owned(),
            scope_date: scope_date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            key,
        });
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_hashes_are_aws_sigv4s() {
        let day = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
        let key = signing_key("secret", day, "20260101", "eu-west-2", "cases");
        let derived =
            aws_sigv4::sign::v4::generate_signing_key("secret", day, "eu-west-2", "cases");
        assert_eq!(&key[..], derived.as_ref());
        // Cached keys are told apart by every part of the scope.
        let other = signing_key("secret", day, "20260101", "us-east-1", "cases");
        assert_ne!(key, other);
        assert_eq!(
            signing_key("secret", day, "20260101", "eu-west-2", "cases"),
            key
        );
        assert_eq!(
            signature(&key, "text"),
            aws_sigv4::sign::v4::calculate_signature(key, b"text")
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn dot_segments_and_empty_segments_are_removed() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../a", "/a"),
            ("/a//b", "/a/b"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a/.hidden", "/a/.hidden"),
            ("/a/b/", "/a/b/"),
        ] {
            assert_eq!(normalize_path(path), want, "{path}");
        }
    }

    #[test]
    fn the_canonical_request_has_aws_layout() {
        let c = canonical_request(
            "GET",
            "/tags/arn%3Aaws%3Acases/x y?b=2&a=1+1&a=%7E",
            &[
                ("host", "h:1"),
                ("x-amz-date", "20261126T172150Z"),
                ("x-b", "  two   spaces "),
                ("x-b", "v"),
            ],
            "e3b0",
        );
        assert_eq!(
            c,
            "GET\n/tags/arn%253Aaws%253Acases/x%20y\na=1%201&a=~&b=2\n\
             host:h:1\nx-amz-date:20261126T172150Z\nx-b:two spaces,v\n\n\
             host;x-amz-date;x-b\ne3b0"
        );
    }
}
