//! Campaigns, Canvases and API sends end to end: the real binary over loopback against the
//! simulator's demo workspace, every value checked against the simulator's own numbers.

use braze_simulator::{
    campaign_value, canvas_value, send_value, CampaignStat, CanvasStat, Channel, Clock,
    SimulatorConfig, VariationForm, DEMO_CANVAS, DEMO_EMAIL_CAMPAIGN, DEMO_PUSH_CAMPAIGN,
    DEMO_SEND,
};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::support::{promtool_check_metrics, sample, simulator, Exporter, Workspace, KEY};

const ZONE: &str = "Asia/Kolkata";

/// The messaging blocks over the demo's two campaigns, its Canvas (with steps) and its send.
fn messaging_config() -> String {
    format!(
        "campaigns:\n  - {{name: email, id: {email}}}\n  - {{name: push, id: {push}}}\n\
         canvases:\n  - {{name: welcome, id: {canvas}}}\n\
         export:\n  campaigns: {{}}\n  canvases: {{steps: true}}\n\
         \x20 sends: {{ids: [{{campaign: push, send_id: {send}}}]}}\n",
        email = DEMO_EMAIL_CAMPAIGN.0,
        push = DEMO_PUSH_CAMPAIGN.0,
        canvas = DEMO_CANVAS.0,
        send = DEMO_SEND.1,
    )
}

/// The start of the local day that contains `t`, and that day.
fn day_of(t: Timestamp) -> Zoned {
    t.to_zoned(TimeZone::get(ZONE).unwrap())
        .start_of_day()
        .unwrap()
}

#[tokio::test]
async fn every_messaging_metric_is_brazes_number_in_a_half_hour_zone() {
    // The simulator's clock stands still at the test's start, so what it restates is known.
    let now = Timestamp::now();
    let braze = simulator(|c| {
        *c = SimulatorConfig::demo_at(KEY, now);
        c.time_zone = TimeZone::get(ZONE).unwrap();
        c.clock = Clock::from_fn(move || now);
    })
    .await;
    let workspace = Workspace::new(
        &braze.url(),
        &format!("  time_zone: {ZONE}\n{}", messaging_config()),
    );
    let exporter = Exporter::start(&workspace.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("every messaging series", |t| {
            [
                "campaign=\"email\"",
                "campaign=\"push\"",
                "canvas=\"welcome\"",
                "send_id=",
            ]
            .iter()
            .all(|l| {
                t.lines()
                    .any(|x| x.starts_with("braze_up{") && x.contains(l) && x.ends_with(" 1"))
            })
        })
        .await;
    promtool_check_metrics(&text);
    let config = SimulatorConfig::demo_at("", now);
    let yesterday = day_of(now).yesterday().unwrap();
    let today = day_of(now);
    let email = &config.campaigns[0];
    let push = config
        .campaigns
        .iter()
        .find(|c| c.id == DEMO_PUSH_CAMPAIGN.0)
        .unwrap();
    let form = VariationForm::Name;
    let campaign = |c, stat, day: &Zoned| campaign_value(c, form, stat, day, now).unwrap();
    // The bucket timestamps: one pair per series, at the zone's midnights (18:30 UTC).
    let email_labels = r#"{campaign="email"}"#;
    assert_eq!(
        sample(
            &text,
            &format!("braze_campaign_bucket_timestamp_seconds{email_labels}")
        ),
        Some(yesterday.timestamp().as_second() as f64)
    );
    assert_eq!(
        sample(
            &text,
            &format!("braze_campaign_in_progress_bucket_timestamp_seconds{email_labels}")
        ),
        Some(today.timestamp().as_second() as f64)
    );
    assert_eq!(
        sample(
            &text,
            &format!("braze_campaign_unique_recipients{email_labels}")
        ),
        Some(campaign(
            email,
            CampaignStat::Campaign("unique_recipients"),
            &yesterday
        ))
    );
    assert_eq!(
        sample(
            &text,
            r#"braze_campaign_revenue_in_progress{campaign="email"}"#
        ),
        Some(campaign(email, CampaignStat::Campaign("revenue"), &today))
    );
    assert_eq!(
        sample(
            &text,
            r#"braze_campaign_conversions{campaign="email",conversion_event="B"}"#
        ),
        Some(campaign(
            email,
            CampaignStat::Campaign("conversions1"),
            &yesterday
        ))
    );
    // Per channel and variation, by the variation's name, and the control group.
    for (c, labels, channel, variation, field) in [
        (
            email,
            r#"campaign="email",channel="email",variation="Variant 2""#,
            Channel::Email,
            "demo-var-email-b",
            "bounces",
        ),
        (
            email,
            r#"campaign="email",channel="email",variation="Variant 1""#,
            Channel::Email,
            "demo-var-email-a",
            "reported_spam",
        ),
        (
            push,
            r#"campaign="push",channel="android_push",variation="Variant 1""#,
            Channel::AndroidPush,
            "demo-var-push-a",
            "direct_opens",
        ),
        (
            push,
            r#"campaign="push",channel="ios_push",variation="Control Group""#,
            Channel::IosPush,
            "demo-var-push-control",
            "enrolled",
        ),
    ] {
        let metric = format!("braze_campaign_message_{field}{{{labels}}}");
        let stat = CampaignStat::Message {
            channel,
            variation,
            field,
        };
        assert_eq!(
            sample(&text, &metric),
            Some(campaign(c, stat, &yesterday)),
            "{metric}"
        );
    }
    assert!(
        !text.contains("carousel"),
        "dynamic keys never become metrics"
    );
    // The Canvas: Braze's total as variant="all", each variant and step by name.
    let canvas = &config.canvases[0];
    let value = |stat| canvas_value(canvas, stat, &yesterday, now).unwrap();
    assert_eq!(
        sample(
            &text,
            r#"braze_canvas_entries{canvas="welcome",variant="all"}"#
        ),
        Some(value(CanvasStat::Total("entries")))
    );
    assert_eq!(
        sample(
            &text,
            r#"braze_canvas_entries{canvas="welcome",variant="Variant 2"}"#
        ),
        Some(value(CanvasStat::Variant {
            variant: "demo-variant-b",
            field: "entries"
        }))
    );
    assert_eq!(
        sample(
            &text,
            r#"braze_canvas_step_message_sent{canvas="welcome",step="Day 1 email",channel="email"}"#
        ),
        Some(value(CanvasStat::StepMessage {
            step: "demo-step-email",
            channel: Channel::Email,
            field: "sent"
        }))
    );
    assert!(
        !text.contains("Old survey"),
        "deleted steps are not asked for"
    );
    // The send.
    let send = &config.sends[0];
    let sent = send_value(
        push,
        send,
        form,
        CampaignStat::Campaign("unique_recipients"),
        &yesterday,
        now,
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"braze_send_unique_recipients{{campaign="push",send_id="{}"}}"#,
                DEMO_SEND.1
            )
        ),
        sent
    );
    exporter.terminate().await;
}

