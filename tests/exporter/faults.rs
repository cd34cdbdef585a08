//! Braze misbehaving: every bad answer is a counted failure of its own series only.

use braze_simulator::{self as simulator, Fault, FaultTarget, Unit};
use jiff::Timestamp;

use crate::support::{sample, simulator, Exporter, Workspace};

fn target(app: Option<&str>, segment: Option<&str>) -> FaultTarget {
    FaultTarget::Series {
        app_id: app.map(str::to_string),
        segment_id: segment.map(str::to_string),
    }
}

fn up(text: &str, app: &str, segment: &str) -> Option<f64> {
    sample(
        text,
        &format!(
            r#"braze_up{{kind="sessions",app_name="{app}",segment_name="{segment}",unit="hour"}}"#
        ),
    )
}

fn failures(text: &str, reason: &str) -> f64 {
    sample(
        text,
        &format!(r#"braze_api_request_failures_total{{reason="{reason}"}}"#),
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn bad_answers_fail_their_own_series_and_spare_the_rest() {
    let sim = simulator(|_| {}).await;
    let (ios, android, paying) = (
        Some("demo-app-ios"),
        Some("demo-app-android"),
        Some("demo-seg-paying"),
    );
    sim.faults().set(target(ios, None), Fault::MalformedJson);
    sim.faults().set(target(ios, paying), Fault::WrongShape);
    sim.faults()
        .set(target(android, None), Fault::Oversized(3 * 1024 * 1024));
    sim.faults()
        .set(target(android, paying), Fault::BareStatus(502));
    sim.faults().set(target(None, paying), Fault::Hang);
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &["--log.level=debug"]).await;
    let text = exporter
        .wait_for_metrics("every failure kind", |t| {
            failures(t, "malformed_response") >= 2.0
                && failures(t, "body_too_large") >= 1.0
                && failures(t, "server_error") >= 1.0
                && failures(t, "timeout") >= 1.0
                && up(t, "ios", "all").is_some()
                && up(t, "android", "paying").is_some()
        })
        .await;
    for (app, segment) in [
        ("ios", "all"),
        ("ios", "paying"),
        ("android", "all"),
        ("android", "paying"),
    ] {
        assert_eq!(up(&text, app, segment), Some(0.0), "{app}/{segment}");
        let data = format!(r#"braze_sessions{{app_name="{app}",segment_name="{segment}""#);
        assert!(
            !text.contains(&data),
            "no value for a series that never answered well: {data}"
        );
    }
    // The workspace total is unaffected, and right.
    assert_eq!(up(&text, "all", "all"), Some(1.0));
    let labels = r#"{app_name="all",segment_name="all",unit="hour"}"#;
    let start = sample(
        &text,
        &format!("braze_sessions_bucket_timestamp_seconds{labels}"),
    )
    .unwrap();
    let start = Timestamp::from_second(start as i64)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC);
    let expected = simulator::sessions_in_bucket(None, None, Unit::Hour, start) as f64;
    assert_eq!(
        sample(&text, &format!("braze_sessions{labels}")),
        Some(expected)
    );
    let (code, output) = exporter.terminate().await;
    assert_eq!(code, Some(0), "{output}");
    assert!(!output.contains("panicked"), "{output}");
    assert!(
        output.contains("app_id=demo-app-ios"),
        "the failing series is named in the log:\n{output}"
    );
}

#[tokio::test]
async fn a_wrong_app_id_is_logged_once_with_brazes_message() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "refresh:\n  interval: 1s\n");
    let text = std::fs::read_to_string(ws.config())
        .unwrap()
        .replace("id: demo-app-android", "id: no-such-app");
    std::fs::write(ws.config(), text).unwrap();
    let exporter = Exporter::start(&ws.config(), &[]).await;
    exporter
        .wait_for_metrics("several refreshes", |t| {
            sample(t, r#"braze_refreshes_total{export="sessions"}"#).unwrap_or(0.0) >= 3.0
        })
        .await;
    let text = exporter.metrics().await;
    assert_eq!(up(&text, "android", "all"), Some(0.0));
    assert_eq!(up(&text, "ios", "all"), Some(1.0));
    let (_, output) = exporter.terminate().await;
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("fetch failed") && l.contains("app_id=no-such-app"))
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "once per failing series (android/all, android/paying), not per refresh:\n{output}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains("HTTP 400") && l.contains("app_id")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_200_whose_message_is_not_success_is_a_failed_export() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "refresh:\n  interval: 1s\n  stale_after: 1h\n");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let value = r#"braze_sessions{app_name="ios",segment_name="all",unit="hour"}"#;
    exporter
        .wait_for_metrics("a good value", |t| {
            up(t, "ios", "all") == Some(1.0) && sample(t, value).is_some()
        })
        .await;
    sim.faults().set(
        target(Some("demo-app-ios"), None),
        Fault::Unsuccessful("partial results, try again later".into()),
    );
    let failed = exporter
        .wait_for_metrics("two unsuccessful exports", |t| {
            failures(t, "unsuccessful") >= 2.0
        })
        .await;
    let later = exporter
        .wait_for_metrics("one more", |t| {
            failures(t, "unsuccessful") > failures(&failed, "unsuccessful")
        })
        .await;
    for text in [&failed, &later] {
        assert_eq!(up(text, "ios", "all"), Some(0.0));
        assert_eq!(up(text, "android", "all"), Some(1.0), "others unaffected");
        assert_eq!(failures(text, "malformed_response"), 0.0, "its own reason");
        assert!(
            !text.contains(&simulator::UNSUCCESSFUL_VALUE.to_string()),
            "a number of the unsuccessful export was published:\n{text}"
        );
    }
    let kept = sample(&failed, value).expect("the last good value is kept");
    assert_eq!(sample(&later, value), Some(kept));
    let (_, output) = exporter.terminate().await;
    assert!(
        output.contains("reason=unsuccessful")
            && output.contains("partial results, try again later"),
        "{output}"
    );
}

