//! The long soak (issue 24): memory that stays flat, at Braze's highest budget, through reloads,
//! faults and discovery churn, for longer than a budget window. Ignored here (it lasts 100
//! minutes); `scripts/soak.sh` runs it against a release build and says how to read it.
//!
//! Three workspaces, each against a simulator of its own, with every kind (the messaging ones
//! too: campaigns, Canvases with their steps, an API send), discovery of every list (campaigns
//! and Canvases with `active_within`), `max_requests_per_hour: 250000` (the most the exporter
//! takes, Braze's whole budget) and up to about 600 series, every block refreshed every second:
//! several times what the budgets allow, so each workspace sends at the pace of both its paced
//! pools, the shared one (one request every 14.4 ms) and campaign analytics (the exporter's
//! 2,000 a minute, from 62 campaigns), faster in the bursts of series a reload adds, up to each
//! window's cap, but while a fault holds it off. Meanwhile:
//! - a reload every 5 s (`POST /-/reload`): workspace `a` loses two apps, a segment and its
//!   Canvas steps every other time, `b` changes its `discover: events` pattern every time
//!   (discovery lists at once, within its share of each pool) and leaves for one reload every 5
//!   minutes;
//! - every 3 minutes `c` moves to a new simulator whose events, products, segments, campaigns and
//!   Canvases have ids and names never seen before (discovery churn: each listing brings new
//!   series, drops old ones);
//! - every 30 s a fault is switched on for 20 s on one simulator, the next kind of fault on the
//!   next simulator each time (5xx, timeouts, broken or oversized bodies, 429s);
//! - 10 scrapes a second: gzip, every 10th plain, every 5th on a new connection.
//!
//! Every 10 s it samples the exporter's VmRSS, VmHWM, threads and open fds. The budget window
//! is an hour of real time (nothing in the exporter shortens it), so the soak runs past it:
//! it fails if, from `BRAZE_SOAK_SETTLED_MINUTES` on, resident memory still grows (the
//! least-squares slope of its samples over `BRAZE_SOAK_MAX_GROWTH_MIB_PER_HOUR`), the median
//! of fds or threads rises above the first window's, a scrape or a reload fails, the workspaces
//! sent less than 0.8 of the budget of either paced pool, a messaging kind or a discovered
//! campaign or Canvas is missing from more than half of the checks (a scrape every 10 s from
//! the first minute on: one instant can fall between a reload and the next refresh, a kind
//! starved for good misses nearly all of them), or the exporter panicked or did not exit 0 on
//! SIGTERM.

mod process;
mod verdict;
mod workload;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use braze_simulator::{FaultTarget, Simulator};
use tokio::process::Child;
use tokio::time::{Instant, MissedTickBehavior};

use crate::support::{BIN, KEY};
use process::{cpu_seconds, open_fds, panics, start_exporter, status_field};
use verdict::{judge, print_progress, summarize, Outcome, Sample};
use workload::{config_yaml, fault, messaging_missing, scrape, start_braze, MESSAGING_SHOWN};

const BUDGET_PER_HOUR: u64 = 250_000;
/// The exporter's own budget in Braze's campaign-analytics pool, whatever
/// `max_requests_per_hour` says (`CAMPAIGN_ANALYTICS_PER_MINUTE` in src/config/budget.rs).
const CAMPAIGN_BUDGET_PER_MINUTE: u64 = 2_000;
/// The endpoint of that pool.
const CAMPAIGN_ANALYTICS: &str = "/campaigns/data_series";
const WORKSPACES: [&str; 3] = ["a", "b", "c"];
const TICK: Duration = Duration::from_secs(5);
/// Ticks between samples, faults (on for 4 ticks of 6), churns of `c`, and `b`'s absences.
const SAMPLE_EVERY: u64 = 2;
const FAULT_EVERY: u64 = 6;
const FAULT_TICKS: u64 = 4;
const CHURN_EVERY: u64 = 36;
const ABSENT_EVERY: u64 = 60;

