//! From what the user wrote to checked values; every problem is collected, none panics.

use std::collections::HashMap;
use std::time::Duration;

use super::api_key::KeyRequest;
use super::duration::{DurationRange, Pretty};
use super::raw::{RawBraze, RawNamed, RawRefresh};
use super::{BrazeSettings, KeyNeed, Problem, RefreshSettings, DEFAULT_STALE_INTERVALS};
use crate::series::{Scope, Unit, Units, ALL};
use crate::time_zone::parse_time_zone;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_CONCURRENCY: i64 = 4;
/// 4% of Braze's default 250,000 requests per hour, which the whole workspace shares.
pub const DEFAULT_MAX_REQUESTS_PER_HOUR: i64 = 10_000;
const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_LENGTH: i64 = 3;

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// The range of each duration field, as the README's configuration table documents them.
pub const TIMEOUT_RANGE: DurationRange =
    DurationRange::new(Duration::from_millis(1), MINUTE.saturating_mul(10));
pub const INTERVAL_RANGE: DurationRange = DurationRange::new(SECOND, WEEK);
pub const DELAY_RANGE: DurationRange = DurationRange::new(Duration::ZERO, WEEK);
/// At least `refresh.interval` too, checked apart since it depends on it.
pub const STALE_AFTER_RANGE: DurationRange =
    DurationRange::new(Duration::ZERO, WEEK.saturating_mul(4));

/// Collects problems so that one run of `--config.check` reports all of them.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(field, message));
    }

    /// The value of a `Result`, or the problem recorded under `field` and `None`.
    pub(super) fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }
}

/// `key_warning` receives a key that `key` lets be unreadable (`--config.check`).
pub(super) fn braze_settings(
    raw: Option<RawBraze>,
    key: &KeyRequest,
    key_warning: &mut Option<Problem>,
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
    let api_key = match key.key(raw.api_key_file.as_deref()) {
        Ok((api_key, warning)) => {
            *key_warning = warning.map(|why| Problem::new(why.field, why.message));
            Some(api_key)
        }
        Err(why) => {
            problems.add(why.field, why.message);
            None
        }
    };
    let time_zone_name = raw.time_zone.unwrap_or_else(|| "UTC".to_string());
    let time_zone = problems.check("braze.time_zone", parse_time_zone(&time_zone_name));
    let timeout = duration(
        problems,
        "braze.timeout",
        raw.timeout,
        DEFAULT_TIMEOUT,
        TIMEOUT_RANGE,
    );
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
    let ca_file = match raw.ca_file {
        // Not run here: its CA file, like its key, is mounted where it runs.
        Some(_) if key.need == KeyNeed::NotRun => Some(None),
        Some(path) => problems
            .check("braze.ca_file", super::CaFile::read(&path))
            .map(Some),
        None => Some(None),
    };
    Some(BrazeSettings {
        url: url?,
        api_key: api_key?,
        time_zone: time_zone?,
        time_zone_name,
        timeout: timeout?,
        max_concurrency: max_concurrency? as usize,
        max_requests_per_hour: max_requests_per_hour? as u64,
        ca_file: ca_file?,
    })
}

pub(super) fn refresh_settings(
    raw: RawRefresh,
    problems: &mut Problems,
) -> Option<RefreshSettings> {
    refuse_lists("refresh", &raw, &[], problems);
    let defaults = Defaults {
        interval: DEFAULT_INTERVAL,
        unit: Unit::Hour,
        length: DEFAULT_LENGTH as u32,
        delay: Duration::ZERO,
        stale_after: None,
    };
    schedule("refresh", raw, &defaults, Units::HourOrDay, problems)
}

/// The values a schedule takes when its fields are left out.
pub(super) struct Defaults {
    pub interval: Duration,
    pub unit: Unit,
    pub length: u32,
    pub delay: Duration,
    /// `None`: [`DEFAULT_STALE_INTERVALS`] times the interval.
    pub stale_after: Option<Duration>,
}