#[tokio::test]
async fn a_403_names_the_permission_and_a_401_says_to_check_the_key_and_url() {
    let sim = simulator(|c| {
        c.permissions = Some(["sessions.data_series".to_string()].into());
    })
    .await;
    let ws = Workspace::new(
        &sim.url(),
        "export:\n  sessions: {}\n  kpis: {metrics: [dau]}\n",
    );
    let exporter = Exporter::start(&ws.config(), &[]).await;
    exporter
        .wait_for_metrics("a 403", |t| failures(t, "forbidden") >= 1.0)
        .await;
    let (_, output) = exporter.terminate().await;
    let forbidden = output
        .lines()
        .find(|l| l.contains("reason=forbidden"))
        .unwrap_or_else(|| panic!("no 403 logged:\n{output}"));
    let error = forbidden
        .split("error=")
        .nth(1)
        .unwrap_or_else(|| panic!("{forbidden}"));
    assert!(
        error.contains("HTTP 403") && error.contains("lacks the permission kpi.dau.data_series"),
        "the error itself names the permission: {forbidden}"
    );

    let wrong = simulator(|c| c.api_key = "another-workspace-key".into()).await;
    let ws = Workspace::new(&wrong.url(), "");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    exporter
        .wait_for_metrics("a 401", |t| failures(t, "unauthorized") >= 1.0)
        .await;
    let (_, output) = exporter.terminate().await;
    let unauthorized = output
        .lines()
        .find(|l| l.contains("reason=unauthorized"))
        .unwrap_or_else(|| panic!("no 401 logged:\n{output}"));
    assert!(
        unauthorized.contains("HTTP 401")
            && unauthorized.contains("check the API key")
            && unauthorized.contains("braze.url is the instance"),
        "{unauthorized}"
    );
    assert!(!output.contains(crate::support::KEY), "the key leaked");
}
