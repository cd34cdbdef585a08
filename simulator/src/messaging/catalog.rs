//! `/campaigns/list`, `/canvas/list`, `/campaigns/details` and `/canvas/details`.
//!
//! - The lists hold 100 a page, from page 0, in creation order (the configuration's order),
//!   oldest first, or newest first for `sort_direction=desc`; archived ones only with
//!   `include_archived=true`; with `last_edit.time[gt]`, only those edited after it. Filters
//!   apply before paging; a page shorter than 100 is the last, a page past the end is empty.
//! - Times are UTC instants, `2026-11-28T10:00:00Z` as Braze's Canvas example writes them.
//!   `first_sent`/`last_sent` and `first_entry`/`last_entry` are "the date and hour": they are
//!   written on the hour. An ongoing one's last is the start of the clock's current hour; one
//!   that never sent (or has not started by now) has `null` for both. `created_at` is its first
//!   activity or last edit, whichever came first (no creation time is configured).
//! - Details carry Braze's documented fields; those the simulator has nothing for are empty
//!   (`description: ""`, `teams: []`, `has_post_launch_draft: false`). `schedule_type` is
//!   `api_triggered` for API campaigns and `date` otherwise. Campaign `messages` are keyed by
//!   [`super::Campaign::message_id`], one per variation and channel, with `channel` and `name`
//!   (a control group: `channel` and `"type": "control"`, as Braze's page shows it).
//!   `conversion_behaviors` are "Performs Custom Event" with a one-day window.
//! - Canvas details list variants with `first_step_ids` (the first step that is not deleted,
//!   for every variant) and the steps that are not deleted, in order, each leading to the next
//!   (`next_step_ids`, and `next_paths` with a `null` name), `type: "message"`, its channels,
//!   and one message per channel keyed `"{step id}-{channel key}"`.

use jiff::Timestamp;

use super::json::{Json, Object};
use super::requests::ListRequest;
use super::{Activity, Campaign, Canvas, Lifecycle};
use crate::params::SortDirection;

/// Campaigns or Canvases per page of their lists.
pub(crate) const PAGE_SIZE: usize = 100;

/// `2026-11-28T10:00:00Z`.
fn instant(t: Timestamp) -> Json {
    Json::str(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Down to the hour.
fn hour_of(t: Timestamp) -> Timestamp {
    let second = t.as_second();
    Timestamp::from_second(second - second.rem_euclid(3_600)).unwrap_or(t)
}

/// The first and last send (or entry) as of `now`: `None` before the first.
pub(crate) fn first_and_last(activity: Activity, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
    let (since, until) = match activity {
        Activity::Never => return None,
        Activity::Ongoing { since } => (since, now),
        Activity::Ended { since, until } => (since, until.min(now)),
    };
    (since <= now).then(|| (hour_of(since), hour_of(until.max(since))))
}

fn created_at(activity: Activity, last_edited: Timestamp) -> Timestamp {
    match activity {
        Activity::Never => last_edited,
        Activity::Ongoing { since } | Activity::Ended { since, .. } => since.min(last_edited),
    }
}

/// The entries of one page of a list.
pub(crate) fn list_page<'a, T>(
    items: &'a [T],
    request: &ListRequest,
    lifecycle: impl Fn(&T) -> Lifecycle,
    last_edited: impl Fn(&T) -> Timestamp,
) -> Vec<&'a T> {
    let kept = |item: &&T| {
        (request.include_archived || !lifecycle(item).archived())
            && request
                .edited_after
                .is_none_or(|after| last_edited(item) > after)
    };
    let ordered: Vec<&T> = match request.direction {
        SortDirection::Asc => items.iter().filter(kept).collect(),
        SortDirection::Desc => items.iter().rev().filter(kept).collect(),
    };
    let start = usize::try_from(request.page)
        .ok()
        .and_then(|page| page.checked_mul(PAGE_SIZE))
        .unwrap_or(usize::MAX);
    ordered.into_iter().skip(start).take(PAGE_SIZE).collect()
}

