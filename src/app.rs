//! The running exporter: one refresher in the background, the HTTP server in front, and the
//! reloads (SIGHUP, `POST /-/reload`) that swap the configuration under them.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::braze::BrazeClient;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::discovery::Discoverer;
use crate::http::{self, ReloadHandler, Site};
use crate::refresher::{Inputs, Refresher};
use crate::reload::{warn_if_over_budget, Reloader};
use crate::snapshot::SnapshotCell;
use crate::telemetry::Telemetry;

/// How the exporter runs, beyond its configuration.
#[derive(Debug, Clone)]
pub struct Options {
    pub telemetry_path: String,
    /// The file to read again on reload; `None` (the demo) has nothing to reload.
    pub config_file: Option<PathBuf>,
    /// Whether `POST /-/reload` is served (`--web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// `--web.config.file`: TLS and basic auth for every endpoint.
    pub web_config_file: Option<PathBuf>,
}

/// Runs until `shutdown` completes. The first refresh starts at once; until it ends, /metrics
/// shows only the exporter's own metrics.
pub async fn run(
    config: Config,
    listener: TcpListener,
    options: Options,
    clock: SharedClock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    warn_if_over_budget(&config);
    let telemetry = Telemetry::new();
    let snapshots = SnapshotCell::default();
    let client = BrazeClient::new(&config.braze)?;
    client.report_key_reads(telemetry.key_reports());
    let (discovering, discoveries) = match config.discover.clone() {
        Some(settings) => {
            let (discoverer, lists) = Discoverer::new(
                client.clone(),
                settings,
                config.segments.clone(),
                telemetry.clone(),
            );
            (Some(tokio::spawn(discoverer.run())), Some(lists))
        }
        None => (None, None),
    };
    let refresher = Refresher::new(config, client, clock, telemetry.clone(), snapshots.clone());
    let (reloads, receiver) = mpsc::channel(1);
    let inputs = Inputs {
        reloads: Some(receiver),
        discoveries,
    };
    let refreshing = tokio::spawn(refresher.run(inputs));
    let reloader = Arc::new(Reloader::new(
        options.config_file.clone(),
        reloads,
        telemetry.clone(),
    ));
    let on_hangup = tokio::spawn(reloader.clone().on_hangup());
    let lifecycle = options
        .enable_lifecycle
        .then_some(reloader as Arc<dyn ReloadHandler>);
    let site = Arc::new(Site::new(
        snapshots,
        telemetry,
        options.telemetry_path.clone(),
        lifecycle,
    ));
    let served = http::serve(listener, site, options.web_config_file.clone(), shutdown).await;
    refreshing.abort();
    on_hangup.abort();
    if let Some(discovering) = discovering {
        discovering.abort();
    }
    served
}