#[tokio::test]
async fn discovery_keeps_the_live_tagged_campaigns_and_live_canvases() {
    let braze = simulator(|_| {}).await;
    let discover = "discover:\n  interval: 5m\n\
        \x20 campaigns: {match: \".*\", tags: [monitored], active_within: 7d}\n\
        \x20 canvases: {match: \".*\", active_within: 7d}\n\
        export:\n  campaigns: {}\n  canvases: {}\n";
    let workspace = Workspace::new(&braze.url(), discover);
    let exporter = Exporter::start(&workspace.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("the discovered campaigns and Canvas polled", |t| {
            t.contains(r#"braze_up{kind="campaign",campaign="Onboarding email"} 1"#)
                && t.contains(r#"braze_up{kind="campaign",campaign="Txn order push"} 1"#)
                && t.contains(r#"braze_up{kind="canvas",canvas="Welcome journey"} 1"#)
        })
        .await;
    assert_eq!(
        sample(&text, r#"braze_discovered{list="campaigns"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, r#"braze_discovered{list="canvases"}"#),
        Some(1.0)
    );
    let polled = |kind: &str| {
        text.lines()
            .filter(|l| l.starts_with(&format!("braze_up{{kind=\"{kind}\"")))
            .count()
    };
    assert_eq!(
        (polled("campaign"), polled("canvas")),
        (2, 1),
        "archived, draft, disabled and stale ones are left out:\n{text}"
    );
    // Details were asked of the listed candidates only, lists on their own endpoints.
    assert!(braze.requests_to("/campaigns/list") >= 1);
    assert!(braze.requests_to("/campaigns/details") >= 2);
    assert!(braze.requests_to("/canvas/details") >= 1);
    exporter.terminate().await;
}

#[tokio::test]
async fn a_key_without_a_messaging_permission_fails_only_what_needs_it() {
    let braze = simulator(|c| {
        let granted = [
            "sessions.data_series",
            "canvas.data_series",
            "sends.data_series",
            "campaigns.list",
            "canvas.list",
            "canvas.details",
        ];
        c.permissions = Some(granted.iter().map(|p| p.to_string()).collect());
    })
    .await;
    let config = format!(
        "{}discover:\n  campaigns: {{match: \".*\", active_within: 7d}}\n\
         \x20 canvases: {{match: \".*\", active_within: 7d}}\n",
        messaging_config()
    );
    let workspace = Workspace::new(&braze.url(), &config);
    let exporter = Exporter::start(&workspace.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("campaigns down, Canvas and send up", |t| {
            t.contains(r#"braze_up{kind="campaign",campaign="email"} 0"#)
                && t.contains(r#"braze_up{kind="canvas",canvas="welcome"} 1"#)
                && t.contains(r#"braze_discovered{list="canvases"} 1"#)
                && t.lines()
                    .any(|l| l.starts_with("braze_up{kind=\"send\"") && l.ends_with(" 1"))
        })
        .await;
    assert!(!text.contains("\nbraze_campaign_message_sent{"));
    assert!(text.contains("\nbraze_canvas_entries{"));
    assert_eq!(
        sample(&text, r#"braze_discovered{list="canvases"}"#),
        Some(1.0)
    );
    let (_, log) = exporter.terminate().await;
    for permission in ["campaigns.data_series", "campaigns.details"] {
        assert!(
            log.lines()
                .any(|l| l.contains("level=warn") && l.contains(permission)),
            "the log names {permission}:\n{log}"
        );
    }
    assert!(!log.contains(KEY), "the key leaked into the log");
}

#[tokio::test]
async fn a_spent_campaign_pool_leaves_the_other_endpoints_flowing() {
    // One campaign request a minute: the first answer says none remain.
    let braze = simulator(|c| c.campaign_rate_limit_per_minute = 1).await;
    let workspace = Workspace::new(
        &braze.url(),
        &format!("{}\x20 sessions: {{}}\n", messaging_config()),
    );
    let exporter = Exporter::start(&workspace.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("the campaign pool held off, the shared pool's series up", |t| {
            t.contains("braze_api_hold_off_until_timestamp_seconds{pool=\"campaign_analytics\"}")
                && t.contains(r#"braze_up{kind="canvas",canvas="welcome"} 1"#)
                && t.lines().any(|l| l.starts_with("braze_up{kind=\"send\"") && l.ends_with(" 1"))
                && t.contains(r#"braze_up{kind="sessions",app_name="android",segment_name="paying",unit="hour"} 1"#)
        })
        .await;
    assert!(
        !text.contains("braze_api_hold_off_until_timestamp_seconds{pool=\"shared\"}"),
        "the shared pool is not held off:\n{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"braze_api_rate_limit_remaining{pool="campaign_analytics"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"braze_api_rate_limit_limit{pool="campaign_analytics"}"#
        ),
        Some(1.0)
    );
    assert!(sample(&text, r#"braze_api_rate_limit_remaining{pool="shared"}"#).unwrap() > 0.0);
    // Both campaigns' first requests may leave before Braze's first answer says none remain
    // (a burst of max_concurrency); nothing more goes to the pool before its next minute.
    let held = sample(
        &text,
        r#"braze_api_hold_off_until_timestamp_seconds{pool="campaign_analytics"}"#,
    )
    .unwrap();
    if (Timestamp::now().as_second() as f64) < held {
        assert!(braze.requests_to("/campaigns/data_series") <= 2);
    }
    exporter.terminate().await;
}

#[tokio::test]
async fn a_spent_list_pool_leaves_campaign_discovery_and_refreshes_flowing() {
    // One list request an hour: /events/list spends it and says none remain, so discovery
    // holds the list pool off; campaigns are listed on the shared pool meanwhile.
    let braze = simulator(|c| c.list_rate_limit_per_hour = 1).await;
    let discover = "discover:\n  events: {match: \".*\"}\n  products: {match: \".*\"}\n\
        \x20 campaigns: {match: \"^Onboarding email$\"}\n\
        export:\n  sessions: {}\n  events: {}\n  purchases: {}\n  campaigns: {}\n";
    let workspace = Workspace::new(&braze.url(), discover);
    let exporter = Exporter::start(&workspace.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("campaigns discovered and polled while the list pool waits", |t| {
            t.contains(r#"braze_up{kind="campaign",campaign="Onboarding email"} 1"#)
                && t.contains(r#"braze_up{kind="sessions",app_name="ios",segment_name="paying",unit="hour"} 1"#)
        })
        .await;
    assert_eq!(
        sample(&text, r#"braze_discovered{list="campaigns"}"#),
        Some(1.0)
    );
    assert_eq!(braze.requests_to("/events/list"), 1);
    assert_eq!(
        braze.requests_to("/purchases/product_list"),
        0,
        "the list pool is held off after its last request"
    );
    exporter.terminate().await;
}
