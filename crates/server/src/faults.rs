//! `--fault-rate`: a fraction of API calls answered with the retryable errors Connect Cases
//! sends, so that clients' retry and back-off code can be tested against the real thing.
//!
//! A fault is decided once the operation is known and before it runs (`wire::handle_admitted`),
//! so a faulted call has done nothing: a write is never applied and then answered with an
//! error. Faults are spread evenly rather than drawn at random, per rule: with P = 0.25 the 1st,
//! 5th, 9th… call fails, so a run is reproducible and a client that retries enough always gets
//! through (at most ⌈P / (1 − P)⌉ faults in a row). They alternate between
//! `InternalServerException` (500) and `ThrottlingException` (429), the two retryable errors of
//! the service's model.

use caseload_model::{Error, Operation, RequestContext};
use std::sync::atomic::{AtomicU64, Ordering};

/// Fractions are kept in millionths.
const ONE: u64 = 1_000_000;

pub struct Faults {
    /// For operations without a rule of their own.
    all: Option<Spread>,
    /// By `Operation as usize`.
    by_operation: Vec<Option<Spread>>,
}

/// One rule: its fraction and how many calls it has seen.
struct Spread {
    millionths: u64,
    calls: AtomicU64,
}

impl Spread {
    /// The fault number (0, 1, …) of the next call, or `None` when it passes. Call n (from 0)
    /// fails when ⌈(n + 1)·P⌉ > ⌈n·P⌉: exactly a fraction P of calls, the first one included.
    fn next(&self) -> Option<u64> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let before = (n * self.millionths).div_ceil(ONE);
        let after = ((n + 1) * self.millionths).div_ceil(ONE);
        (after > before).then_some(before)
    }
}

impl Faults {
    /// Rules: `P` for every operation, `OPERATION=P` for one; P from 0 to 1. `None` when no
    /// rule can fault anything.
    pub fn new(rules: &[String]) -> Result<Option<Faults>, String> {
        let mut faults = Faults {
            all: None,
            by_operation: (0..Operation::ALL.len()).map(|_| None).collect(),
        };
        for rule in rules {
            let (target, fraction) = match rule.split_once('=') {
                Some((op, p)) => (Some(op.trim()), p),
                None => (None, rule.as_str()),
            };
            let p = fraction
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    format!("--fault-rate '{rule}' is not P or OPERATION=P with P from 0 to 1")
                })?;
            let spread = Some(Spread {
                millionths: (p * ONE as f64).round() as u64,
                calls: AtomicU64::new(0),
            });
            match target {
                None => faults.all = spread,
                Some(name) => {
                    let op = Operation::ALL
                        .iter()
                        .find(|op| op.name() == name)
                        .ok_or_else(|| format!("--fault-rate: '{name}' is not an operation"))?;
                    faults.by_operation[*op as usize] = spread;
                }
            }
        }
        let any = faults
            .by_operation
            .iter()
            .chain([&faults.all])
            .flatten()
            .any(|s| s.millionths > 0);
        Ok(any.then_some(faults))
    }

    /// Answers this call with a fault, or lets it run.
    pub fn admit(&self, op: Operation, _ctx: &RequestContext) -> Result<(), Error> {
        let rule = self.by_operation[op as usize]
            .as_ref()
            .or(self.all.as_ref());
        match rule.and_then(Spread::next) {
            None => Ok(()),
            Some(k) if k % 2 == 0 => Err(Error::FaultInjected(format!(
                "Internal server error injected by caseload --fault-rate; {} was not run",
                op.name()
            ))),
            Some(_) => Err(Error::Throttling(format!(
                "Rate exceeded (injected by caseload --fault-rate; {} was not run)",
                op.name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext {
            principal_arn: String::new(),
            account_id: "1".into(),
            region: "us-east-1".into(),
            request_id: String::new(),
            schema_generation: Default::default(),
        }
    }

    fn outcomes(f: &Faults, op: Operation, n: usize) -> String {
        (0..n)
            .map(|_| match f.admit(op, &ctx()) {
                Ok(()) => '.',
                Err(Error::FaultInjected(_)) => 'I',
                Err(Error::Throttling(_)) => 'T',
                Err(e) => panic!("{e:?}"),
            })
            .collect()
    }

    #[test]
    fn faults_are_spread_evenly_and_alternate() {
        let f = Faults::new(&["0.25".into()]).unwrap().unwrap();
        assert_eq!(outcomes(&f, Operation::GetCase, 12), "I...T...I...");
        let f = Faults::new(&["1".into()]).unwrap().unwrap();
        assert_eq!(outcomes(&f, Operation::GetCase, 4), "ITIT");
        let f = Faults::new(&["0.5".into()]).unwrap().unwrap();
        assert_eq!(outcomes(&f, Operation::GetCase, 6), "I.T.I.");
    }

    #[test]
    fn an_operations_rule_wins_over_the_general_one() {
        let f = Faults::new(&["0".into(), "CreateCase=1".into()])
            .unwrap()
            .unwrap();
        assert_eq!(outcomes(&f, Operation::GetCase, 3), "...");
        assert_eq!(outcomes(&f, Operation::CreateCase, 3), "ITI");
    }

    #[test]
    fn rules_are_checked() {
        assert!(Faults::new(&[]).unwrap().is_none());
        assert!(Faults::new(&["0".into()]).unwrap().is_none());
        for bad in ["1.5", "-0.1", "x", "Nope=0.5", "GetCase=2"] {
            assert!(Faults::new(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
