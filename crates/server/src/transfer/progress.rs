//! Progress of a long import or export: a bar on a terminal, plain lines a few times a minute
//! otherwise (CI logs and pipes would fill with a bar's redraws).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a plain progress line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub enum Progress {
    Bar(ProgressBar),
    Plain {
        label: String,
        total: u64,
        last: Instant,
    },
    Quiet,
}

impl Progress {
    /// Progress through `total` bytes of input (0: unknown, e.g. a pipe or an export).
    pub fn bytes(label: &str, total: u64, quiet: bool) -> Progress {
        if total > 0 {
            Progress::new(
                label,
                total,
                quiet,
                "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {elapsed_precise} (eta {eta})",
            )
        } else {
            Progress::new(
                label,
                total,
                quiet,
                "{msg:>10} {spinner} {pos} lines {elapsed_precise}",
            )
        }
    }

    /// A wait of unknown length (the search index catching up).
    pub fn waiting(label: &str, quiet: bool) -> Progress {
        Progress::new(label, 0, quiet, "{msg:>10} {spinner} {elapsed_precise}")
    }

    /// Progress toward `total` (0: unknown, a spinner), drawn on a terminal with `template`.
    fn new(label: &str, total: u64, quiet: bool, template: &str) -> Progress {
        if quiet {
            return Progress::Quiet;
        }
        if std::io::stderr().is_terminal() {
            let style = ProgressStyle::with_template(template).expect("valid template");
            let bar = if total > 0 {
                ProgressBar::new(total).with_style(style.progress_chars("=> "))
            } else {
                ProgressBar::new_spinner().with_style(style)
            };
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            eprintln!("{label}: started");
            Progress::Plain {
                label: label.to_owned(),
                total,
                last: Instant::now(),
            }
        }
    }

    /// The position reached (bytes read, or lines written when the total is unknown).
    pub fn set(&mut self, pos: u64) {
        match self {
            Progress::Bar(b) => b.set_position(pos),
            Progress::Plain { label, total, last } => {
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    if *total > 0 {
                        eprintln!(
                            "{label}: {:.0}% ({pos} of {total} bytes)",
                            pos as f64 * 100.0 / *total as f64
                        );
                    } else {
                        eprintln!("{label}: {pos} lines");
                    }
                }
            }
            Progress::Quiet => {}
        }
    }

    pub fn finish(self, message: &str) {
        match self {
            Progress::Bar(b) => {
                // The bar stays on screen: keep saying which phase it was.
                let label = b.message();
                b.finish_with_message(format!("{label}: {message}"));
            }
            Progress::Plain { label, .. } => eprintln!("{label}: {message}"),
            Progress::Quiet => {}
        }
    }
}
