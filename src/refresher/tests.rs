//! The refresher against the simulator over real loopback HTTP, with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::clock::ManualClock;
use crate::config::{ApiKey, BrazeSettings};
use crate::series::Unit;
use braze_simulator::{
    self as simulator, Fault, FaultTarget, Simulator, SimulatorConfig, TimeFormat,
};

const KEY: &str = "refresher-test-key";

struct Harness {
    simulator: Simulator,
    clock: ManualClock,
    refresher: Refresher,
    snapshots: SnapshotCell,
    telemetry: Telemetry,
    time_zone: jiff::tz::TimeZone,
    unit: Unit,
}

struct Setup {
    time_zone: &'static str,
    format: TimeFormat,
    unit: Unit,
    now: &'static str,
    delay: Duration,
    in_progress: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            time_zone: "UTC",
            format: TimeFormat::Offset,
            unit: Unit::Hour,
            now: "2026-11-28T10:20:00Z",
            delay: Duration::ZERO,
            in_progress: true,
        }
    }
}

async fn harness(setup: Setup) -> Harness {
    let time_zone = crate::time_zone::parse_time_zone(setup.time_zone).unwrap();
    let clock = ManualClock::new(setup.now.parse().unwrap());
    let mut sim = SimulatorConfig::demo(KEY);
    sim.time_zone = time_zone.clone();
    sim.hourly_time_format = setup.format;
    sim.include_in_progress = setup.in_progress;
    let sim_clock = clock.clone();
    sim.clock = simulator::Clock::from_fn(move || crate::clock::Clock::now(&sim_clock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let simulator = Simulator::start(sim, listener).await.unwrap();
    let config = Config::parse(
        &format!(
            "braze:\n  url: {url}\n  time_zone: \"{tz}\"\n  timeout: 5s\n  max_concurrency: 3\n\
             refresh:\n  interval: 60s\n  unit: {unit}\n  length: 3\n  delay: {delay}s\n  stale_after: 180s\n\
             apps:\n  - {{name: ios, id: {ios}}}\n  - {{name: android, id: {android}}}\n\
             segments:\n  - {{name: paying, id: {paying}}}\n",
            url = simulator.url(),
            tz = setup.time_zone,
            unit = setup.unit,
            delay = setup.delay.as_secs(),
            ios = simulator::DEMO_APPS[0],
            android = simulator::DEMO_APPS[1],
            paying = simulator::DEMO_SEGMENTS[0],
        ),
        std::path::Path::new("refresher-test.yml"),
        Some(KEY.into()),
    )
    .unwrap();
    let telemetry = Telemetry::new();
    let snapshots = SnapshotCell::default();
    let client = BrazeClient::new(&config.braze).unwrap();
    let refresher = Refresher::new(
        vec![(config, client, telemetry.clone())],
        Arc::new(clock.clone()),
        telemetry.shared(),
        snapshots.clone(),
    );
    Harness {
        simulator,
        clock,
        refresher,
        snapshots,
        telemetry,
        time_zone,
        unit: setup.unit,
    }
}

impl Harness {
    /// The value of `metric` for one series in the published snapshot.
    fn value(&self, metric: &str, app: &str, segment: &str) -> Option<i64> {
        let snapshot = self.snapshots.current();
        let text = std::str::from_utf8(&snapshot.encoded.text)
            .unwrap()
            .to_string();
        let kind = match metric {
            "braze_up" | "braze_last_success_timestamp_seconds" => "kind=\"sessions\",",
            _ => "",
        };
        let prefix = format!(
            "{metric}{{{kind}app_name=\"{app}\",segment_name=\"{segment}\",unit=\"{}\"}} ",
            self.unit
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|v| v.parse().unwrap())
    }

    /// Drives the refresher's own loop ([`Refresher::turn`]) until a refresh of every series
    /// ends, started now and burst like a first refresh, so the test need not wait out the
    /// interval or the spreading on the real clock that real HTTP needs.
    async fn refresh(&mut self) {
        for group in &mut self.refresher.workspaces[0].groups {
            group.next_round = Instant::now();
            group.rounds_started = 0;
        }
        let mut inputs = Inputs::none();
        while !matches!(
            self.refresher.turn(&mut inputs).await,
            Turn::RoundFinished(Export::Sessions)
        ) {}
    }

    /// What the simulator counts for the bucket starting at `start`, for `app_id`, all users.
    fn expected(&self, app_id: Option<&str>, start: &str) -> i64 {
        let start: Timestamp = start.parse().unwrap();
        simulator::sessions_in_bucket(
            app_id,
            None,
            match self.unit {
                Unit::Hour => simulator::Unit::Hour,
                Unit::Day => simulator::Unit::Day,
            },
            start.to_zoned(self.time_zone.clone()),
        ) as i64
    }

    fn assert_bucket(&self, complete: &str, in_progress: Option<&str>) {
        let ios = Some(simulator::DEMO_APPS[0]);
        let start = |t: &str| t.parse::<Timestamp>().unwrap().as_second();
        assert_eq!(
            self.value("braze_sessions_bucket_timestamp_seconds", "ios", "all"),
            Some(start(complete))
        );
        let sessions = self
            .value("braze_sessions", "ios", "all")
            .expect("braze_sessions for ios");
        assert_eq!(sessions, self.expected(ios, complete));
        assert!(sessions > 0, "a simulated app has sessions");
        match in_progress {
            Some(t) => assert_eq!(
                self.value(
                    "braze_sessions_in_progress_bucket_timestamp_seconds",
                    "ios",
                    "all"
                ),
                Some(start(t))
            ),
            None => assert_eq!(self.value("braze_sessions_in_progress", "ios", "all"), None),
        }
    }
}

#[tokio::test]
async fn utc_hours_with_offset_times() {
    let mut h = harness(Setup::default()).await;
    h.refresh().await;
    h.assert_bucket("2026-11-28T09:00:00Z", Some("2026-11-28T10:00:00Z"));
    assert_eq!(h.value("braze_up", "android", "paying"), Some(1));
    assert_eq!(h.telemetry.requests(), 6);
    assert_eq!(h.simulator.requests_received(), 6);
}

#[tokio::test]
async fn naive_times_read_in_a_half_hour_offset() {
    let mut h = harness(Setup {
        time_zone: "+05:30",
        format: TimeFormat::Naive,
        ..Setup::default()
    })
    .await;
    h.refresh().await;
    // 10:20Z is 15:50 at +05:30: the complete hour is 14:00 local = 08:30Z.
    h.assert_bucket("2026-11-28T08:30:00Z", Some("2026-11-28T09:30:00Z"));
}

#[tokio::test]
async fn iana_half_hour_zone_with_zulu_times() {
    let mut h = harness(Setup {
        time_zone: "Asia/Kolkata",
        format: TimeFormat::Zulu,
        ..Setup::default()
    })
    .await;
    h.refresh().await;
    h.assert_bucket("2026-11-28T08:30:00Z", Some("2026-11-28T09:30:00Z"));
}

#[tokio::test]
async fn days_are_company_midnights() {
    let mut h = harness(Setup {
        time_zone: "America/New_York",
        unit: Unit::Day,
        ..Setup::default()
    })
    .await;
    h.refresh().await;
    // 10:20Z is 05:20 in New York: yesterday is complete, today is in progress.
    h.assert_bucket("2026-11-27T05:00:00Z", Some("2026-11-28T05:00:00Z"));
}

#[tokio::test]
async fn delay_holds_back_a_settling_hour() {
    let mut h = harness(Setup {
        delay: Duration::from_secs(30 * 60),
        ..Setup::default()
    })
    .await;
    h.refresh().await;
    h.assert_bucket("2026-11-28T08:00:00Z", Some("2026-11-28T10:00:00Z"));
}

#[tokio::test]
async fn without_the_bucket_in_progress_there_is_no_in_progress_gauge() {
    let mut h = harness(Setup {
        in_progress: false,
        ..Setup::default()
    })
    .await;
    h.refresh().await;
    h.assert_bucket("2026-11-28T09:00:00Z", None);
}

#[tokio::test]
async fn the_in_progress_hour_grows_and_then_completes() {
    let mut h = harness(Setup::default()).await;
    h.refresh().await;
    let early = h.value("braze_sessions_in_progress", "ios", "all").unwrap();
    h.clock.set("2026-11-28T10:50:00Z".parse().unwrap());
    h.refresh().await;
    let later = h.value("braze_sessions_in_progress", "ios", "all").unwrap();
    assert!(later > early, "{later} should exceed {early}");
    h.clock.set("2026-11-28T11:05:00Z".parse().unwrap());
    h.refresh().await;
    h.assert_bucket("2026-11-28T10:00:00Z", Some("2026-11-28T11:00:00Z"));
}

#[tokio::test]
async fn one_failing_series_keeps_its_last_values_and_spares_the_others() {
    let mut h = harness(Setup::default()).await;
    h.refresh().await;
    let before = h.value("braze_sessions", "android", "paying").unwrap();
    let android_paying = FaultTarget::Series {
        app_id: Some(simulator::DEMO_APPS[1].into()),
        segment_id: Some(simulator::DEMO_SEGMENTS[0].into()),
    };
    h.simulator.faults().set(
        android_paying,
        Fault::Status {
            status: 400,
            message: "Invalid segment_id".into(),
        },
    );
    h.clock.set("2026-11-28T10:22:00Z".parse().unwrap());
    h.refresh().await;
    assert_eq!(h.value("braze_up", "android", "paying"), Some(0));
    assert_eq!(
        h.value("braze_sessions", "android", "paying"),
        Some(before),
        "last good value kept"
    );
    assert_eq!(h.value("braze_up", "android", "all"), Some(1));
    assert_eq!(h.value("braze_up", "ios", "paying"), Some(1));
    h.assert_bucket("2026-11-28T09:00:00Z", Some("2026-11-28T10:00:00Z"));
    assert_eq!(
        h.telemetry
            .failures(crate::braze::FailureReason::BadRequest),
        1
    );
    // Past refresh.stale_after (3m) the failing series' data goes, its braze_up stays.
    h.clock.set("2026-11-28T10:23:01Z".parse().unwrap());
    h.refresh().await;
    assert_eq!(h.value("braze_sessions", "android", "paying"), None);
    assert_eq!(h.value("braze_up", "android", "paying"), Some(0));
    assert!(h.value("braze_sessions", "android", "all").is_some());
}

#[tokio::test]
async fn a_wrong_key_marks_every_series_down_with_reason_unauthorized() {
    let mut h = harness(Setup::default()).await;
    h.refresher.workspaces[0].source = BrazeClient::new(&BrazeSettings {
        api_key: ApiKey::new("not-the-key").unwrap(),
        ..test_settings(&h)
    })
    .unwrap();
    h.refresh().await;
    for (app, segment) in [("all", "all"), ("ios", "paying"), ("android", "all")] {
        assert_eq!(h.value("braze_up", app, segment), Some(0));
        assert_eq!(h.value("braze_sessions", app, segment), None);
    }
    assert_eq!(
        h.telemetry
            .failures(crate::braze::FailureReason::Unauthorized),
        6
    );
}

fn test_settings(h: &Harness) -> BrazeSettings {
    BrazeSettings {
        url: h.simulator.url().parse().unwrap(),
        api_key: ApiKey::new(KEY).unwrap(),
        time_zone: h.time_zone.clone(),
        time_zone_name: "UTC".into(),
        timeout: Duration::from_secs(5),
        max_concurrency: 3,
        max_requests_per_hour: 10_000,
        ca_file: None,
    }
}

#[test]
fn refreshes_are_due_every_interval_and_overruns_skip_whole_ticks() {
    let start = Instant::now();
    let minute = Duration::from_secs(60);
    // Finished early: the next refresh is one interval after the last was due.
    assert_eq!(
        next_due(start, start + Duration::from_secs(5), minute),
        (start + minute, 0)
    );
    // Finished exactly on time: not a skip.
    assert_eq!(next_due(start, start + minute, minute), (start + minute, 0));
    // Overran by 10 s: the tick at 60 s is skipped, the next is at 120 s.
    assert_eq!(
        next_due(start, start + Duration::from_secs(70), minute),
        (start + 2 * minute, 1)
    );
    // Overran by three intervals and a bit.
    assert_eq!(
        next_due(start, start + Duration::from_secs(200), minute),
        (start + 4 * minute, 3)
    );
}
