//! Every kind of Braze series, end to end: the binary against the simulator over loopback,
//! values and bucket timestamps checked against the simulator's own arithmetic.

use std::collections::BTreeMap;

use braze_simulator::{self as simulator, Kpi, Series, Unit, DEMO_APPS, DEMO_SEGMENTS};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::support::{promtool_check_metrics, simulator, Exporter, KEY};

/// One exposition line: name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|pair| {
                    let (k, v) = pair.split_once("=\"")?;
                    Some((k.to_string(), v.trim_end_matches('"').to_string()))
                })
                .collect();
            Some(Sample {
                name: name.to_string(),
                labels,
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// A configuration file for the simulator at `url`: apps ios, segments paying, and `rest`.
fn write_config(
    dir: &tempfile::TempDir,
    url: &str,
    time_zone: &str,
    rest: &str,
) -> std::path::PathBuf {
    std::fs::write(dir.path().join("api-key"), format!("{KEY}\n")).unwrap();
    let path = dir.path().join("config.yml");
    let text = format!(
        "braze:\n  url: {url}\n  api_key_file: {key}\n  time_zone: {time_zone}\n  timeout: 2s\n  max_requests_per_hour: 250000\n\
         refresh:\n  interval: 1h\n\
         apps:\n  - {{name: ios, id: {ios}}}\n\
         segments:\n  - {{name: paying, id: {paying}}}\n{rest}",
        key = dir.path().join("api-key").display(),
        ios = DEMO_APPS[0],
        paying = DEMO_SEGMENTS[0],
    );
    std::fs::write(&path, text).unwrap();
    path
}

const EVERY_KIND: &str = "export:\n  sessions: {}\n  kpis: {}\n  events: {names: [signup]}\n  \
                          purchases: {products: [premium_monthly]}\n  segment_sizes: {}\n";

const DATA_METRICS: [&str; 9] = [
    "braze_sessions",
    "braze_dau",
    "braze_mau",
    "braze_new_users",
    "braze_uninstalls",
    "braze_events",
    "braze_purchases",
    "braze_purchase_revenue",
    "braze_segment_size",
];

/// Braze's id for a label value of the test's configuration (`all` is no parameter).
fn id(label: Option<&String>) -> Option<&'static str> {
    match label.map(String::as_str) {
        Some("ios") => Some(DEMO_APPS[0]),
        Some("paying") => Some(DEMO_SEGMENTS[0]),
        _ => None,
    }
}

/// What the simulator serves for the series a sample names.
fn simulated<'a>(sample: &'a Sample) -> Series<'a> {
    let l = &sample.labels;
    let app_id = id(l.get("app_name"));
    let segment_id = id(l.get("segment_name"));
    let product = l.get("product").map(String::as_str).filter(|p| *p != "all");
    let kpi = |metric| Series::Kpi { metric, app_id };
    match sample.name.as_str() {
        "braze_sessions" => Series::Sessions { app_id, segment_id },
        "braze_dau" => kpi(Kpi::Dau),
        "braze_mau" => kpi(Kpi::Mau),
        "braze_new_users" => kpi(Kpi::NewUsers),
        "braze_uninstalls" => kpi(Kpi::Uninstalls),
        "braze_events" => Series::Event {
            name: &l["event"],
            app_id,
            segment_id,
        },
        "braze_purchases" => Series::PurchaseQuantity { product, app_id },
        "braze_purchase_revenue" => Series::Revenue { product, app_id },
        "braze_segment_size" => Series::SegmentSize {
            segment_id: segment_id.expect("a configured segment"),
        },
        other => panic!("not a data metric: {other}"),
    }
}

