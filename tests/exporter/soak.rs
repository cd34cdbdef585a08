//! The long soak (issue 24): memory that stays flat, at Braze's highest budget, through reloads,
//! faults and discovery churn, for longer than a budget window. Ignored here (it lasts 100
//! minutes); `scripts/soak.sh` runs it against a release build and says how to read it.
//!
//! Three workspaces, each against a simulator of its own, with every kind, discovery of every
//! list, `max_requests_per_hour: 250000` (the most the exporter takes, Braze's whole budget) and
//! about 500 series, every block refreshed every second: several times what that budget allows,
//! so each workspace sends at the budget's pace (one request every 14.4 ms, faster in the
//! bursts of series a reload adds, up to the window's cap) but while a fault holds it off.
//! Meanwhile:
//! - a reload every 5 s (`POST /-/reload`): workspace `a` loses two apps and a segment every
//!   other time, `b` changes its `discover: events` pattern every time (discovery lists at
//!   once, within its 50 an hour) and leaves for one reload every 5 minutes;
//! - every 3 minutes `c` moves to a new simulator whose events, products and segments have
//!   names never seen before (discovery churn: each listing brings new series, drops old ones);
//! - every 30 s a fault is switched on for 20 s on one simulator, the next kind of fault on the
//!   next simulator each time (5xx, timeouts, broken or oversized bodies, 429s);
//! - 10 scrapes a second: gzip, every 10th plain, every 5th on a new connection.
//!
//! Every 10 s it samples the exporter's VmRSS, VmHWM, threads and open fds. The budget window
//! is an hour of real time (nothing in the exporter shortens it), so the soak runs past it:
//! it fails if, from `BRAZE_SOAK_SETTLED_MINUTES` on, resident memory still grows (the
//! least-squares slope of its samples over `BRAZE_SOAK_MAX_GROWTH_MIB_PER_HOUR`), fds or
//! threads rise above what the first window saw, a scrape or a reload fails, the workspaces
//! sent less than 0.8 of the budget, or the exporter panicked or did not exit 0 on SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use braze_simulator::{Fault, FaultTarget, Simulator, SimulatorConfig};
use tokio::process::{Child, Command};
use tokio::time::{Instant, MissedTickBehavior};

use crate::support::{free_port, BIN, KEY};

const BUDGET_PER_HOUR: u64 = 250_000;
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

/// One reading of the exporter process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    minutes: f64,
    rss_kib: u64,
    hwm_kib: u64,
    /// User and system CPU time of the exporter so far.
    cpu_seconds: f64,
    threads: u64,
    fds: u64,
    requests: u64,
    reloads: u64,
    scrapes: u64,
}

impl Sample {
    const CSV_HEADER: &str =
        "minutes,rss_kib,hwm_kib,cpu_seconds,threads,fds,requests,reloads,scrapes";

    fn csv(&self) -> String {
        format!(
            "{:.2},{},{},{:.2},{},{},{},{},{}",
            self.minutes,
            self.rss_kib,
            self.hwm_kib,
            self.cpu_seconds,
            self.threads,
            self.fds,
            self.requests,
            self.reloads,
            self.scrapes
        )
    }
}

/// A named workspace's simulated Braze. Generation `g` lists events, products and segments
/// named after `g`; the apps, the configured segments, events and product are in every one.
fn braze_of(generation: u32) -> SimulatorConfig {
    let mut config = SimulatorConfig::demo(KEY);
    config.apps = braze_simulator::generate_ids("app", 5);
    let churned = (1..=4).map(|i| format!("g{generation}-seg-{i}"));
    config.segments = braze_simulator::generate_ids("seg", 3);
    config.segment_names = config
        .segments
        .iter()
        .map(|id| (id.clone(), format!("Seg {id}")))
        .chain(
            churned
                .clone()
                .map(|id| (id.clone(), format!("Churn {id}"))),
        )
        .collect();
    config.segments.extend(churned);
    config.events = ["signup", "checkout"].map(String::from).to_vec();
    config
        .events
        .extend((1..=6).map(|i| format!("g{generation}_level_{i}")));
    config.products = vec!["premium".to_string()];
    config
        .products
        .extend((1..=3).map(|i| format!("g{generation}_product_{i}")));
    // Above the exporter's 250,000: discovery's /segments/list counts against the same window
    // without going through the data series' pacer, and a simulator that ran out would hold
    // every request for up to an hour.
    config.rate_limit_per_hour = 2 * BUDGET_PER_HOUR;
    config
}

