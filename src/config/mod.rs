//! Configuration: the YAML file the user wrote, checked into the values the exporter runs on.
//!
//! Two phases, as ripgrep does it: [`raw`] is what serde reads (unknown fields are errors, so a
//! typo never becomes a silent default), then [`validate`] checks every value and reports every
//! problem at once, each naming its field: `refresh.length: must be between 1 and 100, got 0`.

mod api_key;
mod budget;
mod ca_file;
pub mod duration;
mod export;
mod key_source;
mod raw;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;

pub use api_key::{ApiKey, API_KEY_ENV};
pub use budget::Budget;
pub use ca_file::CaFile;
pub use export::{DiscoverSettings, ExportSettings, Pattern};
pub use key_source::{KeyReports, KeySource};

use crate::series::{self, Kind, Lists, Scope, Series, Unit};

/// A series that keeps failing keeps its last values for this many refreshes by default.
pub const DEFAULT_STALE_INTERVALS: u32 = 3;

/// The default `--config.file`.
pub const DEFAULT_CONFIG_FILE: &str = "braze-exporter.yml";

/// Whether a key that cannot be read stops the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyNeed {
    /// Running: no key, no exporter.
    Required,
    /// `--config.check`, often run where the key's Secret is not mounted: a warning, and a
    /// placeholder stands in for the key.
    WarnIfUnreadable,
}

/// A checked configuration: every value here is valid.
#[derive(Debug, Clone)]
pub struct Config {
    pub braze: BrazeSettings,
    pub refresh: RefreshSettings,
    pub apps: Vec<Scope>,
    pub segments: Vec<Scope>,
    /// The enabled `export` blocks, in the order of [`Export::ALL`].
    pub exports: Vec<ExportSettings>,
    pub discover: Option<DiscoverSettings>,
    /// At most this many series, configured and discovered together.
    pub max_series: usize,
}

/// The series to poll: configured ones first, then what discovery adds, cut at `max_series`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub series: Vec<Series>,
    /// How many were left out past `max_series`.
    pub dropped: usize,
}

#[derive(Debug, Clone)]
pub struct BrazeSettings {
    /// Base URL of the workspace's REST endpoint, without a trailing slash.
    pub url: reqwest::Url,
    pub api_key: ApiKey,
    /// The workspace's company time zone: Braze's buckets are its hours and days.
    pub time_zone: TimeZone,
    /// The time zone as the user wrote it, for messages.
    pub time_zone_name: String,
    pub timeout: Duration,
    pub max_concurrency: usize,
    pub max_requests_per_hour: u64,
    /// `braze.ca_file`: authorities trusted besides the system's.
    pub ca_file: Option<CaFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshSettings {
    pub interval: Duration,
    pub unit: Unit,
    pub length: u32,
    pub delay: Duration,
    pub stale_after: Duration,
}

impl Config {
    /// Reads and checks the file at `path`; the key comes from the file it names or `env_key`.
    pub fn load(path: &Path, env_key: Option<String>) -> Result<Config, ConfigError> {
        Self::read(path, env_key, KeyNeed::Required).map(|(config, _)| config)
    }

    /// As [`Config::load`], for `--config.check`: a key that cannot be read (its Secret is
    /// mounted only where the exporter runs) is returned as a warning, not an error.
    pub fn load_for_check(
        path: &Path,
        env_key: Option<String>,
    ) -> Result<(Config, Option<Problem>), ConfigError> {
        Self::read(path, env_key, KeyNeed::WarnIfUnreadable)
    }

    /// Checks `text` as if read from `origin` (named in errors).
    pub fn parse(
        text: &str,
        origin: &Path,
        env_key: Option<String>,
    ) -> Result<Config, ConfigError> {
        Self::check_text(text, origin, env_key, KeyNeed::Required).map(|(config, _)| config)
    }

    fn read(
        path: &Path,
        env_key: Option<String>,
        key_need: KeyNeed,
    ) -> Result<(Config, Option<Problem>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: path.to_path_buf(),
            problems: vec![Problem::new("", format!("cannot read the file: {e}"))],
        })?;
        Self::check_text(&text, path, env_key, key_need)
    }

    fn check_text(
        text: &str,
        origin: &Path,
        env_key: Option<String>,
        key_need: KeyNeed,
    ) -> Result<(Config, Option<Problem>), ConfigError> {
        let error = |problems| ConfigError {
            origin: origin.to_path_buf(),
            problems,
        };
        let raw = raw::parse(text).map_err(|e| error(vec![Problem::new("", e)]))?;
        validate::validate(raw, env_key, key_need).map_err(error)
    }

    /// What the configured series cost in requests, and what the budget achieves.
    pub fn budget(&self) -> Budget {
        Budget::of(self)
    }

    /// How many series [`Config::series`] holds.
    pub fn series_count(&self) -> usize {
        self.series().len()
    }

    /// Every configured series the refresher polls, in a stable order (without discovery).
    pub fn series(&self) -> Vec<Series> {
        self.plan(&Lists::default()).series
    }

    /// The series to poll with what discovery found: every configured series first (by kind,
    /// in the order of the kinds table), then those discovery adds, and none past
    /// `max_series`, so the cut is deterministic and drops discovered series first.
    pub fn plan(&self, discovered: &Lists) -> Plan {
        let configured = self.kinds().flat_map(|(export, kind)| {
            series::series_of(kind, &self.lists(export, &Lists::default()))
        });
        let mut seen = std::collections::HashSet::new();
        let all: Vec<Series> = configured
            .chain(self.kinds().flat_map(|(export, kind)| {
                series::series_of(kind, &self.lists(export, discovered))
            }))
            .filter(|s| seen.insert(s.clone()))
            .collect();
        let dropped = all.len().saturating_sub(self.max_series);
        let mut series = all;
        series.truncate(self.max_series);
        Plan { series, dropped }
    }

    /// Every exported kind with its block.
    pub fn kinds(&self) -> impl Iterator<Item = (&ExportSettings, Kind)> {
        self.exports
            .iter()
            .flat_map(|e| e.kinds.iter().map(move |k| (e, *k)))
    }

    /// The block that exports `kind`, if any does.
    pub fn export_of(&self, kind: Kind) -> Option<&ExportSettings> {
        self.exports.iter().find(|e| e.kinds.contains(&kind))
    }

    /// The schedule of `kind`: its block's, or `refresh` for a kind no block exports.
    pub fn schedule_of(&self, kind: Kind) -> &RefreshSettings {
        self.export_of(kind).map_or(&self.refresh, |e| &e.schedule)
    }

    /// The lists a block's series are formed from: the configuration's and what was
    /// discovered, merged (configured names win).
    fn lists(&self, export: &ExportSettings, discovered: &Lists) -> Lists {
        let union = |configured: &[String], found: &[String]| -> Vec<String> {
            let mut out: Vec<String> = configured.to_vec();
            out.extend(found.iter().filter(|f| !configured.contains(f)).cloned());
            out
        };
        Lists {
            apps: self.apps.clone(),
            segments: series::merge_segments(&self.segments, &discovered.segments).0,
            events: union(&export.events, &discovered.events),
            products: union(&export.products, &discovered.products),
        }
    }
}

/// One invalid value: the field's path in the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Every problem found in one configuration file.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub origin: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {problem}", self.origin.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests;
