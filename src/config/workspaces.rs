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
    /// Reads and checks the file at `path`; keys come from the files named or `env_key`.
    pub fn load(path: &Path, env_key: Option<String>) -> Result<Settings, ConfigError> {
        Self::read(path, env_key, KeyNeed::Required).map(|(settings, _)| settings)
    }

    /// As [`Settings::load`], for `--config.check`: a key that cannot be read (its Secret is
    /// mounted only where the exporter runs) is returned as a warning, not an error.
    pub fn load_for_check(
        path: &Path,
        env_key: Option<String>,
    ) -> Result<(Settings, Vec<Problem>), ConfigError> {
        Self::read(path, env_key, KeyNeed::WarnIfUnreadable)
    }

    /// Checks `text` as if read from `origin` (named in errors).
    pub fn parse(
        text: &str,
        origin: &Path,
        env_key: Option<String>,
    ) -> Result<Settings, ConfigError> {
        Self::check_text(text, origin, env_key, KeyNeed::Required).map(|(settings, _)| settings)
    }

    /// Only the named workspaces (`--workspace`, repeatable); all when `names` is empty.
    pub fn select(self, names: &[String]) -> Result<Settings, String> {
        if names.is_empty() {
            return Ok(self);
        }
        let known: Vec<&str> = self
            .workspaces
            .iter()
            .filter_map(|w| w.workspace.as_deref())
            .collect();
        if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
            return Err(match self.form {
                Form::Single => {
                    format!("--workspace={unknown:?}: the configuration has no workspaces: list")
                }
                Form::List => format!(
                    "--workspace={unknown:?} is not a workspace of the configuration (it has {})",
                    known.join(", ")
                ),
            });
        }
        let workspaces = self
            .workspaces
            .into_iter()
            .filter(|w| w.workspace.as_ref().is_some_and(|n| names.contains(n)))
            .collect();
        Ok(Settings {
            form: self.form,
            workspaces,
        })
    }

    /// Series of every workspace, configured ones (without discovery).
    pub fn series_count(&self) -> usize {
        self.workspaces.iter().map(Config::series_count).sum()
    }

    fn read(
        path: &Path,
        env_key: Option<String>,
        key_need: KeyNeed,
    ) -> Result<(Settings, Vec<Problem>), ConfigError> {
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
    ) -> Result<(Settings, Vec<Problem>), ConfigError> {
        let error = |problems| ConfigError {
            origin: origin.to_path_buf(),
            problems,
        };
        let raw = raw::parse(text).map_err(|e| error(vec![Problem::new("", e)]))?;
        check(raw, env_key, key_need).map_err(error)
    }
}

/// Checks either form, collecting every problem (a workspace's under `workspaces[i].`).
fn check(
    mut raw: RawConfig,
    env_key: Option<String>,
    key_need: KeyNeed,
) -> Result<(Settings, Vec<Problem>), Vec<Problem>> {
    let Some(list) = raw.workspaces.take() else {
        let (config, warning) = assemble::workspace(raw, env_key, key_need)?;
        return Ok((
            Settings {
                form: Form::Single,
                workspaces: vec![config],
            },
            warning.into_iter().collect(),
        ));
    };
    let mut problems = top_level_conflicts(&raw);
    if list.is_empty() {
        problems.push(Problem::new("workspaces", "lists no workspace"));
    }
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
        let one = workspace_raw(entry, &raw.refresh, raw.max_series);
        match assemble::workspace(one, env_key.clone(), key_need) {
            Ok((mut config, warning)) => {
                config.workspace = name;
                warnings.extend(warning.map(|w| prefixed(&at, w)));
                workspaces.push(config);
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

    #[test]
    fn select_keeps_the_named_workspaces_and_refuses_unknown_names() {
        let names = |s: &Settings| -> Vec<String> {
            s.workspaces
                .iter()
                .filter_map(|w| w.workspace.clone())
                .collect()
        };
        let only_us = parse(TWO).unwrap().select(&["us".into()]).unwrap();
        assert_eq!(names(&only_us), ["us"]);
        let all = parse(TWO).unwrap().select(&[]).unwrap();
        assert_eq!(names(&all), ["eu", "us"]);
        let why = parse(TWO).unwrap().select(&["asia".into()]).unwrap_err();
        assert_eq!(
            why,
            "--workspace=\"asia\" is not a workspace of the configuration (it has eu, us)"
        );
    }
}
