//! The series the exporter polls, and the kinds of Braze series they belong to.
//!
//! Every kind of series that Braze serves from an endpoint of the `/sessions/data_series`
//! shape is one row of [`KINDS`]: its endpoint, the field of `data[]` that holds the value, the
//! filters and units Braze allows, the permission the key needs and the metric it becomes. A
//! new kind is a new row, not new code.
//!
//! A series is one kind with one value for each of the kind's filters (an app, a segment, an
//! event, a product; [`ALL`] where a filter is left out), so two series never share a label set:
//! names are validated to be unique and never `all`.

use std::fmt;
use std::sync::Arc;

/// The label value, and the absent request parameter, that stand for "every app", "every user"
/// or "every product".
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

/// A kind of Braze series: the `kind` label of `braze_up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Sessions,
    Dau,
    Mau,
    NewUsers,
    Uninstalls,
    Events,
    Purchases,
    PurchaseRevenue,
    SegmentSize,
}

/// The `export:` block of the configuration that turns a kind on and sets its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Export {
    Sessions,
    Kpis,
    Events,
    Purchases,
    SegmentSizes,
}

impl Export {
    #[cfg(test)]
    pub const ALL: [Export; 5] = [
        Export::Sessions,
        Export::Kpis,
        Export::Events,
        Export::Purchases,
        Export::SegmentSizes,
    ];

    /// The key under `export:`, and the `export` label of the refresh metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Export::Sessions => "sessions",
            Export::Kpis => "kpis",
            Export::Events => "events",
            Export::Purchases => "purchases",
            Export::SegmentSizes => "segment_sizes",
        }
    }

    /// The units Braze serves this block's kinds in.
    pub fn units(self) -> Units {
        self.kinds().next().map_or(Units::DayOnly, |k| k.units)
    }

    /// The kinds this block exports.
    pub fn kinds(self) -> impl Iterator<Item = &'static KindSpec> {
        KINDS.iter().filter(move |k| k.export == self)
    }
}

/// A filter of a kind: a query parameter of its endpoint and a label of its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `event` (required), label `event`.
    Event,
    /// `product` (absent for every product), label `product`.
    Product,
    /// `app_id` (absent for every app), label `app_name`.
    App,
    /// `segment_id` (absent for every user, required for segment sizes), label `segment_name`.
    Segment,
}

impl Filter {
    pub fn label(self) -> &'static str {
        match self {
            Filter::Event => "event",
            Filter::Product => "product",
            Filter::App => "app_name",
            Filter::Segment => "segment_name",
        }
    }

    pub fn parameter(self) -> &'static str {
        match self {
            Filter::Event => "event",
            Filter::Product => "product",
            Filter::App => "app_id",
            Filter::Segment => "segment_id",
        }
    }
}

/// Which units Braze serves a kind in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// `unit=hour` or `unit=day` (Braze's default).
    HourOrDay,
    /// Days only; the endpoint takes no `unit` parameter.
    DayOnly,
}

/// What a value is: a whole count, or an amount of money with cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Count,
    Amount,
}

/// One row of the kinds table.
#[derive(Debug, PartialEq, Eq)]
pub struct KindSpec {
    pub kind: Kind,
    /// The `kind` label value.
    pub name: &'static str,
    /// The metric of the latest complete bucket; `_bucket_timestamp_seconds`, `_in_progress`
    /// and `_in_progress_bucket_timestamp_seconds` are formed from it.
    pub metric: &'static str,
    pub help: &'static str,
    /// The endpoint, relative to `braze.url`.
    pub path: &'static str,
    /// The field of each `data[]` point that holds the value.
    pub field: &'static str,
    pub value: Value,
    pub units: Units,
    /// The filters, in the order of the metric's labels (then `unit`).
    pub filters: &'static [Filter],
    /// The REST API key permission the endpoint needs.
    pub permission: &'static str,
    pub export: Export,
}

impl Kind {
    /// This kind's row of [`KINDS`].
    pub fn spec(self) -> &'static KindSpec {
        &KINDS[self as usize]
    }
}

