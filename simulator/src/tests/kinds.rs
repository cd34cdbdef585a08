//! The endpoints beyond `/sessions/data_series`, over real HTTP: every data series, the three
//! lists with their paging, the lists' own rate limit, permissions, untracked segments and
//! per-path faults.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::*;

impl Harness {
    /// An authenticated GET of `path_and_query`.
    pub(super) async fn get(&self, path_and_query: &str) -> Answer {
        Answer::of(self.request(path_and_query).bearer_auth(KEY)).await
    }
}

impl Answer {
    /// The (time, value) of a 200 data series whose points carry `field`, checking that each
    /// point has exactly `time` and `field`.
    fn values(&self, field: &str) -> Vec<(String, Value)> {
        assert_eq!(self.status, 200, "{:?}", self.body);
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body.as_object().unwrap().len(), 2, "message and data");
        assert_eq!(body["message"], "success");
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let point = p.as_object().unwrap();
                let keys: Vec<&str> = point.keys().map(String::as_str).collect();
                assert_eq!(keys.len(), 2, "{point:?}");
                assert!(
                    point.contains_key("time") && point.contains_key(field),
                    "{point:?}"
                );
                (p["time"].as_str().unwrap().to_string(), p[field].clone())
            })
            .collect()
    }

    /// The message of a Braze error with this status, checking that it is the only field.
    pub(super) fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{:?}", self.body);
        let body = self.json();
        assert_eq!(body.as_object().unwrap().len(), 1, "only message: {body}");
        body["message"].as_str().unwrap().to_string()
    }

    /// The items of a 200 list under `key`.
    pub(super) fn list(&self, key: &str) -> Vec<Value> {
        assert_eq!(self.status, 200, "{:?}", self.body);
        let body = self.json();
        assert_eq!(body["message"], "success");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        body[key].as_array().unwrap().clone()
    }
}

/// A value as JSON: counts as integers, revenue as a number of dollars.
fn as_json(series: &Series<'_>, value: f64) -> Value {
    if matches!(series, Series::Revenue { .. }) {
        json!(value)
    } else {
        assert_eq!(value.fract(), 0.0);
        json!(value as u64)
    }
}

/// Each data series: its query, the series it answers, its field, whether it takes `unit`.
fn every_kind() -> Vec<(&'static str, Series<'static>, &'static str, bool)> {
    let app_id = Some("app-a");
    vec![
        (
            "/sessions/data_series?app_id=app-a&segment_id=seg-x",
            Series::Sessions {
                app_id,
                segment_id: Some("seg-x"),
            },
            "sessions",
            true,
        ),
        (
            "/kpi/dau/data_series?app_id=app-a",
            Series::Kpi {
                metric: Kpi::Dau,
                app_id,
            },
            "dau",
            false,
        ),
        (
            "/kpi/mau/data_series?",
            Series::Kpi {
                metric: Kpi::Mau,
                app_id: None,
            },
            "mau",
            false,
        ),
        (
            "/kpi/new_users/data_series?app_id=app-a",
            Series::Kpi {
                metric: Kpi::NewUsers,
                app_id,
            },
            "new_users",
            false,
        ),
        (
            "/kpi/uninstalls/data_series?",
            Series::Kpi {
                metric: Kpi::Uninstalls,
                app_id: None,
            },
            "uninstalls",
            false,
        ),
        (
            "/events/data_series?event=checkout&app_id=app-a&segment_id=seg-x",
            Series::Event {
                name: "checkout",
                app_id,
                segment_id: Some("seg-x"),
            },
            "count",
            true,
        ),
        (
            "/events/data_series?event=signup",
            Series::Event {
                name: "signup",
                app_id: None,
                segment_id: None,
            },
            "count",
            true,
        ),
        (
            "/purchases/quantity_series?product=coins_100",
            Series::PurchaseQuantity {
                product: Some("coins_100"),
                app_id: None,
            },
            "purchase_quantity",
            true,
        ),
        (
            "/purchases/quantity_series?app_id=app-a",
            Series::PurchaseQuantity {
                product: None,
                app_id,
            },
            "purchase_quantity",
            true,
        ),
        (
            "/purchases/revenue_series?app_id=app-a&product=premium_monthly",
            Series::Revenue {
                product: Some("premium_monthly"),
                app_id,
            },
            "revenue",
            true,
        ),
        (
            "/purchases/revenue_series?",
            Series::Revenue {
                product: None,
                app_id: None,
            },
            "revenue",
            true,
        ),
        (
            "/segments/data_series?segment_id=seg-x",
            Series::SegmentSize {
                segment_id: "seg-x",
            },
            "size",
            false,
        ),
    ]
}

