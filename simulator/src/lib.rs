//! An in-process fake of Braze's analytics export endpoints, served over real HTTP.
//!
//! The exporter's `--demo` mode, its tests and its benchmarks talk to this instead of Braze.
//! It serves the data series of sessions, KPIs (`dau`, `mau`, `new_users`, `uninstalls`),
//! custom events, purchases (quantity and revenue) and segment sizes, and the lists of events,
//! products and segments; and messaging analytics: campaigns (`/campaigns/data_series`), Canvases
//! (`/canvas/data_series`) and API sends (`/sends/data_series`), with the lists and details of
//! campaigns and Canvases. It follows Braze's reference pages (see `/work/shared/braze/` and
//! `_docs/_api/endpoints/export/` in braze-inc/braze-docs) and, where they are silent, makes a
//! plausible choice that is written down next to the code that makes it:
//!
//! - [`endpoints`]: the paths, their permissions, fields and rate-limit pools;
//! - [`params`]: what a request may say, and the 400s for what it must not;
//! - [`counts`]: the buckets a series covers and the deterministic value of each;
//! - [`lists`]: what the lists hold, in which order, a page at a time;
//! - [`messaging`]: campaigns, Canvases and sends: their content ([`Campaign`], [`Canvas`],
//!   [`ApiSend`]), channels and fields, numbers, days that keep changing after they end, lists,
//!   details and demo content;
//! - [`faults`]: failures a test injects at run time; [`Simulator::set_api_key`] rotates the
//!   accepted key at run time;
//! - [`rate_limit`]: the fixed windows (an hour; a minute for campaign analytics) behind the
//!   `X-RateLimit-*` headers of each pool;
//! - [`server`]: the hyper server and the order in which a request is judged (401, 403, 429,
//!   400);
//! - [`responses`]: Braze's bodies and headers, and the broken ones faults send.
//!
//! What a test uses as its oracle (every value is a pure function of the configuration, the
//! bucket and the instant it is seen at):
//!
//! - [`value_in_bucket`], [`value_in_partial_bucket`] (and the sessions-only
//!   [`sessions_in_bucket`], [`sessions_in_partial_bucket`]): any [`Series`] of the app analytics;
//! - [`campaign_value`] (with a [`CampaignStat`]: a campaign-level number, or one of a
//!   variation's object on a channel), [`send_value`] (the same of an [`ApiSend`], `None` outside
//!   its 14 days) and [`canvas_value`] (a [`CanvasStat`]: total, variant, step, step message),
//!   for the local day containing a `Zoned`, as seen at a `Timestamp`;
//!   [`campaign_message_fields`] names the numbers of a variation's object, [`Channel::fields`]
//!   and [`Channel::step_fields`] those of a channel; [`DYNAMIC_PUSH_KEYS`] are the keys no
//!   reader may turn into names; [`RESTATEMENT`] is how long revenue and conversions keep
//!   growing after their day;
//! - the demo's identifiers: [`DEMO_APPS`], [`DEMO_SEGMENTS`], [`DEMO_EVENTS`],
//!   [`DEMO_PRODUCTS`], [`DEMO_EMAIL_CAMPAIGN`], [`DEMO_PUSH_CAMPAIGN`], [`DEMO_CANVAS`],
//!   [`DEMO_SEND`], and what discovery should leave out ([`DEMO_LEFT_OUT_CAMPAIGNS`],
//!   [`DEMO_LEFT_OUT_CANVASES`]); [`SimulatorConfig::demo_at`] dates the messaging content
//!   from a test's clock.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use braze_simulator::{Simulator, SimulatorConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let simulator = Simulator::start(SimulatorConfig::demo("demo-key"), listener).await?;
//! println!("Braze is at {}", simulator.url());
//! simulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod clock;
mod counts;
mod ending_at;
mod endpoints;
mod faults;
mod lists;
mod messaging;
mod params;
mod rate_limit;
mod responses;
mod server;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use clock::Clock;
pub use counts::{
    sessions_in_bucket, sessions_in_partial_bucket, value_in_bucket, value_in_partial_bucket, Kpi,
    Series,
};
pub use faults::{Fault, FaultTarget, Faults, UNSUCCESSFUL_VALUE};
pub use messaging::{
    campaign_message_fields, campaign_value, canvas_value, generate_messaging, send_value,
    Activity, ApiSend, Campaign, CampaignStat, Canvas, CanvasStat, CanvasStep, CanvasVariant,
    Channel, Lifecycle, MessagingSize, Variation, VariationForm, VariationKind, CONTROL_GROUP_NAME,
    DEMO_CANVAS, DEMO_EMAIL_CAMPAIGN, DEMO_LEFT_OUT_CAMPAIGNS, DEMO_LEFT_OUT_CANVASES,
    DEMO_MONITORED_TAG, DEMO_PUSH_CAMPAIGN, DEMO_SEND, DYNAMIC_PUSH_KEYS, RESTATEMENT,
    SEND_RETENTION, VARIATION_CONVERSION_FIELDS,
};
pub use server::Simulator;

