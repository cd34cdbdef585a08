//! `--demo`: the exporter against its own Braze simulator on loopback.
//!
//! A new user sees real numbers on /metrics without a Braze key or a configuration file: the
//! simulator serves the documented API (auth, buckets, rate-limit headers) with a daily rhythm,
//! and the exporter polls it exactly as it would poll Braze.

use std::net::SocketAddr;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::config::{ApiKey, BrazeSettings, Config, RefreshSettings};
use crate::series::{Scope, Unit};
use crate::simulator::{Simulator, SimulatorConfig, DEMO_APPS, DEMO_SEGMENTS};

/// The label names the demo gives the simulator's apps and segments.
const APP_NAMES: [&str; 3] = ["ios", "android", "web"];
const SEGMENT_NAMES: [&str; 2] = ["paying", "new_users"];

/// How often the demo refreshes: often, since the simulator costs nothing.
pub const DEMO_INTERVAL: Duration = Duration::from_secs(30);

/// Starts the simulator and returns the configuration that points the exporter at it.
pub async fn start(clock: SharedClock) -> Result<(Config, Simulator), String> {
    let key = demo_key();
    let mut sim_config = SimulatorConfig::demo(key.clone());
    sim_config.clock = clock;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind the simulator on loopback: {e}"))?;
    let simulator = Simulator::start(sim_config, listener)
        .await
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let config = demo_config(&simulator.url(), &key)?;
    Ok((config, simulator))
}

/// The configuration the demo runs: every simulated app and segment, hourly.
pub fn demo_config(url: &str, key: &str) -> Result<Config, String> {
    let scopes = |names: &[&str], ids: &[&str]| {
        names
            .iter()
            .zip(ids)
            .map(|(n, id)| Scope::named(*n, *id))
            .collect()
    };
    Ok(Config {
        braze: BrazeSettings {
            url: url
                .parse()
                .map_err(|e| format!("simulator URL {url}: {e}"))?,
            api_key: ApiKey::new(key)?,
            time_zone: jiff::tz::TimeZone::UTC,
            time_zone_name: "UTC".into(),
            timeout: Duration::from_secs(10),
            max_concurrency: 4,
            max_requests_per_hour: 10_000,
        },
        refresh: RefreshSettings {
            interval: DEMO_INTERVAL,
            unit: Unit::Hour,
            length: 3,
            delay: Duration::ZERO,
            stale_after: DEMO_INTERVAL * 3,
        },
        apps: scopes(&APP_NAMES, &DEMO_APPS),
        segments: scopes(&SEGMENT_NAMES, &DEMO_SEGMENTS),
    })
}

/// Tells the user where to look.
pub fn announce(addr: SocketAddr, telemetry_path: &str, simulator: &Simulator) {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        addr.ip().to_string()
    };
    println!(
        "braze-exporter demo: open http://{host}:{port}{telemetry_path} (landing page http://{host}:{port}/)\n\
         polling the built-in Braze simulator at {sim} every {every}; Ctrl-C stops it.",
        port = addr.port(),
        sim = simulator.url(),
        every = humantime::format_duration(DEMO_INTERVAL),
    );
}

/// A throwaway key for the simulator, different on every run.
fn demo_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("demo-{:x}{:x}", nanos, std::process::id())
}
