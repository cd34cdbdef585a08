//! The exporter's own metrics: Braze requests, failures, budget, refreshes, reloads, build.
//!
//! These are few and change as requests complete, so they live in a `prometheus` registry of
//! their own and are encoded at each scrape (a few hundred bytes, whatever the series count),
//! after the per-series snapshot. Gauges whose value is not known yet (the rate limit before
//! Braze's first answer) are absent rather than a misleading zero.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use jiff::Timestamp;
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::braze::{FailureReason, RateLimit};
use crate::config::{Budget, Config};
use crate::series::{Export, Pool};

/// Self-metrics on /metrics are at most this old.
pub const ENCODE_EVERY: Duration = Duration::from_secs(1);

/// What `--version` and `braze_exporter_build_info` show (see build.rs; "unknown" when not
/// found at build time).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REVISION: &str = env!("BRAZE_EXPORTER_REVISION");
pub const BRANCH: &str = env!("BRAZE_EXPORTER_BRANCH");
pub const BUILD_USER: &str = env!("BRAZE_EXPORTER_BUILD_USER");
pub const BUILD_DATE: &str = env!("BRAZE_EXPORTER_BUILD_DATE");
pub const RUST_VERSION: &str = env!("BRAZE_EXPORTER_RUST_VERSION");

/// The process's self-metrics: build info, reloads and process metrics, beside each
/// workspace's registry, encoded together so that every family is written once.
pub struct Shared {
    global: Registry,
    reload_successful: IntGauge,
    reload_success_time: Gauge,
    /// Each workspace's registry, by its `workspace` label value (`None`: the single form).
    workspaces: Mutex<Vec<(Option<String>, Registry)>>,
    /// The last encoding and when it was made: scrapes within [`ENCODE_EVERY`] share it.
    encoded: Mutex<Option<(Instant, Bytes)>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl Shared {
    pub fn new() -> Arc<Self> {
        let global = Registry::new();
        let build_info = register(
            &global,
            IntGauge::with_opts(
                Opts::new(
                    "braze_exporter_build_info",
                    "A metric with a constant '1' value labeled by version, revision, branch, \
                     and rustversion from which braze-exporter was built.",
                )
                .const_label("version", VERSION)
                .const_label("revision", REVISION)
                .const_label("branch", BRANCH)
                .const_label("rustversion", RUST_VERSION),
            )
            .expect("valid metric"),
        );
        build_info.set(1);
        #[cfg(target_os = "linux")]
        global
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("process metrics register once");
        let int_gauge = |name: &str, help: &str| {
            register(&global, IntGauge::new(name, help).expect("valid metric"))
        };
        let reload_successful = int_gauge(
            "braze_config_last_reload_successful",
            "1 if the latest configuration load succeeded, else 0.",
        );
        let reload_success_time = register(
            &global,
            Gauge::new(
                "braze_config_last_reload_success_timestamp_seconds",
                "Unix time of the latest successful configuration load.",
            )
            .expect("valid metric"),
        );
        Arc::new(Self {
            global,
            reload_successful,
            reload_success_time,
            workspaces: Mutex::new(Vec::new()),
            encoded: Mutex::new(None),
        })
    }

    /// A configuration was loaded (at start or by a reload).
    pub fn config_loaded(&self, at: Timestamp) {
        self.reload_successful.set(1);
        self.reload_success_time.set(at.as_second() as f64);
        self.expire_encoding();
    }

    pub fn config_reload_failed(&self) {
        self.reload_successful.set(0);
        self.expire_encoding();
    }

    /// A workspace a reload removed: its self-metrics go with it.
    pub fn forget_workspace(&self, workspace: Option<&str>) {
        self.workspaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(name, _)| name.as_deref() != workspace);
        self.expire_encoding();
    }

    /// The exposition text for the end of a scrape, encoded at most every [`ENCODE_EVERY`]:
    /// the process metrics read /proc, which cost a busy scrape path more than the rest of it.
    pub fn encode_shared(&self) -> Bytes {
        let mut encoded = self.encoded.lock().unwrap_or_else(|e| e.into_inner());
        match encoded.as_ref() {
            Some((at, bytes)) if at.elapsed() < ENCODE_EVERY => bytes.clone(),
            _ => {
                let bytes = Bytes::from(self.encode());
                *encoded = Some((Instant::now(), bytes.clone()));
                bytes
            }
        }
    }

