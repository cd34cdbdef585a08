//! The deterministic numbers of campaigns, API sends and Canvases, day by day, and the public
//! functions that tell a test what the simulator answers ([`campaign_value`], [`send_value`],
//! [`canvas_value`]).
//!
//! Every number is a pure function of the configured content, the local day and the instant it
//! is seen at (`now`), so a test computes what the simulator will say. The model (Braze
//! publishes none):
//!
//! - A campaign reaches an audience each day it is active ([`super::Activity`]): 1,000 to
//!   50,000 people (hash of its id), ±10% per day; zero on days it did not send. A control group
//!   holds out 10% of it; the message variations share the rest equally; each channel reaches
//!   30% to 100% of a variation's share (hash of the channel). Each channel's numbers follow from
//!   that audience by [`super::channels`]' rules. The campaign's `unique_recipients` is 95% of
//!   the day's audience; its conversions (event A) 3% to 8% of those, each later event 30% to
//!   70% of the one before, `*_by_send_time` 85% to 115% of the same day's; revenue is event A's
//!   conversions × a price of $5.00 to $49.99 (hash of the campaign) ±10%.
//! - `bounces_rising_since`: from that local day on, every `bounces` rate of the campaign rises
//!   by 20‰ a day (day one +20‰), up to 300‰; email `delivered` falls accordingly.
//! - An API send reaches its own audience (hash of campaign and send id) on the local day of
//!   [`super::ApiSend::sent_at`]. Deliveries (`sent`, `delivered`, `undelivered`,
//!   `delivery_failed`, `bounces`, `errors`, `rejected`, `failed`, `sent_to_carrier`, `enrolled`,
//!   `unique_recipients`) happen that day only; opens, clicks, impressions, conversions and
//!   revenue halve each day after it. Braze keeps a send's analytics for 14 days after
//!   `sent_at`: no day is answered before `sent_at`, from `sent_at + 14 days` on, or at all once
//!   `now` is past that.
//! - A Canvas's variants share 500 to 20,000 entries a day (±10%) in proportion to weights of
//!   their own, each with its own conversions (`*_by_entry_time`) and revenue. Every number of
//!   `total_stats` is the variants' sum **plus** that of variants since removed (1% to 5% more
//!   entries): Braze computes the total itself, and a reader that sums the variants is caught.
//!   Step `k` (in order, deleted ones included) reaches 90% less 8 points per step (at least
//!   10%) of the day's entries; its channels and conversions follow as for campaigns.
//!
//! How a day's numbers look while it is not final (Braze documents neither):
//! - the day in progress reports `full × elapsed / duration` for counts;
//! - revenue and every `conversions*` are **restated**: attributed conversions keep arriving
//!   after the day ends. They report 70% of that (`full × 0.7 × elapsed / duration`) while the
//!   day is in progress, 70% at its end, and grow linearly to their full value three days after
//!   the day ends ([`RESTATEMENT`]); a day re-read within those three days has grown.

use jiff::{SignedDuration, Timestamp, Zoned};

use super::channels::{Derive, Rules, CONTROL, SEND_PUSH_EXTRA};
use super::{Activity, Variation, VariationKind};
use super::{ApiSend, Campaign, Canvas, CanvasStep, CanvasVariant, Channel, VariationForm};
use crate::counts::{bucket_containing, bucket_end, day_number, noise, Fnv};
use crate::Unit;

/// How long after a day ends its revenue and conversions keep growing.
pub const RESTATEMENT: SignedDuration = SignedDuration::from_hours(72);

/// How long Braze keeps an API send's analytics after the send.
pub const SEND_RETENTION: SignedDuration = SignedDuration::from_hours(14 * 24);

/// The per-variation conversion numbers some channel objects carry, in Braze's order:
/// always on `trigger_in_app_message`, on push with [`VariationForm::Name`] and in every
/// `/sends/data_series` push object, and on control groups (which add `enrolled`).
/// `conversionsN` and `conversionsN_by_send_time` only for the campaign's conversion events.
pub const VARIATION_CONVERSION_FIELDS: [&str; 10] = [
    "revenue",
    "unique_recipients",
    "conversions",
    "conversions_by_send_time",
    "conversions1",
    "conversions1_by_send_time",
    "conversions2",
    "conversions2_by_send_time",
    "conversions3",
    "conversions3_by_send_time",
];

/// The keys with data in their names that `ios_push` and `android_push` objects carry beside
/// their fields (Braze: `carousel_slide_[NUM]_[TITLE]_click`, `notif_button_[NUM]_[TITLE]_click`):
/// a reader must never make a metric name of them.
pub const DYNAMIC_PUSH_KEYS: [&str; 2] = [
    "carousel_slide_3_Spring Sale_click",
    "notif_button_1_Buy now_click",
];

const CONVERSIONS: [&str; 4] = [
    "conversions",
    "conversions1",
    "conversions2",
    "conversions3",
];
const BY_SEND_TIME: [&str; 4] = [
    "conversions_by_send_time",
    "conversions1_by_send_time",
    "conversions2_by_send_time",
    "conversions3_by_send_time",
];
const BY_ENTRY_TIME: [&str; 4] = [
    "conversions_by_entry_time",
    "conversions1_by_entry_time",
    "conversions2_by_entry_time",
    "conversions3_by_entry_time",
];

