//! Which of Braze's campaigns and Canvases discovery keeps: listed (archived ones are not),
//! named to match, carrying one of the tags when tags are asked for, and with `active_within`
//! live by their details: not a draft, not disabled, and sent (`last_sent`) or entered
//! (`last_entry`) within that window. Braze's lists filter only by *edit* time, and a campaign
//! that keeps sending unedited is exactly the one to watch, so liveness is read from the
//! details, never from `last_edited`.

use std::collections::HashMap;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value as Json};

use super::{usable, List};
use crate::braze::time::parse_time;
use crate::config::MessagingMatch;
use crate::series::Scope;

/// What a campaign's or Canvas's details are asked at, and which field says it is live.
pub(super) struct Details {
    pub path: &'static str,
    pub parameter: &'static str,
    pub permission: &'static str,
    /// `last_sent` (campaigns) or `last_entry` (Canvases).
    pub last_active: &'static str,
}

impl List {
    pub(super) fn details(self) -> Option<Details> {
        match self {
            List::Campaigns => Some(Details {
                path: "campaigns/details",
                parameter: "campaign_id",
                permission: "campaigns.details",
                last_active: "last_sent",
            }),
            List::Canvases => Some(Details {
                path: "canvas/details",
                parameter: "canvas_id",
                permission: "canvas.details",
                last_active: "last_entry",
            }),
            _ => None,
        }
    }
}

/// Until when each campaign or Canvas found live stays live by what its details showed
/// (its last send or entry plus `active_within`), by list and id; only the latest listing's,
/// so it never holds more than Braze lists.
#[derive(Debug, Default)]
pub(super) struct LiveUntil(HashMap<(&'static str, String), Timestamp>);

impl LiveUntil {
    /// Still live at `now` by earlier details, so they need not be asked again.
    pub(super) fn known(&self, list: List, id: &str, now: Timestamp) -> Option<Timestamp> {
        self.0
            .get(&(list.name(), id.to_string()))
            .copied()
            .filter(|until| *until > now)
    }

    /// Replaces `list`'s entries with `found`.
    pub(super) fn replace(&mut self, list: List, found: Vec<(String, Timestamp)>) {
        self.0.retain(|(l, _), _| *l != list.name());
        self.0
            .extend(found.into_iter().map(|(id, t)| ((list.name(), id), t)));
    }
}

/// The listed items whose name matches and (when tags are asked for) that carry one of them,
/// labelled with Braze's name, sorted by id, each once.
pub(super) fn matching(matcher: &MessagingMatch, items: &[Json]) -> Vec<Scope> {
    let mut found: Vec<Scope> = items
        .iter()
        .filter(|item| tagged(matcher, item))
        .filter_map(|item| {
            let id = item.get("id")?.as_str()?;
            let name = item.get("name")?.as_str()?;
            (usable(id) && usable(name) && matcher.pattern.0.is_match(name))
                .then(|| Scope::named(name, id))
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    found
}

fn tagged(matcher: &MessagingMatch, item: &Json) -> bool {
    if matcher.tags.is_empty() {
        return true;
    }
    let tags = item.get("tags").and_then(Json::as_array);
    tags.into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .any(|tag| matcher.tags.iter().any(|t| t == tag))
}

/// Until when the details show it live: its last send (entry) plus `within`; `None` for a
/// draft, a disabled or archived one, or one that never sent. A time without an offset is read
/// in the company time zone, as Braze's other times are.
pub(super) fn live_until(
    details: &Map<String, Json>,
    last_active: &str,
    within: Duration,
    time_zone: &TimeZone,
) -> Option<Timestamp> {
    let flag = |name: &str| details.get(name).and_then(Json::as_bool);
    if flag("draft") == Some(true)
        || flag("archived") == Some(true)
        || flag("enabled") == Some(false)
    {
        return None;
    }
    let last = details.get(last_active)?.as_str()?;
    let last = parse_time(last, time_zone).ok()?;
    last.checked_add(SignedDuration::try_from(within).ok()?)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Pattern;
    use serde_json::json;

    fn matcher(pattern: &str, tags: &[&str]) -> MessagingMatch {
        MessagingMatch {
            pattern: Pattern(regex::Regex::new(pattern).unwrap()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            active_within: None,
        }
    }

    #[test]
    fn names_and_tags_choose() {
        let items = [
            json!({"id": "c-2", "name": "Onboarding push", "tags": ["monitored"]}),
            json!({"id": "c-1", "name": "Txn receipt", "tags": []}),
            json!({"id": "c-3", "name": "Newsletter", "tags": ["monitored"]}),
            json!({"id": "c-2", "name": "Onboarding push", "tags": ["monitored"]}),
            json!({"id": "", "name": "Onboarding broken"}),
            json!({"name": "Onboarding no id"}),
        ];
        let ids = |m: &MessagingMatch| -> Vec<String> {
            matching(m, &items)
                .into_iter()
                .map(|s| s.id.unwrap())
                .collect()
        };
        assert_eq!(ids(&matcher("^(Onboarding|Txn)", &[])), ["c-1", "c-2"]);
        assert_eq!(ids(&matcher("^(Onboarding|Txn)", &["monitored"])), ["c-2"]);
        assert_eq!(ids(&matcher(".*", &["monitored", "x"])), ["c-2", "c-3"]);
    }

    #[test]
    fn live_means_enabled_not_a_draft_and_active_within_the_window() {
        let week = Duration::from_secs(7 * 86_400);
        let utc = TimeZone::UTC;
        let details = |extra: Json| -> Map<String, Json> {
            let mut map = json!({"draft": false, "enabled": true, "archived": false,
                "last_sent": "2026-11-30T10:00:00+00:00"})
            .as_object()
            .unwrap()
            .clone();
            map.extend(extra.as_object().unwrap().clone());
            map
        };
        assert_eq!(
            live_until(&details(json!({})), "last_sent", week, &utc),
            Some("2026-12-07T10:00:00Z".parse().unwrap())
        );
        for dead in [
            json!({"draft": true}),
            json!({"enabled": false}),
            json!({"archived": true}),
            json!({"last_sent": null}),
            json!({"last_sent": "never"}),
        ] {
            assert_eq!(
                live_until(&details(dead.clone()), "last_sent", week, &utc),
                None,
                "{dead}"
            );
        }
        let canvas = json!({"last_entry": "2026-12-01T00:00:00"});
        assert_eq!(
            live_until(
                canvas.as_object().unwrap(),
                "last_entry",
                week,
                &TimeZone::get("Asia/Kolkata").unwrap()
            ),
            Some("2026-12-07T18:30:00Z".parse().unwrap())
        );
    }

    #[test]
    fn live_until_keeps_only_the_latest_listing_of_a_list() {
        let mut known = LiveUntil::default();
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        known.replace(
            List::Campaigns,
            vec![("c-1".into(), t("2026-12-07T00:00:00Z"))],
        );
        known.replace(
            List::Canvases,
            vec![("c-1".into(), t("2026-12-09T00:00:00Z"))],
        );
        assert_eq!(
            known.known(List::Campaigns, "c-1", t("2026-12-06T00:00:00Z")),
            Some(t("2026-12-07T00:00:00Z"))
        );
        assert_eq!(
            known.known(List::Campaigns, "c-1", t("2026-12-07T00:00:00Z")),
            None
        );
        known.replace(List::Campaigns, vec![]);
        assert_eq!(
            known.known(List::Campaigns, "c-1", t("2026-12-01T00:00:00Z")),
            None
        );
        assert!(known
            .known(List::Canvases, "c-1", t("2026-12-01T00:00:00Z"))
            .is_some());
    }
}
