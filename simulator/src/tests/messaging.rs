//! Campaigns, Canvases and API sends over real HTTP, in a half-hour time zone: every number
//! against the public oracle functions, both variation forms, the days that keep changing, the
//! lists with their paging, details, the three rate-limit pools, permissions and faults.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::*;
use crate::messaging::every_channel_campaign;

/// 10:40 in Kolkata.
const NOW: &str = "2026-11-28T05:10:00Z";

fn kolkata() -> TimeZone {
    TimeZone::get("Asia/Kolkata").unwrap()
}

/// The start of a local day in Kolkata.
fn day(date: &str) -> Zoned {
    zoned(&format!("{date}T00:00:00+05:30[Asia/Kolkata]"))
}

/// A Kolkata workspace holding the demo's messaging content dated from [`NOW`] and
/// [`every_channel_campaign`].
async fn start(configure: impl FnOnce(&mut SimulatorConfig)) -> Harness {
    Harness::start(NOW, |c| {
        let demo = SimulatorConfig::demo_at(KEY, ts(NOW));
        c.time_zone = kolkata();
        c.campaigns = demo.campaigns;
        c.campaigns.push(every_channel_campaign());
        c.canvases = demo.canvases;
        c.sends = demo.sends;
        configure(c);
    })
    .await
}

impl Harness {
    /// Checks that each query is a 400 with that message.
    async fn refuses(&self, cases: &[(&str, &str)]) {
        for (query, want) in cases {
            assert_eq!(self.get(query).await.error(400), *want, "{query}");
        }
    }
}

impl Answer {
    /// The body of a 200 with `"message": "success"`.
    fn success(&self) -> Value {
        assert_eq!(self.status, 200, "{:?}", self.body);
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["message"], "success");
        body
    }
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

/// The keys of a JSON object, sorted (serde_json's map does not keep their order; the order
/// Braze's pages write is checked on the raw bodies).
fn keys(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn sorted<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut items: Vec<&str> = items.into_iter().collect();
    items.sort_unstable();
    items
}

/// Checks one day of a campaign's (or send's) answer against the oracle.
fn check_campaign_day(
    campaign: &Campaign,
    send: Option<&ApiSend>,
    form: VariationForm,
    point: &Value,
    now: Timestamp,
) {
    let date = point["time"].as_str().unwrap();
    let local = day(date);
    let oracle = |stat| match send {
        None => campaign_value(campaign, form, stat, &local, now),
        Some(send) => send_value(campaign, send, form, stat, &local, now),
    };
    for (key, value) in point.as_object().unwrap() {
        if key == "time" || key == "messages" {
            continue;
        }
        let want = oracle(CampaignStat::Campaign(key)).unwrap_or_else(|| panic!("{key}"));
        assert_eq!(number(value), want, "{date} {key}");
    }
    assert_eq!(
        keys(&point["messages"]),
        sorted(campaign.channels.iter().map(|c| c.key()))
    );
    let label = match form {
        VariationForm::Name => "variation_name",
        VariationForm::ApiId => "variation_api_id",
    };
    for &channel in &campaign.channels {
        let objects = point["messages"][channel.key()].as_array().unwrap();
        let mut seen = Vec::new();
        for object in objects {
            let named = object[label].as_str().unwrap();
            let variation = campaign
                .variations
                .iter()
                .find(|v| match form {
                    VariationForm::Name => v.name == named,
                    VariationForm::ApiId => campaign.message_id(v, channel) == named,
                })
                .unwrap_or_else(|| panic!("{named}"));
            seen.push(variation.id.as_str());
            let fields =
                campaign_message_fields(campaign, channel, &variation.id, form, send.is_some());
            let mut want_keys = vec![label];
            want_keys.extend(&fields);
            if matches!(channel, Channel::IosPush | Channel::AndroidPush) && !variation.is_control()
            {
                want_keys.extend(DYNAMIC_PUSH_KEYS);
            }
            assert_eq!(
                keys(object),
                sorted(want_keys),
                "{date} {channel:?} {named}"
            );
            for field in fields {
                let stat = CampaignStat::Message {
                    channel,
                    variation: &variation.id,
                    field,
                };
                assert_eq!(
                    Some(number(&object[field])),
                    oracle(stat),
                    "{date} {channel:?} {named} {field}"
                );
            }
        }
        let want: Vec<&str> = campaign
            .variations
            .iter()
            .filter(|v| !v.is_control() || campaign.channels[0] == channel)
            .map(|v| v.id.as_str())
            .collect();
        assert_eq!(seen, want, "{channel:?}");
    }
}

