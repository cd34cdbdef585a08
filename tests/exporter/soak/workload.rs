//! What the soak asks of the exporter: the simulated Brazes, the configuration of each reload,
//! the faults, the scrapes.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use braze_simulator::{
    Campaign, Canvas, Fault, MessagingSize, Simulator, SimulatorConfig, DEMO_CANVAS,
    DEMO_EMAIL_CAMPAIGN, DEMO_PUSH_CAMPAIGN, DEMO_SEND,
};
use tokio::time::MissedTickBehavior;

use super::{ABSENT_EVERY, BUDGET_PER_HOUR, CAMPAIGN_BUDGET_PER_MINUTE, WORKSPACES};
use crate::support::KEY;

/// Live campaigns generated in each simulator, on top of the demo's two. Refreshed every
/// second, 60 ask for 3,600 requests a minute, more than the exporter's campaign-analytics
/// budget (2,000), so that pool is paced at its cap: one start every 30 ms, a pass in 1.8 s.
/// Not 40: a pass that overruns its interval waits for the next whole one, so 40 campaigns
/// (1.2 s a pass, then the 2 s tick) got 21 a second, 0.61 of the budget, in a 3-minute run.
const GENERATED_CAMPAIGNS: usize = 60;
const _: () = assert!(GENERATED_CAMPAIGNS as u64 * 60 > CAMPAIGN_BUDGET_PER_MINUTE);

/// A named workspace's simulated Braze. Generation `g` lists events, products and segments
/// named after `g`, and live campaigns and Canvases whose ids and names carry `g`; the apps,
/// the configured segments, events and product, and the demo's campaigns, Canvases and API
/// send are in every one.
pub(super) fn braze_of(generation: u32) -> SimulatorConfig {
    let mut config = SimulatorConfig::demo(KEY);
    let (campaigns, canvases) = braze_simulator::generate_messaging(MessagingSize {
        campaigns: GENERATED_CAMPAIGNS,
        channels: 1,
        variations: 2,
        canvases: 4,
        steps: 3,
    });
    let id = |id: String| format!("g{generation}-{id}");
    let name = |name: String| format!("G{generation} {name}");
    config
        .campaigns
        .extend(campaigns.into_iter().map(|c| Campaign {
            id: id(c.id),
            name: name(c.name),
            ..c
        }));
    config.canvases.extend(canvases.into_iter().map(|c| Canvas {
        id: id(c.id),
        name: name(c.name),
        ..c
    }));
    config.apps = braze_simulator::generate_ids("app", 5);
    let churned = (1..=4).map(|i| format!("g{generation}-seg-{i}"));
    config.segments = braze_simulator::generate_ids("seg", 3);
    config.segment_names = config
        .segments
        .iter()
        .map(|id| (id.clone(), format!("Seg {id}")))
        .chain(
            churned
                .clone()
                .map(|id| (id.clone(), format!("Churn {id}"))),
        )
        .collect();
    config.segments.extend(churned);
    config.events = ["signup", "checkout"].map(String::from).to_vec();
    config
        .events
        .extend((1..=6).map(|i| format!("g{generation}_level_{i}")));
    config.products = vec!["premium".to_string()];
    config
        .products
        .extend((1..=3).map(|i| format!("g{generation}_product_{i}")));
    // Above the exporter's 250,000: discovery's /segments/list counts against the same window
    // without going through the data series' pacer, and a simulator that ran out would hold
    // every request for up to an hour.
    config.rate_limit_per_hour = 2 * BUDGET_PER_HOUR;
    config
}

pub(super) async fn start_braze(generation: u32) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(braze_of(generation), listener)
        .await
        .unwrap()
}

