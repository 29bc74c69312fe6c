//! `--throttle`: Connect Cases' default API request rates, enforced as AWS does, per account,
//! region and operation, so that clients can be tested against `ThrottlingException` (429).
//!
//! Each (account, region, operation) has a token bucket: it holds up to the burst, refills at
//! the rate, and a call takes one token or is throttled. The rates are AWS's documented
//! defaults (Amazon Connect administrator guide, "Connect Customer service quotas", section
//! "Cases API throttling quotas"); operations AWS lists no quota for are not throttled unless a
//! rate is given for them with `--throttle-rate`.

use caseload_model::{Error, Operation, RequestContext};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Requests per second, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// AWS's default quotas, by operation name: (rate per second, burst).
const DEFAULTS: &[(&[&str], f64, f64)] = &[
    (
        &[
            "CreateCase",
            "SearchCases",
            "ListTemplates",
            "ListLayouts",
            "CreateRelatedItem",
            "SearchRelatedItems",
            "ListCaseRules",
            "ListTagsForResource",
            "TagResource",
            "UntagResource",
            "GetCaseAuditEvents",
            "GetCaseEventConfiguration",
            "PutCaseEventConfiguration",
        ],
        2.0,
        10.0,
    ),
    (&["GetCase"], 4.0, 10.0),
    (&["UpdateCase", "ListCasesForContact"], 2.0, 2.0),
    (
        &[
            "CreateField",
            "ListFields",
            "UpdateField",
            "BatchPutFieldOptions",
            "CreateDomain",
            "GetDomain",
            "ListDomains",
            "CreateTemplate",
            "UpdateTemplate",
            "CreateLayout",
            "UpdateLayout",
            "CreateCaseRule",
            "UpdateCaseRule",
            "DeleteCaseRule",
        ],
        2.0,
        5.0,
    ),
    (&["BatchGetField", "BatchGetCaseRule"], 8.0, 25.0),
    (&["ListFieldOptions"], 6.0, 16.0),
    (&["GetTemplate", "GetLayout"], 6.0, 20.0),
];

pub struct Throttle {
    /// By `Operation as usize`; `None`: not throttled.
    rates: Vec<Option<Rate>>,
    buckets: Mutex<HashMap<(String, String, Operation), Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Throttle {
    /// AWS's defaults with `overrides` (`OPERATION=RATE[:BURST]`) applied.
    pub fn new(overrides: &[String]) -> Result<Throttle, String> {
        let mut rates = vec![None; Operation::ALL.len()];
        for (names, per_second, burst) in DEFAULTS {
            for name in *names {
                rates[operation(name)? as usize] = Some(Rate {
                    per_second: *per_second,
                    burst: *burst,
                });
            }
        }
        for spec in overrides {
            let (op, rate) = parse_override(spec)?;
            rates[op as usize] = Some(rate);
        }
        Ok(Throttle {
            rates,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a token for this call, or answers `ThrottlingException` when there is none.
    pub fn admit(&self, op: Operation, ctx: &RequestContext) -> Result<(), Error> {
        let Some(rate) = self.rates[op as usize] else {
            return Ok(());
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((ctx.account_id.clone(), ctx.region.clone(), op))
            .or_insert(Bucket {
                tokens: rate.burst,
                at: now,
            });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Error::Throttling("Rate exceeded".into()))
        }
    }
}

fn operation(name: &str) -> Result<Operation, String> {
    Operation::ALL
        .iter()
        .copied()
        .find(|op| op.name() == name)
        .ok_or_else(|| format!("'{name}' is not an operation of Connect Cases"))
}

/// `OPERATION=RATE[:BURST]`; the burst defaults to the rate (at least one request).
fn parse_override(spec: &str) -> Result<(Operation, Rate), String> {
    let bad =
        || format!("--throttle-rate '{spec}' is not OPERATION=RATE[:BURST] (e.g. GetCase=100:200)");
    let (name, rate) = spec.split_once('=').ok_or_else(bad)?;
    let (per_second, burst) = match rate.split_once(':') {
        Some((r, b)) => (r, Some(b)),
        None => (rate, None),
    };
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(bad)
    };
    let per_second = number(per_second)?;
    let burst = match burst {
        Some(b) => number(b)?,
        None => per_second.max(1.0),
    };
    if burst < 1.0 {
        return Err(format!(
            "--throttle-rate '{spec}': the burst must allow one request"
        ));
    }
    Ok((operation(name.trim())?, Rate { per_second, burst }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(account: &str) -> RequestContext {
        RequestContext {
            principal_arn: String::new(),
            account_id: account.into(),
            region: "us-east-1".into(),
            request_id: String::new(),
            schema_generation: Default::default(),
        }
    }

    #[test]
    fn every_default_names_an_operation_once() {
        let mut seen = std::collections::HashSet::new();
        for (names, _, _) in DEFAULTS {
            for name in *names {
                assert!(operation(name).is_ok(), "{name}");
                assert!(seen.insert(*name), "{name} twice");
            }
        }
    }

    #[test]
    fn a_burst_passes_then_calls_are_throttled_per_account_and_operation() {
        let t = Throttle::new(&[]).unwrap();
        // UpdateCase: 2 per second, burst 2.
        assert!(t.admit(Operation::UpdateCase, &ctx("1")).is_ok());
        assert!(t.admit(Operation::UpdateCase, &ctx("1")).is_ok());
        assert!(matches!(
            t.admit(Operation::UpdateCase, &ctx("1")),
            Err(Error::Throttling(_))
        ));
        assert!(t.admit(Operation::UpdateCase, &ctx("2")).is_ok());
        assert!(t.admit(Operation::GetCase, &ctx("1")).is_ok());
        // Not in AWS's list: never throttled by default.
        for _ in 0..100 {
            assert!(t.admit(Operation::DeleteCase, &ctx("1")).is_ok());
        }
    }

    #[test]
    fn overrides_replace_a_rate() {
        let t = Throttle::new(&["DeleteCase=1:3".into(), "GetCase=0.5".into()]).unwrap();
        assert_eq!(
            t.rates[Operation::DeleteCase as usize],
            Some(Rate {
                per_second: 1.0,
                burst: 3.0
            })
        );
        assert_eq!(
            t.rates[Operation::GetCase as usize],
            Some(Rate {
                per_second: 0.5,
                burst: 1.0
            })
        );
        for bad in [
            "GetCase",
            "Nope=1",
            "GetCase=0",
            "GetCase=x:2",
            "GetCase=1:0.5",
        ] {
            assert!(Throttle::new(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
