//! The file as a whole: one workspace at the top level, or several under `workspaces:`.
//!
//! In the single-workspace form (every file written before `workspaces:` existed) the series
//! carry no `workspace` label. In the list form each entry is a workspace of its own: a `name`
//! (the `workspace` label value, `[A-Za-z0-9_.-]+`, unique) and its own `braze`, `apps`,
//! `segments`, `export` and `discover`; the top-level `refresh` is the shared default, which a
//! workspace's own `refresh` overrides field by field, and `max_series` bounds each workspace.

use std::collections::HashMap;
use std::path::Path;

use super::raw::{self, RawConfig, RawRefresh, RawWorkspace};
use super::{assemble, validate, Config, ConfigError, KeyNeed, Problem};

/// Which form the file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `braze`, `apps`… at the top level: no `workspace` label.
    Single,
    /// `workspaces:`: every per-series and per-workspace metric carries `workspace`.
    List,
}

/// Every workspace of one checked file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub form: Form,
    /// In the file's order; never empty.
    pub workspaces: Vec<Config>,
}

impl Settings {
    /// Reads and checks the file at `path` for the workspaces `run` names (`--workspace`,
    /// every workspace when empty); keys come from the files named or `env_key`.
    ///
    /// Only the workspaces run are read and kept: a shard's pod mounts its own workspace's key
    /// alone, so the other workspaces' key and CA files are not opened. Their settings are
    /// checked as text all the same, so a typo anywhere in the file is an error in every shard.
    pub fn load(
        path: &Path,
        env_key: Option<String>,
        run: &[String],
    ) -> Result<Settings, ConfigError> {
        Self::read(path, env_key, KeyNeed::Required, run).map(|(settings, _)| settings)
    }

    /// As [`Settings::load`], for `--config.check`: a key that cannot be read (its Secret is
    /// mounted only where the exporter runs) is returned as a warning, not an error.
    pub fn load_for_check(
        path: &Path,
        env_key: Option<String>,
        run: &[String],
    ) -> Result<(Settings, Vec<Problem>), ConfigError> {
        Self::read(path, env_key, KeyNeed::WarnIfUnreadable, run)
    }

    /// Checks `text` as if read from `origin` (named in errors), every workspace run.
    #[cfg(any(test, feature = "demo", feature = "fuzzing"))]
    pub fn parse(
        text: &str,
        origin: &Path,
        env_key: Option<String>,
    ) -> Result<Settings, ConfigError> {
        Self::check_text(text, origin, env_key, KeyNeed::Required, &[])
            .map(|(settings, _)| settings)
    }

    /// Series of every workspace, configured ones (without discovery).
    pub fn series_count(&self) -> usize {
        self.workspaces.iter().map(Config::series_count).sum()
    }

    fn read(
        path: &Path,
        env_key: Option<String>,
        key_need: KeyNeed,
        run: &[String],
    ) -> Result<(Settings, Vec<Problem>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: path.to_path_buf(),
            problems: vec![Problem::new("", format!("cannot read the file: {e}"))],
        })?;
        Self::check_text(&text, path, env_key, key_need, run)
    }

    fn check_text(
        text: &str,
        origin: &Path,
        env_key: Option<String>,
        key_need: KeyNeed,
        run: &[String],
    ) -> Result<(Settings, Vec<Problem>), ConfigError> {
        let error = |problems| ConfigError {
            origin: origin.to_path_buf(),
            problems,
        };
        let raw = raw::parse(text).map_err(|e| error(vec![Problem::new("", e)]))?;
        check(raw, env_key, key_need, run).map_err(error)
    }
}

