//! Discovery: the segments, events and products Braze lists, read again every
//! `discover.interval` and handed to the refresher, which polls their series beside the
//! configured ones.
//!
//! `/events/list` and `/purchases/product_list` share a limit of 1,000 requests per hour per
//! workspace with every other integration, so discovery pages through them within
//! [`LIST_SHARE_PER_HOUR`] requests an hour, and at most [`MAX_PAGES`] pages a list.
//! `/segments/list` is on the default limit and is paged the same way. Campaigns and Canvases
//! (`/campaigns/list`, `/canvas/list`, and their details for `active_within`) are on the shared
//! pool: discovery spends at most [`SHARED_SHARE_PER_HOUR`] requests an hour there ([`live`]).
//! A listing that fails (a 403 for a missing permission, a 429, an outage) keeps that list as
//! it was and is logged; a name that disappears from a complete listing stops being exported
//! at once.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

mod live;

use crate::braze::{BrazeClient, FetchError};
use crate::config::{Config, DiscoverSettings, MessagingMatch, Pattern};
use crate::pacing::Pacer;
use crate::series::{merge_segments, Lists, Scope};

/// Requests per hour discovery allows itself on the list endpoints: 5% of the 1,000 that
/// `/events/list` and `/purchases/product_list` share with every integration.
pub const LIST_SHARE_PER_HOUR: u64 = 50;
/// Requests per hour discovery allows itself on the shared pool for campaigns and Canvases
/// (their lists, and their details for `active_within`): under 1 % of Braze's 250,000, enough
/// to check 1,000 campaigns every `discover.interval` of an hour.
pub const SHARED_SHARE_PER_HOUR: u64 = 2_000;
/// Pages read of one list in one listing, at most (12,500 events or products, 5,000 segments).
pub const MAX_PAGES: u32 = 50;

/// One of Braze's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Segments,
    Events,
    Products,
    Campaigns,
    Canvases,
}

impl List {
    /// The `list` label of `braze_discovered`.
    pub fn name(self) -> &'static str {
        match self {
            List::Segments => "segments",
            List::Events => "events",
            List::Products => "products",
            List::Campaigns => "campaigns",
            List::Canvases => "canvases",
        }
    }

    fn path(self) -> &'static str {
        match self {
            List::Segments => "segments/list",
            List::Events => "events/list",
            List::Products => "purchases/product_list",
            List::Campaigns => "campaigns/list",
            List::Canvases => "canvas/list",
        }
    }

    /// The key of the answer's array.
    fn key(self) -> &'static str {
        self.name()
    }

    fn page_size(self) -> usize {
        match self {
            List::Segments | List::Campaigns | List::Canvases => 100,
            List::Events | List::Products => 250,
        }
    }

    fn permission(self) -> &'static str {
        match self {
            List::Segments => "segments.list",
            List::Events => "events.list",
            List::Products => "purchases.product_list",
            List::Campaigns => "campaigns.list",
            List::Canvases => "canvas.list",
        }
    }

    /// Whether its pages are on the shared pool, paced by discovery's share of it, rather
    /// than by its share of the list pool (segments stay there, as before messaging).
    fn on_shared_pool(self) -> bool {
        matches!(self, List::Campaigns | List::Canvases)
    }
}

/// What one listing found in one workspace: the lists as they now stand, and how many items
/// each list read keeps (for `braze_discovered`).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The workspace's `workspace` label value.
    pub workspace: Option<String>,
    pub lists: Lists,
    pub kept: Vec<(&'static str, usize)>,
    /// The lists this listing could not read (they stay as they were in `lists`).
    pub failed: Vec<&'static str>,
}

/// What a listing keeps (where it reads is the client's, and keys its [`Memory`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub settings: DiscoverSettings,
    /// The configured segments, campaigns and Canvases, so renames of colliding names are
    /// logged.
    pub configured_segments: Vec<Scope>,
    pub configured_campaigns: Vec<Scope>,
    pub configured_canvases: Vec<Scope>,
}

/// What a workspace's discovery carries across reloads, which start its discoverer again with
/// the new client: its share of the list limit (a reload spends none of it again), the lists
/// as last sent (a listing that fails after a reload keeps them, as any failed listing does),
/// and when it last listed with what (a reload that leaves `discover:` as it was does not list
/// before the interval is up).
#[derive(Debug)]
struct Memory {
    pacer: Pacer,
    /// Discovery's share of the shared pool: campaigns and Canvases.
    shared: Pacer,
    lists: Lists,
    listed: Option<(Instant, Listing)>,
    /// Campaigns and Canvases found live, until when they stay live by what their details
    /// showed: their details are not asked again before then.
    live_until: live::LiveUntil,
}

