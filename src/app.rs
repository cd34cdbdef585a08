//! The running exporter: one refresher in the background for every workspace, the HTTP
//! server in front, discovery beside it, and the reloads (SIGHUP, `POST /-/reload`) that swap
//! the configuration under them.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::braze::BrazeClient;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::discovery::Discoveries;
use crate::http::{self, ReloadHandler, Site};
use crate::refresher::{Inputs, Refresher};
use crate::reload::{clients, warn_if_over_budget, Reloader};
use crate::snapshot::SnapshotCell;
use crate::telemetry::{Shared, Telemetry};

/// How the exporter runs, beyond its configuration.
#[derive(Debug, Clone)]
pub struct Options {
    pub telemetry_path: String,
    /// The file to read again on reload; `None` (the demo) has nothing to reload.
    pub config_file: Option<PathBuf>,
    /// `--workspace`: only these workspaces of the file (all when empty), on reload too.
    pub workspaces: Vec<String>,
    /// Whether `POST /-/reload` is served (`--web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// `--web.config.file`: TLS and basic auth for every endpoint.
    pub web_config_file: Option<PathBuf>,
}

/// Runs until `shutdown` completes. The first refresh starts at once; until it ends, /metrics
/// shows only the exporter's own metrics.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    options: Options,
    clock: SharedClock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    warn_if_over_budget(&settings);
    let shared = Shared::new();
    let snapshots = SnapshotCell::default();
    let workspaces = clients(settings)?;
    let (discoveries, found) = Discoveries::new();
    discoveries.start(workspaces.iter().map(|(config, client)| (config, client)));
    let workspaces: Vec<(_, BrazeClient, Telemetry)> = workspaces
        .into_iter()
        .map(|(config, client)| {
            let telemetry = Telemetry::for_workspace(&shared, config.workspace.as_deref());
            (config, client, telemetry)
        })
        .collect();
    let refresher = Refresher::new(workspaces, clock, shared.clone(), snapshots.clone());
    let (reloads, receiver) = mpsc::channel(1);
    let inputs = Inputs {
        reloads: Some(receiver),
        discoveries: Some(found),
    };
    let refreshing = tokio::spawn(refresher.run(inputs));
    let reloader = Arc::new(Reloader::new(
        options.config_file.clone(),
        options.workspaces.clone(),
        reloads,
        shared.clone(),
        discoveries,
    ));
    let on_hangup = tokio::spawn(reloader.clone().on_hangup());
    let lifecycle = options
        .enable_lifecycle
        .then_some(reloader as Arc<dyn ReloadHandler>);
    let site = Arc::new(Site::new(
        snapshots,
        shared,
        options.telemetry_path.clone(),
        lifecycle,
    ));
    let served = http::serve(listener, site, options.web_config_file.clone(), shutdown).await;
    refreshing.abort();
    on_hangup.abort();
    // Until they have stopped: a task still in a poll when the runtime shuts down goes on to
    // poll a timer that is gone, which panics (the soak saw it on SIGTERM under load).
    let _ = refreshing.await;
    let _ = on_hangup.await;
    served
}
