//! The series the exporter polls: every (app, segment) pair of the configuration.
//!
//! A series is published with the labels `app_name`, `segment_name` and `unit`. Names are
//! validated to be unique and never `all`, so two series can never share a label set.

use std::fmt;

/// The label value, and the absent request parameter, that stand for "every app" or "every user".
pub const ALL: &str = "all";

/// Braze's bucket size: one point per hour or per day of the company time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Hour,
    Day,
}

impl Unit {
    /// The value of Braze's `unit` parameter and of the `unit` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Day => "day",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a series: a configured app or segment, or the aggregate over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The label value.
    pub name: String,
    /// Braze's API identifier; `None` for the aggregate, whose request leaves the parameter out.
    pub id: Option<String>,
}

impl Scope {
    pub fn all() -> Self {
        Self {
            name: ALL.to_string(),
            id: None,
        }
    }

    pub fn named(name: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            id: Some(id.into()),
        }
    }
}

/// One (app, segment) pair: one Braze request per refresh, one set of gauges.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Series {
    pub app: Scope,
    pub segment: Scope,
}

impl Series {
    pub fn new(app: Scope, segment: Scope) -> Self {
        Self { app, segment }
    }
}

impl fmt::Display for Series {
    /// How a log line names a series: by its labels and, where configured, its Braze ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "app={}", self.app.name)?;
        if let Some(id) = &self.app.id {
            write!(f, " (app_id={id})")?;
        }
        write!(f, " segment={}", self.segment.name)?;
        if let Some(id) = &self.segment.id {
            write!(f, " (segment_id={id})")?;
        }
        Ok(())
    }
}

/// ({all} ∪ apps) × ({all} ∪ segments), aggregates first, in configuration order.
pub fn series_to_poll(apps: &[Scope], segments: &[Scope]) -> Vec<Series> {
    let apps = std::iter::once(Scope::all()).chain(apps.iter().cloned());
    let segments: Vec<Scope> = std::iter::once(Scope::all())
        .chain(segments.iter().cloned())
        .collect();
    apps.flat_map(|app| {
        segments
            .iter()
            .map(move |segment| Series::new(app.clone(), segment.clone()))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_the_product_of_apps_and_segments_with_aggregates() {
        let apps = [Scope::named("ios", "a-1"), Scope::named("web", "a-2")];
        let segments = [Scope::named("paying", "s-1")];
        let series = series_to_poll(&apps, &segments);
        let names: Vec<(String, String)> = series
            .iter()
            .map(|s| (s.app.name.clone(), s.segment.name.clone()))
            .collect();
        let expected = [
            ("all", "all"),
            ("all", "paying"),
            ("ios", "all"),
            ("ios", "paying"),
            ("web", "all"),
            ("web", "paying"),
        ];
        assert_eq!(names, expected.map(|(a, s)| (a.to_string(), s.to_string())));
        assert_eq!(series[0].app.id, None);
        assert_eq!(series[3].segment.id.as_deref(), Some("s-1"));
    }

    #[test]
    fn without_apps_or_segments_polls_only_the_workspace_total() {
        let series = series_to_poll(&[], &[]);
        assert_eq!(series, vec![Series::new(Scope::all(), Scope::all())]);
    }

    #[test]
    fn display_names_the_ids_so_a_wrong_one_is_easy_to_spot() {
        let s = Series::new(Scope::named("ios", "abc"), Scope::all());
        assert_eq!(s.to_string(), "app=ios (app_id=abc) segment=all");
    }
}