async fn start_braze(generation: u32) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(braze_of(generation), listener)
        .await
        .unwrap()
}

/// One workspace of the configuration written for reload number `reload`.
fn workspace_yaml(name: &str, url: &str, key: &Path, reload: u64) -> String {
    let fewer = name == "a" && reload % 2 == 1;
    let (apps, segments) = if fewer { (3, 2) } else { (5, 3) };
    let events = match name == "b" && reload % 2 == 1 {
        true => "^g[0-9]+_level_[1-3]$",
        false => ".*",
    };
    let list = |prefix: &str, n: usize| {
        (1..=n)
            .map(|i| format!("{{name: {prefix}{i}, id: {prefix}-{i:04}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "  - name: {name}\n\
         \x20   braze: {{url: \"{url}\", api_key_file: {key}, timeout: 2s, max_concurrency: 8, max_requests_per_hour: {BUDGET_PER_HOUR}}}\n\
         \x20   apps: [{apps}]\n\
         \x20   segments: [{segments}]\n\
         \x20   export:\n\
         \x20     sessions: {{}}\n\
         \x20     kpis: {{interval: 1s}}\n\
         \x20     events: {{names: [signup, checkout]}}\n\
         \x20     purchases: {{products: [premium]}}\n\
         \x20     segment_sizes: {{interval: 1s}}\n\
         \x20   discover:\n\
         \x20     interval: 5m\n\
         \x20     segments: {{match: \"^Churn\"}}\n\
         \x20     events: {{match: \"{events}\"}}\n\
         \x20     products: {{match: \".*\"}}\n",
        key = key.display(),
        apps = list("app", apps),
        segments = list("seg", segments),
    )
}

fn config_yaml(urls: &[String; 3], key: &Path, reload: u64) -> String {
    let b_absent = reload % ABSENT_EVERY == ABSENT_EVERY - 1;
    let workspaces: String = WORKSPACES
        .iter()
        .zip(urls)
        .filter(|(name, _)| !(b_absent && **name == "b"))
        .map(|(name, url)| workspace_yaml(name, url, key, reload))
        .collect();
    format!("refresh:\n  interval: 1s\n  length: 3\nworkspaces:\n{workspaces}")
}

/// The faults switched on in turn.
fn fault(turn: u64) -> Fault {
    let faults = [
        Fault::Status {
            status: 500,
            message: "soak".into(),
        },
        Fault::Delay(Duration::from_secs(3)),
        Fault::MalformedJson,
        Fault::WrongShape,
        Fault::Oversized(1_100_000),
        Fault::Unsuccessful("soak".into()),
        Fault::RateLimited {
            reset_in: Duration::from_secs(10),
        },
        Fault::RetryAfter {
            retry_after: "5".into(),
            reset_in: None,
        },
        Fault::BareStatus(503),
    ];
    faults[(turn % faults.len() as u64) as usize].clone()
}

/// The exporter, its output going to a file (a pipe nobody reads would block it).
async fn start_exporter(exe: &Path, config: &Path, log: &Path) -> (Child, String) {
    let port = free_port();
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(exe)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-lifecycle")
        .env_remove("BRAZE_API_KEY")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/-/healthy")).send().await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the exporter did not answer /-/healthy within 30 s");
}

/// Scrapes `base` 10 times a second until `stop`; counts answers and failures.
async fn scrape(base: String, stop: Arc<AtomicBool>, done: Arc<AtomicU64>, failed: Arc<AtomicU64>) {
    let pooled = reqwest::Client::new();
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut every = tokio::time::interval(Duration::from_millis(100));
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        every.tick().await;
        n += 1;
        let client = if n % 5 == 0 { &fresh } else { &pooled };
        let mut request = client
            .get(format!("{base}/metrics"))
            .timeout(Duration::from_secs(10));
        if n % 10 != 0 {
            request = request.header("Accept-Encoding", "gzip");
        }
        let ok = match request.send().await {
            Ok(answer) if answer.status() == 200 => {
                answer.bytes().await.is_ok_and(|b| b.len() > 1000)
            }
            _ => false,
        };
        match ok {
            true => done.fetch_add(1, Ordering::Relaxed),
            false => failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// A value of `/proc/PID/status`, such as `VmRSS` (kB) or `Threads`.
fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// User and system time from `/proc/PID/stat` (fields 14 and 15, after the command's `)`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf only reads a system constant.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64
}

/// The least-squares slope of `y` over `x`.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(sxy, sxx), (x, y)| {
        (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
    });
    sxy / sxx
}

/// Everything running during the soak, and what it has counted.
struct Run {
    settings: Settings,
    dir: tempfile::TempDir,
    brazes: [Simulator; 3],
    /// Requests the simulators `c` has left received.
    retired_requests: u64,
    generation: u32,
    exporter: Child,
    base: String,
    reloads: u64,
    scrapes: Arc<AtomicU64>,
    scrape_failures: Arc<AtomicU64>,
    samples: Vec<Sample>,
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
            generation: 1,
            exporter,
            base,
            reloads: 0,
            scrapes: Default::default(),
            scrape_failures: Default::default(),
            samples: Vec::new(),
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
            exited_cleanly: matches!(exit, Ok(Ok(status)) if status.success()),
            panics: panics(&log),
        }
    }
}