async fn every_kind_is_right_in(time_zone_name: &str) {
    let time_zone = TimeZone::get(time_zone_name).unwrap();
    let sim_zone = time_zone.clone();
    let sim = simulator(move |c| c.time_zone = sim_zone).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&dir, &sim.url(), time_zone_name, EVERY_KIND);
    let exporter = Exporter::start(&config, &[]).await;
    let text = exporter
        .wait_for_metrics("every kind", |t| {
            DATA_METRICS.iter().all(|m| t.contains(&format!("\n{m}{{")))
        })
        .await;
    promtool_check_metrics(&text);
    let all = samples(&text);
    let now = Timestamp::now();
    let mut checked = BTreeMap::<&str, usize>::new();
    for sample in all
        .iter()
        .filter(|s| DATA_METRICS.contains(&s.name.as_str()))
    {
        let bucket = all
            .iter()
            .find(|b| {
                b.name == format!("{}_bucket_timestamp_seconds", sample.name)
                    && b.labels == sample.labels
            })
            .unwrap_or_else(|| panic!("no bucket timestamp for {sample:?}"));
        let start = Timestamp::from_second(bucket.value as i64)
            .unwrap()
            .to_zoned(time_zone.clone());
        let unit = match sample.labels["unit"].as_str() {
            "hour" => Unit::Hour,
            _ => Unit::Day,
        };
        // The latest complete bucket of the company time zone: it starts on a local hour or
        // midnight, ended before now, and the one after it has not.
        assert_eq!(
            (start.minute(), start.second()),
            (0, 0),
            "{sample:?} at {start}"
        );
        let age = now.as_second() - start.timestamp().as_second();
        let (length, slack) = match unit {
            Unit::Hour => (3600, 60),
            Unit::Day => {
                assert_eq!(start.hour(), 0, "{sample:?} at {start}");
                (86_400, 60)
            }
        };
        assert!(
            (length..2 * length + slack).contains(&age),
            "{sample:?}: bucket {start} is {age}s old"
        );
        let expected = simulator::value_in_bucket(&simulated(sample), unit, start.clone());
        assert_eq!(
            sample.value, expected,
            "{sample:?} for the bucket at {start}"
        );
        *checked
            .entry(DATA_METRICS.iter().find(|m| **m == sample.name).unwrap())
            .or_default() += 1;
    }
    // ios and all, for every filter: 2×2 sessions, 2 per KPI, 1×2×2 events, 2×2 per purchase
    // kind, 1 segment.
    let expected = [
        ("braze_sessions", 4),
        ("braze_dau", 2),
        ("braze_mau", 2),
        ("braze_new_users", 2),
        ("braze_uninstalls", 2),
        ("braze_events", 4),
        ("braze_purchases", 4),
        ("braze_purchase_revenue", 4),
        ("braze_segment_size", 1),
    ];
    assert_eq!(checked, BTreeMap::from(expected), "{text}");
    for kind in [
        "sessions",
        "dau",
        "mau",
        "new_users",
        "uninstalls",
        "events",
        "purchases",
        "purchase_revenue",
        "segment_size",
    ] {
        let up: Vec<&Sample> = all
            .iter()
            .filter(|s| {
                s.name == "braze_up" && s.labels.get("kind").map(String::as_str) == Some(kind)
            })
            .collect();
        assert!(
            !up.is_empty() && up.iter().all(|s| s.value == 1.0),
            "braze_up for {kind}: {up:?}"
        );
    }
    exporter.terminate().await;
}

#[tokio::test]
async fn every_kind_serves_the_simulators_values_for_the_right_buckets() {
    every_kind_is_right_in("UTC").await;
}

#[tokio::test]
async fn every_kind_is_right_in_a_half_hour_company_zone() {
    every_kind_is_right_in("Asia/Kolkata").await;
}

