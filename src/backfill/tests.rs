use std::path::Path;

use clap::Parser;

use super::*;
use crate::cli::{Command, Flags};
use crate::series::{Kind, Scope};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn args(extra: &[&str]) -> Args {
    let mut argv = vec!["braze-exporter", "backfill", "--output=out.om"];
    argv.extend_from_slice(extra);
    match Flags::try_parse_from(argv).unwrap().command {
        Some(Command::Backfill(args)) => args,
        None => panic!("no subcommand"),
    }
}

fn kolkata() -> TimeZone {
    crate::time_zone::parse_time_zone("Asia/Kolkata").unwrap()
}

#[test]
fn backfill_is_a_subcommand_and_the_exporter_flags_stay() {
    let a = args(&["--config.file=x.yml", "--start=30d", "--label", "job=braze"]);
    assert_eq!(a.config_file.as_deref(), Some(Path::new("x.yml")));
    let outer = Flags::try_parse_from([
        "braze-exporter",
        "--config.file=outer.yml",
        "backfill",
        "--start=1d",
        "--output=o",
    ])
    .unwrap();
    assert_eq!(outer.config_file, Path::new("outer.yml"));
    match outer.command {
        Some(Command::Backfill(a)) => {
            assert_eq!(a.config_file, None, "main falls back to outer.yml")
        }
        None => panic!("no subcommand"),
    }
    assert_eq!((a.start.as_str(), a.end.as_deref()), ("30d", None));
    assert_eq!(a.step, "60s");
    assert_eq!(a.labels, ["job=braze"]);
    let plain = Flags::try_parse_from(["braze-exporter", "--config.file=x"]).unwrap();
    assert!(plain.command.is_none());
    let missing_start = Flags::try_parse_from(["braze-exporter", "backfill", "--output=o"]);
    assert!(missing_start.is_err());
}

#[test]
fn start_takes_a_date_a_time_or_a_duration_back() {
    let now = at("2026-12-01T10:00:00Z");
    let tz = kolkata();
    assert_eq!(
        parse_instant("2026-11-01", &tz, now).unwrap(),
        at("2026-10-31T18:30:00Z"),
        "a date is midnight in the company time zone"
    );
    assert_eq!(
        parse_instant("2026-11-01T06:00:00+05:30", &tz, now).unwrap(),
        at("2026-11-01T00:30:00Z")
    );
    assert_eq!(
        parse_instant("2026-11-01T00:00:00Z", &tz, now).unwrap(),
        at("2026-11-01T00:00:00Z")
    );
    assert_eq!(
        parse_instant("30d", &tz, now).unwrap(),
        at("2026-11-01T10:00:00Z")
    );
    assert_eq!(
        parse_instant("1h30m", &tz, now).unwrap(),
        at("2026-12-01T08:30:00Z")
    );
    let err = parse_instant("last tuesday", &tz, now).unwrap_err();
    assert!(err.contains("\"last tuesday\""), "{err}");
}

#[test]
fn bad_ranges_steps_and_labels_are_refused_by_name() {
    let now = at("2026-12-01T10:00:00Z");
    let tz = TimeZone::UTC;
    let refused = |extra: &[&str]| check(&args(extra), &tz, now).unwrap_err();
    assert!(refused(&["--start=1d", "--end=2d"]).starts_with("--start"));
    assert!(refused(&["--start=1d", "--end=2026-12-02"]).contains("future"));
    assert!(refused(&["--start=1d", "--step=0s"]).starts_with("--step"));
    assert!(refused(&["--start=1d", "--step=1500ms"]).starts_with("--step"));
    assert!(refused(&["--start=soon"]).starts_with("--start"));
    assert!(refused(&["--start=1d", "--label=job"]).contains("NAME=VALUE"));
    assert!(refused(&["--start=1d", "--label=app_name=x"]).contains("own"));
    assert!(refused(&["--start=1d", "--label=__name__=x"]).contains("label name"));
    assert!(refused(&["--start=1d", "--label=a=1", "--label=a=2"]).contains("twice"));
    let ok = check(
        &args(&[
            "--start=2026-11-30",
            "--step=5m",
            "--label=job=braze",
            "--label=instance=a\"b",
        ]),
        &tz,
        now,
    )
    .unwrap();
    assert_eq!(ok.window.start, at("2026-11-30T00:00:00Z"));
    assert_eq!(ok.window.end, now);
    assert_eq!(ok.window.step, Duration::from_secs(300));
    assert_eq!(ok.extra_labels, r#",job="braze",instance="a\"b""#);
}

#[test]
fn ending_at_is_sent_with_its_offset_percent_encoded() {
    let config = Config::parse(
        "braze:\n  url: http://127.0.0.1:1\n  time_zone: Asia/Kolkata\napps:\n  - name: ios\n    id: app-1\n",
        Path::new("test.yml"),
        Some("key".into()),
    )
    .unwrap();
    let client = BrazeClient::new(&config.braze).unwrap();
    let series = Series::sessions(Scope::named("ios", "app-1"), Scope::all());
    let page = |unit, length| crate::braze::Request {
        unit,
        length,
        ending_at: Some(at("2026-11-28T18:29:59Z")),
        steps: false,
    };
    let url = client.url(&series, &page(Unit::Hour, 100));
    assert_eq!(
        url.query(),
        Some("length=100&unit=hour&app_id=app-1&ending_at=2026-11-28T23%3A59%3A59%2B05%3A30")
    );
    let dau = Series::new(Kind::Dau, vec![Scope::all()]);
    let url = client.url(&dau, &page(Unit::Day, 3));
    assert_eq!(
        url.query(),
        Some("length=3&ending_at=2026-11-28T23%3A59%3A59%2B05%3A30")
    );
}

#[test]
fn written_series_leave_out_buckets_braze_did_not_return() {
    let rules = BucketRules {
        unit: Unit::Hour,
        time_zone: TimeZone::UTC,
        delay: Duration::ZERO,
    };
    let window = Window {
        start: at("2026-11-28T10:00:00Z"),
        end: at("2026-11-28T12:00:00Z"),
        step: Duration::from_secs(1800),
    };
    let plan = Arc::new(SamplePlan::new(&rules, &window, plan::MAX_LENGTH));
    let values = BTreeMap::from([
        (at("2026-11-28T09:00:00Z"), Values::One(9.0)),
        (at("2026-11-28T11:00:00Z"), Values::One(11.0)),
    ]);
    let request = Request {
        window,
        extra_labels: ",job=\"braze\"".into(),
        workspace: None,
    };
    let series = Series::sessions(Scope::all(), Scope::all());
    let written = written_series(&series, &rules, &plan, values, &request);
    assert_eq!(
        written.labels,
        r#"app_name="all",segment_name="all",unit="hour",job="braze""#
    );
    let shown: Vec<(String, f64)> = written
        .samples()
        .map(|(t, _, v)| (t.to_string(), v.one().unwrap()))
        .collect();
    // 10:xx shows 09:00; 11:xx would show 10:00, which Braze did not return; 12:00 shows 11:00.
    assert_eq!(
        shown,
        [
            ("2026-11-28T10:00:00Z".to_string(), 9.0),
            ("2026-11-28T10:30:00Z".to_string(), 9.0),
            ("2026-11-28T12:00:00Z".to_string(), 11.0),
        ]
    );
}
