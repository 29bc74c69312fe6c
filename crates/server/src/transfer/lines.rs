//! Reading an import file line by line, with line numbers and byte positions, and pass one: the
//! whole file checked before anything is written.

use super::progress::Progress;
use caseload_domain::transfer::format::Line;
use caseload_domain::transfer::{Checker, Plan};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Bad lines reported at most; past that more reports rarely help and the check stops.
const MAX_REPORTED: usize = 50;

pub struct Lines {
    reader: BufReader<File>,
    buf: String,
    number: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
}

/// A line's number (from 1) and what it parsed to, or why it did not.
pub type NumberedLine = (u64, Result<Line, String>);

impl Lines {
    pub fn open(path: &Path) -> Result<Lines, String> {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Lines {
            reader: BufReader::with_capacity(1 << 20, file),
            buf: String::new(),
            number: 0,
            bytes_read: 0,
            total_bytes,
        })
    }

    /// The next non-blank line: its number (from 1) and what it parsed to.
    pub fn next_line(&mut self) -> Result<Option<NumberedLine>, String> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_line(&mut self.buf)
                .map_err(|e| format!("cannot read line {}: {e}", self.number + 1))?;
            if n == 0 {
                return Ok(None);
            }
            self.number += 1;
            self.bytes_read += n as u64;
            let text = self.buf.trim();
            if !text.is_empty() {
                return Ok(Some((self.number, Line::parse(text))));
            }
        }
    }
}

/// Pass one over `path`: every line parsed and checked. All bad lines (up to a limit) are
/// reported, each with its number, so a file can be fixed in one go.
pub fn check_file(path: &Path, quiet: bool) -> Result<Plan, String> {
    let mut lines = Lines::open(path)?;
    let mut progress = Progress::bytes("checking", lines.total_bytes, quiet);
    let mut checker = Checker::new();
    let mut bad: Vec<String> = Vec::new();
    while let Some((number, parsed)) = lines.next_line()? {
        if let Err(e) = parsed.and_then(|line| checker.check(&line)) {
            bad.push(format!("line {number}: {e}"));
            if bad.len() >= MAX_REPORTED {
                bad.push(format!("(stopped after {MAX_REPORTED} bad lines)"));
                break;
            }
        }
        if number % 4096 == 0 {
            progress.set(lines.bytes_read);
        }
    }
    progress.finish("done");
    if !bad.is_empty() {
        return Err(format!(
            "{} is not a valid import; nothing was imported:\n  {}",
            path.display(),
            bad.join("\n  ")
        ));
    }
    checker.finish()
}
