//! The series the exporter polls, and the kinds of Braze series they belong to.
//!
//! Every kind of series is one row of [`KINDS`]: its endpoint, the [`Shape`] of its answer
//! (which says how the answer becomes samples), the filters and units Braze allows, the
//! permission the key needs, the rate-limit [`Pool`] it draws on and the metrics it becomes.
//! A new kind is a new row, not new code; a field Braze adds to a messaging answer is a new row
//! of a field table ([`MESSAGE_FIELDS`]…).
//!
//! A series is one kind with one value for each of the kind's filters (an app, a segment, an
//! event, a product; [`ALL`] where a filter is left out), so two series never share a label set:
//! names are validated to be unique and never `all`.

mod fields;

use std::fmt;
use std::sync::Arc;

pub use fields::{
    families, Families, CAMPAIGN_FIELDS, CANVAS_FIELDS, CANVAS_STEP_FIELDS, MESSAGE_FIELDS,
    SEND_FIELDS,
};

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
    Campaign,
    Canvas,
    Send,
}

/// The `export:` block of the configuration that turns a kind on and sets its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Export {
    Sessions,
    Kpis,
    Events,
    Purchases,
    SegmentSizes,
    Campaigns,
    Canvases,
    Sends,
}

impl Export {
    #[cfg(test)]
    pub const ALL: [Export; 8] = [
        Export::Sessions,
        Export::Kpis,
        Export::Events,
        Export::Purchases,
        Export::SegmentSizes,
        Export::Campaigns,
        Export::Canvases,
        Export::Sends,
    ];

    /// The key under `export:`, and the `export` label of the refresh metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Export::Sessions => "sessions",
            Export::Kpis => "kpis",
            Export::Events => "events",
            Export::Purchases => "purchases",
            Export::SegmentSizes => "segment_sizes",
            Export::Campaigns => "campaigns",
            Export::Canvases => "canvases",
            Export::Sends => "sends",
        }
    }

    /// The rate limit this block's endpoint draws on.
    pub fn pool(self) -> Pool {
        self.kinds().next().map_or(Pool::Shared, |k| k.pool)
    }

    /// The units Braze serves this block's kinds in.
    pub fn units(self) -> Units {
        self.kinds().next().map_or(Units::DayOnly, |k| k.units)
    }

    /// Braze's largest `length` for the block's endpoint: 14 days for Canvases, else 100.
    pub fn max_length(self) -> u32 {
        match self {
            Export::Canvases => 14,
            _ => 100,
        }
    }

    /// The `length` of a messaging block that sets none (the others take `refresh.length`):
    /// the last week, since Braze keeps restating days after they end (conversions are
    /// attributed back to the send; email unique opens and clicks are tracked over 7 days).
    /// One request costs the same whatever its length, and the live gauges then show each day
    /// as Braze restates it now.
    pub fn default_length(self) -> Option<u32> {
        match self {
            Export::Campaigns | Export::Canvases | Export::Sends => Some(7),
            _ => None,
        }
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
    /// `campaign_id` (required), label `campaign`.
    Campaign,
    /// `canvas_id` (required), label `canvas`.
    Canvas,
    /// `send_id` (required, with its campaign), label `send_id`.
    SendId,
}

impl Filter {
    pub fn label(self) -> &'static str {
        match self {
            Filter::Event => "event",
            Filter::Product => "product",
            Filter::App => "app_name",
            Filter::Segment => "segment_name",
            Filter::Campaign => "campaign",
            Filter::Canvas => "canvas",
            Filter::SendId => "send_id",
        }
    }

    pub fn parameter(self) -> &'static str {
        match self {
            Filter::Event => "event",
            Filter::Product => "product",
            Filter::App => "app_id",
            Filter::Segment => "segment_id",
            Filter::Campaign => "campaign_id",
            Filter::Canvas => "canvas_id",
            Filter::SendId => "send_id",
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

/// Braze's separate rate limits of one workspace: a 429 or an exhausted
/// `X-RateLimit-Remaining` in one says nothing of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pool {
    /// 250,000 requests an hour by default: every endpoint not below.
    Shared,
    /// 1,000 an hour: `/events/list` and `/purchases/product_list`.
    Lists,
    /// 50,000 a minute: `/campaigns/data_series`.
    CampaignAnalytics,
}

