//! An in-process fake of Braze's `GET /sessions/data_series`, served over real HTTP.
//!
//! The exporter's `--demo` mode, its tests and its benchmarks talk to this instead of Braze. It
//! follows Braze's reference page (see `/work/shared/braze/`) and, where the page is silent,
//! makes a plausible choice that is written down next to the code that makes it:
//!
//! - [`params`]: what a request may say, and the 400s for what it must not;
//! - [`counts`]: the buckets a series covers and the deterministic session count of each;
//! - [`faults`]: failures a test injects at run time;
//! - [`rate_limit`]: the fixed one-hour window behind the `X-RateLimit-*` headers;
//! - [`server`]: the hyper server and the order in which a request is judged;
//! - [`responses`]: Braze's bodies and headers, and the broken ones faults send.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use braze_simulator::{Simulator, SimulatorConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let simulator = Simulator::start(SimulatorConfig::demo("demo-key"), listener).await?;
//! println!("Braze is at {}", simulator.url());
//! simulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod clock;
mod counts;
mod ending_at;
mod faults;
mod params;
mod rate_limit;
mod responses;
mod server;

#[cfg(test)]
mod tests;

use std::time::Duration;

use jiff::tz::TimeZone;

pub use clock::Clock;
pub use counts::{sessions_in_bucket, sessions_in_partial_bucket};
pub use faults::{Fault, FaultTarget, Faults};
pub use server::Simulator;

/// Braze's default budget: 250,000 requests per hour per workspace.
pub const DEFAULT_RATE_LIMIT_PER_HOUR: u64 = 250_000;

/// The granularity of a series, as Braze's `unit` parameter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Hour,
    Day,
}

/// How the simulator writes `time` when `unit=hour`.
///
/// Braze documents only "ISO 8601 extended", so the exporter must accept all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFormat {
    /// `2026-11-28T10:00:00+05:30`: the bucket start with the company time zone's offset.
    Offset,
    /// `2026-11-28T04:30:00Z`: the bucket start as a UTC instant.
    Zulu,
    /// `2026-11-28T10:00:00`: the bucket start's wall-clock time in the company time zone.
    /// On the night a DST change repeats an hour, two buckets carry the same text, as they
    /// would from a Braze that wrote times this way.
    Naive,
}

/// Everything that makes one simulated Braze workspace.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The only REST API key accepted, as `Authorization: Bearer <api_key>`.
    pub api_key: String,
    /// The workspace's company time zone: buckets are aligned to its hours and midnights.
    pub time_zone: TimeZone,
    /// Known app API identifiers; any other `app_id` is a 400.
    pub apps: Vec<String>,
    /// Known segment identifiers; any other `segment_id` is a 400.
    pub segments: Vec<String>,
    /// How `time` is written when `unit=hour`.
    pub hourly_time_format: TimeFormat,
    /// Whether the bucket that is still in progress (relative to [`SimulatorConfig::clock`]) is
    /// returned, with a partial count, or left out.
    pub include_in_progress: bool,
    /// `X-RateLimit-Limit`: requests per fixed one-hour window before answering 429.
    pub rate_limit_per_hour: u64,
    /// Added to every answer with `tokio::time::sleep`, so a paused tokio clock skips it.
    pub latency: Duration,
    /// Where "now" comes from: the end of the default series, in-progress buckets, the
    /// rate-limit window.
    pub clock: Clock,
}

impl SimulatorConfig {
    /// A small workspace for `--demo` and tests: the apps [`DEMO_APPS`] and the segments
    /// [`DEMO_SEGMENTS`], UTC, [`TimeFormat::Offset`], in-progress buckets included, Braze's
    /// default rate limit, no added latency, the system clock.
    pub fn demo(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            time_zone: TimeZone::UTC,
            apps: DEMO_APPS.iter().map(|s| s.to_string()).collect(),
            segments: DEMO_SEGMENTS.iter().map(|s| s.to_string()).collect(),
            hourly_time_format: TimeFormat::Offset,
            include_in_progress: true,
            rate_limit_per_hour: DEFAULT_RATE_LIMIT_PER_HOUR,
            latency: Duration::ZERO,
            clock: Clock::system(),
        }
    }
}

/// The app identifiers of [`SimulatorConfig::demo`].
pub const DEMO_APPS: [&str; 3] = ["demo-app-ios", "demo-app-android", "demo-app-web"];

/// The segment identifiers of [`SimulatorConfig::demo`].
pub const DEMO_SEGMENTS: [&str; 2] = ["demo-seg-paying", "demo-seg-new-users"];

/// `count` identifiers `"{prefix}-0001"`, `"{prefix}-0002"`, …: `generate_ids("app", 2)` is
/// `["app-0001", "app-0002"]`. Numbers wider than four digits are written in full.
pub fn generate_ids(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}-{n:04}")).collect()
}
