//! Messaging analytics: campaigns, Canvases and API sends, their lists and details.
//!
//! - [`content`]: what a workspace sends ([`Campaign`], [`Canvas`], [`ApiSend`]);
//! - [`channels`]: the channel keys and the numbers each channel's object carries;
//! - [`numbers`]: the model of the numbers and the public functions that tell a test what the
//!   simulator answers; [`model`] makes a day's numbers, [`campaign_day`] and [`canvas_day`]
//!   those of a campaign (or send) and a Canvas, [`day`] how a day reports them before it is
//!   final (days that keep changing after they end);
//! - [`requests`]: the parameters and their 400s; [`answers`] and [`catalog`]: the bodies;
//! - [`demo`]: the demo's content and generated content for benchmarks.
//!
//! Days are local dates of the workspace's time zone (Braze says so for Canvases only); the day
//! in progress is answered when the workspace includes buckets in progress, as for the other
//! series.

mod answers;
mod campaign_day;
mod canvas_day;
mod catalog;
mod channels;
mod content;
mod day;
mod demo;
mod json;
mod model;
mod numbers;
mod requests;

use std::collections::HashMap;

use jiff::{Timestamp, Zoned};

pub use channels::Channel;
pub use content::{
    Activity, ApiSend, Campaign, Canvas, CanvasStep, CanvasVariant, Lifecycle, Variation,
    VariationForm, VariationKind, CONTROL_GROUP_NAME,
};
pub(crate) use demo::{demo_campaigns, demo_canvases, demo_sends};
pub use demo::{
    generate_messaging, MessagingSize, DEMO_CANVAS, DEMO_EMAIL_CAMPAIGN, DEMO_LEFT_OUT_CAMPAIGNS,
    DEMO_LEFT_OUT_CANVASES, DEMO_MONITORED_TAG, DEMO_PUSH_CAMPAIGN, DEMO_SEND,
};
pub use numbers::{
    campaign_message_fields, campaign_value, canvas_value, send_value, CampaignStat, CanvasStat,
    DYNAMIC_PUSH_KEYS, RESTATEMENT, SEND_RETENTION, VARIATION_CONVERSION_FIELDS,
};

use crate::counts::SeriesShape;
use crate::endpoints::Endpoint;
use crate::params::{ParamError, Query};
use crate::{SimulatorConfig, Unit};
use answers::Breakdown;
use json::Json;

/// The messaging content of a workspace, indexed for answering.
#[derive(Debug)]
pub(crate) struct Messaging {
    campaigns: Vec<Campaign>,
    canvases: Vec<Canvas>,
    sends: HashMap<(String, String), ApiSend>,
    campaign_index: HashMap<String, usize>,
    canvas_index: HashMap<String, usize>,
    form: VariationForm,
}

impl Messaging {
    pub(crate) fn new(config: &SimulatorConfig) -> Self {
        let index = |ids: Vec<&String>| {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect::<HashMap<_, _>>()
        };
        Self {
            campaign_index: index(config.campaigns.iter().map(|c| &c.id).collect()),
            canvas_index: index(config.canvases.iter().map(|c| &c.id).collect()),
            campaigns: config.campaigns.clone(),
            canvases: config.canvases.clone(),
            sends: config
                .sends
                .iter()
                .map(|s| ((s.campaign_id.clone(), s.send_id.clone()), s.clone()))
                .collect(),
            form: config.variation_form,
        }
    }

    /// The body of a 200 to a messaging `endpoint`, or the 400's reason.
    pub(crate) fn answer(
        &self,
        endpoint: Endpoint,
        query: &Query,
        shape: &SeriesShape,
        now: Timestamp,
    ) -> Result<Vec<u8>, ParamError> {
        let time_zone = &shape.time_zone;
        match endpoint {
            Endpoint::CampaignSeries => {
                let days = requests::days(query, time_zone)?;
                let campaign = self.campaign(query)?;
                let starts = day_starts(shape, days, now)?;
                Ok(answers::campaign_series(
                    campaign, None, self.form, &starts, now,
                ))
            }
            Endpoint::SendSeries => {
                let days = requests::days(query, time_zone)?;
                let campaign = self.campaign(query)?;
                let send_id = requests::required(query, "send_id")?;
                let key = (campaign.id.clone(), send_id.to_string());
                match self.sends.get(&key) {
                    None => Ok(Json::success(vec![(
                        "data".into(),
                        Json::Array(Vec::new()),
                    )])),
                    Some(send) => {
                        let starts = day_starts(shape, days, now)?;
                        Ok(answers::campaign_series(
                            campaign,
                            Some(send),
                            self.form,
                            &starts,
                            now,
                        ))
                    }
                }
            }
            Endpoint::CanvasSeries => {
                let days = requests::canvas_days(query, time_zone, now)?;
                let breakdown = Breakdown {
                    variants: requests::flag(query, "include_variant_breakdown")?,
                    steps: requests::flag(query, "include_step_breakdown")?,
                    deleted_steps: requests::flag(query, "include_deleted_step_data")?,
                };
                let canvas = self.canvas(query)?;
                let starts = day_starts(shape, days, now)?;
                Ok(answers::canvas_series(canvas, breakdown, &starts, now))
            }
            Endpoint::CampaignsList => {
                let request = requests::list_request(query, time_zone)?;
                let page = catalog::list_page(
                    &self.campaigns,
                    &request,
                    |c| c.lifecycle,
                    |c| c.last_edited,
                );
                Ok(catalog::campaigns_page(&page))
            }
            Endpoint::CanvasList => {
                let request = requests::list_request(query, time_zone)?;
                let page = catalog::list_page(
                    &self.canvases,
                    &request,
                    |c| c.lifecycle,
                    |c| c.last_edited,
                );
                Ok(catalog::canvases_page(&page))
            }
            Endpoint::CampaignDetails => Ok(catalog::campaign_details(self.campaign(query)?, now)),
            Endpoint::CanvasDetails => Ok(catalog::canvas_details(self.canvas(query)?, now)),
            _ => unreachable!("{endpoint:?} is not a messaging endpoint"),
        }
    }

