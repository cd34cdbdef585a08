//! The messaging content of [`crate::SimulatorConfig::demo`], and generated content for
//! benchmarks.

use jiff::{SignedDuration, Timestamp};

use super::{
    Activity, ApiSend, Campaign, Canvas, CanvasStep, CanvasVariant, Channel, Lifecycle, Variation,
};

/// (id, name) of the demo's email campaign: live, bounces rising since three days before the
/// demo's anchor.
pub const DEMO_EMAIL_CAMPAIGN: (&str, &str) =
    ("demo-campaign-onboarding-email", "Onboarding email");

/// (id, name) of the demo's push campaign (iOS and Android): a live API campaign with a control
/// group, last edited 40 days before the anchor (a running campaign nobody edited).
pub const DEMO_PUSH_CAMPAIGN: (&str, &str) = ("demo-campaign-txn-push", "Txn order push");

/// (campaign id, send id) of the demo's API send, sent one day before the anchor.
pub const DEMO_SEND: (&str, &str) = (DEMO_PUSH_CAMPAIGN.0, "order_confirmation");

/// (id, name) of the demo's Canvas: two variants, steps of which two share the name `Reminder`,
/// and a deleted step.
pub const DEMO_CANVAS: (&str, &str) = ("demo-canvas-welcome", "Welcome journey");

/// The demo's campaigns that discovery should leave out, by id: archived, a draft, a disabled
/// one that sent two days before the anchor, and a live one that last sent 30 days before it.
pub const DEMO_LEFT_OUT_CAMPAIGNS: [&str; 4] = [
    "demo-campaign-archived",
    "demo-campaign-draft",
    "demo-campaign-disabled",
    "demo-campaign-stale",
];

/// The demo's Canvases that discovery should leave out, by id: archived, a draft, and a live
/// one whose last entry was 45 days before the anchor.
pub const DEMO_LEFT_OUT_CANVASES: [&str; 3] = [
    "demo-canvas-archived",
    "demo-canvas-draft",
    "demo-canvas-stale",
];

/// The tag every demo campaign meant to be watched carries.
pub const DEMO_MONITORED_TAG: &str = "monitored";

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn before(anchor: Timestamp, n: i64) -> Timestamp {
    anchor.checked_sub(days(n)).unwrap_or(anchor)
}

/// A campaign on one variation, live, not an API campaign, without surge: the others start
/// from it.
fn campaign(id: &str, name: &str, channels: Vec<Channel>, anchor: Timestamp) -> Campaign {
    Campaign {
        id: id.into(),
        name: name.into(),
        tags: Vec::new(),
        channels,
        variations: vec![Variation::message(format!("{id}-v1"), "Variant 1")],
        conversion_events: strings(&["checkout"]),
        lifecycle: Lifecycle::Live,
        activity: Activity::Ongoing {
            since: before(anchor, 90),
        },
        last_edited: before(anchor, 90),
        is_api_campaign: false,
        bounces_rising_since: None,
    }
}

/// The demo's campaigns, dated from `anchor`.
pub(crate) fn demo_campaigns(anchor: Timestamp) -> Vec<Campaign> {
    let ended = |since, until| Activity::Ended {
        since: before(anchor, since),
        until: before(anchor, until),
    };
    let (email_id, email_name) = DEMO_EMAIL_CAMPAIGN;
    let email = Campaign {
        tags: strings(&["onboarding", DEMO_MONITORED_TAG]),
        variations: vec![
            Variation::message("demo-var-email-a", "Variant 1"),
            Variation::message("demo-var-email-b", "Variant 2"),
        ],
        conversion_events: strings(&["signup", "checkout"]),
        last_edited: before(anchor, 3),
        bounces_rising_since: Some(before(anchor, 3)),
        ..campaign(email_id, email_name, vec![Channel::Email], anchor)
    };
    let (push_id, push_name) = DEMO_PUSH_CAMPAIGN;
    let push = Campaign {
        tags: strings(&["transactional", DEMO_MONITORED_TAG]),
        variations: vec![
            Variation::message("demo-var-push-a", "Variant 1"),
            Variation::control("demo-var-push-control"),
        ],
        activity: Activity::Ongoing {
            since: before(anchor, 60),
        },
        last_edited: before(anchor, 40),
        is_api_campaign: true,
        ..campaign(
            push_id,
            push_name,
            vec![Channel::IosPush, Channel::AndroidPush],
            anchor,
        )
    };
    let [archived, draft, disabled, stale] = DEMO_LEFT_OUT_CAMPAIGNS;
    vec![
        email,
        push,
        Campaign {
            lifecycle: Lifecycle::Archived,
            activity: ended(400, 200),
            tags: strings(&[DEMO_MONITORED_TAG]),
            ..campaign(
                archived,
                "Onboarding email (2025)",
                vec![Channel::Email],
                anchor,
            )
        },
        Campaign {
            lifecycle: Lifecycle::Draft,
            activity: Activity::Never,
            last_edited: before(anchor, 1),
            ..campaign(draft, "Onboarding SMS draft", vec![Channel::Sms], anchor)
        },
        Campaign {
            lifecycle: Lifecycle::Disabled,
            activity: ended(100, 2),
            tags: strings(&[DEMO_MONITORED_TAG]),
            ..campaign(
                disabled,
                "Txn webhook (paused)",
                vec![Channel::Webhook],
                anchor,
            )
        },
        Campaign {
            activity: ended(200, 30),
            ..campaign(
                stale,
                "Onboarding spring promo",
                vec![Channel::ContentCards],
                anchor,
            )
        },
    ]
}

