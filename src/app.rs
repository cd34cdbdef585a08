//! The running exporter: one refresher in the background, the HTTP server in front.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::http::{self, Site};
use crate::refresher::Refresher;
use crate::snapshot::SnapshotCell;
use crate::telemetry::Telemetry;

/// Runs until `shutdown` completes. The first refresh starts at once; until it ends, /metrics
/// shows only the exporter's own metrics.
pub async fn run(
    config: Config,
    listener: TcpListener,
    telemetry_path: String,
    clock: SharedClock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let telemetry = Telemetry::new();
    let snapshots = SnapshotCell::default();
    let refresher = Refresher::new(&config, clock, telemetry.clone(), snapshots.clone())?;
    let refreshing = tokio::spawn(refresher.run());
    let site = Arc::new(Site {
        snapshots,
        telemetry,
        telemetry_path,
    });
    http::serve(listener, site, shutdown).await;
    refreshing.abort();
    Ok(())
}

/// Requests per hour that `series` cost when each is fetched once per `interval`.
pub fn requests_per_hour(series: usize, interval: Duration) -> f64 {
    series as f64 * 3600.0 / interval.as_secs_f64()
}
