//! `export:`, `discover:` and `max_series`: which kinds of series, on which schedules, and what
//! Braze's own lists may add.
//!
//! A file without `export` exports sessions exactly as before it existed. Each block's schedule
//! starts from `refresh`; the blocks of day-only kinds (KPIs, segment sizes) default to an
//! interval of 1h and the unit `day`, and refuse `unit: hour`, naming the field.

use std::collections::HashSet;
use std::time::Duration;

use regex::Regex;

use super::duration::DurationRange;
use super::raw::{RawDiscover, RawExport, RawMatch, RawMessagingMatch, RawRefresh, RawSendId};
use super::validate::{duration, in_range, refuse_lists, schedule, Defaults, Problems};
use super::RefreshSettings;
use crate::series::{Export, Kind, Scope, Units};

/// `max_series` when the file leaves it out.
pub const DEFAULT_MAX_SERIES: usize = 10_000;
/// The largest `max_series`: past it one refresh could not fit Braze's whole hourly budget.
const MAX_MAX_SERIES: i64 = 250_000;
/// The interval of day-only blocks when they set none: a day's value changes slowly.
const DAY_ONLY_INTERVAL: Duration = Duration::from_secs(3600);
/// `discover.interval` when left out.
const DEFAULT_DISCOVER_INTERVAL: Duration = Duration::from_secs(3600);
/// `discover.interval`: at least 5m, since the list endpoints share 1,000 requests per hour with
/// every other integration of the workspace; at most a week.
const DISCOVER_INTERVAL_RANGE: DurationRange =
    DurationRange::new(Duration::from_secs(300), Duration::from_secs(7 * 86_400));
/// `discover.<campaigns|canvases>.active_within`: Braze's `last_sent` and `last_entry` are
/// times, so a minute is the least that means anything; a year the most.
const ACTIVE_WITHIN_RANGE: DurationRange =
    DurationRange::new(Duration::from_secs(60), Duration::from_secs(366 * 86_400));

/// One enabled `export.<block>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSettings {
    pub export: Export,
    pub schedule: RefreshSettings,
    /// The kinds this block exports (for `kpis`, the chosen `metrics`).
    pub kinds: Vec<Kind>,
    /// `export.events.names`: configured event names.
    pub events: Vec<String>,
    /// `export.purchases.products`: configured product ids (`all` is always exported).
    pub products: Vec<String>,
    /// `export.canvases.steps`: Canvas steps too (off by default: it multiplies series).
    pub steps: bool,
    /// `export.sends.ids`: (campaign name of `campaigns:`, send id).
    pub sends: Vec<(String, String)>,
}

/// A regular expression from the file, compared by its text.
#[derive(Debug, Clone)]
pub struct Pattern(pub Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// `discover:`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoverSettings {
    pub interval: Duration,
    /// Analytics-enabled segments from `/segments/list` whose Braze name matches.
    pub segments: Option<Pattern>,
    /// Event names from `/events/list` that match.
    pub events: Option<Pattern>,
    /// Product ids from `/purchases/product_list` that match.
    pub products: Option<Pattern>,
    /// Campaigns from `/campaigns/list` (and, for `active_within`, `/campaigns/details`).
    pub campaigns: Option<MessagingMatch>,
    /// Canvases from `/canvas/list` (and, for `active_within`, `/canvas/details`).
    pub canvases: Option<MessagingMatch>,
}

/// `discover.campaigns` and `discover.canvases`: which of Braze's campaigns or Canvases join.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagingMatch {
    /// Kept when Braze's name matches.
    pub pattern: Pattern,
    /// When not empty, kept only when carrying one of these tags.
    pub tags: Vec<String>,
    /// When set, kept only when the details show a send (entry) within this long: what is
    /// running, not everything ever made.
    pub active_within: Option<Duration>,
}

/// Checks `export`; absent, it is `{sessions: {}}`.
pub(super) fn exports(
    raw: Option<RawExport>,
    refresh: &RefreshSettings,
    campaigns: &[Scope],
    problems: &mut Problems,
) -> Vec<ExportSettings> {
    let raw = raw.unwrap_or_else(|| RawExport {
        sessions: Some(RawRefresh::default()),
        ..RawExport::default()
    });
    let blocks = [
        (Export::Sessions, raw.sessions),
        (Export::Kpis, raw.kpis),
        (Export::Events, raw.events),
        (Export::Purchases, raw.purchases),
        (Export::SegmentSizes, raw.segment_sizes),
        (Export::Campaigns, raw.campaigns),
        (Export::Canvases, raw.canvases),
        (Export::Sends, raw.sends),
    ];
    blocks
        .into_iter()
        .filter_map(|(export, block)| Some((export, block?)))
        .filter_map(|(export, block)| export_block(export, block, refresh, campaigns, problems))
        .collect()
}

