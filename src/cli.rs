//! The command line, in Prometheus's conventions, and what each mode does.
//!
//! Exit codes: 0 on success (and on SIGINT/SIGTERM, whenever it comes), 2 for bad flags or a
//! bad configuration (reported before any port is bound), 1 when the exporter cannot run (the
//! port is taken).

mod signals;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing::{error, info, Level};

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Problem, Settings, API_KEY_ENV, DEFAULT_CONFIG_FILE};
use crate::http::ListenAddress;
use crate::logging::{self, report, LogFormat, LogLevel};
use crate::{app, demo, telemetry};

/// The default `--web.listen-address`.
pub const DEFAULT_LISTEN_ADDRESS: &str = ":9887";

const AFTER_HELP: &str = "\
Environment:
  BRAZE_API_KEY  the Braze REST API key, read only when braze.api_key_file is not set
                 (the file wins when both are given)

Exit codes:
  0  success, and on SIGINT or SIGTERM at any time
  1  cannot run: the address cannot be bound (the port is taken), the runtime cannot start
  2  bad flags or a bad configuration, reported before any port is bound";

#[derive(Debug, Parser)]
#[command(
    name = "braze-exporter",
    disable_version_flag = true,
    about = env!("CARGO_PKG_DESCRIPTION"),
    after_help = AFTER_HELP
)]
pub struct Flags {
    /// Path to the YAML configuration file.
    #[arg(long = "config.file", default_value = DEFAULT_CONFIG_FILE)]
    pub config_file: PathBuf,
    /// Validate the configuration, print the series that would be polled, and exit.
    #[arg(long = "config.check")]
    pub config_check: bool,
    /// Run only this workspace of a `workspaces:` configuration (repeatable), so one
    /// configuration can feed several shards.
    #[arg(long = "workspace", value_name = "NAME")]
    pub workspaces: Vec<String>,
    /// Address to listen on: host:port, [ipv6]:port, or :port for every interface (IPv4 and
    /// IPv6).
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
    /// Print the version, revision, branch, build user and date, and the Rust version.
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do instead of running the exporter.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write past data as OpenMetrics text for promtool, and exit.
    ///
    /// The history a new Prometheus lacks, for `promtool tsdb create-blocks-from openmetrics`.
    /// Exit 0: every series written; 1: some series missing (named on standard error, not
    /// written); 2: bad flags or configuration.
    Backfill(crate::backfill::Args),
}

/// Parses the flags and runs; what `main` returns.
pub fn main() -> ExitCode {
    // First, before any thread starts: an early signal must not kill the process.
    signals::guard();
    let args: Vec<OsString> = std::env::args_os().collect();
    let flags = match Flags::try_parse_from(&args) {
        Ok(flags) => flags,
        Err(e) => return usage_error(&e, logging::json_requested(&args)),
    };
    if flags.version {
        print!("{}", version_text());
        return ExitCode::SUCCESS;
    }
    logging::init(flags.log_level, flags.log_format);
    if let Some(Command::Backfill(args)) = flags.command {
        return crate::backfill::main(args, flags.config_file, flags.workspaces);
    }
    let checked = ListenAddress::parse(&flags.listen_address).and_then(|listen| {
        crate::http::check_telemetry_path(&flags.telemetry_path).map(|()| listen)
    });
    let listen = match checked {
        Ok(listen) => listen,
        Err(why) => {
            report(Level::ERROR, &format!("braze-exporter: {why}"));
            return ExitCode::from(2);
        }
    };
    crate::memory::tune_allocator();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            report(
                Level::ERROR,
                &format!("braze-exporter: cannot start the async runtime: {e}"),
            );
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let shutdown = signals::listen();
        run(flags, listen, shutdown).await
    })
}

/// A flag clap refuses: its own message (which quotes the input) and exit 2; `--help` is
/// printed and exits 0. In json mode the refusal is one JSON log line.
fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    if !e.use_stderr() || !json {
        e.exit();
    }
    logging::init(LogLevel::Info, LogFormat::Json);
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(|l| l.trim().trim_start_matches("error: "))
        .filter(|l| {
            !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
        })
        .collect();
    error!("{}", message.join(" "));
    ExitCode::from(2)
}