#[tokio::test]
async fn a_key_without_a_kinds_permission_fails_that_kind_only_and_names_the_permission() {
    let sim = simulator(|c| {
        let all = [
            "sessions.data_series",
            "kpi.mau.data_series",
            "kpi.new_users.data_series",
            "kpi.uninstalls.data_series",
            "purchases.quantity_series",
            "purchases.revenue_series",
            "segments.data_series",
        ];
        c.permissions = Some(all.iter().map(|p| p.to_string()).collect());
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&dir, &sim.url(), "UTC", EVERY_KIND);
    let exporter = Exporter::start(&config, &[]).await;
    let text = exporter
        .wait_for_metrics("dau and events down, the rest up", |t| {
            t.contains(r#"braze_up{kind="dau",app_name="all",unit="day"} 0"#)
                && t.contains(r#"braze_up{kind="events",event="signup",app_name="all",segment_name="all",unit="hour"} 0"#)
                && t.contains("\nbraze_segment_size{")
        })
        .await;
    let all = samples(&text);
    for s in all.iter().filter(|s| s.name == "braze_up") {
        let kind = s.labels["kind"].as_str();
        let expected = if matches!(kind, "dau" | "events") {
            0.0
        } else {
            1.0
        };
        assert_eq!(s.value, expected, "{s:?}");
    }
    assert!(
        !text.contains("\nbraze_dau{"),
        "no numbers from a refused kind"
    );
    assert!(text.contains("\nbraze_mau{"));
    let (_, log) = exporter.terminate().await;
    for permission in ["kpi.dau.data_series", "events.data_series"] {
        assert!(
            log.lines().any(
                |l| l.contains("level=warn") && l.contains(&format!("permission={permission}"))
            ),
            "the log names {permission}:\n{log}"
        );
    }
    assert!(!log.contains(KEY), "the key leaked into the log");
}

#[tokio::test]
async fn discovery_adds_what_braze_lists_under_brazes_names() {
    let sim = simulator(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let discover = "export:\n  sessions: {}\n  events: {names: [signup]}\n  purchases: {}\n\
                    discover:\n  segments: {match: \".*\"}\n  events: {match: \"^level\"}\n  products: {match: \".*\"}\n";
    let config = write_config(&dir, &sim.url(), "UTC", discover);
    let exporter = Exporter::start(&config, &[]).await;
    let text = exporter
        .wait_for_metrics("discovered series", |t| {
            t.contains(
                r#"braze_events{event="level_up",app_name="all",segment_name="all",unit="hour"}"#,
            ) && t
                .contains(r#"braze_sessions{app_name="all",segment_name="New users",unit="hour"}"#)
                && t.contains(r#"braze_purchases{product="coins_100",app_name="all",unit="hour"}"#)
        })
        .await;
    // The configured segment keeps its configured name; the untracked one is left out; events
    // that do not match are not exported.
    assert!(text.contains(r#"braze_sessions{app_name="all",segment_name="paying",unit="hour"}"#));
    assert!(
        !text.contains("Paying users"),
        "a configured segment is not renamed"
    );
    assert!(!text.contains("Untracked"), "no analytics, no history");
    assert!(
        !text.contains(r#"event="checkout""#),
        "checkout does not match ^level"
    );
    for (list, n) in [("segments", 2), ("events", 1), ("products", 2)] {
        assert!(
            text.contains(&format!("braze_discovered{{list=\"{list}\"}} {n}")),
            "{list}: {text}"
        );
    }
    assert!(sim.requests_to("/events/list") >= 1 && sim.requests_to("/segments/list") >= 1);
    exporter.terminate().await;
}

#[tokio::test]
async fn max_series_cuts_the_plan_and_says_so() {
    let sim = simulator(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&dir, &sim.url(), "UTC", "max_series: 3\n");
    let exporter = Exporter::start(&config, &[]).await;
    let text = exporter
        .wait_for_metrics("three series", |t| {
            t.contains("braze_series 3")
                && t.contains("braze_series_limited 1")
                && t.matches("\nbraze_up{").count() == 3
        })
        .await;
    let up = samples(&text)
        .into_iter()
        .filter(|s| s.name == "braze_up")
        .count();
    assert_eq!(up, 3, "{text}");
    exporter.terminate().await;
}
