//! The server under test: the real `caseload` binary in its own process, on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `caseload` binary built with the same profile as this one, built first when run by cargo.
pub fn binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no directory for the bench binary")?;
    let bin = dir.join("caseload");
    if let Ok(cargo) = std::env::var("CARGO") {
        // `cargo run -p caseload-bench` does not build the server: build it, so the numbers are
        // always those of the current source.
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "caseload"]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("building the server failed".into());
        }
    }
    if !bin.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release -p caseload`",
            bin.display()
        ));
    }
    Ok(bin)
}

/// Resident memory of the server.
pub struct Memory {
    /// VmRSS: resident now.
    pub rss: u64,
    /// VmHWM: the peak of VmRSS.
    pub peak: u64,
    /// RssAnon: heap and stacks, memory the server owns.
    pub anonymous: u64,
    /// RssFile: resident pages of mapped files (the search index is memory-mapped), which the
    /// kernel can drop and re-read.
    pub file: u64,
}

pub struct Server {
    child: Child,
    pub endpoint: String,
    /// From spawning the process to its `listening on` line.
    pub listening: Duration,
}

impl Server {
    pub fn start(bin: &Path, data_dir: &Path) -> Result<Server, String> {
        Self::spawn(bin, data_dir, Stdio::inherit())
    }

    /// `start`, with the server's log appended to `log` instead of this process's stderr (the
    /// reliability run provokes errors the server rightly logs by the thousand).
    pub fn start_logging_to(bin: &Path, data_dir: &Path, log: &Path) -> Result<Server, String> {
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        Self::spawn(bin, data_dir, Stdio::from(file))
    }

    fn spawn(bin: &Path, data_dir: &Path, stderr: Stdio) -> Result<Server, String> {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--bench-baseline",
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?
            .to_owned();
        Ok(Server {
            child,
            endpoint,
            listening: started.elapsed(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in bytes, from `/proc/PID/status`.
    pub fn memory(&self) -> Memory {
        memory_of(self.pid())
    }

    /// SIGTERM, then waits (SIGKILL after 30 s); says whether the server exited by itself.
    pub fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    /// SIGKILL, as a crash or the OOM killer would end it: no shutdown code runs.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How the server ended, if it is no longer running.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resident memory of process `pid` in bytes, from `/proc/PID/status` (zeros once it is gone).
pub fn memory_of(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    Memory {
        rss: kb("VmRSS:"),
        peak: kb("VmHWM:"),
        anonymous: kb("RssAnon:"),
        file: kb("RssFile:"),
    }
}

/// Bytes of all files under `dir`.
pub fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_usage(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