fn export_block(
    export: Export,
    mut raw: RawRefresh,
    refresh: &RefreshSettings,
    campaigns: &[Scope],
    problems: &mut Problems,
) -> Option<ExportSettings> {
    let at = format!("export.{}", export.as_str());
    let takes: &[&str] = match export {
        Export::Kpis => &["metrics"],
        Export::Events => &["names"],
        Export::Purchases => &["products"],
        Export::Canvases => &["steps"],
        Export::Sends => &["ids"],
        Export::Sessions | Export::SegmentSizes | Export::Campaigns => &[],
    };
    refuse_lists(&at, &raw, takes, problems);
    let kinds = match export {
        Export::Kpis => kpi_kinds(&at, raw.metrics.as_deref(), problems),
        _ => export.kinds().map(|k| k.kind).collect(),
    };
    let events = label_values(&format!("{at}.names"), raw.names.as_deref(), problems);
    let products = label_values(&format!("{at}.products"), raw.products.as_deref(), problems);
    let steps = raw.steps.unwrap_or(false);
    let sends = send_ids(&at, raw.ids.take().unwrap_or_default(), campaigns, problems);
    let max_length = i64::from(export.max_length());
    if let Some(length) = raw.length.filter(|l| *l > max_length && *l <= 100) {
        problems.add(
            format!("{at}.length"),
            format!("must be between 1 and {max_length} (Braze's limit for {at}), got {length}"),
        );
    }
    let schedule = schedule(
        &at,
        raw,
        &defaults(export, refresh),
        export.units(),
        problems,
    )?;
    Some(ExportSettings {
        export,
        schedule,
        kinds,
        events,
        products,
        steps,
        sends,
    })
}

/// `export.sends.ids`: each names a campaign of `campaigns:` and a send id, once.
fn send_ids(
    at: &str,
    raw: Vec<RawSendId>,
    campaigns: &[Scope],
    problems: &mut Problems,
) -> Vec<(String, String)> {
    let mut sends = Vec::new();
    for (i, id) in raw.into_iter().enumerate() {
        let at = format!("{at}.ids[{i}]");
        let campaign = match id.campaign {
            Some(name) if campaigns.iter().any(|c| c.name == name) => Some(name),
            Some(name) => {
                let known: Vec<&str> = campaigns.iter().map(|c| c.name.as_str()).collect();
                problems.add(
                    format!("{at}.campaign"),
                    format!(
                        "{name:?} is not the name of an entry of campaigns: (it has {known:?})"
                    ),
                );
                None
            }
            None => {
                problems.add(
                    format!("{at}.campaign"),
                    "is required: a name from campaigns:",
                );
                None
            }
        };
        let send_id = match id.send_id {
            Some(s) if !s.trim().is_empty() && !s.chars().any(char::is_control) => Some(s),
            Some(s) => {
                problems.add(
                    format!("{at}.send_id"),
                    format!("must be a non-empty id without control characters, got {s:?}"),
                );
                None
            }
            None => {
                problems.add(format!("{at}.send_id"), "is required: Braze's send id");
                None
            }
        };
        match (campaign, send_id) {
            (Some(c), Some(s)) if sends.contains(&(c.clone(), s.clone())) => problems.add(
                at,
                format!("campaign {c:?} with send_id {s:?} is listed twice"),
            ),
            (Some(c), Some(s)) => sends.push((c, s)),
            _ => {}
        }
    }
    sends
}

/// What a block's schedule starts from: `refresh`, or for day-only blocks an interval of 1h;
/// messaging blocks start from their own (see [`Export::default_length`]).
fn defaults(export: Export, refresh: &RefreshSettings) -> Defaults {
    if let Some(length) = export.default_length() {
        return Defaults {
            interval: DAY_ONLY_INTERVAL,
            unit: crate::series::Unit::Day,
            length,
            delay: Duration::ZERO,
            stale_after: None,
        };
    }
    let interval = match export.units() {
        Units::DayOnly => DAY_ONLY_INTERVAL,
        Units::HourOrDay => refresh.interval,
    };
    Defaults {
        interval,
        unit: refresh.unit,
        length: refresh.length,
        delay: refresh.delay,
        // `refresh.stale_after` counts refreshes of `refresh.interval`; on another interval,
        // the block counts its own.
        stale_after: (interval == refresh.interval).then_some(refresh.stale_after),
    }
}

