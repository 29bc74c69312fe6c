//! What `caseload check` compares: the index's documents per domain (how many, and each case id
//! with its version) against the database's cases. Everything is read from the term dictionary,
//! postings and fast columns, never from stored documents, so a million cases take seconds.

use super::{Fields, encode::SEP};
use std::collections::BTreeMap;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Searcher, SegmentReader, TERMINATED, Term};

/// (account id, domain id).
pub type DomainKey = (String, String);

/// A domain whose number of cases differs between the database and the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountDifference {
    pub key: DomainKey,
    pub database: u64,
    pub index: u64,
}

/// One case the index has wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseDifference {
    /// In the database, not in the index.
    Missing { case_id: String, version: i64 },
    /// In the index, not in the database.
    Extra { case_id: String, version: i64 },
    /// In both, at other versions.
    Stale {
        case_id: String,
        database: i64,
        index: i64,
    },
    /// In the index more than once.
    Duplicate { case_id: String },
}

impl std::fmt::Display for CaseDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseDifference::Missing { case_id, version } => {
                write!(
                    f,
                    "case {case_id} (version {version}) is missing from the index"
                )
            }
            CaseDifference::Extra { case_id, version } => write!(
                f,
                "case {case_id} (version {version}) is in the index but not in the database"
            ),
            CaseDifference::Stale {
                case_id,
                database,
                index,
            } => write!(
                f,
                "case {case_id} is at version {database} in the database but {index} in the index"
            ),
            CaseDifference::Duplicate { case_id } => {
                write!(f, "case {case_id} is in the index more than once")
            }
        }
    }
}

/// The live documents of each domain: the postings of its scope terms (`s␟account␟domain`),
/// less deleted documents.
pub fn domain_counts(
    searcher: &Searcher,
    fields: &Fields,
) -> tantivy::Result<BTreeMap<DomainKey, u64>> {
    let mut counts = BTreeMap::new();
    let prefix = format!("s{SEP}");
    let end = format!("s{}", char::from_u32(SEP as u32 + 1).expect("a character"));
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(fields.terms)?;
        let mut terms = index
            .terms()
            .range()
            .ge(prefix.as_bytes())
            .lt(end.as_bytes())
            .into_stream()?;
        while terms.advance() {
            let Some(key) = parse_scope(terms.key()) else {
                continue;
            };
            let mut postings =
                index.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
            let live = count_live(segment, &mut postings);
            if live > 0 {
                *counts.entry(key).or_insert(0) += live;
            }
        }
    }
    Ok(counts)
}

fn parse_scope(term: &[u8]) -> Option<DomainKey> {
    let text = std::str::from_utf8(term).ok()?;
    let mut parts = text.split(SEP);
    let (Some("s"), Some(account), Some(domain), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((account.to_owned(), domain.to_owned()))
}

fn count_live(segment: &SegmentReader, docs: &mut impl DocSet) -> u64 {
    let alive = segment.alive_bitset();
    let mut n = 0;
    let mut doc = docs.doc();
    while doc != TERMINATED {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            n += 1;
        }
        doc = docs.advance();
    }
    n
}

/// A domain's live documents as (case id, version), ordered by case id: ids come from the
/// `case_id` column's dictionary in ordinal order (one pass), versions from the `version` column.
pub fn domain_versions(
    searcher: &Searcher,
    fields: &Fields,
    key: &DomainKey,
) -> tantivy::Result<Vec<(String, i64)>> {
    let scope = Term::from_field_text(fields.terms, &super::scope_term(&key.0, &key.1));
    let mut out = Vec::new();
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(fields.terms)?;
        let Some(mut postings) = index.read_postings(&scope, IndexRecordOption::Basic)? else {
            continue;
        };
        let ff = segment.fast_fields();
        let ids = ff.str("case_id")?.ok_or_else(|| {
            tantivy::TantivyError::SchemaError("case_id is not a fast field".into())
        })?;
        let versions = ff.i64("version")?;
        let alive = segment.alive_bitset();
        // (ordinal of the id, version) of each live document, then the ids in one pass.
        let mut docs: Vec<(u64, i64)> = Vec::new();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                let version = versions.first(doc).unwrap_or(-1);
                for ord in ids.term_ords(doc) {
                    docs.push((ord, version));
                }
            }
            doc = postings.advance();
        }
        docs.sort_unstable();
        let ords: Vec<u64> = docs.iter().map(|d| d.0).collect();
        let mut versions = docs.iter().map(|d| d.1);
        ids.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
            let version = versions.next().unwrap_or(-1);
            out.push((String::from_utf8_lossy(bytes).into_owned(), version));
        })?;
    }
    out.sort_unstable();
    Ok(out)
}