/// Braze's default budget: 250,000 requests per hour per workspace.
pub const DEFAULT_RATE_LIMIT_PER_HOUR: u64 = 250_000;

/// Braze's separate budget of `/events/list` and `/purchases/product_list`: 1,000 requests per
/// hour per workspace, shared by both.
pub const DEFAULT_LIST_RATE_LIMIT_PER_HOUR: u64 = 1_000;

/// Braze's separate budget of `/campaigns/data_series`: 50,000 requests per minute per
/// workspace.
pub const DEFAULT_CAMPAIGN_RATE_LIMIT_PER_MINUTE: u64 = 50_000;

/// The granularity of a series, as Braze's `unit` parameter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Hour,
    Day,
}

/// How the simulator writes `time` when `unit=hour`.
///
/// Braze documents only "ISO 8601 extended", so the exporter must accept all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeFormat {
    /// `2026-11-28T10:00:00+05:30`: the bucket start with the company time zone's offset.
    Offset,
    /// `2026-11-28T04:30:00Z`: the bucket start as a UTC instant.
    Zulu,
    /// `2026-11-28T10:00:00`: the bucket start's wall-clock time in the company time zone.
    /// On the night a DST change repeats an hour, two buckets carry the same text, as they
    /// would from a Braze that wrote times this way.
    Naive,
}

/// Everything that makes one simulated Braze workspace.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The only REST API key accepted, as `Authorization: Bearer <api_key>`.
    pub api_key: String,
    /// The workspace's company time zone: buckets are aligned to its hours and midnights.
    pub time_zone: TimeZone,
    /// Known app API identifiers; any other `app_id` is a 400.
    pub apps: Vec<String>,
    /// Known segment identifiers, with analytics tracking; any other `segment_id` is a 400.
    /// `/segments/list` lists them in this order (their creation order).
    pub segments: Vec<String>,
    /// Custom event names: `/events/list` lists them, `/events/data_series` takes them as
    /// `event`; any other name is a 400.
    pub events: Vec<String>,
    /// Product ids: `/purchases/product_list` lists them, the purchase series take them as
    /// `product`; any other is a 400.
    pub products: Vec<String>,
    /// Segment id → name for `/segments/list`; a segment without an entry is listed with its id
    /// as its name.
    pub segment_names: HashMap<String, String>,
    /// (id, name) of segments without analytics tracking: listed after [`Self::segments`] with
    /// `analytics_tracking_enabled: false`; a series asked for one is a 400.
    pub untracked_segments: Vec<(String, String)>,
    /// The permissions of [`Self::api_key`], named as Braze names them
    /// (`sessions.data_series`, `kpi.dau.data_series`, `events.list`, …). `None`: every
    /// permission. A request to an endpoint whose permission is missing is a 403.
    pub permissions: Option<HashSet<String>>,
    /// How `time` is written when `unit=hour`.
    pub hourly_time_format: TimeFormat,
    /// Whether the bucket that is still in progress (relative to [`SimulatorConfig::clock`]) is
    /// returned, with a partial count, or left out.
    pub include_in_progress: bool,
    /// `X-RateLimit-Limit`: requests per fixed one-hour window before answering 429, for
    /// every endpoint but the two lists below.
    pub rate_limit_per_hour: u64,
    /// The same for `/events/list` and `/purchases/product_list` together, a separate window.
    pub list_rate_limit_per_hour: u64,
    /// The same for `/campaigns/data_series`, a separate one-minute window.
    pub campaign_rate_limit_per_minute: u64,
    /// Campaigns, in creation order (the order of `/campaigns/list`).
    pub campaigns: Vec<Campaign>,
    /// Canvases, in creation order.
    pub canvases: Vec<Canvas>,
    /// The API sends `/sends/data_series` knows.
    pub sends: Vec<ApiSend>,
    /// How campaign and send analytics name their variations.
    pub variation_form: VariationForm,
    /// Added to every answer with `tokio::time::sleep`, so a paused tokio clock skips it.
    pub latency: Duration,
    /// Where "now" comes from: the end of the default series, in-progress buckets, the
    /// rate-limit window.
    pub clock: Clock,
}

