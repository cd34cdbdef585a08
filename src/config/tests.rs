use std::path::Path;
use std::time::Duration;

use super::*;

const KEY: &str = "test-key-0000";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("cfg.yml"), Some(KEY.to_string()))
}

/// The single problem reported for `text`, as the user would read it.
fn problem(text: &str) -> String {
    let err = parse(text).expect_err("config should be refused");
    assert_eq!(err.problems.len(), 1, "expected one problem, got: {err}");
    err.to_string()
}

const MINIMAL: &str = "braze:\n  url: https://rest.iad-01.braze.com\n";

#[test]
fn minimal_config_gets_documented_defaults() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.braze.url.as_str(), "https://rest.iad-01.braze.com/");
    assert_eq!(config.braze.time_zone, jiff::tz::TimeZone::UTC);
    assert_eq!(config.braze.timeout, Duration::from_secs(10));
    assert_eq!(config.braze.max_concurrency, 4);
    assert_eq!(config.braze.max_requests_per_hour, 10_000);
    let refresh = &config.refresh;
    assert_eq!(refresh.interval, Duration::from_secs(300));
    assert_eq!(refresh.unit, Unit::Hour);
    assert_eq!(refresh.length, 3);
    assert_eq!(refresh.delay, Duration::ZERO);
    assert_eq!(refresh.stale_after, Duration::from_secs(900));
    assert_eq!(config.series().len(), 1);
    assert_eq!(config.series_count(), 1);
}

#[test]
fn full_example_config_parses() {
    let text = r#"
braze:
  url: https://rest.fra-01.braze.eu
  time_zone: America/New_York
  timeout: 15s
  max_concurrency: 8
  max_requests_per_hour: 20000
refresh:
  interval: 1m
  unit: day
  length: 7
  delay: 30m
  stale_after: 1h
apps:
  - name: ios
    id: "a-ios"
  - name: android
    id: "a-and"
segments:
  - name: paying
    id: "s-pay"
"#;
    let config = parse(text).unwrap();
    assert_eq!(config.refresh.unit, Unit::Day);
    assert_eq!(config.refresh.delay, Duration::from_secs(1800));
    assert_eq!(config.braze.time_zone_name, "America/New_York");
    assert_eq!(config.series().len(), 3 * 2);
    assert_eq!(config.series_count(), 3 * 2);
}