/// Checks the schedule fields of `refresh` or of an `export.<block>` (named by `at`).
pub(super) fn schedule(
    at: &str,
    raw: RawRefresh,
    defaults: &Defaults,
    units: Units,
    problems: &mut Problems,
) -> Option<RefreshSettings> {
    let field = |name: &str| format!("{at}.{name}");
    let interval = duration(
        problems,
        &field("interval"),
        raw.interval,
        defaults.interval,
        INTERVAL_RANGE,
    );
    let unit = problems.check(
        &field("unit"),
        match (raw.unit.as_deref(), units) {
            (None, Units::DayOnly) => Ok(Unit::Day),
            (None, Units::HourOrDay) => Ok(defaults.unit),
            (Some("day"), _) => Ok(Unit::Day),
            (Some("hour"), Units::HourOrDay) => Ok(Unit::Hour),
            (Some("hour"), Units::DayOnly) => {
                Err(format!("Braze serves {at} by day only, got \"hour\""))
            }
            (Some(other), _) => Err(format!("must be hour or day, got {other:?}")),
        },
    );
    let length = problems.check(&field("length"), check_length(raw.length, defaults.length));
    let delay = duration(
        problems,
        &field("delay"),
        raw.delay,
        defaults.delay,
        DELAY_RANGE,
    );
    let interval = interval?;
    // A value inherited from `refresh` was checked there: its problem is reported once.
    let check_stale = raw.stale_after.is_some() || defaults.stale_after.is_none();
    let stale_default = defaults
        .stale_after
        .unwrap_or(interval.saturating_mul(DEFAULT_STALE_INTERVALS));
    let stale_after = duration(
        problems,
        &field("stale_after"),
        raw.stale_after,
        stale_default,
        STALE_AFTER_RANGE,
    );
    if let Some(s) = stale_after.filter(|s| check_stale && *s < interval) {
        problems.add(
            field("stale_after"),
            format!(
                "must be at least {at}.interval ({}), got {}",
                Pretty(interval),
                Pretty(s)
            ),
        );
    }
    let settings = RefreshSettings {
        interval,
        unit: unit?,
        length: length? as u32,
        delay: delay?,
        stale_after: stale_after?,
    };
    // A block that only inherits refresh's unit, length and delay was checked there.
    let inherited = defaults.stale_after.is_some()
        && (settings.unit, settings.length, settings.delay)
            == (defaults.unit, defaults.length, defaults.delay);
    if let Some((field_name, why)) = settings.never_complete().filter(|_| !inherited) {
        problems.add(field(field_name), why);
    }
    Some(settings)
}

/// `length`: 2 at least, since the newest bucket Braze returns is the one in progress; 100 at
/// most, as Braze allows.
fn check_length(raw: Option<i64>, default: u32) -> Result<i64, String> {
    let length = raw.unwrap_or(i64::from(default));
    in_range(length, 2, 100).map_err(|why| match length {
        1 => format!(
            "{why}: the newest bucket Braze returns is the one in progress, so 1 never holds a complete one"
        ),
        _ => why,
    })
}

/// Refuses the fields beside the schedule (`metrics`, `names`, `products`, `steps`, `ids`)
/// that the block `at` does not take.
pub(super) fn refuse_lists(at: &str, raw: &RawRefresh, takes: &[&str], problems: &mut Problems) {
    let lists = [
        ("metrics", raw.metrics.is_some()),
        ("names", raw.names.is_some()),
        ("products", raw.products.is_some()),
        ("steps", raw.steps.is_some()),
        ("ids", raw.ids.is_some()),
    ];
    for (name, given) in lists {
        if given && !takes.contains(&name) {
            problems.add(format!("{at}.{name}"), format!("is not a setting of {at}"));
        }
    }
}

/// Checks `apps` or `segments`: names are label values, ids are Braze identifiers.
pub(super) fn scopes(list: &str, raw: Vec<RawNamed>, problems: &mut Problems) -> Vec<Scope> {
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
    check_label_name(&name)?;
    Ok(name)
}

/// A name that becomes a label value the user configures (apps, segments, workspaces).
pub(super) fn check_label_name(name: &str) -> Result<(), String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || !name.chars().all(valid) {
        return Err(format!("must match [A-Za-z0-9_.-]+, got {name:?}"));
    }
    Ok(())
}