fn step(id: &str, name: &str, channels: &[Channel]) -> CanvasStep {
    CanvasStep {
        id: id.into(),
        name: name.into(),
        channels: channels.to_vec(),
        deleted: false,
    }
}

fn variant(id: &str, name: &str) -> CanvasVariant {
    CanvasVariant {
        id: id.into(),
        name: name.into(),
    }
}

/// A Canvas on one variant and one email step, live since 120 days before `anchor`.
fn canvas(id: &str, name: &str, anchor: Timestamp) -> Canvas {
    Canvas {
        id: id.into(),
        name: name.into(),
        tags: Vec::new(),
        variants: vec![variant(&format!("{id}-a"), "Variant 1")],
        steps: vec![step(&format!("{id}-s1"), "Email", &[Channel::Email])],
        conversion_events: strings(&["checkout"]),
        lifecycle: Lifecycle::Live,
        activity: Activity::Ongoing {
            since: before(anchor, 120),
        },
        last_edited: before(anchor, 120),
    }
}

/// The demo's Canvases, dated from `anchor`.
pub(crate) fn demo_canvases(anchor: Timestamp) -> Vec<Canvas> {
    let (id, name) = DEMO_CANVAS;
    let welcome = Canvas {
        tags: strings(&["onboarding"]),
        variants: vec![
            variant("demo-variant-a", "Variant 1"),
            variant("demo-variant-b", "Variant 2"),
        ],
        steps: vec![
            step("demo-step-email", "Day 1 email", &[Channel::Email]),
            step(
                "demo-step-push",
                "Day 3 push",
                &[Channel::IosPush, Channel::AndroidPush],
            ),
            step("demo-step-reminder-email", "Reminder", &[Channel::Email]),
            step("demo-step-reminder-sms", "Reminder", &[Channel::Sms]),
            CanvasStep {
                deleted: true,
                ..step("demo-step-survey", "Old survey", &[Channel::InAppMessage])
            },
        ],
        conversion_events: strings(&["signup", "checkout"]),
        last_edited: before(anchor, 50),
        ..canvas(id, name, anchor)
    };
    let [archived, draft, stale] = DEMO_LEFT_OUT_CANVASES;
    vec![
        welcome,
        Canvas {
            lifecycle: Lifecycle::Archived,
            activity: Activity::Ended {
                since: before(anchor, 300),
                until: before(anchor, 200),
            },
            ..canvas(archived, "Winback journey", anchor)
        },
        Canvas {
            lifecycle: Lifecycle::Draft,
            activity: Activity::Never,
            ..canvas(draft, "Holiday journey", anchor)
        },
        Canvas {
            activity: Activity::Ended {
                since: before(anchor, 120),
                until: before(anchor, 45),
            },
            ..canvas(stale, "Spring journey", anchor)
        },
    ]
}

/// The demo's API send, one day before `anchor`.
pub(crate) fn demo_sends(anchor: Timestamp) -> Vec<ApiSend> {
    vec![ApiSend {
        campaign_id: DEMO_SEND.0.into(),
        send_id: DEMO_SEND.1.into(),
        sent_at: before(anchor, 1),
    }]
}

/// How much generated messaging content a benchmark's workspace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessagingSize {
    pub campaigns: usize,
    /// Channels per campaign (at most the 10 there are).
    pub channels: usize,
    /// Message variations per campaign.
    pub variations: usize,
    pub canvases: usize,
    /// Steps per Canvas (each on one channel).
    pub steps: usize,
}

/// When generated content started: long before any clock a test or benchmark uses.
const GENERATED_SINCE: Timestamp = Timestamp::constant(1_577_836_800, 0); // 2020-01-01

