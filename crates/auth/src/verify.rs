//! Server-side SigV4 verification: the signature is computed again from exactly what the client
//! says it signed (its SignedHeaders, the request target as received, the body's hash) and
//! compared in constant time. `canonical` builds the canonical request with aws-sigv4's rules,
//! signs it, and keeps the signing keys aws-sigv4 derives.

use std::time::{Duration, SystemTime};

use crate::canonical;
use caseload_model::Error;
use http::request::Parts;
use std::borrow::Cow;
use subtle::ConstantTimeEq;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::identity::CredentialLookup;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "cases";
/// How far a request's X-Amz-Date may be from the server clock, either way (as AWS allows).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
const AMZ_DATE: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

const MISMATCH: &str = "The request signature we calculated does not match the signature you \
provided. Check your AWS Secret Access Key and signing method. Consult the service documentation \
for details.";

/// Who made a verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key_id: String,
    pub account_id: String,
    /// The region from the credential scope: any name shaped like an AWS region is accepted, so
    /// this is what the client believes it is talking to.
    pub region: String,
}

impl Caller {
    pub fn principal_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:user/{}",
            self.account_id, self.access_key_id
        )
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct AuthHeader<'a> {
    access_key_id: &'a str,
    scope_date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn incomplete(msg: impl Into<String>) -> Error {
    Error::IncompleteSignature(msg.into())
}

fn parse_auth_header(value: &str) -> Result<AuthHeader<'_>, Error> {
    let (algorithm, rest) = value.trim().split_once(' ').ok_or_else(|| {
        incomplete(format!(
            "Authorization header must be '{ALGORITHM} Credential=..., SignedHeaders=..., Signature=...'"
        ))
    })?;
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported signing algorithm '{algorithm}'; only {ALGORITHM} is accepted"
        )));
    }

    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        let (key, val) = part.split_once('=').ok_or_else(|| {
            incomplete(format!(
                "Authorization header component '{part}' is not key=value"
            ))
        })?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(incomplete(format!(
                    "Authorization header has unknown component '{key}'"
                )));
            }
        };
        if slot.replace(val).is_some() {
            return Err(incomplete(format!("Authorization header repeats '{key}'")));
        }
    }
    let credential = required(credential, "Credential")?;
    let signed_headers = required(signed_headers, "SignedHeaders")?;
    let signature = required(signature, "Signature")?;

    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, "aws4_request"] = scope[..] else {
        return Err(incomplete(format!(
            "Credential '{credential}' must be '<access key id>/<yyyymmdd>/<region>/{SERVICE}/aws4_request'"
        )));
    };
    if [access_key_id, scope_date, region, service].contains(&"") {
        return Err(incomplete(format!(
            "Credential '{credential}' has an empty scope component"
        )));
    }
    Ok(AuthHeader {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

fn required<'a>(component: Option<&'a str>, key: &str) -> Result<&'a str, Error> {
    component.filter(|c| !c.is_empty()).ok_or_else(|| {
        incomplete(format!(
            "Authorization header requires a non-empty '{key}' component"
        ))
    })
}

/// The value of a signed header as the client sent it, or an error naming it. Multiple values of
/// one header are all signed (aws-sigv4 joins them with ',').
fn header_values<'a>(parts: &'a Parts, name: &str) -> Result<Vec<&'a str>, Error> {
    let mut values = Vec::new();
    for v in parts.headers.get_all(name) {
        values.push(v.to_str().map_err(|_| {
            incomplete(format!(
                "Signed header '{name}' has a value that is not visible ASCII"
            ))
        })?);
    }
    // Over HTTP/2 the host travels as the :authority pseudo-header, which hyper puts in the URI.
    if values.is_empty() && name.eq_ignore_ascii_case("host") {
        values.extend(parts.uri.authority().map(|a| a.as_str()));
    }
    if values.is_empty() {
        return Err(incomplete(format!(
            "Header '{name}' is listed in SignedHeaders but is not in the request"
        )));
    }
    Ok(values)
}

/// Whether `region` has the shape of an AWS region name: `us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `cn-northwest-1`, `us-iso-east-1`, `us-isob-east-1`: a two-letter prefix,
/// one or more lower-case words, a number of one or two digits (`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`).
fn is_region_name(region: &str) -> bool {
    let Some((words, number)) = region.rsplit_once('-') else {
        return false;
    };
    let mut words = words.split('-');
    let prefix_ok = words
        .next()
        .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()));
    let mut rest = words.peekable();
    let has_word = rest.peek().is_some();
    let words_ok = rest.all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
    let number_ok = (1..=2).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    region.len() <= 32 && prefix_ok && has_word && words_ok && number_ok
}

fn format_amz_date(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(AMZ_DATE)
        .unwrap_or_else(|_| "<unrepresentable time>".into())
}

/// Worded like AWS's own answer, so a user who has met clock skew there recognises it here.
fn check_skew(amz_date: &str, signed_at: SystemTime, now: SystemTime) -> Result<(), Error> {
    let expired = |relation: &str, bound: Option<SystemTime>, sign: char| {
        let bound = bound.map(format_amz_date).unwrap_or_default();
        Error::InvalidSignature(format!(
            "Signature expired: {amz_date} is now {relation} than {bound} ({} {sign} 15 min.)",
            format_amz_date(now)
        ))
    };
    match now.duration_since(signed_at) {
        Ok(age) if age > MAX_SKEW => Err(expired("earlier", now.checked_sub(MAX_SKEW), '-')),
        Err(ahead) if ahead.duration() > MAX_SKEW => {
            Err(expired("later", now.checked_add(MAX_SKEW), '+'))
        }
        _ => Ok(()),
    }
}