/// The numbers of an API send that happen on the day of the send only.
const SEND_DAY_ONLY: [&str; 11] = [
    "sent",
    "delivered",
    "undelivered",
    "delivery_failed",
    "bounces",
    "errors",
    "rejected",
    "failed",
    "sent_to_carrier",
    "enrolled",
    "unique_recipients",
];

/// Share of a restated number reported when its day ends, in thousandths.
const RESTATED_AT_END_PER_MILLE: i128 = 700;

/// Share of a campaign's audience a control group holds out, in thousandths.
const CONTROL_PER_MILLE: u64 = 100;

/// What to read of a campaign's (or an API send's) day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStat<'a> {
    /// A number beside `time` in `data[]`: `unique_recipients`, `revenue`, `conversions`,
    /// `conversions1`…`3`, `conversions_by_send_time`, `conversions1_by_send_time`…
    Campaign(&'a str),
    /// A number of one variation's object in `messages.<channel>[]`, the variation named by its
    /// configured id ([`super::Variation::id`]; a control group is in the campaign's first
    /// channel only).
    Message {
        channel: Channel,
        variation: &'a str,
        field: &'a str,
    },
}

/// What to read of a Canvas's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanvasStat<'a> {
    /// A number of `total_stats`: `entries`, `revenue`, `conversions`,
    /// `conversions_by_entry_time`, `conversions1`…
    Total(&'a str),
    /// A number of `variant_stats.<variant id>`.
    Variant { variant: &'a str, field: &'a str },
    /// A number of `step_stats.<step id>` itself: `revenue`, `conversions`…
    Step { step: &'a str, field: &'a str },
    /// A number of the step's one object in `step_stats.<step id>.messages.<channel>[]`.
    StepMessage {
        step: &'a str,
        channel: Channel,
        field: &'a str,
    },
}

/// The number `/campaigns/data_series` answers for `stat` on the local day containing `day`
/// (in `day`'s time zone), as seen at `now`: counts whole, revenue in dollars with cents.
/// 0 for a day that has not started. `None` when the answer carries no such number (a field,
/// channel or variation the campaign's objects do not have in this `form`, a
/// `conversionsN` beyond its conversion events, a dynamic key).
pub fn campaign_value(
    campaign: &Campaign,
    form: VariationForm,
    stat: CampaignStat<'_>,
    day: &Zoned,
    now: Timestamp,
) -> Option<f64> {
    let seen = Seen::new(day, now).ok()?;
    campaign_day(campaign, form, None, &seen)?.value(stat)
}

/// As [`campaign_value`], for `/sends/data_series` of `send` (of `campaign`). Also `None` for
/// a day the answer leaves out: before the send, from 14 days after it on, or any day once
/// `now` is 14 days past the send.
pub fn send_value(
    campaign: &Campaign,
    send: &ApiSend,
    form: VariationForm,
    stat: CampaignStat<'_>,
    day: &Zoned,
    now: Timestamp,
) -> Option<f64> {
    let seen = Seen::new(day, now).ok()?;
    campaign_day(campaign, form, Some(send), &seen)?.value(stat)
}

/// The number `/canvas/data_series` answers for `stat` on the local day containing `day`, as
/// seen at `now` (whether variants and steps are in the answer depends on the request's
/// `include_*` flags; this gives their numbers either way). `None` when the answer carries no
/// such number.
pub fn canvas_value(
    canvas: &Canvas,
    stat: CanvasStat<'_>,
    day: &Zoned,
    now: Timestamp,
) -> Option<f64> {
    let seen = Seen::new(day, now).ok()?;
    canvas_day(canvas, &seen).value(stat)
}

/// The numbers (not the dynamic keys) of `variation`'s object in a campaign's
/// `messages.<channel>[]` in this `form`, in Braze's order; empty when the answer has no such
/// object. `send`: as `/sends/data_series` writes it.
pub fn campaign_message_fields(
    campaign: &Campaign,
    channel: Channel,
    variation: &str,
    form: VariationForm,
    send: bool,
) -> Vec<&'static str> {
    let Some(variation) = campaign.variation(variation) else {
        return Vec::new();
    };
    if !in_answer(campaign, variation, channel) {
        return Vec::new();
    }
    object_order(campaign, variation, channel, form, send)
}

/// A number as Braze writes it: a count, or dollars with cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Number {
    Count(u64),
    Cents(u64),
}

impl Number {
    pub(crate) fn value(self) -> f64 {
        match self {
            Number::Count(n) => n as f64,
            Number::Cents(cents) => cents as f64 / 100.0,
        }
    }
}

/// Named numbers in the order they are written.
pub(crate) type Numbers = Vec<(&'static str, Number)>;

fn find(numbers: &Numbers, field: &str) -> Option<f64> {
    numbers
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, n)| n.value())
}

/// A local day, and the instant it is seen at.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) start: Zoned,
    end: Timestamp,
    number: i64,
    now: Timestamp,
}

