//! Discovery: the segments, events and products Braze lists, read again every
//! `discover.interval` and handed to the refresher, which polls their series beside the
//! configured ones.
//!
//! `/events/list` and `/purchases/product_list` share a limit of 1,000 requests per hour per
//! workspace with every other integration, so discovery pages through them within
//! [`LIST_SHARE_PER_HOUR`] requests an hour, and at most [`MAX_PAGES`] pages a list.
//! `/segments/list` is on the default limit and is paged the same way. A listing that fails
//! (a 403 for a missing permission, a 429, an outage) keeps that list as it was and is logged;
//! a name that disappears from a complete listing stops being exported at once.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::braze::{BrazeClient, FetchError};
use crate::config::{DiscoverSettings, Pattern};
use crate::pacing::Pacer;
use crate::series::{merge_segments, Lists, Scope};
use crate::telemetry::Telemetry;

/// Requests per hour discovery allows itself on the list endpoints: 5% of the 1,000 that
/// `/events/list` and `/purchases/product_list` share with every integration.
pub const LIST_SHARE_PER_HOUR: u64 = 50;
/// Pages read of one list in one listing, at most (12,500 events or products, 5,000 segments).
pub const MAX_PAGES: u32 = 50;

/// One of Braze's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Segments,
    Events,
    Products,
}

impl List {
    /// The `list` label of `braze_discovered`.
    pub fn name(self) -> &'static str {
        match self {
            List::Segments => "segments",
            List::Events => "events",
            List::Products => "products",
        }
    }

    fn path(self) -> &'static str {
        match self {
            List::Segments => "segments/list",
            List::Events => "events/list",
            List::Products => "purchases/product_list",
        }
    }

    /// The key of the answer's array.
    fn key(self) -> &'static str {
        match self {
            List::Segments => "segments",
            List::Events => "events",
            List::Products => "products",
        }
    }

    fn page_size(self) -> usize {
        match self {
            List::Segments => 100,
            List::Events | List::Products => 250,
        }
    }

    fn permission(self) -> &'static str {
        match self {
            List::Segments => "segments.list",
            List::Events => "events.list",
            List::Products => "purchases.product_list",
        }
    }
}

/// Reads Braze's lists and publishes what matches.
#[derive(Debug)]
pub struct Discoverer {
    client: BrazeClient,
    settings: DiscoverSettings,
    /// The configured segments, so renames of colliding names are logged.
    configured_segments: Vec<Scope>,
    lists: watch::Sender<Lists>,
    pacer: Pacer,
    telemetry: Telemetry,
}

impl Discoverer {
    pub fn new(
        client: BrazeClient,
        settings: DiscoverSettings,
        configured_segments: Vec<Scope>,
        telemetry: Telemetry,
    ) -> (Self, watch::Receiver<Lists>) {
        let (lists, receiver) = watch::channel(Lists::default());
        let discoverer = Self {
            client,
            settings,
            configured_segments,
            lists,
            pacer: Pacer::new(LIST_SHARE_PER_HOUR),
            telemetry,
        };
        (discoverer, receiver)
    }

    /// Lists at once, then every `discover.interval`, until the task is dropped.
    pub async fn run(mut self) {
        loop {
            let started = Instant::now();
            self.discover_once().await;
            tokio::time::sleep_until(started + self.settings.interval).await;
        }
    }

    /// One listing of every list the settings name; publishes the result if it changed.
    pub async fn discover_once(&mut self) {
        let mut lists = self.lists.borrow().clone();
        let wanted = [
            (List::Segments, self.settings.segments.clone()),
            (List::Events, self.settings.events.clone()),
            (List::Products, self.settings.products.clone()),
        ];
        for (list, pattern) in wanted {
            let Some(pattern) = pattern else { continue };
            match self.read(list).await {
                Ok(items) => self.keep(list, &pattern, &items, &mut lists),
                Err(error) => self.failed(list, &error),
            }
        }
        self.lists.send_if_modified(|current| {
            let changed = *current != lists;
            *current = lists;
            changed
        });
    }

    /// Every page of `list`, until a short page (Braze's last) or [`MAX_PAGES`].
    async fn read(&mut self, list: List) -> Result<Vec<Json>, FetchError> {
        let mut items = Vec::new();
        for page in 0..MAX_PAGES {
            let start_at = self.pacer.next_start(Instant::now());
            tokio::time::sleep_until(start_at).await;
            self.pacer.started(Instant::now());
            let fetch = self
                .client
                .list_page(list.path(), list.key(), list.permission(), page)
                .await;
            if let Some(limit) = &fetch.rate_limit {
                if limit.remaining == Some(0) {
                    self.pacer.hold_off(Instant::now(), Duration::from_secs(60));
                }
            }
            let page_items = fetch.result?;
            let last = page_items.len() < list.page_size();
            items.extend(page_items);
            if last {
                return Ok(items);
            }
        }
        warn!(
            list = list.name(),
            pages = MAX_PAGES,
            "Braze's list is longer than discovery reads; the rest is not exported"
        );
        Ok(items)
    }