/// One workspace of the configuration written for reload number `reload`.
pub(super) fn workspace_yaml(name: &str, url: &str, key: &Path, reload: u64) -> String {
    let fewer = name == "a" && reload % 2 == 1;
    let (apps, segments) = if fewer { (3, 2) } else { (5, 3) };
    let steps = !fewer;
    let events = match name == "b" && reload % 2 == 1 {
        true => "^g[0-9]+_level_[1-3]$",
        false => ".*",
    };
    let list = |prefix: &str, n: usize| {
        (1..=n)
            .map(|i| format!("{{name: {prefix}{i}, id: {prefix}-{i:04}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "  - name: {name}\n\
         \x20   braze: {{url: \"{url}\", api_key_file: {key}, timeout: 2s, max_concurrency: 8, max_requests_per_hour: {BUDGET_PER_HOUR}}}\n\
         \x20   apps: [{apps}]\n\
         \x20   segments: [{segments}]\n\
         \x20   campaigns: [{{name: onboarding, id: {email}}}, {{name: txn_push, id: {push}}}]\n\
         \x20   canvases: [{{name: welcome, id: {canvas}}}]\n\
         \x20   export:\n\
         \x20     sessions: {{}}\n\
         \x20     kpis: {{interval: 1s}}\n\
         \x20     events: {{names: [signup, checkout]}}\n\
         \x20     purchases: {{products: [premium]}}\n\
         \x20     segment_sizes: {{interval: 1s}}\n\
         \x20     campaigns: {{interval: 1s}}\n\
         \x20     canvases: {{interval: 1s, steps: {steps}}}\n\
         \x20     sends: {{interval: 1s, ids: [{{campaign: txn_push, send_id: {send}}}]}}\n\
         \x20   discover:\n\
         \x20     interval: 5m\n\
         \x20     segments: {{match: \"^Churn\"}}\n\
         \x20     events: {{match: \"{events}\"}}\n\
         \x20     products: {{match: \".*\"}}\n\
         \x20     campaigns: {{match: \".*\", active_within: 7d}}\n\
         \x20     canvases: {{match: \".*\", active_within: 7d}}\n",
        key = key.display(),
        email = DEMO_EMAIL_CAMPAIGN.0,
        push = DEMO_PUSH_CAMPAIGN.0,
        canvas = DEMO_CANVAS.0,
        send = DEMO_SEND.1,
        apps = list("app", apps),
        segments = list("seg", segments),
    )
}

pub(super) fn config_yaml(urls: &[String; 3], key: &Path, reload: u64) -> String {
    let b_absent = reload % ABSENT_EVERY == ABSENT_EVERY - 1;
    let workspaces: String = WORKSPACES
        .iter()
        .zip(urls)
        .filter(|(name, _)| !(b_absent && **name == "b"))
        .map(|(name, url)| workspace_yaml(name, url, key, reload))
        .collect();
    format!("refresh:\n  interval: 1s\n  length: 3\nworkspaces:\n{workspaces}")
}

/// The faults switched on in turn.
pub(super) fn fault(turn: u64) -> Fault {
    let faults = [
        Fault::Status {
            status: 500,
            message: "soak".into(),
        },
        Fault::Delay(Duration::from_secs(3)),
        Fault::MalformedJson,
        Fault::WrongShape,
        Fault::Oversized(1_100_000),
        Fault::Unsuccessful("soak".into()),
        Fault::RateLimited {
            reset_in: Duration::from_secs(10),
        },
        Fault::RetryAfter {
            retry_after: "5".into(),
            reset_in: None,
        },
        Fault::BareStatus(503),
    ];
    faults[(turn % faults.len() as u64) as usize].clone()
}

/// Scrapes `base` 10 times a second until `stop`; counts answers and failures.
pub(super) async fn scrape(
    base: String,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) {
    let pooled = reqwest::Client::new();
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut every = tokio::time::interval(Duration::from_millis(100));
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        every.tick().await;
        n += 1;
        let client = if n % 5 == 0 { &fresh } else { &pooled };
        let mut request = client
            .get(format!("{base}/metrics"))
            .timeout(Duration::from_secs(10));
        if n % 10 != 0 {
            request = request.header("Accept-Encoding", "gzip");
        }
        let ok = match request.send().await {
            Ok(answer) if answer.status() == 200 => {
                answer.bytes().await.is_ok_and(|b| b.len() > 1000)
            }
            _ => false,
        };
        match ok {
            true => done.fetch_add(1, Ordering::Relaxed),
            false => failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// What a plain scrape of `base` should show of the messaging kinds: a family of each kind
/// (Canvas steps included), the campaign-analytics pool's own rate-limit gauges, and campaigns
/// and Canvases that only discovery brought (the generated `G<n> …` names).
pub(super) const MESSAGING_SHOWN: [&str; 6] = [
    "\nbraze_campaign_message_",
    "\nbraze_canvas_step_",
    "\nbraze_send_",
    "pool=\"campaign_analytics\"",
    "campaign=\"G",
    "canvas=\"G",
];

/// Which of [`MESSAGING_SHOWN`] a scrape of `base` lacks (all of them if it fails).
pub(super) async fn messaging_missing(base: &str) -> Vec<&'static str> {
    let text = match reqwest::get(format!("{base}/metrics")).await {
        Ok(answer) => answer.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    MESSAGING_SHOWN
        .into_iter()
        .filter(|shown| !text.contains(shown))
        .collect()
}