impl Seen {
    /// The local day containing `day`, in its time zone.
    pub(crate) fn new(day: &Zoned, now: Timestamp) -> Result<Self, jiff::Error> {
        let start = bucket_containing(day.timestamp(), day.time_zone(), Unit::Day)?;
        let end = bucket_end(&start, Unit::Day)?.timestamp();
        let number = day_number(&start)?;
        Ok(Self {
            start,
            end,
            number,
            now,
        })
    }

    /// A day that overlaps `[since, until)`.
    fn overlaps(&self, since: Timestamp, until: Option<Timestamp>) -> bool {
        self.end > since && until.is_none_or(|until| self.start.timestamp() < until)
    }

    fn active(&self, activity: Activity) -> bool {
        match activity {
            Activity::Never => false,
            Activity::Ongoing { since } => self.overlaps(since, None),
            Activity::Ended { since, until } => self.overlaps(since, Some(until)),
        }
    }

    /// `full` as reported at `now`: restated numbers grow after the day ends, counts do not.
    fn reported(&self, field: &str, full: u64) -> u64 {
        let start = self.start.timestamp();
        if self.now <= start {
            return 0;
        }
        let full = i128::from(full);
        let value = if self.now < self.end {
            let elapsed = self.now.duration_since(start).as_nanos();
            let duration = self.end.duration_since(start).as_nanos();
            let share = if restated(field) {
                RESTATED_AT_END_PER_MILLE
            } else {
                1_000
            };
            full * share * elapsed / (duration * 1_000)
        } else if restated(field) {
            let age = self
                .now
                .duration_since(self.end)
                .min(RESTATEMENT)
                .as_nanos();
            let settled = RESTATED_AT_END_PER_MILLE * RESTATEMENT.as_nanos()
                + (1_000 - RESTATED_AT_END_PER_MILLE) * age;
            full * settled / (1_000 * RESTATEMENT.as_nanos())
        } else {
            full
        };
        u64::try_from(value).unwrap_or(0)
    }
}

/// Revenue and conversions keep being attributed after their day.
fn restated(field: &str) -> bool {
    field == "revenue" || field.starts_with("conversions")
}

fn number(field: &'static str, units: u64) -> (&'static str, Number) {
    if field == "revenue" {
        (field, Number::Cents(units))
    } else {
        (field, Number::Count(units))
    }
}

/// Full-day values of one object, in the order they were made.
type Work = Vec<(&'static str, u64)>;

fn get(work: &Work, field: &str) -> u64 {
    work.iter()
        .find(|(name, _)| *name == field)
        .map_or(0, |(_, v)| *v)
}

/// `value × (low + hash % spread) / 1000`, ±10% per day.
fn scaled(value: u64, key: Fnv, low: u64, spread: u64, day: i64) -> u64 {
    let rate = low + key.finish() % spread.max(1);
    value * rate * noise(key.i64(day)) / 1_000_000
}

/// Makes `rules`' numbers for an object reaching `audience`, after what `work` already holds.
fn make(rules: &Rules, audience: u64, key: Fnv, day: i64, bounce_surge: u64, work: &mut Work) {
    for rule in rules.make {
        let value = match rule.derive {
            Derive::Audience => audience,
            Derive::Share { of, low, spread } => {
                let rate_key = key.str(rule.field);
                let base = low + rate_key.finish() % spread.max(1);
                let rate = if rule.field == "bounces" {
                    (base + bounce_surge).min(300)
                } else {
                    base
                };
                get(work, of) * rate * noise(rate_key.i64(day)) / 1_000_000
            }
            Derive::Difference { of, minus } => get(work, of).saturating_sub(get(work, minus)),
        };
        work.push((rule.field, value));
    }
}

/// How an owner's (a campaign's, send's or Canvas's) conversions are counted.
#[derive(Debug, Clone, Copy)]
struct Attribution {
    /// Conversion events reported (1 to 4).
    events: usize,
    /// `conversions*_by_send_time` or `conversions*_by_entry_time`.
    by_time: &'static [&'static str; 4],
    /// The price of a conversion of event A: $5.00 to $49.99 (hash of the owner).
    price_cents: u64,
}

impl Attribution {
    fn new(owner: Fnv, events: usize, by_time: &'static [&'static str; 4]) -> Self {
        Self {
            events,
            by_time,
            price_cents: 500 + owner.str("price").finish() % 4_500,
        }
    }
}

/// Revenue and conversions of `recipients`, as `(revenue, conversions, by_time, conversions1,
/// by_time1, …)`.
fn conversions(key: Fnv, recipients: u64, day: i64, attribution: &Attribution, work: &mut Work) {
    let mut previous = recipients;
    let mut first = 0;
    let mut made = Vec::with_capacity(attribution.events * 2);
    for (event, (name, by_time)) in CONVERSIONS
        .into_iter()
        .zip(attribution.by_time.iter().copied())
        .take(attribution.events)
        .enumerate()
    {
        let count = if event == 0 {
            scaled(previous, key.str(name), 30, 51, day)
        } else {
            scaled(previous, key.str(name), 300, 401, day)
        };
        if event == 0 {
            first = count;
        }
        made.push((name, count));
        made.push((by_time, scaled(count, key.str(by_time), 850, 301, day)));
        previous = count;
    }
    let noise = noise(key.str("revenue").i64(day));
    work.push(("revenue", first * attribution.price_cents * noise / 1_000));
    work.extend(made);
}