    /// Keeps what matches in `lists`, and says what changed.
    fn keep(&self, list: List, pattern: &Pattern, items: &[Json], lists: &mut Lists) {
        let before = names(list, lists);
        match list {
            List::Segments => lists.segments = matching_segments(pattern, items),
            List::Events => lists.events = matching_names(pattern, items),
            List::Products => lists.products = matching_names(pattern, items),
        }
        let after = names(list, lists);
        self.telemetry.discovered(list.name(), after.len());
        if before != after {
            let added = after.difference(&before).count();
            let removed = before.difference(&after).count();
            info!(
                list = list.name(),
                kept = after.len(),
                added,
                removed,
                "discovery read Braze's list"
            );
        }
        if list == List::Segments {
            for label in merge_segments(&self.configured_segments, &lists.segments).1 {
                info!(
                    segment_name = %label,
                    "a discovered segment's name is taken (by a configured segment or another Braze segment of that name); it is labelled with its id"
                );
            }
        }
    }

    fn failed(&self, list: List, error: &FetchError) {
        match error.reason() {
            crate::braze::FailureReason::Forbidden => warn!(
                list = list.name(),
                error = %error,
                permission = list.permission(),
                "discovery failed: the API key lacks the permission {}; the list stays as it was",
                list.permission()
            ),
            _ => {
                warn!(list = list.name(), error = %error, "discovery failed; the list stays as it was")
            }
        }
    }
}

fn names(list: List, lists: &Lists) -> BTreeSet<String> {
    match list {
        List::Segments => lists
            .segments
            .iter()
            .map(|s| s.id.clone().unwrap_or_default())
            .collect(),
        List::Events => lists.events.iter().cloned().collect(),
        List::Products => lists.products.iter().cloned().collect(),
    }
}

/// Names (events, products) that match, as Braze writes them, without duplicates, sorted.
fn matching_names(pattern: &Pattern, items: &[Json]) -> Vec<String> {
    let names: BTreeSet<String> = items
        .iter()
        .filter_map(Json::as_str)
        .filter(|name| usable(name) && pattern.0.is_match(name))
        .map(str::to_string)
        .collect();
    names.into_iter().collect()
}

/// Analytics-enabled segments whose name matches, labelled with Braze's name, sorted by id.
/// A segment without analytics tracking has no history: asking for it fails.
fn matching_segments(pattern: &Pattern, items: &[Json]) -> Vec<Scope> {
    let mut segments: Vec<Scope> = items
        .iter()
        .filter(|s| s.get("analytics_tracking_enabled").and_then(Json::as_bool) == Some(true))
        .filter_map(|s| {
            let id = s.get("id")?.as_str()?;
            let name = s.get("name")?.as_str()?;
            (usable(id) && usable(name) && pattern.0.is_match(name)).then(|| Scope::named(name, id))
        })
        .collect();
    segments.sort_by(|a, b| a.id.cmp(&b.id));
    segments.dedup_by(|a, b| a.id == b.id);
    segments
}

/// A name that can be a label value and a query parameter: not empty, no control characters.
fn usable(text: &str) -> bool {
    !text.trim().is_empty() && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pattern(text: &str) -> Pattern {
        Pattern(regex::Regex::new(text).unwrap())
    }

    #[test]
    fn names_that_match_are_kept_sorted_once() {
        let items = [
            json!("signup"),
            json!("checkout"),
            json!("signup"),
            json!(7),
            json!(""),
        ];
        assert_eq!(
            matching_names(&pattern(".*"), &items),
            ["checkout", "signup"]
        );
        assert_eq!(matching_names(&pattern("^sign"), &items), ["signup"]);
    }

    #[test]
    fn only_analytics_enabled_segments_that_match_are_kept() {
        let items = [
            json!({"id": "s-2", "name": "vip", "analytics_tracking_enabled": true, "tags": []}),
            json!({"id": "s-1", "name": "paying", "analytics_tracking_enabled": true}),
            json!({"id": "s-3", "name": "vip old", "analytics_tracking_enabled": false}),
            json!({"id": "s-4", "name": "casual", "analytics_tracking_enabled": true}),
            json!({"name": "no id", "analytics_tracking_enabled": true}),
        ];
        let kept = matching_segments(&pattern("^(paying|vip)"), &items);
        assert_eq!(
            kept,
            [Scope::named("paying", "s-1"), Scope::named("vip", "s-2")]
        );
    }
}
