//! `braze-exporter backfill` against the simulator: every sample is what a scrape would have
//! shown at its instant, the value is the simulator's for that bucket, the file is the same on
//! a second run, promtool makes blocks of it, and a series Braze refuses is named and left out.
//! Campaigns and Canvases are read by day, a page of 100 and 14 days (Braze's limits).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use braze_simulator::{
    self as simulator, campaign_value, canvas_value, CampaignStat, CanvasStat, Clock, Fault,
    FaultTarget, Kpi, Series, SimulatorConfig, Unit, VariationForm, DEMO_CANVAS,
    DEMO_EMAIL_CAMPAIGN,
};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::support::{simulator, Workspace, BIN, KEY};

/// The settling delay the configurations set.
const DELAY: i64 = 10 * 60;
/// The step the tests write at.
const STEP: i64 = 300;

/// Every sample of the file: (metric name, labels) → [(time, value)] in file order.
type Samples = BTreeMap<(String, String), Vec<(i64, f64)>>;

fn parse(text: &str) -> Samples {
    let mut samples = Samples::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, rest) = line.split_once('{').unwrap();
        let (labels, rest) = rest.split_once("} ").unwrap();
        let (value, time) = rest.split_once(' ').unwrap();
        samples
            .entry((name.to_string(), labels.to_string()))
            .or_default()
            .push((time.parse().unwrap(), value.parse().unwrap()));
    }
    samples
}

/// The start of the latest bucket a scrape at `t` shows, worked out from the definition
/// (end + delay <= t) rather than from the exporter's code: hours of these zones are whole
/// 3,600-second steps from the local hour; days start at local midnight.
fn shown(t: i64, unit: Unit, tz: &TimeZone) -> i64 {
    let settled = Timestamp::from_second(t - DELAY).unwrap();
    match unit {
        Unit::Hour => {
            let offset = i64::from(tz.to_offset(settled).seconds());
            let local = settled.as_second() + offset;
            local - local.rem_euclid(3600) - offset - 3600
        }
        Unit::Day => {
            let today = settled.to_zoned(tz.clone()).start_of_day().unwrap();
            today.yesterday().unwrap().timestamp().as_second()
        }
    }
}

async fn backfill(config: &Path, out: &Path, start: i64, end: i64) -> Output {
    backfill_with(config, out, start, end, &[]).await
}

/// A backfill that must succeed: its standard error and the file it wrote.
async fn backfilled(config: &Path, out: &Path, start: i64, end: i64) -> (String, String) {
    let run = backfill(config, out, start, end).await;
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    (stderr, std::fs::read_to_string(out).unwrap())
}

/// A backfill with `extra` flags after `backfill`.
async fn backfill_with(config: &Path, out: &Path, start: i64, end: i64, extra: &[&str]) -> Output {
    let stamp = |s: i64| Timestamp::from_second(s).unwrap().to_string();
    let run = tokio::process::Command::new(BIN)
        .arg("backfill")
        .args(extra)
        .arg(format!("--config.file={}", config.display()))
        .args(["--start", &stamp(start), "--end", &stamp(end)])
        .arg(format!("--step={STEP}s"))
        .arg(format!("--output={}", out.display()))
        .args(["--label", "job=braze"])
        .env_remove("BRAZE_API_KEY")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("a backfill of a few days ends within two minutes")
        .unwrap()
}

/// Every `STEP` instant in `(start, end]`: where a scrape every `STEP` would have been.
fn instants(start: i64, end: i64) -> Vec<i64> {
    (start.div_euclid(STEP) + 1..=end.div_euclid(STEP))
        .map(|k| k * STEP)
        .collect()
}

/// A range that is settled whatever the wall clock says: three days and a half, ending an
/// hour before the last whole hour.
fn range() -> (i64, i64) {
    let now = Timestamp::now().as_second();
    let end = now - now.rem_euclid(3600) - 3600;
    (end - 84 * 3600 - 60, end)
}

fn workspace(url: &str, zone: &str) -> Workspace {
    Workspace::new(
        url,
        &format!(
            "  time_zone: {zone}\nrefresh:\n  delay: 10m\nexport:\n  sessions: {{}}\n  kpis:\n    metrics: [dau]\n"
        ),
    )
}

