//! One day of a campaign's or API send's analytics (`/campaigns/data_series`,
//! `/sends/data_series`); the model is [`super::numbers`]' documentation.

use jiff::SignedDuration;

use super::channels::{CONTROL, SEND_PUSH_EXTRA};
use super::day::Seen;
use super::model::{
    conversions, get, make, report, scaled, Attribution, Numbers, Work, BY_SEND_TIME, CONVERSIONS,
};
use super::{ApiSend, Campaign, Channel, Variation, VariationForm, VariationKind};
use crate::counts::{noise, Fnv};

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

/// Share of a campaign's audience a control group holds out, in thousandths.
const CONTROL_PER_MILLE: u64 = 100;

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

/// Whether `variation` has an object in `channel`'s array: a control group only in the
/// campaign's first channel.
pub(super) fn in_answer(campaign: &Campaign, variation: &Variation, channel: Channel) -> bool {
    campaign.channels.contains(&channel)
        && (!variation.is_control() || campaign.channels.first() == Some(&channel))
}

/// Whether a message object carries [`VARIATION_CONVERSION_FIELDS`].
fn has_conversions(channel: Channel, form: VariationForm, send: bool) -> bool {
    channel == Channel::InAppMessage || (channel.is_push() && (form == VariationForm::Name || send))
}

/// The names of a message object's numbers, in Braze's order.
pub(super) fn object_order(
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
    let day = Basis::new(campaign, form, send, seen)?;
    let (control, per_variation) = day.audiences();
    let messages = campaign
        .channels
        .iter()
        .map(|&channel| {
            let channel_share = 300 + day.key.str(channel.key()).finish() % 701;
            let objects = campaign
                .variations
                .iter()
                .filter(|variation| in_answer(campaign, variation, channel))
                .map(|variation| {
                    let reached = match variation.kind {
                        VariationKind::Control => control,
                        VariationKind::Message => per_variation * channel_share / 1_000,
                    };
                    day.object(variation, channel, reached)
                })
                .collect();
            (channel, objects)
        })
        .collect();
    Some(CampaignDay {
        totals: day.totals(),
        messages,
    })
}

/// What every number of one day of a campaign (or send) is made from.
struct Basis<'a, 's> {
    campaign: &'a Campaign,
    form: VariationForm,
    seen: &'s Seen,
    /// Hashed into every number: the campaign, and the send for a send.
    key: Fnv,
    /// The day whose noise the numbers take: the day itself, or the send's day.
    basis: i64,
    /// For a send, how many days after the send's day this one is.
    days_after: Option<i64>,
    audience: u64,
    /// The extra bounce rate, in thousandths.
    surge: u64,
    attribution: Attribution,
}

impl<'a, 's> Basis<'a, 's> {
    fn new(
        campaign: &'a Campaign,
        form: VariationForm,
        send: Option<&ApiSend>,
        seen: &'s Seen,
    ) -> Option<Self> {
        let campaign_key = Fnv::new().str("campaign").str(&campaign.id);
        let (key, days_after, active) = match send {
            None => (campaign_key, None, seen.active(campaign.activity)),
            Some(send) => {
                let after = send_day_index(send, seen)?;
                (
                    campaign_key.str("send").str(&send.send_id),
                    Some(after),
                    true,
                )
            }
        };
        let basis = seen.number - days_after.unwrap_or(0);
        let audience = match active {
            true => campaign_base(key) * noise(key.str("audience").i64(basis)) / 1_000,
            false => 0,
        };
        Some(Self {
            campaign,
            form,
            seen,
            key,
            basis,
            days_after,
            audience,
            surge: bounce_surge(campaign, seen, basis),
            attribution: Attribution::new(campaign_key, campaign.conversion_count(), &BY_SEND_TIME),
        })
    }

    /// A control group's audience, and each message variation's.
    fn audiences(&self) -> (u64, u64) {
        let variations = &self.campaign.variations;
        let control = match variations.iter().any(Variation::is_control) {
            true => self.audience * CONTROL_PER_MILLE / 1_000,
            false => 0,
        };
        let messages = variations.iter().filter(|v| !v.is_control()).count().max(1);
        (control, (self.audience - control) / messages as u64)
    }

    /// A send's numbers fade after its day.
    fn finish(&self, mut work: Work) -> Work {
        if let Some(days_after) = self.days_after {
            decay(&mut work, days_after);
        }
        work
    }

    /// The campaign-level numbers.
    fn totals(&self) -> Numbers {
        let recipients = self.audience * 950 / 1_000;
        let mut work = vec![("unique_recipients", recipients)];
        let key = self.key.str("total");
        conversions(key, recipients, self.basis, &self.attribution, &mut work);
        let order = ["unique_recipients", "revenue"].into_iter().chain(
            CONVERSIONS
                .into_iter()
                .zip(BY_SEND_TIME)
                .take(self.attribution.events)
                .flat_map(|(c, b)| [c, b]),
        );
        report(&self.finish(work), order, self.seen)
    }

    /// `variation`'s object on `channel`, reaching `reached` people.
    fn object(
        &self,
        variation: &'a Variation,
        channel: Channel,
        reached: u64,
    ) -> MessageObject<'a> {
        let key = self.key.str(channel.key()).str(&variation.id);
        let mut work = Work::new();
        let made = |rules, work: &mut Work| make(rules, reached, key, self.basis, self.surge, work);
        match variation.kind {
            VariationKind::Control => made(&CONTROL, &mut work),
            VariationKind::Message => {
                made(channel.rules(), &mut work);
                if self.days_after.is_some() && channel.is_push() {
                    made(&SEND_PUSH_EXTRA, &mut work);
                }
            }
        }
        let reach = ["enrolled", "sent", "impressions"].map(|field| get(&work, field));
        let recipients = reach.into_iter().max().unwrap_or(0) * 950 / 1_000;
        work.push(("unique_recipients", recipients));
        conversions(key, recipients, self.basis, &self.attribution, &mut work);
        let work = self.finish(work);
        let send = self.days_after.is_some();
        let order = object_order(self.campaign, variation, channel, self.form, send);
        let dynamic = match variation.kind {
            VariationKind::Control => Vec::new(),
            VariationKind::Message => dynamic_keys(channel, &work, key, self.basis, self.seen),
        };
        MessageObject {
            variation,
            label: label(self.campaign, variation, channel, self.form),
            numbers: report(&work, order, self.seen),
            dynamic,
        }
    }
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
