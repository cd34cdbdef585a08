//! Bad input as the process meets it: durations, key sources and ids. Each is refused with
//! exit 2 (or a failed reload) naming the field and the value; none panics, none hangs, and
//! the key never shows.

use std::process::{Command, Output, Stdio};

use crate::support::{simulator, Exporter, Workspace, BIN, KEY, PATIENCE};

fn run(args: &[&str], key_env: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("BRAZE_API_KEY");
    if let Some(key) = key_env {
        command.env("BRAZE_API_KEY", key);
    }
    command.stdin(Stdio::null());
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Bounded: a hang (a FIFO read) fails the test instead of stalling the suite.
    let (done, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match waited.recv_timeout(PATIENCE) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("{args:?} still running after {PATIENCE:?}");
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A configuration whose key file is `key_file` and whose extra lines are `extra`.
fn config_with(dir: &tempfile::TempDir, key_file: Option<&str>, extra: &str) -> String {
    let key = key_file.map_or(String::new(), |k| format!("  api_key_file: {k}\n"));
    let path = dir.path().join("c.yml");
    std::fs::write(
        &path,
        format!("braze:\n  url: http://127.0.0.1:1\n{key}{extra}"),
    )
    .unwrap();
    format!("--config.file={}", path.display())
}

#[test]
fn surprising_durations_are_exit_2_naming_field_and_value() {
    let dir = tempfile::tempdir().unwrap();
    for (field, value) in [
        ("refresh:\n  interval", "5M"),
        ("refresh:\n  interval", "1y"),
        ("refresh:\n  interval", "100000000000y"),
        ("refresh:\n  stale_after", "200000000000y"),
        ("refresh:\n  delay", "9999999999999999w"),
        ("  timeout", "1H"),
        ("refresh:\n  interval", "2w"),
    ] {
        let config = config_with(&dir, None, &format!("{field}: {value}\n"));
        let path = field.replace(":\n  ", ".").trim().to_string();
        let path = if path == "timeout" {
            "braze.timeout".to_string()
        } else {
            path
        };
        for args in [vec![config.as_str()], vec!["--config.check", &config]] {
            let out = run(&args, Some(KEY));
            let printed = text(&out);
            assert_eq!(out.status.code(), Some(2), "{value}: {printed}");
            assert!(
                printed.contains(&format!("{path}: ")) && printed.contains(&format!("{value:?}")),
                "{path} {value}: {printed}"
            );
            assert!(!printed.contains("panicked"), "{printed}");
        }
    }
}

#[tokio::test]
async fn a_reload_with_an_overflowing_duration_fails_cleanly() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &["--web.enable-lifecycle"]).await;
    let good = std::fs::read_to_string(ws.config()).unwrap();
    std::fs::write(
        ws.config(),
        good.replace("apps:", "refresh:\n  interval: 200000000000y\napps:"),
    )
    .unwrap();
    let response = exporter.post("/-/reload").await;
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("refresh.interval") && body.contains("\"200000000000y\""),
        "{body}"
    );
    assert!(!body.contains("task"), "{body}");
    assert!(exporter.get("/-/healthy").await.is_some(), "still serving");
    let (code, printed) = exporter.terminate().await;
    assert_eq!(code, Some(0), "{printed}");
    assert!(!printed.contains("panicked"), "{printed}");
}

#[test]
fn key_files_that_are_not_small_regular_files_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = dir.path().join("big");
    std::fs::write(&big, "k".repeat(10 * 1024 * 1024)).unwrap();
    for (file, says) in [
        ("/dev/zero".to_string(), "is not a regular file (a device)"),
        (fifo.display().to_string(), "is not a regular file (a FIFO)"),
        (
            dir.path().display().to_string(),
            "is not a regular file (a directory)",
        ),
        (
            big.display().to_string(),
            "holds 10485760 bytes, more than 1024",
        ),
    ] {
        let config = config_with(&dir, Some(&file), "");
        let out = run(&[&config, "--web.listen-address=127.0.0.1:0"], Some(KEY));
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {printed}");
        assert!(
            printed.contains(&format!("braze.api_key_file: {file} {says}")),
            "{file}: {printed}"
        );
        // --config.check warns (the Secret may be mounted elsewhere) and does not hang.
        let out = run(&["--config.check", &config], None);
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(0), "{file}: {printed}");
        assert!(printed.contains(says), "{file}: {printed}");
        assert!(printed.len() < 10_000, "the file is not echoed");
    }
}

#[tokio::test]
async fn a_key_file_with_a_byte_order_mark_works() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    std::fs::write(ws.dir.path().join("api-key"), format!("\u{feff}{KEY}\r\n")).unwrap();
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("sessions fetched with the key", |t| {
            t.contains("braze_sessions{")
        })
        .await;
    assert!(
        text.contains(r#"braze_api_request_failures_total{reason="unauthorized"} 0"#),
        "{text}"
    );
    exporter.terminate().await;
}

#[test]
fn errors_in_the_environment_variable_name_it_not_the_file_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(&dir, None, "");
    let out = run(
        &[&config, "--web.listen-address=127.0.0.1:0"],
        Some("\"quoted-key\""),
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("the environment variable BRAZE_API_KEY is wrapped in quotes"),
        "{printed}"
    );
    assert!(!printed.contains("braze.api_key_file"), "{printed}");
    assert!(!printed.contains("quoted-key"), "{printed}");
    // The file wins when both are given: a good file and a bad variable is fine.
    let key = dir.path().join("api-key");
    std::fs::write(&key, KEY).unwrap();
    let config = config_with(&dir, Some(&key.display().to_string()), "");
    let out = run(&["--config.check", &config], Some("\"quoted-key\""));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("warning"), "{}", text(&out));
}

#[test]
fn ids_with_control_characters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        &dir,
        None,
        "apps:\n  - name: ios\n    id: \"a\\u001b[31mb\"\n",
    );
    let out = run(&["--config.check", &config], Some(KEY));
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("apps[0].id: must not contain control characters"),
        "{printed}"
    );
    assert!(
        !printed.contains('\u{1b}'),
        "escaped, not echoed raw: {printed}"
    );
}
