//! From what the user wrote to checked values; every problem is collected, none panics.

use std::collections::HashMap;
use std::time::Duration;

use super::raw::{RawBraze, RawConfig, RawNamed, RawRefresh};
use super::{
    api_key, ApiKey, BrazeSettings, Config, KeyNeed, Problem, RefreshSettings,
    DEFAULT_STALE_INTERVALS,
};
use crate::series::{Scope, Unit, ALL};
use crate::time_zone::parse_time_zone;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_CONCURRENCY: i64 = 4;
/// 4% of Braze's default 250,000 requests per hour, which the whole workspace shares.
pub const DEFAULT_MAX_REQUESTS_PER_HOUR: i64 = 10_000;
const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_LENGTH: i64 = 3;

/// Collects problems so that one run of `--config.check` reports all of them.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(field, message));
    }

    /// The value of a `Result`, or the problem recorded under `field` and `None`.
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }
}

/// Checks every value. With [`KeyNeed::WarnIfUnreadable`] a key that cannot be read is returned
/// as a warning instead, and a placeholder stands in for it.
pub fn validate(
    raw: RawConfig,
    env_key: Option<String>,
    key_need: KeyNeed,
) -> Result<(Config, Option<Problem>), Vec<Problem>> {
    let mut problems = Problems::default();
    let mut key_warning = None;
    let warn_only = (key_need == KeyNeed::WarnIfUnreadable).then_some(&mut key_warning);
    let braze = braze_settings(raw.braze, env_key, warn_only, &mut problems);
    let refresh = refresh_settings(raw.refresh, &mut problems);
    let apps = scopes("apps", raw.apps, &mut problems);
    let segments = scopes("segments", raw.segments, &mut problems);
    match (braze, refresh, problems.0.is_empty()) {
        (Some(braze), Some(refresh), true) => Ok((
            Config {
                braze,
                refresh,
                apps,
                segments,
            },
            key_warning,
        )),
        _ => Err(problems.0),
    }
}

/// `key_warning`, when given, receives a key that cannot be read as a warning, not a problem.
fn braze_settings(
    raw: Option<RawBraze>,
    env_key: Option<String>,
    key_warning: Option<&mut Option<Problem>>,
    problems: &mut Problems,
) -> Option<BrazeSettings> {
    let Some(raw) = raw else {
        problems.add("braze", "is required (at least braze.url)");
        return None;
    };
    let url = match raw.url {
        Some(url) => problems.check("braze.url", parse_url(&url)),
        None => {
            problems.add(
                "braze.url",
                "is required, e.g. https://rest.iad-01.braze.com",
            );
            None
        }
    };
    let api_key = match (
        api_key::resolve(raw.api_key_file.as_deref(), env_key),
        key_warning,
    ) {
        (Ok(key), _) => Some(key),
        (Err(why), Some(slot)) => {
            *slot = Some(Problem::new("braze.api_key_file", why));
            Some(ApiKey::placeholder())
        }
        (Err(why), None) => {
            problems.add("braze.api_key_file", why);
            None
        }
    };
    let time_zone_name = raw.time_zone.unwrap_or_else(|| "UTC".to_string());
    let time_zone = problems.check("braze.time_zone", parse_time_zone(&time_zone_name));
    let timeout = duration(problems, "braze.timeout", raw.timeout, DEFAULT_TIMEOUT);
    if timeout == Some(Duration::ZERO) {
        problems.add("braze.timeout", "must be longer than 0s");
    }
    let max_concurrency = problems.check(
        "braze.max_concurrency",
        in_range(
            raw.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
            1,
            64,
        ),
    );
    let max_requests_per_hour = problems.check(
        "braze.max_requests_per_hour",
        in_range(
            raw.max_requests_per_hour
                .unwrap_or(DEFAULT_MAX_REQUESTS_PER_HOUR),
            1,
            250_000,
        ),
    );
    Some(BrazeSettings {
        url: url?,
        api_key: api_key?,
        time_zone: time_zone?,
        time_zone_name,
        timeout: timeout?,
        max_concurrency: max_concurrency? as usize,
        max_requests_per_hour: max_requests_per_hour? as u64,
    })
}

