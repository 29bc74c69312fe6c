//! Reading an import file line by line, with line numbers and byte positions, and pass one: the
//! whole file checked before anything is written.

use super::progress::Progress;
use caseload_domain::transfer::format::Line;
use caseload_domain::transfer::{Checker, Plan};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;

/// Bad lines reported at most; past that more reports rarely help and the check stops.
const MAX_REPORTED: usize = 50;

/// Lines parsed ahead and handed over at once.
const CHUNK: usize = 1024;

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

/// Lines read and parsed on a thread of their own, a chunk at a time, while the caller checks or
/// writes the ones before: parsing is most of a pass's work, and during the check pass the
/// machine's other core would otherwise be idle (a tenth of a 1M-case import).
pub struct ParsedLines {
    chunks: mpsc::Receiver<Result<Chunk, String>>,
    current: std::vec::IntoIter<NumberedLine>,
    /// Bytes up to the end of the chunk being handed out.
    pub bytes_read: u64,
    pub total_bytes: u64,
}

struct Chunk {
    lines: Vec<NumberedLine>,
    bytes_read: u64,
}

impl Lines {
    /// Reads and parses the rest of the file on another thread. It stops at the end of the file,
    /// at an unreadable line (reported in order, after the lines before it), or when the
    /// `ParsedLines` is dropped.
    pub fn parse_ahead(mut self) -> Result<ParsedLines, String> {
        let total_bytes = self.total_bytes;
        let (tx, rx) = mpsc::sync_channel(4);
        std::thread::Builder::new()
            .name("caseload-parse".into())
            .spawn(move || {
                loop {
                    let mut lines = Vec::with_capacity(CHUNK);
                    let end = loop {
                        match self.next_line() {
                            Ok(Some(line)) => {
                                lines.push(line);
                                if lines.len() == CHUNK {
                                    break None;
                                }
                            }
                            Ok(None) => break Some(Ok(())),
                            Err(e) => break Some(Err(e)),
                        }
                    };
                    let chunk = Chunk {
                        lines,
                        bytes_read: self.bytes_read,
                    };
                    if tx.send(Ok(chunk)).is_err() {
                        return;
                    }
                    match end {
                        None => continue,
                        Some(Ok(())) => return,
                        Some(Err(e)) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start reading the file: {e}"))?;
        Ok(ParsedLines {
            chunks: rx,
            current: Vec::new().into_iter(),
            bytes_read: 0,
            total_bytes,
        })
    }
}

impl ParsedLines {
    /// The next non-blank line: its number (from 1) and what it parsed to.
    pub fn next_line(&mut self) -> Result<Option<NumberedLine>, String> {
        loop {
            if let Some(line) = self.current.next() {
                return Ok(Some(line));
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.bytes_read = chunk.bytes_read;
                    self.current = chunk.lines.into_iter();
                }
                Ok(Err(e)) => return Err(e),
                // The reader has finished the file.
                Err(mpsc::RecvError) => return Ok(None),
            }
        }
    }
}

/// Pass one over `path`: every line parsed and checked. All bad lines (up to a limit) are
/// reported, each with its number, so a file can be fixed in one go.
pub fn check_file(path: &Path, quiet: bool) -> Result<Plan, String> {
    let mut lines = Lines::open(path)?.parse_ahead()?;
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