/// Every kind, in the order of [`Kind`] (which [`Kind::spec`] relies on).
pub static KINDS: [KindSpec; 9] = [
    KindSpec {
        kind: Kind::Sessions,
        name: "sessions",
        metric: "braze_sessions",
        help: "Sessions in the latest complete bucket (hour or day of the company time zone), from Braze /sessions/data_series.",
        path: "sessions/data_series",
        field: "sessions",
        value: Value::Count,
        units: Units::HourOrDay,
        filters: &[Filter::App, Filter::Segment],
        permission: "sessions.data_series",
        export: Export::Sessions,
    },
    KindSpec {
        kind: Kind::Dau,
        name: "dau",
        metric: "braze_dau",
        help: "Daily active users in the latest complete day of the company time zone, from Braze /kpi/dau/data_series.",
        path: "kpi/dau/data_series",
        field: "dau",
        value: Value::Count,
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.dau.data_series",
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::Mau,
        name: "mau",
        metric: "braze_mau",
        help: "Monthly active users (a 30-day rolling count) on the latest complete day, from Braze /kpi/mau/data_series.",
        path: "kpi/mau/data_series",
        field: "mau",
        value: Value::Count,
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.mau.data_series",
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::NewUsers,
        name: "new_users",
        metric: "braze_new_users",
        help: "New users in the latest complete day of the company time zone, from Braze /kpi/new_users/data_series.",
        path: "kpi/new_users/data_series",
        field: "new_users",
        value: Value::Count,
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.new_users.data_series",
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::Uninstalls,
        name: "uninstalls",
        metric: "braze_uninstalls",
        help: "Uninstalls in the latest complete day of the company time zone, from Braze /kpi/uninstalls/data_series.",
        path: "kpi/uninstalls/data_series",
        field: "uninstalls",
        value: Value::Count,
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.uninstalls.data_series",
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::Events,
        name: "events",
        metric: "braze_events",
        help: "Occurrences of a custom event in the latest complete bucket, from Braze /events/data_series.",
        path: "events/data_series",
        field: "count",
        value: Value::Count,
        units: Units::HourOrDay,
        filters: &[Filter::Event, Filter::App, Filter::Segment],
        permission: "events.data_series",
        export: Export::Events,
    },
    KindSpec {
        kind: Kind::Purchases,
        name: "purchases",
        metric: "braze_purchases",
        help: "Purchases (quantity) in the latest complete bucket, from Braze /purchases/quantity_series; product=\"all\" is every product.",
        path: "purchases/quantity_series",
        field: "purchase_quantity",
        value: Value::Count,
        units: Units::HourOrDay,
        filters: &[Filter::Product, Filter::App],
        permission: "purchases.quantity_series",
        export: Export::Purchases,
    },
    KindSpec {
        kind: Kind::PurchaseRevenue,
        name: "purchase_revenue",
        metric: "braze_purchase_revenue",
        help: "Revenue in the latest complete bucket, in the workspace's currency, from Braze /purchases/revenue_series; product=\"all\" is every product.",
        path: "purchases/revenue_series",
        field: "revenue",
        value: Value::Amount,
        units: Units::HourOrDay,
        filters: &[Filter::Product, Filter::App],
        permission: "purchases.revenue_series",
        export: Export::Purchases,
    },
    KindSpec {
        kind: Kind::SegmentSize,
        name: "segment_size",
        metric: "braze_segment_size",
        help: "Users in the segment on the latest complete day, from Braze /segments/data_series.",
        path: "segments/data_series",
        field: "size",
        value: Value::Count,
        units: Units::DayOnly,
        filters: &[Filter::Segment],
        permission: "segments.data_series",
        export: Export::SegmentSizes,
    },
];

/// One side of a series: a configured or discovered app, segment or product, or the aggregate
/// over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// One series: one Braze request per refresh, one set of gauges.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Series {
    pub kind: Kind,
    /// The value of each of the kind's filters, in the order of its `filters`. Shared: an app
    /// is a scope of every series of that app (at 10,000 series, sharing them took the
    /// exporter's anonymous memory from 11.6 to 8.7 MB, BENCHMARKS.md).
    pub scopes: Box<[Arc<Scope>]>,
}

impl Series {
    #[cfg(test)]
    pub fn new(kind: Kind, scopes: Vec<Scope>) -> Self {
        Self::shared(kind, scopes.into_iter().map(Arc::new).collect())
    }

    fn shared(kind: Kind, scopes: Box<[Arc<Scope>]>) -> Self {
        debug_assert_eq!(scopes.len(), kind.spec().filters.len());
        Self { kind, scopes }
    }

    /// A sessions series, as the first release polled them.
    #[cfg(test)]
    pub fn sessions(app: Scope, segment: Scope) -> Self {
        Self::new(Kind::Sessions, vec![app, segment])
    }

