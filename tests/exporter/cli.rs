//! `--config.check`, `--version` and refusals before anything binds.

use std::process::{Command, Output};

use crate::support::{free_port, Workspace, BIN, KEY};

fn run(args: &[&str], key_env: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("BRAZE_API_KEY");
    if let Some(key) = key_env {
        command.env("BRAZE_API_KEY", key);
    }
    command.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn config_check_prints_every_series_and_exits_zero() {
    let ws = Workspace::new("https://rest.iad-01.braze.com", "");
    let out = run(
        &[
            "--config.check",
            &format!("--config.file={}", ws.config().display()),
        ],
        None,
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(printed.contains("6 series would be polled"), "{printed}");
    for line in [
        "  app=all segment=all",
        "  app=all segment=paying (segment_id=demo-seg-paying)",
        "  app=ios (app_id=demo-app-ios) segment=all",
        "  app=android (app_id=demo-app-android) segment=paying (segment_id=demo-seg-paying)",
    ] {
        assert!(
            printed.lines().any(|l| l == line),
            "missing {line:?} in\n{printed}"
        );
    }
    assert!(
        !printed.contains(KEY),
        "the key leaked into --config.check output"
    );
}

#[test]
fn a_bad_config_is_refused_before_the_port_is_bound() {
    let ws = Workspace::new("https://rest.iad-01.braze.com", "refresh:\n  length: 0\n");
    // Hold the port: if the exporter tried to bind before validating, it would say so.
    let port = free_port();
    let _held = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let out = run(
        &[
            &format!("--config.file={}", ws.config().display()),
            &format!("--web.listen-address=127.0.0.1:{port}"),
        ],
        None,
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("refresh.length: must be between 2 and 100, got 0"),
        "{printed}"
    );
    assert!(!printed.contains("cannot listen"), "{printed}");
    assert!(!printed.contains("panicked"), "{printed}");
}

#[test]
fn a_missing_key_says_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yml");
    std::fs::write(&config, "braze:\n  url: https://rest.iad-01.braze.com\n").unwrap();
    // Running without a key is refused before anything starts.
    let out = run(
        &[
            &format!("--config.file={}", config.display()),
            "--web.listen-address=127.0.0.1:0",
        ],
        None,
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("braze.api_key_file: no Braze REST API key"),
        "{printed}"
    );
    assert!(printed.contains("BRAZE_API_KEY"), "{printed}");
    // --config.check runs where the key's Secret is not mounted: it warns, and checks the rest.
    let out = run(
        &[
            "--config.check",
            &format!("--config.file={}", config.display()),
        ],
        None,
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("warning: braze.api_key_file: no Braze REST API key"),
        "{printed}"
    );
    // The environment variable is enough.
    let out = run(
        &[
            "--config.check",
            &format!("--config.file={}", config.display()),
        ],
        Some(KEY),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(KEY));
}

#[test]
fn a_key_file_that_fails_says_the_environment_variable_was_set_and_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yml");
    std::fs::write(
        &config,
        "braze:\n  url: https://rest.iad-01.braze.com\n  api_key_file: /nonexistent/api-key\n",
    )
    .unwrap();
    let out = run(
        &[
            &format!("--config.file={}", config.display()),
            "--web.listen-address=127.0.0.1:0",
        ],
        Some(KEY),
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains("braze.api_key_file: cannot read /nonexistent/api-key"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "(BRAZE_API_KEY is set but not used: braze.api_key_file wins when both are given)"
        ),
        "{printed}"
    );
    assert!(!printed.contains(KEY), "{printed}");
}

#[test]
fn a_missing_key_names_the_permission_of_every_exported_kind() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yml");
    std::fs::write(
        &config,
        "braze:\n  url: https://rest.iad-01.braze.com\n\
         export: {kpis: {metrics: [dau]}, segment_sizes: {}}\nsegments: [{name: paying, id: s1}]\n",
    )
    .unwrap();
    let out = run(
        &[
            &format!("--config.file={}", config.display()),
            "--web.listen-address=127.0.0.1:0",
        ],
        None,
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains(
            "(the key needs the permissions kpi.dau.data_series and segments.data_series)"
        ),
        "{printed}"
    );
    assert!(
        !printed.contains("sessions.data_series"),
        "not exported: {printed}"
    );
}

