//! Holding up: Braze's rate limit, silent clients, and memory over many refreshes and reloads.

use std::time::Duration;

use braze_simulator::{Fault, FaultTarget};
use tokio::io::AsyncReadExt;

use crate::support::{sample, simulator, Exporter, Workspace};

#[tokio::test]
async fn after_a_429_nothing_more_is_sent_until_the_reset() {
    let sim = simulator(|_| {}).await;
    sim.faults().set(
        FaultTarget::All,
        Fault::RateLimited {
            reset_in: Duration::from_secs(3600),
        },
    );
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("a 429", |t| {
            sample(
                t,
                r#"braze_api_request_failures_total{reason="rate_limited"}"#,
            )
            .unwrap_or(0.0)
                >= 1.0
        })
        .await;
    // Only requests already in flight when the first 429 came back (max_concurrency, 4).
    let sent = sim.requests_received();
    assert!(sent <= 4, "{sent} requests reached Braze");
    assert_eq!(
        sample(&text, "braze_api_rate_limit_remaining{pool=\"shared\"}"),
        Some(0.0)
    );
    assert!(sample(
        &text,
        "braze_api_rate_limit_reset_timestamp_seconds{pool=\"shared\"}"
    )
    .is_some());
    let hold = sample(
        &text,
        "braze_api_hold_off_until_timestamp_seconds{pool=\"shared\"}",
    )
    .expect("hold-off exposed");
    assert!(
        hold > jiff::Timestamp::now().as_second() as f64 + 3000.0,
        "held until the reset an hour away"
    );
    // Two seconds more, long past any retry backoff: still nothing sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        sim.requests_received(),
        sent,
        "a request was sent while rate-limited"
    );
    exporter.terminate().await;
}

#[tokio::test]
async fn a_client_that_connects_and_says_nothing_is_closed() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let address = exporter.base.trim_start_matches("http://").to_string();
    let mut silent = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut buf = [0u8; 16];
    // The header timeout is 10 s; allow a generous margin on a loaded machine.
    let read = tokio::time::timeout(Duration::from_secs(30), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the silent connection stayed open: {read:?}"
    );
    // Meanwhile others were served.
    assert!(exporter
        .metrics()
        .await
        .contains("braze_exporter_build_info"));
    exporter.terminate().await;
}

/// Resident memory of a process, from /proc.
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

/// Refreshes 66 series every 2 s and reloads every 2.5 s for `BRAZE_SOAK_SECONDS` (default
/// 20 s): resident memory after warm-up must not keep growing. The long soak, past a budget
/// window at the highest budget, is `soak/` (run by `scripts/soak.sh`).
#[tokio::test]
async fn memory_stays_flat_over_many_refreshes_and_reloads() {
    let seconds: u64 = std::env::var("BRAZE_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let sim = simulator(|c| {
        c.apps = braze_simulator::generate_ids("app", 10);
        c.segments = braze_simulator::generate_ids("seg", 5);
    })
    .await;
    let ws = Workspace::new(&sim.url(), "refresh:\n  interval: 2s\n");
    let mut config = std::fs::read_to_string(ws.config()).unwrap();
    config = config[..config.find("apps:").unwrap()].to_string();
    let apps: String = (1..=10)
        .map(|i| format!("  - {{name: a{i}, id: app-{i:04}}}\n"))
        .collect();
    let segments: String = (1..=5)
        .map(|i| format!("  - {{name: s{i}, id: seg-{i:04}}}\n"))
        .collect();
    let full = format!("{config}apps:\n{apps}segments:\n{segments}");
    let fewer = format!(
        "{config}apps:\n{apps}segments:\n{}",
        segments.lines().take(2).collect::<Vec<_>>().join("\n") + "\n"
    );
    std::fs::write(ws.config(), &full).unwrap();
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let pid = exporter.child.id().unwrap();
    let started = tokio::time::Instant::now();
    let mut samples = Vec::new();
    let mut flip = false;
    while started.elapsed() < Duration::from_secs(seconds) {
        if samples.len() % 5 == 0 {
            flip = !flip;
            std::fs::write(ws.config(), if flip { &fewer } else { &full }).unwrap();
            exporter.signal("HUP");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = exporter.metrics().await;
        samples.push((started.elapsed().as_secs_f64(), resident_bytes(pid)));
    }
    let text = exporter.metrics().await;
    let refreshes = sample(&text, r#"braze_refreshes_total{export="sessions"}"#).unwrap_or(0.0);
    let warm = samples[samples.len() / 4].1;
    let peak_after_warm = samples[samples.len() / 4..]
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap();
    let last = samples.last().unwrap().1;
    eprintln!(
        "soak: {seconds}s, {} refreshes, {} reloads, rss warm {} KiB, peak after warm-up {} KiB, last {} KiB",
        refreshes,
        samples.len().div_ceil(5),
        warm / 1024,
        peak_after_warm / 1024,
        last / 1024
    );
    assert!(
        refreshes >= (seconds / 3) as f64,
        "only {refreshes} refreshes"
    );
    assert!(
        last <= warm + 8 * 1024 * 1024,
        "resident memory grew from {} KiB to {} KiB",
        warm / 1024,
        last / 1024
    );
    exporter.terminate().await;
}

#[tokio::test]
async fn one_peer_holding_every_connection_cannot_starve_scrapes_from_others() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let addr: std::net::SocketAddr = exporter.base.trim_start_matches("http://").parse().unwrap();
    // One client (127.0.0.1) opens as many silent connections as the exporter's whole limit;
    // silent ones would each hold a slot until the 10 s header timeout.
    let mut silent = Vec::new();
    for _ in 0..512 {
        silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    // Another peer (127.0.0.2, also loopback) is still served, well before those time out.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = tokio::time::timeout(Duration::from_secs(5), socket.connect(addr))
        .await
        .expect("connected")
        .unwrap();
    use tokio::io::AsyncWriteExt;
    other
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), other.read_to_string(&mut answer))
        .await
        .expect("answered while the silent connections are still open")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The peer that holds too many sees its extra connections closed at once.
    let mut extra = silent.pop().unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "closed, not held: {read:?}"
    );
    drop(silent);
    exporter.terminate().await;
}