/// `{"message": "success", "campaigns": [{"id", "last_edited", "name", "is_api_campaign", "tags"}]}`.
pub(crate) fn campaigns_page(campaigns: &[&Campaign]) -> Vec<u8> {
    let entries = campaigns.iter().map(|c| {
        let api = ("is_api_campaign".into(), Json::Bool(c.is_api_campaign));
        list_entry(&c.id, c.last_edited, &c.name, Some(api), &c.tags)
    });
    Json::success(vec![("campaigns".into(), Json::Array(entries.collect()))])
}

/// `{"message": "success", "canvases": [{"id", "last_edited", "name", "tags"}]}`.
pub(crate) fn canvases_page(canvases: &[&Canvas]) -> Vec<u8> {
    let entries = canvases
        .iter()
        .map(|c| list_entry(&c.id, c.last_edited, &c.name, None, &c.tags));
    Json::success(vec![("canvases".into(), Json::Array(entries.collect()))])
}

/// `{"id", "last_edited", "name", <extra>, "tags"}`.
fn list_entry(
    id: &str,
    last_edited: Timestamp,
    name: &str,
    extra: Option<(std::borrow::Cow<'static, str>, Json)>,
    tags: &[String],
) -> Json {
    let mut entry: Object = vec![
        ("id".into(), Json::str(id)),
        ("last_edited".into(), instant(last_edited)),
        ("name".into(), Json::str(name)),
    ];
    entry.extend(extra);
    entry.push((
        "tags".into(),
        Json::strings(tags.iter().map(String::as_str)),
    ));
    Json::Object(entry)
}

/// `archived`, `draft`, `enabled`, `has_post_launch_draft`.
fn state(lifecycle: Lifecycle) -> Object {
    vec![
        ("archived".into(), Json::Bool(lifecycle.archived())),
        ("draft".into(), Json::Bool(lifecycle.draft())),
        ("enabled".into(), Json::Bool(lifecycle.enabled())),
        ("has_post_launch_draft".into(), Json::Bool(false)),
    ]
}

/// `first_<what>` and `last_<what>`.
fn activity_fields(
    activity: Activity,
    now: Timestamp,
    first: &'static str,
    last: &'static str,
) -> Object {
    let (first_at, last_at) = match first_and_last(activity, now) {
        Some((a, b)) => (instant(a), instant(b)),
        None => (Json::Null, Json::Null),
    };
    vec![(first.into(), first_at), (last.into(), last_at)]
}

fn conversion_behaviors(events: &[String]) -> Json {
    Json::Array(
        events
            .iter()
            .take(4)
            .map(|event| {
                Json::Object(vec![
                    ("type".into(), Json::str("Performs Custom Event")),
                    ("window".into(), Json::Count(86_400)),
                    ("custom_event_name".into(), Json::str(event.clone())),
                ])
            })
            .collect(),
    )
}

/// The body of `/campaigns/details` at `now`.
pub(crate) fn campaign_details(campaign: &Campaign, now: Timestamp) -> Vec<u8> {
    let mut body: Object = vec![
        (
            "created_at".into(),
            instant(created_at(campaign.activity, campaign.last_edited)),
        ),
        ("updated_at".into(), instant(campaign.last_edited)),
    ];
    body.extend(state(campaign.lifecycle));
    body.extend([
        ("name".into(), Json::str(campaign.name.clone())),
        ("description".into(), Json::str("")),
        (
            "schedule_type".into(),
            Json::str(if campaign.is_api_campaign {
                "api_triggered"
            } else {
                "date"
            }),
        ),
        (
            "channels".into(),
            Json::strings(campaign.channels.iter().map(|c| c.key())),
        ),
    ]);
    body.extend(activity_fields(
        campaign.activity,
        now,
        "first_sent",
        "last_sent",
    ));
    body.extend([
        (
            "tags".into(),
            Json::strings(campaign.tags.iter().map(String::as_str)),
        ),
        ("teams".into(), Json::Array(Vec::new())),
        ("messages".into(), Json::Object(campaign_messages(campaign))),
        (
            "conversion_behaviors".into(),
            conversion_behaviors(&campaign.conversion_events),
        ),
    ]);
    Json::success(body)
}

fn campaign_messages(campaign: &Campaign) -> Object {
    let mut messages = Object::new();
    for variation in &campaign.variations {
        for &channel in &campaign.channels {
            let id = campaign.message_id(variation, channel);
            if messages.iter().any(|(key, _)| *key == id) {
                continue; // a control group: one entry
            }
            let second = if variation.is_control() {
                ("type".into(), Json::str("control"))
            } else {
                ("name".into(), Json::str(variation.name.clone()))
            };
            let message = vec![("channel".into(), Json::str(channel.key())), second];
            messages.push((id.into(), Json::Object(message)));
        }
    }
    messages
}

/// The body of `/canvas/details` at `now`.
pub(crate) fn canvas_details(canvas: &Canvas, now: Timestamp) -> Vec<u8> {
    let steps: Vec<_> = canvas.steps.iter().filter(|s| !s.deleted).collect();
    let mut channels: Vec<&str> = Vec::new();
    for step in &steps {
        for channel in &step.channels {
            if !channels.contains(&channel.key()) {
                channels.push(channel.key());
            }
        }
    }
    let first_step_ids = Json::strings(steps.first().map(|s| s.id.as_str()));
    let variants = canvas
        .variants
        .iter()
        .map(|variant| {
            Json::Object(vec![
                ("name".into(), Json::str(variant.name.clone())),
                ("id".into(), Json::str(variant.id.clone())),
                ("first_step_ids".into(), first_step_ids.clone()),
            ])
        })
        .collect();
    let step_objects = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let next: Vec<&str> = steps
                .get(i + 1)
                .map(|s| s.id.as_str())
                .into_iter()
                .collect();
            let next_paths = next
                .iter()
                .map(|id| {
                    Json::Object(vec![
                        ("name".into(), Json::Null),
                        ("next_step_id".into(), Json::str(*id)),
                    ])
                })
                .collect();
            let messages = step
                .channels
                .iter()
                .map(|c| {
                    let message = Json::Object(vec![("channel".into(), Json::str(c.key()))]);
                    (format!("{}-{}", step.id, c.key()).into(), message)
                })
                .collect();
            Json::Object(vec![
                ("name".into(), Json::str(step.name.clone())),
                ("type".into(), Json::str("message")),
                ("id".into(), Json::str(step.id.clone())),
                ("next_step_ids".into(), Json::strings(next.iter().copied())),
                ("next_paths".into(), Json::Array(next_paths)),
                (
                    "channels".into(),
                    Json::strings(step.channels.iter().map(|c| c.key())),
                ),
                ("messages".into(), Json::Object(messages)),
            ])
        })
        .collect();
    let mut body: Object = vec![
        (
            "created_at".into(),
            instant(created_at(canvas.activity, canvas.last_edited)),
        ),
        ("updated_at".into(), instant(canvas.last_edited)),
        ("name".into(), Json::str(canvas.name.clone())),
        ("description".into(), Json::str("")),
    ];
    body.extend(state(canvas.lifecycle));
    body.push(("schedule_type".into(), Json::str("date")));
    body.extend(activity_fields(
        canvas.activity,
        now,
        "first_entry",
        "last_entry",
    ));
    body.extend([
        ("channels".into(), Json::strings(channels)),
        ("variants".into(), Json::Array(variants)),
        (
            "tags".into(),
            Json::strings(canvas.tags.iter().map(String::as_str)),
        ),
        ("teams".into(), Json::Array(Vec::new())),
        ("steps".into(), Json::Array(step_objects)),
    ]);
    Json::success(body)
}