/// Checks either form, collecting every problem (a workspace's under `workspaces[i].`); keeps
/// the workspaces `run` names (all when empty), whose files alone are read.
fn check(
    mut raw: RawConfig,
    env_key: Option<String>,
    key_need: KeyNeed,
    run: &[String],
) -> Result<(Settings, Vec<Problem>), Vec<Problem>> {
    let Some(list) = raw.workspaces.take() else {
        return single(raw, env_key, key_need, run);
    };
    let mut problems = top_level_conflicts(&raw);
    if list.is_empty() {
        problems.push(Problem::new("workspaces", "lists no workspace"));
    }
    problems.extend(unknown_names(run, &list));
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut workspaces = Vec::new();
    let mut warnings = Vec::new();
    for (i, entry) in list.into_iter().enumerate() {
        let at = format!("workspaces[{i}]");
        let name = match workspace_name(entry.name.as_deref()) {
            Ok(name) => Some(name),
            Err(why) => {
                problems.push(Problem::new(format!("{at}.name"), why));
                None
            }
        };
        if let Some(first) = name.as_ref().and_then(|n| names.insert(n.clone(), i)) {
            problems.push(Problem::new(
                format!("{at}.name"),
                format!(
                    "{:?} duplicates workspaces[{first}].name",
                    name.as_deref().unwrap_or_default()
                ),
            ));
        }
        let runs = run.is_empty() || name.as_ref().is_some_and(|n| run.contains(n));
        let need = if runs { key_need } else { KeyNeed::NotRun };
        let one = workspace_raw(entry, &raw.refresh, raw.max_series);
        match assemble::workspace(one, env_key.clone(), need) {
            Ok((mut config, warning)) => {
                config.workspace = name;
                warnings.extend(warning.map(|w| prefixed(&at, w)));
                if runs {
                    workspaces.push(config);
                }
            }
            Err(found) => problems.extend(found.into_iter().map(|p| prefixed(&at, p))),
        }
    }
    match problems.is_empty() {
        true => Ok((
            Settings {
                form: Form::List,
                workspaces,
            },
            warnings,
        )),
        false => Err(problems),
    }
}

/// The single-workspace form, which no `--workspace` can name.
fn single(
    raw: RawConfig,
    env_key: Option<String>,
    key_need: KeyNeed,
    run: &[String],
) -> Result<(Settings, Vec<Problem>), Vec<Problem>> {
    let named = run.first().map(|name| {
        Problem::new(
            "",
            format!("--workspace={name:?}: the configuration has no workspaces: list"),
        )
    });
    match (assemble::workspace(raw, env_key, key_need), named) {
        (Ok((config, warning)), None) => Ok((
            Settings {
                form: Form::Single,
                workspaces: vec![config],
            },
            warning.into_iter().collect(),
        )),
        (Ok(_), Some(named)) => Err(vec![named]),
        (Err(problems), named) => Err(problems.into_iter().chain(named).collect()),
    }
}

/// A `--workspace` that names no workspace of the file, with the names it has.
fn unknown_names(run: &[String], list: &[RawWorkspace]) -> Option<Problem> {
    let known: Vec<&str> = list.iter().filter_map(|w| w.name.as_deref()).collect();
    let unknown = run.iter().find(|n| !known.contains(&n.as_str()))?;
    Some(Problem::new(
        "",
        format!(
            "--workspace={unknown:?} is not a workspace of the configuration (it has {})",
            known.join(", ")
        ),
    ))
}

/// With `workspaces:`, the per-workspace blocks belong to each workspace.
fn top_level_conflicts(raw: &RawConfig) -> Vec<Problem> {
    let given = [
        ("braze", raw.braze.is_some()),
        ("apps", !raw.apps.is_empty()),
        ("segments", !raw.segments.is_empty()),
        ("campaigns", !raw.campaigns.is_empty()),
        ("canvases", !raw.canvases.is_empty()),
        ("export", raw.export.is_some()),
        ("discover", raw.discover.is_some()),
    ];
    given
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(field, _)| {
            Problem::new(
                field,
                "belongs in each entry of workspaces: (the top level keeps refresh and max_series)",
            )
        })
        .collect()
}