impl Pool {
    pub const ALL: [Pool; 3] = [Pool::Shared, Pool::Lists, Pool::CampaignAnalytics];

    /// The `pool` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Shared => "shared",
            Pool::Lists => "lists",
            Pool::CampaignAnalytics => "campaign_analytics",
        }
    }
}

/// How an answer becomes samples: the shapes of Braze's data-series bodies.
#[derive(Debug, PartialEq)]
pub enum Shape {
    /// `{"data": [{"time": …, "<field>": n}]}`: one value a point, the kind's only metric.
    Field { field: &'static str, value: Value },
    /// `{"data": [{"time": …, <the day's fields>, "messages": {"<channel>": [{…}, …]}}]}`
    /// (campaigns, sends): level 0 is the day's own fields, level 1 those of each variation's
    /// object, labelled `channel` and `variation`.
    Messages(&'static [Level; 2]),
    /// `{"data": {"stats": [{"time": …, "total_stats": {…}, "variant_stats": {id: {…}},
    /// "step_stats": {id: {…, "messages": {"<channel>": [{…}]}}}}]}}` (Canvases): level 0 is
    /// the fields of the total (`variant="all"`) and of each variant, level 1 of each step
    /// (`step`), level 2 of each step's messages (`step`, `channel`).
    CanvasStats(&'static [Level; 3]),
}

/// One level of a messaging answer: the fields it carries and the prefix of their metrics
/// (after the kind's `metric` and an underscore).
#[derive(Debug, PartialEq)]
pub struct Level {
    pub prefix: &'static str,
    pub fields: &'static [FieldSpec],
}

/// A number Braze's answer carries under `field`, and the metric it becomes.
#[derive(Debug, PartialEq)]
pub struct FieldSpec {
    /// Braze's key; `{n}` in it stands for a conversion event's number: `conversions{n}`
    /// is `conversions` (event A), `conversions1` (B), `conversions2` (C), `conversions3` (D),
    /// one metric told apart by the `conversion_event` label.
    pub field: &'static str,
    /// The metric's name after the level's prefix.
    pub metric: &'static str,
    pub value: Value,
    pub help: &'static str,
}

/// The number of each conversion event in Braze's keys, with its `conversion_event` label.
const CONVERSION_EVENTS: [(&str, &str); 4] = [("", "A"), ("1", "B"), ("2", "C"), ("3", "D")];

impl FieldSpec {
    /// Whether `key` is this field: `Some(None)` for a plain field, `Some(Some(event))` for a
    /// conversion event's field, `None` for another key.
    pub fn matches(&self, key: &str) -> Option<Option<&'static str>> {
        let Some((before, after)) = self.field.split_once("{n}") else {
            return (key == self.field).then_some(None);
        };
        let number = key.strip_prefix(before)?.strip_suffix(after)?;
        CONVERSION_EVENTS
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, event)| Some(*event))
    }
}

/// One row of the kinds table.
#[derive(Debug, PartialEq)]
pub struct KindSpec {
    pub kind: Kind,
    /// The `kind` label value.
    pub name: &'static str,
    /// The metric of the latest complete bucket (for messaging kinds, the prefix of their
    /// metrics); `_bucket_timestamp_seconds`, `_in_progress` and
    /// `_in_progress_bucket_timestamp_seconds` are formed from it.
    pub metric: &'static str,
    pub help: &'static str,
    /// The endpoint, relative to `braze.url`.
    pub path: &'static str,
    /// How an answer becomes samples.
    pub shape: Shape,
    pub units: Units,
    /// The filters, in the order of the metric's labels (then `unit`, where the kind has it).
    pub filters: &'static [Filter],
    /// The REST API key permission the endpoint needs.
    pub permission: &'static str,
    pub export: Export,
    /// The rate limit the endpoint draws on.
    pub pool: Pool,
    /// Whether the series carry a `unit` label: the kinds from before messaging do; messaging
    /// is daily only, and its metrics are named without it.
    pub unit_label: bool,
}

