//! An import file (any bytes) through pass one of `caseload import` and the part of pass two that
//! can fail: lines as `Lines` reads them (split at `\n`, trimmed, blank ones skipped; a file that
//! is not UTF-8 is refused while reading), each parsed (`format::Line::parse`) and checked in
//! order (`transfer::Checker`), then every case of an accepted file turned into stored values
//! (`Plan::case_values`).
//!
//! Properties:
//! - nothing panics;
//! - a parsed line writes back (`Line::to_json`) as JSON that parses to the same line, through
//!   the same fast path for cases as serde's tagged enum;
//! - a file pass one accepts is one pass two can write: every case line yields its values.
#![no_main]

use caseload_domain::transfer::Checker;
use caseload_domain::transfer::format::Line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut checker = Checker::new();
    let mut accepted = true;
    let mut cases = Vec::new();
    for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
        let parsed = match Line::parse(line) {
            Ok(parsed) => parsed,
            Err(_) => {
                accepted = false;
                continue;
            }
        };
        let json = parsed.to_json();
        assert_eq!(Line::parse(&json).as_ref(), Ok(&parsed), "{line} → {json}");
        assert_eq!(
            serde_json::from_str::<Line>(&json).ok().as_ref(),
            Some(&parsed),
            "{json}"
        );
        if checker.check(&parsed).is_err() {
            accepted = false;
        }
        if let Line::Case(c) = parsed {
            cases.push(c);
        }
    }
    if !accepted {
        return;
    }
    let Ok(mut plan) = checker.finish() else {
        return;
    };
    for c in &cases {
        if let Err(e) = plan.case_values(c) {
            panic!(
                "pass one accepted case {} but pass two refuses it: {e}",
                c.case_id
            );
        }
    }
});
