//! What a scraper sends: the request line, `Accept`, `Accept-Encoding` and any other header,
//! through hyper and the exporter's routes, on a connection served as `http::serve` serves one.
//!
//! The exporter reads no `Accept` (it always answers the text format 0.0.4, which every
//! Prometheus accepts): whatever a scrape's `Accept` says, the content type must not change.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::http::web_config::HttpSettings;
use crate::http::{connection_builder, serve_connection, Site};
use crate::series::{series_of, Kind, Lists, Scope, Unit};
use crate::snapshot::{Labels, SeriesState, Snapshot, SnapshotCell};

/// Room for the whole request and its answers: the client writes before it reads.
const PIPE_BYTES: usize = 4 << 20;
/// What Prometheus needs to read the text format (Prometheus 3 fails a scrape without it).
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Headers a request may have for the check of its answer; hyper takes up to 100.
const HEADERS: usize = 64;

/// A site with a snapshot of a few series, its text, and a runtime whose clock only moves
/// when every task waits: a request that never ends times out at once, in virtual time.
struct Server {
    runtime: Runtime,
    site: Arc<Site>,
    text: Vec<u8>,
}

thread_local! {
    static SERVER: Server = Server::new();
}

impl Server {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let snapshots = SnapshotCell::default();
        let snapshot = snapshot();
        let mut text = Vec::new();
        snapshot
            .encoded
            .text
            .reader()
            .read_to_end(&mut text)
            .expect("a snapshot's gzip decodes");
        snapshots.publish(snapshot);
        let telemetry = crate::telemetry::Shared::new();
        let site = Arc::new(Site::new(snapshots, telemetry, "/metrics".into(), None));
        Self {
            runtime,
            site,
            text,
        }
    }

    /// Everything the server writes back on a connection that carried `request`.
    fn answer(&self, request: &[u8]) -> Vec<u8> {
        self.runtime.block_on(async {
            let (mut client, server) = tokio::io::duplex(PIPE_BYTES);
            let (_stop, stopping) = watch::channel(false);
            let peer = SocketAddr::from(([127, 0, 0, 1], 1));
            let http = Arc::new(HttpSettings::default());
            let builder = connection_builder();
            let serve = serve_connection(server, self.site.clone(), http, &builder, stopping, peer);
            let talk = async move {
                // The server may close before it has read everything: that is an answer too.
                let _ = client.write_all(request).await;
                let mut answer = Vec::new();
                let _ = client.read_to_end(&mut answer).await;
                answer
            };
            let ((), answer) = tokio::join!(serve, talk);
            answer
        })
    }
}

/// Sessions of one app and of all, up.
fn snapshot() -> Snapshot {
    let lists = Lists {
        apps: vec![Scope::named("ios", "app-1")],
        ..Lists::default()
    };
    let labels: Vec<Labels> = series_of(Kind::Sessions, &lists)
        .iter()
        .map(|series| Labels::new(series, Unit::Hour, None))
        .collect();
    let now = jiff::Timestamp::from_second(1_795_860_000).expect("a valid instant");
    let state = SeriesState {
        attempted: true,
        up: true,
        last_success: Some(now),
        latest: Default::default(),
    };
    let stale_after = Duration::from_secs(900);
    Snapshot::render(labels.iter().map(|l| (l, &state, stale_after)), now, 0)
}

/// Sends the bytes on one connection; checks the first answer.
pub fn scrape(request: &[u8]) {
    SERVER.with(|server| {
        let answer = server.answer(request);
        check_answer(request, &answer, &server.text);
    });
}

/// The answer is HTTP/1 (unless the client spoke HTTP/2), and a plain GET of the metrics
/// path, as an independent parser reads the request, gets the series in the text format.
fn check_answer(request: &[u8], answer: &[u8], text: &[u8]) {
    if answer.is_empty() || (request.starts_with(b"PRI") && !answer.starts_with(b"HTTP/")) {
        return;
    }
    let mut headers = [httparse::EMPTY_HEADER; HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(answer) {
        Ok(httparse::Status::Complete(head)) => head,
        other => panic!(
            "not an HTTP response ({other:?}): {:?}",
            String::from_utf8_lossy(answer)
        ),
    };
    let status = response.code.expect("a status");
    let allowed = [200, 400, 403, 404, 405, 408, 413, 414, 431, 501, 503, 505];
    assert!(allowed.contains(&status), "status {status}");
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    let Some(asked) = plain_metrics_get(request) else {
        return;
    };
    assert_eq!(status, 200, "a GET of /metrics answered {status}");
    assert_eq!(header("content-type").as_deref(), Some(CONTENT_TYPE_TEXT));
    assert_eq!(header("vary").as_deref(), Some("Accept-Encoding"));
    let gzip = header("content-encoding").is_some_and(|e| e == "gzip");
    match asked {
        Asked::Gzip => assert!(gzip, "Accept-Encoding: gzip answered without gzip"),
        Asked::Nothing => assert!(!gzip, "gzip answered without Accept-Encoding"),
        Asked::Other => {}
    }
    let length: usize = header("content-length")
        .and_then(|n| n.parse().ok())
        .expect("a scrape's length is known");
    let body = answer.get(head..head + length).expect("the whole body");
    let plain = match gzip {
        true => gunzip(body),
        false => body.to_vec(),
    };
    assert!(plain.starts_with(text), "the body lacks the series");
}

/// What a request's `Accept-Encoding` asks for, as far as the check needs.
enum Asked {
    /// `Accept-Encoding: gzip`, alone.
    Gzip,
    /// No `Accept-Encoding`.
    Nothing,
    /// Anything else: the exporter's own reading of it decides.
    Other,
}

/// For a plain `GET /metrics` (an independent parser's reading: no body, a path without a
/// query, at most [`HEADERS`] headers), what it asks for; `None` for any other request.
fn plain_metrics_get(request: &[u8]) -> Option<Asked> {
    let mut headers = [httparse::EMPTY_HEADER; HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    if !matches!(parsed.parse(request), Ok(httparse::Status::Complete(_))) {
        return None;
    }
    if parsed.method != Some("GET") || parsed.path != Some("/metrics") {
        return None;
    }
    let named = |name: &str| -> Vec<&[u8]> {
        parsed
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect()
    };
    if !named("content-length").is_empty() || !named("transfer-encoding").is_empty() {
        return None;
    }
    let encodings = named("accept-encoding");
    Some(match encodings.as_slice() {
        [] => Asked::Nothing,
        [one] if one.trim_ascii().eq_ignore_ascii_case(b"gzip") => Asked::Gzip,
        _ => Asked::Other,
    })
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut plain)
        .expect("a gzip body decodes");
    plain
}