    /// The filters with their values, in label order.
    pub fn filters(&self) -> impl Iterator<Item = (Filter, &Scope)> {
        let scopes = self.scopes.iter().map(|s| &**s);
        self.kind.spec().filters.iter().copied().zip(scopes)
    }

    /// The value of `filter`, if the kind has it.
    #[cfg(test)]
    pub fn scope(&self, filter: Filter) -> Option<&Scope> {
        self.filters().find(|(f, _)| *f == filter).map(|(_, s)| s)
    }
}

impl fmt::Display for Series {
    /// How a log line names a series (beside its kind): its labels and, where configured,
    /// Braze's ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (filter, scope)) in self.filters().enumerate() {
            let space = if i == 0 { "" } else { " " };
            write!(f, "{space}{}={}", filter_word(filter), scope.name)?;
            if let (Some(id), Filter::App | Filter::Segment) = (&scope.id, filter) {
                write!(f, " ({}={id})", filter.parameter())?;
            }
        }
        Ok(())
    }
}

fn filter_word(filter: Filter) -> &'static str {
    match filter {
        Filter::App => "app",
        Filter::Segment => "segment",
        other => other.label(),
    }
}

/// The lists a kind's series are formed from: configured ones and discovered ones, merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lists {
    pub apps: Vec<Scope>,
    pub segments: Vec<Scope>,
    /// Event names: label value and `event` parameter alike.
    pub events: Vec<String>,
    /// Product ids, without the aggregate.
    pub products: Vec<String>,
}

/// Every series of `kind` over `lists`, aggregates first, in list order.
#[cfg(any(test, feature = "fuzzing"))]
pub fn series_of(kind: Kind, lists: &Lists) -> Vec<Series> {
    series_iter(kind, lists).collect()
}

/// As [`series_of`], made one at a time, so that a plan makes only the first `max_series` of a
/// product that may count billions (1,000 apps × 1,000 segments × 1,000 events): the first
/// filter varies slowest.
pub fn series_iter(kind: Kind, lists: &Lists) -> impl Iterator<Item = Series> {
    let options: Vec<Vec<Arc<Scope>>> = kind
        .spec()
        .filters
        .iter()
        .map(|filter| values(kind, *filter, lists))
        .collect();
    let mut next = (!options.iter().any(Vec::is_empty)).then(|| vec![0; options.len()]);
    std::iter::from_fn(move || {
        let at = next.take()?;
        let scopes = at
            .iter()
            .zip(&options)
            .map(|(i, o)| o[*i].clone())
            .collect();
        next = following(at, &options);
        Some(Series::shared(kind, scopes))
    })
}

/// How many series [`series_of`] makes, without making them (saturating).
pub fn series_count(kind: Kind, lists: &Lists) -> usize {
    kind.spec()
        .filters
        .iter()
        .map(|filter| values(kind, *filter, lists).len())
        .fold(1, usize::saturating_mul)
}

/// The indices after `at`, the last filter turning fastest; `None` after the last series.
fn following(mut at: Vec<usize>, options: &[Vec<Arc<Scope>>]) -> Option<Vec<usize>> {
    for i in (0..at.len()).rev() {
        at[i] += 1;
        if at[i] < options[i].len() {
            return Some(at);
        }
        at[i] = 0;
    }
    None
}

/// The values one filter of `kind` takes over `lists`.
fn values(kind: Kind, filter: Filter, lists: &Lists) -> Vec<Arc<Scope>> {
    let scopes = match filter {
        Filter::App => with_all(&lists.apps),
        Filter::Segment if kind == Kind::SegmentSize => lists.segments.clone(),
        Filter::Segment => with_all(&lists.segments),
        Filter::Event => lists
            .events
            .iter()
            .map(|e| Scope::named(e.clone(), e.clone()))
            .collect(),
        Filter::Product => std::iter::once(Scope::all())
            .chain(
                lists
                    .products
                    .iter()
                    .map(|p| Scope::named(p.clone(), p.clone())),
            )
            .collect(),
    };
    scopes.into_iter().map(Arc::new).collect()
}

