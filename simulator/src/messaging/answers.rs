//! The bodies of `/campaigns/data_series`, `/sends/data_series` and `/canvas/data_series`.
//!
//! - Campaigns and sends: `{"message": "success", "data": [{"time": "2026-11-28",
//!   <campaign numbers>, "messages": {"<channel>": [{<variation label>, <numbers>,
//!   <dynamic keys>}, …]}}, …]}`, a day per local date (`time` is the date alone), oldest first.
//! - Canvases: `{"message": "success", "data": {"name": …, "stats": [{"time": …,
//!   "total_stats": {…}, "variant_stats": {"<id>": {"name": …, …}}, "step_stats": {"<id>":
//!   {"name": …, …, "messages": {"<channel>": [{…}]}}}}]}}`, `variant_stats` only with
//!   `include_variant_breakdown=true`, `step_stats` only with `include_step_breakdown=true`,
//!   deleted steps only with `include_deleted_step_data=true` as well.

use std::borrow::Cow;

use jiff::Zoned;

use super::campaign_day::{campaign_day, CampaignDay};
use super::canvas_day::{canvas_day, CanvasDay};
use super::day::Seen;
use super::json::{fields, Json, Object};
use super::{ApiSend, Campaign, Canvas, VariationForm};

/// The days of a campaign's (`send: None`) or API send's answer.
pub(crate) fn campaign_series(
    campaign: &Campaign,
    send: Option<&ApiSend>,
    form: VariationForm,
    days: &[Zoned],
    now: jiff::Timestamp,
) -> Vec<u8> {
    let data = days
        .iter()
        .filter_map(|day| {
            let seen = Seen::new(day, now).ok()?;
            let answer = campaign_day(campaign, form, send, &seen)?;
            Some(campaign_point(day, &answer))
        })
        .collect();
    Json::success(vec![("data".into(), Json::Array(data))])
}

fn campaign_point(day: &Zoned, answer: &CampaignDay<'_>) -> Json {
    let mut point: Object = vec![("time".into(), Json::str(day.date().to_string()))];
    point.extend(fields(&answer.totals));
    let messages = answer
        .messages
        .iter()
        .map(|(channel, objects)| {
            let objects = objects
                .iter()
                .map(|object| {
                    let (label, value) = &object.label;
                    let mut fields_of: Object =
                        vec![(Cow::Borrowed(*label), Json::str(value.clone()))];
                    fields_of.extend(fields(&object.numbers));
                    fields_of.extend(
                        object
                            .dynamic
                            .iter()
                            .map(|(name, count)| (Cow::Borrowed(*name), Json::Count(*count))),
                    );
                    Json::Object(fields_of)
                })
                .collect();
            (Cow::Borrowed(channel.key()), Json::Array(objects))
        })
        .collect();
    point.push(("messages".into(), Json::Object(messages)));
    Json::Object(point)
}

/// What a Canvas answer breaks its days down by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Breakdown {
    pub(crate) variants: bool,
    pub(crate) steps: bool,
    pub(crate) deleted_steps: bool,
}

/// The days of a Canvas's answer.
pub(crate) fn canvas_series(
    canvas: &Canvas,
    breakdown: Breakdown,
    days: &[Zoned],
    now: jiff::Timestamp,
) -> Vec<u8> {
    let stats = days
        .iter()
        .filter_map(|day| {
            let seen = Seen::new(day, now).ok()?;
            Some(canvas_point(day, &canvas_day(canvas, &seen), breakdown))
        })
        .collect();
    let data = vec![
        ("name".into(), Json::str(canvas.name.clone())),
        ("stats".into(), Json::Array(stats)),
    ];
    Json::success(vec![("data".into(), Json::Object(data))])
}

fn canvas_point(day: &Zoned, answer: &CanvasDay<'_>, breakdown: Breakdown) -> Json {
    let mut point: Object = vec![
        ("time".into(), Json::str(day.date().to_string())),
        (
            "total_stats".into(),
            Json::Object(fields(&answer.totals).collect()),
        ),
    ];
    if breakdown.variants {
        let variants = answer
            .variants
            .iter()
            .map(|(variant, numbers)| {
                let mut object: Object = vec![("name".into(), Json::str(variant.name.clone()))];
                object.extend(fields(numbers));
                (Cow::Owned(variant.id.clone()), Json::Object(object))
            })
            .collect();
        point.push(("variant_stats".into(), Json::Object(variants)));
    }
    if breakdown.steps {
        let steps = answer
            .steps
            .iter()
            .filter(|step| breakdown.deleted_steps || !step.step.deleted)
            .map(|step| {
                let mut object: Object = vec![("name".into(), Json::str(step.step.name.clone()))];
                object.extend(fields(&step.numbers));
                let messages = step
                    .messages
                    .iter()
                    .map(|(channel, numbers)| {
                        let one = Json::Object(fields(numbers).collect());
                        (Cow::Borrowed(channel.key()), Json::Array(vec![one]))
                    })
                    .collect();
                object.push(("messages".into(), Json::Object(messages)));
                (Cow::Owned(step.step.id.clone()), Json::Object(object))
            })
            .collect();
        point.push(("step_stats".into(), Json::Object(steps)));
    }
    Json::Object(point)
}
