//! The command line, in Prometheus's conventions, and what each mode does.
//!
//! Exit codes: 0 on success (and on SIGINT/SIGTERM), 2 for bad flags or a bad configuration
//! (reported before any port is bound), 1 when the exporter cannot run (the port is taken).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing::{error, info};

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, API_KEY_ENV, DEFAULT_CONFIG_FILE};
use crate::logging::{self, LogFormat, LogLevel};
use crate::{app, demo, http};

/// The default `--web.listen-address`.
pub const DEFAULT_LISTEN_ADDRESS: &str = ":9887";

#[derive(Debug, Parser)]
#[command(
    name = "braze-exporter",
    version,
    about = "Prometheus exporter for Braze app sessions per app, segment and hour."
)]
pub struct Flags {
    /// Path to the YAML configuration file.
    #[arg(long = "config.file", default_value = DEFAULT_CONFIG_FILE)]
    pub config_file: PathBuf,
    /// Validate the configuration, print the series that would be polled, and exit.
    #[arg(long = "config.check")]
    pub config_check: bool,
    /// Address to listen on: host:port, or :port for every interface.
    #[arg(long = "web.listen-address", default_value = DEFAULT_LISTEN_ADDRESS)]
    pub listen_address: String,
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// TLS and basic auth, in the format of Prometheus's exporter-toolkit web-config.yml.
    /// Empty (`--web.config.file=`) means none, as in the toolkit.
    #[arg(long = "web.config.file", value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from))]
    pub web_config_file: Option<PathBuf>,
    /// Serve POST /-/reload (SIGHUP reloads either way).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,
    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
    pub log_format: LogFormat,
    /// Run against a built-in Braze simulator on loopback, with sample apps and segments:
    /// no key and no configuration file needed.
    #[arg(long)]
    pub demo: bool,
}

/// Parses the flags and runs; what `main` returns.
pub fn main() -> ExitCode {
    let flags = Flags::parse();
    if let Err(why) = http::check_telemetry_path(&flags.telemetry_path) {
        eprintln!("braze-exporter: {why}");
        return ExitCode::from(2);
    }
    crate::memory::tune_allocator();
    logging::init(flags.log_level, flags.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("braze-exporter: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(flags))
}

async fn run(flags: Flags) -> ExitCode {
    let clock: SharedClock = Arc::new(SystemClock);
    let (config, simulator) = if flags.demo {
        match demo::start(clock.clone()).await {
            Ok((config, simulator)) => (config, Some(simulator)),
            Err(why) => {
                eprintln!("braze-exporter: cannot start the demo: {why}");
                return ExitCode::from(demo::UNAVAILABLE_EXIT);
            }
        }
    } else {
        match load(&flags) {
            Ok(config) => (config, None),
            Err(e) => {
                eprintln!("{e}");
                eprintln!("braze-exporter: the configuration is not valid; nothing was started");
                return ExitCode::from(2);
            }
        }
    };
    if let Some(path) = &flags.web_config_file {
        if let Err(why) = crate::http::web_config::WebSettings::load(path) {
            eprintln!("{why}");
            eprintln!("braze-exporter: --web.config.file is not valid; nothing was started");
            return ExitCode::from(2);
        }
    }
    if flags.config_check {
        print!("{}", describe(&flags.config_file, &config));
        return ExitCode::SUCCESS;
    }
    let listener = match crate::http::bind(&flags.listen_address).await {
        Ok(listener) => listener,
        Err(why) => {
            error!(error = %why, "cannot start");
            eprintln!("braze-exporter: {why}");
            return ExitCode::from(1);
        }
    };
    if let (Some(simulator), Ok(addr)) = (&simulator, listener.local_addr()) {
        demo::announce(addr, &flags.telemetry_path, simulator);
    }
    info!(
        address = %flags.listen_address,
        series = config.series_count(),
        interval = %humantime::format_duration(config.refresh.interval),
        version = crate::telemetry::VERSION,
        "braze-exporter started"
    );
    let options = app::Options {
        telemetry_path: flags.telemetry_path,
        config_file: (!flags.demo).then_some(flags.config_file),
        enable_lifecycle: flags.enable_lifecycle,
        web_config_file: flags.web_config_file,
    };
    let result = app::run(config, listener, options, clock, shutdown_signal()).await;
    if let Some(simulator) = simulator {
        simulator.shutdown().await;
    }
    match result {
        Ok(()) => {
            info!("braze-exporter stopped");
            ExitCode::SUCCESS
        }
        Err(why) => {
            error!(error = %why, "braze-exporter failed");
            ExitCode::from(1)
        }
    }
}

/// The configuration file; for `--config.check`, a key that cannot be read is only a warning.
fn load(flags: &Flags) -> Result<Config, crate::config::ConfigError> {
    let env_key = std::env::var(API_KEY_ENV).ok();
    if !flags.config_check {
        return Config::load(&flags.config_file, env_key);
    }
    let (config, key_warning) = Config::load_for_check(&flags.config_file, env_key)?;
    if let Some(warning) = key_warning {
        eprintln!(
            "{}: warning: {warning} (needed where the exporter runs)",
            flags.config_file.display()
        );
    }
    Ok(config)
}

/// What `--config.check` prints: the settings that matter and every series to poll.
pub fn describe(origin: &std::path::Path, config: &Config) -> String {
    let series = config.series();
    let budget = config.budget();
    let per_hour = budget.requests_per_hour();
    let mut out = format!(
        "{}: valid\nbraze.url: {}\nbraze.time_zone: {}\nrefresh: every {} for unit {}, length {}, delay {}, stale after {}\n\
         requests per hour: {per_hour:.0} of braze.max_requests_per_hour {}\n{} series would be polled:\n",
        origin.display(),
        config.braze.url,
        config.braze.time_zone_name,
        humantime::format_duration(config.refresh.interval),
        config.refresh.unit,
        config.refresh.length,
        humantime::format_duration(config.refresh.delay),
        humantime::format_duration(config.refresh.stale_after),
        config.braze.max_requests_per_hour,
        series.len(),
    );
    for s in &series {
        out.push_str(&format!("  {s}\n"));
    }
    if let Some(warning) = budget.warning() {
        out.push_str(&format!("warning: {warning}\n"));
    }
    out
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {},
                    _ = terminate.recv() => {},
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_prometheus_conventions() {
        let flags = Flags::try_parse_from([
            "braze-exporter",
            "--config.file=x.yml",
            "--web.listen-address",
            "127.0.0.1:1",
            "--log.level=debug",
            "--log.format=json",
            "--config.check",
        ])
        .unwrap();
        assert_eq!(flags.config_file, PathBuf::from("x.yml"));
        assert_eq!(flags.listen_address, "127.0.0.1:1");
        assert_eq!(flags.log_level, LogLevel::Debug);
        assert_eq!(flags.log_format, LogFormat::Json);
        assert!(flags.config_check && !flags.demo);
        let defaults = Flags::try_parse_from(["braze-exporter"]).unwrap();
        assert_eq!(defaults.listen_address, ":9887");
        assert_eq!(defaults.telemetry_path, "/metrics");
        assert_eq!(defaults.config_file, PathBuf::from("braze-exporter.yml"));
        assert!(Flags::try_parse_from(["braze-exporter", "--log.level=trace"]).is_err());
    }
}
