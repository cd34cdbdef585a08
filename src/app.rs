//! The running exporter: one refresher in the background, the HTTP server in front, and the
//! reloads (SIGHUP, `POST /-/reload`) that swap the configuration under them.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::braze::BrazeClient;
use crate::clock::SharedClock;
use crate::config::{Config, API_KEY_ENV};
use crate::http::{self, Site};
use crate::refresher::{Refresher, Reload};
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
    let refresher = Refresher::new(config, client, clock, telemetry.clone(), snapshots.clone());
    let (reloads, receiver) = mpsc::channel(1);
    let refreshing = tokio::spawn(refresher.run(receiver));
    let reloader = Arc::new(Reloader {
        config_file: options.config_file.clone(),
        reloads,
        telemetry: telemetry.clone(),
        lock: tokio::sync::Mutex::new(()),
    });
    let on_hangup = tokio::spawn(reload_on_hangup(reloader.clone()));
    let site = Arc::new(Site::new(
        snapshots,
        telemetry,
        options.telemetry_path.clone(),
        options.enable_lifecycle.then_some(reloader),
    ));
    let served = http::serve(listener, site, options.web_config_file.clone(), shutdown).await;
    refreshing.abort();
    on_hangup.abort();
    served
}

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
        warn_if_over_budget(&config);
        let series = config.series_count();
        self.reloads
            .send(Reload { config, source })
            .await
            .map_err(|_| "the refresher has stopped".to_string())?;
        Ok(series)
    }
}

async fn reload_on_hangup(reloader: Arc<Reloader>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            warn!("cannot listen for SIGHUP; reload with POST /-/reload instead");
            return;
        };
        while hangups.recv().await.is_some() {
            info!("SIGHUP: reloading the configuration");
            let _ = reloader.reload().await;
        }
    }
    #[cfg(not(unix))]
    let _ = reloader;
}

/// Requests per hour that `series` cost when each is fetched once per `interval`.
pub fn requests_per_hour(series: usize, interval: Duration) -> f64 {
    series as f64 * 3600.0 / interval.as_secs_f64()
}

/// The warning `--config.check` prints and the exporter logs when the budget is too small.
pub fn budget_warning(config: &Config) -> Option<String> {
    let series = config.series_count();
    let needed = requests_per_hour(series, config.refresh.interval);
    let budget = config.braze.max_requests_per_hour as f64;
    (needed > budget).then(|| {
        let possible = Duration::from_secs_f64(series as f64 * 3600.0 / budget).as_secs();
        format!(
            "{series} series every {} need {needed:.0} requests per hour, over braze.max_requests_per_hour \
             ({budget:.0}): each refresh will take about {} and refreshes will be skipped; raise the budget, \
             lengthen refresh.interval, or poll fewer series",
            humantime::format_duration(config.refresh.interval),
            humantime::format_duration(Duration::from_secs(possible)),
        )
    })
}

fn warn_if_over_budget(config: &Config) {
    if let Some(warning) = budget_warning(config) {
        warn!("{warning}");
    }
}