/// Each panic in the exporter's log, with what follows it up to the next log line (its message
/// and, with `RUST_BACKTRACE=1`, its backtrace).
fn panics(log: &str) -> Vec<String> {
    let mut panics: Vec<String> = Vec::new();
    let mut in_panic = false;
    for line in log.lines() {
        if line.contains("panicked at") {
            panics.push(line.to_string());
            in_panic = true;
        } else if in_panic && !line.starts_with("time=") {
            let panic = panics.last_mut().expect("a panic started");
            panic.push('\n');
            panic.push_str(line);
        } else {
            in_panic = false;
        }
    }
    panics
}

/// What a run measured and how it ended.
struct Outcome {
    settings: Settings,
    samples: Vec<Sample>,
    scrapes: u64,
    scrape_failures: u64,
    exited_cleanly: bool,
    /// The exporter's log lines that report a panic.
    panics: Vec<String>,
}

fn print_progress(s: &Sample) {
    eprintln!(
        "soak: {:6.1} min  rss {:7.1} MiB  hwm {:7.1} MiB  threads {:3}  fds {:4}  requests {:9}  reloads {:5}  scrapes {:7}",
        s.minutes,
        s.rss_kib as f64 / 1024.0,
        s.hwm_kib as f64 / 1024.0,
        s.threads,
        s.fds,
        s.requests,
        s.reloads,
        s.scrapes
    );
}

/// The figures BENCHMARKS.md reports.
fn summarize(outcome: &Outcome) {
    let (samples, scrapes, scrape_failures) =
        (&outcome.samples, outcome.scrapes, outcome.scrape_failures);
    let mib = |s: &Sample| s.rss_kib as f64 / 1024.0;
    let at = |minute: f64| samples.iter().find(|s| s.minutes >= minute);
    let (first, last) = (samples[0], *samples.last().expect("sampled"));
    for (name, sample) in [
        ("first sample", Some(&first)),
        ("1 min", at(1.0)),
        ("60 min", at(60.0)),
    ] {
        if let Some(s) = sample {
            eprintln!(
                "soak: rss at {name} ({:.1} min): {:.1} MiB",
                s.minutes,
                mib(s)
            );
        }
    }
    let cpu_per_request =
        (last.cpu_seconds - first.cpu_seconds) / (last.requests - first.requests) as f64;
    eprintln!(
        "soak: {:.1} min, {} requests to Braze, {} reloads, {scrapes} scrapes ({scrape_failures} failed); \
         rss at the end {:.1} MiB, peak {:.1} MiB; exporter CPU {:.0} s ({:.0} µs per request, scrapes included)",
        last.minutes,
        last.requests,
        last.reloads,
        mib(&last),
        last.hwm_kib as f64 / 1024.0,
        last.cpu_seconds,
        cpu_per_request * 1e6
    );
}

