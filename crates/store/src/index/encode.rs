//! How case values become index terms and sort keys. Every encoding preserves the reference
//! evaluator's semantics (`caseload_domain::search`): equal values share a term, and the byte
//! order of sort keys is the evaluator's value order.

use caseload_domain::value::Value;
use caseload_model::shapes::FieldType;
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

/// Present where a Text value was indexed without grams because its field has few distinct
/// values (see `TermUse::FewValued`).
pub fn few_term(field_id: &str) -> String {
    format!("n{SEP}{field_id}")
}

pub fn tag_key_term(key: &str) -> String {
    format!("t{SEP}{key}")
}

pub fn tag_value_term(key: &str, value: &str) -> String {
    format!("v{SEP}{key}{SEP}{value}")
}

/// The length of the substrings indexed for `contains` (n-grams). Every `GRAM`-character window
/// starting at each character of the lower-cased text is indexed, the text padded at its end
/// with `GRAM - 1` `PAD`s: a needle of up to `GRAM` characters then occurs exactly when some
/// gram starts with it, and a longer needle only where all its windows occur (candidates,
/// verified against the stored value). Indexing only full-length grams, rather than every
/// substring of 1 to `GRAM` characters, halves a text's gram terms, and the 1- and 2-character
/// grams it drops are the ones with the longest postings.
pub const GRAM: usize = 3;

/// Pads grams at the end of a text; a needle containing it is always verified.
pub const PAD: char = SEP;

/// All grams of a text (see `GRAM`).
pub fn grams(text: &str) -> BTreeSet<String> {
    let mut chars: Vec<char> = text.to_lowercase().chars().collect();
    let n = chars.len();
    chars.extend([PAD; GRAM - 1]);
    (0..n)
        .map(|i| chars[i..i + GRAM].iter().collect())
        .collect()
}

/// What a `contains` needle (lower-cased, not empty) is looked up by in a field's grams.
#[derive(Debug, PartialEq, Eq)]
pub enum NeedleGrams {
    /// Up to `GRAM` characters: the grams starting with the needle.
    Prefix(String),
    /// Longer: its `GRAM`-character windows, all of which a match has.
    All(BTreeSet<String>),
}

pub fn needle_grams(needle_lower: &str) -> NeedleGrams {
    let chars: Vec<char> = needle_lower.chars().collect();
    if chars.len() <= GRAM {
        return NeedleGrams::Prefix(needle_lower.to_owned());
    }
    NeedleGrams::All(chars.windows(GRAM).map(|w| w.iter().collect()).collect())
}

/// Which terms a field's values need, from the field's type. Only what some query can use is
/// indexed: `contains` applies to Text and Url, `searchTerm` reads Text, Url and SingleSelect
/// (`CaseQuery::term_fields`), and every type has equality, presence and a sort key. Dropping
/// the words and grams of DateTime values (ISO timestamps) and the grams of SingleSelect values
/// removes about a fifth of a typical case's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermUse {
    /// Text and Url, and fields whose type is unknown (indexing too much is always correct).
    WordsAndGrams,
    /// A Text or Url value of a field with few distinct values (a queue ARN, a category): the
    /// `few_term` marker instead of words and grams. `contains` and `searchTerm` check the
    /// field's distinct values in a segment once each instead: the words and grams of a
    /// 100-character ARN were a third of a typical case's terms, repeated in every case of its
    /// queue.
    FewValued,
    /// SingleSelect: found by `searchTerm`, never by `contains`.
    Words,
    /// Number, Boolean, User: equality, presence and ranges only.
    Exact,
    /// DateTime: presence only. Equality, like ranges, is answered from the sort column (see
    /// `query`): a timestamp is nearly unique to its case, and the term dictionary's entry per
    /// distinct term was a tenth of an import's CPU.
    Sorted,
}