/// What the environment asks of this run.
struct Settings {
    minutes: f64,
    settled_minutes: f64,
    max_growth_mib_per_hour: f64,
    exporter: PathBuf,
    csv: Option<PathBuf>,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str, default: f64| {
            std::env::var(name).map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
            })
        };
        Self {
            minutes: number("BRAZE_SOAK_MINUTES", 100.0),
            settled_minutes: number("BRAZE_SOAK_SETTLED_MINUTES", 65.0),
            max_growth_mib_per_hour: number("BRAZE_SOAK_MAX_GROWTH_MIB_PER_HOUR", 1.0),
            exporter: std::env::var_os("BRAZE_SOAK_EXPORTER").map_or(BIN.into(), PathBuf::from),
            csv: std::env::var_os("BRAZE_SOAK_CSV").map(PathBuf::from),
        }
    }
}

/// Everything running during the soak, and what it has counted.
struct Run {
    settings: Settings,
    dir: tempfile::TempDir,
    brazes: [Simulator; 3],
    /// Requests the simulators `c` has left received: in all, and to campaign analytics.
    retired_requests: u64,
    retired_campaign_requests: u64,
    generation: u32,
    exporter: Child,
    base: String,
    reloads: u64,
    scrapes: Arc<AtomicU64>,
    scrape_failures: Arc<AtomicU64>,
    samples: Vec<Sample>,
    /// Scrapes checked for [`MESSAGING_SHOWN`], and how many lacked each of its entries.
    messaging_checks: u64,
    messaging_absent: [u64; MESSAGING_SHOWN.len()],
    started: Instant,
}

impl Run {
    async fn start(settings: Settings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key"), KEY).unwrap();
        let brazes = [
            start_braze(0).await,
            start_braze(0).await,
            start_braze(1).await,
        ];
        let config = dir.path().join("config.yml");
        let urls = brazes.each_ref().map(Simulator::url);
        std::fs::write(&config, config_yaml(&urls, &dir.path().join("key"), 0)).unwrap();
        let (exporter, base) =
            start_exporter(&settings.exporter, &config, &dir.path().join("log")).await;
        Self {
            settings,
            dir,
            brazes,
            retired_requests: 0,
            retired_campaign_requests: 0,
            generation: 1,
            exporter,
            base,
            reloads: 0,
            scrapes: Default::default(),
            scrape_failures: Default::default(),
            samples: Vec::new(),
            messaging_checks: 0,
            messaging_absent: [0; MESSAGING_SHOWN.len()],
            started: Instant::now(),
        }
    }

    fn minutes(&self) -> f64 {
        self.started.elapsed().as_secs_f64() / 60.0
    }

    fn requests(&self) -> u64 {
        self.retired_requests
            + self
                .brazes
                .iter()
                .map(Simulator::requests_received)
                .sum::<u64>()
    }

    fn campaign_requests(&self) -> u64 {
        self.retired_campaign_requests
            + self
                .brazes
                .iter()
                .map(|braze| braze.requests_to(CAMPAIGN_ANALYTICS))
                .sum::<u64>()
    }

    /// Writes the configuration of reload `tick` and asks the exporter to load it.
    async fn reload(&mut self, tick: u64) {
        let urls = self.brazes.each_ref().map(Simulator::url);
        let key = self.dir.path().join("key");
        std::fs::write(
            self.dir.path().join("config.yml"),
            config_yaml(&urls, &key, tick),
        )
        .unwrap();
        let answer = reqwest::Client::new()
            .post(format!("{}/-/reload", self.base))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        assert!(
            status.is_success(),
            "reload {tick}: {status}: {}",
            answer.text().await.unwrap()
        );
        self.reloads += 1;
    }

    /// Workspace `c` moves to a simulator with names never seen before.
    async fn churn(&mut self) {
        self.generation += 1;
        let next = start_braze(self.generation).await;
        let old = std::mem::replace(&mut self.brazes[2], next);
        self.retired_requests += old.requests_received();
        self.retired_campaign_requests += old.requests_to(CAMPAIGN_ANALYTICS);
        old.shutdown().await;
    }