/// The numbers of `fields` in that order, as reported.
fn report(work: &Work, fields: impl IntoIterator<Item = &'static str>, seen: &Seen) -> Numbers {
    fields
        .into_iter()
        .filter_map(|field| {
            work.iter()
                .find(|(name, _)| *name == field)
                .map(|(_, full)| number(field, seen.reported(field, *full)))
        })
        .collect()
}

/// One variation's object in `messages.<channel>[]`.
#[derive(Debug, Clone)]
pub(crate) struct MessageObject<'a> {
    pub(crate) variation: &'a Variation,
    /// `variation_name` or `variation_api_id`, and its value.
    pub(crate) label: (&'static str, String),
    pub(crate) numbers: Numbers,
    /// [`DYNAMIC_PUSH_KEYS`] and their counts.
    pub(crate) dynamic: Vec<(&'static str, u64)>,
}

/// One day of `/campaigns/data_series` or `/sends/data_series`.
#[derive(Debug, Clone)]
pub(crate) struct CampaignDay<'a> {
    pub(crate) totals: Numbers,
    pub(crate) messages: Vec<(Channel, Vec<MessageObject<'a>>)>,
}

impl CampaignDay<'_> {
    fn value(&self, stat: CampaignStat<'_>) -> Option<f64> {
        match stat {
            CampaignStat::Campaign(field) => find(&self.totals, field),
            CampaignStat::Message {
                channel,
                variation,
                field,
            } => {
                let (_, objects) = self.messages.iter().find(|(c, _)| *c == channel)?;
                let object = objects.iter().find(|o| o.variation.id == variation)?;
                find(&object.numbers, field)
            }
        }
    }
}

/// Whether `variation` has an object in `channel`'s array: a control group only in the
/// campaign's first channel.
fn in_answer(campaign: &Campaign, variation: &Variation, channel: Channel) -> bool {
    campaign.channels.contains(&channel)
        && (!variation.is_control() || campaign.channels.first() == Some(&channel))
}

/// Whether a message object carries [`VARIATION_CONVERSION_FIELDS`].
fn has_conversions(channel: Channel, form: VariationForm, send: bool) -> bool {
    channel == Channel::InAppMessage || (channel.is_push() && (form == VariationForm::Name || send))
}

/// The names of a message object's numbers, in Braze's order.
fn object_order(
    campaign: &Campaign,
    variation: &Variation,
    channel: Channel,
    form: VariationForm,
    send: bool,
) -> Vec<&'static str> {
    let conversion_fields = VARIATION_CONVERSION_FIELDS
        .into_iter()
        .take(2 + 2 * campaign.conversion_count());
    if variation.is_control() {
        return conversion_fields
            .chain(CONTROL.order.iter().copied())
            .collect();
    }
    let mut order: Vec<&'static str> = channel.rules().order.to_vec();
    if send && channel.is_push() {
        order.extend(SEND_PUSH_EXTRA.order);
    }
    if has_conversions(channel, form, send) {
        order.extend(conversion_fields);
    }
    order
}

/// A campaign's audience per day: 1,000 to 50,000.
fn campaign_base(key: Fnv) -> u64 {
    1_000 + key.str("base").finish() % 49_001
}

/// The day of `send`'s analytics that `seen` is, counted from the day of the send; `None` when
/// the answer leaves it out.
fn send_day_index(send: &ApiSend, seen: &Seen) -> Option<i64> {
    let expires = send.sent_at.checked_add(SEND_RETENTION).ok()?;
    if seen.now < send.sent_at || seen.now >= expires || !seen.overlaps(send.sent_at, Some(expires))
    {
        return None;
    }
    let sent = Seen::new(
        &send.sent_at.to_zoned(seen.start.time_zone().clone()),
        seen.now,
    )
    .ok()?;
    Some(seen.number - sent.number)
}

