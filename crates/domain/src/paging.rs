//! Pagination tokens: opaque to clients, tamper-evident (HMAC-signed with a secret that survives
//! restarts), and bound to the request that issued them, so a token replayed with a different
//! query, or altered, is refused instead of silently paging through something else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caseload_model::Error;
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Where a request's page starts and how long it may be: its `maxResults` and `nextToken`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PageRequest<'a> {
    pub max_results: Option<i32>,
    pub next_token: Option<&'a str>,
}

impl<'a> PageRequest<'a> {
    pub fn new(max_results: Option<i32>, next_token: Option<&'a String>) -> PageRequest<'a> {
        PageRequest {
            max_results,
            next_token: next_token.map(String::as_str),
        }
    }
}

#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

/// A digest of the parts of a request that a token is bound to.
pub fn query_digest(parts: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(parts).unwrap_or_default();
    hex(&Sha256::digest(&bytes)[..12])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TokenSigner {
    pub fn new(key: Vec<u8>) -> Self {
        TokenSigner { key }
    }

    /// Issues a token carrying `position` for the query whose digest is `query`.
    pub fn issue<P: Serialize>(&self, query: &str, position: &P) -> String {
        let payload = serde_json::to_vec(&(query, position)).unwrap_or_default();
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(&payload);
        let mut out = payload;
        out.extend_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Reads back the position from a token issued for `query`.
    pub fn read<P: DeserializeOwned>(&self, query: &str, token: &str) -> Result<P, Error> {
        let invalid = || {
            Error::validation(
                "The nextToken is not valid for this request: it was altered or issued for a different query",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        if raw.len() < 32 {
            return Err(invalid());
        }
        let (payload, sig) = raw.split_at(raw.len() - 32);
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(payload);
        mac.verify_slice(sig).map_err(|_| invalid())?;
        let (q, position): (String, P) = serde_json::from_slice(payload).map_err(|_| invalid())?;
        if q != query {
            return Err(invalid());
        }
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_and_tamper_evident() {
        let s = TokenSigner::new(b"k".to_vec());
        let t = s.issue("q1", &"after-this");
        assert_eq!(s.read::<String>("q1", &t).unwrap(), "after-this");
        assert!(s.read::<String>("q2", &t).is_err());
        let mut bad = t.clone();
        bad.replace_range(2..3, if &t[2..3] == "A" { "B" } else { "A" });
        assert!(s.read::<String>("q1", &bad).is_err());
        assert!(
            TokenSigner::new(b"other".to_vec())
                .read::<String>("q1", &t)
                .is_err()
        );
        assert!(s.read::<String>("q1", "garbage!").is_err());
    }

    /// A keyset position holds the last case's sort values; a Number must come back with the
    /// very bits it had, or the next page starts before or after the right case. serde_json's
    /// default float parser rounds some values to a neighbour (found by `fuzz/next_token`).
    #[test]
    fn numbers_in_positions_read_back_exactly() {
        use crate::search::Cursor;
        use crate::value::Value;
        let s = TokenSigner::new(b"k".to_vec());
        for d in [
            1.1306281999543241e-302,
            0.1,
            1e9,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let position = Cursor {
                sort_values: vec![Some(Value::Double(d))],
                case_id: "c".into(),
            };
            let read: Cursor = s.read("q", &s.issue("q", &position)).unwrap();
            assert_eq!(read.sort_values[0], Some(Value::Double(d)), "{d:e}");
        }
    }
}