#[test]
fn config_check_ends_with_its_warnings_then_the_verdict() {
    // Over budget: 6 series every 1s are 21,600 requests an hour, over 100.
    let ws = Workspace::new(
        "https://rest.iad-01.braze.com",
        "refresh:\n  interval: 1s\n  length: 2\n  delay: 30m\n",
    );
    let text = std::fs::read_to_string(ws.config())
        .unwrap()
        .replace(
            "max_requests_per_hour: 250000",
            "max_requests_per_hour: 100",
        )
        .replace(
            &format!("api_key_file: {}", ws.dir.path().join("api-key").display()),
            "api_key_file: /nonexistent/api-key",
        );
    std::fs::write(ws.config(), text).unwrap();
    let out = run(
        &[
            "--config.check",
            &format!("--config.file={}", ws.config().display()),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", self::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let verdict = format!("{}: valid, with 3 warnings", ws.config().display());
    assert_eq!(lines.last(), Some(&verdict.as_str()), "{stdout}");
    let warnings: Vec<&str> = lines
        .iter()
        .copied()
        .skip_while(|l| !l.starts_with("warning: "))
        .collect();
    assert_eq!(
        warnings.len(),
        4,
        "three warnings, then the verdict:\n{stdout}"
    );
    assert!(
        warnings[0].starts_with("warning: braze.api_key_file: cannot read /nonexistent/api-key")
    );
    assert!(
        warnings[1].contains("over braze.max_requests_per_hour (100)"),
        "{stdout}"
    );
    assert!(
        warnings[2].starts_with("warning: refresh: with delay 30m and length 2"),
        "{stdout}"
    );
    assert!(!stdout.contains(": valid\n"), "no early verdict:\n{stdout}");
}

#[test]
fn a_missing_config_file_names_it() {
    let out = run(
        &["--config.check", "--config.file=/nonexistent/braze.yml"],
        Some(KEY),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("/nonexistent/braze.yml: cannot read the file"),
        "{}",
        text(&out)
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let out = run(&["--log.level=loud"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--log.level"), "{}", text(&out));
    let out = run(&["--web.telemetry-path=/-/ready"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--web.telemetry-path"),
        "{}",
        text(&out)
    );
}

#[test]
fn version_is_printed() {
    let out = run(&["--version"], None);
    assert_eq!(out.status.code(), Some(0));
    // Prometheus's form (this assertion was `starts_with("braze-exporter 0.1.0")`, clap's).
    let printed = text(&out);
    let first = printed.lines().next().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        first.starts_with(&format!("braze-exporter, version {version} (branch: "))
            && first.contains(", revision: ")
            && first.ends_with(')'),
        "{printed}"
    );
    for label in ["build user:", "build date:", "rust version:", "platform:"] {
        assert!(
            printed.lines().any(|l| l.trim_start().starts_with(label)),
            "no {label} in {printed}"
        );
    }
    assert_eq!(text(&run(&["-V"], None)), printed);
}

#[tokio::test]
async fn build_info_carries_the_labels_version_prints() {
    let out = run(&["--version"], None);
    let printed = text(&out);
    let first = printed.lines().next().unwrap();
    let between = |after: &str, before: &str| {
        let start = first.find(after).unwrap() + after.len();
        first[start..][..first[start..].find(before).unwrap()].to_string()
    };
    let branch = between("(branch: ", ",");
    let revision = between("revision: ", ")");
    let rust = printed
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("rust version:"))
        .unwrap()
        .trim()
        .to_string();
    let sim = crate::support::simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = crate::support::Exporter::start(&ws.config(), &[]).await;
    let metrics = exporter.metrics().await;
    let line = format!(
        "braze_exporter_build_info{{branch=\"{branch}\",revision=\"{revision}\",rustversion=\"{rust}\",version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        metrics.lines().any(|l| l == line),
        "no {line} in\n{metrics}"
    );
    exporter.terminate().await;
}

#[test]
fn help_names_the_key_variable_and_the_exit_codes() {
    let out = run(&["--help"], None);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(printed.contains("BRAZE_API_KEY"), "{printed}");
    assert!(printed.contains("Exit codes:"), "{printed}");
    for code in ["  0  ", "  1  ", "  2  "] {
        assert!(printed.contains(code), "no exit code {code:?} in {printed}");
    }
    assert!(printed.contains("--version"), "{printed}");
}

#[test]
fn demo_config_check_needs_no_key_and_no_file() {
    let out = run(
        &["--demo", "--config.check", "--config.file=/nonexistent.yml"],
        None,
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    // It says what it checked: the demo's own configuration, not a file that does not exist.
    assert!(
        printed
            .trim_end()
            .ends_with("the demo's configuration: valid"),
        "{printed}"
    );
    assert!(!printed.contains("nonexistent.yml"), "{printed}");
    // Every kind, with its cost; discovery adds what the simulator lists when it runs.
    assert!(printed.contains("62 series would be polled"), "{printed}");
    for block in [
        "sessions",
        "kpis",
        "events",
        "purchases",
        "segment_sizes",
        "campaigns",
        "canvases",
        "sends",
    ] {
        assert!(
            printed.contains(&format!("export.{block}: every ")),
            "{printed}"
        );
    }
    assert!(
        printed.contains("discover: segments, events, products, campaigns, canvases every 5m"),
        "{printed}"
    );
}

#[test]
fn a_telemetry_path_the_exporter_serves_is_refused_before_binding() {
    // The port is held here, so an exporter that got as far as binding would exit 1.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("--web.listen-address={}", held.local_addr().unwrap());
    for path in ["/", "/-/healthy", "/-/ready", "/-/reload", "metrics"] {
        let flag = format!("--web.telemetry-path={path}");
        let out = run(&["--demo", &address, &flag], None);
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(2), "{path}: {printed}");
        assert!(
            printed.contains("--web.telemetry-path"),
            "{path}: {printed}"
        );
        assert!(printed.contains(&format!("{path:?}")), "{path}: {printed}");
    }
}

#[test]
fn config_check_says_how_long_series_keep_their_values_under_a_tight_budget() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        "braze:\n  url: https://rest.iad-01.braze.com\n  max_requests_per_hour: 1800\n\
         refresh:\n  interval: 2s\n\
         apps:\n  - {name: a, id: a}\n  - {name: b, id: b}\n  - {name: c, id: c}\n\
         segments:\n  - {name: s, id: s}\n  - {name: t, id: t}\n",
    )
    .unwrap();
    let flag = format!("--config.file={}", config.display());
    let out = run(&["--config.check", &flag], Some("a-key"));
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(printed.contains("12 series would be polled"), "{printed}");
    assert!(
        printed.contains("each refresh will take about 24s"),
        "{printed}"
    );
    assert!(
        printed.contains("series keep their values for 1m 12s without an answer from Braze"),
        "{printed}"
    );
}
