//! Records what `--version` and `braze_exporter_build_info` show: git revision and branch,
//! build user and date, and the Rust version. No network; anything that cannot be found is
//! "unknown". Each can be given in the environment instead (the Dockerfile passes
//! `BRAZE_EXPORTER_REVISION`, since its build context has no `.git`):
//! `BRAZE_EXPORTER_REVISION`, `BRAZE_EXPORTER_BRANCH`, `BRAZE_EXPORTER_BUILD_USER`,
//! `BRAZE_EXPORTER_BUILD_DATE`.
use std::process::Command;

/// The trimmed standard output of a command that succeeded with some output.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn git(args: &[&str]) -> Option<String> {
    output("git", args)
}

/// Sets `name` for the crate: from the environment if given there, else `compute`.
fn record(name: &str, compute: impl FnOnce() -> Option<String>) {
    println!("cargo:rerun-if-env-changed={name}");
    let value = std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(compute)
        .unwrap_or_else(|| "unknown".into());
    // One line, no control characters: it becomes a label value and a line of --version.
    let value: String = value.chars().filter(|c| !c.is_control()).collect();
    println!("cargo:rustc-env={name}={value}");
}

fn main() {
    record("BRAZE_EXPORTER_REVISION", || {
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    record("BRAZE_EXPORTER_BRANCH", || {
        git(&["rev-parse", "--abbrev-ref", "HEAD"])
    });
    record("BRAZE_EXPORTER_BUILD_USER", || {
        let user = std::env::var("USER")
            .ok()
            .or_else(|| output("id", &["-un"]))?;
        let host = output("hostname", &[])
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string());
        Some(match host {
            Some(host) if !host.is_empty() => format!("{user}@{host}"),
            _ => user,
        })
    });
    record("BRAZE_EXPORTER_BUILD_DATE", || {
        output("date", &["-u", "+%Y%m%d-%H:%M:%S"])
    });
    record("BRAZE_EXPORTER_RUST_VERSION", || {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        // "rustc 1.91.0 (f8297e351 2025-10-28)" -> "1.91.0"
        output(&rustc, &["--version"])?
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
    });
    // Rebuild when HEAD moves (a commit, a checkout); in a worktree `.git` is a file, so ask
    // git where HEAD and the branch's ref live.
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
