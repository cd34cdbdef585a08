//! The whole path: simulator → exporter binary → /metrics, checked by value and by promtool.

use braze_simulator::{self as simulator, Fault, FaultTarget, Unit};
use jiff::Timestamp;

use crate::support::{
    client, promtool_check_metrics, sample, sessions_kind, simulator, Exporter, Workspace, KEY,
};

const IOS_ALL: &str = r#"{app_name="ios",segment_name="all",unit="hour"}"#;

#[tokio::test]
async fn serves_the_right_sessions_for_the_right_buckets_and_stops_on_sigterm() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &["--log.level=debug"]).await;
    // The first refresh is published, and the self-metrics (up to a second old) have caught up.
    exporter
        .wait_for_metrics("the first refresh", |t| {
            t.contains("braze_sessions{") && t.contains("braze_api_requests_total 6")
        })
        .await;
    let response = exporter.get("/metrics").await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    promtool_check_metrics(&text);

    // Each series shows what the simulator counts for the bucket the exporter names.
    for (app_name, app_id) in [
        ("all", None),
        ("ios", Some("demo-app-ios")),
        ("android", Some("demo-app-android")),
    ] {
        for (segment_name, segment_id) in [("all", None), ("paying", Some("demo-seg-paying"))] {
            let labels =
                format!(r#"{{app_name="{app_name}",segment_name="{segment_name}",unit="hour"}}"#);
            let start = sample(
                &text,
                &format!("braze_sessions_bucket_timestamp_seconds{labels}"),
            )
            .unwrap();
            let start = Timestamp::from_second(start as i64).unwrap();
            let expected = simulator::sessions_in_bucket(
                app_id,
                segment_id,
                Unit::Hour,
                start.to_zoned(jiff::tz::TimeZone::UTC),
            );
            assert_eq!(
                sample(&text, &format!("braze_sessions{labels}")),
                Some(expected as f64),
                "{labels}"
            );
            assert_eq!(
                sample(&text, &format!("braze_up{}", sessions_kind(&labels))),
                Some(1.0)
            );
            // The latest complete hour: it ended before now, and the next one has not.
            let age = Timestamp::now().as_second() - start.as_second();
            assert!(
                (3600..7200 + 60).contains(&age),
                "bucket age {age}s for {labels}"
            );
        }
    }
    assert!(sample(&text, &format!("braze_sessions_in_progress{IOS_ALL}")).is_some());
    assert_eq!(sample(&text, "braze_api_requests_total"), Some(6.0));
    assert_eq!(sample(&text, "braze_series"), Some(6.0));
    assert!(sample(&text, "braze_api_rate_limit_remaining{pool=\"shared\"}").is_some());
    assert!(text.contains("braze_exporter_build_info{"));

    // gzip, as Prometheus asks for it, decodes to the same text.
    let gz = client()
        .get(format!("{}/metrics", exporter.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let bytes = gz.bytes().await.unwrap();
    let mut decoded = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut decoded)
        .unwrap();
    let series_part = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with("braze_sessions"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(series_part(&decoded), series_part(&text));

    // The other endpoints.
    let landing = exporter.get("/").await.unwrap().text().await.unwrap();
    assert!(landing.contains("href=\"/metrics\""), "{landing}");
    assert_eq!(exporter.get("/-/healthy").await.unwrap().status(), 200);
    assert_eq!(exporter.get("/-/ready").await.unwrap().status(), 200);
    assert_eq!(exporter.get("/nope").await.unwrap().status(), 404);

    let (code, output) = exporter.terminate().await;
    assert_eq!(code, Some(0), "{output}");
    assert!(
        !output.contains(KEY),
        "the key appeared in the logs:\n{output}"
    );
    assert!(
        output.contains("level=debug") || output.contains("level=info"),
        "{output}"
    );
}

#[tokio::test]
async fn scrapes_never_reach_braze_even_when_it_hangs() {
    let sim = simulator(|_| {}).await;
    sim.faults().set(FaultTarget::All, Fault::Hang);
    let ws = Workspace::new(&sim.url(), "");
    // Every series' request in flight at once, and none timing out (so none retried) while
    // the test scrapes: the only requests Braze can see are the refresher's six.
    let text = std::fs::read_to_string(ws.config()).unwrap();
    let text = text.replace("  timeout: 2s\n", "  timeout: 10m\n  max_concurrency: 8\n");
    std::fs::write(ws.config(), text).unwrap();
    let exporter = Exporter::start(&ws.config(), &[]).await;
    exporter
        .wait_until(|| async { sim.requests_received() == 6 })
        .await;
    // Self-metrics may be up to a second old: wait for the count, then scrape some more.
    exporter
        .wait_for_metrics("the requests count", |t| {
            t.contains("braze_api_requests_total 6")
        })
        .await;
    for _ in 0..5 {
        let text = exporter.metrics().await;
        assert!(text.contains("braze_api_requests_total 6"), "{text}");
    }
    assert_eq!(
        sim.requests_received(),
        6,
        "a scrape caused a request to Braze"
    );
    exporter.terminate().await;
}

#[tokio::test]
async fn the_key_stays_out_of_logs_even_when_braze_echoes_it() {
    let sim = simulator(|_| {}).await;
    sim.faults().set(
        FaultTarget::All,
        Fault::Status {
            status: 400,
            message: format!("bad request for key {KEY}"),
        },
    );
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &["--log.level=debug", "--log.format=json"]).await;
    exporter
        .wait_until(|| async {
            exporter
                .metrics()
                .await
                .contains("reason=\"bad_request\"} 6")
        })
        .await;
    let text = exporter.metrics().await;
    assert_eq!(
        sample(&text, &format!("braze_up{}", sessions_kind(IOS_ALL))),
        Some(0.0)
    );
    assert!(!text.contains(KEY));
    let page = exporter.get("/").await.unwrap().text().await.unwrap();
    assert!(!page.contains(KEY));
    let (code, output) = exporter.terminate().await;
    assert_eq!(code, Some(0));
    assert!(
        output.contains("<redacted>"),
        "Braze's message should be logged, redacted:\n{output}"
    );
    assert!(
        !output.contains(KEY),
        "the key appeared in the logs:\n{output}"
    );
}