/// Verify a buffered request. `now` is injectable for tests.
///
/// `parts.uri` must be the request target exactly as received (still percent-encoded): the
/// signature covers the encoded form, so a decoded or re-encoded path will not verify.
pub fn verify(
    parts: &Parts,
    body: &[u8],
    creds: &dyn CredentialLookup,
    now: SystemTime,
) -> Result<Caller, Error> {
    let Some(authorization) = parts.headers.get(http::header::AUTHORIZATION) else {
        return Err(Error::MissingAuthenticationToken(
            "Missing Authentication Token".into(),
        ));
    };
    // Which of two values was signed is ambiguous, and a proxy may keep either one: a request
    // carrying two is malformed, not a choice to make here.
    for name in [http::header::AUTHORIZATION.as_str(), "x-amz-date"] {
        if parts.headers.get_all(name).iter().nth(1).is_some() {
            return Err(incomplete(format!(
                "The request has more than one '{name}' header"
            )));
        }
    }
    let authorization = authorization
        .to_str()
        .map_err(|_| incomplete("Authorization header is not visible ASCII"))?;
    let auth = parse_auth_header(authorization)?;

    // Structural checks come before the key lookup so a malformed request gets the same answer
    // whether or not its key exists.
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .ok_or_else(|| incomplete("Authorization requires the X-Amz-Date header"))?
        .to_str()
        .unwrap_or_default();
    let signed_at = PrimitiveDateTime::parse(amz_date, AMZ_DATE)
        .map(|t| SystemTime::from(t.assume_utc()))
        .map_err(|_| {
            incomplete(format!(
                "X-Amz-Date '{amz_date}' is not in the form yyyymmddThhmmssZ"
            ))
        })?;
    if amz_date.get(..8) != Some(auth.scope_date) {
        return Err(incomplete(format!(
            "Credential scope date '{}' does not match X-Amz-Date '{amz_date}'",
            auth.scope_date
        )));
    }
    if !is_region_name(auth.region) {
        // AWS's answer for a scope naming no region it has. The region goes into ARNs, so it must
        // be one: lower-case words and a number, like every region AWS has.
        return Err(Error::InvalidSignature(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            auth.region.escape_default()
        )));
    }
    if auth.service != SERVICE {
        return Err(incomplete(format!(
            "Credential should be scoped to service '{SERVICE}', not '{}'",
            auth.service
        )));
    }
    for required in ["host", "x-amz-date"] {
        if !auth.signed_headers.contains(&required) {
            return Err(incomplete(format!(
                "SignedHeaders must include '{required}'"
            )));
        }
    }
    // Names as the canonical request has them (lower case); the client's list is the authority
    // on which headers were signed, whatever the signer's usual exclusions.
    let mut headers: Vec<(Cow<'_, str>, &str)> = Vec::new();
    for &name in &auth.signed_headers {
        let name: Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            name.to_ascii_lowercase().into()
        } else {
            name.into()
        };
        if name == "x-amz-date" {
            // The date the signature is checked against is the one parsed above.
            headers.push((name, amz_date));
            continue;
        }
        for value in header_values(parts, &name)? {
            headers.push((name.clone(), value));
        }
    }
    let claimed_hash = parts
        .headers
        .get("x-amz-content-sha256")
        .map(|v| v.to_str().unwrap_or_default());
    if claimed_hash.is_some_and(|h| h.starts_with("STREAMING-")) {
        // Chunk-signed payloads are an S3 feature; Cases bodies are small JSON documents.
        return Err(incomplete(
            "Streaming (chunk-signed) payloads are not supported",
        ));
    }

    let identity = creds.lookup(auth.access_key_id).ok_or_else(|| {
        Error::UnrecognizedClient("The security token included in the request is invalid.".into())
    })?;
    check_skew(amz_date, signed_at, now)?;

    // The header is only a claim about the body. If it were trusted as is, someone replaying a
    // signed request could swap the body while keeping the signature valid.
    let body_hash = canonical::sha256_hex(body);
    if let Some(claimed) = claimed_hash
        && claimed != body_hash
    {
        return Err(Error::InvalidSignature(format!(
            "The x-amz-content-sha256 header ({claimed}) does not match the SHA-256 of the request \
             body ({body_hash}); caseload only accepts signed payloads"
        )));
    }

    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let canonical_request =
        canonical::canonical_request(parts.method.as_str(), path_and_query, &headers, &body_hash);
    let string_to_sign = canonical::string_to_sign(
        amz_date,
        auth.scope_date,
        auth.region,
        SERVICE,
        &canonical_request,
    );
    let key = canonical::signing_key(
        &identity.secret_access_key,
        signed_at,
        auth.scope_date,
        auth.region,
        SERVICE,
    );
    let expected = canonical::signature(&key, &string_to_sign);

    if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        return Err(Error::InvalidSignature(MISMATCH.into()));
    }
    Ok(Caller {
        access_key_id: identity.access_key_id,
        account_id: identity.account_id,
        region: auth.region.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::is_region_name;

    #[test]
    fn region_names_have_aws_shape() {
        for ok in [
            "us-east-1",
            "eu-west-2",
            "ap-southeast-5",
            "eu-central-2",
            "us-gov-west-1",
            "cn-northwest-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "il-central-1",
            "mx-central-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        let long = format!("us-{}-1", "a".repeat(300));
        for bad in [
            "",
            "a:b:c",
            "<script>",
            "us-east-1 ",
            " us-east-1",
            "US-EAST-1",
            "us-east",
            "us-1",
            "use-east-1",
            "u-east-1",
            "us--east-1",
            "us-east-123",
            "us-east-1a",
            "us-east-",
            "us_east_1",
            "us-east-1\n",
            "aws-global",
            long.as_str(),
        ] {
            assert!(!is_region_name(bad), "{bad:?}");
        }
    }
}