#[tokio::test]
async fn campaign_numbers_are_campaign_value_in_both_forms() {
    let now = ts(NOW);
    let campaign = every_channel_campaign();
    for form in [VariationForm::Name, VariationForm::ApiId] {
        let h = start(|c| c.variation_form = form).await;
        let answer = h
            .get("/campaigns/data_series?campaign_id=c-all&length=3")
            .await;
        let reset = ts("2026-11-28T05:11:00Z").as_second();
        assert_eq!(answer.rate_limit(), (50_000, 49_999, reset), "its own pool");
        let text = std::str::from_utf8(&answer.body).unwrap();
        let head = r#"{"message":"success","data":[{"time":"2026-11-26","unique_recipients":"#;
        assert!(text.starts_with(head), "{text}");
        let email = match form {
            VariationForm::Name => r#""messages":{"email":[{"variation_name":"Variant 1","sent":"#,
            VariationForm::ApiId => {
                r#""messages":{"email":[{"variation_api_id":"v1-email","sent":"#
            }
        };
        assert!(text.contains(email), "{text}");
        let body = answer.success();
        let data = body["data"].as_array().unwrap();
        let times: Vec<&str> = data.iter().map(|p| p["time"].as_str().unwrap()).collect();
        assert_eq!(times, ["2026-11-26", "2026-11-27", "2026-11-28"]);
        for point in data {
            check_campaign_day(&campaign, None, form, point, now);
        }
        // Yesterday is well above zero on every channel; the control group only in email.
        let yesterday = &data[1]["messages"];
        assert!(number(&yesterday["email"][0]["sent"]) > 0.0);
        assert!(number(&yesterday["email"][1]["enrolled"]) > 0.0);
        assert_eq!(yesterday["sms"].as_array().unwrap().len(), 2);
        assert!(number(&yesterday["trigger_in_app_message"][0]["impressions"]) > 0.0);
        assert!(number(&yesterday["ios_push"][0]["carousel_slide_3_Spring Sale_click"]) >= 0.0);
        h.simulator.shutdown().await;
    }
}

#[tokio::test]
async fn past_days_keep_changing_and_today_grows() {
    let h = start(|_| {}).await;
    let url = "/campaigns/data_series?campaign_id=c-all&length=1&ending_at=2026-11-27";
    let read = |answer: Answer| answer.success()["data"][0].clone();
    let first = read(h.get(url).await);
    assert_eq!(first["time"], "2026-11-27");
    let mut revenue = vec![number(&first["revenue"])];
    let sent = number(&first["messages"]["email"][0]["sent"]);
    for later in [
        "2026-11-29T05:10:00Z",
        "2026-11-30T18:30:00Z",
        "2026-12-05T00:00:00Z",
    ] {
        h.clock.set(ts(later));
        let point = read(h.get(url).await);
        check_campaign_day(
            &every_channel_campaign(),
            None,
            VariationForm::Name,
            &point,
            ts(later),
        );
        revenue.push(number(&point["revenue"]));
        assert_eq!(number(&point["messages"]["email"][0]["sent"]), sent);
    }
    assert!(
        revenue[0] < revenue[1] && revenue[1] < revenue[2],
        "{revenue:?}"
    );
    assert_eq!(revenue[2], revenue[3], "settled three days after the day");
    // Today, in progress, grows.
    h.clock.set(ts(NOW));
    let today = "/campaigns/data_series?campaign_id=c-all&length=1";
    let early = read(h.get(today).await);
    h.clock.set(ts("2026-11-28T09:10:00Z"));
    let later = read(h.get(today).await);
    assert_eq!(early["time"], "2026-11-28");
    let sms = |p: &Value| number(&p["messages"]["sms"][0]["sent"]);
    assert!(sms(&early) < sms(&later));
    h.simulator.shutdown().await;

    let h = start(|c| c.include_in_progress = false).await;
    let answer = h
        .get("/campaigns/data_series?campaign_id=c-all&length=2")
        .await;
    let data = answer.success()["data"].clone();
    assert_eq!(data.as_array().unwrap().len(), 1);
    assert_eq!(data[0]["time"], "2026-11-27");
    h.simulator.shutdown().await;
}

