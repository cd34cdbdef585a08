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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRefresh {
    pub interval: Option<String>,
    pub unit: Option<String>,
    pub length: Option<i64>,
    pub delay: Option<String>,
    pub stale_after: Option<String>,
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