/// Configured segments, then discovered ones (labelled with Braze's name) that are not the same
/// segment. A discovered name already taken, by a configured segment or by another Braze
/// segment of the same name with a smaller id, is labelled `name (id)` instead: configured
/// names win, and the rule does not depend on the order Braze lists them in. Returns the
/// segments and the labels so renamed, for the log.
pub fn merge_segments(configured: &[Scope], discovered: &[Scope]) -> (Vec<Scope>, Vec<String>) {
    let mut merged = configured.to_vec();
    let mut renamed = Vec::new();
    let mut found: Vec<&Scope> = discovered
        .iter()
        .filter(|d| !configured.iter().any(|c| c.id == d.id))
        .collect();
    found.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    found.dedup_by(|a, b| a.id == b.id);
    for segment in found {
        let taken = merged.iter().any(|m| m.name == segment.name);
        let name = match (taken, &segment.id) {
            (true, Some(id)) => {
                let name = format!("{} ({id})", segment.name);
                renamed.push(name.clone());
                name
            }
            _ => segment.name.clone(),
        };
        merged.push(Scope {
            name,
            id: segment.id.clone(),
        });
    }
    (merged, renamed)
}

fn with_all(scopes: &[Scope]) -> Vec<Scope> {
    std::iter::once(Scope::all())
        .chain(scopes.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Lists {
        Lists {
            apps: vec![Scope::named("ios", "a-1"), Scope::named("web", "a-2")],
            segments: vec![Scope::named("paying", "s-1")],
            events: vec!["signup".into()],
            products: vec!["premium".into()],
        }
    }

    fn names(series: &[Series]) -> Vec<Vec<&str>> {
        series
            .iter()
            .map(|s| s.scopes.iter().map(|x| x.name.as_str()).collect())
            .collect()
    }

    #[test]
    fn the_table_is_in_the_order_of_kind() {
        for (i, spec) in KINDS.iter().enumerate() {
            assert_eq!(spec.kind as usize, i, "{}", spec.name);
            assert_eq!(spec.kind.spec(), spec);
        }
    }

    #[test]
    fn sessions_are_the_product_of_apps_and_segments_with_aggregates() {
        let series = series_of(Kind::Sessions, &lists());
        assert_eq!(
            names(&series),
            [
                ["all", "all"],
                ["all", "paying"],
                ["ios", "all"],
                ["ios", "paying"],
                ["web", "all"],
                ["web", "paying"]
            ]
        );
        assert_eq!(series[0].scope(Filter::App).unwrap().id, None);
        assert_eq!(
            series[3].scope(Filter::Segment).unwrap().id.as_deref(),
            Some("s-1")
        );
    }

    #[test]
    fn each_kind_has_its_own_filters() {
        let l = lists();
        assert_eq!(
            names(&series_of(Kind::Dau, &l)),
            [["all"], ["ios"], ["web"]]
        );
        assert_eq!(names(&series_of(Kind::SegmentSize, &l)), [["paying"]]);
        assert_eq!(
            names(&series_of(Kind::Purchases, &l))[..3],
            [["all", "all"], ["all", "ios"], ["all", "web"]]
        );
        assert_eq!(series_of(Kind::Purchases, &l).len(), 6);
        assert_eq!(series_of(Kind::Events, &l).len(), 6);
        assert!(series_of(Kind::Events, &Lists::default()).is_empty());
    }

    #[test]
    fn discovered_segments_take_braze_names_and_configured_names_win() {
        let configured = [Scope::named("paying", "s-1")];
        let discovered = [
            Scope::named("vip", "s-9"),
            Scope::named("paying", "s-1"), // the configured segment itself
            Scope::named("paying", "s-2"), // another segment named like a configured one
            Scope::named("vip", "s-3"),    // two Braze segments of one name
        ];
        let (merged, renamed) = merge_segments(&configured, &discovered);
        let labels: Vec<&str> = merged.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(labels, ["paying", "paying (s-2)", "vip", "vip (s-9)"]);
        assert_eq!(renamed, ["paying (s-2)", "vip (s-9)"]);
        let mut reversed = discovered;
        reversed.reverse();
        assert_eq!(
            merge_segments(&configured, &reversed).0,
            merged,
            "order-free"
        );
    }

    #[test]
    fn display_names_the_ids_so_a_wrong_one_is_easy_to_spot() {
        let s = Series::sessions(Scope::named("ios", "abc"), Scope::all());
        assert_eq!(s.to_string(), "app=ios (app_id=abc) segment=all");
        let e = &series_of(Kind::Events, &lists())[0];
        assert_eq!(e.to_string(), "event=signup app=all segment=all");
    }
}