/// `variant_stats` and `step_stats` of a Canvas day, checked against the oracle.
fn check_canvas_day(canvas: &Canvas, point: &Value, now: Timestamp) {
    let local = day(point["time"].as_str().unwrap());
    let value = |stat| canvas_value(canvas, stat, &local, now).unwrap();
    for (field, got) in point["total_stats"].as_object().unwrap() {
        assert_eq!(
            number(got),
            value(CanvasStat::Total(field)),
            "total {field}"
        );
    }
    for (id, variant) in point["variant_stats"].as_object().into_iter().flatten() {
        assert_eq!(variant["name"], canvas.variant(id).unwrap().name);
        for (field, got) in variant.as_object().unwrap() {
            if field != "name" {
                let stat = CanvasStat::Variant { variant: id, field };
                assert_eq!(number(got), value(stat), "{id} {field}");
            }
        }
    }
    for (id, step) in point["step_stats"].as_object().into_iter().flatten() {
        let configured = canvas.step(id).unwrap();
        assert_eq!(step["name"], configured.name);
        for (field, got) in step.as_object().unwrap() {
            if field == "name" || field == "messages" {
                continue;
            }
            assert_eq!(number(got), value(CanvasStat::Step { step: id, field }));
        }
        let channels = sorted(configured.channels.iter().map(|c| c.key()));
        assert_eq!(keys(&step["messages"]), channels);
        for &channel in &configured.channels {
            let objects = step["messages"][channel.key()].as_array().unwrap();
            assert_eq!(objects.len(), 1);
            assert_eq!(
                keys(&objects[0]),
                sorted(channel.step_fields().iter().copied())
            );
            for (field, got) in objects[0].as_object().unwrap() {
                let stat = CanvasStat::StepMessage {
                    step: id,
                    channel,
                    field,
                };
                assert_eq!(number(got), value(stat), "{id} {channel:?} {field}");
            }
        }
    }
}