/// The domains whose counts differ (a domain missing on one side counts 0 there).
pub fn count_differences(
    database: &BTreeMap<DomainKey, u64>,
    index: &BTreeMap<DomainKey, u64>,
) -> Vec<CountDifference> {
    let mut keys: Vec<&DomainKey> = database.keys().chain(index.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (database, index) = (
                database.get(key).copied().unwrap_or(0),
                index.get(key).copied().unwrap_or(0),
            );
            (database != index).then(|| CountDifference {
                key: key.clone(),
                database,
                index,
            })
        })
        .collect()
}

/// The cases that differ between two lists of (case id, version) ordered by id.
pub fn case_differences(
    database: &[(String, i64)],
    index: &[(String, i64)],
) -> Vec<CaseDifference> {
    let mut out = Vec::new();
    let (mut d, mut i) = (0, 0);
    while d < database.len() || i < index.len() {
        let order = match (database.get(d), index.get(i)) {
            (Some(a), Some(b)) => a.0.cmp(&b.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                let (case_id, version) = database[d].clone();
                out.push(CaseDifference::Missing { case_id, version });
                d += 1;
            }
            std::cmp::Ordering::Greater => {
                let (case_id, version) = index[i].clone();
                if i > 0 && index[i - 1].0 == case_id {
                    out.push(CaseDifference::Duplicate { case_id });
                } else {
                    out.push(CaseDifference::Extra { case_id, version });
                }
                i += 1;
            }
            std::cmp::Ordering::Equal => {
                let ((case_id, database), (_, index)) = (&database[d], &index[i]);
                if database != index {
                    out.push(CaseDifference::Stale {
                        case_id: case_id.clone(),
                        database: *database,
                        index: *index,
                    });
                }
                d += 1;
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[(&str, i64)]) -> Vec<(String, i64)> {
        v.iter().map(|(id, v)| (id.to_string(), *v)).collect()
    }

    #[test]
    fn case_differences_name_every_kind() {
        let database = list(&[("a", 1), ("b", 2), ("c", 1), ("e", 4)]);
        let index = list(&[("a", 1), ("b", 1), ("d", 3), ("e", 4), ("e", 4)]);
        assert_eq!(
            case_differences(&database, &index),
            vec![
                CaseDifference::Stale {
                    case_id: "b".into(),
                    database: 2,
                    index: 1
                },
                CaseDifference::Missing {
                    case_id: "c".into(),
                    version: 1
                },
                CaseDifference::Extra {
                    case_id: "d".into(),
                    version: 3
                },
                CaseDifference::Duplicate {
                    case_id: "e".into()
                },
            ]
        );
        assert!(case_differences(&database, &database).is_empty());
    }

    #[test]
    fn count_differences_include_domains_missing_on_either_side() {
        let key = |d: &str| ("1".to_owned(), d.to_owned());
        let database = BTreeMap::from([(key("a"), 3), (key("b"), 1)]);
        let index = BTreeMap::from([(key("a"), 3), (key("c"), 2)]);
        let differ: Vec<_> = count_differences(&database, &index)
            .into_iter()
            .map(|d| (d.key.1, d.database, d.index))
            .collect();
        assert_eq!(differ, vec![("b".into(), 1, 0), ("c".into(), 0, 2)]);
    }

    #[test]
    fn scope_terms_parse_back_to_their_domain() {
        let term = super::super::scope_term("123", "d-1");
        assert_eq!(
            parse_scope(term.as_bytes()),
            Some(("123".into(), "d-1".into()))
        );
        assert_eq!(parse_scope(b"k\x1f1\x1fd\x1fc"), None);
    }
}
