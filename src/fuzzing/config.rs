//! The configuration file, end to end: YAML → checked settings of one or more workspaces →
//! the `--config.check` report (series, their cost, warnings).

use std::path::Path;

use crate::config::{Config, ConfigError, Form, Settings};

/// Where the text is said to come from, in errors.
const ORIGIN: &str = "fuzz.yml";

/// The key of `BRAZE_API_KEY`, which no error and no report may show. Its `|` cannot be in a
/// URL's host, so no host the input writes otherwise (`nevEr`, full-width letters) becomes it
/// when the URL is normalised.
const KEY: &str = "fuzz|key|0123456789abcdef|never|shown";

/// The fields at the top of the file (and of each `workspaces:` entry).
const TOP_LEVEL: [&str; 8] = [
    "braze",
    "refresh",
    "apps",
    "segments",
    "export",
    "discover",
    "max_series",
    "workspaces",
];

/// Loads the text as the exporter loads its file, and describes it as `--config.check` does.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // Read as UTF-8 text before any parser sees it.
    };
    let written = text.to_lowercase().contains(KEY);
    let shown = |out: &str| !written && out.to_lowercase().contains(KEY);
    match Settings::parse(text, Path::new(ORIGIN), Some(KEY.into())) {
        Ok(settings) => {
            check_settings(&settings);
            let report = crate::check::describe(Path::new(ORIGIN), &settings, &[]);
            assert!(!shown(&report), "the key in the report:\n{report}");
            assert!(!shown(&format!("{settings:?}")), "the key in {settings:?}");
        }
        Err(error) => {
            check_problems(&error);
            assert!(!shown(&error.to_string()), "the key in the error: {error}");
        }
    }
}

/// One workspace without a name, or named workspaces with unique names; each within its
/// limits.
fn check_settings(settings: &Settings) {
    assert!(
        !settings.workspaces.is_empty(),
        "settings without a workspace"
    );
    let names: Vec<Option<&str>> = settings
        .workspaces
        .iter()
        .map(|w| w.workspace.as_deref())
        .collect();
    match settings.form {
        Form::Single => assert_eq!(names, [None], "the single form has one unnamed workspace"),
        Form::List => {
            let mut unique: Vec<&str> = names
                .iter()
                .map(|n| n.expect("a named workspace"))
                .collect();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(
                unique.len(),
                names.len(),
                "duplicate workspace names {names:?}"
            );
        }
    }
    for config in &settings.workspaces {
        check_workspace(config);
    }
}

fn check_workspace(config: &Config) {
    let plan = config.plan(&Default::default());
    assert!(
        plan.series.len() <= config.max_series,
        "{} series planned past max_series {}",
        plan.series.len(),
        config.max_series
    );
    for schedule in
        std::iter::once(&config.refresh).chain(config.exports.iter().map(|e| &e.schedule))
    {
        assert!((1..=100).contains(&schedule.length), "{schedule:?}");
        assert!(schedule.stale_after >= schedule.interval, "{schedule:?}");
        assert!(schedule.never_complete().is_none(), "{schedule:?}");
    }
    assert!((1..=64).contains(&config.braze.max_concurrency));
    assert!(config.budget().requests_per_hour().is_finite());
}

/// Every problem names its field (one of the file's, or none for the YAML itself) and says
/// what is wrong.
fn check_problems(error: &ConfigError) {
    assert!(!error.problems.is_empty(), "an error without a problem");
    for problem in &error.problems {
        assert!(
            !problem.message.trim().is_empty(),
            "{problem:?} says nothing"
        );
        if problem.field.is_empty() {
            continue;
        }
        let field = problem
            .field
            .strip_prefix("workspaces[")
            .and_then(|rest| rest.split_once("]."))
            .map_or(problem.field.as_str(), |(_, field)| field);
        let top = field.split(['.', '[']).next().unwrap_or_default();
        assert!(
            TOP_LEVEL.contains(&top) || problem.field.starts_with("workspaces["),
            "{problem:?} names no field of the file"
        );
    }
}
