//! The refresher's timing (pacing, budget, 429 hold-off, retries, overlap, reload) against a
//! scripted source on tokio's paused clock: no network, no sleeping, exact instants.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;
use crate::braze::{FetchError, Point, RateLimit, RetryAfter};
use crate::clock::ManualClock;
use crate::series::Scope;
use crate::series::Series;

const NOW: &str = "2026-11-28T10:20:00Z";

/// What the scripted Braze answers to the `n`-th request (from 0) for a series.
type Script = dyn Fn(&Series, usize) -> Result<(), FetchError> + Send + Sync;

#[derive(Clone)]
struct Scripted {
    started: Instant,
    latency: Duration,
    log: Arc<Mutex<Vec<(Duration, String)>>>,
    script: Arc<Script>,
    reset_in: Duration,
    /// Whether a 429 carries `X-RateLimit-Reset` (every answer does otherwise).
    reset_on_429: bool,
    /// The `Retry-After` of a 429.
    retry_after: Option<RetryAfter>,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scripted")
    }
}

impl Scripted {
    fn new(
        latency: Duration,
        script: impl Fn(&Series, usize) -> Result<(), FetchError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            started: Instant::now(),
            latency,
            log: Arc::default(),
            script: Arc::new(script),
            reset_in: Duration::from_secs(30),
            reset_on_429: true,
            retry_after: None,
        }
    }

    fn ok() -> Self {
        Self::new(Duration::from_secs(1), |_, _| Ok(()))
    }

    /// Seconds after the start at which each request started, with its series.
    fn starts(&self) -> Vec<(u64, String)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(t, s)| (t.as_secs(), s.clone()))
            .collect()
    }

    fn start_times(&self) -> Vec<u64> {
        self.starts().into_iter().map(|(t, _)| t).collect()
    }
}

impl Source for Scripted {
    async fn fetch(&self, series: &Series, _request: &crate::braze::Request) -> Fetch {
        // `app/segment` for sessions; other kinds' scopes after their kind's name.
        let scopes: Vec<&str> = series.scopes.iter().map(|s| s.name.as_str()).collect();
        let name = match series.kind.spec().name {
            "sessions" => scopes.join("/"),
            kind => format!("{kind}:{}", scopes.join("/")),
        };
        let nth = {
            let mut log = self.log.lock().unwrap();
            let nth = log.iter().filter(|(_, s)| *s == name).count();
            log.push((self.started.elapsed(), name));
            nth
        };
        tokio::time::sleep(self.latency).await;
        let clock_now: jiff::Timestamp = NOW.parse().unwrap();
        let reset = clock_now
            .checked_add(jiff::SignedDuration::try_from(self.reset_in).unwrap())
            .unwrap();
        let rate_limit = Some(RateLimit {
            limit: Some(250_000),
            remaining: Some(1000),
            reset: Some(reset),
            retry_after: None,
        });
        let result = (self.script)(series, nth).map(|()| {
            vec![Point {
                start: "2026-11-28T09:00:00Z".parse().unwrap(),
                values: crate::samples::Values::One(42.0),
            }]
        });
        let rate_limit = match &result {
            Err(FetchError::Status { status: 429, .. }) => rate_limit.map(|r| RateLimit {
                remaining: Some(0),
                reset: r.reset.filter(|_| self.reset_on_429),
                retry_after: self.retry_after,
                ..r
            }),
            _ => rate_limit,
        };
        Fetch { result, rate_limit }
    }
}

fn config(
    apps: usize,
    segments: usize,
    interval: u64,
    concurrency: usize,
    per_hour: u64,
) -> Config {
    let mut text = format!(
        "braze:\n  url: https://x.example\n  max_concurrency: {concurrency}\n  max_requests_per_hour: {per_hour}\n\
         refresh:\n  interval: {interval}s\n  stale_after: 1h\napps:\n"
    );
    for i in 1..=apps {
        text.push_str(&format!("  - {{name: a{i}, id: app-{i}}}\n"));
    }
    text.push_str("segments:\n");
    for i in 1..=segments {
        text.push_str(&format!("  - {{name: s{i}, id: seg-{i}}}\n"));
    }
    if segments == 0 {
        text = text.replace("segments:\n", "");
    }
    Config::parse(&text, std::path::Path::new("t.yml"), Some("k".into())).unwrap()
}