/// One day of a campaign's analytics (`send: None`) or of one of its API sends; `None` when a
/// send's answer leaves the day out.
pub(crate) fn campaign_day<'a>(
    campaign: &'a Campaign,
    form: VariationForm,
    send: Option<&ApiSend>,
    seen: &Seen,
) -> Option<CampaignDay<'a>> {
    let campaign_key = Fnv::new().str("campaign").str(&campaign.id);
    let (key, basis, days_after, active) = match send {
        None => (campaign_key, seen.number, 0, seen.active(campaign.activity)),
        Some(send) => {
            let after = send_day_index(send, seen)?;
            let key = campaign_key.str("send").str(&send.send_id);
            (key, seen.number - after, after, true)
        }
    };
    let audience = if active {
        campaign_base(key) * noise(key.str("audience").i64(basis)) / 1_000
    } else {
        0
    };
    let surge = bounce_surge(campaign, seen, basis);
    let events = campaign.conversion_count();
    let attribution = Attribution::new(campaign_key, events, &BY_SEND_TIME);
    let finish = |mut work: Work| -> Work {
        if send.is_some() {
            decay(&mut work, days_after);
        }
        work
    };
    let mut totals = vec![("unique_recipients", audience * 950 / 1_000)];
    conversions(
        key.str("total"),
        totals[0].1,
        basis,
        &attribution,
        &mut totals,
    );
    let totals = finish(totals);
    let total_order = ["unique_recipients", "revenue"].into_iter().chain(
        CONVERSIONS
            .into_iter()
            .zip(BY_SEND_TIME)
            .take(events)
            .flat_map(|(c, b)| [c, b]),
    );
    let totals = report(&totals, total_order, seen);

    let has_control = campaign.variations.iter().any(Variation::is_control);
    let control_audience = if has_control {
        audience * CONTROL_PER_MILLE / 1_000
    } else {
        0
    };
    let message_count = campaign
        .variations
        .iter()
        .filter(|v| !v.is_control())
        .count()
        .max(1) as u64;
    let variation_audience = (audience - control_audience) / message_count;
    let messages = campaign
        .channels
        .iter()
        .map(|&channel| {
            let channel_share = 300 + key.str(channel.key()).finish() % 701;
            let objects = campaign
                .variations
                .iter()
                .filter(|variation| in_answer(campaign, variation, channel))
                .map(|variation| {
                    let object_key = key.str(channel.key()).str(&variation.id);
                    let mut work = Work::new();
                    if variation.is_control() {
                        make(
                            &CONTROL,
                            control_audience,
                            object_key,
                            basis,
                            surge,
                            &mut work,
                        );
                    } else {
                        let reached = variation_audience * channel_share / 1_000;
                        make(
                            channel.rules(),
                            reached,
                            object_key,
                            basis,
                            surge,
                            &mut work,
                        );
                        if send.is_some() && channel.is_push() {
                            make(
                                &SEND_PUSH_EXTRA,
                                reached,
                                object_key,
                                basis,
                                surge,
                                &mut work,
                            );
                        }
                    }
                    let recipients = get(&work, "enrolled")
                        .max(get(&work, "sent"))
                        .max(get(&work, "impressions"))
                        * 950
                        / 1_000;
                    work.push(("unique_recipients", recipients));
                    conversions(object_key, recipients, basis, &attribution, &mut work);
                    let work = finish(work);
                    let order = object_order(campaign, variation, channel, form, send.is_some());
                    let dynamic = match variation.kind {
                        VariationKind::Control => Vec::new(),
                        VariationKind::Message => {
                            dynamic_keys(channel, &work, object_key, basis, seen)
                        }
                    };
                    MessageObject {
                        variation,
                        label: label(campaign, variation, channel, form),
                        numbers: report(&work, order, seen),
                        dynamic,
                    }
                })
                .collect();
            (channel, objects)
        })
        .collect();
    Some(CampaignDay { totals, messages })
}

fn label(
    campaign: &Campaign,
    variation: &Variation,
    channel: Channel,
    form: VariationForm,
) -> (&'static str, String) {
    match form {
        VariationForm::Name => ("variation_name", variation.name.clone()),
        VariationForm::ApiId => ("variation_api_id", campaign.message_id(variation, channel)),
    }
}

/// The extra bounce rate of `bounces_rising_since`, in thousandths, on the day numbered `basis`.
fn bounce_surge(campaign: &Campaign, seen: &Seen, basis: i64) -> u64 {
    let Some(since) = campaign.bounces_rising_since else {
        return 0;
    };
    let zone = seen.start.time_zone().clone();
    let Ok(first) = Seen::new(&since.to_zoned(zone), seen.now) else {
        return 0;
    };
    match u64::try_from(basis - first.number) {
        Ok(days) => 20 * (days + 1),
        Err(_) => 0,
    }
}

/// An API send's numbers `days_after` its day: deliveries that day only, the rest halving.
fn decay(work: &mut Work, days_after: i64) {
    for (field, value) in work.iter_mut() {
        *value = if SEND_DAY_ONLY.contains(field) {
            if days_after == 0 {
                *value
            } else {
                0
            }
        } else {
            value
                .checked_shr(u32::try_from(days_after).unwrap_or(u32::MAX))
                .unwrap_or(0)
        };
    }
}

/// [`DYNAMIC_PUSH_KEYS`] of `ios_push` and `android_push` objects: shares of `body_clicks`.
fn dynamic_keys(
    channel: Channel,
    work: &Work,
    key: Fnv,
    day: i64,
    seen: &Seen,
) -> Vec<(&'static str, u64)> {
    if !matches!(channel, Channel::IosPush | Channel::AndroidPush) {
        return Vec::new();
    }
    let clicks = get(work, "body_clicks");
    DYNAMIC_PUSH_KEYS
        .into_iter()
        .map(|name| {
            (
                name,
                seen.reported(name, scaled(clicks, key.str(name), 100, 300, day)),
            )
        })
        .collect()
}

/// One step's numbers in `step_stats`.
#[derive(Debug, Clone)]
pub(crate) struct StepDay<'a> {
    pub(crate) step: &'a CanvasStep,
    pub(crate) numbers: Numbers,
    pub(crate) messages: Vec<(Channel, Numbers)>,
}

/// One day of `/canvas/data_series`, with every variant and step.
#[derive(Debug, Clone)]
pub(crate) struct CanvasDay<'a> {
    pub(crate) totals: Numbers,
    pub(crate) variants: Vec<(&'a CanvasVariant, Numbers)>,
    pub(crate) steps: Vec<StepDay<'a>>,
}

