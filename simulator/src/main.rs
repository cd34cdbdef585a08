//! A simulated Braze analytics REST API on a TCP port, for benchmarks and manual play.
//!
//! ```text
//! braze-simulator --listen 127.0.0.1:9999 --apps 100 --segments 99 --events 5 --latency 100ms
//! curl -H 'Authorization: Bearer demo-key' \
//!   'http://127.0.0.1:9999/sessions/data_series?length=3&unit=hour&app_id=app-0001'
//! curl -H 'Authorization: Bearer demo-key' \
//!   'http://127.0.0.1:9999/events/data_series?event=event-0001&length=3'
//! braze-simulator --campaigns 1000 --channels 3 --variations 2 --canvases 100 --steps 8
//! curl -H 'Authorization: Bearer demo-key' \
//!   'http://127.0.0.1:9999/campaigns/data_series?campaign_id=campaign-0001&length=2'
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use braze_simulator::{
    generate_ids, generate_messaging, Clock, MessagingSize, Simulator, SimulatorConfig, TimeFormat,
    VariationForm,
};
use clap::{Parser, ValueEnum};
use jiff::tz::TimeZone;

/// Serve a fake Braze REST endpoint whose session counts are deterministic.
#[derive(Debug, Parser)]
#[command(name = "braze-simulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9999")]
    listen: SocketAddr,
    /// Number of apps, named app-0001, app-0002, ...
    #[arg(long, default_value_t = 3)]
    apps: usize,
    /// Number of segments, named seg-0001, seg-0002, ...
    #[arg(long, default_value_t = 2)]
    segments: usize,
    /// Number of custom events, named event-0001, event-0002, ...
    #[arg(long, default_value_t = 3)]
    events: usize,
    /// Number of products, named product-0001, product-0002, ...
    #[arg(long, default_value_t = 2)]
    products: usize,
    /// Added to every answer, e.g. 100ms.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    latency: Duration,
    /// Company time zone: an IANA name (Asia/Kolkata) or an offset (+05:30).
    #[arg(long, default_value = "UTC", value_parser = parse_time_zone)]
    time_zone: TimeZone,
    /// The only accepted REST API key.
    #[arg(long, default_value = "demo-key")]
    api_key: String,
    /// Requests per one-hour window before answering 429 (all but the two lists below).
    #[arg(long, default_value_t = 250_000)]
    rate_limit_per_hour: u64,
    /// The same for /events/list and /purchases/product_list together.
    #[arg(long, default_value_t = 1_000)]
    list_rate_limit_per_hour: u64,
    /// How hourly times are written.
    #[arg(long, value_enum, default_value_t = HourlyFormat::Offset)]
    hourly_time_format: HourlyFormat,
    /// Leave out the bucket that is still in progress.
    #[arg(long)]
    exclude_in_progress: bool,
    /// Number of campaigns, campaign-0001, campaign-0002, ... (live, sending since 2020).
    #[arg(long, default_value_t = 0)]
    campaigns: usize,
    /// Channels per campaign, taken in turn from email, ios_push, android_push, ...
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=10))]
    channels: u8,
    /// Message variations per campaign.
    #[arg(long, default_value_t = 2)]
    variations: usize,
    /// Number of Canvases, canvas-0001, canvas-0002, ... (two variants each).
    #[arg(long, default_value_t = 0)]
    canvases: usize,
    /// Steps per Canvas.
    #[arg(long, default_value_t = 4)]
    steps: usize,
    /// Requests per one-minute window to /campaigns/data_series before answering 429.
    #[arg(long, default_value_t = 50_000)]
    campaign_rate_limit_per_minute: u64,
    /// How campaign analytics name their variations.
    #[arg(long, value_enum, default_value_t = Form::Name)]
    variation_form: Form,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Form {
    /// "variation_name": "Variant 1" (Braze's older pages)
    Name,
    /// "variation_api_id": "campaign-0001-v1-email" (Braze's current pages)
    ApiId,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HourlyFormat {
    /// 2026-11-28T10:00:00+05:30
    Offset,
    /// 2026-11-28T04:30:00Z
    Zulu,
    /// 2026-11-28T10:00:00
    Naive,
}

fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value).map_err(|e| e.to_string())
}