impl TermUse {
    pub fn of(t: Option<FieldType>) -> TermUse {
        match t {
            None | Some(FieldType::Text | FieldType::Url) => TermUse::WordsAndGrams,
            Some(FieldType::SingleSelect) => TermUse::Words,
            Some(FieldType::DateTime) => TermUse::Sorted,
            Some(_) => TermUse::Exact,
        }
    }
}

/// Buffers reused from one value to the next, so that building a document's ~1,000 terms costs
/// no heap allocation per term: terms are written into `term` and handed out as `&str` (the
/// Tantivy document copies them into its own buffer).
#[derive(Default)]
pub struct Scratch {
    term: String,
    lower: String,
    /// (start, end) byte ranges of words or grams in `lower`, sorted to drop duplicates.
    spans: Vec<(usize, usize)>,
    /// ASCII grams packed into integers (see `ascii_grams`).
    keys: Vec<u32>,
    bounds: Vec<usize>,
}

impl Scratch {
    fn emit_spans(&mut self, prefix: impl Fn(&mut String), emit: &mut impl FnMut(&str)) {
        let lower = &self.lower;
        self.spans
            .sort_unstable_by(|a, b| lower[a.0..a.1].cmp(&lower[b.0..b.1]));
        self.spans
            .dedup_by(|a, b| lower[a.0..a.1] == lower[b.0..b.1]);
        for &(from, to) in &self.spans {
            self.term.clear();
            prefix(&mut self.term);
            self.term.push_str(&lower[from..to]);
            emit(&self.term);
        }
    }
}