/// Waits for the first 429 and returns the hold-off the exporter exposes, in seconds from now.
async fn held_for_after_429(sim: &braze_simulator::Simulator) -> f64 {
    let before = sim.requests_received();
    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let text = exporter
        .wait_for_metrics("a 429", |t| {
            sample(
                t,
                r#"braze_api_request_failures_total{reason="rate_limited"}"#,
            )
            .unwrap_or(0.0)
                >= 1.0
                && sample(
                    t,
                    "braze_api_hold_off_until_timestamp_seconds{pool=\"shared\"}",
                )
                .is_some()
        })
        .await;
    let sent = sim.requests_received();
    assert!(
        sent - before <= 4,
        "{} requests reached the gateway",
        sent - before
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim.requests_received(), sent, "sent while held off");
    exporter.terminate().await;
    sample(
        &text,
        "braze_api_hold_off_until_timestamp_seconds{pool=\"shared\"}",
    )
    .unwrap()
        - jiff::Timestamp::now().as_second() as f64
}

#[tokio::test]
async fn a_gateways_retry_after_is_honoured_and_the_longer_of_two_wins() {
    let sim = simulator(|_| {}).await;
    // A gateway's 429: Retry-After only, no X-RateLimit-* (else the 60 s default would apply).
    sim.faults().set(
        FaultTarget::All,
        Fault::RetryAfter {
            retry_after: "1800".into(),
            reset_in: None,
        },
    );
    let held = held_for_after_429(&sim).await;
    assert!((1700.0..=1800.0).contains(&held), "held {held} s");

    // Both: a reset 10 s away and a Retry-After date 30 minutes away; the later wins.
    let date = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1800);
    let http_date = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&date)
        .unwrap();
    sim.faults().set(
        FaultTarget::All,
        Fault::RetryAfter {
            retry_after: http_date,
            reset_in: Some(Duration::from_secs(10)),
        },
    );
    let held = held_for_after_429(&sim).await;
    assert!((1700.0..=1800.0).contains(&held), "held {held} s");

    // Both, the reset later: it wins over a Retry-After of 5 s.
    sim.faults().set(
        FaultTarget::All,
        Fault::RetryAfter {
            retry_after: "5".into(),
            reset_in: Some(Duration::from_secs(1800)),
        },
    );
    let held = held_for_after_429(&sim).await;
    assert!((1700.0..=1800.0).contains(&held), "held {held} s");
}
