//! How case values become index terms and sort keys. Every encoding preserves the reference
//! evaluator's semantics (`caseload_domain::search`): equal values share a term, and the byte
//! order of sort keys is the evaluator's value order.

use caseload_domain::search::words;
use caseload_domain::value::Value;
use std::collections::BTreeSet;

/// Separates the parts of a term; it never occurs in field ids, tag keys or words.
pub const SEP: char = '\u{1f}';

/// A double as 16 hex digits whose byte order is `f64::total_cmp` order.
pub fn double_key(d: f64) -> String {
    let bits = d.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    format!("{ordered:016x}")
}

/// The sort key of a value, `None` for a cleared field (which sorts like a missing one).
pub fn sort_key(v: &Value) -> Option<String> {
    match v {
        // DateTime values are canonical `YYYY-MM-DDTHH:MM:SS.sssZ`: string order is time order.
        Value::String(s) | Value::UserArn(s) => Some(s.clone()),
        Value::Double(d) => Some(double_key(*d)),
        Value::Boolean(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        Value::Empty => None,
    }
}

/// The term that equality on `value` looks up. `-0.0 == 0.0`, so both share a term.
pub fn equal_term(field_id: &str, value: &Value) -> Option<String> {
    let repr = match value {
        Value::Double(d) if *d == 0.0 => double_key(0.0),
        other => sort_key(other)?,
    };
    Some(format!("e{SEP}{field_id}{SEP}{repr}"))
}

/// Present for every field that has a value.
pub fn has_term(field_id: &str) -> String {
    format!("h{SEP}{field_id}")
}

pub fn word_prefix(field_id: &str) -> String {
    format!("w{SEP}{field_id}{SEP}")
}

pub fn gram_term(field_id: &str, gram: &str) -> String {
    format!("g{SEP}{field_id}{SEP}{gram}")
}

pub fn tag_key_term(key: &str) -> String {
    format!("t{SEP}{key}")
}

pub fn tag_value_term(key: &str, value: &str) -> String {
    format!("v{SEP}{key}{SEP}{value}")
}

/// The longest substring indexed for `contains`; longer needles are the intersection of their
/// grams of this length, verified against the stored value.
pub const GRAM: usize = 3;

/// All distinct substrings of 1 to `GRAM` characters of the lower-cased text.
pub fn grams(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut out = BTreeSet::new();
    for n in 1..=GRAM {
        for w in chars.windows(n) {
            out.insert(w.iter().collect());
        }
    }
    out
}

/// The grams a `contains` needle requires: itself if short, else its `GRAM`-long windows.
pub fn needle_grams(needle_lower: &str) -> BTreeSet<String> {
    let chars: Vec<char> = needle_lower.chars().collect();
    if chars.len() <= GRAM {
        return BTreeSet::from([needle_lower.to_owned()]);
    }
    chars.windows(GRAM).map(|w| w.iter().collect()).collect()
}

/// Every term a field value contributes.
pub fn value_terms(field_id: &str, value: &Value, out: &mut Vec<String>) {
    if *value == Value::Empty {
        return;
    }
    out.push(has_term(field_id));
    if let Some(t) = equal_term(field_id, value) {
        out.push(t);
    }
    if let Value::String(s) = value {
        let wp = word_prefix(field_id);
        let ws: BTreeSet<String> = words(s).into_iter().collect();
        out.extend(ws.into_iter().map(|w| format!("{wp}{w}")));
        out.extend(grams(s).into_iter().map(|g| gram_term(field_id, &g)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_keys_sort_like_total_cmp() {
        let mut xs = vec![
            -1e300,
            -2.5,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            2.5,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut keys: Vec<String> = xs.iter().map(|x| double_key(*x)).collect();
        xs.sort_by(|a, b| a.total_cmp(b));
        keys.sort();
        assert_eq!(keys, xs.iter().map(|x| double_key(*x)).collect::<Vec<_>>());
        assert_eq!(
            equal_term("n", &Value::Double(-0.0)),
            equal_term("n", &Value::Double(0.0))
        );
    }

    #[test]
    fn grams_cover_short_needles_and_windows_long_ones() {
        let g = grams("Printer ON");
        for needle in ["p", "pr", "pri", "r o", " on"] {
            assert!(
                needle_grams(needle).iter().all(|n| g.contains(n)),
                "{needle}"
            );
        }
        assert_eq!(
            needle_grams("abcd"),
            BTreeSet::from(["abc".to_owned(), "bcd".to_owned()])
        );
    }
}