#[test]
fn each_invalid_value_names_its_field() {
    let cases = [
        (
            "refresh:\n  length: 0\n",
            "cfg.yml: refresh.length: must be between 2 and 100, got 0",
        ),
        (
            "refresh:\n  length: 101\n",
            "refresh.length: must be between 2 and 100, got 101",
        ),
        (
            "refresh:\n  unit: week\n",
            "refresh.unit: must be hour or day, got \"week\"",
        ),
        ("refresh:\n  interval: soon\n", "refresh.interval: "),
        (
            "refresh:\n  interval: 500ms\n",
            "refresh.interval: must be at least 1s",
        ),
        ("refresh:\n  delay: -1m\n", "refresh.delay: "),
        (
            "refresh:\n  interval: 5m\n  stale_after: 1m\n",
            "refresh.stale_after: must be at least refresh.interval",
        ),
        ("braze_extra: 1\n", "unknown field"),
        ("refresh:\n  intervall: 5m\n", "unknown field `intervall`"),
        (
            "apps:\n  - name: all\n    id: x\n",
            "apps[0].name: \"all\" is reserved",
        ),
        (
            "apps:\n  - name: 'i os'\n    id: x\n",
            "apps[0].name: must match [A-Za-z0-9_.-]+",
        ),
        (
            "segments:\n  - name: ''\n    id: x\n",
            "segments[0].name: must match",
        ),
        ("segments:\n  - id: x\n", "segments[0].name: is required"),
        ("apps:\n  - name: ios\n", "apps[0].id: is required"),
        (
            "apps:\n  - {name: a, id: x}\n  - {name: a, id: y}\n",
            "apps[1].name: \"a\" duplicates apps[0].name",
        ),
        (
            "apps:\n  - {name: a, id: x}\n  - {name: b, id: x}\n",
            "apps[1].id: \"x\" duplicates apps[0].id",
        ),
    ];
    for (extra, expected) in cases {
        let text = format!("{MINIMAL}{extra}");
        let message = problem(&text);
        assert!(
            message.contains(expected),
            "for {extra:?}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn braze_section_errors() {
    let with = |line: &str| format!("braze:\n  url: https://rest.iad-01.braze.com\n  {line}\n");
    let cases = [
        (
            with("time_zone: Mars/Olympus"),
            "braze.time_zone: unknown time zone \"Mars/Olympus\"",
        ),
        (
            with("time_zone: +25:00"),
            "braze.time_zone: \"+25:00\" is not an offset",
        ),
        (with("timeout: 0s"), "braze.timeout: must be longer than 0s"),
        (
            with("max_concurrency: 0"),
            "braze.max_concurrency: must be between 1 and 64, got 0",
        ),
        (
            with("max_requests_per_hour: 300000"),
            "braze.max_requests_per_hour: must be between 1 and 250000",
        ),
        (
            with("ca_file: /no/such/ca.pem"),
            "braze.ca_file: cannot read /no/such/ca.pem: ",
        ),
        (
            with("ca_file: /dev/null"),
            "braze.ca_file: /dev/null is not a regular file",
        ),
        (
            "braze:\n  timeout: 1s\n".to_string(),
            "braze.url: is required",
        ),
        (
            "braze:\n  url: ftp://x\n".to_string(),
            "braze.url: must be an http(s) URL",
        ),
        (
            "braze:\n  url: http://rest.iad-01.braze.com\n".to_string(),
            "braze.url: http:// would send the API key unencrypted",
        ),
        ("braze:\n  url: not a url\n".to_string(), "braze.url: "),
        (
            "braze:\n  url: https://x.example/?api_key=1\n".to_string(),
            "braze.url: must not carry a query",
        ),
        (
            "refresh:\n  length: 3\n".to_string(),
            "cfg.yml: braze: is required",
        ),
    ];
    for (text, expected) in cases {
        let message = problem(&text);
        assert!(
            message.contains(expected),
            "for {text:?}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "braze:\n  url: https://x.example\n  max_concurrency: 0\nrefresh:\n  length: 0\n  unit: week\n";
    let err = parse(text).unwrap_err();
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["braze.max_concurrency", "refresh.unit", "refresh.length"]
    );
}

#[test]
fn yaml_syntax_and_type_errors_say_where() {
    let message = parse("braze: [\n").unwrap_err().to_string();
    assert!(message.starts_with("cfg.yml: "), "{message}");
    assert!(message.contains("line"), "{message}");
    let message = parse(&format!("{MINIMAL}refresh:\n  length: three\n"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("length"), "{message}");
}

#[test]
fn loopback_http_is_allowed_for_tests_and_local_fakes() {
    for url in [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        let config = parse(&format!("braze:\n  url: {url}\n")).unwrap();
        assert_eq!(config.braze.url.scheme(), "http");
    }
}

#[test]
fn time_zones_iana_and_offsets() {
    use crate::time_zone::parse_time_zone;
    let at = "2026-11-28T12:00:00Z".parse::<jiff::Timestamp>().unwrap();
    let offset = |tz: &str| parse_time_zone(tz).unwrap().to_offset(at).seconds();
    assert_eq!(offset("+05:30"), 19_800);
    assert_eq!(offset("+0530"), 19_800);
    assert_eq!(offset("-5:00"), -18_000);
    assert_eq!(offset("-05"), -18_000);
    assert_eq!(offset("Asia/Kolkata"), 19_800);
    assert_eq!(offset("America/New_York"), -18_000);
    assert_eq!(offset("utc"), 0);
    for bad in ["+5:60", "+", "+5", "+1:2:3", "05:30", "Nowhere"] {
        assert!(parse_time_zone(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn missing_key_is_refused_with_how_to_give_one() {
    let err = Config::parse(MINIMAL, Path::new("cfg.yml"), None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("braze.api_key_file: no Braze REST API key"),
        "{message}"
    );
    assert!(message.contains("BRAZE_API_KEY"), "{message}");
}

#[test]
fn the_key_never_appears_in_errors_or_debug_output() {
    let err = parse("braze:\n  url: ftp://x\nrefresh:\n  length: 0\n").unwrap_err();
    assert!(!format!("{err} {err:?}").contains(KEY));
    let config = parse(MINIMAL).unwrap();
    assert!(!format!("{config:?}").contains(KEY));
}

#[test]
fn unreadable_file_is_a_config_error() {
    let err =
        Settings::load(Path::new("/nonexistent/braze.yml"), Some(KEY.into()), &[]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/braze.yml: cannot read the file"),
        "{err}"
    );
}

#[test]
fn config_check_only_warns_about_a_key_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yml");
    std::fs::write(
        &path,
        "braze:\n  url: https://x.example\n  api_key_file: /run/secrets/braze/api-key\n",
    )
    .unwrap();
    let (settings, warnings) = Settings::load_for_check(&path, None, &[]).unwrap();
    let config = &settings.workspaces[0];
    let warning = warnings.first().expect("a warning about the key");
    assert_eq!(warning.field, "braze.api_key_file");
    assert!(
        warning.message.contains("/run/secrets/braze/api-key"),
        "{warning}"
    );
    assert_eq!(config.series().len(), 1);
    // Other problems are still errors, and running needs the key.
    std::fs::write(
        &path,
        "braze:\n  url: https://x.example\n  api_key_file: /nope\nrefresh:\n  length: 0\n",
    )
    .unwrap();
    let err = Settings::load_for_check(&path, None, &[]).unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert!(Settings::load(&path, None, &[])
        .unwrap_err()
        .to_string()
        .contains("braze.api_key_file"));
}

#[test]
fn a_file_without_export_exports_sessions_exactly_as_before() {
    let config = parse(&format!("{MINIMAL}apps:\n  - {{name: ios, id: a}}\n")).unwrap();
    assert_eq!(config.exports.len(), 1);
    assert_eq!(config.exports[0].export, crate::series::Export::Sessions);
    assert_eq!(config.exports[0].schedule, config.refresh);
    assert!(config.series().iter().all(|s| s.kind == Kind::Sessions));
    assert_eq!(config.series_count(), 2);
    assert_eq!(config.discover, None);
    assert_eq!(config.max_series, 10_000);
}

#[test]
fn export_blocks_have_their_own_schedules_and_day_only_defaults() {
    let text = format!(
        "{MINIMAL}refresh:\n  interval: 2m\n  length: 5\n\
         export:\n  sessions: {{}}\n  kpis: {{metrics: [mau, dau]}}\n  events: {{names: [signup], interval: 10m, unit: day}}\n  \
         purchases: {{products: [p1]}}\n  segment_sizes: {{}}\n"
    );
    let config = parse(&text).unwrap();
    let block = |e: crate::series::Export| config.exports.iter().find(|x| x.export == e).unwrap();
    use crate::series::Export;
    let kpis = block(Export::Kpis);
    assert_eq!(
        kpis.kinds,
        [Kind::Dau, Kind::Mau],
        "table order, only the chosen ones"
    );
    assert_eq!(
        kpis.schedule.interval,
        Duration::from_secs(3600),
        "day-only kinds default to 1h"
    );
    assert_eq!(kpis.schedule.unit, Unit::Day);
    assert_eq!(kpis.schedule.length, 5, "the rest from refresh");
    assert_eq!(kpis.schedule.stale_after, Duration::from_secs(3 * 3600));
    let events = block(Export::Events);
    assert_eq!(
        (events.schedule.interval, events.schedule.unit),
        (Duration::from_secs(600), Unit::Day)
    );
    assert_eq!(events.events, ["signup"]);
    assert_eq!(block(Export::Sessions).schedule, config.refresh);
    assert_eq!(
        block(Export::Purchases).kinds,
        [Kind::Purchases, Kind::PurchaseRevenue]
    );
    // sessions 1, dau and mau 1 each, events 1, purchases 2 products × 2 kinds, no segment.
    assert_eq!(config.series_count(), 1 + 2 + 1 + 4);
}

#[test]
fn export_and_discover_errors_name_the_field_and_the_value() {
    let cases = [
        ("export:\n  kpis: {unit: hour}\n", "export.kpis.unit: Braze serves export.kpis by day only, got \"hour\""),
        ("export:\n  segment_sizes: {unit: hour}\n", "export.segment_sizes.unit: Braze serves"),
        ("export:\n  kpis: {metrics: [wau]}\n", "export.kpis.metrics[0]: must be one of dau, mau, new_users, uninstalls, got \"wau\""),
        ("export:\n  sessions: {names: [x]}\n", "export.sessions.names: is not a setting of export.sessions"),
        ("refresh:\n  products: [x]\n", "refresh.products: is not a setting of refresh"),
        ("export:\n  events: {names: [\"a\\tb\"]}\n", "export.events.names[0]: must be a non-empty name without control characters, got \"a\\tb\""),
        ("export:\n  purchases: {products: [all]}\n", "export.purchases.products[0]: \"all\" is always exported"),
        ("export:\n  events: {names: [a, a]}\n", "export.events.names[1]: \"a\" is listed twice"),
        ("export:\n  sesions: {}\n", "unknown field `sesions`"),
        ("discover:\n  events: {match: \"(\"}\n", "discover.events.match: is not a regular expression: \"(\""),
        ("discover:\n  interval: 1m\n", "discover.interval: must be at least 5m"),
        ("max_series: 0\n", "max_series: must be between 1 and 250000, got 0"),
    ];
    for (extra, expected) in cases {
        let message = problem(&format!("{MINIMAL}{extra}"));
        assert!(
            message.contains(expected),
            "for {extra:?}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn discovered_series_come_after_configured_ones_and_max_series_cuts_them_first() {
    let text = format!(
        "{MINIMAL}max_series: 4\nsegments:\n  - {{name: paying, id: s-1}}\nexport:\n  sessions: {{}}\n  segment_sizes: {{}}\ndiscover:\n  segments: {{}}\n"
    );
    let config = parse(&text).unwrap();
    assert_eq!(config.plan(&Lists::default()).series.len(), 3);
    let discovered = Lists {
        segments: vec![Scope::named("vip", "s-9")],
        ..Lists::default()
    };
    let plan = config.plan(&discovered);
    // configured: sessions all/all, all/paying, segment size paying; discovered: all/vip and
    // the size of vip; the last one is cut.
    assert_eq!(plan.series.len(), 4);
    assert_eq!(plan.dropped, 1);
    assert_eq!(plan.series[3].scopes[1].name, "vip");
    assert_eq!(plan.series[3].kind, Kind::Sessions);
}

/// Found with the config fuzz target's promise of bounded memory: a plan built every series
/// of the lists (their product) before it cut at max_series. Of an 11 kB file (200 apps, 200
/// segments, 100 events) the config target took 78 s and 1 GB; this one asks for 63 million.
#[test]
fn a_plan_makes_only_the_series_it_keeps() {
    let named = |prefix: &str, n: usize| -> String {
        (0..n)
            .map(|i| format!("  - {{name: {prefix}{i}, id: {prefix}-{i}}}\n"))
            .collect()
    };
    let events: Vec<String> = (0..700).map(|i| format!("e{i}")).collect();
    let text = format!(
        "{MINIMAL}apps:\n{}segments:\n{}export:\n  sessions: {{}}\n  events: {{names: [{}]}}\n",
        named("a", 300),
        named("s", 300),
        events.join(", ")
    );
    let config = parse(&text).unwrap();
    let plan = config.plan(&Lists::default());
    assert_eq!(plan.series.len(), 10_000);
    let sessions = 301 * 301;
    assert_eq!(plan.dropped, sessions + 700 * 301 * 301 - 10_000);
    assert!(plan.series.iter().all(|s| s.kind == Kind::Sessions));
    assert_eq!(
        plan.series[9_999].scopes[0].name, "a32",
        "apps vary slowest"
    );
}

#[test]
fn what_discovery_found_counts_only_for_the_lists_discover_still_names() {
    let found = Lists {
        segments: vec![Scope::named("vip", "s-9")],
        events: vec!["level_up".into()],
        ..Lists::default()
    };
    let events_of = |config: &Config| -> Vec<String> {
        let names: std::collections::BTreeSet<String> = config
            .plan(&found)
            .series
            .iter()
            .filter(|s| s.kind == Kind::Events)
            .map(|s| s.scopes[0].name.clone())
            .collect();
        names.into_iter().collect()
    };
    let polls_vip = |config: &Config| {
        config
            .plan(&found)
            .series
            .iter()
            .any(|s| s.scopes.iter().any(|scope| scope.name == "vip"))
    };
    let export = "export:\n  sessions: {}\n  events: {names: [signup]}\n";
    let both = parse(&format!(
        "{MINIMAL}{export}discover:\n  segments: {{}}\n  events: {{}}\n"
    ))
    .unwrap();
    assert_eq!(events_of(&both), ["level_up", "signup"]);
    let segments_only = parse(&format!("{MINIMAL}{export}discover:\n  segments: {{}}\n")).unwrap();
    assert_eq!(events_of(&segments_only), ["signup"]);
    assert!(polls_vip(&segments_only));
    let none = parse(&format!("{MINIMAL}{export}")).unwrap();
    assert_eq!(events_of(&none), ["signup"]);
    assert!(!polls_vip(&none));
}

#[test]
fn settings_that_can_never_yield_a_complete_bucket_are_refused_saying_why() {
    let length_one = problem(&format!("{MINIMAL}refresh:\n  length: 1\n"));
    assert!(
        length_one.contains(
            "refresh.length: must be between 2 and 100, got 1: the newest bucket Braze returns is the one in progress"
        ),
        "{length_one}"
    );
    let delay = problem(&format!("{MINIMAL}refresh:\n  length: 3\n  delay: 2h\n"));
    assert!(
        delay.contains("refresh.delay: 2h is not shorter than length - 1 = 2 hours"),
        "{delay}"
    );
    let block = problem(&format!(
        "{MINIMAL}export:\n  kpis: {{length: 2, delay: 1d}}\n"
    ));
    assert!(
        block.contains("export.kpis.delay: 1d is not shorter than"),
        "{block}"
    );
    // Just inside: a bucket shows part of the time, which is a warning, not an error.
    let config = parse(&format!("{MINIMAL}refresh:\n  length: 3\n  delay: 90m\n")).unwrap();
    let warnings = config.data_warnings();
    assert_eq!(
        warnings.len(),
        1,
        "once, not again for the sessions block: {warnings:?}"
    );
    assert!(
        warnings[0].starts_with("refresh: with delay 1h30m and length 3"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("use length 4 or more"), "{warnings:?}");
    assert!(parse(MINIMAL).unwrap().data_warnings().is_empty());
}

/// The messaging issue's example configuration.
const MESSAGING: &str = "braze:\n  url: https://rest.iad-01.braze.com\n\
    campaigns: [{name: onboarding_push, id: \"c-1\"}]\n\
    canvases:  [{name: welcome_journey, id: \"v-1\"}]\n\
    export:\n  campaigns: {}\n  canvases: {steps: false}\n\
    \x20 sends: {ids: [{campaign: onboarding_push, send_id: order_confirmation}]}\n\
    discover:\n  campaigns: {match: \"^(Onboarding|Txn)\", tags: [monitored], active_within: 7d}\n\
    \x20 canvases:  {match: \".*\", active_within: 7d}\n";

#[test]
fn messaging_blocks_default_to_hourly_refreshes_of_the_last_week() {
    let config = parse(MESSAGING).unwrap();
    let kinds: Vec<_> = config.series().iter().map(|s| s.kind).collect();
    use crate::series::Kind;
    assert_eq!(kinds, [Kind::Campaign, Kind::Canvas, Kind::Send]);
    for export in &config.exports {
        assert_eq!(export.schedule.interval, Duration::from_secs(3600));
        assert_eq!(export.schedule.unit, Unit::Day);
        assert_eq!(export.schedule.length, 7);
        assert_eq!(export.schedule.stale_after, Duration::from_secs(3 * 3600));
    }
    let sends = &config.exports[2].sends;
    assert_eq!(
        sends,
        &[(
            "onboarding_push".to_string(),
            "order_confirmation".to_string()
        )]
    );
    let discover = config.discover.clone().unwrap();
    let campaigns = discover.campaigns.unwrap();
    assert_eq!(campaigns.tags, ["monitored"]);
    assert_eq!(
        campaigns.active_within,
        Some(Duration::from_secs(7 * 86_400))
    );
    assert!(discover.canvases.unwrap().tags.is_empty());
    assert_eq!(
        config.series()[2].to_string(),
        "campaign=onboarding_push (campaign_id=c-1) send_id=order_confirmation"
    );
}

#[test]
fn messaging_settings_name_their_field_and_value() {
    let with = |extra: &str| format!("{MINIMAL}campaigns: [{{name: c, id: c-1}}]\n{extra}");
    for (extra, expected) in [
        (
            "export:\n  canvases: {length: 20}\n",
            "cfg.yml: export.canvases.length: must be between 1 and 14 (Braze's limit for export.canvases), got 20",
        ),
        (
            "export:\n  sends: {ids: [{campaign: nope, send_id: s}]}\n",
            "cfg.yml: export.sends.ids[0].campaign: \"nope\" is not the name of an entry of campaigns: (it has [\"c\"])",
        ),
        (
            "export:\n  sends: {ids: [{campaign: c}]}\n",
            "cfg.yml: export.sends.ids[0].send_id: is required: Braze's send id",
        ),
        (
            "export:\n  sends: {ids: [{campaign: c, send_id: s}, {campaign: c, send_id: s}]}\n",
            "cfg.yml: export.sends.ids[1]: campaign \"c\" with send_id \"s\" is listed twice",
        ),
        (
            "export:\n  campaigns: {steps: true}\n",
            "cfg.yml: export.campaigns.steps: is not a setting of export.campaigns",
        ),
        (
            "canvases: [{name: all, id: v}]\n",
            "cfg.yml: canvases[0].name: \"all\" is reserved for the aggregate over every one",
        ),
    ] {
        assert_eq!(problem(&with(extra)), expected, "{extra}");
    }
    let short = problem(&with("discover:\n  campaigns: {active_within: 1s}\n"));
    assert!(
        short.starts_with("cfg.yml: discover.campaigns.active_within: "),
        "{short}"
    );
    assert!(problem(&with(
        "export:\n  sends: {ids: [{campaign: c, send_id: s, x: 1}]}\n"
    ))
    .contains("unknown field `x`"));
}

#[test]
fn a_file_from_before_messaging_polls_what_it_polled() {
    let config = parse(
        "braze:\n  url: https://rest.iad-01.braze.com\napps: [{name: ios, id: a}]\n\
         export:\n  sessions: {}\n  kpis: {}\n",
    )
    .unwrap();
    assert_eq!(config.series().len(), 2 + 2 * 4);
    assert!(config
        .series()
        .iter()
        .all(|s| s.kind.spec().unit_label && s.kind.spec().pool == crate::series::Pool::Shared));
    assert_eq!(config.budget().pools().count(), 1);
}
