//! `--demo`: the exporter against its own Braze simulator on loopback.
//!
//! A new user sees real numbers on /metrics without a Braze key or a configuration file: the
//! simulator serves the documented API (auth, buckets, rate-limit headers) with a daily rhythm,
//! and the exporter polls it exactly as it would poll Braze. The demo's configuration is YAML
//! text checked like any user's file, so its defaults are the configuration's own.

use std::path::Path;
use std::time::Duration;

use braze_simulator::{
    Clock, Simulator, SimulatorConfig, DEMO_APPS, DEMO_CANVAS, DEMO_EMAIL_CAMPAIGN, DEMO_EVENTS,
    DEMO_MONITORED_TAG, DEMO_PRODUCTS, DEMO_PUSH_CAMPAIGN, DEMO_SEGMENTS, DEMO_SEND,
};

use crate::clock::SharedClock;
use crate::config::Settings;

/// Exit code when the demo cannot start (its simulator cannot bind on loopback).
pub const UNAVAILABLE_EXIT: u8 = 1;

/// The label names the demo gives the simulator's apps and segments.
const APP_NAMES: [&str; 3] = ["ios", "android", "web"];
const SEGMENT_NAMES: [&str; 2] = ["paying", "new_users"];
const CAMPAIGN_NAMES: [&str; 2] = ["onboarding_email", "txn_order_push"];
const CANVAS_NAME: &str = "welcome_journey";

/// How often the demo refreshes: often, since the simulator costs nothing.
const DEMO_INTERVAL: Duration = Duration::from_secs(30);

/// Starts the simulator and returns the configuration that points the exporter at it.
pub async fn start(clock: SharedClock) -> Result<(Settings, Simulator), String> {
    let key = demo_key();
    let mut sim_config = SimulatorConfig::demo_at(key.clone(), clock.now());
    sim_config.clock = Clock::from_fn(move || clock.now());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind the simulator on loopback: {e}"))?;
    let simulator = Simulator::start(sim_config, listener)
        .await
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let config = demo_config(&simulator.url(), &key)?;
    Ok((config, simulator))
}

/// The configuration the demo runs: every simulated app and segment, every kind of series;
/// some events and products configured and the rest discovered; two campaigns, a Canvas with
/// its steps and an API send configured, and the live, monitored campaigns and live Canvases
/// discovered (the simulator's archived, draft, disabled and stale ones are left out).
fn demo_config(url: &str, key: &str) -> Result<Settings, String> {
    Settings::parse(
        &demo_yaml(url),
        Path::new("the demo's configuration"),
        Some(key.into()),
    )
    .map_err(|e| e.to_string())
}

fn demo_yaml(url: &str) -> String {
    let list = |names: &[&str], ids: &[&str]| -> String {
        names
            .iter()
            .zip(ids)
            .map(|(name, id)| format!("  - {{name: {name}, id: {id}}}\n"))
            .collect()
    };
    let interval = DEMO_INTERVAL.as_secs();
    format!(
        "braze:\n  url: {url}\n  time_zone: UTC\nrefresh:\n  interval: {interval}s\n  unit: hour\n\
         apps:\n{apps}segments:\n{segments}\
         export:\n  sessions: {{}}\n  kpis: {{interval: {interval}s}}\n\
         \x20 events: {{names: [{event}]}}\n  purchases: {{products: [{product}]}}\n\
         \x20 segment_sizes: {{interval: {interval}s}}\n\
         \x20 campaigns: {{interval: {interval}s}}\n  canvases: {{interval: {interval}s, steps: true}}\n\
         \x20 sends: {{interval: {interval}s, ids: [{{campaign: {push}, send_id: {send}}}]}}\n\
         campaigns:\n{campaigns}canvases:\n{canvases}\
         discover:\n  interval: 5m\n  segments: {{match: \".*\"}}\n  events: {{match: \".*\"}}\n\
         \x20 products: {{match: \".*\"}}\n\
         \x20 campaigns: {{match: \".*\", tags: [{tag}], active_within: 7d}}\n\
         \x20 canvases: {{match: \".*\", active_within: 7d}}\n",
        apps = list(&APP_NAMES, &DEMO_APPS),
        segments = list(&SEGMENT_NAMES, &DEMO_SEGMENTS),
        event = DEMO_EVENTS[0],
        product = DEMO_PRODUCTS[0],
        campaigns = list(&CAMPAIGN_NAMES, &[DEMO_EMAIL_CAMPAIGN.0, DEMO_PUSH_CAMPAIGN.0]),
        canvases = list(&[CANVAS_NAME], &[DEMO_CANVAS.0]),
        push = CAMPAIGN_NAMES[1],
        send = DEMO_SEND.1,
        tag = DEMO_MONITORED_TAG,
    )
}

/// What `--demo` prints on standard output: where to look, as URLs a browser opens.
pub fn announce(metrics_url: &str, landing_url: &str, simulator: &Simulator) {
    println!(
        "braze-exporter demo: open {metrics_url} (landing page {landing_url})\n\
         polling the built-in Braze simulator at {} every {}; Ctrl-C stops it.",
        simulator.url(),
        crate::config::duration::Pretty(DEMO_INTERVAL),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_is_every_simulated_app_and_segment_and_every_kind() {
        let config = demo_config("http://127.0.0.1:9", "k")
            .unwrap()
            .workspaces
            .remove(0);
        let kinds: std::collections::BTreeSet<_> = config.series().iter().map(|s| s.kind).collect();
        assert_eq!(kinds.len(), crate::series::KINDS.len(), "{kinds:?}");
        assert!(config.discover.is_some());
        assert_eq!(config.refresh.interval, DEMO_INTERVAL);
        let names: Vec<&str> = config.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, APP_NAMES);
        assert_eq!(config.segments[0].id.as_deref(), Some(DEMO_SEGMENTS[0]));
    }
}