    fn switch_faults(&self, tick: u64) {
        for braze in &self.brazes {
            braze.faults().clear_all();
        }
        if tick % FAULT_EVERY < FAULT_TICKS {
            let turn = tick / FAULT_EVERY;
            self.brazes[(turn % 3) as usize]
                .faults()
                .set(FaultTarget::All, fault(turn));
        }
    }

    /// Counts what a scrape now lacks of the messaging kinds.
    async fn check_messaging(&mut self) {
        let missing = messaging_missing(&self.base).await;
        self.messaging_checks += 1;
        for (shown, absent) in MESSAGING_SHOWN.iter().zip(&mut self.messaging_absent) {
            *absent += u64::from(missing.contains(shown));
        }
    }

    fn sample(&mut self) -> Sample {
        let pid = self.exporter.id().expect("the exporter is running");
        let sample = Sample {
            minutes: self.minutes(),
            rss_kib: status_field(pid, "VmRSS"),
            hwm_kib: status_field(pid, "VmHWM"),
            cpu_seconds: cpu_seconds(pid),
            threads: status_field(pid, "Threads"),
            fds: open_fds(pid),
            requests: self.requests(),
            campaign_requests: self.campaign_requests(),
            reloads: self.reloads,
            scrapes: self.scrapes.load(Ordering::Relaxed),
        };
        self.samples.push(sample);
        sample
    }

    /// Stops the exporter (SIGTERM) and says how the run went.
    async fn stop(mut self) -> Outcome {
        let pid = self.exporter.id().expect("running").to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(killed.unwrap().success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.exporter.wait()).await;
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        eprintln!(
            "soak: exporter exit {exit:?}, {} log lines",
            log.lines().count()
        );
        Outcome {
            settings: self.settings,
            samples: self.samples,
            scrapes: self.scrapes.load(Ordering::Relaxed),
            scrape_failures: self.scrape_failures.load(Ordering::Relaxed),
            messaging_checks: self.messaging_checks,
            messaging_absent: MESSAGING_SHOWN
                .into_iter()
                .zip(self.messaging_absent)
                .collect(),
            exited_cleanly: matches!(exit, Ok(Ok(status)) if status.success()),
            panics: panics(&log),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "lasts 100 minutes: scripts/soak.sh runs it"]
async fn memory_stays_flat_after_the_first_budget_window() {
    let settings = Settings::from_env();
    let csv = settings.csv.clone();
    let minutes = settings.minutes;
    let mut run = Run::start(settings).await;
    let stop = Arc::new(AtomicBool::new(false));
    let scraping = tokio::spawn(scrape(
        run.base.clone(),
        stop.clone(),
        run.scrapes.clone(),
        run.scrape_failures.clone(),
    ));
    let mut csv = csv.map(|path| {
        let mut file = std::fs::File::create(path).unwrap();
        use std::io::Write;
        writeln!(file, "{}", Sample::CSV_HEADER).unwrap();
        file
    });
    let mut ticks = tokio::time::interval_at(Instant::now() + TICK, TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tick = 0;
    while run.minutes() < minutes {
        ticks.tick().await;
        tick += 1;
        run.switch_faults(tick);
        if tick % CHURN_EVERY == 0 {
            run.churn().await;
        }
        run.reload(tick).await;
        if tick % SAMPLE_EVERY == 0 {
            let sample = run.sample();
            if sample.minutes >= 1.0 {
                run.check_messaging().await;
            }
            if let Some(file) = csv.as_mut() {
                use std::io::Write;
                writeln!(file, "{}", sample.csv()).unwrap();
            }
            if tick % 12 == 0 {
                print_progress(&sample);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    scraping.await.unwrap();
    let outcome = run.stop().await;
    summarize(&outcome);
    let problems = judge(&outcome);
    assert!(problems.is_empty(), "soak failed:\n{}", problems.join("\n"));
}