/// One workspace as a single-workspace file: its blocks, the shared `refresh` under its own.
fn workspace_raw(entry: RawWorkspace, shared: &RawRefresh, max_series: Option<i64>) -> RawConfig {
    let own = entry.refresh.unwrap_or_default();
    let refresh = RawRefresh {
        interval: own.interval.or_else(|| shared.interval.clone()),
        unit: own.unit.or_else(|| shared.unit.clone()),
        length: own.length.or(shared.length),
        delay: own.delay.or_else(|| shared.delay.clone()),
        stale_after: own.stale_after.or_else(|| shared.stale_after.clone()),
        metrics: own.metrics.or_else(|| shared.metrics.clone()),
        names: own.names.or_else(|| shared.names.clone()),
        products: own.products.or_else(|| shared.products.clone()),
        steps: own.steps.or(shared.steps),
        ids: own.ids.or_else(|| shared.ids.clone()),
    };
    RawConfig {
        braze: entry.braze,
        refresh,
        apps: entry.apps,
        segments: entry.segments,
        campaigns: entry.campaigns,
        canvases: entry.canvases,
        export: entry.export,
        discover: entry.discover,
        max_series,
        workspaces: None,
    }
}

fn workspace_name(name: Option<&str>) -> Result<String, String> {
    let name = name.ok_or("is required: the value of the workspace label")?;
    validate::check_label_name(name)?;
    Ok(name.to_string())
}

