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

use jiff::{Timestamp, Zoned};

use super::campaign_day::{campaign_day, in_answer, object_order, CampaignDay};
use super::canvas_day::{canvas_day, CanvasDay};
use super::day::Seen;
use super::model::find;
use super::{ApiSend, Campaign, Canvas, Channel, VariationForm};

pub use super::campaign_day::{DYNAMIC_PUSH_KEYS, SEND_RETENTION, VARIATION_CONVERSION_FIELDS};
pub use super::day::RESTATEMENT;

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
    campaign_stat(&campaign_day(campaign, form, None, &seen)?, stat)
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
    campaign_stat(&campaign_day(campaign, form, Some(send), &seen)?, stat)
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
    canvas_stat(&canvas_day(canvas, &seen), stat)
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

fn campaign_stat(day: &CampaignDay<'_>, stat: CampaignStat<'_>) -> Option<f64> {
    match stat {
        CampaignStat::Campaign(field) => find(&day.totals, field),
        CampaignStat::Message {
            channel,
            variation,
            field,
        } => {
            let (_, objects) = day.messages.iter().find(|(c, _)| *c == channel)?;
            let object = objects.iter().find(|o| o.variation.id == variation)?;
            find(&object.numbers, field)
        }
    }
}

fn canvas_stat(day: &CanvasDay<'_>, stat: CanvasStat<'_>) -> Option<f64> {
    let step = |id: &str| day.steps.iter().find(|s| s.step.id == id);
    match stat {
        CanvasStat::Total(field) => find(&day.totals, field),
        CanvasStat::Variant { variant, field } => {
            let (_, numbers) = day.variants.iter().find(|(v, _)| v.id == variant)?;
            find(numbers, field)
        }
        CanvasStat::Step { step: id, field } => find(&step(id)?.numbers, field),
        CanvasStat::StepMessage {
            step: id,
            channel,
            field,
        } => {
            let (_, numbers) = step(id)?.messages.iter().find(|(c, _)| *c == channel)?;
            find(numbers, field)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::{
        demo_campaigns, demo_canvases, demo_sends, every_channel_campaign, Lifecycle,
    };
    use jiff::SignedDuration;

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