impl Default for Memory {
    fn default() -> Self {
        Self {
            pacer: Pacer::new(LIST_SHARE_PER_HOUR),
            shared: Pacer::new(SHARED_SHARE_PER_HOUR),
            lists: Lists::default(),
            listed: None,
            live_until: live::LiveUntil::default(),
        }
    }
}

type SharedMemory = std::sync::Arc<std::sync::Mutex<Memory>>;
type MemoryKey = (Option<String>, reqwest::Url);

fn lock(memory: &SharedMemory) -> std::sync::MutexGuard<'_, Memory> {
    memory.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads one workspace's lists and sends what matches.
#[derive(Debug)]
pub struct Discoverer {
    workspace: Option<String>,
    client: BrazeClient,
    listing: Listing,
    found: mpsc::Sender<Found>,
    memory: SharedMemory,
}

impl Discoverer {
    pub fn new(
        workspace: Option<String>,
        client: BrazeClient,
        listing: Listing,
        found: mpsc::Sender<Found>,
    ) -> Self {
        Self {
            workspace,
            client,
            listing,
            found,
            memory: SharedMemory::default(),
        }
    }

    /// The discoverer of a workspace that has `discover:`.
    fn of(config: &Config, client: &BrazeClient, found: mpsc::Sender<Found>) -> Option<Self> {
        let listing = Listing {
            settings: config.discover.clone()?,
            configured_segments: config.segments.clone(),
            configured_campaigns: config.campaigns.clone(),
            configured_canvases: config.canvases.clone(),
        };
        Some(Self::new(
            config.workspace.clone(),
            client.clone(),
            listing,
            found,
        ))
    }

    /// When the next listing is due: at once, unless the last one listed the same way less
    /// than `discover.interval` ago.
    fn next_listing(&self) -> Instant {
        let now = Instant::now();
        match &lock(&self.memory).listed {
            Some((at, listing)) if *listing == self.listing => {
                (*at + self.listing.settings.interval).max(now)
            }
            _ => now,
        }
    }

    /// Lists when due ([`Self::next_listing`]), then every `discover.interval`, until the
    /// task is dropped.
    pub async fn run(mut self) {
        loop {
            tokio::time::sleep_until(self.next_listing()).await;
            let started = Instant::now();
            self.discover_once().await;
            lock(&self.memory).listed = Some((started, self.listing.clone()));
        }
    }

    /// One listing of every list the settings name; sends what it found.
    pub async fn discover_once(&mut self) {
        let mut lists = lock(&self.memory).lists.clone();
        let mut kept = Vec::new();
        let mut failed = Vec::new();
        let settings = self.listing.settings.clone();
        // Campaigns and Canvases first, and sent on their own when the list pool's lists come
        // after them: those are on another pool, whose hold-off must not delay them.
        let messaging = [
            (List::Campaigns, &settings.campaigns),
            (List::Canvases, &settings.canvases),
        ];
        for (list, matcher) in messaging {
            let Some(matcher) = matcher else { continue };
            match self.read_live(list, matcher).await {
                Ok(found) => kept.push((list.name(), self.keep_live(list, found, &mut lists))),
                Err(error) => {
                    self.failed(list, &error);
                    failed.push(list.name());
                }
            }
        }
        let wanted = [
            (List::Segments, settings.segments.clone()),
            (List::Events, settings.events.clone()),
            (List::Products, settings.products.clone()),
        ];
        if !kept.is_empty() && wanted.iter().any(|(_, p)| p.is_some()) {
            self.send(
                &lists,
                std::mem::take(&mut kept),
                std::mem::take(&mut failed),
            )
            .await;
        }
        for (list, pattern) in wanted {
            let Some(pattern) = pattern else { continue };
            match self.read(list).await {
                Ok(items) => {
                    kept.push((list.name(), self.keep(list, &pattern, &items, &mut lists)))
                }
                Err(error) => {
                    self.failed(list, &error);
                    failed.push(list.name());
                }
            }
        }
        self.send(&lists, kept, failed).await;
    }

