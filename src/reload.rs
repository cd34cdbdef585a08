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
use crate::config::{Config, API_KEY_ENV};
use crate::http::ReloadHandler;
use crate::refresher::Reload;
use crate::telemetry::Telemetry;

/// Reads the configuration file again and hands it to the refresher.
#[derive(Debug)]
pub struct Reloader {
    config_file: Option<PathBuf>,
    reloads: mpsc::Sender<Reload<BrazeClient>>,
    telemetry: Telemetry,
    /// One reload at a time, so two cannot interleave.
    lock: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// `config_file` `None` (the demo) has nothing to reload.
    pub fn new(
        config_file: Option<PathBuf>,
        reloads: mpsc::Sender<Reload<BrazeClient>>,
        telemetry: Telemetry,
    ) -> Self {
        Self {
            config_file,
            reloads,
            telemetry,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Validates the file first; on any problem the running configuration stays, the failure
    /// is logged and counted, and the reason returned.
    pub async fn reload(&self) -> Result<(), String> {
        let _one_at_a_time = self.lock.lock().await;
        let result = self.load_and_send().await;
        match &result {
            Ok(series) => info!(series, "configuration reloaded"),
            Err(why) => {
                self.telemetry.config_reload_failed();
                error!(error = %why, "configuration reload failed; keeping the running configuration");
            }
        }
        result.map(|_| ())
    }

    async fn load_and_send(&self) -> Result<usize, String> {
        let path = self
            .config_file
            .clone()
            .ok_or("the demo has no configuration file to reload")?;
        let config = tokio::task::spawn_blocking(move || {
            Config::load(&path, std::env::var(API_KEY_ENV).ok())
        })
        .await
        .map_err(|e| format!("reading the configuration failed: {e}"))?
        .map_err(|e| e.to_string())?;
        let source = BrazeClient::new(&config.braze)?;
        source.report_key_reads(self.telemetry.key_reports());
        warn_if_over_budget(&config);
        let series = config.series_count();
        self.reloads
            .send(Reload { config, source })
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

/// Logs the budget's warning, if the configuration has one.
pub fn warn_if_over_budget(config: &Config) {
    if let Some(warning) = config.budget().warning() {
        warn!("{warning}");
    }
}
