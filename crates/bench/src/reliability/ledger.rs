//! What the writers of the reliability run were told: every acknowledged write, and every write
//! whose outcome is unknown, per case. Pure bookkeeping, so what counts as lost or divergent is
//! decided here and unit-tested.
//!
//! Every write stamps the cases it touches with a sequence number (`seq`, a Number field, and
//! `note`, a Text field `n<seq>`), taken from one counter when the write is planned. A case is
//! written by one request at a time (`busy`), so its acknowledged numbers only grow: after a
//! crash the case must hold the last acknowledged number, or a newer one from a write that was
//! in flight when the server died, and nothing else.

use crate::rng::Rng;

/// The most comments the writers add to one case (the quota is 200).
const MAX_COMMENTS: usize = 20;

#[derive(Debug, Default)]
pub struct CaseLog {
    pub id: String,
    /// The newest acknowledged `seq`.
    pub acked: u64,
    /// `seq`s of writes whose outcome is unknown: the case may hold one of those newer than
    /// `acked`.
    pub in_doubt: Vec<u64>,
    /// Ids of acknowledged comments.
    pub comments: Vec<String>,
    /// Comments sent without a known outcome: at most this many more may exist.
    pub comments_in_doubt: usize,
    busy: bool,
}

/// A CreateCase without an answer: retried with its `clientToken` before verifying, which
/// either finds the case it created or creates it now, so every case is known.
#[derive(Clone, Debug)]
pub struct PendingCreate {
    pub seq: u64,
    pub token: String,
}

/// One planned write.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    Create { seq: u64 },
    Update { case: usize, seq: u64 },
    Batch { cases: Vec<usize>, seq: u64 },
    Comment { case: usize, seq: u64 },
}

/// What a verification found wrong with one case.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// An acknowledged write is not there.
    Lost(String),
    /// The server holds or shows something no acknowledged or in-flight write explains.
    Divergent(String),
}

#[derive(Debug, Default)]
pub struct Ledger {
    next_seq: u64,
    pub cases: Vec<CaseLog>,
    pub pending: Vec<PendingCreate>,
    /// Acknowledged writes: each case of a BatchUpdateCase counts once.
    pub acknowledged: u64,
    /// Writes answered with an error that says nothing was written (4xx).
    pub rejected: u64,
    /// Writes without a known outcome.
    pub in_doubt: u64,
}

/// The token of the CreateCase of `seq`: unique per domain, because `seq` is.
pub fn create_token(seq: u64) -> String {
    format!("create-{seq}")
}

pub fn note(seq: u64) -> String {
    format!("n{seq}")
}

impl Ledger {
    /// The next write, drawn from `rng`: creates until there are a few cases per writer, then
    /// 30% CreateCase, 35% UpdateCase, 15% BatchUpdateCase of 2-5 cases, 20% CreateRelatedItem,
    /// on cases no other request is writing. Marks the cases it picks busy.
    pub fn plan(&mut self, rng: &mut Rng, writers: usize) -> Plan {
        self.next_seq += 1;
        let seq = self.next_seq;
        let roll = rng.unit();
        if self.cases.len() < 2 * writers || roll < 0.30 {
            return Plan::Create { seq };
        }
        let want = if roll < 0.65 {
            1
        } else if roll < 0.80 {
            2 + rng.below(4) as usize
        } else {
            1
        };
        let mut picked = Vec::new();
        // A few draws: under contention a case may be busy; fewer cases (or a create) will do.
        for _ in 0..want * 4 {
            let i = rng.below(self.cases.len() as u64) as usize;
            if !self.cases[i].busy && !picked.contains(&i) {
                picked.push(i);
                if picked.len() == want {
                    break;
                }
            }
        }
        for &i in &picked {
            self.cases[i].busy = true;
        }
        match picked.as_slice() {
            [] => Plan::Create { seq },
            [one] if roll >= 0.80 && self.cases[*one].comments.len() < MAX_COMMENTS => {
                Plan::Comment { case: *one, seq }
            }
            [one] => Plan::Update { case: *one, seq },
            _ => Plan::Batch { cases: picked, seq },
        }
    }

    /// A CreateCase of `seq` answered with `id`.
    pub fn created(&mut self, seq: u64, id: String) {
        self.acknowledged += 1;
        self.cases.push(CaseLog {
            id,
            acked: seq,
            ..Default::default()
        });
    }

    /// A CreateCase without an answer (`in_doubt`) or refused.
    pub fn create_failed(&mut self, seq: u64, in_doubt: bool) {
        if in_doubt {
            self.in_doubt += 1;
            self.pending.push(PendingCreate {
                seq,
                token: create_token(seq),
            });
        } else {
            self.rejected += 1;
        }
    }

    /// The answer for one case of an update (UpdateCase, or one case of a BatchUpdateCase):
    /// `Some(true)` acknowledged, `Some(false)` refused, `None` unknown.
    pub fn updated(&mut self, case: usize, seq: u64, applied: Option<bool>) {
        let c = &mut self.cases[case];
        c.busy = false;
        match applied {
            Some(true) => {
                c.acked = seq;
                self.acknowledged += 1;
            }
            Some(false) => self.rejected += 1,
            None => {
                c.in_doubt.push(seq);
                self.in_doubt += 1;
            }
        }
    }

