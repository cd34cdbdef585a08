//! The exporter as a process: started with its output in a file, and read from `/proc`.

use std::path::Path;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::support::free_port;

/// The exporter, its output going to a file (a pipe nobody reads would block it).
pub(super) async fn start_exporter(exe: &Path, config: &Path, log: &Path) -> (Child, String) {
    let port = free_port();
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(exe)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-lifecycle")
        .env_remove("BRAZE_API_KEY")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/-/healthy")).send().await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the exporter did not answer /-/healthy within 30 s");
}

/// A value of `/proc/PID/status`, such as `VmRSS` (kB) or `Threads`.
pub(super) fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// User and system time from `/proc/PID/stat` (fields 14 and 15, after the command's `)`).
pub(super) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf only reads a system constant.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

pub(super) fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64
}

/// Each panic in the exporter's log, with what follows it up to the next log line (its message
/// and, with `RUST_BACKTRACE=1`, its backtrace).
pub(super) fn panics(log: &str) -> Vec<String> {
    let mut panics: Vec<String> = Vec::new();
    let mut in_panic = false;
    for line in log.lines() {
        if line.contains("panicked at") {
            panics.push(line.to_string());
            in_panic = true;
        } else if in_panic && !line.starts_with("time=") {
            let panic = panics.last_mut().expect("a panic started");
            panic.push('\n');
            panic.push_str(line);
        } else {
            in_panic = false;
        }
    }
    panics
}