    /// Remembers `lists` and sends them, with what this part of the listing kept and failed.
    async fn send(
        &self,
        lists: &Lists,
        kept: Vec<(&'static str, usize)>,
        failed: Vec<&'static str>,
    ) {
        lock(&self.memory).lists = lists.clone();
        let found = Found {
            workspace: self.workspace.clone(),
            lists: lists.clone(),
            kept,
            failed,
        };
        // The refresher is gone only when the exporter stops.
        let _ = self.found.send(found).await;
    }

    /// Every page of `list`, until a short page (Braze's last) or [`MAX_PAGES`].
    async fn read(&mut self, list: List) -> Result<Vec<Json>, FetchError> {
        let mut items = Vec::new();
        for page in 0..MAX_PAGES {
            self.paced(list.on_shared_pool()).await;
            let fetch = self
                .client
                .list_page(list.path(), list.key(), list.permission(), page)
                .await;
            self.exhausted(list.on_shared_pool(), fetch.rate_limit.as_ref());
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

    /// The campaigns or Canvases of `list` that `matcher` keeps ([`live`]).
    async fn read_live(
        &mut self,
        list: List,
        matcher: &MessagingMatch,
    ) -> Result<Vec<Scope>, FetchError> {
        let items = self.read(list).await?;
        let candidates = live::matching(matcher, &items);
        let (Some(within), Some(details)) = (matcher.active_within, list.details()) else {
            return Ok(candidates);
        };
        let now = jiff::Timestamp::now();
        let mut kept = Vec::new();
        let mut live_until = Vec::new();
        for candidate in candidates {
            let id = candidate.id.clone().unwrap_or_default();
            let known = lock(&self.memory).live_until.known(list, &id, now);
            let until = match known {
                Some(until) => Some(until),
                None => self.live_until(&details, &id, within).await?,
            };
            if let Some(until) = until.filter(|t| *t > now) {
                kept.push(candidate);
                live_until.push((id, until));
            }
        }
        lock(&self.memory).live_until.replace(list, live_until);
        Ok(kept)
    }

    /// Until when one campaign or Canvas stays live, by its details.
    async fn live_until(
        &self,
        details: &live::Details,
        id: &str,
        within: Duration,
    ) -> Result<Option<jiff::Timestamp>, FetchError> {
        self.paced(true).await;
        let fetch = self
            .client
            .details(details.path, details.parameter, id, details.permission)
            .await;
        self.exhausted(true, fetch.rate_limit.as_ref());
        let answer = fetch.result?;
        Ok(live::live_until(
            &answer,
            details.last_active,
            within,
            self.client.time_zone(),
        ))
    }

    /// Keeps the campaigns or Canvases found in `lists`, says what changed, and returns how
    /// many it keeps.
    fn keep_live(&self, list: List, found: Vec<Scope>, lists: &mut Lists) -> usize {
        let before = names(list, lists);
        let (slot, configured) = match list {
            List::Campaigns => (&mut lists.campaigns, &self.listing.configured_campaigns),
            _ => (&mut lists.canvases, &self.listing.configured_canvases),
        };
        *slot = found;
        for label in merge_segments(configured, slot).1 {
            info!(
                list = list.name(),
                name = %label,
                "a discovered name is taken (by a configured one or another of that name); it is labelled with its id"
            );
        }
        let after = names(list, lists);
        log_change(list, &before, &after);
        after.len()
    }

    /// Waits for the turn of the next request on discovery's share of the list pool, or of the
    /// shared pool, and takes it.
    async fn paced(&self, shared: bool) {
        let start_at = {
            let mut memory = lock(&self.memory);
            let pacer = if shared {
                &mut memory.shared
            } else {
                &mut memory.pacer
            };
            pacer.next_start(Instant::now())
        };
        tokio::time::sleep_until(start_at).await;
        let mut memory = lock(&self.memory);
        let pacer = if shared {
            &mut memory.shared
        } else {
            &mut memory.pacer
        };
        pacer.started(Instant::now());
    }

    /// Holds that share off for a minute when Braze says its pool has no requests left.
    fn exhausted(&self, shared: bool, limit: Option<&crate::braze::RateLimit>) {
        if limit.and_then(|l| l.remaining) == Some(0) {
            let mut memory = lock(&self.memory);
            let pacer = if shared {
                &mut memory.shared
            } else {
                &mut memory.pacer
            };
            pacer.hold_off(Instant::now(), Duration::from_secs(60));
        }
    }

    /// Keeps what matches in `lists`, says what changed, and returns how many it keeps.
    fn keep(&self, list: List, pattern: &Pattern, items: &[Json], lists: &mut Lists) -> usize {
        let before = names(list, lists);
        match list {
            List::Segments => lists.segments = matching_segments(pattern, items),
            List::Events => lists.events = matching_names(pattern, items),
            List::Products => lists.products = matching_names(pattern, items),
            List::Campaigns | List::Canvases => {}
        }
        let after = names(list, lists);
        log_change(list, &before, &after);
        if list == List::Segments {
            for label in merge_segments(&self.listing.configured_segments, &lists.segments).1 {
                info!(
                    segment_name = %label,
                    "a discovered segment's name is taken (by a configured segment or another Braze segment of that name); it is labelled with its id"
                );
            }
        }
        after.len()
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

/// One listing of a workspace's lists, as its discoverer's first: `None` without `discover:`.
pub async fn list_once(config: &Config, client: &BrazeClient) -> Option<Found> {
    // A listing sends at most twice (campaigns and Canvases first): the lists are the last
    // send's, what it kept and could not read is both sends'.
    let (sender, mut found) = mpsc::channel(2);
    Discoverer::of(config, client, sender)?
        .discover_once()
        .await;
    let mut all = found.recv().await?;
    while let Ok(more) = found.try_recv() {
        all.lists = more.lists;
        all.kept.extend(more.kept);
        all.failed.extend(more.failed);
    }
    Some(all)
}

/// The discoverers of every workspace that has `discover:`; started again on each reload with
/// the new clients, each carrying its workspace's [`Memory`] over.
#[derive(Debug)]
pub struct Discoveries {
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// By workspace label value and Braze URL (another Braze behind the same name has other
    /// lists and its own limit); only the workspaces of the latest start.
    memories: std::sync::Mutex<std::collections::HashMap<MemoryKey, SharedMemory>>,
    found: mpsc::Sender<Found>,
}

impl Discoveries {
    /// With the receiving end for the refresher.
    pub fn new() -> (Self, mpsc::Receiver<Found>) {
        let (found, receiver) = mpsc::channel(16);
        let discoveries = Self {
            tasks: std::sync::Mutex::new(Vec::new()),
            memories: Default::default(),
            found,
        };
        (discoveries, receiver)
    }

    /// Stops the running discoverers and starts one per workspace that discovers.
    pub fn start<'a>(&self, workspaces: impl IntoIterator<Item = (&'a Config, &'a BrazeClient)>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        for task in tasks.drain(..) {
            task.abort();
        }
        let mut memories = self.memories.lock().unwrap_or_else(|e| e.into_inner());
        let mut kept = std::collections::HashMap::new();
        for (config, client) in workspaces {
            let Some(mut discoverer) = Discoverer::of(config, client, self.found.clone()) else {
                continue;
            };
            let key = (config.workspace.clone(), config.braze.url.clone());
            if let Some(memory) = memories.remove(&key) {
                discoverer.memory = memory;
            }
            kept.insert(key, discoverer.memory.clone());
            tasks.push(tokio::spawn(discoverer.run()));
        }
        *memories = kept;
    }
}

impl Drop for Discoveries {
    fn drop(&mut self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

fn names(list: List, lists: &Lists) -> BTreeSet<String> {
    let ids = |scopes: &[Scope]| {
        scopes
            .iter()
            .map(|s| s.id.clone().unwrap_or_default())
            .collect()
    };
    match list {
        List::Segments => ids(&lists.segments),
        List::Events => lists.events.iter().cloned().collect(),
        List::Products => lists.products.iter().cloned().collect(),
        List::Campaigns => ids(&lists.campaigns),
        List::Canvases => ids(&lists.canvases),
    }
}

/// Says what a listing changed, if anything.
fn log_change(list: List, before: &BTreeSet<String>, after: &BTreeSet<String>) {
    if before != after {
        info!(
            list = list.name(),
            kept = after.len(),
            added = after.difference(before).count(),
            removed = before.difference(after).count(),
            "discovery read Braze's list"
        );
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
pub(crate) fn usable(text: &str) -> bool {
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

    async fn braze(events: &[&str]) -> (braze_simulator::Simulator, BrazeClient) {
        let mut config = braze_simulator::SimulatorConfig::demo("discovery-key");
        config.events = events.iter().map(|e| e.to_string()).collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let simulator = braze_simulator::Simulator::start(config, listener)
            .await
            .unwrap();
        let text = format!("braze:\n  url: {}\n", simulator.url());
        let config = crate::config::Config::parse(
            &text,
            std::path::Path::new("t.yml"),
            Some("discovery-key".into()),
        )
        .unwrap();
        let client = BrazeClient::new(&config.braze).unwrap();
        (simulator, client)
    }

    #[tokio::test]
    async fn a_name_that_disappears_from_brazes_list_goes_at_the_next_listing() {
        let (_before, client) = braze(&["signup", "level_up", "checkout"]).await;
        let settings = DiscoverSettings {
            interval: Duration::from_secs(300),
            segments: None,
            events: Some(pattern(".*")),
            products: None,
            campaigns: None,
            canvases: None,
        };
        let (sender, mut found) = mpsc::channel(4);
        let listing = Listing {
            settings,
            configured_segments: Vec::new(),
            configured_campaigns: Vec::new(),
            configured_canvases: Vec::new(),
        };
        let mut discoverer = Discoverer::new(Some("eu".into()), client, listing, sender);
        discoverer.discover_once().await;
        let first = found.recv().await.unwrap();
        assert_eq!(first.workspace.as_deref(), Some("eu"));
        assert_eq!(first.lists.events, ["checkout", "level_up", "signup"]);
        assert_eq!(first.kept, [("events", 3)]);
        // Braze no longer lists level_up (the same workspace, listed again).
        let (_after, client) = braze(&["signup", "checkout"]).await;
        discoverer.client = client;
        discoverer.discover_once().await;
        assert_eq!(
            found.recv().await.unwrap().lists.events,
            ["checkout", "signup"]
        );
        // A listing that fails keeps the list as it was.
        let (after, client) = braze(&["signup"]).await;
        after.faults().set(
            braze_simulator::FaultTarget::Path("/events/list".into()),
            braze_simulator::Fault::Status {
                status: 403,
                message: "no".into(),
            },
        );
        discoverer.client = client;
        discoverer.discover_once().await;
        assert_events_kept_on_failure(&found.recv().await.unwrap(), &["checkout", "signup"]);
    }

    /// A listing whose events list failed: the events stay as they were, and it says so.
    fn assert_events_kept_on_failure(failed: &Found, events: &[&str]) {
        assert_eq!(failed.lists.events, events, "kept on failure");
        assert!(failed.kept.is_empty());
        assert_eq!(failed.failed, ["events"]);
    }

    /// A configuration of `simulator` that discovers the events `pattern` matches, hourly.
    fn discovering(simulator: &braze_simulator::Simulator, pattern: &str) -> crate::config::Config {
        let text = format!(
            "braze:\n  url: {}\nexport:\n  events: {{}}\ndiscover:\n  interval: 1h\n  events: {{match: \"{pattern}\"}}\n",
            simulator.url()
        );
        let path = std::path::Path::new("t.yml");
        crate::config::Config::parse(&text, path, Some("discovery-key".into())).unwrap()
    }

    #[tokio::test]
    async fn a_reload_lists_again_only_when_discover_changed_and_keeps_the_lists_on_failure() {
        let (simulator, client) = braze(&["signup", "checkout"]).await;
        let (discoveries, mut found) = Discoveries::new();
        let config = discovering(&simulator, ".*");
        discoveries.start([(&config, &client)]);
        let first = found.recv().await.unwrap();
        assert_eq!(first.lists.events, ["checkout", "signup"]);
        assert_eq!(simulator.requests_to("/events/list"), 1);

        // The same `discover:` again (a reload that changed something else): not listed before
        // the hour is up. The old behaviour listed within milliseconds.
        discoveries.start([(&config, &client)]);
        let early = tokio::time::timeout(Duration::from_millis(500), found.recv()).await;
        assert!(early.is_err(), "listed again at once: {early:?}");
        assert_eq!(simulator.requests_to("/events/list"), 1);

        // A changed pattern lists at once; Braze refuses it, and the lists stay as they were.
        simulator.faults().set(
            braze_simulator::FaultTarget::Path("/events/list".into()),
            braze_simulator::Fault::Status {
                status: 429,
                message: "slow down".into(),
            },
        );
        let changed = discovering(&simulator, "^sign");
        discoveries.start([(&changed, &client)]);
        assert_events_kept_on_failure(&found.recv().await.unwrap(), &["checkout", "signup"]);
        assert!(simulator.requests_to("/events/list") >= 2);
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
