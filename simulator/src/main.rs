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
//! braze-simulator --campaigns 1 --send campaign-0001/send-0001/9d
//! curl -H 'Authorization: Bearer demo-key' \
//!   'http://127.0.0.1:9999/sends/data_series?campaign_id=campaign-0001&send_id=send-0001&length=14'
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use braze_simulator::{
    generate_ids, generate_messaging, ApiSend, Clock, MessagingSize, Simulator, SimulatorConfig,
    TimeFormat, VariationForm,
};
use clap::{Parser, ValueEnum};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

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
    /// An API send CAMPAIGN_ID/SEND_ID/AGO (repeatable), sent AGO (9d, 2d12h) before the
    /// simulator starts; its campaign (one of --campaigns) becomes an API campaign. Braze keeps
    /// a send's analytics 14 days.
    #[arg(long = "send", value_name = "CAMPAIGN_ID/SEND_ID/AGO", value_parser = parse_send)]
    sends: Vec<SendFlag>,
}

/// One `--send`: whose, which, and how long before the start it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SendFlag {
    campaign_id: String,
    send_id: String,
    ago: Duration,
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

fn parse_send(value: &str) -> Result<SendFlag, String> {
    let mut parts = value.splitn(3, '/');
    let (Some(campaign_id), Some(send_id), Some(ago)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("{value:?} is not CAMPAIGN_ID/SEND_ID/AGO"));
    };
    if campaign_id.is_empty() || send_id.is_empty() {
        return Err(format!("{value:?} is not CAMPAIGN_ID/SEND_ID/AGO"));
    }
    Ok(SendFlag {
        campaign_id: campaign_id.to_string(),
        send_id: send_id.to_string(),
        ago: parse_duration(ago).map_err(|e| format!("AGO {ago:?}: {e}"))?,
    })
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
    let config = config(args, Timestamp::now())
        .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
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

/// The workspace the flags describe at `now`: generated ids, segments named by their ids, none
/// untracked, generated campaigns and Canvases with the `--send`s, a key with every
/// permission. A `--send` of a campaign that is not generated is an error.
fn config(args: Args, now: Timestamp) -> Result<SimulatorConfig, String> {
    let (mut campaigns, canvases) = generate_messaging(MessagingSize {
        campaigns: args.campaigns,
        channels: usize::from(args.channels),
        variations: args.variations,
        canvases: args.canvases,
        steps: args.steps,
    });
    let sends = api_sends(&args.sends, &mut campaigns, now)?;
    Ok(SimulatorConfig {
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
        sends,
        variation_form: match args.variation_form {
            Form::Name => VariationForm::Name,
            Form::ApiId => VariationForm::ApiId,
        },
        latency: args.latency,
        clock: Clock::system(),
    })
}

/// The `--send`s as sent `ago` before `now`; their campaigns become API campaigns.
fn api_sends(
    flags: &[SendFlag],
    campaigns: &mut [braze_simulator::Campaign],
    now: Timestamp,
) -> Result<Vec<ApiSend>, String> {
    flags
        .iter()
        .map(|flag| {
            let campaign = campaigns
                .iter_mut()
                .find(|c| c.id == flag.campaign_id)
                .ok_or_else(|| {
                    format!(
                        "--send: campaign {:?} is not one of --campaigns",
                        flag.campaign_id
                    )
                })?;
            campaign.is_api_campaign = true;
            let sent_at = SignedDuration::try_from(flag.ago)
                .ok()
                .and_then(|ago| now.checked_sub(ago).ok())
                .ok_or_else(|| format!("--send: {:?} ago is too far back", flag.ago))?;
            Ok(ApiSend {
                campaign_id: flag.campaign_id.clone(),
                send_id: flag.send_id.clone(),
                sent_at,
            })
        })
        .collect()
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
/// `canvas <id>` / `send <campaign id> <send id>` line per known identifier.
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
    let sends = config
        .sends
        .iter()
        .map(|s| format!("send {} {}\n", s.campaign_id, s.send_id));
    apps.chain(segments)
        .chain(events)
        .chain(products)
        .chain(campaigns)
        .chain(canvases)
        .chain(sends)
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
        let config = config(args, Timestamp::now()).unwrap();
        assert_eq!(config.list_rate_limit_per_hour, 7);
        assert_eq!(config.permissions, None);
        assert_eq!(
            ids_listing(&config),
            "app app-0001\nsegment seg-0001\nevent event-0001\nevent event-0002\nproduct product-0001\n"
        );
    }

    /// The simulator's arguments with no analytics content (apps, segments, events, products),
    /// then `messaging`.
    fn messaging_only<const N: usize>(messaging: [&str; N]) -> Args {
        let none = ["--apps=0", "--segments=0", "--events=0", "--products=0"];
        Args::parse_from(["braze-simulator"].into_iter().chain(none).chain(messaging))
    }

    #[test]
    fn messaging_flags_generate_campaigns_and_canvases() {
        let args = messaging_only([
            "--campaigns=2",
            "--channels=3",
            "--variations=1",
            "--canvases=1",
            "--steps=8",
            "--campaign-rate-limit-per-minute=9",
            "--variation-form=api-id",
        ]);
        let config = config(args, Timestamp::now()).unwrap();
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

    #[test]
    fn a_send_flag_is_an_api_send_of_its_campaign_sent_that_long_ago() {
        let args = messaging_only([
            "--campaigns=2",
            "--send=campaign-0002/send-old/9d1h",
            "--send=campaign-0002/send-new/2d",
        ]);
        let now: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let config = config(args, now).unwrap();
        let sent = |id: &str| {
            let send = config.sends.iter().find(|s| s.send_id == id).unwrap();
            (send.campaign_id.as_str(), send.sent_at.to_string())
        };
        assert_eq!(
            sent("send-old"),
            ("campaign-0002", "2026-11-19T09:00:00Z".into())
        );
        assert_eq!(
            sent("send-new"),
            ("campaign-0002", "2026-11-26T10:00:00Z".into())
        );
        let api: Vec<bool> = config.campaigns.iter().map(|c| c.is_api_campaign).collect();
        assert_eq!(api, [false, true]);
        assert!(ids_listing(&config).ends_with(
            "campaign campaign-0002\nsend campaign-0002 send-old\nsend campaign-0002 send-new\n"
        ));
    }

    #[test]
    fn a_bad_send_flag_names_what_is_wrong() {
        for (flag, why) in [
            ("campaign-0001/send-0001", "is not CAMPAIGN_ID/SEND_ID/AGO"),
            ("/send-0001/1d", "is not CAMPAIGN_ID/SEND_ID/AGO"),
            ("campaign-0001/send-0001/soon", "AGO \"soon\""),
        ] {
            let error = Args::try_parse_from(["braze-simulator", &format!("--send={flag}")])
                .unwrap_err()
                .to_string();
            assert!(error.contains(why), "{flag}: {error}");
        }
        let args = Args::parse_from([
            "braze-simulator",
            "--campaigns=1",
            "--send=campaign-0009/s/1d",
        ]);
        assert_eq!(
            config(args, Timestamp::now()).unwrap_err(),
            "--send: campaign \"campaign-0009\" is not one of --campaigns"
        );
    }
}