/// The verdict on the run: failures, each a sentence.
fn judge(outcome: &Outcome) -> Vec<String> {
    let mut problems = memory_problems(&outcome.settings, &outcome.samples);
    problems.extend(below_budget(&outcome.samples));
    if outcome.scrape_failures > 0 {
        problems.push(format!("{} scrapes failed", outcome.scrape_failures));
    }
    if !outcome.exited_cleanly {
        problems.push("the exporter did not exit 0 within 30 s of SIGTERM".into());
    }
    if !outcome.panics.is_empty() {
        problems.push(format!(
            "the exporter panicked:\n{}",
            outcome.panics.join("\n")
        ));
    }
    problems
}

/// Memory, fds and threads after the first window, against what it saw.
fn memory_problems(settings: &Settings, samples: &[Sample]) -> Vec<String> {
    let after = settings.settled_minutes;
    let (window, settled): (Vec<Sample>, Vec<Sample>) =
        samples.iter().partition(|s| s.minutes < after);
    if settled.len() < 10 {
        return vec![format!(
            "only {} samples after minute {after}: run longer than that",
            settled.len()
        )];
    }
    [
        still_growing(&settled, settings),
        // Connections to Braze and from scrapers come and go: a few more at one sample is noise.
        rose("fds", &window, &settled, |s| s.fds, 8),
        rose("threads", &window, &settled, |s| s.threads, 2),
    ]
    .into_iter()
    .flatten()
    .map(|problem| format!("{problem} (judged from minute {after})"))
    .collect()
}

/// Resident memory's least-squares slope over the settled samples, if over the limit.
fn still_growing(settled: &[Sample], settings: &Settings) -> Option<String> {
    let points: Vec<(f64, f64)> = settled
        .iter()
        .map(|s| (s.minutes / 60.0, s.rss_kib as f64 / 1024.0))
        .collect();
    let mib_per_hour = slope(&points);
    eprintln!(
        "soak: rss from minute {}: {mib_per_hour:+.3} MiB per hour (least squares over {} samples)",
        settings.settled_minutes,
        points.len()
    );
    (mib_per_hour > settings.max_growth_mib_per_hour).then(|| {
        format!(
            "resident memory still grows: {mib_per_hour:.3} MiB per hour, over {}",
            settings.max_growth_mib_per_hour
        )
    })
}

/// A count that went higher in the settled samples than in the first window, by more than
/// `margin`.
fn rose(
    what: &str,
    window: &[Sample],
    settled: &[Sample],
    of: fn(&Sample) -> u64,
    margin: u64,
) -> Option<String> {
    let before = window.iter().map(of).max().unwrap_or(0);
    let after = settled.iter().map(of).max().unwrap_or(0);
    (after > before + margin)
        .then(|| format!("{what} rose to {after}, {before} at most before (margin {margin})"))
}

/// The workspaces' pace, if well under the budget: the soak is meant to run at it.
fn below_budget(samples: &[Sample]) -> Option<String> {
    let (first, last) = (samples.first()?, samples.last()?);
    let hours = (last.minutes - first.minutes) / 60.0;
    let per_workspace_hour =
        (last.requests - first.requests) as f64 / hours / WORKSPACES.len() as f64;
    eprintln!(
        "soak: {per_workspace_hour:.0} requests per workspace per hour (budget {BUDGET_PER_HOUR})"
    );
    (per_workspace_hour < 0.8 * BUDGET_PER_HOUR as f64).then(|| {
        format!("the workspaces sent {per_workspace_hour:.0} requests an hour each, not near the budget's {BUDGET_PER_HOUR}")
    })
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