fn prefixed(at: &str, problem: Problem) -> Problem {
    let field = match problem.field.is_empty() {
        true => at.to_string(),
        false => format!("{at}.{}", problem.field),
    };
    Problem::new(field, problem.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k";

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("w.yml"), Some(KEY.into()))
    }

    const TWO: &str = "refresh:\n  interval: 2m\n\
        workspaces:\n\
        \x20 - name: eu\n    braze: {url: \"https://rest.fra-01.braze.eu\", time_zone: Europe/Paris, max_requests_per_hour: 500}\n\
        \x20   apps: [{name: ios, id: a1}]\n\
        \x20 - name: us\n    braze: {url: \"https://rest.iad-01.braze.com\"}\n    refresh: {interval: 10m}\n\
        \x20   export: {kpis: {}}\n";

    #[test]
    fn the_list_form_gives_each_workspace_its_own_blocks_and_shared_defaults() {
        let settings = parse(TWO).unwrap();
        assert_eq!(settings.form, Form::List);
        let [eu, us] = &settings.workspaces[..] else {
            panic!("two workspaces")
        };
        assert_eq!(eu.workspace.as_deref(), Some("eu"));
        assert_eq!(eu.braze.max_requests_per_hour, 500);
        assert_eq!(
            eu.refresh.interval,
            std::time::Duration::from_secs(120),
            "shared"
        );
        assert_eq!(eu.series_count(), 2);
        assert_eq!(
            us.refresh.interval,
            std::time::Duration::from_secs(600),
            "its own"
        );
        assert_eq!(us.braze.max_requests_per_hour, 10_000);
        assert_eq!(us.exports[0].export, crate::series::Export::Kpis);
        assert_eq!(settings.series_count(), 2 + 4);
    }

    #[test]
    fn the_single_form_has_no_workspace_label() {
        let settings = parse("braze:\n  url: https://rest.iad-01.braze.com\n").unwrap();
        assert_eq!(settings.form, Form::Single);
        assert_eq!(settings.workspaces.len(), 1);
        assert_eq!(settings.workspaces[0].workspace, None);
    }

    #[test]
    fn problems_name_the_workspace_field_and_value() {
        let bad = "braze:\n  url: https://x.braze.com\nworkspaces:\n\
            \x20 - name: eu\n    braze: {url: \"https://x.braze.com\", max_concurrency: 0}\n\
            \x20 - name: eu\n    braze: {url: \"https://y.braze.com\"}\n\
            \x20 - name: \"b a d\"\n";
        let message = parse(bad).unwrap_err().to_string();
        for expected in [
            "w.yml: braze: belongs in each entry of workspaces:",
            "w.yml: workspaces[0].braze.max_concurrency: must be between 1 and 64, got 0",
            "w.yml: workspaces[1].name: \"eu\" duplicates workspaces[0].name",
            "w.yml: workspaces[2].name: must match [A-Za-z0-9_.-]+, got \"b a d\"",
            "w.yml: workspaces[2].braze: is required",
        ] {
            assert!(
                message.contains(expected),
                "{expected:?} missing from\n{message}"
            );
        }
        assert!(parse("workspaces: []\n")
            .unwrap_err()
            .to_string()
            .contains("workspaces: lists no workspace"));
    }

    /// `TWO` with each workspace's key in a file of `dir`, only `mounted` of them present.
    fn two_with_key_files(dir: &Path, mounted: &[&str], eu_extra: &str) -> std::path::PathBuf {
        for name in mounted {
            std::fs::write(dir.join(name), format!("{name}-key")).unwrap();
        }
        let text = TWO
            .replace(
                "max_requests_per_hour: 500}",
                &format!(
                    "max_requests_per_hour: 500, api_key_file: {}{eu_extra}}}",
                    dir.join("eu").display()
                ),
            )
            .replace(
                "rest.iad-01.braze.com\"}",
                &format!(
                    "rest.iad-01.braze.com\", api_key_file: {}}}",
                    dir.join("us").display()
                ),
            );
        let path = dir.join("w.yml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn names(settings: &Settings) -> Vec<String> {
        settings
            .workspaces
            .iter()
            .filter_map(|w| w.workspace.clone())
            .collect()
    }

    #[test]
    fn a_selection_keeps_the_named_workspaces_and_refuses_unknown_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = two_with_key_files(dir.path(), &["eu", "us"], "");
        let only_us = Settings::load(&path, None, &["us".into()]).unwrap();
        assert_eq!(names(&only_us), ["us"]);
        let all = Settings::load(&path, None, &[]).unwrap();
        assert_eq!(names(&all), ["eu", "us"]);
        let why = Settings::load(&path, None, &["asia".into()])
            .unwrap_err()
            .to_string();
        assert!(
            why.ends_with(
                "--workspace=\"asia\" is not a workspace of the configuration (it has eu, us)"
            ),
            "{why}"
        );
        let single = dir.path().join("single.yml");
        std::fs::write(&single, "braze:\n  url: https://rest.iad-01.braze.com\n").unwrap();
        let why = Settings::load(&single, Some(KEY.into()), &["eu".into()])
            .unwrap_err()
            .to_string();
        assert!(
            why.contains("the configuration has no workspaces: list"),
            "{why}"
        );
    }

    #[test]
    fn a_shard_reads_only_the_key_files_of_the_workspaces_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        // The us shard's pod mounts /run/secrets/braze/us only.
        let path = two_with_key_files(dir.path(), &["us"], "");
        let us = Settings::load(&path, None, &["us".into()]).unwrap();
        assert_eq!(names(&us), ["us"]);
        let (checked, warnings) = Settings::load_for_check(&path, None, &["us".into()]).unwrap();
        assert_eq!(names(&checked), ["us"]);
        assert!(warnings.is_empty(), "nothing about eu's key: {warnings:?}");
        // Running every workspace needs every key.
        let why = Settings::load(&path, None, &[]).unwrap_err().to_string();
        assert!(
            why.contains("workspaces[0].braze.api_key_file: cannot read"),
            "{why}"
        );
    }

    #[test]
    fn a_workspace_not_run_is_still_checked_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = two_with_key_files(
            dir.path(),
            &["us"],
            ", max_concurrency: 0, ca_file: /nonexistent/ca.pem",
        );
        let why = Settings::load(&path, None, &["us".into()])
            .unwrap_err()
            .to_string();
        assert!(
            why.contains("workspaces[0].braze.max_concurrency: must be between 1 and 64, got 0"),
            "{why}"
        );
        // Its files are not read: neither its key nor its CA file.
        assert!(
            !why.contains("api_key_file") && !why.contains("ca_file"),
            "{why}"
        );
    }
}