/// Every term a field value contributes, handed to `emit` (distinct within the value).
pub fn value_terms(
    field_id: &str,
    used: TermUse,
    value: &Value,
    scratch: &mut Scratch,
    emit: &mut impl FnMut(&str),
) {
    if *value == Value::Empty {
        return;
    }
    emit(&has_term(field_id));
    if used == TermUse::Sorted {
        return;
    }
    if let Some(t) = equal_term(field_id, value) {
        emit(&t);
    }
    let Value::String(s) = value else { return };
    if used == TermUse::Exact {
        return;
    }
    if used == TermUse::FewValued {
        return emit(&few_term(field_id));
    }
    // Words: exactly `search::words` (each run of alphanumerics lower-cased on its own, which
    // is not always the same as lower-casing the whole text first: final sigma).
    scratch.lower.clear();
    scratch.spans.clear();
    for run in s.split(|c: char| !c.is_alphanumeric()) {
        if run.is_empty() {
            continue;
        }
        let from = scratch.lower.len();
        if run.is_ascii() {
            scratch
                .lower
                .extend(run.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            scratch.lower.push_str(&run.to_lowercase());
        }
        scratch.spans.push((from, scratch.lower.len()));
    }
    scratch.emit_spans(
        |t| {
            t.push('w');
            t.push(SEP);
            t.push_str(field_id);
            t.push(SEP);
        },
        emit,
    );
    if matches!(used, TermUse::Words | TermUse::FewValued) {
        return;
    }
    // Grams: the GRAM-character windows of the padded, lower-cased text, as `grams` computes.
    if s.is_ascii() {
        return ascii_grams(field_id, s.as_bytes(), scratch, emit);
    }
    scratch.lower.clear();
    scratch.spans.clear();
    scratch.bounds.clear();
    scratch.lower.push_str(&s.to_lowercase());
    scratch
        .bounds
        .extend(scratch.lower.char_indices().map(|(i, _)| i));
    let chars = scratch.bounds.len();
    for _ in 1..GRAM {
        scratch.bounds.push(scratch.lower.len());
        scratch.lower.push(PAD);
    }
    scratch.bounds.push(scratch.lower.len());
    for i in 0..chars {
        scratch
            .spans
            .push((scratch.bounds[i], scratch.bounds[i + GRAM]));
    }
    scratch.emit_spans(
        |t| {
            t.push('g');
            t.push(SEP);
            t.push_str(field_id);
            t.push(SEP);
        },
        emit,
    );
}

const _: () = assert!(GRAM == 3, "ascii_grams packs a gram into three bytes");

/// The grams of ASCII text (most values: titles, ARNs, ids), deduplicated as integers: a gram
/// packs into a `u32`, and sorting integers costs a fraction of sorting slices (which was a
/// fifth of building a document).
fn ascii_grams(field_id: &str, text: &[u8], scratch: &mut Scratch, emit: &mut impl FnMut(&str)) {
    const PAD_BYTE: u32 = PAD as u32;
    let byte = |i: usize| {
        text.get(i)
            .map_or(PAD_BYTE, |b| b.to_ascii_lowercase() as u32)
    };
    scratch.keys.clear();
    scratch
        .keys
        .extend((0..text.len()).map(|i| byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2)));
    scratch.keys.sort_unstable();
    scratch.keys.dedup();
    for &k in &scratch.keys {
        let t = &mut scratch.term;
        t.clear();
        t.push('g');
        t.push(SEP);
        t.push_str(field_id);
        t.push(SEP);
        for shift in [16, 8, 0] {
            t.push(((k >> shift) & 0xff) as u8 as char);
        }
        emit(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_domain::search::words;

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
        let has_prefix = |p: &str| g.iter().any(|x| x.starts_with(p));
        for needle in ["p", "pr", "pri", "r o", " on", "on", "n"] {
            assert_eq!(needle_grams(needle), NeedleGrams::Prefix(needle.to_owned()));
            assert!(has_prefix(needle), "{needle}");
        }
        for absent in ["x", "np", "po", "n o"] {
            assert!(!has_prefix(absent), "{absent}");
        }
        assert!(g.contains(&format!("n{PAD}{PAD}")));
        assert_eq!(g.len(), 10, "one gram per character: {g:?}");
        assert_eq!(
            needle_grams("abcd"),
            NeedleGrams::All(BTreeSet::from(["abc".to_owned(), "bcd".to_owned()]))
        );
    }

    /// The allocation-free encoder produces exactly the terms of the straightforward one.
    #[test]
    fn value_terms_equal_the_plain_encoding() {
        let plain = |fid: &str, used: TermUse, v: &Value| {
            let mut out: BTreeSet<String> = BTreeSet::new();
            if *v == Value::Empty {
                return out;
            }
            out.insert(has_term(fid));
            if used == TermUse::Sorted {
                return out;
            }
            out.extend(equal_term(fid, v));
            if let (Value::String(_), TermUse::FewValued) = (v, used) {
                out.insert(few_term(fid));
                return out;
            }
            if let (Value::String(s), true) = (v, used != TermUse::Exact) {
                out.extend(
                    words(s)
                        .into_iter()
                        .map(|w| format!("{}{w}", word_prefix(fid))),
                );
                if used == TermUse::WordsAndGrams {
                    out.extend(grams(s).iter().map(|g| gram_term(fid, g)));
                }
            }
            out
        };
        let mut scratch = Scratch::default();
        for text in [
            "",
            "Printer ON fire, printer!",
            "ΑΣ'Β déjà-vu ΣΑΣ",
            "arn:aws:connect:us-east-1:1:instance/i/queue/q",
            "İstanbul straße",
            "a",
            "ab",
            "\u{1f}x",
        ] {
            for used in [
                TermUse::WordsAndGrams,
                TermUse::FewValued,
                TermUse::Words,
                TermUse::Exact,
                TermUse::Sorted,
            ] {
                let v = Value::String(text.to_owned());
                let mut got = Vec::new();
                value_terms("f", used, &v, &mut scratch, &mut |t: &str| {
                    got.push(t.to_owned())
                });
                let n = got.len();
                let got: BTreeSet<String> = got.into_iter().collect();
                assert_eq!(n, got.len(), "duplicates for {text:?}");
                assert_eq!(got, plain("f", used, &v), "{text:?} {used:?}");
            }
        }
    }
}
