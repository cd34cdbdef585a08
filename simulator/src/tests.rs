//! The simulator over real HTTP on 127.0.0.1, with a [`ManualClock`] and, for waits, a paused
//! tokio clock.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use reqwest::header::HeaderMap;
use reqwest::RequestBuilder;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::*;

mod kinds;
mod messaging;

const KEY: &str = "test-key";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn zoned(s: &str) -> Zoned {
    s.parse().unwrap()
}

struct Harness {
    simulator: Simulator,
    clock: ManualClock,
    client: reqwest::Client,
}

impl Harness {
    /// A workspace with apps `app-a`, `app-b` and segment `seg-x`, its clock at `now`.
    async fn start(now: &str, configure: impl FnOnce(&mut SimulatorConfig)) -> Self {
        let clock = ManualClock::new(ts(now));
        let mut config = SimulatorConfig::demo(KEY);
        config.apps = vec!["app-a".into(), "app-b".into()];
        config.segments = vec!["seg-x".into()];
        config.clock = clock.as_clock();
        configure(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let simulator = Simulator::start(config, listener).await.unwrap();
        Self {
            simulator,
            clock,
            client: reqwest::Client::new(),
        }
    }

    fn request(&self, path_and_query: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path_and_query}", self.simulator.url()))
    }

    /// An authenticated GET of the endpoint with this raw query string.
    async fn series(&self, query: &str) -> Answer {
        let request = self.request(&format!("/sessions/data_series?{query}"));
        Answer::of(request.bearer_auth(KEY)).await
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    async fn of(request: RequestBuilder) -> Self {
        let response = request.send().await.unwrap();
        Self {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// (limit, remaining, reset)
    fn rate_limit(&self) -> (u64, u64, i64) {
        let number = |name| self.header(name).unwrap_or_else(|| panic!("no {name}"));
        (
            number("x-ratelimit-limit").parse().unwrap(),
            number("x-ratelimit-remaining").parse().unwrap(),
            number("x-ratelimit-reset").parse().unwrap(),
        )
    }

    /// The (time, sessions) of a 200.
    fn points(&self) -> Vec<(String, u64)> {
        assert_eq!(self.status, 200, "{:?}", self.body);
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["message"], "success");
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let time = p["time"].as_str().unwrap().to_string();
                (time, p["sessions"].as_u64().unwrap())
            })
            .collect()
    }

    fn times(&self) -> Vec<String> {
        self.points().into_iter().map(|(time, _)| time).collect()
    }

    fn sessions(&self) -> Vec<u64> {
        self.points().into_iter().map(|(_, n)| n).collect()
    }
}

fn full(app: Option<&str>, segment: Option<&str>, unit: Unit, start: &str) -> u64 {
    sessions_in_bucket(app, segment, unit, zoned(start))
}

fn partial(app: Option<&str>, segment: Option<&str>, unit: Unit, start: &str, now: &str) -> u64 {
    sessions_in_partial_bucket(app, segment, unit, zoned(start), ts(now))
}