impl CanvasDay<'_> {
    fn value(&self, stat: CanvasStat<'_>) -> Option<f64> {
        match stat {
            CanvasStat::Total(field) => find(&self.totals, field),
            CanvasStat::Variant { variant, field } => {
                let (_, numbers) = self.variants.iter().find(|(v, _)| v.id == variant)?;
                find(numbers, field)
            }
            CanvasStat::Step { step, field } => find(&self.step(step)?.numbers, field),
            CanvasStat::StepMessage {
                step,
                channel,
                field,
            } => {
                let (_, numbers) = self
                    .step(step)?
                    .messages
                    .iter()
                    .find(|(c, _)| *c == channel)?;
                find(numbers, field)
            }
        }
    }

    fn step(&self, id: &str) -> Option<&StepDay<'_>> {
        self.steps.iter().find(|s| s.step.id == id)
    }
}

/// The conversion numbers of a Canvas level, in Braze's order after `lead`.
fn canvas_order(lead: &[&'static str], events: usize, tail: &[&'static str]) -> Vec<&'static str> {
    lead.iter()
        .copied()
        .chain(
            CONVERSIONS
                .into_iter()
                .zip(BY_ENTRY_TIME)
                .take(events)
                .flat_map(|(c, b)| [c, b]),
        )
        .chain(tail.iter().copied())
        .collect()
}