/// `export.kpis.metrics`: any of the four, default all four, in the table's order.
fn kpi_kinds(at: &str, metrics: Option<&[String]>, problems: &mut Problems) -> Vec<Kind> {
    let all: Vec<Kind> = Export::Kpis.kinds().map(|k| k.kind).collect();
    let Some(metrics) = metrics else {
        return all;
    };
    let mut chosen = HashSet::new();
    for (i, name) in metrics.iter().enumerate() {
        match all.iter().find(|k| k.spec().name == name) {
            Some(kind) if !chosen.insert(*kind) => problems.add(
                format!("{at}.metrics[{i}]"),
                format!("{name:?} is listed twice"),
            ),
            Some(_) => {}
            None => problems.add(
                format!("{at}.metrics[{i}]"),
                format!("must be one of dau, mau, new_users, uninstalls, got {name:?}"),
            ),
        }
    }
    all.into_iter().filter(|k| chosen.contains(k)).collect()
}

/// Event names and product ids: label values as Braze writes them, so anything printable.
fn label_values(field: &str, values: Option<&[String]>, problems: &mut Problems) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for (i, value) in values.unwrap_or_default().iter().enumerate() {
        let at = format!("{field}[{i}]");
        if value.trim().is_empty() || value.chars().any(char::is_control) {
            problems.add(
                at,
                format!("must be a non-empty name without control characters, got {value:?}"),
            );
        } else if value == crate::series::ALL && field.ends_with(".products") {
            problems.add(at, "\"all\" is always exported: it is every product");
        } else if !seen.insert(value.as_str()) {
            problems.add(at, format!("{value:?} is listed twice"));
        } else {
            kept.push(value.clone());
        }
    }
    kept
}

/// Checks `discover`.
pub(super) fn discover(
    raw: Option<RawDiscover>,
    problems: &mut Problems,
) -> Option<DiscoverSettings> {
    let raw = raw?;
    let interval = duration(
        problems,
        "discover.interval",
        raw.interval,
        DEFAULT_DISCOVER_INTERVAL,
        DISCOVER_INTERVAL_RANGE,
    );
    let segments = pattern(problems, "segments", raw.segments);
    let events = pattern(problems, "events", raw.events);
    let products = pattern(problems, "products", raw.products);
    let campaigns = messaging_match(problems, "campaigns", raw.campaigns);
    let canvases = messaging_match(problems, "canvases", raw.canvases);
    Some(DiscoverSettings {
        interval: interval?,
        segments,
        events,
        products,
        campaigns,
        canvases,
    })
}

/// `discover.<list>.match`.
fn pattern(problems: &mut Problems, list: &str, raw: Option<RawMatch>) -> Option<Pattern> {
    regex(problems, list, raw?.pattern)
}

fn regex(problems: &mut Problems, list: &str, text: Option<String>) -> Option<Pattern> {
    let text = text.unwrap_or_else(|| ".*".to_string());
    problems.check(
        &format!("discover.{list}.match"),
        Regex::new(&text)
            .map(Pattern)
            .map_err(|e| format!("is not a regular expression: {text:?}: {e}")),
    )
}

/// `discover.campaigns` or `discover.canvases`: `match`, `tags`, `active_within`.
fn messaging_match(
    problems: &mut Problems,
    list: &str,
    raw: Option<RawMessagingMatch>,
) -> Option<MessagingMatch> {
    let raw = raw?;
    let tags = raw.tags.unwrap_or_default();
    for (i, tag) in tags.iter().enumerate() {
        if tag.trim().is_empty() || tag.chars().any(char::is_control) {
            problems.add(
                format!("discover.{list}.tags[{i}]"),
                format!("must be a non-empty tag without control characters, got {tag:?}"),
            );
        }
    }
    let active_within = match raw.active_within {
        None => Some(None),
        Some(text) => problems
            .check(
                &format!("discover.{list}.active_within"),
                ACTIVE_WITHIN_RANGE.parse(&text),
            )
            .map(Some),
    };
    Some(MessagingMatch {
        pattern: regex(problems, list, raw.pattern)?,
        tags,
        active_within: active_within?,
    })
}

/// Checks `max_series`.
pub(super) fn max_series(raw: Option<i64>, problems: &mut Problems) -> Option<usize> {
    let value = raw?;
    problems
        .check("max_series", in_range(value, 1, MAX_MAX_SERIES))
        .map(|n| n as usize)
}