/// `size.campaigns` live campaigns `campaign-0001`… (named `Campaign 0001`…, tagged
/// `generated`), each on `size.channels` channels taken in turn from [`Channel::ALL`] starting
/// one further for each campaign (so every channel appears), with `size.variations` variations
/// `campaign-0001-v1`… named `Variant 1`…; and `size.canvases` live Canvases `canvas-0001`…
/// with two variants (`canvas-0001-a`, `-b`) and `size.steps` steps `canvas-0001-s1`… (`Step
/// 1`…), each on the next channel in turn. All sending since 2020-01-01.
pub fn generate_messaging(size: MessagingSize) -> (Vec<Campaign>, Vec<Canvas>) {
    let channel = |n: usize| Channel::ALL[n % Channel::ALL.len()];
    let campaigns = (1..=size.campaigns)
        .map(|n| {
            let id = format!("campaign-{n:04}");
            Campaign {
                tags: strings(&["generated"]),
                variations: (1..=size.variations)
                    .map(|v| Variation::message(format!("{id}-v{v}"), format!("Variant {v}")))
                    .collect(),
                activity: Activity::Ongoing {
                    since: GENERATED_SINCE,
                },
                last_edited: GENERATED_SINCE,
                ..campaign(
                    &id,
                    &format!("Campaign {n:04}"),
                    (0..size.channels.min(Channel::ALL.len()))
                        .map(|c| channel(n - 1 + c))
                        .collect(),
                    GENERATED_SINCE,
                )
            }
        })
        .collect();
    let canvases = (1..=size.canvases)
        .map(|n| {
            let id = format!("canvas-{n:04}");
            Canvas {
                tags: strings(&["generated"]),
                variants: vec![
                    variant(&format!("{id}-a"), "Variant 1"),
                    variant(&format!("{id}-b"), "Variant 2"),
                ],
                steps: (1..=size.steps)
                    .map(|s| {
                        step(
                            &format!("{id}-s{s}"),
                            &format!("Step {s}"),
                            &[channel(n + s)],
                        )
                    })
                    .collect(),
                activity: Activity::Ongoing {
                    since: GENERATED_SINCE,
                },
                last_edited: GENERATED_SINCE,
                ..canvas(&id, &format!("Canvas {n:04}"), GENERATED_SINCE)
            }
        })
        .collect();
    (campaigns, canvases)
}

/// A live API campaign `c-all` on every channel, sending since 2026-01-01: message variations
/// `v1` ("Variant 1") and `v2` ("Variant 2") around a control group `ctl`, five conversion
/// events (four reported). For tests.
#[cfg(test)]
pub(crate) fn every_channel_campaign() -> Campaign {
    let since: Timestamp = "2026-01-01T00:00:00Z".parse().expect("a valid instant");
    Campaign {
        tags: strings(&["monitored"]),
        variations: vec![
            Variation::message("v1", "Variant 1"),
            Variation::control("ctl"),
            Variation::message("v2", "Variant 2"),
        ],
        conversion_events: strings(&["a", "b", "c", "d", "e"]),
        activity: Activity::Ongoing { since },
        last_edited: since,
        is_api_campaign: true,
        ..campaign("c-all", "Everything", Channel::ALL.to_vec(), since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_content_covers_every_channel() {
        let (campaigns, canvases) = generate_messaging(MessagingSize {
            campaigns: 10,
            channels: 3,
            variations: 2,
            canvases: 2,
            steps: 8,
        });
        assert_eq!(campaigns.len(), 10);
        assert_eq!(campaigns[0].id, "campaign-0001");
        assert_eq!(campaigns[9].name, "Campaign 0010");
        assert_eq!(
            campaigns[0].channels,
            [Channel::Email, Channel::IosPush, Channel::AndroidPush]
        );
        assert_eq!(campaigns[1].channels[0], Channel::IosPush);
        let mut seen: Vec<Channel> = campaigns.iter().flat_map(|c| c.channels.clone()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, Channel::ALL);
        assert_eq!(campaigns[3].variations[1].id, "campaign-0004-v2");
        assert_eq!(canvases[1].steps.len(), 8);
        assert_eq!(canvases[1].steps[7].id, "canvas-0002-s8");
        assert_eq!(canvases[0].variants.len(), 2);
    }

    #[test]
    fn demo_dates_follow_the_anchor() {
        let anchor: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let campaigns = demo_campaigns(anchor);
        assert_eq!(campaigns.len(), 2 + DEMO_LEFT_OUT_CAMPAIGNS.len());
        assert_eq!(campaigns[0].id, DEMO_EMAIL_CAMPAIGN.0);
        assert_eq!(
            campaigns[0].bounces_rising_since,
            Some("2026-11-25T10:00:00Z".parse().unwrap())
        );
        assert!(campaigns[1].variations.iter().any(Variation::is_control));
        assert_eq!(
            demo_sends(anchor)[0].sent_at,
            "2026-11-27T10:00:00Z".parse().unwrap()
        );
        let canvases = demo_canvases(anchor);
        assert_eq!(canvases[0].id, DEMO_CANVAS.0);
        assert_eq!(
            canvases[0]
                .steps
                .iter()
                .filter(|s| s.name == "Reminder")
                .count(),
            2
        );
        assert_eq!(canvases[0].steps.iter().filter(|s| s.deleted).count(), 1);
    }
}