/// One day of a Canvas's analytics.
pub(crate) fn canvas_day<'a>(canvas: &'a Canvas, seen: &Seen) -> CanvasDay<'a> {
    let key = Fnv::new().str("canvas").str(&canvas.id);
    let day = seen.number;
    let entries = if seen.active(canvas.activity) {
        (500 + key.str("base").finish() % 19_501) * noise(key.str("entries").i64(day)) / 1_000
    } else {
        0
    };
    let events = canvas.conversion_count();
    let attribution = Attribution::new(key, events, &BY_ENTRY_TIME);
    let order = canvas_order(&["revenue"], events, &["entries"]);
    let level = |level_key: Fnv, entries: u64| -> Work {
        let mut work = vec![("entries", entries)];
        conversions(level_key, entries, day, &attribution, &mut work);
        work
    };
    let weights: Vec<u64> = canvas
        .variants
        .iter()
        .map(|v| 500 + key.str("weight").str(&v.id).finish() % 1_001)
        .collect();
    let weight_sum = weights.iter().sum::<u64>().max(1);
    let variant_works: Vec<Work> = canvas
        .variants
        .iter()
        .zip(&weights)
        .map(|(variant, weight)| {
            level(
                key.str("variant").str(&variant.id),
                entries * weight / weight_sum,
            )
        })
        .collect();
    let listed: u64 = variant_works.iter().map(|work| get(work, "entries")).sum();
    let removed = if listed > 0 {
        1 + listed * (10 + key.str("removed").finish() % 41) / 1_000
    } else {
        0
    };
    let mut total_work = level(key.str("removed"), removed);
    for work in &variant_works {
        for (field, value) in total_work.iter_mut() {
            *value += get(work, field);
        }
    }
    let totals = report(&total_work, order.iter().copied(), seen);
    let variants = canvas
        .variants
        .iter()
        .zip(&variant_works)
        .map(|(variant, work)| (variant, report(work, order.iter().copied(), seen)))
        .collect();
    let steps = canvas
        .steps
        .iter()
        .enumerate()
        .map(|(k, step)| {
            let step_key = key.str("step").str(&step.id);
            let reach_per_mille = 900u64.saturating_sub(80 * k as u64).max(100);
            let reached = entries * reach_per_mille / 1_000;
            let numbers = report(
                &level(step_key, reached),
                canvas_order(&["revenue"], events, &[]),
                seen,
            );
            let messages = step
                .channels
                .iter()
                .map(|&channel| {
                    let channel_share = 300 + step_key.str(channel.key()).finish() % 701;
                    let mut work = Work::new();
                    let rules = channel.step_rules();
                    make(
                        rules,
                        reached * channel_share / 1_000,
                        step_key.str(channel.key()),
                        day,
                        0,
                        &mut work,
                    );
                    (channel, report(&work, rules.order.iter().copied(), seen))
                })
                .collect();
            StepDay {
                step,
                numbers,
                messages,
            }
        })
        .collect();
    CanvasDay {
        totals,
        variants,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::{
        demo_campaigns, demo_canvases, demo_sends, every_channel_campaign, Lifecycle,
    };

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn zoned(s: &str) -> Zoned {
        s.parse().unwrap()
    }

    fn hours_later(t: &str, hours: i64) -> Timestamp {
        ts(t)
            .checked_add(SignedDuration::from_hours(hours))
            .unwrap()
    }

    fn message<'a>(channel: Channel, variation: &'a str, field: &'a str) -> CampaignStat<'a> {
        CampaignStat::Message {
            channel,
            variation,
            field,
        }
    }

    const DAY: &str = "2026-11-27T00:00:00+05:30[Asia/Kolkata]";
    /// The end of [`DAY`].
    const DAY_END: &str = "2026-11-27T18:30:00Z";

    #[test]
    fn restated_numbers_grow_for_three_days_and_counts_stay() {
        let campaign = every_channel_campaign();
        let at = |stat, now: Timestamp| {
            campaign_value(&campaign, VariationForm::Name, stat, &zoned(DAY), now).unwrap()
        };
        let revenue = CampaignStat::Campaign("revenue");
        let conversions = message(Channel::InAppMessage, "v1", "conversions2_by_send_time");
        let sent = message(Channel::Email, "v1", "sent");
        let end = ts(DAY_END);
        let final_revenue = at(revenue, hours_later(DAY_END, 72));
        assert!(final_revenue > 0.0);
        assert_eq!(at(revenue, hours_later(DAY_END, 1_000)), final_revenue);
        let at_end = at(revenue, end);
        assert!(
            (at_end - final_revenue * 0.7).abs() < 0.02,
            "{at_end} {final_revenue}"
        );
        let day_after = at(revenue, hours_later(DAY_END, 24));
        assert!(at_end < day_after && day_after < final_revenue);
        assert!(at(conversions, end) < at(conversions, hours_later(DAY_END, 72)));
        // Counts are final when the day ends, and grow through it.
        assert_eq!(at(sent, end), at(sent, hours_later(DAY_END, 72)));
        let noon = hours_later(DAY_END, -12);
        assert_eq!(at(sent, noon), (at(sent, end) / 2.0).floor());
        assert!((at(revenue, noon) - (at_end / 2.0)).abs() < 0.02);
        assert_eq!(at(sent, hours_later(DAY_END, -24)), 0.0, "not started");
    }

    #[test]
    fn objects_carry_their_channel_fields_in_each_form() {
        let campaign = every_channel_campaign();
        let now = ts("2026-11-29T00:00:00Z");
        for form in [VariationForm::Name, VariationForm::ApiId] {
            for channel in Channel::ALL {
                let fields = campaign_message_fields(&campaign, channel, "v1", form, false);
                assert!(fields.starts_with(channel.fields()), "{channel:?}");
                let conversions = fields.contains(&"conversions3_by_send_time");
                let expected = channel == Channel::InAppMessage
                    || (channel.is_push() && form == VariationForm::Name);
                assert_eq!(conversions, expected, "{channel:?} {form:?}");
                for field in fields {
                    let value = campaign_value(
                        &campaign,
                        form,
                        message(channel, "v1", field),
                        &zoned(DAY),
                        now,
                    );
                    assert!(value.is_some_and(|v| v >= 0.0), "{channel:?} {field}");
                }
                assert_eq!(
                    campaign_value(
                        &campaign,
                        form,
                        message(channel, "v1", "nope"),
                        &zoned(DAY),
                        now
                    ),
                    None
                );
            }
        }
        // The control group: first channel only, enrolled and conversions.
        let control = campaign_message_fields(
            &campaign,
            Channel::Email,
            "ctl",
            VariationForm::ApiId,
            false,
        );
        assert_eq!(control.last(), Some(&"enrolled"));
        assert!(control.contains(&"revenue"));
        assert!(campaign_message_fields(
            &campaign,
            Channel::Sms,
            "ctl",
            VariationForm::Name,
            false
        )
        .is_empty());
        let enrolled = campaign_value(
            &campaign,
            VariationForm::Name,
            message(Channel::Email, "ctl", "enrolled"),
            &zoned(DAY),
            now,
        );
        assert!(enrolled.unwrap() > 0.0);
        // Sends' push objects carry deliveries and conversions in either form.
        let send = campaign_message_fields(
            &campaign,
            Channel::IosPush,
            "v2",
            VariationForm::ApiId,
            true,
        );
        for field in ["delivered", "undelivered", "delivery_failed", "conversions"] {
            assert!(send.contains(&field), "{field}");
        }
    }

    #[test]
    fn counts_keep_their_orderings() {
        let campaign = every_channel_campaign();
        let now = ts("2026-12-05T00:00:00Z");
        let value = |channel, field| {
            campaign_value(
                &campaign,
                VariationForm::Name,
                message(channel, "v2", field),
                &zoned(DAY),
                now,
            )
            .unwrap()
        };
        let pairs = [
            (Channel::Email, "unique_opens", "opens"),
            (Channel::Email, "unique_clicks", "clicks"),
            (Channel::Email, "delivered", "sent"),
            (Channel::AndroidPush, "direct_opens", "total_opens"),
            (Channel::Sms, "delivered", "sent_to_carrier"),
            (Channel::WhatsApp, "read", "delivered"),
            (
                Channel::ContentCards,
                "unique_impressions",
                "total_impressions",
            ),
            (Channel::ContentCards, "unique_clicks", "total_clicks"),
            (Channel::InAppMessage, "first_button_clicks", "clicks"),
        ];
        for (channel, small, large) in pairs {
            let (small_value, large_value) = (value(channel, small), value(channel, large));
            assert!(
                0.0 < small_value && small_value <= large_value,
                "{channel:?} {small} {large}"
            );
        }
        let email = |field| value(Channel::Email, field);
        assert_eq!(email("delivered"), email("sent") - email("bounces"));
    }

    #[test]
    fn inactive_days_are_zero_and_bounces_rise() {
        let anchor = ts("2026-11-28T10:00:00Z");
        let campaigns = demo_campaigns(anchor);
        let now = anchor;
        let day = |d: &str| zoned(&format!("{d}T00:00:00[UTC]"));
        let stale = campaigns
            .iter()
            .find(|c| c.id == "demo-campaign-stale")
            .unwrap();
        let sent = |campaign: &Campaign, d: &str| {
            let channel = campaign.channels[0];
            let id = &campaign.variations[0].id;
            campaign_value(
                campaign,
                VariationForm::Name,
                message(channel, id, "sent"),
                &day(d),
                now,
            )
            .unwrap()
        };
        assert!(sent(stale, "2026-10-01") > 0.0);
        assert_eq!(sent(stale, "2026-11-20"), 0.0, "after it ended");
        let draft = campaigns
            .iter()
            .find(|c| c.lifecycle == Lifecycle::Draft)
            .unwrap();
        assert_eq!(sent(draft, "2026-11-27"), 0.0);
        // Bounce rates of the email campaign, per mille, before and after 2026-11-25.
        let email = &campaigns[0];
        let rate = |d: &str| {
            let stat = |field| {
                campaign_value(
                    email,
                    VariationForm::Name,
                    message(Channel::Email, "demo-var-email-a", field),
                    &day(d),
                    now,
                )
                .unwrap()
            };
            stat("bounces") / stat("sent")
        };
        let before = rate("2026-11-22");
        let rising = [rate("2026-11-25"), rate("2026-11-26"), rate("2026-11-27")];
        assert!(before < 0.035, "{before}");
        assert!(
            before < rising[0] && rising[0] < rising[1] && rising[1] < rising[2],
            "{before} {rising:?}"
        );
    }

    #[test]
    fn a_send_lasts_14_days_and_deliveries_happen_on_its_day() {
        let anchor = ts("2026-11-28T10:00:00Z");
        let campaigns = demo_campaigns(anchor);
        let push = &campaigns[1];
        let send = &demo_sends(anchor)[0]; // sent 2026-11-27T10:00Z
        let day = |d: &str| zoned(&format!("{d}T00:00:00[UTC]"));
        let value = |field, d: &str, now| {
            send_value(
                push,
                send,
                VariationForm::Name,
                message(Channel::IosPush, "demo-var-push-a", field),
                &day(d),
                now,
            )
        };
        let now = ts("2026-12-01T00:00:00Z");
        assert_eq!(value("sent", "2026-11-26", now), None, "before the send");
        let sent = value("sent", "2026-11-27", now).unwrap();
        assert!(sent > 0.0);
        assert_eq!(value("sent", "2026-11-28", now), Some(0.0));
        let opens = |d| value("direct_opens", d, now).unwrap();
        assert!(
            opens("2026-11-28") > 0.0 && opens("2026-11-28") <= opens("2026-11-27") / 2.0 + 1.0
        );
        assert!(value("delivered", "2026-11-27", now).unwrap() > 0.0);
        // Still there just before 14 days have passed, gone at 14 days.
        let last = ts("2026-12-11T09:59:59Z");
        assert_eq!(value("sent", "2026-11-27", last), Some(sent));
        assert_eq!(value("sent", "2026-12-11", last), Some(0.0));
        assert_eq!(
            value("sent", "2026-11-27", ts("2026-12-11T10:00:00Z")),
            None
        );
        assert_eq!(
            value("sent", "2026-11-27", ts("2026-11-27T09:00:00Z")),
            None,
            "not sent yet"
        );
    }

    #[test]
    fn canvas_totals_are_not_the_sum_of_the_variants() {
        let anchor = ts("2026-11-28T10:00:00Z");
        let canvas = &demo_canvases(anchor)[0];
        let day = zoned("2026-11-27T00:00:00[UTC]");
        let now = ts("2026-12-05T00:00:00Z");
        for field in [
            "entries",
            "revenue",
            "conversions",
            "conversions1_by_entry_time",
        ] {
            let total = canvas_value(canvas, CanvasStat::Total(field), &day, now).unwrap();
            let sum: f64 = canvas
                .variants
                .iter()
                .map(|v| {
                    canvas_value(
                        canvas,
                        CanvasStat::Variant {
                            variant: &v.id,
                            field,
                        },
                        &day,
                        now,
                    )
                    .unwrap()
                })
                .sum();
            assert!(total > sum && sum > 0.0, "{field}: {total} {sum}");
        }
        assert_eq!(
            canvas_value(canvas, CanvasStat::Total("conversions2"), &day, now),
            None
        );
        let step =
            |id, field| canvas_value(canvas, CanvasStat::Step { step: id, field }, &day, now);
        assert!(
            step("demo-step-survey", "revenue").unwrap() > 0.0,
            "deleted steps keep numbers"
        );
        let push = |field| {
            canvas_value(
                canvas,
                CanvasStat::StepMessage {
                    step: "demo-step-push",
                    channel: Channel::AndroidPush,
                    field,
                },
                &day,
                now,
            )
        };
        assert!(push("opens").unwrap() <= push("influenced_opens").unwrap());
        assert_eq!(
            push("direct_opens"),
            None,
            "Canvas push fields are the Canvas page's"
        );
        assert_eq!(
            Channel::AndroidPush.step_fields(),
            ["sent", "opens", "influenced_opens", "bounces"]
        );
    }
}