#[tokio::test]
async fn every_data_series_answers_value_in_bucket() {
    let now = "2026-11-28T10:20:00Z";
    let h = Harness::start(now, |_| {}).await;
    for (query, series, field, hourly) in every_kind() {
        let answer = h.get(&format!("{query}&length=3")).await;
        assert_eq!(
            answer.rate_limit().0,
            250_000,
            "{query}: the default budget"
        );
        let days = ["2026-11-26", "2026-11-27", "2026-11-28"];
        let want: Vec<(String, Value)> = days
            .iter()
            .map(|d| {
                let start = zoned(&format!("{d}T00:00:00[UTC]"));
                let value = value_in_partial_bucket(&series, Unit::Day, start, ts(now));
                (d.to_string(), as_json(&series, value))
            })
            .collect();
        assert_eq!(answer.values(field), want, "{query}");
        // The complete days are value_in_bucket.
        let yesterday = value_in_bucket(&series, Unit::Day, zoned("2026-11-27T00:00:00[UTC]"));
        assert_eq!(want[1].1, as_json(&series, yesterday), "{query}");
        assert!(yesterday > 0.0, "{query}");

        let hours = h.get(&format!("{query}&length=2&unit=hour")).await;
        if hourly {
            let start = zoned("2026-11-28T10:00:00[UTC]");
            let last = value_in_partial_bucket(&series, Unit::Hour, start, ts(now));
            let nine = value_in_bucket(&series, Unit::Hour, zoned("2026-11-28T09:00:00[UTC]"));
            assert_eq!(
                hours.values(field),
                [
                    (
                        "2026-11-28T09:00:00+00:00".to_string(),
                        as_json(&series, nine)
                    ),
                    (
                        "2026-11-28T10:00:00+00:00".to_string(),
                        as_json(&series, last)
                    ),
                ],
                "{query}"
            );
        } else {
            // No unit parameter: unit=hour is ignored like any unknown parameter.
            let days = h.get(&format!("{query}&length=2")).await;
            assert_eq!(hours.values(field), days.values(field), "{query}");
            let odd = h.get(&format!("{query}&length=2&unit=week")).await;
            assert_eq!(odd.values(field), days.values(field), "{query}");
        }
    }
    assert_eq!(h.simulator.requests_to("/kpi/dau/data_series"), 4);
    assert_eq!(h.simulator.requests_to("/events/data_series"), 4);
    assert_eq!(h.simulator.requests_to("/purchases/revenue_series"), 4);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn revenue_is_dollars_with_cents_and_counts_are_integers() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let revenue = h
        .get("/purchases/revenue_series?length=30&product=coins_100&ending_at=2026-11-27")
        .await
        .values("revenue");
    assert_eq!(revenue.len(), 30);
    let dollars: Vec<f64> = revenue.iter().map(|(_, v)| v.as_f64().unwrap()).collect();
    assert!(dollars.iter().any(|d| d.fract() != 0.0), "{dollars:?}");
    for d in &dollars {
        assert_eq!((d * 100.0).round() / 100.0, *d, "whole cents");
    }
    let quantity = h
        .get("/purchases/quantity_series?length=30&product=coins_100&ending_at=2026-11-27")
        .await
        .values("purchase_quantity");
    for ((_, q), d) in quantity.iter().zip(&dollars) {
        let q = q.as_u64().expect("an integer");
        // One price per product: revenue = quantity × price.
        let price = d / q as f64;
        assert!((0.99..=19.99).contains(&price), "{price}");
        assert!((price - dollars[0] / quantity[0].1.as_f64().unwrap()).abs() < 1e-9);
    }
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn kpi_days_follow_a_half_hour_time_zone() {
    let now = "2026-11-28T05:10:00Z"; // 10:40 in Kolkata
    let h = Harness::start(now, |c| {
        c.time_zone = TimeZone::get("Asia/Kolkata").unwrap();
    })
    .await;
    let days = ["2026-11-26", "2026-11-27", "2026-11-28"];
    for metric in [Kpi::Dau, Kpi::Mau, Kpi::NewUsers, Kpi::Uninstalls] {
        let series = Series::Kpi {
            metric,
            app_id: Some("app-b"),
        };
        let field = match metric {
            Kpi::Dau => "dau",
            Kpi::Mau => "mau",
            Kpi::NewUsers => "new_users",
            Kpi::Uninstalls => "uninstalls",
        };
        let answer = h
            .get(&format!("/kpi/{field}/data_series?length=3&app_id=app-b"))
            .await;
        let want: Vec<(String, Value)> = days
            .iter()
            .map(|d| {
                let start = zoned(&format!("{d}T00:00:00+05:30[Asia/Kolkata]"));
                let value = value_in_partial_bucket(&series, Unit::Day, start, ts(now));
                (d.to_string(), as_json(&series, value))
            })
            .collect();
        assert_eq!(answer.values(field), want, "{field}");
        // ending_at as a local date, and as an instant inside that local day (23:30 there).
        for ending_at in ["2026-11-27", "2026-11-27T18:00:00Z"] {
            let answer = h
                .get(&format!(
                    "/kpi/{field}/data_series?length=1&app_id=app-b&ending_at={ending_at}"
                ))
                .await;
            assert_eq!(answer.values(field), want[1..2], "{field} {ending_at}");
        }
    }
    // The local day of DAU is the local day of sessions: 40% of its 24 hours.
    let hours = h
        .series("length=24&unit=hour&app_id=app-b&ending_at=2026-11-27T23:00:00")
        .await;
    assert_eq!(hours.times()[0], "2026-11-27T00:00:00+05:30");
    let sessions: u64 = hours.sessions().iter().sum();
    let dau = h
        .get("/kpi/dau/data_series?length=1&app_id=app-b&ending_at=2026-11-27")
        .await
        .values("dau");
    assert_eq!(dau[0].1, json!(sessions * 400 / 1000));
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn day_only_kinds_leave_out_the_day_in_progress_when_asked() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| c.include_in_progress = false).await;
    for (query, _, field, _) in every_kind() {
        let answer = h.get(&format!("{query}&length=2")).await;
        assert_eq!(answer.values(field).len(), 1, "{query}");
        assert_eq!(answer.values(field)[0].0, "2026-11-27", "{query}");
    }
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn each_endpoint_refuses_bad_parameters_by_name() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| {
        c.untracked_segments = vec![("seg-off".into(), "Off".into())];
    })
    .await;
    let cases = [
        ("/kpi/dau/data_series", "Invalid length"),
        ("/kpi/mau/data_series?length=101", "Invalid length"),
        (
            "/kpi/dau/data_series?length=1&app_id=app-zzz",
            "Invalid app_id: app-zzz",
        ),
        (
            "/kpi/dau/data_series?length=1&ending_at=soon",
            "Invalid ending_at",
        ),
        (
            "/events/data_series?length=1",
            "Invalid event: event is required",
        ),
        (
            "/events/data_series?length=1&event=",
            "Invalid event: event is required",
        ),
        (
            "/events/data_series?length=1&event=nope",
            "Invalid event: nope",
        ),
        ("/events/data_series?event=signup", "Invalid length"),
        (
            "/events/data_series?length=1&event=signup&unit=week",
            "Invalid unit",
        ),
        (
            "/events/data_series?length=1&event=signup&segment_id=seg-zzz",
            "Invalid segment_id: seg-zzz",
        ),
        (
            "/purchases/quantity_series?length=1&product=nope",
            "Invalid product: nope",
        ),
        (
            "/purchases/revenue_series?length=1&product=",
            "Invalid product: ",
        ),
        (
            "/purchases/revenue_series?length=1&unit=Hour",
            "Invalid unit",
        ),
        (
            "/segments/data_series?length=1",
            "Invalid segment_id: segment_id is required",
        ),
        (
            "/segments/data_series?length=1&segment_id=nope",
            "Invalid segment_id: nope",
        ),
        ("/events/list?page=-1", "Invalid page"),
        ("/purchases/product_list?page=first", "Invalid page"),
        ("/segments/list?page=", "Invalid page"),
        (
            "/segments/list?sort_direction=newest",
            "Invalid sort_direction",
        ),
    ];
    for (query, start) in cases {
        let message = h.get(query).await.error(400);
        assert!(message.starts_with(start), "{query}: {message}");
    }
    // A segment without analytics tracking has no series.
    for query in [
        "/sessions/data_series?length=1&segment_id=seg-off",
        "/events/data_series?length=1&event=signup&segment_id=seg-off",
        "/segments/data_series?length=1&segment_id=seg-off",
    ] {
        let message = h.get(query).await.error(400);
        assert_eq!(
            message, "Invalid segment_id: seg-off does not have analytics tracking enabled",
            "{query}"
        );
    }
    // Parameters an endpoint does not take are ignored.
    for query in [
        "/kpi/dau/data_series?length=1&segment_id=nope&product=nope&event=nope",
        "/segments/data_series?length=1&segment_id=seg-x&app_id=nope",
        "/purchases/quantity_series?length=1&segment_id=nope&event=nope",
        "/events/list?sort_direction=nope&length=0",
    ] {
        assert_eq!(h.get(query).await.status, 200, "{query}");
    }
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn lists_page_like_braze() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| {
        let mut events = generate_ids("ev", 501);
        events.reverse(); // listed sorted whatever the configuration's order
        c.events = events;
        c.products = generate_ids("prod", 250);
        c.segments = generate_ids("seg", 150);
        c.segment_names = [("seg-0002".to_string(), "Second".to_string())].into();
        c.untracked_segments = vec![("seg-off".into(), "Off".into())];
    })
    .await;
    let names = |items: Vec<Value>| -> Vec<String> {
        items
            .into_iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let all_events = generate_ids("ev", 501);
    assert_eq!(
        names(h.get("/events/list").await.list("events")),
        all_events[..250]
    );
    assert_eq!(
        names(h.get("/events/list?page=0").await.list("events")),
        all_events[..250]
    );
    assert_eq!(
        names(h.get("/events/list?page=1").await.list("events")),
        all_events[250..500]
    );
    assert_eq!(
        names(h.get("/events/list?page=2").await.list("events")),
        all_events[500..]
    );
    assert!(h.get("/events/list?page=3").await.list("events").is_empty());
    assert!(h
        .get("/events/list?page=99999")
        .await
        .list("events")
        .is_empty());

    // Exactly one full page: the next one is empty.
    let products = generate_ids("prod", 250);
    assert_eq!(
        names(h.get("/purchases/product_list").await.list("products")),
        products
    );
    assert!(h
        .get("/purchases/product_list?page=1")
        .await
        .list("products")
        .is_empty());

    let segments = h.get("/segments/list").await.list("segments");
    assert_eq!(segments.len(), 100);
    assert_eq!(
        segments[0],
        json!({"id": "seg-0001", "name": "seg-0001", "analytics_tracking_enabled": true, "tags": []})
    );
    assert_eq!(segments[1]["name"], "Second");
    let last = h.get("/segments/list?page=1").await.list("segments");
    assert_eq!(last.len(), 51, "150 tracked and 1 untracked");
    assert_eq!(last[49]["id"], "seg-0150");
    assert_eq!(
        last[50],
        json!({"id": "seg-off", "name": "Off", "analytics_tracking_enabled": false, "tags": []})
    );
    assert!(h
        .get("/segments/list?page=2")
        .await
        .list("segments")
        .is_empty());
    let newest = h
        .get("/segments/list?sort_direction=desc")
        .await
        .list("segments");
    assert_eq!(newest.len(), 100);
    assert_eq!(newest[0]["id"], "seg-off");
    assert_eq!(newest[1]["id"], "seg-0150");
    let oldest = h
        .get("/segments/list?page=1&sort_direction=desc")
        .await
        .list("segments");
    assert_eq!(oldest.len(), 51);
    assert_eq!(oldest[50]["id"], "seg-0001");
    assert_eq!(
        h.get("/segments/list?sort_direction=asc")
            .await
            .list("segments"),
        segments
    );
    assert_eq!(h.simulator.requests_to("/events/list"), 6);
    assert_eq!(h.simulator.requests_to("/purchases/product_list"), 2);
    assert_eq!(h.simulator.requests_to("/segments/list"), 6);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn demo_workspace_lists_its_names() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| {
        let demo = SimulatorConfig::demo(KEY);
        c.segments = demo.segments;
        c.apps = demo.apps;
    })
    .await;
    let body = h.get("/segments/list").await.json();
    assert_eq!(
        body,
        json!({"message": "success", "segments": [
            {"id": "demo-seg-paying", "name": "Paying users", "analytics_tracking_enabled": true, "tags": []},
            {"id": "demo-seg-new-users", "name": "New users", "analytics_tracking_enabled": true, "tags": []},
            {"id": "demo-seg-untracked", "name": "Untracked", "analytics_tracking_enabled": false, "tags": []},
        ]})
    );
    assert_eq!(
        h.get("/events/list").await.json(),
        json!({"message": "success", "events": ["checkout", "level_up", "signup"]})
    );
    assert_eq!(
        h.get("/purchases/product_list").await.json(),
        json!({"message": "success", "products": ["coins_100", "premium_monthly"]})
    );
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn lists_share_their_own_hourly_budget() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let reset = ts("2026-11-28T11:00:00Z").as_second();
    for n in 0..1_000u64 {
        let path = if n % 2 == 0 {
            "/events/list"
        } else {
            "/purchases/product_list"
        };
        let answer = h.get(path).await;
        assert_eq!(answer.status, 200, "request {n}");
        assert_eq!(answer.rate_limit(), (1_000, 999 - n, reset), "request {n}");
    }
    for path in ["/events/list", "/purchases/product_list"] {
        let refused = h.get(path).await;
        assert_eq!(refused.error(429), "Too Many Requests");
        assert_eq!(refused.rate_limit(), (1_000, 0, reset));
    }
    // Everything else is on the default budget, untouched by the lists.
    for path in [
        "/sessions/data_series?length=1",
        "/kpi/dau/data_series?length=1",
        "/events/data_series?length=1&event=signup",
        "/segments/list",
    ] {
        let answer = h.get(path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.rate_limit().0, 250_000, "{path}");
    }
    assert_eq!(
        h.get("/sessions/data_series?length=1").await.rate_limit().1,
        249_995
    );
    // A new window.
    h.clock.set(ts("2026-11-28T11:00:00Z"));
    let answer = h.get("/events/list").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.rate_limit(), (1_000, 999, reset + 3_600));
    assert_eq!(h.simulator.requests_to("/events/list"), 502);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn list_limit_is_configurable() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| c.list_rate_limit_per_hour = 2).await;
    assert_eq!(h.get("/purchases/product_list").await.status, 200);
    assert_eq!(h.get("/events/list").await.rate_limit().1, 0);
    assert_eq!(h.get("/events/list").await.status, 429);
    assert_eq!(h.get("/segments/list").await.status, 200);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn a_key_without_a_permission_is_refused_with_403() {
    let h = Harness::start("2026-11-28T10:20:00Z", |c| {
        c.permissions = Some(HashSet::from([
            "sessions.data_series".to_string(),
            "events.list".to_string(),
            "kpi.mau.data_series".to_string(),
        ]));
    })
    .await;
    assert_eq!(h.get("/sessions/data_series?length=1").await.status, 200);
    assert_eq!(h.get("/events/list").await.status, 200);
    assert_eq!(h.get("/kpi/mau/data_series?length=1").await.status, 200);
    let refused = [
        ("/kpi/dau/data_series?length=1", "kpi.dau.data_series"),
        (
            "/kpi/new_users/data_series?length=1",
            "kpi.new_users.data_series",
        ),
        (
            "/kpi/uninstalls/data_series?length=1",
            "kpi.uninstalls.data_series",
        ),
        (
            "/events/data_series?length=1&event=signup",
            "events.data_series",
        ),
        (
            "/purchases/quantity_series?length=1",
            "purchases.quantity_series",
        ),
        (
            "/purchases/revenue_series?length=1",
            "purchases.revenue_series",
        ),
        (
            "/segments/data_series?length=1&segment_id=seg-x",
            "segments.data_series",
        ),
        ("/purchases/product_list", "purchases.product_list"),
        ("/segments/list", "segments.list"),
        // Permissions are judged before parameters.
        ("/kpi/dau/data_series?length=0", "kpi.dau.data_series"),
    ];
    for (path, permission) in refused {
        let answer = h.get(path).await;
        assert_eq!(
            answer.error(403),
            format!("Access denied: this API key does not have the {permission} permission"),
        );
        assert!(answer.header("x-ratelimit-remaining").is_some());
    }
    // A refused request uses no budget: 2 of the default and 1 of the lists' so far.
    assert_eq!(
        h.get("/sessions/data_series?length=1").await.rate_limit().1,
        250_000 - 3
    );
    assert_eq!(h.get("/events/list").await.rate_limit().1, 1_000 - 2);
    // Authentication comes first.
    let answer = Answer::of(
        h.request("/kpi/dau/data_series?length=1")
            .bearer_auth("bad"),
    )
    .await;
    assert_eq!(answer.status, 401);
    h.simulator.shutdown().await;
}