    /// The answer to a comment: its id when acknowledged, `Err(in_doubt)` otherwise.
    pub fn commented(&mut self, case: usize, answer: Result<String, bool>) {
        let c = &mut self.cases[case];
        c.busy = false;
        match answer {
            Ok(id) => {
                c.comments.push(id);
                self.acknowledged += 1;
            }
            Err(true) => {
                c.comments_in_doubt += 1;
                self.in_doubt += 1;
            }
            Err(false) => self.rejected += 1,
        }
    }

    /// The position of the case with this id, if the ledger knows it.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.cases.iter().position(|c| c.id == id)
    }
}

/// Judges what GetCase returned for a case: its `seq` and `note`, or `None` when the case is
/// not found.
pub fn judge(c: &CaseLog, stored: Option<(u64, &str)>) -> Option<Finding> {
    let Some((seq, text)) = stored else {
        return Some(Finding::Lost(format!(
            "case {} (acknowledged at seq {}) is not found",
            c.id, c.acked
        )));
    };
    if seq < c.acked {
        return Some(Finding::Lost(format!(
            "case {} holds seq {seq}, older than the acknowledged {}",
            c.id, c.acked
        )));
    }
    if seq != c.acked && !c.in_doubt.contains(&seq) {
        return Some(Finding::Divergent(format!(
            "case {} holds seq {seq}, which no write sent to it (acknowledged {})",
            c.id, c.acked
        )));
    }
    if text != note(seq) {
        return Some(Finding::Divergent(format!(
            "case {} holds seq {seq} with note '{text}' instead of '{}': half a write",
            c.id,
            note(seq)
        )));
    }
    None
}

/// Judges the comments SearchRelatedItems found on a case (their ids).
pub fn judge_comments(c: &CaseLog, found: &[String]) -> Option<Finding> {
    let missing: Vec<&String> = c.comments.iter().filter(|id| !found.contains(id)).collect();
    if !missing.is_empty() {
        return Some(Finding::Lost(format!(
            "case {}: {} acknowledged comment(s) missing, first {}",
            c.id,
            missing.len(),
            missing[0]
        )));
    }
    let extra = found.len() - c.comments.len().min(found.len());
    if extra > c.comments_in_doubt {
        return Some(Finding::Divergent(format!(
            "case {}: {} comments, {} acknowledged and {} in doubt",
            c.id,
            found.len(),
            c.comments.len(),
            c.comments_in_doubt
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(acked: u64, in_doubt: &[u64]) -> CaseLog {
        CaseLog {
            id: "c".into(),
            acked,
            in_doubt: in_doubt.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn a_case_must_hold_its_last_acknowledged_write_or_one_in_flight() {
        let c = case(7, &[9]);
        assert_eq!(judge(&c, Some((7, "n7"))), None);
        // The write in flight when the server died may have committed.
        assert_eq!(judge(&c, Some((9, "n9"))), None);
        assert!(matches!(judge(&c, Some((5, "n5"))), Some(Finding::Lost(_))));
        assert!(matches!(judge(&c, None), Some(Finding::Lost(_))));
        assert!(matches!(
            judge(&c, Some((8, "n8"))),
            Some(Finding::Divergent(_))
        ));
        // Both fields come from one write, or the write was torn.
        assert!(matches!(
            judge(&c, Some((9, "n7"))),
            Some(Finding::Divergent(_))
        ));
    }

    #[test]
    fn comments_in_doubt_may_exist_acknowledged_ones_must() {
        let mut c = case(1, &[]);
        c.comments = vec!["a".into(), "b".into()];
        c.comments_in_doubt = 1;
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(judge_comments(&c, &ids(&["b", "a"])), None);
        assert_eq!(judge_comments(&c, &ids(&["a", "b", "x"])), None);
        assert!(matches!(
            judge_comments(&c, &ids(&["a", "b", "x", "y"])),
            Some(Finding::Divergent(_))
        ));
        assert!(matches!(
            judge_comments(&c, &ids(&["a", "x"])),
            Some(Finding::Lost(_))
        ));
    }

    #[test]
    fn plans_never_share_a_case_and_numbers_grow() {
        let mut l = Ledger::default();
        let mut rng = Rng::new(5);
        for seq in 1..=4 {
            l.created(seq, format!("c{seq}"));
        }
        let mut held = Vec::new();
        let mut last = 0;
        for _ in 0..200 {
            let p = l.plan(&mut rng, 1);
            let (seq, cases) = match p {
                Plan::Create { seq } => (seq, vec![]),
                Plan::Update { case, seq } | Plan::Comment { case, seq } => (seq, vec![case]),
                Plan::Batch { cases, seq } => (seq, cases),
            };
            assert!(seq > last);
            last = seq;
            for c in cases {
                assert!(!held.contains(&c), "case {c} planned twice");
                held.push(c);
            }
        }
        // Every case is held now: only creates can be planned until one is answered.
        assert_eq!(held.len(), 4);
        l.updated(held[0], last, Some(true));
        assert_eq!(l.cases[held[0]].acked, last);
    }

    #[test]
    fn unanswered_creates_are_kept_for_a_retry() {
        let mut l = Ledger::default();
        l.create_failed(3, true);
        l.create_failed(4, false);
        assert_eq!(l.pending.len(), 1);
        assert_eq!(l.pending[0].token, create_token(3));
        assert_eq!((l.in_doubt, l.rejected), (1, 1));
    }
}