/// `stale_after` for `refresh` and the sessions block that inherits it.
fn set_stale_after(config: &mut Config, stale_after: Duration) {
    config.refresh.stale_after = stale_after;
    for export in &mut config.exports {
        export.schedule.stale_after = stale_after;
    }
}

struct Running {
    telemetry: Telemetry,
    snapshots: SnapshotCell,
    reloads: mpsc::Sender<Reload<Scripted>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A wall clock that follows tokio's (paused) clock from [`NOW`], so time-stamps and
/// staleness move with the simulated time.
#[derive(Debug)]
struct TokioClock {
    start: Instant,
}

impl crate::clock::Clock for TokioClock {
    fn now(&self) -> jiff::Timestamp {
        let elapsed = jiff::SignedDuration::try_from(self.start.elapsed()).unwrap();
        NOW.parse::<jiff::Timestamp>()
            .unwrap()
            .checked_add(elapsed)
            .unwrap()
    }
}

fn start(config: Config, source: &Scripted) -> Running {
    start_with_clock(
        config,
        source,
        Arc::new(ManualClock::new(NOW.parse().unwrap())),
    )
}

fn start_with_clock(
    config: Config,
    source: &Scripted,
    clock: crate::clock::SharedClock,
) -> Running {
    let (telemetry, snapshots) = (Telemetry::new(), SnapshotCell::default());
    let refresher = Refresher::new(
        vec![(config, source.clone(), telemetry.clone())],
        clock,
        telemetry.shared(),
        snapshots.clone(),
    );
    let (reloads, receiver) = mpsc::channel(1);
    let inputs = Inputs {
        reloads: Some(receiver),
        discoveries: None,
    };
    let task = tokio::spawn(refresher.run(inputs));
    Running {
        telemetry,
        snapshots,
        reloads,
        task,
    }
}

fn text(snapshots: &SnapshotCell) -> String {
    String::from_utf8(snapshots.current().encoded.text.to_vec()).unwrap()
}

async fn run_for(seconds: u64) {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
}

#[tokio::test(start_paused = true)]
async fn the_first_refresh_bursts_and_later_ones_are_spread_over_the_interval() {
    let source = Scripted::ok();
    // 4 apps + all, segments: all only => 5 series; concurrency 2; 1 s per answer.
    let _running = start(config(4, 0, 100, 2, 250_000), &source);
    run_for(199).await;
    // First refresh: 2 at a time, each taking 1 s.
    // Then from 100 s: spaced 0.8 × 100 s / 5 = 16 s apart.
    assert_eq!(
        source.start_times(),
        [0, 0, 1, 1, 2, 100, 116, 132, 148, 164]
    );
}

#[tokio::test(start_paused = true)]
async fn the_hourly_budget_holds_in_every_window() {
    let source = Scripted::new(Duration::from_millis(100), |_, _| Ok(()));
    // 10 series every minute need 600 requests per hour; the budget is 25.
    let running = start(config(4, 1, 60, 4, 25), &source);
    run_for(3 * 3600).await;
    let starts = source.start_times();
    for (i, t) in starts.iter().enumerate() {
        let in_window = starts[i..].iter().take_while(|u| **u < t + 3600).count();
        assert!(
            in_window <= 25,
            "{in_window} requests in the hour from {t}s"
        );
    }
    assert!(
        starts.len() >= 70,
        "the budget is used, not starved: {}",
        starts.len()
    );
    let out = String::from_utf8(running.telemetry.encode()).unwrap();
    assert!(out.contains("braze_refresh_budget_exceeded 1"), "{out}");
    assert!(
        running.telemetry.skipped() > 0,
        "refreshes that could not run are counted"
    );
}

#[tokio::test(start_paused = true)]
async fn after_a_429_nothing_is_sent_until_the_reset() {
    let limited = |_: &Series, nth: usize| match nth {
        0 => Err(FetchError::Status {
            status: 429,
            message: Some("Too Many Requests".into()),
        }),
        _ => Ok(()),
    };
    let source = Scripted::new(Duration::from_secs(1), limited);
    let running = start(config(2, 0, 300, 3, 250_000), &source);
    run_for(100).await;
    // Three requests in flight at 0 s all get 429 at 1 s with a reset 30 s later: nothing is
    // sent in between, then each series is retried once.
    assert_eq!(source.start_times(), [0, 0, 0, 31, 31, 31]);
    assert_eq!(
        running
            .telemetry
            .failures(crate::braze::FailureReason::RateLimited),
        3
    );
    assert!(text(&running.snapshots).contains(
        "braze_up{kind=\"sessions\",app_name=\"a1\",segment_name=\"all\",unit=\"hour\"} 1"
    ));
}

#[tokio::test(start_paused = true)]
async fn a_429_without_a_reset_header_holds_off_for_the_default() {
    let mut source = Scripted::new(Duration::from_secs(1), |_, nth| match nth {
        0 => Err(FetchError::Status {
            status: 429,
            message: None,
        }),
        _ => Ok(()),
    });
    source.reset_in = Duration::ZERO; // a reset in the past counts as "now": at least 1 s
    let _running = start(config(0, 0, 300, 1, 250_000), &source);
    run_for(10).await;
    assert_eq!(
        source.start_times(),
        [0, 2],
        "held at least one second, then retried"
    );
}

/// A source whose first answer to each series is a 429 with these headers; later ones succeed.
fn limited_once(reset_on_429: bool, retry_after: Option<RetryAfter>) -> Scripted {
    let mut source = Scripted::new(Duration::from_secs(1), |_, nth| match nth {
        0 => Err(FetchError::Status {
            status: 429,
            message: None,
        }),
        _ => Ok(()),
    });
    source.reset_on_429 = reset_on_429;
    source.retry_after = retry_after;
    source
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_and_no_reset_holds_off_for_retry_after() {
    let source = limited_once(false, Some(RetryAfter::Delay(Duration::from_secs(7))));
    let _running = start(config(0, 0, 300, 1, 250_000), &source);
    run_for(100).await;
    // The 429 comes back at 1 s: held 7 s (not the 60 s default), retried at 8 s.
    assert_eq!(source.start_times(), [0, 8]);
}

#[tokio::test(start_paused = true)]
async fn a_429_with_a_retry_after_date_holds_off_until_it() {
    // The manual clock reads NOW throughout; the 429 says to come back 12 s after it.
    let at = NOW.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_secs(12);
    let source = limited_once(false, Some(RetryAfter::At(at)));
    let _running = start(config(0, 0, 300, 1, 250_000), &source);
    run_for(100).await;
    assert_eq!(source.start_times(), [0, 13]);
}

#[tokio::test(start_paused = true)]
async fn a_429_with_both_headers_holds_off_for_the_longer() {
    // Reset 30 s away, Retry-After 45 s: 45 wins.
    let longer_retry_after = limited_once(true, Some(RetryAfter::Delay(Duration::from_secs(45))));
    let _running = start(config(0, 0, 300, 1, 250_000), &longer_retry_after);
    run_for(100).await;
    assert_eq!(longer_retry_after.start_times(), [0, 46]);
    // Reset 30 s away, Retry-After 5 s: the reset wins.
    let longer_reset = limited_once(true, Some(RetryAfter::Delay(Duration::from_secs(5))));
    let _running = start(config(0, 0, 300, 1, 250_000), &longer_reset);
    run_for(100).await;
    assert_eq!(longer_reset.start_times(), [0, 31]);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_backoff_but_client_errors_are_not() {
    let script = |series: &Series, nth: usize| match (series.scopes[0].name.as_str(), nth) {
        ("a1", 0 | 1) => Err(FetchError::Status {
            status: 503,
            message: None,
        }),
        ("a2", _) => Err(FetchError::Status {
            status: 401,
            message: Some("Invalid API key".into()),
        }),
        _ => Ok(()),
    };
    let source = Scripted::new(Duration::from_secs(1), script);
    let running = start(config(2, 0, 300, 3, 250_000), &source);
    run_for(60).await;
    let a1: Vec<u64> = source
        .starts()
        .into_iter()
        .filter(|(_, s)| s == "a1/all")
        .map(|(t, _)| t)
        .collect();
    let a2 = source
        .starts()
        .into_iter()
        .filter(|(_, s)| s == "a2/all")
        .count();
    assert_eq!(a1.len(), 3, "two 503s then a success: {a1:?}");
    let s = Series::sessions(Scope::named("a1", "app-1"), Scope::all());
    let first_wait = retry::backoff(&s, 1).as_secs_f64();
    let second_wait = retry::backoff(&s, 2).as_secs_f64();
    assert_eq!(a1[1], (1.0 + first_wait).floor() as u64);
    assert_eq!(a1[2], (1.0 + first_wait + 1.0 + second_wait).floor() as u64);
    assert_eq!(a2, 1, "a 401 is not retried within a refresh");
    assert_eq!(running.telemetry.retries(), 2);
    let out = text(&running.snapshots);
    assert!(
        out.contains(
            "braze_up{kind=\"sessions\",app_name=\"a1\",segment_name=\"all\",unit=\"hour\"} 1"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "braze_up{kind=\"sessions\",app_name=\"a2\",segment_name=\"all\",unit=\"hour\"} 0"
        ),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_end_of_the_interval() {
    let source = Scripted::new(Duration::from_secs(1), |_, _| Err(FetchError::Timeout));
    let running = start(config(0, 0, 4, 1, 250_000), &source);
    run_for(3).await;
    // Attempt at 0 s fails at 1 s; a backoff of 0.5–1 s puts the retry before 4 s; the next
    // backoff (1–2 s) after its failure at ~2–3 s would pass the interval's end.
    assert_eq!(source.start_times().len(), 2);
    assert!(running.telemetry.retries() >= 1);
}

#[tokio::test(start_paused = true)]
async fn an_overrunning_refresh_is_not_doubled_and_skips_are_counted() {
    let source = Scripted::new(Duration::from_secs(150), |_, _| Ok(()));
    let running = start(config(0, 0, 60, 4, 250_000), &source);
    run_for(200).await;
    // The refresh due at 0 s ends at 150 s: the ones due at 60 and 120 s are skipped.
    assert_eq!(source.start_times(), [0, 180]);
    assert_eq!(running.telemetry.skipped(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_reload_applies_atomically_and_keeps_unchanged_series() {
    let source = Scripted::ok();
    let running = start(config(2, 0, 600, 4, 250_000), &source);
    run_for(10).await;
    assert_eq!(source.starts().len(), 3);
    let before = text(&running.snapshots);
    assert!(before.contains("app_name=\"a2\""));
    // a2 goes, a3 comes; all and a1 stay.
    let mut reloaded = config(3, 0, 600, 4, 250_000);
    reloaded.apps.retain(|a| a.name != "a2");
    running
        .reloads
        .send(Reload {
            workspaces: vec![(reloaded, source.clone())],
        })
        .await
        .unwrap();
    run_for(1).await;
    let after = text(&running.snapshots);
    assert!(
        !after.contains("app_name=\"a2\""),
        "removed series vanish at once:\n{after}"
    );
    run_for(5).await;
    let after = text(&running.snapshots);
    assert!(
        after.contains("braze_sessions{app_name=\"a3\",segment_name=\"all\",unit=\"hour\"} 42"),
        "{after}"
    );
    assert!(after.contains("braze_sessions{app_name=\"a1\",segment_name=\"all\",unit=\"hour\"} 42"));
    let requests: Vec<(u64, String)> = source.starts();
    assert_eq!(
        requests.len(),
        4,
        "only the new series was fetched: {requests:?}"
    );
    assert_eq!(requests[3], (10, "a3/all".to_string()));
}

#[tokio::test(start_paused = true)]
async fn stale_data_goes_even_while_nothing_is_fetched() {
    let mut source = Scripted::new(Duration::from_secs(1), |_, nth| match nth {
        0 => Ok(()),
        _ => Err(FetchError::Status {
            status: 429,
            message: None,
        }),
    });
    source.reset_in = Duration::from_secs(7200);
    let mut config = config(0, 0, 60, 1, 250_000);
    set_stale_after(&mut config, Duration::from_secs(300));
    let clock = Arc::new(TokioClock {
        start: Instant::now(),
    });
    let running = start_with_clock(config, &source, clock);
    let sessions = "braze_sessions{app_name=\"all\",segment_name=\"all\",unit=\"hour\"} 42";
    run_for(290).await;
    // Fetched at 0 s; refused at 60 s, then held off for the two-hour reset.
    assert_eq!(source.start_times(), [0, 60]);
    assert!(
        text(&running.snapshots).contains(sessions),
        "kept until stale_after"
    );
    run_for(100).await;
    let out = text(&running.snapshots);
    assert!(
        !out.contains("braze_sessions{"),
        "gone after stale_after, without a fetch:\n{out}"
    );
    assert!(
        out.contains(
            "braze_up{kind=\"sessions\",app_name=\"all\",segment_name=\"all\",unit=\"hour\"} 0"
        ),
        "{out}"
    );
    assert_eq!(source.start_times(), [0, 60], "nothing sent while held off");
}

#[tokio::test(start_paused = true)]
async fn healthy_series_keep_their_data_when_the_budget_stretches_a_pass() {
    // Issue 15's example: 12 series every 2 s under 1,800 requests per hour. One request may
    // start every 2 s, so a pass over the series takes 24 s, far past the default stale_after
    // of 3 × 2 s: a staleness counted in intervals blanked 10 of the 12 healthy series.
    let source = Scripted::new(Duration::from_millis(10), |_, _| Ok(()));
    let mut config = config(3, 2, 2, 4, 1800);
    set_stale_after(&mut config, Duration::from_secs(6));
    assert_eq!(config.series_count(), 12);
    let clock = Arc::new(TokioClock {
        start: Instant::now(),
    });
    let running = start_with_clock(config, &source, clock);
    run_for(1).await;
    for second in 1..=180 {
        let out = text(&running.snapshots);
        let shown = out
            .lines()
            .filter(|l| l.starts_with("braze_sessions{"))
            .count();
        assert_eq!(
            shown, 12,
            "at {second} s only {shown} of 12 series show data:\n{out}"
        );
        run_for(1).await;
    }
    assert!(
        source.start_times().len() >= 12 + 80,
        "the series were refreshed at the budget's pace: {:?}",
        source.start_times()
    );
}

#[tokio::test(start_paused = true)]
async fn a_pool_over_its_budget_serves_every_block_in_turn() {
    let source = Scripted::new(Duration::from_millis(100), |_, _| Ok(()));
    // Sessions and DAU, two series each every minute: 240 requests an hour, for a budget of 20.
    let text =
        "braze:\n  url: https://x.example\n  max_concurrency: 2\n  max_requests_per_hour: 20\n\
         refresh:\n  interval: 60s\n  stale_after: 1h\napps:\n  - {name: a1, id: app-1}\n\
         export:\n  sessions: {}\n  kpis: {metrics: [dau], interval: 60s}\n";
    let config = Config::parse(text, std::path::Path::new("t.yml"), Some("k".into())).unwrap();
    let _running = start(config, &source);
    run_for(3 * 3600).await;
    let after_the_first_hour = |dau: bool| {
        source
            .starts()
            .iter()
            .filter(|(t, name)| *t >= 3600 && name.starts_with("dau:") == dau)
            .count()
    };
    let (sessions, dau) = (after_the_first_hour(false), after_the_first_hour(true));
    // 40 requests in hours 2 and 3: each block gets about half, not the first block all.
    assert!(
        sessions >= 15 && dau >= 15,
        "sessions {sessions}, dau {dau}: {:?}",
        source.starts()
    );
}