    /// A reload's outcome shows on the very next scrape, not up to [`ENCODE_EVERY`] later.
    pub fn expire_encoding(&self) {
        *self.encoded.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The exposition text of every self-metric: families of the same name from several
    /// workspaces are merged into one.
    pub fn encode(&self) -> Vec<u8> {
        let mut families: std::collections::BTreeMap<String, prometheus::proto::MetricFamily> =
            Default::default();
        let registries = self.workspaces.lock().unwrap_or_else(|e| e.into_inner());
        let gathered =
            std::iter::once(self.global.gather()).chain(registries.iter().map(|(_, r)| r.gather()));
        for family in gathered.flatten() {
            match families.get_mut(family.name()) {
                Some(kept) => {
                    let mut family = family;
                    kept.mut_metric().extend(family.take_metric());
                }
                None => {
                    families.insert(family.name().to_string(), family);
                }
            }
        }
        let families: Vec<_> = families.into_values().collect();
        let mut out = Vec::with_capacity(4096);
        TextEncoder::new()
            .encode(&families, &mut out)
            .expect("encoding to a Vec cannot fail");
        out
    }
}

/// One workspace's self-metrics (in the single form, the only ones): requests, failures, the
/// rate limit, refreshes and budget, with the `workspace` label in the `workspaces:` form.
#[derive(Clone)]
pub struct Telemetry {
    shared: Arc<Shared>,
    requests: IntCounter,
    request_duration: Histogram,
    hold_off_until: GaugeVec,
    failures: IntCounterVec,
    rate_limit_limit: GaugeVec,
    rate_limit_remaining: GaugeVec,
    rate_limit_reset: GaugeVec,
    refreshes: IntCounterVec,
    refreshes_skipped: IntCounterVec,
    refresh_duration: GaugeVec,
    refresh_completed: GaugeVec,
    refresh_interval: GaugeVec,
    series: IntGauge,
    series_limited: IntGauge,
    discovered: IntGaugeVec,
    retries: IntCounter,
    requests_per_hour_needed: Gauge,
    max_requests_per_hour: Gauge,
    budget_exceeded: IntGauge,
    key_reload_successful: IntGauge,
    key_reload_success_time: Gauge,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    registry
        .register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

impl Telemetry {
    /// The self-metrics of a process with one workspace and no `workspace` label.
    #[cfg(test)]
    pub fn new() -> Self {
        Self::for_workspace(&Shared::new(), None)
    }

