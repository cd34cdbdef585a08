//! Several Braze workspaces in one process: two simulators with their own zones, keys and
//! budgets, one exporter, the right values and labels for each, and a fault in one that leaves
//! the other untouched.

use braze_simulator::{self as simulator, Fault, FaultTarget, Simulator, SimulatorConfig, Unit};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::support::{promtool_check_metrics, sample, Exporter};

const EU_KEY: &str = "eu-secret-key-1a2b";
const US_KEY: &str = "us-secret-key-3c4d";

async fn braze(key: &str, time_zone: &str) -> Simulator {
    let mut config = SimulatorConfig::demo(key);
    config.time_zone = TimeZone::get(time_zone).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(config, listener).await.unwrap()
}

/// Two workspaces: `eu` in Asia/Kolkata (a half-hour zone) with a tight budget, `us` in
/// America/New_York.
fn two_workspaces(
    dir: &tempfile::TempDir,
    eu: &Simulator,
    us: &Simulator,
    extra: &str,
) -> std::path::PathBuf {
    std::fs::write(dir.path().join("eu-key"), EU_KEY).unwrap();
    std::fs::write(dir.path().join("us-key"), US_KEY).unwrap();
    let path = dir.path().join("config.yml");
    let text = format!(
        "refresh:\n  interval: 1h\n\
         workspaces:\n\
         \x20 - name: eu\n    braze: {{url: \"{eu}\", api_key_file: {eu_key}, time_zone: Asia/Kolkata, timeout: 2s, max_requests_per_hour: 900}}\n\
         \x20   apps: [{{name: ios, id: demo-app-ios}}]\n\
         \x20 - name: us\n    braze: {{url: \"{us}\", api_key_file: {us_key}, time_zone: America/New_York, timeout: 2s, max_requests_per_hour: 250000}}\n\
         \x20   apps: [{{name: web, id: demo-app-web}}]\n    export: {{sessions: {{}}, kpis: {{metrics: [dau]}}}}\n{extra}",
        eu = eu.url(),
        us = us.url(),
        eu_key = dir.path().join("eu-key").display(),
        us_key = dir.path().join("us-key").display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn sessions_of(app_id: Option<&str>, start: f64, zone: &str) -> f64 {
    let start = Timestamp::from_second(start as i64)
        .unwrap()
        .to_zoned(TimeZone::get(zone).unwrap());
    simulator::value_in_bucket(
        &simulator::Series::Sessions {
            app_id,
            segment_id: None,
        },
        Unit::Hour,
        start,
    )
}

#[tokio::test]
async fn two_workspaces_serve_their_own_values_zones_and_labels() {
    let (eu, us) = (
        braze(EU_KEY, "Asia/Kolkata").await,
        braze(US_KEY, "America/New_York").await,
    );
    let dir = tempfile::tempdir().unwrap();
    let config = two_workspaces(&dir, &eu, &us, "");
    let exporter = Exporter::start(&config, &[]).await;
    let text = exporter
        .wait_for_metrics("every series the test reads", |t| {
            // A round publishes as it goes: wait for each series read below, not just one.
            [
                "eu\",app_name=\"ios",
                "eu\",app_name=\"all",
                "us\",app_name=\"web",
            ]
            .iter()
            .all(|w| {
                t.contains(&format!(
                    "braze_sessions{{workspace=\"{w}\",segment_name=\"all\""
                ))
            }) && t.contains(r#"braze_dau{workspace="us",app_name="web",unit="day"}"#)
                && t.contains(r#"braze_up{kind="dau",workspace="us",app_name="all",unit="day"}"#)
                && t.contains(r#"braze_series{workspace="us"} 4"#)
        })
        .await;
    promtool_check_metrics(&text);
    for (workspace, app, app_id, zone) in [
        ("eu", "ios", Some("demo-app-ios"), "Asia/Kolkata"),
        ("eu", "all", None, "Asia/Kolkata"),
        ("us", "web", Some("demo-app-web"), "America/New_York"),
    ] {
        let labels = format!(
            r#"{{workspace="{workspace}",app_name="{app}",segment_name="all",unit="hour"}}"#
        );
        let start = sample(
            &text,
            &format!("braze_sessions_bucket_timestamp_seconds{labels}"),
        )
        .unwrap();
        let value = sample(&text, &format!("braze_sessions{labels}")).unwrap();
        assert_eq!(value, sessions_of(app_id, start, zone), "{workspace} {app}");
        let local = Timestamp::from_second(start as i64)
            .unwrap()
            .to_zoned(TimeZone::get(zone).unwrap());
        assert_eq!(local.minute(), 0, "{workspace}: a local hour of {zone}");
    }
    assert!(
        !text.contains(r#"braze_dau{workspace="eu""#),
        "eu exports sessions only"
    );
    // Each workspace's own self-metrics and budget, labelled; the process's once, unlabelled.
    assert!(
        text.contains(r#"braze_api_max_requests_per_hour{workspace="eu"} 900"#),
        "{text}"
    );
    assert!(text.contains(r#"braze_api_max_requests_per_hour{workspace="us"} 250000"#));
    assert!(text.contains(r#"braze_series{workspace="us"} 4"#), "{text}");
    assert!(text.contains(r#"braze_up{kind="dau",workspace="us",app_name="all",unit="day"} 1"#));
    assert_eq!(
        text.matches("\nbraze_config_last_reload_successful")
            .count(),
        1
    );
    assert!(
        !text.contains("\nbraze_sessions{app_name"),
        "no series without its workspace"
    );
    assert_eq!(
        (
            eu.requests_for(None, None) > 0,
            us.requests_for(None, None) > 0
        ),
        (true, true)
    );
    exporter.terminate().await;
}

#[tokio::test]
async fn a_fault_in_one_workspace_leaves_the_other_untouched() {
    let (eu, us) = (braze(EU_KEY, "UTC").await, braze(US_KEY, "UTC").await);
    // eu's Braze refuses the key and rate-limits; us's answers.
    eu.faults().set(
        FaultTarget::All,
        Fault::Status {
            status: 401,
            message: "Invalid API key".into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let config = two_workspaces(&dir, &eu, &us, "");
    let exporter = Exporter::start(&config, &[]).await;
    let text = exporter
        .wait_for_metrics("eu down, us up", |t| {
            t.contains(r#"braze_up{kind="sessions",workspace="eu",app_name="all",segment_name="all",unit="hour"} 0"#)
                && t.contains(r#"braze_up{kind="dau",workspace="us",app_name="all",unit="day"} 1"#)
        })
        .await;
    for line in text.lines().filter(|l| l.starts_with("braze_up{")) {
        let down = line.contains(r#"workspace="eu""#);
        assert!(line.ends_with(if down { " 0" } else { " 1" }), "{line}");
    }
    assert!(
        text.contains(r#"braze_api_request_failures_total{reason="unauthorized",workspace="eu"}"#)
            || text.contains(
                r#"braze_api_request_failures_total{workspace="eu",reason="unauthorized"}"#
            ),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("braze_api_request_failures_total{")
                && l.contains(r#"workspace="us""#)
                && l.contains("unauthorized")
                && l.ends_with(" 0")),
        "us never failed: {text}"
    );
    let (_, log) = exporter.terminate().await;
    assert!(
        !log.contains(EU_KEY) && !log.contains(US_KEY),
        "a key leaked into the log"
    );
}

#[tokio::test]
async fn workspace_runs_a_shard_of_a_shared_configuration() {
    let (eu, us) = (braze(EU_KEY, "UTC").await, braze(US_KEY, "UTC").await);
    let dir = tempfile::tempdir().unwrap();
    let config = two_workspaces(&dir, &eu, &us, "");
    // The us shard's pod mounts its own key alone.
    std::fs::remove_file(dir.path().join("eu-key")).unwrap();
    let checked = std::process::Command::new(crate::support::BIN)
        .args([
            &format!("--config.file={}", config.display()),
            "--workspace=us",
            "--config.check",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&checked.stdout).to_string()
        + &String::from_utf8_lossy(&checked.stderr);
    assert_eq!(checked.status.code(), Some(0), "{printed}");
    assert!(
        !printed.contains("eu-key") && !printed.contains("workspace eu"),
        "nothing of the eu shard: {printed}"
    );
    assert!(printed.trim_end().ends_with(": valid"), "{printed}");
    let exporter = Exporter::start(&config, &["--workspace=us"]).await;
    let text = exporter
        .wait_for_metrics("us only", |t| t.contains(r#"braze_dau{workspace="us""#))
        .await;
    assert!(!text.contains(r#"workspace="eu""#), "{text}");
    exporter.terminate().await;
    assert_eq!(
        eu.requests_received(),
        0,
        "the other shard's Braze is not asked"
    );
    let out = std::process::Command::new(crate::support::BIN)
        .args([
            &format!("--config.file={}", config.display()),
            "--workspace=asia",
            "--config.check",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "--workspace=\"asia\" is not a workspace of the configuration (it has eu, us)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn reload_adds_and_removes_workspaces_and_keeps_an_unchanged_one() {
    let (eu, us) = (braze(EU_KEY, "UTC").await, braze(US_KEY, "UTC").await);
    let dir = tempfile::tempdir().unwrap();
    let config = two_workspaces(&dir, &eu, &us, "");
    let both = std::fs::read_to_string(&config).unwrap();
    // Start with eu alone: the us entry is everything from its "- name: us" line on.
    let cut = both.find("  - name: us").unwrap();
    std::fs::write(&config, &both[..cut]).unwrap();
    let exporter = Exporter::start(&config, &[]).await;
    exporter
        .wait_for_metrics("eu", |t| t.contains(r#"braze_sessions{workspace="eu""#))
        .await;
    let eu_requests = eu.requests_received();
    std::fs::write(&config, &both).unwrap();
    exporter.signal("HUP");
    let text = exporter
        .wait_for_metrics("us added", |t| t.contains(r#"braze_dau{workspace="us""#))
        .await;
    assert!(
        text.contains(r#"braze_sessions{workspace="eu""#),
        "eu kept its values"
    );
    assert_eq!(
        eu.requests_received(),
        eu_requests,
        "eu is unchanged: not asked again"
    );
    // Now only us: eu's series and self-metrics go.
    let us_only = format!("refresh:\n  interval: 1h\nworkspaces:\n{}", &both[cut..]);
    std::fs::write(&config, us_only).unwrap();
    exporter.signal("HUP");
    let text = exporter
        .wait_for_metrics("eu removed", |t| !t.contains(r#"workspace="eu""#))
        .await;
    assert!(text.contains(r#"braze_dau{workspace="us""#));
    exporter.terminate().await;
}
