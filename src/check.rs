//! What `--config.check` prints: the settings that matter, what each export block costs in
//! Braze requests, and every series to poll.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::duration::Pretty;
use crate::config::{Budget, Config, Form, Problem, RefreshSettings, Settings};
use crate::discovery;
use crate::series::Pool;

/// The whole report for a configuration read from `origin`: each workspace, the total, then
/// every warning (`key_warnings`, the keys it could not read, first), and the verdict last, so
/// that the line a reader sees at the end says whether anything needs a look.
pub fn describe(origin: &Path, settings: &Settings, key_warnings: &[Problem]) -> String {
    let mut out = String::new();
    for config in &settings.workspaces {
        if let Some(name) = &config.workspace {
            let _ = writeln!(out, "workspace {name}:");
        }
        out.push_str(&workspace(config));
    }
    if settings.form == Form::List {
        let total: f64 = settings
            .workspaces
            .iter()
            .map(|c| c.budget().requests_per_hour())
            .sum();
        let _ = writeln!(
            out,
            "total: {} workspaces, {} series, {total:.0} requests per hour (each workspace within its own Braze budget)",
            settings.workspaces.len(),
            settings.series_count(),
        );
    }
    let warnings = warnings(settings, key_warnings);
    for warning in &warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let _ = match warnings.len() {
        0 => writeln!(out, "{}: valid", origin.display()),
        1 => writeln!(out, "{}: valid, with 1 warning", origin.display()),
        n => writeln!(out, "{}: valid, with {n} warnings", origin.display()),
    };
    out
}

/// Every warning, each naming its field (or its workspace, in the list form).
fn warnings(settings: &Settings, key_warnings: &[Problem]) -> Vec<String> {
    let keys = key_warnings
        .iter()
        .map(|w| format!("{w} (needed where the exporter runs)"));
    let others = settings.workspaces.iter().flat_map(|config| {
        let at = config
            .workspace
            .as_ref()
            .map_or_else(String::new, |name| format!("workspace {name}: "));
        config
            .budget()
            .warning()
            .into_iter()
            .chain(config.data_warnings())
            .map(move |warning| format!("{at}{warning}"))
    });
    keys.chain(others).collect()
}

/// One workspace's part of the report.
fn workspace(config: &Config) -> String {
    let series = config.series();
    let budget = config.budget();
    let mut out = String::new();
    let _ = writeln!(out, "braze.url: {}", config.braze.url);
    let _ = writeln!(out, "braze.time_zone: {}", config.braze.time_zone_name);
    let _ = writeln!(out, "refresh: {}", schedule(&config.refresh));
    for (export, cost) in config.exports.iter().zip(&budget.exports) {
        let _ = writeln!(
            out,
            "export.{}: {}: {} series, {:.0} requests per hour",
            export.export.as_str(),
            schedule(&export.schedule),
            cost.series,
            cost.requests_per_hour(),
        );
    }
    for pool in budget.pools() {
        let _ = writeln!(out, "{}", pool_cost(&budget, pool));
    }
    if let Some(discover) = &config.discover {
        let lists: Vec<&str> = [
            ("segments", discover.segments.is_some()),
            ("events", discover.events.is_some()),
            ("products", discover.products.is_some()),
            ("campaigns", discover.campaigns.is_some()),
            ("canvases", discover.canvases.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let _ = writeln!(
            out,
            "discover: {} every {}: what Braze lists is not known here, so the series and requests \
             it adds are not counted above; the exporter logs them and exposes braze_discovered \
             and braze_series (at most max_series {} in all)",
            lists.join(", "),
            Pretty(discover.interval),
            config.max_series,
        );
        let messaging = discover.campaigns.is_some() || discover.canvases.is_some();
        let _ = writeln!(
            out,
            "discover requests per hour: at most {} of the lists pool{}",
            discovery::LIST_SHARE_PER_HOUR,
            match messaging {
                true => format!(
                    ", and {} of the shared pool for the campaign and Canvas lists and details",
                    discovery::SHARED_SHARE_PER_HOUR
                ),
                false => String::new(),
            }
        );
    }
    let _ = writeln!(out, "{} series would be polled:", series.len());
    let mut kind = None;
    for s in &series {
        if kind != Some(s.kind) {
            kind = Some(s.kind);
            if config.exports.len() > 1 || s.kind != crate::series::Kind::Sessions {
                let _ = writeln!(out, "{}:", s.kind.spec().name);
            }
        }
        let _ = writeln!(out, "  {s}");
    }
    out
}

/// What the blocks on `pool` cost, against the exporter's budget there.
fn pool_cost(budget: &Budget, pool: Pool) -> String {
    let needed = budget.requests_per_hour_in(pool);
    match pool {
        Pool::CampaignAnalytics => format!(
            "requests per hour, campaign analytics pool: {needed:.0} of the exporter's share {} \
             (Braze allows 50,000 a minute there, apart from the shared hourly pool)",
            budget.max_per_hour(pool)
        ),
        _ => format!(
            "requests per hour: {needed:.0} of braze.max_requests_per_hour {}",
            budget.max_requests_per_hour
        ),
    }
}

fn schedule(s: &RefreshSettings) -> String {
    format!(
        "every {} for unit {}, length {}, delay {}, stale after {}",
        Pretty(s.interval),
        s.unit,
        s.length,
        Pretty(s.delay),
        Pretty(s.stale_after)
    )
}
