//! The server under test: the `proficio` binary started as a child process on a temporary
//! data directory, its peak memory from `/proc`, and the size of what it wrote.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::BenchError;

/// How long the server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Server {
    child: Child,
    pub base: String,
    pub started_in: Duration,
    log: Arc<Mutex<Vec<String>>>,
}

pub struct Launch<'a> {
    pub binary: &'a Path,
    pub store: &'a str,
    pub data_dir: &'a Path,
    pub admin_key: &'a str,
    pub admin_secret: &'a str,
}

impl Server {
    pub fn start(launch: &Launch<'_>) -> Result<Server, BenchError> {
        let started = Instant::now();
        let mut child = Command::new(launch.binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--store",
                launch.store,
                "--data-dir",
            ])
            .arg(launch.data_dir)
            .env("PROFICIO_ADMIN_KEY", launch.admin_key)
            .env("PROFICIO_ADMIN_SECRET", launch.admin_secret)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                BenchError::Start(format!("cannot run {}: {e}", launch.binary.display()))
            })?;
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut lines) = sink.lock() {
                        // The tail is enough to say why a server died.
                        if lines.len() >= 200 {
                            lines.remove(0);
                        }
                        lines.push(line);
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(url) = line.strip_prefix("proficio listening on ") {
                        let _ = tx.send(url.to_owned());
                    }
                }
            });
        }
        let mut server = Server {
            child,
            base: String::new(),
            started_in: Duration::ZERO,
            log,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(base) => {
                server.base = base;
                server.started_in = started.elapsed();
                Ok(server)
            }
            Err(_) => {
                server.kill();
                Err(BenchError::Start(format!(
                    "the server did not start; its log:\n{}",
                    server.log_tail()
                )))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Peak resident set size so far, in bytes (`VmHWM`, proc(5)).
    pub fn peak_rss(&self) -> Result<u64, BenchError> {
        peak_rss(self.pid())
    }

    /// Resident memory now (`VmRSS`).
    pub fn rss(&self) -> Result<u64, BenchError> {
        status_kb(self.pid(), "VmRSS:")
    }

    /// SIGTERM and wait: the server shuts down gracefully, which flushes the store.
    pub fn stop(mut self) -> Result<(), BenchError> {
        let pid = self.pid().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| BenchError::Io(format!("cannot signal the server: {e}")))?;
        if !status.success() {
            return Err(BenchError::Io(format!("kill -TERM {pid} failed")));
        }
        self.child
            .wait()
            .map_err(|e| BenchError::Io(format!("waiting for the server: {e}")))?;
        Ok(())
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

pub fn peak_rss(pid: u32) -> Result<u64, BenchError> {
    status_kb(pid, "VmHWM:")
}

fn status_kb(pid: u32, field: &str) -> Result<u64, BenchError> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let status = std::fs::read_to_string(&path)
        .map_err(|e| BenchError::Io(format!("cannot read {}: {e}", path.display())))?;
    parse_status_kb(&status, field)
        .ok_or_else(|| BenchError::Io(format!("no {field} line in {}", path.display())))
}

/// `VmHWM:   123456 kB` → bytes.
fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Bytes of the regular files under `path`.
pub fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\tproficio\nVmPeak:\t  900 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(parse_status_kb(status, "VmHWM:"), Some(20480 * 1024));
        assert_eq!(parse_status_kb(status, "VmRSS:"), Some(100 * 1024));
        assert_eq!(parse_status_kb("Name:\tx\n", "VmHWM:"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        let peak = peak_rss(std::process::id()).expect("own status");
        assert!(peak > 1024 * 1024, "{peak}");
    }
}
