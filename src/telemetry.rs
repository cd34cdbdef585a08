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
use crate::series::Export;

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

#[derive(Clone)]
pub struct Telemetry {
    registry: Registry,
    /// The last encoding and when it was made: scrapes within [`ENCODE_EVERY`] share it.
    encoded: Arc<Mutex<Option<(Instant, Bytes)>>>,
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
    reload_successful: IntGauge,
    reload_success_time: Gauge,
    key_reload_successful: IntGauge,
    key_reload_success_time: Gauge,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    registry
        .register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

/// A gauge that has no value until it is first set: a family with no labels and no child yet.
fn lazy_gauge(registry: &Registry, name: &str, help: &str) -> GaugeVec {
    labeled_gauge(registry, name, help, &[])
}

/// A gauge with a child per value of `labels`, each absent until first set.
fn labeled_gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    register(
        registry,
        GaugeVec::new(Opts::new(name, help), labels).expect("valid metric"),
    )
}

/// A counter per value of `labels`.
fn labeled_counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(
        registry,
        IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
    )
}

impl Telemetry {
    pub fn new() -> Self {
        let r = Registry::new();
        let counter = |name: &str, help: &str| {
            register(&r, IntCounter::new(name, help).expect("valid metric"))
        };
        let gauge =
            |name: &str, help: &str| register(&r, Gauge::new(name, help).expect("valid metric"));
        let int_gauge =
            |name: &str, help: &str| register(&r, IntGauge::new(name, help).expect("valid metric"));
        let failures = register(
            &r,
            IntCounterVec::new(
                Opts::new(
                    "braze_api_request_failures_total",
                    "Requests to Braze that failed, by reason.",
                ),
                &["reason"],
            )
            .expect("valid metric"),
        );
        for reason in FailureReason::ALL {
            failures.with_label_values(&[reason.as_str()]);
        }
        let build_info = register(
            &r,
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
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))
        .expect("process metrics register once");
        Self {
            requests: counter("braze_api_requests_total", "Requests sent to Braze's data series endpoints."),
            request_duration: register(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new("braze_api_request_duration_seconds", "Time from sending a request to Braze to having its whole answer (or failure).")
                        .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
                )
                .expect("valid metric"),
            ),
            hold_off_until: lazy_gauge(&r, "braze_api_hold_off_until_timestamp_seconds", "Unix time until which the exporter sends Braze nothing, after a 429 or an exhausted rate limit."),
            failures,
            rate_limit_limit: lazy_gauge(&r, "braze_api_rate_limit_limit", "Braze's request budget per window for the workspace (X-RateLimit-Limit), from the latest response that had it."),
            rate_limit_remaining: lazy_gauge(&r, "braze_api_rate_limit_remaining", "Requests left in the workspace's current Braze window (X-RateLimit-Remaining); shared with every other integration of the workspace."),
            rate_limit_reset: lazy_gauge(&r, "braze_api_rate_limit_reset_timestamp_seconds", "Unix time at which Braze's rate-limit window resets (X-RateLimit-Reset)."),
            refreshes: labeled_counter(&r, "braze_refreshes_total", "Refreshes of every series of an export block completed.", &["export"]),
            refreshes_skipped: labeled_counter(&r, "braze_refreshes_skipped_total", "Refreshes of an export block not started because its previous one was still running when they were due.", &["export"]),
            refresh_duration: labeled_gauge(&r, "braze_refresh_duration_seconds", "How long the latest complete refresh of an export block's series took.", &["export"]),
            refresh_completed: labeled_gauge(&r, "braze_refresh_last_completed_timestamp_seconds", "Unix time at which the latest refresh of an export block completed.", &["export"]),
            refresh_interval: labeled_gauge(&r, "braze_refresh_interval_seconds", "The interval of an export block (refresh.interval unless the block sets its own).", &["export"]),
            series: int_gauge("braze_series", "Series polled, configured and discovered, after max_series."),
            series_limited: int_gauge("braze_series_limited", "1 if configuration and discovery together ask for more than max_series series and the excess is dropped, else 0."),
            discovered: register(&r, IntGaugeVec::new(Opts::new("braze_discovered", "Items of a Braze list (segments, events, products) that discovery keeps: listed, matching, and for segments analytics-enabled."), &["list"]).expect("valid metric")),
            retries: counter("braze_api_retries_total", "Requests to Braze retried after a transient failure (5xx, timeout, connection, 429)."),
            requests_per_hour_needed: gauge("braze_refresh_requests_per_hour", "Requests per hour that refreshing every series once per refresh.interval takes."),
            max_requests_per_hour: gauge("braze_api_max_requests_per_hour", "The exporter's own budget of Braze requests per hour (braze.max_requests_per_hour)."),
            budget_exceeded: int_gauge("braze_refresh_budget_exceeded", "1 if the configured series cannot all be refreshed within refresh.interval under braze.max_requests_per_hour, else 0."),
            reload_successful: int_gauge("braze_config_last_reload_successful", "1 if the latest configuration load succeeded, else 0."),
            reload_success_time: gauge("braze_config_last_reload_success_timestamp_seconds", "Unix time of the latest successful configuration load."),
            key_reload_successful: int_gauge("braze_api_key_last_reload_successful", "1 if the latest read of the API key file (at start, on reload, or because it changed) gave a key that is now in use, 0 if the file changed but could not be used and the previous key stays."),
            key_reload_success_time: gauge("braze_api_key_last_reload_success_timestamp_seconds", "Unix time of the latest successful read of the API key (at start, on reload, or because its file changed)."),
            registry: r,
            encoded: Arc::default(),
        }
    }

    pub fn request_sent(&self) {
        self.requests.inc();
    }

    pub fn request_took(&self, took: Duration) {
        self.request_duration.observe(took.as_secs_f64());
    }

    pub fn hold_off_until(&self, until: Timestamp) {
        self.hold_off_until
            .with_label_values(&[] as &[&str])
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
    pub fn rate_limit(&self, limit: &RateLimit) {
        if let Some(n) = limit.limit {
            self.rate_limit_limit
                .with_label_values(&[] as &[&str])
                .set(n as f64);
        }
        if let Some(n) = limit.remaining {
            self.rate_limit_remaining
                .with_label_values(&[] as &[&str])
                .set(n as f64);
        }
        if let Some(t) = limit.reset {
            self.rate_limit_reset
                .with_label_values(&[] as &[&str])
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

    /// A configuration took effect (at start or by a reload): its blocks and the reload's
    /// success.
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
        self.reload_successful.set(1);
        self.reload_success_time.set(at.as_second() as f64);
        self.expire_encoding();
    }

    /// The series to poll changed (a configuration, or discovery): how many, what they cost,
    /// and whether `max_series` cut them.
    pub fn series_planned(&self, budget: &Budget, dropped: usize) {
        self.series.set(budget.series() as i64);
        self.requests_per_hour_needed
            .set(budget.requests_per_hour());
        self.budget_exceeded.set(i64::from(budget.exceeded()));
        self.series_limited.set(i64::from(dropped > 0));
        self.expire_encoding();
    }

    /// What discovery keeps of one list.
    pub fn discovered(&self, list: &str, items: usize) {
        self.discovered.with_label_values(&[list]).set(items as i64);
        self.expire_encoding();
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
        let encoded = self.encoded.clone();
        Arc::new(move |ok| {
            successful.set(i64::from(ok));
            if ok {
                success_time.set(Timestamp::now().as_second() as f64);
            }
            *encoded.lock().unwrap_or_else(|e| e.into_inner()) = None;
        })
    }

    pub fn config_reload_failed(&self) {
        self.reload_successful.set(0);
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
    fn expire_encoding(&self) {
        *self.encoded.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The exposition text of these metrics.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        let families = self.registry.gather();
        TextEncoder::new()
            .encode(&families, &mut out)
            .expect("encoding to a Vec cannot fail");
        out
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
        let first = t.encode_shared();
        t.request_sent();
        assert_eq!(t.encode_shared(), first, "shared within ENCODE_EVERY");
        t.config_reload_failed();
        let after_reload = t.encode_shared();
        assert!(String::from_utf8_lossy(&after_reload).contains("braze_api_requests_total 1"));
        assert!(String::from_utf8_lossy(&after_reload)
            .contains("braze_config_last_reload_successful 0"));
    }

    #[test]
    fn unknown_rate_limit_is_absent_not_zero() {
        let t = Telemetry::new();
        assert!(!text(&t).contains("braze_api_rate_limit_remaining"));
        t.rate_limit(&RateLimit {
            limit: Some(250_000),
            remaining: Some(12),
            reset: None,
            retry_after: None,
        });
        let out = text(&t);
        assert!(out.contains("braze_api_rate_limit_remaining 12"), "{out}");
        assert!(out.contains("braze_api_rate_limit_limit 250000"), "{out}");
        assert!(!out.contains("braze_api_rate_limit_reset_timestamp_seconds"));
        t.rate_limit(&RateLimit {
            limit: None,
            remaining: Some(11),
            reset: None,
            retry_after: None,
        });
        assert!(
            text(&t).contains("braze_api_rate_limit_limit 250000"),
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
        t.config_reload_failed();
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