fn check_id(id: Option<String>) -> Result<String, String> {
    let id = id.ok_or("is required: Braze's API identifier")?;
    if id.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return Err(format!("must not contain control characters, got {id:?}"));
    }
    if id.trim().is_empty() || id.trim() != id {
        return Err(format!(
            "must be a non-empty identifier without surrounding spaces, got {id:?}"
        ));
    }
    Ok(id)
}

pub(super) fn in_range(value: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between {min} and {max}, got {value}"))
    }
}

/// A duration field: its default when absent, else parsed by the one duration parser and
/// checked against `range`; the problem names `field` and quotes the value.
pub(super) fn duration(
    problems: &mut Problems,
    field: &str,
    raw: Option<String>,
    default: Duration,
    range: DurationRange,
) -> Option<Duration> {
    match raw {
        None => Some(default),
        Some(text) => problems.check(field, range.parse(&text)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_for(section: &str, field: &str, value: &str) -> Vec<Problem> {
        let text = match section {
            "braze" => format!("braze:\n  url: https://x.braze.com\n  {field}: {value:?}\n"),
            // A week's delay needs more than three hours of buckets to ever show one.
            _ if field == "delay" => format!("braze:\n  url: https://x.braze.com\n{section}:\n  unit: day\n  length: 10\n  {field}: {value:?}\n"),
            _ => format!("braze:\n  url: https://x.braze.com\n{section}:\n  {field}: {value:?}\n"),
        };
        let raw = super::super::raw::parse(&text).unwrap();
        match super::super::assemble::workspace(raw, Some("k".into()), KeyNeed::Required) {
            Ok(_) => vec![],
            Err(problems) => problems,
        }
    }

    const FIELDS: [(&str, &str); 4] = [
        ("braze", "timeout"),
        ("refresh", "interval"),
        ("refresh", "delay"),
        ("refresh", "stale_after"),
    ];

    #[test]
    fn every_duration_field_refuses_surprises_naming_field_and_value() {
        for (section, field) in FIELDS {
            for value in [
                "5M",
                "1y",
                "100000000000y",
                "200000000000y",
                "5H",
                "1.5m",
                "9999999999999999w",
                "5w5w",
            ] {
                let problems = problems_for(section, field, value);
                let path = format!("{section}.{field}");
                assert!(
                    problems
                        .iter()
                        .any(|p| p.field == path && p.message.contains(&format!("{value:?}"))),
                    "{path}: {value}: {problems:?}"
                );
            }
        }
    }

    #[test]
    fn every_duration_field_has_a_range() {
        for (section, field, ok, too_long) in [
            ("braze", "timeout", "10m", "10m1ms"),
            ("refresh", "interval", "1w", "1w1s"),
            ("refresh", "delay", "1w", "8d"),
            ("refresh", "stale_after", "4w", "4w1s"),
        ] {
            assert_eq!(problems_for(section, field, ok), vec![], "{field}: {ok}");
            let problems = problems_for(section, field, too_long);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].field, format!("{section}.{field}"));
            assert!(
                problems[0].message.contains("at most") && problems[0].message.contains(too_long),
                "{problems:?}"
            );
        }
        let zero = problems_for("braze", "timeout", "0s");
        assert_eq!(
            zero[0].message,
            "must be longer than 0s and at most 10m, got \"0s\""
        );
    }

    #[test]
    fn ids_and_names_with_control_characters_are_refused() {
        for bad in ["a\u{0}b", "a\u{1b}[31mb", "ab\u{7f}", "\u{feff}ab", "a\tb"] {
            let err = check_id(Some(bad.into())).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
            assert!(!err.contains('\u{1b}'), "the value is escaped: {err}");
            assert!(check_name(Some(bad.into())).is_err(), "{bad:?}");
        }
        assert!(check_id(Some("00000000-0000-0000-0000-000000000001".into())).is_ok());
    }

    #[test]
    fn durations_written_before_still_parse() {
        for (section, field) in FIELDS {
            for value in ["5m", "5min", "6 minutes", "5m 30s", "5m30s"] {
                let problems = problems_for(section, field, value);
                assert!(
                    problems
                        .iter()
                        .all(|p| p.field != format!("{section}.{field}")),
                    "{field}: {value}: {problems:?}"
                );
            }
        }
    }
}