#[tokio::test]
async fn backfill_writes_what_each_scrape_would_have_shown_in_whole_and_half_hour_zones() {
    for zone in ["UTC", "Asia/Kolkata"] {
        let tz = TimeZone::get(zone).unwrap();
        let sim = simulator(|c| c.time_zone = tz.clone()).await;
        let ws = workspace(&sim.url(), zone);
        let out = ws.dir.path().join("history.om");
        let (start, end) = range();
        let (stderr, text) = backfilled(&ws.config(), &out, start, end).await;
        assert!(
            stderr.contains("requests done"),
            "{zone} progress: {stderr}"
        );
        assert!(text.ends_with("# EOF\n"));
        let samples = parse(&text);
        let instants = instants(start, end);

        let apps = [
            ("all", None),
            ("ios", Some("demo-app-ios")),
            ("android", Some("demo-app-android")),
        ];
        let mut checked = 0;
        for (app_name, app_id) in apps {
            for (segment_name, segment_id) in [("all", None), ("paying", Some("demo-seg-paying"))] {
                let labels = format!(
                    r#"app_name="{app_name}",segment_name="{segment_name}",unit="hour",job="braze""#
                );
                let series = Series::Sessions { app_id, segment_id };
                checked += check_series(&samples, "braze_sessions", &labels, &instants, |t| {
                    let bucket = shown(t, Unit::Hour, &tz);
                    let zoned = Timestamp::from_second(bucket).unwrap().to_zoned(tz.clone());
                    (
                        bucket,
                        simulator::value_in_bucket(&series, Unit::Hour, zoned),
                    )
                });
                let up = &samples[&(
                    "braze_up".to_string(),
                    format!("kind=\"sessions\",{labels}"),
                )];
                assert_eq!(up.len(), instants.len());
                assert!(up.iter().all(|(_, v)| *v == 1.0));
            }
            let labels = format!(r#"app_name="{app_name}",unit="day",job="braze""#);
            let series = Series::Kpi {
                metric: Kpi::Dau,
                app_id,
            };
            checked += check_series(&samples, "braze_dau", &labels, &instants, |t| {
                let bucket = shown(t, Unit::Day, &tz);
                let zoned = Timestamp::from_second(bucket).unwrap().to_zoned(tz.clone());
                (
                    bucket,
                    simulator::value_in_bucket(&series, Unit::Day, zoned),
                )
            });
        }
        assert_eq!(checked, 9 * instants.len(), "{zone}");
        assert!(
            !text.contains("_in_progress"),
            "a backfill writes settled buckets only"
        );

        // Braze was read 100 buckets a request: 85 or 86 hours is one page, 4 days one page.
        assert_eq!(sim.requests_received(), 9, "{zone}: {stderr}");

        // The same range again: the same bytes.
        let again = ws.dir.path().join("again.om");
        let rerun = backfill(&ws.config(), &again, start, end).await;
        assert_eq!(rerun.status.code(), Some(0));
        assert_eq!(std::fs::read(&again).unwrap(), text.as_bytes(), "{zone}");

        promtool_creates_blocks(&out, &ws.dir.path().join("data"));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn backfill_reads_a_canvas_14_days_a_request_and_a_campaign_100() {
    let tz = TimeZone::get("Asia/Kolkata").unwrap();
    // The simulator's clock stands still, so even the days Braze still restates are known.
    let now = Timestamp::now();
    let sim = simulator(|c| {
        *c = SimulatorConfig::demo_at(KEY, now);
        c.time_zone = tz.clone();
        c.clock = Clock::from_fn(move || now);
    })
    .await;
    let ws = Workspace::new(
        &sim.url(),
        &format!(
            "  time_zone: Asia/Kolkata\ncampaigns:\n  - {{name: email, id: {}}}\n\
             canvases:\n  - {{name: welcome, id: {}}}\n\
             export:\n  campaigns: {{}}\n  canvases: {{}}\n",
            DEMO_EMAIL_CAMPAIGN.0, DEMO_CANVAS.0
        ),
    );
    let out = ws.dir.path().join("history.om");
    let end = now.as_second() - 3600;
    let start = end - 20 * 86400;
    let (stderr, text) = backfilled(&ws.config(), &out, start, end).await;
    // 20 or 21 days shown (as the range falls on midnights): the Canvas in two pages of at
    // most 14 days, the campaign in one.
    assert_eq!(sim.requests_to("/canvas/data_series"), 2, "{stderr}");
    assert_eq!(sim.requests_to("/campaigns/data_series"), 1, "{stderr}");

    let config = SimulatorConfig::demo_at("", now);
    let canvas = config
        .canvases
        .iter()
        .find(|c| c.id == DEMO_CANVAS.0)
        .unwrap();
    let email = config
        .campaigns
        .iter()
        .find(|c| c.id == DEMO_EMAIL_CAMPAIGN.0)
        .unwrap();
    let canvas_at = |stat| move |day: &Zoned| canvas_value(canvas, stat, day, now).unwrap();
    let samples = parse(&text);
    let instants = instants(start, end);
    let checks: [(&str, &str, DayValue); 4] = [
        (
            "braze_canvas_entries",
            r#"canvas="welcome",job="braze",variant="all""#,
            Box::new(canvas_at(CanvasStat::Total("entries"))),
        ),
        (
            "braze_canvas_entries",
            r#"canvas="welcome",job="braze",variant="Variant 2""#,
            Box::new(canvas_at(CanvasStat::Variant {
                variant: "demo-variant-b",
                field: "entries",
            })),
        ),
        (
            "braze_canvas_revenue",
            r#"canvas="welcome",job="braze",variant="all""#,
            Box::new(canvas_at(CanvasStat::Total("revenue"))),
        ),
        (
            "braze_campaign_unique_recipients",
            r#"campaign="email",job="braze""#,
            Box::new(|day: &Zoned| {
                let stat = CampaignStat::Campaign("unique_recipients");
                campaign_value(email, VariationForm::Name, stat, day, now).unwrap()
            }),
        ),
    ];
    // Messaging blocks have no delay: from local midnight on, yesterday is shown.
    let shown_day = |t: i64| {
        Timestamp::from_second(t)
            .unwrap()
            .to_zoned(tz.clone())
            .start_of_day()
            .unwrap()
            .yesterday()
            .unwrap()
    };
    let mut days = std::collections::BTreeSet::new();
    for (metric, labels, expected) in checks {
        let values = &samples[&(metric.to_string(), labels.to_string())];
        let times: Vec<i64> = values.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, instants, "{metric}{{{labels}}}: every step");
        // The simulator's number of each day, worked out once a day.
        let mut of_day = BTreeMap::new();
        for (t, value) in values {
            let day = shown_day(*t);
            let want = *of_day
                .entry(day.timestamp())
                .or_insert_with(|| expected(&day));
            assert_eq!(*value, want, "{metric}{{{labels}}} at {t}");
        }
        days.extend(of_day.into_keys());
    }
    assert!(
        (20..=21).contains(&days.len()),
        "more days than one Canvas page holds: {}",
        days.len()
    );
    let bucket = &samples[&(
        "braze_canvas_bucket_timestamp_seconds".to_string(),
        r#"canvas="welcome",job="braze""#.to_string(),
    )];
    assert_eq!(bucket.len(), instants.len());
    // promtool and a real Prometheus take messaging samples in scripts/e2e-backfill.sh.
}

/// Two workspaces in two zones, each with its own simulator and key: `eu` (Asia/Kolkata, two
/// apps) and `us` (America/New_York, one app, sessions and DAU).
fn two_workspaces(dir: &Path, eu: &str, us: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("eu-key"), "eu-key-5e6f").unwrap();
    std::fs::write(dir.join("us-key"), "us-key-7a8b").unwrap();
    let text = format!(
        "refresh:\n  delay: 10m\n\
         workspaces:\n\
         \x20 - name: eu\n    braze: {{url: \"{eu}\", api_key_file: {eu_key}, time_zone: Asia/Kolkata, timeout: 2s}}\n\
         \x20   apps: [{{name: ios, id: demo-app-ios}}, {{name: android, id: demo-app-android}}]\n\
         \x20 - name: us\n    braze: {{url: \"{us}\", api_key_file: {us_key}, time_zone: America/New_York, timeout: 2s}}\n\
         \x20   apps: [{{name: web, id: demo-app-web}}]\n    export: {{sessions: {{}}, kpis: {{metrics: [dau]}}}}\n",
        eu_key = dir.join("eu-key").display(),
        us_key = dir.join("us-key").display(),
    );
    let path = dir.join("config.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Sessions of one app, all segments, as the simulator in `tz` holds them.
fn sessions_check(app_id: Option<&'static str>, tz: TimeZone) -> impl Fn(i64) -> (i64, f64) {
    move |t| {
        let bucket = shown(t, Unit::Hour, &tz);
        let zoned = Timestamp::from_second(bucket).unwrap().to_zoned(tz.clone());
        let series = Series::Sessions {
            app_id,
            segment_id: None,
        };
        (
            bucket,
            simulator::value_in_bucket(&series, Unit::Hour, zoned),
        )
    }
}

#[tokio::test]
async fn backfill_writes_every_workspace_into_one_file_with_its_label_zone_and_key() {
    let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
    let new_york = TimeZone::get("America/New_York").unwrap();
    let eu = simulator(|c| {
        c.api_key = "eu-key-5e6f".into();
        c.time_zone = kolkata.clone();
    })
    .await;
    let us = simulator(|c| {
        c.api_key = "us-key-7a8b".into();
        c.time_zone = new_york.clone();
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = two_workspaces(dir.path(), &eu.url(), &us.url());
    let out = dir.path().join("history.om");
    let (start, end) = range();
    let (stderr, text) = backfilled(&config, &out, start, end).await;
    for name in ["eu", "us"] {
        assert!(
            stderr.contains(&format!("workspace {name}: ")) && stderr.contains("requests done"),
            "progress names {name}: {stderr}"
        );
    }
    let samples = parse(&text);
    let instants = instants(start, end);
    let mut checked = 0;
    for (workspace, app_name, app_id, tz) in [
        ("eu", "all", None, &kolkata),
        ("eu", "ios", Some("demo-app-ios"), &kolkata),
        ("us", "all", None, &new_york),
        ("us", "web", Some("demo-app-web"), &new_york),
    ] {
        let labels = format!(
            r#"workspace="{workspace}",app_name="{app_name}",segment_name="all",unit="hour",job="braze""#
        );
        checked += check_series(
            &samples,
            "braze_sessions",
            &labels,
            &instants,
            sessions_check(app_id, tz.clone()),
        );
    }
    assert_eq!(checked, 4 * instants.len());
    let dau = samples
        .keys()
        .filter(|(name, _)| name == "braze_dau")
        .count();
    assert_eq!(dau, 2, "DAU for us's all and web only");
    // eu: 3 apps' sessions; us: 2 apps' sessions and 2 DAU; one page each.
    assert_eq!((eu.requests_received(), us.requests_received()), (3, 4));
    promtool_creates_blocks(&out, &dir.path().join("data"));

    // Only `us`: eu is not read, and its series are not in the file.
    let only_us = dir.path().join("us.om");
    let run = backfill_with(&config, &only_us, start, end, &["--workspace", "us"]).await;
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&only_us).unwrap();
    assert!(text.contains("workspace=\"us\"") && !text.contains("workspace=\"eu\""));
    assert_eq!(eu.requests_received(), 3);

    let run = backfill_with(&config, &only_us, start, end, &["--workspace", "asia"]).await;
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(r#"--workspace="asia""#) && stderr.contains("eu, us"),
        "{stderr}"
    );
}

#[tokio::test]
async fn backfill_writes_the_series_discovery_adds_and_names_a_list_it_cannot_read() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(
        &sim.url(),
        "  time_zone: UTC\nrefresh:\n  delay: 10m\nexport:\n  events: {names: [signup]}\n\
         discover:\n  events: {match: \"^level\"}\n",
    );
    let out = ws.dir.path().join("history.om");
    let (start, end) = range();
    let (stderr, text) = backfilled(&ws.config(), &out, start, end).await;
    assert!(stderr.contains("discovery keeps 1 events"), "{stderr}");
    assert_eq!(sim.requests_to("/events/list"), 1);
    let samples = parse(&text);
    let instants = instants(start, end);
    for name in ["signup", "level_up"] {
        let labels =
            format!(r#"event="{name}",app_name="all",segment_name="all",unit="hour",job="braze""#);
        let series = Series::Event {
            name,
            app_id: None,
            segment_id: None,
        };
        let checked = check_series(&samples, "braze_events", &labels, &instants, |t| {
            let bucket = shown(t, Unit::Hour, &TimeZone::UTC);
            let zoned = Timestamp::from_second(bucket)
                .unwrap()
                .to_zoned(TimeZone::UTC);
            (
                bucket,
                simulator::value_in_bucket(&series, Unit::Hour, zoned),
            )
        });
        assert_eq!(checked, instants.len(), "{name}");
    }
    assert!(
        !samples
            .keys()
            .any(|(_, labels)| labels.contains("checkout")),
        "checkout does not match ^level"
    );

    // Braze refuses the listing: the configured series are written, the run says the
    // discovered ones are not, and exits 1.
    sim.faults().set(
        FaultTarget::Path("/events/list".into()),
        Fault::Status {
            status: 403,
            message: "no events.list".into(),
        },
    );
    let partial = ws.dir.path().join("partial.om");
    let run = backfill(&ws.config(), &partial, start, end).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("discovery could not read Braze's events"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&partial).unwrap();
    assert!(text.contains(r#"event="signup""#) && !text.contains(r#"event="level_up""#));
}

/// Checks every instant of one series against `expected` (bucket start and value); returns
/// how many samples were checked.
fn check_series(
    samples: &Samples,
    metric: &str,
    labels: &str,
    instants: &[i64],
    expected: impl Fn(i64) -> (i64, f64),
) -> usize {
    let key = |name: &str| (name.to_string(), labels.to_string());
    let values = samples
        .get(&key(metric))
        .unwrap_or_else(|| panic!("{metric}{{{labels}}} is missing"));
    let buckets = &samples[&key(&format!("{metric}_bucket_timestamp_seconds"))];
    let times: Vec<i64> = values.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        times, instants,
        "{metric}{{{labels}}}: every step, in order"
    );
    for ((t, value), (_, bucket)) in values.iter().zip(buckets) {
        let (want_bucket, want_value) = expected(*t);
        assert_eq!(*bucket as i64, want_bucket, "{metric}{{{labels}}} at {t}");
        assert_eq!(*value, want_value, "{metric}{{{labels}}} at {t}");
    }
    values.len()
}

fn promtool_creates_blocks(file: &Path, data: &Path) {
    let out = std::process::Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(file)
        .arg(data)
        .output()
        .expect("promtool is needed: run scripts/install-test-deps.sh");
    assert!(
        out.status.success(),
        "promtool tsdb create-blocks-from openmetrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn backfill_names_the_series_braze_refuses_and_writes_the_rest() {
    let sim = simulator(|_| {}).await;
    sim.faults().set(
        FaultTarget::Series {
            app_id: Some("demo-app-ios".into()),
            segment_id: None,
        },
        Fault::Status {
            status: 403,
            message: "no access".into(),
        },
    );
    sim.faults().set(
        FaultTarget::Path("/kpi/dau/data_series".into()),
        Fault::BareStatus(503),
    );
    let ws = workspace(&sim.url(), "UTC");
    let out = ws.dir.path().join("history.om");
    let (_, end) = range();
    let run = backfill(&ws.config(), &out, end - 6 * 3600, end).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("4 series missing"),
        "ios/all and the three dau series: {stderr}"
    );
    assert!(
        stderr.contains("kind=sessions app=ios (app_id=demo-app-ios) segment=all"),
        "{stderr}"
    );
    assert!(stderr.contains("kind=dau app=all"), "{stderr}");
    // The 503s were retried as the exporter retries: 4 attempts for each of the 3 dau series.
    assert_eq!(sim.requests_to("/kpi/dau/data_series"), 12);
    let samples = parse(&std::fs::read_to_string(&out).unwrap());
    let has = |name: &str, labels: &str| samples.contains_key(&(name.into(), labels.into()));
    assert!(!has(
        "braze_sessions",
        r#"app_name="ios",segment_name="all",unit="hour",job="braze""#
    ));
    assert!(has(
        "braze_sessions",
        r#"app_name="ios",segment_name="paying",unit="hour",job="braze""#
    ));
    assert!(!samples
        .keys()
        .any(|(name, _)| name.starts_with("braze_dau")));
}

/// The simulator's number of one metric for a day.
type DayValue<'a> = Box<dyn Fn(&Zoned) -> f64 + 'a>;
