//! Configuration: the YAML file the user wrote, checked into the values the exporter runs on.
//!
//! Two phases, as ripgrep does it: [`raw`] is what serde reads (unknown fields are errors, so a
//! typo never becomes a silent default), then [`validate`] checks every value and reports every
//! problem at once, each naming its field: `refresh.length: must be between 2 and 100, got 0`.

mod api_key;
mod assemble;
mod budget;
mod ca_file;
pub mod duration;
mod export;
mod key_source;
mod raw;
mod validate;
mod workspaces;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::tz::TimeZone;

pub use api_key::{ApiKey, API_KEY_ENV};
pub use budget::Budget;
pub use ca_file::CaFile;
pub use export::{DiscoverSettings, ExportSettings, MessagingMatch, Pattern};
pub use key_source::{KeyReports, KeySource};
pub use workspaces::{Form, Settings};

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
    /// A workspace this process does not run (`--workspace` names others): its files (key,
    /// CA) are not read, since its shard's pod alone mounts them; a placeholder stands in.
    NotRun,
}

/// A checked configuration: every value here is valid.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `workspace` label value: the workspace's name in the `workspaces:` form, `None` in
    /// the single-workspace form, whose series carry no `workspace` label.
    pub workspace: Option<String>,
    pub braze: BrazeSettings,
    pub refresh: RefreshSettings,
    pub apps: Vec<Scope>,
    pub segments: Vec<Scope>,
    /// `campaigns:` and `canvases:`: label name → Braze id, as apps and segments.
    pub campaigns: Vec<Scope>,
    pub canvases: Vec<Scope>,
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

impl RefreshSettings {
    /// One bucket, as Braze counts `length` (days counted as 24 hours here).
    fn unit_length(&self) -> Duration {
        match self.unit {
            Unit::Hour => Duration::from_secs(3600),
            Unit::Day => Duration::from_secs(86_400),
        }
    }

    /// Why no complete bucket can ever come back, naming the field to change: Braze's answer
    /// ends with the bucket in progress, so of `length` buckets the newest complete one has
    /// ended between 0 and one unit ago, and it shows only once `delay` has passed.
    pub fn never_complete(&self) -> Option<(&'static str, String)> {
        let unit = self.unit_length();
        if self.length < 2 {
            return Some((
                "length",
                format!(
                    "{} {} bucket is only the one in progress: no complete bucket can ever come back; use at least 2",
                    self.length, self.unit
                ),
            ));
        }
        let oldest_end = unit * (self.length - 1);
        (self.delay >= oldest_end).then(|| {
            (
                "delay",
                format!(
                    "{} is not shorter than length - 1 = {} {}s: every bucket Braze returns is still settling, so none is ever shown; lengthen length or shorten delay",
                    duration::Pretty(self.delay),
                    self.length - 1,
                    self.unit
                ),
            )
        })
    }

    /// Why a complete bucket is shown only part of the time: the newest complete one can be
    /// younger than `delay`, and the one before it is not asked for.
    pub fn sometimes_empty(&self) -> Option<String> {
        let unit = self.unit_length();
        let needed = 2 + self.delay.as_secs().div_ceil(unit.as_secs()) as u32;
        (self.never_complete().is_none() && self.length < needed).then(|| {
            format!(
                "with delay {} and length {}, some refreshes find no settled bucket and the data gauges go missing for part of each {}; use length {needed} or more",
                duration::Pretty(self.delay),
                self.length,
                self.unit
            )
        })
    }
}

impl Config {
    /// Checks `text` as if read from `origin` (named in errors); its first workspace (the only
    /// one of a single-workspace file).
    #[cfg(test)]
    pub fn parse(
        text: &str,
        origin: &std::path::Path,
        env_key: Option<String>,
    ) -> Result<Config, ConfigError> {
        let settings = Settings::parse(text, origin, env_key)?;
        Ok(settings
            .workspaces
            .into_iter()
            .next()
            .expect("one workspace at least"))
    }

    /// Warnings about settings that give data only part of the time, naming the block.
    pub fn data_warnings(&self) -> Vec<String> {
        std::iter::once(("refresh".to_string(), &self.refresh))
            .chain(
                self.exports
                    .iter()
                    .filter(|e| e.schedule != self.refresh)
                    .map(|e| (format!("export.{}", e.export.as_str()), &e.schedule)),
            )
            .filter_map(|(at, schedule)| {
                schedule.sometimes_empty().map(|why| format!("{at}: {why}"))
            })
            .collect()
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
    ///
    /// Only the series kept are made: the lists' product may count billions. Every configured
    /// series is also one of the lists with discovery's added (configured names win), so
    /// those count every series once.
    pub fn plan(&self, discovered: &Lists) -> Plan {
        let discovered = &self.still_discovered(discovered);
        let configured = self.kinds().flat_map(|(export, kind)| {
            series::series_iter(kind, &self.lists(export, &Lists::default()))
        });
        let with_discovered = self
            .kinds()
            .flat_map(|(export, kind)| series::series_iter(kind, &self.lists(export, discovered)));
        let mut seen = std::collections::HashSet::new();
        let series: Vec<Series> = configured
            .chain(with_discovered)
            .filter(|s| seen.insert(s.clone()))
            .take(self.max_series)
            .collect();
        let all: usize = self
            .kinds()
            .map(|(export, kind)| series::series_count(kind, &self.lists(export, discovered)))
            .fold(0, usize::saturating_add);
        Plan {
            dropped: all.saturating_sub(series.len()),
            series,
        }
    }

    /// Of what discovery found, the lists `discover:` still names: after a reload that drops
    /// a list from it (or all of `discover:`), what earlier listings found adds nothing.
    fn still_discovered(&self, found: &Lists) -> Lists {
        let Some(discover) = &self.discover else {
            return Lists::default();
        };
        fn named<P, T: Clone>(pattern: &Option<P>, list: &[T]) -> Vec<T> {
            pattern.as_ref().map_or_else(Vec::new, |_| list.to_vec())
        }
        Lists {
            apps: Vec::new(),
            segments: named(&discover.segments, &found.segments),
            events: named(&discover.events, &found.events),
            products: named(&discover.products, &found.products),
            campaigns: named(&discover.campaigns, &found.campaigns),
            canvases: named(&discover.canvases, &found.canvases),
            sends: Vec::new(),
        }
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

    /// The interval of `export`'s block, or `refresh.interval` when no block has that name.
    pub fn interval_of(&self, export: crate::series::Export) -> Duration {
        self.exports
            .iter()
            .find(|e| e.export == export)
            .map_or(self.refresh.interval, |e| e.schedule.interval)
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
        let sends = export
            .sends
            .iter()
            .filter_map(|(campaign, send)| {
                let scope = self.campaigns.iter().find(|c| c.name == *campaign)?;
                Some((scope.clone(), send.clone()))
            })
            .collect();
        Lists {
            apps: self.apps.clone(),
            segments: series::merge_segments(&self.segments, &discovered.segments).0,
            events: union(&export.events, &discovered.events),
            products: union(&export.products, &discovered.products),
            campaigns: series::merge_segments(&self.campaigns, &discovered.campaigns).0,
            canvases: series::merge_segments(&self.canvases, &discovered.canvases).0,
            sends,
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
