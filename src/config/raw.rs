//! The configuration file as the user wrote it: every field optional here, unknown ones refused.
//!
//! Values stay strings where their parsing deserves an error that names the field
//! (durations, time zone, URL); [`super::validate`] turns this into a checked [`super::Config`].

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub braze: Option<RawBraze>,
    #[serde(default)]
    pub refresh: RawRefresh,
    #[serde(default)]
    pub apps: Vec<RawNamed>,
    #[serde(default)]
    pub segments: Vec<RawNamed>,
    #[serde(default)]
    pub campaigns: Vec<RawNamed>,
    #[serde(default)]
    pub canvases: Vec<RawNamed>,
    /// Absent: sessions only, as before `export` existed.
    pub export: Option<RawExport>,
    pub discover: Option<RawDiscover>,
    pub max_series: Option<i64>,
    /// Several Braze workspaces, each with its own `braze`, `apps`, `segments`, `export` and
    /// `discover` (which the top level then must not have); `refresh` stays the shared default.
    pub workspaces: Option<Vec<RawWorkspace>>,
}

/// One entry of `workspaces:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkspace {
    pub name: Option<String>,
    pub braze: Option<RawBraze>,
    /// Overrides the top-level `refresh`, field by field.
    pub refresh: Option<RawRefresh>,
    #[serde(default)]
    pub apps: Vec<RawNamed>,
    #[serde(default)]
    pub segments: Vec<RawNamed>,
    #[serde(default)]
    pub campaigns: Vec<RawNamed>,
    #[serde(default)]
    pub canvases: Vec<RawNamed>,
    pub export: Option<RawExport>,
    pub discover: Option<RawDiscover>,
}

/// `export:`: which kinds of series, each block with its own schedule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExport {
    pub sessions: Option<RawRefresh>,
    pub kpis: Option<RawRefresh>,
    pub events: Option<RawRefresh>,
    pub purchases: Option<RawRefresh>,
    pub segment_sizes: Option<RawRefresh>,
    pub campaigns: Option<RawRefresh>,
    pub canvases: Option<RawRefresh>,
    pub sends: Option<RawRefresh>,
}

/// `discover:`: lists read from Braze every `interval`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscover {
    pub interval: Option<String>,
    pub segments: Option<RawMatch>,
    pub events: Option<RawMatch>,
    pub products: Option<RawMatch>,
    pub campaigns: Option<RawMessagingMatch>,
    pub canvases: Option<RawMessagingMatch>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    /// A regular expression; what Braze lists is kept when it matches.
    #[serde(rename = "match")]
    pub pattern: Option<String>,
}

/// `discover.campaigns` and `discover.canvases`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMessagingMatch {
    #[serde(rename = "match")]
    pub pattern: Option<String>,
    /// Kept only when they carry one of these tags.
    pub tags: Option<Vec<String>>,
    /// Kept only when they sent (entered) within this duration.
    pub active_within: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBraze {
    pub url: Option<String>,
    pub api_key_file: Option<PathBuf>,
    pub time_zone: Option<String>,
    pub timeout: Option<String>,
    pub max_concurrency: Option<i64>,
    pub max_requests_per_hour: Option<i64>,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// `refresh:` and each `export.<block>`: one schedule, and the lists some blocks take (which
/// block takes which is checked in validation, naming the field).
pub struct RawRefresh {
    pub interval: Option<String>,
    pub unit: Option<String>,
    pub length: Option<i64>,
    pub delay: Option<String>,
    pub stale_after: Option<String>,
    /// `export.kpis.metrics`.
    pub metrics: Option<Vec<String>>,
    /// `export.events.names`.
    pub names: Option<Vec<String>>,
    /// `export.purchases.products`.
    pub products: Option<Vec<String>>,
    /// `export.canvases.steps`.
    pub steps: Option<bool>,
    /// `export.sends.ids`.
    pub ids: Option<Vec<RawSendId>>,
}

/// One entry of `export.sends.ids`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSendId {
    /// The name of an entry of `campaigns:`.
    pub campaign: Option<String>,
    pub send_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNamed {
    pub name: Option<String>,
    pub id: Option<String>,
}

/// Parses YAML; an empty file is an empty configuration (which then lacks `braze.url`).
pub fn parse(text: &str) -> Result<RawConfig, String> {
    if text.trim().is_empty() {
        return Ok(RawConfig::default());
    }
    serde_norway::from_str(text).map_err(|e| e.to_string())
}