    /// The process's part, for tests that build a refresher around these.
    #[cfg(test)]
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// A workspace's self-metrics, registered with the process's; `Some(name)` labels every
    /// one of them `workspace="name"`.
    pub fn for_workspace(shared: &Arc<Shared>, workspace: Option<&str>) -> Self {
        let r = Registry::new();
        let opts = |name: &str, help: &str| match workspace {
            Some(w) => Opts::new(name, help).const_label("workspace", w),
            None => Opts::new(name, help),
        };
        let counter = |name: &str, help: &str| {
            register(
                &r,
                IntCounter::with_opts(opts(name, help)).expect("valid metric"),
            )
        };
        let gauge = |name: &str, help: &str| {
            register(
                &r,
                Gauge::with_opts(opts(name, help)).expect("valid metric"),
            )
        };
        let int_gauge = |name: &str, help: &str| {
            register(
                &r,
                IntGauge::with_opts(opts(name, help)).expect("valid metric"),
            )
        };
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                &r,
                GaugeVec::new(opts(name, help), labels).expect("valid metric"),
            )
        };
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                &r,
                IntCounterVec::new(opts(name, help), labels).expect("valid metric"),
            )
        };
        let failures = counter_vec(
            "braze_api_request_failures_total",
            "Requests to Braze that failed, by reason.",
            &["reason"],
        );
        for reason in FailureReason::ALL {
            failures.with_label_values(&[reason.as_str()]);
        }
        let histogram_opts = HistogramOpts::new(
            "braze_api_request_duration_seconds",
            "Time from sending a request to Braze to having its whole answer (or failure).",
        )
        .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        let histogram_opts = match workspace {
            Some(w) => histogram_opts.const_label("workspace", w),
            None => histogram_opts,
        };
        let telemetry = Self {
            shared: shared.clone(),
            requests: counter("braze_api_requests_total", "Requests sent to Braze's data series endpoints."),
            request_duration: register(&r, Histogram::with_opts(histogram_opts).expect("valid metric")),
            hold_off_until: gauge_vec("braze_api_hold_off_until_timestamp_seconds", "Unix time until which the exporter sends nothing to the pool's endpoints, after a 429 or an exhausted rate limit of that pool.", &["pool"]),
            failures,
            rate_limit_limit: gauge_vec("braze_api_rate_limit_limit", "Braze's request budget per window of the workspace's rate-limit pool (X-RateLimit-Limit), from the latest response of that pool that had it.", &["pool"]),
            rate_limit_remaining: gauge_vec("braze_api_rate_limit_remaining", "Requests left in the current Braze window of the pool (X-RateLimit-Remaining); shared with every other integration of the workspace.", &["pool"]),
            rate_limit_reset: gauge_vec("braze_api_rate_limit_reset_timestamp_seconds", "Unix time at which the pool's Braze rate-limit window resets (X-RateLimit-Reset).", &["pool"]),
            refreshes: counter_vec("braze_refreshes_total", "Refreshes of every series of an export block completed.", &["export"]),
            refreshes_skipped: counter_vec("braze_refreshes_skipped_total", "Refreshes of an export block not started because its previous one was still running when they were due.", &["export"]),
            refresh_duration: gauge_vec("braze_refresh_duration_seconds", "How long the latest complete refresh of an export block's series took.", &["export"]),
            refresh_completed: gauge_vec("braze_refresh_last_completed_timestamp_seconds", "Unix time at which the latest refresh of an export block completed.", &["export"]),
            refresh_interval: gauge_vec("braze_refresh_interval_seconds", "The interval of an export block (refresh.interval unless the block sets its own).", &["export"]),
            series: int_gauge("braze_series", "Series polled, configured and discovered, after max_series."),
            series_limited: int_gauge("braze_series_limited", "1 if configuration and discovery together ask for more than max_series series and the excess is dropped, else 0."),
            discovered: register(&r, IntGaugeVec::new(opts("braze_discovered", "Items of a Braze list (segments, events, products, campaigns, canvases) that discovery keeps: listed, matching, for segments analytics-enabled, for campaigns and Canvases tagged and live as discover: asks."), &["list"]).expect("valid metric")),
            retries: counter("braze_api_retries_total", "Requests to Braze retried after a transient failure (5xx, timeout, connection, 429)."),
            requests_per_hour_needed: gauge("braze_refresh_requests_per_hour", "Requests per hour that refreshing every series once per its interval takes."),
            max_requests_per_hour: gauge("braze_api_max_requests_per_hour", "The exporter's own budget of Braze requests per hour (braze.max_requests_per_hour)."),
            budget_exceeded: int_gauge("braze_refresh_budget_exceeded", "1 if the configured series cannot all be refreshed within their intervals under braze.max_requests_per_hour, else 0."),
            key_reload_successful: int_gauge("braze_api_key_last_reload_successful", "1 if the latest read of the API key file (at start, on reload, or because it changed) gave a key that is now in use, 0 if the file changed but could not be used and the previous key stays."),
            key_reload_success_time: gauge("braze_api_key_last_reload_success_timestamp_seconds", "Unix time of the latest successful read of the API key (at start, on reload, or because its file changed)."),
        };
        let mut registries = shared.workspaces.lock().unwrap_or_else(|e| e.into_inner());
        registries.retain(|(name, _)| name.as_deref() != workspace);
        registries.push((workspace.map(str::to_string), r));
        drop(registries);
        shared.expire_encoding();
        telemetry
    }

    pub fn request_sent(&self) {
        self.requests.inc();
    }

    pub fn request_took(&self, took: Duration) {
        self.request_duration.observe(took.as_secs_f64());
    }

    pub fn hold_off_until(&self, pool: Pool, until: Timestamp) {
        self.hold_off_until
            .with_label_values(&[pool.as_str()])
            .set(until.as_second() as f64);
    }

    pub fn request_failed(&self, reason: FailureReason) {
        self.failures.with_label_values(&[reason.as_str()]).inc();
    }

    #[cfg(test)]
    pub fn failures(&self, reason: FailureReason) -> u64 {
        self.failures.with_label_values(&[reason.as_str()]).get()
    }

    #[cfg(test)]
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// Records what Braze said of the budget; a header it left out keeps its last value.
    pub fn rate_limit(&self, pool: Pool, limit: &RateLimit) {
        let label = [pool.as_str()];
        if let Some(n) = limit.limit {
            self.rate_limit_limit
                .with_label_values(&label)
                .set(n as f64);
        }
        if let Some(n) = limit.remaining {
            self.rate_limit_remaining
                .with_label_values(&label)
                .set(n as f64);
        }
        if let Some(t) = limit.reset {
            self.rate_limit_reset
                .with_label_values(&label)
                .set(t.as_second() as f64);
        }
    }

    pub fn refresh_completed(&self, export: Export, took: Duration, at: Timestamp) {
        let label = [export.as_str()];
        self.refreshes.with_label_values(&label).inc();
        self.refresh_duration
            .with_label_values(&label)
            .set(took.as_secs_f64());
        self.refresh_completed
            .with_label_values(&label)
            .set(at.as_second() as f64);
    }

    pub fn refreshes_skipped(&self, export: Export, n: u64) {
        self.refreshes_skipped
            .with_label_values(&[export.as_str()])
            .inc_by(n);
    }

    #[cfg(test)]
    pub fn skipped(&self) -> u64 {
        Export::ALL
            .iter()
            .map(|e| {
                self.refreshes_skipped
                    .with_label_values(&[e.as_str()])
                    .get()
            })
            .sum()
    }

    /// A configuration took effect (at start or by a reload): its blocks, its budget, and the
    /// reload's success.
    pub fn config_loaded(&self, config: &Config, at: Timestamp) {
        self.refresh_interval.reset();
        for export in &config.exports {
            let label = [export.export.as_str()];
            self.refresh_interval
                .with_label_values(&label)
                .set(export.schedule.interval.as_secs_f64());
            self.refreshes.with_label_values(&label).inc_by(0);
            self.refreshes_skipped.with_label_values(&label).inc_by(0);
        }
        self.max_requests_per_hour
            .set(config.braze.max_requests_per_hour as f64);
        self.shared.config_loaded(at);
    }

    /// The series to poll changed (a configuration, or discovery): how many, what they cost,
    /// and whether `max_series` cut them.
    pub fn series_planned(&self, budget: &Budget, dropped: usize) {
        self.series.set(budget.series() as i64);
        self.requests_per_hour_needed
            .set(budget.requests_per_hour());
        self.budget_exceeded.set(i64::from(budget.exceeded()));
        self.series_limited.set(i64::from(dropped > 0));
        self.shared.expire_encoding();
    }

    /// What discovery keeps of one list.
    pub fn discovered(&self, list: &str, items: usize) {
        self.discovered.with_label_values(&[list]).set(items as i64);
        self.shared.expire_encoding();
    }

    pub fn retry_scheduled(&self) {
        self.retries.inc();
    }

    #[cfg(test)]
    pub fn retries(&self) -> u64 {
        self.retries.get()
    }

    /// Where a Braze client reports reads of its key file.
    pub fn key_reports(&self) -> crate::config::KeyReports {
        let successful = self.key_reload_successful.clone();
        let success_time = self.key_reload_success_time.clone();
        let shared = self.shared.clone();
        Arc::new(move |ok| {
            successful.set(i64::from(ok));
            if ok {
                success_time.set(Timestamp::now().as_second() as f64);
            }
            shared.expire_encoding();
        })
    }

    /// The exposition text of every self-metric of the process.
    #[cfg(test)]
    pub fn encode(&self) -> Vec<u8> {
        self.shared.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &Telemetry) -> String {
        String::from_utf8(t.encode()).unwrap()
    }

    #[test]
    fn every_failure_reason_starts_at_zero() {
        let out = text(&Telemetry::new());
        for reason in FailureReason::ALL {
            let line = format!(
                "braze_api_request_failures_total{{reason=\"{}\"}} 0",
                reason.as_str()
            );
            assert!(out.contains(&line), "missing {line}");
        }
        assert!(out.contains("braze_api_requests_total 0"));
        assert!(
            out.contains(&format!(
                "braze_exporter_build_info{{branch=\"{BRANCH}\",revision=\"{REVISION}\",rustversion=\"{RUST_VERSION}\",version=\"{VERSION}\"}} 1"
            )),
            "{out}"
        );
    }

    #[test]
    fn scrapes_share_an_encoding_until_it_expires_or_a_reload_happens() {
        let t = Telemetry::new();
        let first = t.shared().encode_shared();
        t.request_sent();
        assert_eq!(
            t.shared().encode_shared(),
            first,
            "shared within ENCODE_EVERY"
        );
        t.shared().config_reload_failed();
        let after_reload = t.shared().encode_shared();
        assert!(String::from_utf8_lossy(&after_reload).contains("braze_api_requests_total 1"));
        assert!(String::from_utf8_lossy(&after_reload)
            .contains("braze_config_last_reload_successful 0"));
    }

    #[test]
    fn unknown_rate_limit_is_absent_not_zero() {
        let t = Telemetry::new();
        assert!(!text(&t).contains("braze_api_rate_limit_remaining"));
        t.rate_limit(
            Pool::Shared,
            &RateLimit {
                limit: Some(250_000),
                remaining: Some(12),
                reset: None,
                retry_after: None,
            },
        );
        let out = text(&t);
        assert!(
            out.contains("braze_api_rate_limit_remaining{pool=\"shared\"} 12"),
            "{out}"
        );
        assert!(
            out.contains("braze_api_rate_limit_limit{pool=\"shared\"} 250000"),
            "{out}"
        );
        assert!(!out.contains("braze_api_rate_limit_reset_timestamp_seconds"));
        t.rate_limit(
            Pool::Shared,
            &RateLimit {
                limit: None,
                remaining: Some(11),
                reset: None,
                retry_after: None,
            },
        );
        assert!(
            text(&t).contains("braze_api_rate_limit_limit{pool=\"shared\"} 250000"),
            "kept"
        );
    }

    #[test]
    fn counts_requests_failures_and_refreshes() {
        let t = Telemetry::new();
        t.request_sent();
        t.request_sent();
        t.request_took(Duration::from_millis(300));
        t.request_failed(FailureReason::Timeout);
        t.refresh_completed(
            Export::Sessions,
            Duration::from_millis(1500),
            Timestamp::from_second(1_800_000_000).unwrap(),
        );
        t.refreshes_skipped(Export::Sessions, 2);
        let config = Config::parse(
            "braze:\n  url: https://x.example\n  max_requests_per_hour: 100\napps:\n  - {name: a, id: a}\n",
            std::path::Path::new("t.yml"),
            Some("k".into()),
        )
        .unwrap();
        t.config_loaded(&config, Timestamp::from_second(1_800_000_000).unwrap());
        t.series_planned(&config.budget(), 0);
        let out = text(&t);
        for line in [
            "braze_api_requests_total 2",
            "braze_api_request_duration_seconds_count 1",
            "braze_api_request_duration_seconds_bucket{le=\"0.5\"} 1",
            "braze_api_request_duration_seconds_bucket{le=\"0.25\"} 0",
            "braze_api_request_failures_total{reason=\"timeout\"} 1",
            "braze_refreshes_total{export=\"sessions\"} 1",
            "braze_refresh_duration_seconds{export=\"sessions\"} 1.5",
            "braze_refresh_last_completed_timestamp_seconds{export=\"sessions\"} 1800000000",
            "braze_refreshes_skipped_total{export=\"sessions\"} 2",
            "braze_series 2",
            "braze_series_limited 0",
            "braze_refresh_interval_seconds{export=\"sessions\"} 300",
            "braze_refresh_requests_per_hour 24",
            "braze_api_max_requests_per_hour 100",
            "braze_refresh_budget_exceeded 0",
            "braze_config_last_reload_successful 1",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
        }
        t.shared().config_reload_failed();
        assert!(text(&t).contains("braze_config_last_reload_successful 0"));
    }

    #[test]
    fn key_reads_are_exposed() {
        let t = Telemetry::new();
        assert!(text(&t).contains("braze_api_key_last_reload_successful 0"));
        let reports = t.key_reports();
        reports(true);
        let out = text(&t);
        assert!(
            out.contains("braze_api_key_last_reload_successful 1"),
            "{out}"
        );
        let at = sample_value(&out, "braze_api_key_last_reload_success_timestamp_seconds");
        assert!(at > 1.7e9, "{out}");
        reports(false);
        let out = text(&t);
        assert!(
            out.contains("braze_api_key_last_reload_successful 0"),
            "{out}"
        );
        assert_eq!(
            sample_value(&out, "braze_api_key_last_reload_success_timestamp_seconds"),
            at,
            "a failed read keeps the time of the last good one"
        );
    }

    fn sample_value(text: &str, name: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    }
}