    fn campaign(&self, query: &Query) -> Result<&Campaign, ParamError> {
        let id = requests::required(query, "campaign_id")?;
        self.campaign_index
            .get(id)
            .map(|&i| &self.campaigns[i])
            .ok_or_else(|| ParamError::CampaignId(id.to_string()))
    }

    fn canvas(&self, query: &Query) -> Result<&Canvas, ParamError> {
        let id = requests::required(query, "canvas_id")?;
        self.canvas_index
            .get(id)
            .map(|&i| &self.canvases[i])
            .ok_or_else(|| ParamError::CanvasId(id.to_string()))
    }
}

fn day_starts(
    shape: &SeriesShape,
    days: requests::Days,
    now: Timestamp,
) -> Result<Vec<Zoned>, ParamError> {
    shape
        .bucket_starts(Unit::Day, days.length, days.ending_at, now)
        .map_err(|_| ParamError::EndingAt)
}

/// The body of a [`crate::Fault::WrongShape`] answer to a messaging `endpoint`: valid JSON
/// whose numbers (and lists) are words.
pub(crate) fn wrong_shape(endpoint: Endpoint, today: jiff::civil::Date) -> Vec<u8> {
    let time = today.to_string();
    let body = match endpoint {
        Endpoint::CampaignSeries | Endpoint::SendSeries => serde_json::json!({
            "message": "success",
            "data": [{"time": time, "unique_recipients": "lots", "messages": "lots"}],
        }),
        Endpoint::CanvasSeries => serde_json::json!({
            "message": "success",
            "data": {"name": "lots", "stats": [{"time": time, "total_stats": {"entries": "lots"}}]},
        }),
        Endpoint::CampaignDetails | Endpoint::CanvasDetails => serde_json::json!({
            "message": "success", "draft": "lots", "enabled": "lots",
            "last_sent": "lots", "last_entry": "lots",
        }),
        _ => {
            let key = endpoint.list_key().unwrap_or("data");
            serde_json::json!({"message": "success", key: "lots"})
        }
    };
    body.to_string().into_bytes()
}

/// The body of a [`crate::Fault::Unsuccessful`] answer to a messaging `endpoint`: `message`
/// instead of `"success"`, beside numbers no reader must use ([`crate::UNSUCCESSFUL_VALUE`]).
pub(crate) fn unsuccessful(endpoint: Endpoint, message: &str, today: jiff::civil::Date) -> Vec<u8> {
    let time = today.to_string();
    let value = crate::UNSUCCESSFUL_VALUE;
    let id = format!("unsuccessful-{value}");
    let body = match endpoint {
        Endpoint::CampaignSeries | Endpoint::SendSeries => serde_json::json!({
            "message": message,
            "data": [{"time": time, "unique_recipients": value, "messages": {}}],
        }),
        Endpoint::CanvasSeries => serde_json::json!({
            "message": message,
            "data": {"name": id, "stats": [{"time": time, "total_stats": {"entries": value}}]},
        }),
        Endpoint::CampaignDetails | Endpoint::CanvasDetails => serde_json::json!({
            "message": message, "name": id, "archived": false, "draft": false, "enabled": true,
            "last_sent": format!("{time}T00:00:00Z"), "last_entry": format!("{time}T00:00:00Z"),
        }),
        _ => {
            let key = endpoint.list_key().unwrap_or("data");
            serde_json::json!({"message": message, key: [{"id": id, "name": id, "tags": []}]})
        }
    };
    body.to_string().into_bytes()
}

#[cfg(test)]
pub(crate) use demo::every_channel_campaign;