fn parse_time_zone(value: &str) -> Result<TimeZone, String> {
    jiff::fmt::temporal::DateTimeParser::new()
        .parse_time_zone(value)
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("braze-simulator: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    let listen = args.listen;
    let config = config(args);
    let listing = ids_listing(&config);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}")))?;
    let simulator = Simulator::start(config, listener).await?;
    print!("{listing}");
    println!("listening on {}", simulator.url());
    stop_requested().await?;
    simulator.shutdown().await;
    Ok(())
}

/// The workspace the flags describe: generated ids, segments named by their ids, none
/// untracked, generated campaigns and Canvases without API sends, a key with every permission.
fn config(args: Args) -> SimulatorConfig {
    let (campaigns, canvases) = generate_messaging(MessagingSize {
        campaigns: args.campaigns,
        channels: usize::from(args.channels),
        variations: args.variations,
        canvases: args.canvases,
        steps: args.steps,
    });
    SimulatorConfig {
        api_key: args.api_key,
        time_zone: args.time_zone,
        apps: generate_ids("app", args.apps),
        segments: generate_ids("seg", args.segments),
        events: generate_ids("event", args.events),
        products: generate_ids("product", args.products),
        segment_names: HashMap::new(),
        untracked_segments: Vec::new(),
        permissions: None,
        hourly_time_format: match args.hourly_time_format {
            HourlyFormat::Offset => TimeFormat::Offset,
            HourlyFormat::Zulu => TimeFormat::Zulu,
            HourlyFormat::Naive => TimeFormat::Naive,
        },
        include_in_progress: !args.exclude_in_progress,
        rate_limit_per_hour: args.rate_limit_per_hour,
        list_rate_limit_per_hour: args.list_rate_limit_per_hour,
        campaign_rate_limit_per_minute: args.campaign_rate_limit_per_minute,
        campaigns,
        canvases,
        sends: Vec::new(),
        variation_form: match args.variation_form {
            Form::Name => VariationForm::Name,
            Form::ApiId => VariationForm::ApiId,
        },
        latency: args.latency,
        clock: Clock::system(),
    }
}

/// Ctrl-C, or SIGTERM from a benchmark harness.
async fn stop_requested() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// One `app <id>` / `segment <id>` / `event <name>` / `product <id>` / `campaign <id>` /
/// `canvas <id>` line per known identifier.
fn ids_listing(config: &SimulatorConfig) -> String {
    let apps = config.apps.iter().map(|id| format!("app {id}\n"));
    let segments = config.segments.iter().map(|id| format!("segment {id}\n"));
    let events = config.events.iter().map(|name| format!("event {name}\n"));
    let products = config.products.iter().map(|id| format!("product {id}\n"));
    let campaigns = config
        .campaigns
        .iter()
        .map(|c| format!("campaign {}\n", c.id));
    let canvases = config.canvases.iter().map(|c| format!("canvas {}\n", c.id));
    apps.chain(segments)
        .chain(events)
        .chain(products)
        .chain(campaigns)
        .chain(canvases)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_names_every_kind_of_id() {
        let args = Args::parse_from([
            "braze-simulator",
            "--apps=1",
            "--segments=1",
            "--events=2",
            "--products=1",
            "--list-rate-limit-per-hour=7",
        ]);
        let config = config(args);
        assert_eq!(config.list_rate_limit_per_hour, 7);
        assert_eq!(config.permissions, None);
        assert_eq!(
            ids_listing(&config),
            "app app-0001\nsegment seg-0001\nevent event-0001\nevent event-0002\nproduct product-0001\n"
        );
    }

    #[test]
    fn messaging_flags_generate_campaigns_and_canvases() {
        let args = Args::parse_from([
            "braze-simulator",
            "--apps=0",
            "--segments=0",
            "--events=0",
            "--products=0",
            "--campaigns=2",
            "--channels=3",
            "--variations=1",
            "--canvases=1",
            "--steps=8",
            "--campaign-rate-limit-per-minute=9",
            "--variation-form=api-id",
        ]);
        let config = config(args);
        assert_eq!(config.campaign_rate_limit_per_minute, 9);
        assert_eq!(config.variation_form, VariationForm::ApiId);
        assert_eq!(config.campaigns[1].channels.len(), 3);
        assert_eq!(config.campaigns[1].variations.len(), 1);
        assert_eq!(config.canvases[0].steps.len(), 8);
        assert!(config.sends.is_empty());
        assert_eq!(
            ids_listing(&config),
            "campaign campaign-0001\ncampaign campaign-0002\ncanvas canvas-0001\n"
        );
        assert!(Args::try_parse_from(["braze-simulator", "--channels=11"]).is_err());
    }
}
