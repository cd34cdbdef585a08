//! The process from exec to serving: signals during start-up, the listen address (IPv4 and
//! IPv6, malformed or taken), and what it writes on standard error.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use crate::support::{free_port, simulator, Workspace, BIN, KEY, PATIENCE};

fn exporter(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("BRAZE_API_KEY");
    command
}

fn output(args: &[&str]) -> Output {
    exporter(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(target_os = "linux")]
/// A configuration with `apps` apps, so that start-up has something to chew on.
fn large_workspace(url: &str, apps: usize) -> Workspace {
    let ws = Workspace::new(url, "");
    let mut text = std::fs::read_to_string(ws.config()).unwrap();
    let at = text.find("apps:\n").unwrap() + "apps:\n".len();
    let mut more = String::new();
    for i in 0..apps {
        more.push_str(&format!("  - name: app{i}\n    id: id-{i}\n"));
    }
    text.insert_str(at, &more);
    std::fs::write(ws.config(), text).unwrap();
    ws
}

fn send(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill failed");
}

/// Waits until the child runs more than one thread (Linux: read from /proc): its async runtime exists, which every
/// version of the exporter starts before reading its configuration. Polls, never sleeps a
/// fixed time; gives up after [`PATIENCE`].
#[cfg(target_os = "linux")]
fn wait_for_runtime(child: &mut Child) {
    let deadline = std::time::Instant::now() + PATIENCE;
    let tasks = format!("/proc/{}/task", child.id());
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("exited before starting its runtime: {status}");
        }
        if std::fs::read_dir(&tasks).map(|d| d.count()).unwrap_or(0) > 1 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no runtime started");
        std::thread::yield_now();
    }
}