#[tokio::test]
async fn canvas_series_breaks_down_only_when_asked() {
    let h = start(|_| {}).await;
    let canvas = SimulatorConfig::demo_at(KEY, ts(NOW)).canvases[0].clone();
    let base = "/canvas/data_series?canvas_id=demo-canvas-welcome&ending_at=2026-11-28";
    let answer = h.get(&format!("{base}&length=2")).await;
    assert_eq!(answer.rate_limit().0, 250_000, "the shared pool");
    let body = answer.success();
    assert_eq!(body["data"]["name"], "Welcome journey");
    let stats = body["data"]["stats"].as_array().unwrap();
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[0]["time"], "2026-11-27");
    assert_eq!(keys(&stats[0]), ["time", "total_stats"]);
    let text = std::str::from_utf8(&answer.body).unwrap();
    let head = r#"{"message":"success","data":{"name":"Welcome journey","stats":[{"time":"2026-11-27","total_stats":{"revenue":"#;
    assert!(text.starts_with(head), "{text}");
    check_canvas_day(&canvas, &stats[0], ts(NOW));

    let both = "&length=2&include_variant_breakdown=true&include_step_breakdown=true";
    let body = h.get(&format!("{base}{both}")).await.success();
    let yesterday = &body["data"]["stats"][0];
    assert_eq!(
        keys(yesterday),
        ["step_stats", "time", "total_stats", "variant_stats"]
    );
    assert_eq!(
        keys(&yesterday["variant_stats"]),
        ["demo-variant-a", "demo-variant-b"]
    );
    let steps = keys(&yesterday["step_stats"]);
    assert_eq!(
        steps,
        [
            "demo-step-email",
            "demo-step-push",
            "demo-step-reminder-email",
            "demo-step-reminder-sms"
        ]
    );
    assert_eq!(
        yesterday["step_stats"]["demo-step-reminder-sms"]["name"],
        "Reminder"
    );
    assert_eq!(
        yesterday["step_stats"]["demo-step-reminder-email"]["name"],
        "Reminder"
    );
    for point in body["data"]["stats"].as_array().unwrap() {
        check_canvas_day(&canvas, point, ts(NOW));
    }
    // Braze's own total: more than the variants' sum.
    let entries = |v: &Value| number(&v["entries"]);
    let variants = &yesterday["variant_stats"];
    let sum = entries(&variants["demo-variant-a"]) + entries(&variants["demo-variant-b"]);
    assert!(entries(&yesterday["total_stats"]) > sum);

    // Deleted steps with include_deleted_step_data, and only with the step breakdown.
    let deleted = h
        .get(&format!("{base}{both}&include_deleted_step_data=true"))
        .await
        .success();
    let steps = keys(&deleted["data"]["stats"][0]["step_stats"]);
    assert_eq!(steps.len(), 5);
    assert!(steps.contains(&"demo-step-survey"));
    check_canvas_day(&canvas, &deleted["data"]["stats"][0], ts(NOW));
    let alone = h
        .get(&format!("{base}&length=1&include_deleted_step_data=true"))
        .await
        .success();
    assert_eq!(keys(&alone["data"]["stats"][0]), ["time", "total_stats"]);
    let variants_only = h
        .get(&format!("{base}&length=1&include_variant_breakdown=true"))
        .await
        .success();
    assert_eq!(
        keys(&variants_only["data"]["stats"][0]),
        ["time", "total_stats", "variant_stats"]
    );

    // length up to 14, given as the string it is documented as; or starting_at; ending_at
    // defaults to now.
    let fourteen = h.get(&format!("{base}&length=14")).await.success();
    assert_eq!(fourteen["data"]["stats"].as_array().unwrap().len(), 14);
    let message = h.get(&format!("{base}&length=15")).await.error(400);
    assert_eq!(
        message,
        "Invalid length: length must be an integer between 1 and 14"
    );
    let from = h
        .get(&format!("{base}&starting_at=2026-11-25T00:00:00"))
        .await
        .success();
    let times: Vec<&Value> = from["data"]["stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["time"])
        .collect();
    assert_eq!(
        times,
        ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]
    );
    let now_ending = h
        .get("/canvas/data_series?canvas_id=demo-canvas-welcome&length=1")
        .await
        .success();
    assert_eq!(now_ending["data"]["stats"][0]["time"], "2026-11-28");
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn a_send_answers_its_14_days_and_nothing_else() {
    let anchor = ts(NOW);
    let h = start(|_| {}).await;
    let demo = SimulatorConfig::demo_at(KEY, anchor);
    let (push, send) = (&demo.campaigns[1], &demo.sends[0]); // sent 2026-11-27T05:10Z
    let url = "/sends/data_series?campaign_id=demo-campaign-txn-push&send_id=order_confirmation";
    let answer = h.get(&format!("{url}&length=5")).await;
    assert_eq!(answer.rate_limit().0, 250_000, "the shared pool");
    let body = answer.success();
    let data = body["data"].as_array().unwrap();
    let times: Vec<&Value> = data.iter().map(|p| &p["time"]).collect();
    assert_eq!(
        times,
        ["2026-11-27", "2026-11-28"],
        "nothing before the send"
    );
    for point in data {
        check_campaign_day(push, Some(send), VariationForm::Name, point, anchor);
    }
    let ios = &data[0]["messages"]["ios_push"][0];
    assert!(number(&ios["sent"]) > 0.0 && number(&ios["delivered"]) > 0.0);
    assert_eq!(number(&data[1]["messages"]["ios_push"][0]["sent"]), 0.0);

    // Unknown send ids, and sends whose 14 days have passed, have no data.
    for query in [
        "/sends/data_series?campaign_id=demo-campaign-txn-push&send_id=nope&length=5",
        "/sends/data_series?campaign_id=demo-campaign-onboarding-email&send_id=order_confirmation&length=5",
    ] {
        assert_eq!(h.get(query).await.success(), json!({"message": "success", "data": []}));
    }
    h.clock.set(ts("2026-12-11T05:09:59Z"));
    let last = h.get(&format!("{url}&length=100")).await.success();
    assert_eq!(last["data"].as_array().unwrap().len(), 15);
    h.clock.set(ts("2026-12-11T05:10:00Z"));
    let gone = h.get(&format!("{url}&length=100")).await.success();
    assert_eq!(gone, json!({"message": "success", "data": []}));

    h.refuses(&[
        (
            "/sends/data_series?campaign_id=demo-campaign-txn-push&length=1",
            "Invalid send_id: send_id is required",
        ),
        (
            "/sends/data_series?campaign_id=zzz&send_id=x&length=1",
            "Invalid campaign_id: zzz",
        ),
        (
            "/sends/data_series?campaign_id=demo-campaign-txn-push&send_id=x&length=101",
            "Invalid length: length is required and must be an integer between 1 and 100",
        ),
    ])
    .await;
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn campaign_and_canvas_lists_page_and_filter() {
    let (mut campaigns, canvases) = generate_messaging(MessagingSize {
        campaigns: 250,
        channels: 1,
        variations: 1,
        canvases: 101,
        steps: 1,
    });
    for (i, campaign) in campaigns.iter_mut().enumerate() {
        if i % 50 == 49 {
            campaign.lifecycle = Lifecycle::Archived; // 5 archived
        }
        if i >= 240 {
            campaign.last_edited = ts("2026-11-27T12:00:00Z");
        }
    }
    let h = Harness::start(NOW, |c| {
        c.campaigns = campaigns.clone();
        c.canvases = canvases.clone();
    })
    .await;
    let ids = |answer: Answer, key: &str| -> Vec<String> {
        answer
            .list(key)
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let unarchived: Vec<String> = campaigns
        .iter()
        .filter(|c| c.lifecycle != Lifecycle::Archived)
        .map(|c| c.id.clone())
        .collect();
    let first = h.get("/campaigns/list").await;
    assert_eq!(first.rate_limit().0, 250_000);
    assert_eq!(ids(first, "campaigns"), unarchived[..100]);
    assert_eq!(
        ids(h.get("/campaigns/list?page=1").await, "campaigns"),
        unarchived[100..200]
    );
    assert_eq!(
        ids(h.get("/campaigns/list?page=2").await, "campaigns"),
        unarchived[200..]
    );
    assert!(h
        .get("/campaigns/list?page=3")
        .await
        .list("campaigns")
        .is_empty());
    let all = ids(
        h.get("/campaigns/list?page=2&include_archived=true").await,
        "campaigns",
    );
    assert_eq!(all.len(), 50);
    assert_eq!(all[49], "campaign-0250");
    let newest = ids(
        h.get("/campaigns/list?sort_direction=desc").await,
        "campaigns",
    );
    assert_eq!(newest[0], "campaign-0249", "0250 is archived");
    let edited = ids(
        h.get("/campaigns/list?last_edit.time%5Bgt%5D=2026-11-27T11:00:00Z")
            .await,
        "campaigns",
    );
    assert_eq!(edited.len(), 9, "campaign-0250 is archived");
    assert_eq!(edited[0], "campaign-0241");
    let entry = &h.get("/campaigns/list").await.list("campaigns")[0];
    assert_eq!(
        *entry,
        json!({"id": "campaign-0001", "last_edited": "2020-01-01T00:00:00Z",
               "name": "Campaign 0001", "is_api_campaign": false, "tags": ["generated"]})
    );

    let canvas_ids = ids(h.get("/canvas/list?page=1").await, "canvases");
    assert_eq!(canvas_ids, ["canvas-0101"]);
    let entry = &h.get("/canvas/list").await.list("canvases")[0];
    assert_eq!(
        *entry,
        json!({"id": "canvas-0001", "last_edited": "2020-01-01T00:00:00Z",
               "name": "Canvas 0001", "tags": ["generated"]})
    );
    h.refuses(&[
        ("/campaigns/list?include_archived=1", "Invalid include_archived: include_archived must be 'true' or 'false'"),
        ("/canvas/list?page=-1", "Invalid page: page must be a non-negative integer"),
        ("/canvas/list?sort_direction=newest", "Invalid sort_direction: sort_direction must be 'asc' or 'desc'"),
        ("/campaigns/list?last_edit.time[gt]=last+week", "Invalid last_edit.time[gt]: expected an ISO-8601 date-time such as 2020-06-28T23:59:59"),
    ])
    .await;
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn details_show_state_activity_and_messages() {
    let h = start(|_| {}).await;
    let push = h
        .get("/campaigns/details?campaign_id=demo-campaign-txn-push")
        .await
        .success();
    assert_eq!(
        push,
        json!({
            "message": "success",
            "created_at": "2026-09-29T05:10:00Z",
            "updated_at": "2026-10-19T05:10:00Z",
            "archived": false, "draft": false, "enabled": true, "has_post_launch_draft": false,
            "name": "Txn order push", "description": "", "schedule_type": "api_triggered",
            "channels": ["ios_push", "android_push"],
            "first_sent": "2026-09-29T05:00:00Z", "last_sent": "2026-11-28T05:00:00Z",
            "tags": ["transactional", "monitored"], "teams": [],
            "messages": {
                "demo-var-push-a-ios_push": {"channel": "ios_push", "name": "Variant 1"},
                "demo-var-push-a-android_push": {"channel": "android_push", "name": "Variant 1"},
                "demo-var-push-control": {"channel": "ios_push", "type": "control"},
            },
            "conversion_behaviors": [
                {"type": "Performs Custom Event", "window": 86400, "custom_event_name": "checkout"},
            ],
        })
    );
    let state = |body: &Value| {
        (
            body["draft"].clone(),
            body["enabled"].clone(),
            body["archived"].clone(),
            body["last_sent"].clone(),
        )
    };
    let details = |id: String| {
        let h = &h;
        async move {
            h.get(&format!("/campaigns/details?campaign_id={id}"))
                .await
                .success()
        }
    };
    let [archived, draft, disabled, stale] = DEMO_LEFT_OUT_CAMPAIGNS.map(String::from);
    assert_eq!(
        state(&details(draft).await),
        (json!(true), json!(false), json!(false), Value::Null)
    );
    assert_eq!(
        state(&details(disabled).await),
        (
            json!(false),
            json!(false),
            json!(false),
            json!("2026-11-26T05:00:00Z")
        )
    );
    assert_eq!(state(&details(archived).await).2, json!(true));
    assert_eq!(
        state(&details(stale).await).3,
        json!("2026-10-29T05:00:00Z")
    );

    let canvas = h
        .get("/canvas/details?canvas_id=demo-canvas-welcome")
        .await
        .success();
    assert_eq!(canvas["last_entry"], "2026-11-28T05:00:00Z");
    assert_eq!(canvas["first_entry"], "2026-07-31T05:00:00Z");
    assert_eq!(canvas["enabled"], true);
    assert_eq!(
        canvas["channels"],
        json!(["email", "ios_push", "android_push", "sms"])
    );
    assert_eq!(
        canvas["variants"][1],
        json!({"name": "Variant 2", "id": "demo-variant-b", "first_step_ids": ["demo-step-email"]})
    );
    let steps: Vec<&Value> = canvas["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(
        steps,
        [
            "demo-step-email",
            "demo-step-push",
            "demo-step-reminder-email",
            "demo-step-reminder-sms"
        ],
        "no deleted step"
    );
    assert_eq!(
        canvas["steps"][1]["next_step_ids"],
        json!(["demo-step-reminder-email"])
    );
    let draft = h
        .get("/canvas/details?canvas_id=demo-canvas-draft")
        .await
        .success();
    assert_eq!(
        (&draft["draft"], &draft["first_entry"]),
        (&json!(true), &Value::Null)
    );

    h.refuses(&[
        ("/campaigns/details", "Invalid campaign_id: campaign_id is required"),
        ("/campaigns/details?campaign_id=zzz", "Invalid campaign_id: zzz"),
        ("/canvas/details?canvas_id=", "Invalid canvas_id: canvas_id is required"),
        ("/canvas/data_series?canvas_id=zzz&length=1", "Invalid canvas_id: zzz"),
        ("/campaigns/data_series?length=1", "Invalid campaign_id: campaign_id is required"),
        ("/campaigns/data_series?campaign_id=c-all", "Invalid length: length is required and must be an integer between 1 and 100"),
        ("/campaigns/data_series?campaign_id=c-all&length=1&ending_at=soon", "Invalid ending_at: expected an ISO-8601 date or date-time such as 2018-06-28T23:59:59-05:00 or 2022-09-01"),
        ("/canvas/data_series?canvas_id=demo-canvas-welcome", "Invalid length: either length or starting_at is required"),
        ("/canvas/data_series?canvas_id=demo-canvas-welcome&length=1&include_step_breakdown=yes", "Invalid include_step_breakdown: include_step_breakdown must be 'true' or 'false'"),
    ])
    .await;
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn each_pool_has_its_own_budget_and_headers() {
    let h = start(|c| {
        c.campaign_rate_limit_per_minute = 3;
        c.rate_limit_per_hour = 4;
        c.list_rate_limit_per_hour = 2;
    })
    .await;
    let campaign = "/campaigns/data_series?campaign_id=c-all&length=1";
    let minute = ts("2026-11-28T05:11:00Z").as_second();
    let hour = ts("2026-11-28T06:00:00Z").as_second();
    for remaining in [2, 1, 0] {
        assert_eq!(h.get(campaign).await.rate_limit(), (3, remaining, minute));
    }
    let refused = h.get(campaign).await;
    assert_eq!(refused.error(429), "Too Many Requests");
    assert_eq!(refused.rate_limit(), (3, 0, minute));
    // The other pools flow, each with its own headers.
    let canvas = h
        .get("/canvas/data_series?canvas_id=demo-canvas-welcome&length=1")
        .await;
    assert_eq!((canvas.status, canvas.rate_limit()), (200, (4, 3, hour)));
    let list = h.get("/events/list").await;
    assert_eq!((list.status, list.rate_limit()), (200, (2, 1, hour)));
    for path in [
        "/sends/data_series?campaign_id=c-all&send_id=x&length=1",
        "/campaigns/list",
        "/campaigns/details?campaign_id=c-all",
    ] {
        assert_eq!(h.get(path).await.status, 200, "{path}");
    }
    // The shared pool is spent now: campaign analytics, after its minute, still flows.
    let spent = h.get("/canvas/list").await;
    assert_eq!((spent.status, spent.rate_limit()), (429, (4, 0, hour)));
    assert_eq!(h.get("/sessions/data_series?length=1").await.status, 429);
    h.clock.set(ts("2026-11-28T05:11:00Z"));
    let next = h.get(campaign).await;
    assert_eq!((next.status, next.rate_limit()), (200, (3, 2, minute + 60)));
    assert_eq!(h.get("/campaigns/list").await.status, 429);
    assert_eq!(h.get("/purchases/product_list").await.status, 200);
    assert_eq!(h.get("/events/list").await.status, 429);
    assert_eq!(h.simulator.requests_to("/campaigns/data_series"), 5);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn every_messaging_endpoint_needs_its_permission() {
    let endpoints = [
        (
            "/campaigns/data_series?campaign_id=c-all&length=1",
            "campaigns.data_series",
        ),
        (
            "/canvas/data_series?canvas_id=demo-canvas-welcome&length=1",
            "canvas.data_series",
        ),
        (
            "/sends/data_series?campaign_id=c-all&send_id=x&length=1",
            "sends.data_series",
        ),
        ("/campaigns/list", "campaigns.list"),
        ("/canvas/list", "canvas.list"),
        ("/campaigns/details?campaign_id=c-all", "campaigns.details"),
        (
            "/canvas/details?canvas_id=demo-canvas-welcome",
            "canvas.details",
        ),
    ];
    for (granted, permission) in endpoints {
        let h = start(|c| {
            c.permissions = Some(HashSet::from([permission.to_string()]));
        })
        .await;
        assert_eq!(h.get(granted).await.status, 200, "{permission}");
        for (path, missing) in endpoints.iter().filter(|(p, _)| *p != granted) {
            let answer = h.get(path).await;
            assert_eq!(
                answer.error(403),
                format!("Access denied: this API key does not have the {missing} permission"),
            );
            assert!(answer.header("x-ratelimit-remaining").is_some());
        }
        h.simulator.shutdown().await;
    }
}

#[tokio::test]
async fn faults_reach_one_campaign_or_a_messaging_path() {
    let h = start(|_| {}).await;
    let faults = h.simulator.faults();
    faults.set(FaultTarget::campaign("c-all"), Fault::BareStatus(503));
    let all = "/campaigns/data_series?campaign_id=c-all&length=1";
    let email = "/campaigns/data_series?campaign_id=demo-campaign-onboarding-email&length=1";
    assert_eq!(h.get(all).await.status, 503);
    assert_eq!(h.get(email).await.status, 200);
    assert_eq!(
        h.get("/campaigns/details?campaign_id=c-all").await.status,
        200
    );

    faults.set(
        FaultTarget::Path("/campaigns/data_series".into()),
        Fault::WrongShape,
    );
    assert_eq!(h.get(all).await.status, 503, "the parameter wins");
    assert_eq!(
        h.get(email).await.json(),
        json!({"message": "success",
               "data": [{"time": "2026-11-28", "unique_recipients": "lots", "messages": "lots"}]})
    );
    faults.set(
        FaultTarget::canvas("demo-canvas-welcome"),
        Fault::Unsuccessful("partial".into()),
    );
    let answer = h
        .get("/canvas/data_series?canvas_id=demo-canvas-welcome&length=1")
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["message"], "partial");
    assert_eq!(
        answer.json()["data"]["stats"][0]["total_stats"]["entries"],
        UNSUCCESSFUL_VALUE
    );
    faults.set(
        FaultTarget::Path("/campaigns/list".into()),
        Fault::WrongShape,
    );
    assert_eq!(
        h.get("/campaigns/list").await.json(),
        json!({"message": "success", "campaigns": "lots"})
    );
    faults.set(
        FaultTarget::Path("/canvas/details".into()),
        Fault::Unsuccessful("partial".into()),
    );
    let details = h
        .get("/canvas/details?canvas_id=demo-canvas-welcome")
        .await
        .json();
    assert_eq!(details["message"], "partial");
    faults.set(
        FaultTarget::send("order_confirmation"),
        Fault::RateLimited {
            reset_in: Duration::from_secs(30),
        },
    );
    let send = h
        .get("/sends/data_series?campaign_id=demo-campaign-txn-push&send_id=order_confirmation&length=1")
        .await;
    assert_eq!(send.error(429), "Too Many Requests");
    assert_eq!(send.rate_limit().0, 250_000, "the shared pool's limit");
    faults.clear(&FaultTarget::campaign("c-all"));
    faults.clear(&FaultTarget::Path("/campaigns/data_series".into()));
    assert_eq!(h.get(all).await.status, 200);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn the_demo_lists_what_discovery_keeps_and_leaves_out() {
    let h = Harness::start(NOW, |c| {
        *c = SimulatorConfig {
            clock: c.clock.clone(),
            ..SimulatorConfig::demo_at(KEY, ts(NOW))
        }
    })
    .await;
    let names = |items: Vec<Value>| -> Vec<String> {
        items
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(h.get("/campaigns/list").await.list("campaigns")),
        [
            "Onboarding email",
            "Txn order push",
            "Onboarding SMS draft",
            "Txn webhook (paused)",
            "Onboarding spring promo"
        ],
        "archived left out"
    );
    let all = h
        .get("/campaigns/list?include_archived=true")
        .await
        .list("campaigns");
    assert_eq!(all.len(), 2 + DEMO_LEFT_OUT_CAMPAIGNS.len());
    assert_eq!(all[1]["is_api_campaign"], true);
    assert_eq!(all[1]["tags"], json!(["transactional", DEMO_MONITORED_TAG]));
    assert_eq!(
        names(h.get("/canvas/list").await.list("canvases")),
        ["Welcome journey", "Holiday journey", "Spring journey"]
    );
    // The demo's two campaigns, Canvas and send answer non-zero numbers for yesterday.
    let yesterday = "&length=2&ending_at=2026-11-28T00:00:00Z";
    for (path, pointer) in [
        (
            format!(
                "/campaigns/data_series?campaign_id={}",
                DEMO_EMAIL_CAMPAIGN.0
            ),
            "/data/0/messages/email/0/bounces",
        ),
        (
            format!(
                "/campaigns/data_series?campaign_id={}",
                DEMO_PUSH_CAMPAIGN.0
            ),
            "/data/0/messages/ios_push/1/enrolled",
        ),
        (
            format!("/canvas/data_series?canvas_id={}", DEMO_CANVAS.0),
            "/data/stats/0/total_stats/entries",
        ),
        (
            format!(
                "/sends/data_series?campaign_id={}&send_id={}",
                DEMO_SEND.0, DEMO_SEND.1
            ),
            "/data/0/messages/android_push/0/sent",
        ),
    ] {
        let body = h.get(&format!("{path}{yesterday}")).await.success();
        let value = body
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{path}: {body}"));
        assert!(number(value) > 0.0, "{path}");
    }
    h.simulator.shutdown().await;
}