fn refresh_settings(raw: RawRefresh, problems: &mut Problems) -> Option<RefreshSettings> {
    let interval = duration(problems, "refresh.interval", raw.interval, DEFAULT_INTERVAL);
    if let Some(i) = interval.filter(|i| *i < Duration::from_secs(1)) {
        problems.add(
            "refresh.interval",
            format!("must be at least 1s, got {}", humantime::format_duration(i)),
        );
    }
    let unit = problems.check(
        "refresh.unit",
        match raw.unit.as_deref().unwrap_or("hour") {
            "hour" => Ok(Unit::Hour),
            "day" => Ok(Unit::Day),
            other => Err(format!("must be hour or day, got {other:?}")),
        },
    );
    let length = problems.check(
        "refresh.length",
        in_range(raw.length.unwrap_or(DEFAULT_LENGTH), 1, 100),
    );
    let delay = duration(problems, "refresh.delay", raw.delay, Duration::ZERO);
    let interval = interval?;
    let stale_after = duration(
        problems,
        "refresh.stale_after",
        raw.stale_after,
        interval * DEFAULT_STALE_INTERVALS,
    );
    if let Some(s) = stale_after.filter(|s| *s < interval) {
        problems.add(
            "refresh.stale_after",
            format!(
                "must be at least refresh.interval ({}), got {}",
                humantime::format_duration(interval),
                humantime::format_duration(s)
            ),
        );
    }
    Some(RefreshSettings {
        interval,
        unit: unit?,
        length: length? as u32,
        delay: delay?,
        stale_after: stale_after?,
    })
}

/// Checks `apps` or `segments`: names are label values, ids are Braze identifiers.
fn scopes(list: &str, raw: Vec<RawNamed>, problems: &mut Problems) -> Vec<Scope> {
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut scopes = Vec::new();
    for (i, item) in raw.into_iter().enumerate() {
        let at = format!("{list}[{i}]");
        let name = problems.check(&format!("{at}.name"), check_name(item.name));
        let id = problems.check(&format!("{at}.id"), check_id(item.id));
        for (field, value, seen) in [("name", &name, &mut names), ("id", &id, &mut ids)] {
            if let Some(first) = value.as_ref().and_then(|v| seen.insert(v.clone(), i)) {
                let value = value.as_deref().unwrap_or_default();
                problems.add(
                    format!("{at}.{field}"),
                    format!("{value:?} duplicates {list}[{first}].{field}"),
                );
            }
        }
        if let (Some(name), Some(id)) = (name, id) {
            scopes.push(Scope::named(name, id));
        }
    }
    scopes
}

fn check_name(name: Option<String>) -> Result<String, String> {
    let name = name.ok_or("is required")?;
    if name == ALL {
        return Err(format!(
            "{ALL:?} is reserved for the aggregate over every one"
        ));
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || !name.chars().all(valid) {
        return Err(format!("must match [A-Za-z0-9_.-]+, got {name:?}"));
    }
    Ok(name)
}

fn check_id(id: Option<String>) -> Result<String, String> {
    let id = id.ok_or("is required: Braze's API identifier")?;
    if id.trim().is_empty() || id.trim() != id {
        return Err(format!(
            "must be a non-empty identifier without surrounding spaces, got {id:?}"
        ));
    }
    Ok(id)
}

fn in_range(value: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between {min} and {max}, got {value}"))
    }
}

fn duration(
    problems: &mut Problems,
    field: &str,
    raw: Option<String>,
    default: Duration,
) -> Option<Duration> {
    match raw {
        None => Some(default),
        Some(text) => problems.check(
            field,
            humantime::parse_duration(text.trim())
                .map_err(|e| format!("{e} in {text:?} (write a duration like 30s, 5m or 1h30m)")),
        ),
    }
}

/// Any base URL: the tests point it at a local simulator. Plain `http://` would send the key in
/// clear text, so it is allowed only to loopback addresses.
fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|e| format!("{e}: {text:?}"))?;
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(format!(
                "http:// would send the API key unencrypted to {host}; use https:// \
                 (plain http is allowed for loopback addresses only)"
            ))
        }
        other => return Err(format!("must be an http(s) URL, got scheme {other:?}")),
    }
    if host.is_empty() {
        return Err(format!("has no host: {text:?}"));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not carry a query or credentials; the key goes in braze.api_key_file".into(),
        );
    }
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