impl SimulatorConfig {
    /// A small workspace for `--demo` and tests: the apps [`DEMO_APPS`], the segments
    /// [`DEMO_SEGMENTS`] (named by [`DEMO_SEGMENT_NAMES`]) and one untracked segment
    /// [`DEMO_UNTRACKED_SEGMENT`], the events [`DEMO_EVENTS`] and the products
    /// [`DEMO_PRODUCTS`], a key with every permission, UTC, [`TimeFormat::Offset`], in-progress
    /// buckets included, Braze's rate limits, no added latency, the system clock; and the
    /// messaging content of [`SimulatorConfig::demo_at`] dated from the system clock's now.
    pub fn demo(api_key: impl Into<String>) -> Self {
        Self::demo_at(api_key, Timestamp::now())
    }

    /// As [`SimulatorConfig::demo`], its messaging content dated from `anchor` (a test's clock):
    /// the campaigns [`DEMO_EMAIL_CAMPAIGN`] (email, two variations, bounces rising since three
    /// days before `anchor`) and [`DEMO_PUSH_CAMPAIGN`] (iOS and Android push, an API campaign
    /// with a control group), the Canvas [`DEMO_CANVAS`] (two variants, five steps: two named
    /// `Reminder`, one deleted), the API send [`DEMO_SEND`] a day before `anchor`, and those
    /// discovery should leave out ([`DEMO_LEFT_OUT_CAMPAIGNS`], [`DEMO_LEFT_OUT_CANVASES`]);
    /// variations by name ([`VariationForm::Name`]).
    pub fn demo_at(api_key: impl Into<String>, anchor: Timestamp) -> Self {
        Self {
            api_key: api_key.into(),
            time_zone: TimeZone::UTC,
            apps: DEMO_APPS.iter().map(|s| s.to_string()).collect(),
            segments: DEMO_SEGMENTS.iter().map(|s| s.to_string()).collect(),
            events: DEMO_EVENTS.iter().map(|s| s.to_string()).collect(),
            products: DEMO_PRODUCTS.iter().map(|s| s.to_string()).collect(),
            segment_names: DEMO_SEGMENTS
                .iter()
                .zip(DEMO_SEGMENT_NAMES)
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .collect(),
            untracked_segments: vec![(
                DEMO_UNTRACKED_SEGMENT.0.to_string(),
                DEMO_UNTRACKED_SEGMENT.1.to_string(),
            )],
            permissions: None,
            hourly_time_format: TimeFormat::Offset,
            include_in_progress: true,
            rate_limit_per_hour: DEFAULT_RATE_LIMIT_PER_HOUR,
            list_rate_limit_per_hour: DEFAULT_LIST_RATE_LIMIT_PER_HOUR,
            campaign_rate_limit_per_minute: DEFAULT_CAMPAIGN_RATE_LIMIT_PER_MINUTE,
            campaigns: messaging::demo_campaigns(anchor),
            canvases: messaging::demo_canvases(anchor),
            sends: messaging::demo_sends(anchor),
            variation_form: VariationForm::Name,
            latency: Duration::ZERO,
            clock: Clock::system(),
        }
    }

    /// The workspace of [`SimulatorConfig::demo`] with generated messaging content instead of
    /// the demo's ([`generate_messaging`]) and no API sends: for benchmarks.
    pub fn messaging(api_key: impl Into<String>, size: MessagingSize) -> Self {
        let (campaigns, canvases) = generate_messaging(size);
        Self {
            campaigns,
            canvases,
            sends: Vec::new(),
            ..Self::demo(api_key)
        }
    }
}

/// The app identifiers of [`SimulatorConfig::demo`].
pub const DEMO_APPS: [&str; 3] = ["demo-app-ios", "demo-app-android", "demo-app-web"];

/// The segment identifiers of [`SimulatorConfig::demo`].
pub const DEMO_SEGMENTS: [&str; 2] = ["demo-seg-paying", "demo-seg-new-users"];

/// The names `/segments/list` gives [`DEMO_SEGMENTS`], in the same order.
pub const DEMO_SEGMENT_NAMES: [&str; 2] = ["Paying users", "New users"];

/// The (id, name) of the segment without analytics tracking of [`SimulatorConfig::demo`].
pub const DEMO_UNTRACKED_SEGMENT: (&str, &str) = ("demo-seg-untracked", "Untracked");

/// The custom event names of [`SimulatorConfig::demo`].
pub const DEMO_EVENTS: [&str; 3] = ["signup", "checkout", "level_up"];

/// The product ids of [`SimulatorConfig::demo`].
pub const DEMO_PRODUCTS: [&str; 2] = ["premium_monthly", "coins_100"];

/// `count` identifiers `"{prefix}-0001"`, `"{prefix}-0002"`, …: `generate_ids("app", 2)` is
/// `["app-0001", "app-0002"]`. Numbers wider than four digits are written in full.
pub fn generate_ids(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}-{n:04}")).collect()
}