#[tokio::test]
async fn path_faults_fail_one_kind_only() {
    let h = Harness::start("2026-11-28T10:20:00Z", |_| {}).await;
    let faults = h.simulator.faults();
    faults.set(
        FaultTarget::Path("/kpi/dau/data_series".into()),
        Fault::BareStatus(503),
    );
    assert_eq!(h.get("/kpi/dau/data_series?length=1").await.status, 503);
    assert_eq!(h.get("/kpi/mau/data_series?length=1").await.status, 200);
    assert_eq!(h.series("length=1").await.status, 200);

    faults.set(
        FaultTarget::Path("/events/list".into()),
        Fault::RateLimited {
            reset_in: Duration::from_secs(60),
        },
    );
    let answer = h.get("/events/list").await;
    assert_eq!(answer.error(429), "Too Many Requests");
    let reset = ts("2026-11-28T10:21:00Z").as_second();
    assert_eq!(answer.rate_limit(), (1_000, 0, reset), "the lists' budget");
    assert_eq!(h.get("/purchases/product_list").await.status, 200);

    faults.set(
        FaultTarget::Path("/purchases/revenue_series".into()),
        Fault::WrongShape,
    );
    assert_eq!(
        h.get("/purchases/revenue_series?length=1").await.json(),
        json!({"message": "success", "data": [{"time": "2026-11-28", "revenue": "lots"}]})
    );
    faults.set(
        FaultTarget::Path("/segments/list".into()),
        Fault::WrongShape,
    );
    assert_eq!(
        h.get("/segments/list").await.json(),
        json!({"message": "success", "segments": "lots"})
    );

    // All reaches every path; a path fault wins over it.
    faults.set(FaultTarget::All, Fault::MalformedJson);
    let answer = h.get("/purchases/product_list").await;
    assert_eq!(answer.status, 200);
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
    assert_eq!(h.get("/kpi/dau/data_series?length=1").await.status, 503);
    faults.clear(&FaultTarget::Path("/kpi/dau/data_series".into()));
    let answer = h.get("/kpi/dau/data_series?length=1").await;
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
    faults.clear_all();
    assert_eq!(h.get("/kpi/dau/data_series?length=1").await.status, 200);
    assert_eq!(h.simulator.requests_to("/kpi/dau/data_series"), 4);
    h.simulator.shutdown().await;
}