/// `--version`, in the form Prometheus and its exporters print.
pub fn version_text() -> String {
    format!(
        "braze-exporter, version {} (branch: {}, revision: {})\n  build user:       {}\n  build date:       {}\n  rust version:     {}\n  platform:         {}/{}\n",
        telemetry::VERSION,
        telemetry::BRANCH,
        telemetry::REVISION,
        telemetry::BUILD_USER,
        telemetry::BUILD_DATE,
        telemetry::RUST_VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH,
    )
}

async fn run(flags: Flags, listen: ListenAddress, shutdown: signals::Shutdown) -> ExitCode {
    let clock: SharedClock = Arc::new(SystemClock);
    let (settings, key_warnings, simulator) = if flags.demo {
        match demo::start(clock.clone()).await {
            Ok((settings, simulator)) => (settings, Vec::new(), Some(simulator)),
            Err(why) => {
                report(
                    Level::ERROR,
                    &format!("braze-exporter: cannot start the demo: {why}"),
                );
                return ExitCode::from(demo::UNAVAILABLE_EXIT);
            }
        }
    } else {
        match load(&flags) {
            Ok((settings, key_warnings)) => (settings, key_warnings, None),
            Err(e) => {
                report(Level::ERROR, &e);
                report(
                    Level::ERROR,
                    "braze-exporter: the configuration is not valid; nothing was started",
                );
                return ExitCode::from(2);
            }
        }
    };
    if let Some(path) = &flags.web_config_file {
        if let Err(why) = crate::http::web_config::WebSettings::load(path) {
            report(Level::ERROR, &why.to_string());
            report(
                Level::ERROR,
                "braze-exporter: --web.config.file is not valid; nothing was started",
            );
            return ExitCode::from(2);
        }
    }
    if flags.config_check {
        let origin = match flags.demo {
            true => std::path::PathBuf::from("the demo's configuration"),
            false => flags.config_file.clone(),
        };
        print!(
            "{}",
            crate::check::describe(&origin, &settings, &key_warnings)
        );
        return ExitCode::SUCCESS;
    }
    let listener = match crate::http::bind(&listen).await {
        Ok(listener) => listener,
        Err(why) => {
            error!(error = %why, "cannot start");
            return ExitCode::from(1);
        }
    };
    let bound = match listener.local_addr() {
        Ok(bound) => bound,
        Err(e) => {
            error!(error = %e, address = %listen.text, "cannot start: the bound address is unknown");
            return ExitCode::from(1);
        }
    };
    if let Some(simulator) = &simulator {
        demo::announce(
            &crate::http::url(bound, &flags.telemetry_path),
            &crate::http::url(bound, "/"),
            simulator,
        );
    }
    info!(
        address = %bound,
        url = %crate::http::url(bound, &flags.telemetry_path),
        workspaces = settings.workspaces.len(),
        series = settings.series_count(),
        version = telemetry::VERSION,
        "braze-exporter started"
    );
    let options = app::Options {
        telemetry_path: flags.telemetry_path,
        config_file: (!flags.demo).then_some(flags.config_file),
        workspaces: flags.workspaces,
        enable_lifecycle: flags.enable_lifecycle,
        web_config_file: flags.web_config_file,
    };
    shutdown.serving();
    let result = app::run(settings, listener, options, clock, shutdown.requested()).await;
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

/// The configuration file, only the `--workspace`s asked for (whose files alone are read); for
/// `--config.check`, with the keys that could not be read, as warnings. The error is what to
/// print.
fn load(flags: &Flags) -> Result<(Settings, Vec<Problem>), String> {
    let env_key = std::env::var(API_KEY_ENV).ok();
    let (path, run) = (&flags.config_file, &flags.workspaces);
    let loaded = match flags.config_check {
        true => Settings::load_for_check(path, env_key, run),
        false => Settings::load(path, env_key, run).map(|settings| (settings, Vec::new())),
    };
    loaded.map_err(|e| e.to_string())
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
