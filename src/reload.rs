//! Reloading the configuration: read the file again, check it, and hand it to the refresher.
//!
//! Reloading owns itself, as blackbox_exporter's `SafeConfig` does: SIGHUP and
//! `POST /-/reload` (wired by `app`) both end here, one at a time, and a file that does not
//! check out leaves the running configuration in place, logged and counted.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::braze::BrazeClient;
use crate::config::{Config, Settings, API_KEY_ENV};
use crate::discovery::Discoveries;
use crate::http::ReloadHandler;
use crate::refresher::Reload;
use crate::telemetry::Shared;

/// Reads the configuration file again and hands it to the refresher.
#[derive(Debug)]
pub struct Reloader {
    config_file: Option<PathBuf>,
    /// `--workspace`: the workspaces this process runs (all when empty).
    selection: Vec<String>,
    reloads: mpsc::Sender<Reload<BrazeClient>>,
    shared: Arc<Shared>,
    discoveries: Discoveries,
    /// One reload at a time, so two cannot interleave.
    lock: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// `config_file` `None` (the demo) has nothing to reload.
    pub fn new(
        config_file: Option<PathBuf>,
        selection: Vec<String>,
        reloads: mpsc::Sender<Reload<BrazeClient>>,
        shared: Arc<Shared>,
        discoveries: Discoveries,
    ) -> Self {
        Self {
            config_file,
            selection,
            reloads,
            shared,
            discoveries,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Validates the file first; on any problem the running configuration stays, the failure
    /// is logged and counted, and the reason returned.
    pub async fn reload(&self) -> Result<(), String> {
        let _one_at_a_time = self.lock.lock().await;
        let Some(path) = self.config_file.clone() else {
            info!("the demo's configuration is built in: there is nothing to reload");
            return Ok(());
        };
        let result = self.load_and_send(path).await;
        match &result {
            Ok(series) => info!(series, "configuration reloaded"),
            Err(why) => {
                self.shared.config_reload_failed();
                error!(error = %why, "configuration reload failed; keeping the running configuration");
            }
        }
        result.map(|_| ())
    }

    async fn load_and_send(&self, path: PathBuf) -> Result<usize, String> {
        let selection = self.selection.clone();
        let settings = tokio::task::spawn_blocking(move || {
            Settings::load(&path, std::env::var(API_KEY_ENV).ok(), &selection)
        })
        .await
        .map_err(|e| format!("reading the configuration failed: {e}"))?
        .map_err(|e| e.to_string())?;
        warn_if_over_budget(&settings);
        let series = settings.series_count();
        let workspaces = clients(settings)?;
        self.discoveries
            .start(workspaces.iter().map(|(config, client)| (config, client)));
        self.reloads
            .send(Reload { workspaces })
            .await
            .map_err(|_| "the refresher has stopped".to_string())?;
        Ok(series)
    }

    /// Reloads on every SIGHUP until the task is dropped.
    pub async fn on_hangup(self: Arc<Self>) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                warn!("cannot listen for SIGHUP; reload with POST /-/reload instead");
                return;
            };
            while hangups.recv().await.is_some() {
                info!("SIGHUP: reloading the configuration");
                let _ = self.reload().await;
            }
        }
    }
}

impl ReloadHandler for Reloader {
    fn reload(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(Reloader::reload(self))
    }
}

/// Every workspace with the client built for it.
pub fn clients(settings: Settings) -> Result<Vec<(Config, BrazeClient)>, String> {
    settings
        .workspaces
        .into_iter()
        .map(|config| {
            let client =
                BrazeClient::new(&config.braze).map_err(|why| match &config.workspace {
                    Some(name) => format!("workspace {name}: {why}"),
                    None => why,
                })?;
            Ok((config, client))
        })
        .collect()
}

/// Logs each workspace's budget warning, if it has one.
pub fn warn_if_over_budget(settings: &Settings) {
    for config in &settings.workspaces {
        if let Some(warning) = config.budget().warning() {
            warn!(
                workspace = config.workspace.as_deref().unwrap_or_default(),
                "{warning}"
            );
        }
    }
}