#[tokio::test]
async fn a_rotated_key_is_the_only_one_accepted_from_the_next_request_on() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let url = "/sessions/data_series?length=1";
    assert_eq!(
        Answer::of(h.request(url).bearer_auth(KEY)).await.status,
        200
    );
    h.simulator.set_api_key("rotated-key");
    assert_eq!(
        Answer::of(h.request(url).bearer_auth(KEY)).await.status,
        401
    );
    let answer = Answer::of(h.request(url).bearer_auth("rotated-key")).await;
    assert_eq!(answer.status, 200);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn rejects_missing_wrong_and_query_keys_without_echoing_them() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let url = "/sessions/data_series?length=1";
    let cases = [
        ("missing", h.request(url)),
        ("wrong", h.request(url).bearer_auth("not-the-key")),
        ("quoted", h.request(url).bearer_auth(format!("\"{KEY}\""))),
        (
            "lower-case scheme",
            h.request(url)
                .header("authorization", format!("bearer {KEY}")),
        ),
        ("no scheme", h.request(url).header("authorization", KEY)),
        ("query only", h.request(&format!("{url}&api_key={KEY}"))),
        (
            "query and header",
            h.request(&format!("{url}&api_key={KEY}")).bearer_auth(KEY),
        ),
    ];
    for (case, request) in cases {
        let answer = Answer::of(request).await;
        assert_eq!(answer.status, 401, "{case}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let message = answer.json()["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with("Invalid API key: "),
            "{case}: {message}"
        );
        assert!(
            !message.contains(KEY) && !message.contains("not-the-key"),
            "{message}"
        );
        let (limit, remaining, _) = answer.rate_limit();
        assert_eq!(
            (limit, remaining),
            (250_000, 250_000),
            "{case}: no budget used"
        );
    }
    assert_eq!(h.series("length=1").await.status, 200);
    assert_eq!(h.simulator.requests_received(), 8);
    assert_eq!(h.simulator.requests_for(None, None), 8);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn rejects_each_bad_parameter_by_name() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let cases = [
        ("unit=day", "Invalid length"),
        ("length=", "Invalid length"),
        ("length=0", "Invalid length"),
        ("length=101", "Invalid length"),
        ("length=ten", "Invalid length"),
        ("length=-3", "Invalid length"),
        ("length=2&unit=week", "Invalid unit"),
        ("length=2&unit=HOUR", "Invalid unit"),
        ("length=2&ending_at=yesterday", "Invalid ending_at"),
        ("length=2&ending_at=2026-02-30", "Invalid ending_at"),
        // A raw `+` is a space in a query string: the offset must be sent as %2B.
        (
            "length=2&ending_at=2026-11-28T10:00:00+05:30",
            "Invalid ending_at",
        ),
        ("length=2&app_id=app-zzz", "Invalid app_id: app-zzz"),
        (
            "length=2&app_id=app-a&segment_id=seg-zzz",
            "Invalid segment_id: seg-zzz",
        ),
    ];
    for (query, start) in cases {
        let answer = h.series(query).await;
        assert_eq!(answer.status, 400, "{query}");
        let message = answer.json()["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(start), "{query}: {message}");
        assert_eq!(answer.json().as_object().unwrap().len(), 1, "only message");
        assert_eq!(answer.rate_limit().0, 250_000);
    }
    // Unknown parameters are ignored.
    assert_eq!(h.series("length=1&foo=bar").await.points().len(), 1);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn unknown_path_is_404_and_other_methods_405() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    for path in [
        "/",
        "/sessions/data_series/",
        "/kpi/wau/data_series?length=1",
        "/events/list/",
    ] {
        let answer = Answer::of(h.request(path).bearer_auth(KEY)).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.json(), json!({"message": "Not Found"}));
        assert!(answer.header("x-ratelimit-reset").is_some());
    }
    let url = format!("{}/sessions/data_series?length=1", h.simulator.url());
    let answer = Answer::of(h.client.post(url).bearer_auth(KEY)).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET"));
    assert_eq!(answer.json(), json!({"message": "Method Not Allowed"}));
    assert_eq!(h.simulator.requests_received(), 5);
    assert_eq!(h.simulator.requests_for(None, None), 0);
    assert_eq!(
        h.simulator.requests_to("/sessions/data_series"),
        1,
        "the POST"
    );
    assert_eq!(h.simulator.requests_to("/sessions/data_series/"), 0);
    assert_eq!(h.simulator.requests_to("/events/list"), 0);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn hour_buckets_in_utc_end_with_the_partial_hour() {
    let now = "2026-11-28T10:20:00Z";
    let h = Harness::start(now, |_| {}).await;
    let answer = h.series("length=3&unit=hour").await;
    assert_eq!(
        answer.times(),
        [
            "2026-11-28T08:00:00+00:00",
            "2026-11-28T09:00:00+00:00",
            "2026-11-28T10:00:00+00:00"
        ]
    );
    let ten = full(None, None, Unit::Hour, "2026-11-28T10:00:00[UTC]");
    assert_eq!(
        answer.sessions(),
        [
            full(None, None, Unit::Hour, "2026-11-28T08:00:00[UTC]"),
            full(None, None, Unit::Hour, "2026-11-28T09:00:00[UTC]"),
            ten / 3,
        ]
    );
    assert_eq!(
        partial(None, None, Unit::Hour, "2026-11-28T10:00:00[UTC]", now),
        ten / 3
    );
    // One app and one segment.
    let answer = h
        .series("length=2&unit=hour&app_id=app-b&segment_id=seg-x")
        .await;
    let (app, seg) = (Some("app-b"), Some("seg-x"));
    assert_eq!(
        answer.sessions(),
        [
            full(app, seg, Unit::Hour, "2026-11-28T09:00:00[UTC]"),
            partial(app, seg, Unit::Hour, "2026-11-28T10:00:00[UTC]", now),
        ]
    );
    assert!(answer.sessions()[0] > 0);
    assert_eq!(h.simulator.requests_for(app, seg), 1);
    assert_eq!(h.simulator.requests_for(app, None), 0);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn hour_buckets_follow_a_half_hour_time_zone_in_each_format() {
    let now = "2026-11-28T05:10:00Z"; // 10:40 in Kolkata
    let formats = [
        (
            TimeFormat::Offset,
            [
                "2026-11-28T08:00:00+05:30",
                "2026-11-28T09:00:00+05:30",
                "2026-11-28T10:00:00+05:30",
            ],
        ),
        (
            TimeFormat::Zulu,
            [
                "2026-11-28T02:30:00Z",
                "2026-11-28T03:30:00Z",
                "2026-11-28T04:30:00Z",
            ],
        ),
        (
            TimeFormat::Naive,
            [
                "2026-11-28T08:00:00",
                "2026-11-28T09:00:00",
                "2026-11-28T10:00:00",
            ],
        ),
    ];
    for (format, times) in formats {
        let h = Harness::start(now, |c| {
            c.time_zone = TimeZone::get("Asia/Kolkata").unwrap();
            c.hourly_time_format = format;
        })
        .await;
        let answer = h.series("length=3&unit=hour&app_id=app-a").await;
        assert_eq!(answer.times(), times, "{format:?}");
        let app = Some("app-a");
        let ten = full(
            app,
            None,
            Unit::Hour,
            "2026-11-28T10:00:00+05:30[Asia/Kolkata]",
        );
        assert_eq!(
            answer.sessions(),
            [
                full(
                    app,
                    None,
                    Unit::Hour,
                    "2026-11-28T08:00:00+05:30[Asia/Kolkata]"
                ),
                full(
                    app,
                    None,
                    Unit::Hour,
                    "2026-11-28T09:00:00+05:30[Asia/Kolkata]"
                ),
                ten * 2 / 3,
            ],
            "{format:?}"
        );
        h.simulator.shutdown().await;
    }
}

#[tokio::test]
async fn day_buckets_are_local_dates() {
    let now = "2026-11-28T10:00:00Z";
    let h = Harness::start(now, |_| {}).await;
    let answer = h.series("length=3").await;
    assert_eq!(answer.times(), ["2026-11-26", "2026-11-27", "2026-11-28"]);
    assert_eq!(
        answer.sessions(),
        [
            full(None, None, Unit::Day, "2026-11-26T00:00:00[UTC]"),
            full(None, None, Unit::Day, "2026-11-27T00:00:00[UTC]"),
            partial(None, None, Unit::Day, "2026-11-28T00:00:00[UTC]", now),
        ]
    );
    // A day is the sum of its hours.
    let hours = h
        .series("length=24&unit=hour&ending_at=2026-11-27T23:00:00Z")
        .await;
    assert_eq!(hours.times()[0], "2026-11-27T00:00:00+00:00");
    assert_eq!(hours.sessions().iter().sum::<u64>(), answer.sessions()[1]);
    h.simulator.shutdown().await;

    // New York's 25-hour day, ending_at given as a date.
    let h = Harness::start(now, |c| {
        c.time_zone = TimeZone::get("America/New_York").unwrap();
    })
    .await;
    let answer = h
        .series("length=2&unit=day&ending_at=2026-11-01&segment_id=seg-x")
        .await;
    assert_eq!(answer.times(), ["2026-10-31", "2026-11-01"]);
    let seg = Some("seg-x");
    assert_eq!(
        answer.sessions(),
        [
            full(
                None,
                seg,
                Unit::Day,
                "2026-10-31T00:00:00[America/New_York]"
            ),
            full(
                None,
                seg,
                Unit::Day,
                "2026-11-01T00:00:00[America/New_York]"
            ),
        ]
    );
    let hours = h
        .series("length=25&unit=hour&ending_at=2026-11-01T23:30:00&segment_id=seg-x")
        .await;
    assert_eq!(hours.times()[0], "2026-11-01T00:00:00-04:00");
    assert_eq!(hours.times()[24], "2026-11-01T23:00:00-05:00");
    assert_eq!(hours.sessions().iter().sum::<u64>(), answer.sessions()[1]);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn in_progress_bucket_grows_or_is_left_out() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let early = h.series("length=2&unit=hour").await.sessions();
    h.clock.set(ts("2026-11-28T10:40:00Z"));
    let later = h.series("length=2&unit=hour").await.sessions();
    assert_eq!(early[0], later[0], "a complete hour does not change");
    assert!(early[1] < later[1], "{early:?} then {later:?}");
    h.clock.set(ts("2026-11-28T11:00:00Z"));
    let answer = h.series("length=2&unit=hour").await;
    assert_eq!(
        answer.times(),
        ["2026-11-28T10:00:00+00:00", "2026-11-28T11:00:00+00:00"]
    );
    assert_eq!(
        answer.sessions(),
        [full(None, None, Unit::Hour, "2026-11-28T10:00:00[UTC]"), 0]
    );
    h.simulator.shutdown().await;

    let h = Harness::start("2026-11-28T10:20:00Z", |c| c.include_in_progress = false).await;
    let answer = h.series("length=3&unit=hour").await;
    assert_eq!(
        answer.times(),
        ["2026-11-28T08:00:00+00:00", "2026-11-28T09:00:00+00:00"]
    );
    assert_eq!(h.series("length=1").await.points(), []);
    assert_eq!(h.series("length=2").await.times(), ["2026-11-27"]);
    // A past ending_at is complete whatever the setting.
    let answer = h
        .series("length=1&unit=hour&ending_at=2026-11-28T09:59:59Z")
        .await;
    assert_eq!(answer.times(), ["2026-11-28T09:00:00+00:00"]);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn ending_at_forms_and_future_buckets() {
    let now = "2026-11-28T10:20:00Z";
    let h = Harness::start(now, |_| {}).await;
    let cases: [(&str, &[&str]); 5] = [
        // Braze's own example, unpadded offset: 2026-11-28T04:59:59Z.
        (
            "length=2&unit=hour&ending_at=2026-11-27T23:59:59-5:00",
            &["2026-11-28T03:00:00+00:00", "2026-11-28T04:00:00+00:00"],
        ),
        (
            "length=1&unit=hour&ending_at=2026-11-28T09:59:59%2B05:30",
            &["2026-11-28T04:00:00+00:00"],
        ),
        // Naive: in the company time zone (UTC here).
        (
            "length=1&unit=hour&ending_at=2026-11-27T12:00:00",
            &["2026-11-27T12:00:00+00:00"],
        ),
        (
            "length=2&ending_at=2026-11-27",
            &["2026-11-26", "2026-11-27"],
        ),
        // Buckets after now are not returned; the one in progress is.
        (
            "length=5&unit=hour&ending_at=2026-11-28T13:30:00Z",
            &["2026-11-28T09:00:00+00:00", "2026-11-28T10:00:00+00:00"],
        ),
    ];
    for (query, times) in cases {
        assert_eq!(h.series(query).await.times(), times, "{query}");
    }
    let future = h
        .series("length=5&unit=hour&ending_at=2026-11-28T13:30:00Z")
        .await;
    assert_eq!(
        future.sessions()[1],
        partial(None, None, Unit::Hour, "2026-11-28T10:00:00[UTC]", now)
    );
    let old = h
        .series("length=100&unit=day&ending_at=2020-02-29T12:00:00Z")
        .await;
    assert_eq!(old.points().len(), 100);
    assert_eq!(old.times()[99], "2020-02-29");
    assert_eq!(old.times()[0], "2019-11-22");
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn rate_limit_refuses_past_the_limit_until_the_window_resets() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| c.rate_limit_per_hour = 3).await;
    let reset = ts("2026-11-28T11:00:00Z").as_second();
    for remaining in [2, 1, 0] {
        let answer = h.series("length=1").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.rate_limit(), (3, remaining, reset));
    }
    let refused = h.series("length=1").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json(), json!({"message": "Too Many Requests"}));
    assert_eq!(refused.rate_limit(), (3, 0, reset));
    // Bad parameters are judged after the budget.
    assert_eq!(h.series("length=0").await.status, 429);
    h.clock.set(ts("2026-11-28T11:00:00Z"));
    let answer = h.series("length=0").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.rate_limit(), (3, 2, reset + 3_600));
    assert_eq!(h.simulator.requests_for(None, None), 6);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn status_faults_answer_before_authentication() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let faults = h.simulator.faults().clone();
    faults.set(
        FaultTarget::All,
        Fault::Status {
            status: 403,
            message: "key lacks sessions.data_series".into(),
        },
    );
    let answer = Answer::of(h.request("/sessions/data_series?length=1")).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        json!({"message": "key lacks sessions.data_series",
               "errors": ["key lacks sessions.data_series"]})
    );
    assert_eq!(answer.rate_limit().1, 250_000, "no budget used");

    faults.set(FaultTarget::All, Fault::BareStatus(502));
    let answer = h.series("length=1").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.header("content-type"), Some("text/html"));
    assert!(answer.header("x-ratelimit-limit").is_none());
    let html = std::str::from_utf8(&answer.body).unwrap();
    assert!(html.contains("<h1>502 Bad Gateway</h1>"), "{html}");
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());

    faults.clear(&FaultTarget::All);
    assert_eq!(h.series("length=1").await.status, 200);
    assert_eq!(h.simulator.requests_for(None, None), 3);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn series_fault_matches_exactly_its_parameters() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let target = FaultTarget::Series {
        app_id: Some("app-a".into()),
        segment_id: None,
    };
    h.simulator
        .faults()
        .set(target.clone(), Fault::BareStatus(503));
    assert_eq!(h.series("length=1&app_id=app-a").await.status, 503);
    assert_eq!(
        h.series("length=1&app_id=app-a&segment_id=seg-x")
            .await
            .status,
        200
    );
    assert_eq!(h.series("length=1&app_id=app-b").await.status, 200);
    assert_eq!(h.series("length=1").await.status, 200);
    h.simulator
        .faults()
        .set(FaultTarget::All, Fault::BareStatus(504));
    assert_eq!(
        h.series("length=1&app_id=app-a").await.status,
        503,
        "series wins"
    );
    assert_eq!(h.series("length=1").await.status, 504);
    h.simulator.faults().clear(&target);
    assert_eq!(h.series("length=1&app_id=app-a").await.status, 504);
    h.simulator.faults().clear_all();
    assert_eq!(h.series("length=1&app_id=app-a").await.status, 200);
    assert_eq!(h.simulator.requests_for(Some("app-a"), None), 4);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn body_faults_break_the_json() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let faults = h.simulator.faults();

    faults.set(FaultTarget::All, Fault::MalformedJson);
    let answer = h.series("length=1").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());

    faults.set(FaultTarget::All, Fault::WrongShape);
    let answer = h.series("length=1").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"message": "success", "data": [{"time": "2026-11-28", "sessions": "lots"}]})
    );

    faults.set(FaultTarget::All, Fault::Unsuccessful("partial".into()));
    let answer = h.series("length=1").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"message": "partial", "data": [{"time": "2026-11-28", "sessions": UNSUCCESSFUL_VALUE}]})
    );

    for size in [0, 10, 44, 45, 3_000_000] {
        faults.set(FaultTarget::All, Fault::Oversized(size));
        let answer = h.series("length=1").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body.len(), size);
        if size >= 44 {
            assert_eq!(answer.json()["data"], json!([]), "{size}");
        }
    }

    faults.set(
        FaultTarget::All,
        Fault::RateLimited {
            reset_in: Duration::from_millis(89_500),
        },
    );
    let answer = h.series("length=1").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.json(), json!({"message": "Too Many Requests"}));
    let reset = ts("2026-11-28T10:21:30Z").as_second();
    assert_eq!(answer.rate_limit(), (250_000, 0, reset));

    faults.set(
        FaultTarget::All,
        Fault::RetryAfter {
            retry_after: "120".into(),
            reset_in: None,
        },
    );
    let answer = h.series("length=1").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("120"));
    assert_eq!(answer.header("x-ratelimit-reset"), None, "a gateway's 429");
    faults.set(
        FaultTarget::All,
        Fault::RetryAfter {
            retry_after: "Sat, 28 Nov 2026 10:30:00 GMT".into(),
            reset_in: Some(Duration::from_secs(90)),
        },
    );
    let answer = h.series("length=1").await;
    assert_eq!(
        answer.header("retry-after"),
        Some("Sat, 28 Nov 2026 10:30:00 GMT")
    );
    assert_eq!(answer.rate_limit(), (250_000, 0, reset));
    h.simulator.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn delay_and_latency_wait_on_the_tokio_clock() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| {
        c.latency = Duration::from_millis(100);
    })
    .await;
    let started = tokio::time::Instant::now();
    assert_eq!(h.series("length=1").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(started.elapsed() < Duration::from_secs(1));

    h.simulator
        .faults()
        .set(FaultTarget::All, Fault::Delay(Duration::from_secs(20)));
    let started = tokio::time::Instant::now();
    let answer = h.series("length=2&unit=hour").await;
    assert!(started.elapsed() >= Duration::from_millis(20_100));
    assert_eq!(
        answer.times(),
        ["2026-11-28T09:00:00+00:00", "2026-11-28T10:00:00+00:00"]
    );
    h.simulator.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn hang_never_answers_until_shutdown() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    h.simulator.faults().set(FaultTarget::All, Fault::Hang);
    let started = tokio::time::Instant::now();
    let error = h
        .request("/sessions/data_series?length=1")
        .bearer_auth(KEY)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert_eq!(h.simulator.requests_for(None, None), 1);

    // A hung request does not hold up shutdown, and nothing answers afterwards.
    let url = h.simulator.url();
    let hung = tokio::spawn(
        h.request("/sessions/data_series?length=1")
            .bearer_auth(KEY)
            .send(),
    );
    while h.simulator.requests_received() < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    h.simulator.shutdown().await;
    assert!(
        hung.await.unwrap().is_err(),
        "connection dropped without an answer"
    );
    assert!(reqwest::get(url).await.is_err());
}

#[test]
fn generated_ids_are_zero_padded() {
    assert_eq!(generate_ids("app", 2), ["app-0001", "app-0002"]);
    assert_eq!(generate_ids("seg", 10_000)[9_999], "seg-10000");
    assert!(generate_ids("seg", 0).is_empty());
}

/// A clock that moves only when the test sets it.
#[derive(Debug, Clone)]
struct ManualClock(Arc<std::sync::Mutex<Timestamp>>);

impl ManualClock {
    fn new(start: Timestamp) -> Self {
        Self(Arc::new(std::sync::Mutex::new(start)))
    }

    fn set(&self, to: Timestamp) {
        *self.0.lock().unwrap() = to;
    }

    fn as_clock(&self) -> Clock {
        let now = self.0.clone();
        Clock::from_fn(move || *now.lock().unwrap())
    }
}