fn wait(mut child: Child) -> ExitStatus {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running {PATIENCE:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(target_os = "linux")]
/// Small delays, some zero, at which signals are sent once the runtime exists.
const DELAYS_US: [u64; 12] = [
    0, 0, 0, 50, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 100_000,
];

#[cfg(target_os = "linux")]
fn spawn_large(ws: &Workspace) -> Child {
    exporter(&[
        &format!("--config.file={}", ws.config().display()),
        "--web.listen-address=127.0.0.1:0",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_or_sigint_at_any_moment_of_start_up_exits_zero() {
    let sim = simulator(|_| {}).await;
    let ws = large_workspace(&sim.url(), 3000);
    tokio::task::spawn_blocking(move || {
        for signal in [libc::SIGTERM, libc::SIGINT] {
            for delay in DELAYS_US {
                let mut child = spawn_large(&ws);
                wait_for_runtime(&mut child);
                std::thread::sleep(Duration::from_micros(delay));
                send(&child, signal);
                let status = wait(child);
                assert_eq!(
                    status.code(),
                    Some(0),
                    "signal {signal} after {delay} µs: {status}"
                );
            }
        }
    })
    .await
    .unwrap();
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn sighup_and_sigusr1_never_kill_during_start_up() {
    let sim = simulator(|_| {}).await;
    let ws = large_workspace(&sim.url(), 3000);
    tokio::task::spawn_blocking(move || {
        for signal in [libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2] {
            for delay in DELAYS_US {
                let mut child = spawn_large(&ws);
                wait_for_runtime(&mut child);
                std::thread::sleep(Duration::from_micros(delay));
                send(&child, signal);
                // Had the signal killed it, its status says so; else SIGTERM ends it with 0.
                send(&child, libc::SIGTERM);
                let status = wait(child);
                assert_eq!(
                    status.code(),
                    Some(0),
                    "signal {signal} after {delay} µs: {status}"
                );
            }
        }
    })
    .await
    .unwrap();
}

#[test]
fn sigterm_pending_since_exec_exits_zero() {
    // The parent blocks SIGTERM in the child before exec, so the signal sent at once is
    // pending from the child's first instruction on: it must end with exit 0, not hang.
    use std::os::unix::process::CommandExt;
    let ws = Workspace::new("http://127.0.0.1:1", "");
    let mut command = exporter(&[
        &format!("--config.file={}", ws.config().display()),
        "--web.listen-address=127.0.0.1:0",
    ]);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    let child = command.spawn().unwrap();
    send(&child, libc::SIGTERM);
    let status = wait(child);
    assert_eq!(status.code(), Some(0), "{status}");
}

/// Starts the exporter on `address` and returns it with the first line that says it started.
fn start_logging(ws: &Workspace, address: &str, format: &str) -> (Child, String) {
    let mut child = exporter(&[
        &format!("--config.file={}", ws.config().display()),
        &format!("--web.listen-address={address}"),
        &format!("--log.format={format}"),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = loop {
        let line = lines
            .next()
            .expect("stderr closed before it started")
            .unwrap();
        if line.contains("braze-exporter started") {
            break line;
        }
    };
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, started)
}

fn logfmt_value<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

fn has_ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn port_only_listens_on_ipv4_and_ipv6_and_logs_the_bound_port() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let (child, started) =
        tokio::task::spawn_blocking(move || (start_logging(&ws, ":0", "logfmt"), ws))
            .await
            .unwrap()
            .0;
    let address = logfmt_value(&started, "address");
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0, "the chosen port is logged: {started}");
    assert_eq!(
        logfmt_value(&started, "url"),
        format!("http://localhost:{port}/metrics"),
        "{started}"
    );
    let client = crate::support::client();
    let v4 = client
        .get(format!("http://127.0.0.1:{port}/-/healthy"))
        .send()
        .await
        .expect("IPv4 loopback answers");
    assert_eq!(v4.status(), 200);
    if has_ipv6_loopback() {
        let v6 = client
            .get(format!("http://[::1]:{port}/-/healthy"))
            .send()
            .await
            .expect("IPv6 loopback answers");
        assert_eq!(v6.status(), 200);
    }
    send(&child, libc::SIGTERM);
    let status = tokio::task::spawn_blocking(move || wait(child))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_address_is_logged_as_a_valid_url() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let (child, started) =
        tokio::task::spawn_blocking(move || (start_logging(&ws, "[::1]:0", "logfmt"), ws))
            .await
            .unwrap()
            .0;
    let url = logfmt_value(&started, "url");
    assert!(url.starts_with("http://[::1]:"), "{started}");
    let response = crate::support::client()
        .get(url)
        .send()
        .await
        .expect("the logged URL answers");
    assert_eq!(response.status(), 200);
    send(&child, libc::SIGTERM);
    let status = tokio::task::spawn_blocking(move || wait(child))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_malformed_listen_address_is_exit_2_quoting_the_input_once() {
    let ws = Workspace::new("http://127.0.0.1:1", "");
    for bad in ["127.0.0.1", "256.1.1.1:80", ":99999", "::1:9887", "[::1]"] {
        let out = output(&[
            &format!("--config.file={}", ws.config().display()),
            &format!("--web.listen-address={bad}"),
        ]);
        let printed = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{bad}: {printed}");
        let quoted = format!("--web.listen-address={bad:?} is not valid");
        assert_eq!(printed.matches(&quoted).count(), 1, "{bad}: {printed}");
        assert!(!printed.contains("0.0.0.0"), "{printed}");
        assert_eq!(printed.lines().count(), 1, "{printed}");
    }
}

#[test]
fn a_taken_port_is_exit_1_and_said_once() {
    let ws = Workspace::new("http://127.0.0.1:1", "");
    let port = free_port();
    let _held = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let address = format!("127.0.0.1:{port}");
    let out = output(&[
        &format!("--config.file={}", ws.config().display()),
        &format!("--web.listen-address={address}"),
    ]);
    let printed = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert_eq!(
        printed
            .matches(&format!("cannot listen on {address}"))
            .count(),
        1,
        "{printed}"
    );
}

#[test]
fn a_bad_flag_quotes_the_input_and_exits_2() {
    let out = output(&["--log.level=loud"]);
    let printed = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(printed.contains("'loud'"), "{printed}");
    assert_eq!(printed.matches("loud").count(), 1, "{printed}");
}

/// Every line of `text` is a JSON object with Prometheus's log keys.
fn assert_json_lines(text: &str) {
    assert!(!text.trim().is_empty());
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\nin:\n{text}"));
        for key in ["time", "level", "msg", "source"] {
            assert!(value.get(key).is_some(), "no {key}: {line}");
        }
        let level = value["level"].as_str().unwrap();
        assert_eq!(level, level.to_lowercase(), "{line}");
    }
}

#[test]
fn with_json_logs_every_stderr_line_is_json_errors_included() {
    let ws = Workspace::new(
        "http://127.0.0.1:1",
        "refresh:\n  length: 0\n  interval: 5M\n",
    );
    let config = format!("--config.file={}", ws.config().display());
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec![&config, "--log.format=json"], 2),
        (
            vec![
                &config,
                "--log.format",
                "json",
                "--web.listen-address=:99999",
            ],
            2,
        ),
        (vec!["--log.format=json", "--log.level=loud"], 2),
        (
            vec![
                "--log.format=json",
                "--config.check",
                "--config.file=/nonexistent",
            ],
            2,
        ),
    ];
    for (args, code) in cases {
        let out = output(&args);
        let printed = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {printed}");
        assert_json_lines(&printed);
    }
    let out = output(&[&config, "--log.format=json"]);
    let printed = stderr(&out);
    assert!(printed.contains("refresh.length: must be between 2 and 100, got 0"));
    assert!(printed.contains(r#"refresh.interval: "#), "{printed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn running_logs_are_json_and_logfmt_with_prometheus_keys() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let (child, started, ws) = tokio::task::spawn_blocking(move || {
        let (child, started) = start_logging(&ws, "127.0.0.1:0", "json");
        (child, started, ws)
    })
    .await
    .unwrap();
    assert_json_lines(&started);
    let value: serde_json::Value = serde_json::from_str(&started).unwrap();
    assert_eq!(value["level"], "info");
    assert_eq!(value["msg"], "braze-exporter started");
    send(&child, libc::SIGTERM);
    let status = tokio::task::spawn_blocking(move || wait(child))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));

    let (child, started) =
        tokio::task::spawn_blocking(move || start_logging(&ws, "127.0.0.1:0", "logfmt"))
            .await
            .unwrap();
    assert!(started.starts_with("time="), "{started}");
    assert!(started.contains(" level=info "), "{started}");
    assert!(started.contains(" source="), "{started}");
    assert!(
        started.contains(" msg=\"braze-exporter started\""),
        "{started}"
    );
    assert!(!started.contains(KEY));
    send(&child, libc::SIGTERM);
    let status = tokio::task::spawn_blocking(move || wait(child))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
