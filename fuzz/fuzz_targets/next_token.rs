//! nextToken decoding (`caseload_domain::paging::TokenSigner::read`), on any token, and on real
//! tokens issued for arbitrary keyset positions and then altered.
//!
//! The first byte picks the mode:
//! - `t`: the rest is a token as a client could send it. Reading it must not panic, and it may
//!   only be accepted if it is exactly the token the signer issues for what it decoded to (so
//!   only tokens the server issued are accepted; the corpus holds real ones, which libFuzzer
//!   alters);
//! - anything else: the rest is turned into a query digest and a `Cursor` (the position
//!   SearchCases pages by), which is issued, must read back equal, must be refused for another
//!   query and by another key, and must be refused with any one character changed.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use caseload_domain::paging::TokenSigner;
use caseload_domain::search::Cursor;
use caseload_domain::value::Value;
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzz-token-key";
/// The query the tokens of the corpus were issued for.
const QUERY: &str = "0123456789abcdef01234567";

fn value(u: &mut Unstructured) -> arbitrary::Result<Option<Value>> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => None,
        1 => Some(Value::String(String::arbitrary(u)?)),
        // Stored numbers are finite (JSON has no others), and -0 is stored as 0.
        2 => Some(Value::Double(
            Some(f64::arbitrary(u)?)
                .filter(|d| d.is_finite())
                .unwrap_or(0.0)
                + 0.0,
        )),
        3 => Some(Value::Boolean(bool::arbitrary(u)?)),
        4 => Some(Value::UserArn(String::arbitrary(u)?)),
        _ => Some(Value::Empty),
    })
}

fn cursor(u: &mut Unstructured) -> arbitrary::Result<Cursor> {
    let n = u.int_in_range(0..=3usize)?;
    let sort_values = (0..n).map(|_| value(u)).collect::<arbitrary::Result<_>>()?;
    Ok(Cursor {
        sort_values,
        case_id: String::arbitrary(u)?,
    })
}

fn round_trip(data: &[u8]) -> arbitrary::Result<()> {
    let mut u = Unstructured::new(data);
    let query = String::arbitrary(&mut u)?;
    let position = cursor(&mut u)?;
    let signer = TokenSigner::new(KEY.to_vec());
    let token = signer.issue(&query, &position);
    let read: Cursor = signer
        .read(&query, &token)
        .unwrap_or_else(|e| panic!("an issued token was refused: {e:?}"));
    assert_eq!(read, position);
    let other = format!("{query}.");
    assert!(signer.read::<Cursor>(&other, &token).is_err());
    assert!(
        TokenSigner::new(b"another key".to_vec())
            .read::<Cursor>(&query, &token)
            .is_err()
    );

    // One character changed, anywhere, to anything.
    if token.is_empty() {
        return Ok(());
    }
    let at = u.choose_index(token.len())?;
    let replacement = char::arbitrary(&mut u)?;
    if token.is_char_boundary(at) && !token[at..].starts_with(replacement) {
        let mut altered = token.clone();
        let end = at + altered[at..].chars().next().map_or(0, char::len_utf8);
        altered.replace_range(at..end, replacement.encode_utf8(&mut [0; 4]));
        if let Ok(p) = signer.read::<Cursor>(&query, &altered) {
            panic!("{altered:?}, altered from {token:?}, was accepted as {p:?}");
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((b't', token)) => {
            let Ok(token) = std::str::from_utf8(token) else {
                return;
            };
            let signer = TokenSigner::new(KEY.to_vec());
            if let Ok(position) = signer.read::<Cursor>(QUERY, token) {
                assert_eq!(
                    signer.issue(QUERY, &position),
                    token,
                    "a token the signer did not issue was accepted"
                );
            }
        }
        Some((_, rest)) => {
            let _ = round_trip(rest);
        }
        None => {}
    }
});