impl KindSpec {
    /// Whether every request must send `ending_at`: Braze documents the Canvas endpoint's as
    /// both required and defaulting to now, so it is always sent there.
    pub fn requires_ending_at(&self) -> bool {
        matches!(self.shape, Shape::CanvasStats(_))
    }

    /// The breakdown parameters of the kind's requests: a Canvas is asked for its variants,
    /// and for its steps when `steps` (deleted steps never: Braze's default leaves them out).
    pub fn breakdowns(&self, steps: bool) -> &'static [(&'static str, &'static str)] {
        match (&self.shape, steps) {
            (Shape::CanvasStats(_), false) => &[("include_variant_breakdown", "true")],
            (Shape::CanvasStats(_), true) => &[
                ("include_variant_breakdown", "true"),
                ("include_step_breakdown", "true"),
            ],
            _ => &[],
        }
    }
}

impl Kind {
    /// This kind's row of [`KINDS`].
    pub fn spec(self) -> &'static KindSpec {
        &KINDS[self as usize]
    }
}

/// Every kind, in the order of [`Kind`] (which [`Kind::spec`] relies on).
pub static KINDS: [KindSpec; 12] = [
    KindSpec {
        kind: Kind::Sessions,
        name: "sessions",
        metric: "braze_sessions",
        help: "Sessions in the latest complete bucket (hour or day of the company time zone), from Braze /sessions/data_series.",
        path: "sessions/data_series",
        shape: Shape::Field {
            field: "sessions",
            value: Value::Count,
        },
        units: Units::HourOrDay,
        filters: &[Filter::App, Filter::Segment],
        permission: "sessions.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Sessions,
    },
    KindSpec {
        kind: Kind::Dau,
        name: "dau",
        metric: "braze_dau",
        help: "Daily active users in the latest complete day of the company time zone, from Braze /kpi/dau/data_series.",
        path: "kpi/dau/data_series",
        shape: Shape::Field {
            field: "dau",
            value: Value::Count,
        },
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.dau.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::Mau,
        name: "mau",
        metric: "braze_mau",
        help: "Monthly active users (a 30-day rolling count) on the latest complete day, from Braze /kpi/mau/data_series.",
        path: "kpi/mau/data_series",
        shape: Shape::Field {
            field: "mau",
            value: Value::Count,
        },
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.mau.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::NewUsers,
        name: "new_users",
        metric: "braze_new_users",
        help: "New users in the latest complete day of the company time zone, from Braze /kpi/new_users/data_series.",
        path: "kpi/new_users/data_series",
        shape: Shape::Field {
            field: "new_users",
            value: Value::Count,
        },
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.new_users.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::Uninstalls,
        name: "uninstalls",
        metric: "braze_uninstalls",
        help: "Uninstalls in the latest complete day of the company time zone, from Braze /kpi/uninstalls/data_series.",
        path: "kpi/uninstalls/data_series",
        shape: Shape::Field {
            field: "uninstalls",
            value: Value::Count,
        },
        units: Units::DayOnly,
        filters: &[Filter::App],
        permission: "kpi.uninstalls.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Kpis,
    },
    KindSpec {
        kind: Kind::Events,
        name: "events",
        metric: "braze_events",
        help: "Occurrences of a custom event in the latest complete bucket, from Braze /events/data_series.",
        path: "events/data_series",
        shape: Shape::Field {
            field: "count",
            value: Value::Count,
        },
        units: Units::HourOrDay,
        filters: &[Filter::Event, Filter::App, Filter::Segment],
        permission: "events.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Events,
    },
    KindSpec {
        kind: Kind::Purchases,
        name: "purchases",
        metric: "braze_purchases",
        help: "Purchases (quantity) in the latest complete bucket, from Braze /purchases/quantity_series; product=\"all\" is every product.",
        path: "purchases/quantity_series",
        shape: Shape::Field {
            field: "purchase_quantity",
            value: Value::Count,
        },
        units: Units::HourOrDay,
        filters: &[Filter::Product, Filter::App],
        permission: "purchases.quantity_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Purchases,
    },
    KindSpec {
        kind: Kind::PurchaseRevenue,
        name: "purchase_revenue",
        metric: "braze_purchase_revenue",
        help: "Revenue in the latest complete bucket, in the workspace's currency, from Braze /purchases/revenue_series; product=\"all\" is every product.",
        path: "purchases/revenue_series",
        shape: Shape::Field {
            field: "revenue",
            value: Value::Amount,
        },
        units: Units::HourOrDay,
        filters: &[Filter::Product, Filter::App],
        permission: "purchases.revenue_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::Purchases,
    },
    KindSpec {
        kind: Kind::SegmentSize,
        name: "segment_size",
        metric: "braze_segment_size",
        help: "Users in the segment on the latest complete day, from Braze /segments/data_series.",
        path: "segments/data_series",
        shape: Shape::Field {
            field: "size",
            value: Value::Count,
        },
        units: Units::DayOnly,
        filters: &[Filter::Segment],
        permission: "segments.data_series",
        pool: Pool::Shared,
        unit_label: true,
        export: Export::SegmentSizes,
    },
    KindSpec {
        kind: Kind::Campaign,
        name: "campaign",
        metric: "braze_campaign",
        help: "Campaign analytics of the latest complete day of the company time zone, from Braze /campaigns/data_series.",
        path: "campaigns/data_series",
        shape: Shape::Messages(&[
            Level {
                prefix: "",
                fields: &CAMPAIGN_FIELDS,
            },
            Level {
                prefix: "message_",
                fields: &MESSAGE_FIELDS,
            },
        ]),
        units: Units::DayOnly,
        filters: &[Filter::Campaign],
        permission: "campaigns.data_series",
        export: Export::Campaigns,
        pool: Pool::CampaignAnalytics,
        unit_label: false,
    },
    KindSpec {
        kind: Kind::Canvas,
        name: "canvas",
        metric: "braze_canvas",
        help: "Canvas analytics of the latest complete day of the company time zone, from Braze /canvas/data_series.",
        path: "canvas/data_series",
        shape: Shape::CanvasStats(&[
            Level {
                prefix: "",
                fields: &CANVAS_FIELDS,
            },
            Level {
                prefix: "step_",
                fields: CANVAS_STEP_FIELDS,
            },
            Level {
                prefix: "step_message_",
                fields: &MESSAGE_FIELDS,
            },
        ]),
        units: Units::DayOnly,
        filters: &[Filter::Canvas],
        permission: "canvas.data_series",
        export: Export::Canvases,
        pool: Pool::Shared,
        unit_label: false,
    },
    KindSpec {
        kind: Kind::Send,
        name: "send",
        metric: "braze_send",
        help: "API send analytics of the latest complete day of the company time zone, from Braze /sends/data_series.",
        path: "sends/data_series",
        shape: Shape::Messages(&[
            Level {
                prefix: "",
                fields: SEND_FIELDS,
            },
            Level {
                prefix: "message_",
                fields: &MESSAGE_FIELDS,
            },
        ]),
        units: Units::DayOnly,
        filters: &[Filter::Campaign, Filter::SendId],
        permission: "sends.data_series",
        export: Export::Sends,
        pool: Pool::Shared,
        unit_label: false,
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
            let configured = matches!(
                filter,
                Filter::App | Filter::Segment | Filter::Campaign | Filter::Canvas
            );
            if let (Some(id), true) = (&scope.id, configured) {
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
    pub campaigns: Vec<Scope>,
    pub canvases: Vec<Scope>,
    /// API sends: the campaign (a configured one) and the send id.
    pub sends: Vec<(Scope, String)>,
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
    let sends = match kind {
        Kind::Send => lists.sends.clone(),
        _ => Vec::new(),
    };
    std::iter::from_fn(move || {
        let at = next.take()?;
        let scopes: Box<[Arc<Scope>]> = at
            .iter()
            .zip(&options)
            .map(|(i, o)| o[*i].clone())
            .collect();
        next = following(at, &options);
        Some(Series::shared(kind, scopes))
    })
    .filter(move |series| is_configured(series, &sends))
}

/// How many series [`series_of`] makes, without making them (saturating).
pub fn series_count(kind: Kind, lists: &Lists) -> usize {
    if kind == Kind::Send {
        return lists.sends.len();
    }
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

/// The values one filter of `kind` takes over `lists`. A send's campaign and send id are
/// each listed once here; [`series_iter`] keeps only the configured pairs of them.
fn values(kind: Kind, filter: Filter, lists: &Lists) -> Vec<Arc<Scope>> {
    let named = |values: &mut dyn Iterator<Item = &String>| -> Vec<Scope> {
        values.map(|v| Scope::named(v.clone(), v.clone())).collect()
    };
    let scopes = match filter {
        Filter::App => with_all(&lists.apps),
        Filter::Segment if kind == Kind::SegmentSize => lists.segments.clone(),
        Filter::Segment => with_all(&lists.segments),
        Filter::Event => named(&mut lists.events.iter()),
        Filter::Product => with_all(&named(&mut lists.products.iter())),
        Filter::Campaign if kind == Kind::Send => {
            first_of_each(lists.sends.iter().map(|(campaign, _)| campaign.clone()))
        }
        Filter::Campaign => lists.campaigns.clone(),
        Filter::Canvas => lists.canvases.clone(),
        Filter::SendId => first_of_each(
            lists
                .sends
                .iter()
                .map(|(_, send)| Scope::named(send.clone(), send.clone())),
        ),
    };
    scopes.into_iter().map(Arc::new).collect()
}

/// Each value once, in the order of its first appearance.
fn first_of_each(values: impl Iterator<Item = Scope>) -> Vec<Scope> {
    let mut out: Vec<Scope> = Vec::new();
    for value in values {
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Whether `series` is one of the configured pairs of campaign and send id `sends`, for a
/// send; every combination of its filters' values is a series of the other kinds.
fn is_configured(series: &Series, sends: &[(Scope, String)]) -> bool {
    match (series.kind, &series.scopes[..]) {
        (Kind::Send, [campaign, send]) => sends
            .iter()
            .any(|(c, s)| c == &**campaign && Some(s) == send.id.as_ref()),
        _ => true,
    }
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
            campaigns: vec![Scope::named("onboarding", "c-1")],
            canvases: vec![Scope::named("welcome", "v-1")],
            sends: vec![
                (Scope::named("txn", "c-2"), "order".into()),
                (Scope::named("onboarding", "c-1"), "day1".into()),
                (Scope::named("txn", "c-2"), "refund".into()),
            ],
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
        assert_eq!(names(&series_of(Kind::Campaign, &l)), [["onboarding"]]);
        assert_eq!(names(&series_of(Kind::Canvas, &l)), [["welcome"]]);
    }

    #[test]
    fn a_conversion_field_matches_each_events_key() {
        let field = &CAMPAIGN_FIELDS[3];
        assert_eq!(field.field, "conversions{n}_by_send_time");
        assert_eq!(field.matches("conversions_by_send_time"), Some(Some("A")));
        assert_eq!(field.matches("conversions3_by_send_time"), Some(Some("D")));
        for other in [
            "conversions4_by_send_time",
            "conversions_by_send",
            "conversions",
        ] {
            assert_eq!(field.matches(other), None, "{other}");
        }
        assert_eq!(CAMPAIGN_FIELDS[0].matches("unique_recipients"), Some(None));
        assert_eq!(CAMPAIGN_FIELDS[0].matches("unique_recipients1"), None);
    }

    #[test]
    fn a_send_goes_with_its_own_campaign_only() {
        let sends = series_of(Kind::Send, &lists());
        assert_eq!(
            names(&sends),
            [["txn", "order"], ["txn", "refund"], ["onboarding", "day1"]]
        );
        assert_eq!(
            sends[0].to_string(),
            "campaign=txn (campaign_id=c-2) send_id=order"
        );
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
