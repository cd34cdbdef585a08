//! What a simulated workspace sends: campaigns with their variations, Canvases with their
//! variants and steps, and API sends.

use jiff::Timestamp;

use super::Channel;

/// One campaign, as `/campaigns/list`, `/campaigns/details` and `/campaigns/data_series` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// The campaign API identifier (`campaign_id`).
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    /// The channels it sends on: the keys of `messages` in its analytics.
    pub channels: Vec<Channel>,
    /// Its variations, a control group among them if it has one.
    pub variations: Vec<Variation>,
    /// The custom events of its conversion events A, B, C, D in order (at most four are used):
    /// `/campaigns/details` lists them as `conversion_behaviors`; the analytics carry
    /// `conversions` always and `conversions1`…`conversions3` for events B…D.
    pub conversion_events: Vec<String>,
    pub lifecycle: Lifecycle,
    /// When it sent: `first_sent`/`last_sent`, and the days its analytics are not zero.
    pub activity: Activity,
    /// `last_edited` of `/campaigns/list` (and `updated_at` of the details).
    pub last_edited: Timestamp,
    /// `is_api_campaign`: only API campaigns have [`ApiSend`]s.
    pub is_api_campaign: bool,
    /// From the local day containing this instant on, the campaign's bounce rate climbs by 2
    /// percentage points a day (up to 30%): a template change gone wrong.
    pub bounces_rising_since: Option<Timestamp>,
}

/// One variation of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variation {
    /// Its API identifier (`variation_api_id`); see [`Campaign::message_id`].
    pub id: String,
    /// Its name (`variation_name`), such as `Variant 1` or `Control Group`.
    pub name: String,
    pub kind: VariationKind,
}

/// Whether a variation sends a message or holds its users out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariationKind {
    Message,
    /// A control group: its object carries `enrolled` (and conversions, revenue, unique
    /// recipients), once, in the array of the campaign's first channel.
    Control,
}

impl Variation {
    /// A variation that sends a message.
    pub fn message(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            kind: VariationKind::Message,
        }
    }

    /// A control group named `Control Group`, as Braze names it.
    pub fn control(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: CONTROL_GROUP_NAME.into(),
            kind: VariationKind::Control,
        }
    }

    pub fn is_control(&self) -> bool {
        self.kind == VariationKind::Control
    }
}

/// The name Braze gives a campaign's control group.
pub const CONTROL_GROUP_NAME: &str = "Control Group";

impl Campaign {
    /// The API identifier of `variation`'s message on `channel`: what `variation_api_id` says
    /// and what keys `/campaigns/details`' `messages`. A campaign on one channel uses the
    /// variation's id; on several, each channel's message has its own id,
    /// `"{variation id}-{channel key}"` (Braze keys details' messages by message, each with one
    /// channel). A control group has one id whatever the channels.
    pub fn message_id(&self, variation: &Variation, channel: Channel) -> String {
        if self.channels.len() <= 1 || variation.is_control() {
            variation.id.clone()
        } else {
            format!("{}-{}", variation.id, channel.key())
        }
    }

    /// The variation whose configured id is `id`.
    pub fn variation(&self, id: &str) -> Option<&Variation> {
        self.variations.iter().find(|v| v.id == id)
    }

    /// The conversion events the analytics report (at most four).
    pub(crate) fn conversion_count(&self) -> usize {
        self.conversion_events.len().clamp(1, 4)
    }
}

/// A Canvas, as `/canvas/list`, `/canvas/details` and `/canvas/data_series` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    /// The Canvas API identifier (`canvas_id`).
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    /// `variant_stats` and details' `variants`, in order. Two may share a name.
    pub variants: Vec<CanvasVariant>,
    /// `step_stats` and details' `steps` (deleted ones only in the analytics, and only with
    /// `include_deleted_step_data=true`), in order. Two may share a name.
    pub steps: Vec<CanvasStep>,
    /// As [`Campaign::conversion_events`]: `conversions` always, `conversions1`…`3` for B…D.
    pub conversion_events: Vec<String>,
    pub lifecycle: Lifecycle,
    /// When users entered: `first_entry`/`last_entry`, and the days its analytics are not zero.
    pub activity: Activity,
    pub last_edited: Timestamp,
}

impl Canvas {
    /// The conversion events the analytics report (at most four).
    pub(crate) fn conversion_count(&self) -> usize {
        self.conversion_events.len().clamp(1, 4)
    }

    /// The variant whose id is `id`.
    pub fn variant(&self, id: &str) -> Option<&CanvasVariant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The step whose id is `id`, deleted or not.
    pub fn step(&self, id: &str) -> Option<&CanvasStep> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// One variant of a Canvas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanvasVariant {
    pub id: String,
    pub name: String,
}

/// One step of a Canvas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanvasStep {
    pub id: String,
    pub name: String,
    /// The channels it sends on: the keys of its `messages` in `step_stats`.
    pub channels: Vec<Channel>,
    /// Deleted from the Canvas: its analytics remain, for `include_deleted_step_data=true`.
    pub deleted: bool,
}

/// A campaign's or Canvas's state, as details' `draft`, `enabled` and `archived` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Launched and enabled.
    Live,
    /// Never launched (`draft: true`, `enabled: false`).
    Draft,
    /// Launched, then stopped (`enabled: false`).
    Disabled,
    /// Stopped and archived (`archived: true`): left out of the lists unless
    /// `include_archived=true`.
    Archived,
}

impl Lifecycle {
    pub(crate) fn draft(self) -> bool {
        self == Lifecycle::Draft
    }

    pub(crate) fn enabled(self) -> bool {
        self == Lifecycle::Live
    }

    pub(crate) fn archived(self) -> bool {
        self == Lifecycle::Archived
    }
}

/// When a campaign sent, or users entered a Canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Never: no `first_sent`/`last_sent` (`null`), every number zero.
    Never,
    /// From `since` until now: `last_sent` (`last_entry`) is the start of the clock's current
    /// hour.
    Ongoing { since: Timestamp },
    /// From `since` to `until`.
    Ended { since: Timestamp, until: Timestamp },
}

/// One tracked send of an API campaign (`/sends/data_series`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSend {
    /// The campaign it belongs to ([`Campaign::id`], an API campaign).
    pub campaign_id: String,
    /// The `send_id` the send call returned (or `/sends/id/create` made).
    pub send_id: String,
    /// When it was sent. Braze keeps its analytics 14 days after that: from then on
    /// `/sends/data_series` answers no days for it.
    pub sent_at: Timestamp,
}

/// How the objects of `messages.<channel>[]` name their variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariationForm {
    /// Braze's older pages: `"variation_name": "Variant 1"`; push objects also carry the
    /// per-variation conversion fields ([`super::VARIATION_CONVERSION_FIELDS`]).
    Name,
    /// Braze's current pages: `"variation_api_id": "<message id>"` ([`Campaign::message_id`]);
    /// push objects carry only the push fields.
    ApiId,
}
