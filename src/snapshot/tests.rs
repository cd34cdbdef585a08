use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::buckets::Bucket;
use crate::series::Scope;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn text(snapshot: &Snapshot) -> String {
    String::from_utf8(snapshot.encoded.text.to_vec()).unwrap()
}

fn good_state() -> SeriesState {
    SeriesState {
        attempted: true,
        up: true,
        last_success: Some(at("2026-11-28T10:05:00Z")),
        latest: Latest {
            complete: Some(Bucket {
                start: at("2026-11-28T09:00:00Z"),
                values: crate::samples::Values::One(1234.0),
            }),
            in_progress: Some(Bucket {
                start: at("2026-11-28T10:00:00Z"),
                values: crate::samples::Values::One(56.0),
            }),
        },
    }
}

#[test]
fn renders_every_gauge_with_its_labels() {
    let labels = Labels::new(
        &Series::sessions(Scope::named("ios", "a"), Scope::all()),
        Unit::Hour,
        None,
    );
    let state = good_state();
    let snapshot = Snapshot::render(
        [(&labels, &state, Duration::from_secs(900))].into_iter(),
        at("2026-11-28T10:06:00Z"),
        0,
    );
    let text = text(&snapshot);
    let l = r#"{app_name="ios",segment_name="all",unit="hour"}"#;
    let k = r#"{kind="sessions",app_name="ios",segment_name="all",unit="hour"}"#;
    for line in [
        format!("braze_sessions{l} 1234"),
        format!("braze_sessions_bucket_timestamp_seconds{l} 1795856400"),
        format!("braze_sessions_in_progress{l} 56"),
        format!("braze_sessions_in_progress_bucket_timestamp_seconds{l} 1795860000"),
        format!("braze_up{k} 1"),
        format!("braze_last_success_timestamp_seconds{k} 1795860300"),
    ] {
        assert!(
            text.lines().any(|x| x == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert_eq!(text.matches("# TYPE ").count(), 6);
    assert!(text.contains("# HELP braze_sessions Sessions in the latest complete bucket"));
}

#[test]
fn stale_series_lose_data_gauges_but_keep_up() {
    let labels = Labels::new(
        &Series::sessions(Scope::all(), Scope::all()),
        Unit::Hour,
        None,
    );
    let mut state = good_state();
    state.up = false;
    let within = Snapshot::render(
        [(&labels, &state, Duration::from_secs(900))].into_iter(),
        at("2026-11-28T10:20:00Z"),
        0,
    );
    assert!(
        text(&within).contains("braze_sessions{"),
        "kept within stale_after"
    );
    assert!(text(&within).contains(
        "braze_up{kind=\"sessions\",app_name=\"all\",segment_name=\"all\",unit=\"hour\"} 0"
    ));
    let after = Snapshot::render(
        [(&labels, &state, Duration::from_secs(900))].into_iter(),
        at("2026-11-28T10:20:01Z"),
        0,
    );
    let after = text(&after);
    assert!(!after.contains("braze_sessions"), "{after}");
    assert!(after.contains("braze_up{"), "{after}");
    assert!(
        after.contains("braze_last_success_timestamp_seconds{"),
        "{after}"
    );
}

#[test]
fn never_answered_series_shows_only_up_zero() {
    let labels = Labels::new(
        &Series::sessions(Scope::all(), Scope::all()),
        Unit::Day,
        None,
    );
    let state = SeriesState {
        attempted: true,
        ..SeriesState::default()
    };
    let text = text(&Snapshot::render(
        [(&labels, &state, Duration::from_secs(900))].into_iter(),
        at("2026-11-28T10:00:00Z"),
        0,
    ));
    assert_eq!(
        text,
        "# HELP braze_up 1 if the latest fetch of this series from Braze succeeded, else 0.\n# TYPE braze_up gauge\nbraze_up{kind=\"sessions\",app_name=\"all\",segment_name=\"all\",unit=\"day\"} 0\n"
    );
}

#[test]
fn label_values_are_escaped() {
    let series = Series::sessions(Scope::named("a\"b\\c\nd", "x"), Scope::all());
    assert_eq!(
        Labels::new(&series, Unit::Hour, None).text(),
        r#"app_name="a\"b\\c\nd",segment_name="all",unit="hour""#
    );
}

#[test]
fn published_snapshot_replaces_the_old_one_whole() {
    let cell = SnapshotCell::default();
    assert!(cell.current().encoded.text.is_empty());
    let before = cell.current();
    cell.publish(Snapshot {
        encoded: Encoded::new(b"x 1\n".to_vec()),
    });
    assert_eq!(&cell.current().encoded.text[..], b"x 1\n");
    assert!(
        before.encoded.text.is_empty(),
        "a reader keeps the snapshot it loaded"
    );
}

#[test]
fn series_not_yet_asked_for_are_not_shown() {
    let labels = Labels::new(
        &Series::sessions(Scope::all(), Scope::all()),
        Unit::Hour,
        None,
    );
    let state = SeriesState::default();
    let snapshot = Snapshot::render(
        [(&labels, &state, Duration::from_secs(900))].into_iter(),
        at("2026-11-28T10:00:00Z"),
        0,
    );
    assert!(snapshot.encoded.text.is_empty());
}

#[test]
fn a_messaging_series_has_many_families_and_one_bucket_timestamp() {
    use crate::samples::{Sample, Values};
    use crate::series::{families, Kind};
    let family = |name: &str| {
        families(Kind::Campaign.spec())
            .list
            .iter()
            .position(|f| f.name == name)
            .unwrap() as u16
    };
    let sample = |name: &str, labels: &str, value: f64| Sample {
        family: family(name),
        labels: labels.into(),
        value,
    };
    let day = |values| Bucket {
        start: at("2026-11-27T00:00:00Z"),
        values,
    };
    let state = SeriesState {
        attempted: true,
        up: true,
        last_success: Some(at("2026-11-28T10:05:00Z")),
        latest: Latest {
            complete: Some(day(Values::many(vec![
                sample("braze_campaign_unique_recipients", "", 7.0),
                sample(
                    "braze_campaign_message_sent",
                    r#"channel="email",variation="A""#,
                    90.0,
                ),
                sample(
                    "braze_campaign_message_sent",
                    r#"channel="sms",variation="say \"hi\"""#,
                    3.0,
                ),
            ]))),
            in_progress: None,
        },
    };
    let series = Series::new(Kind::Campaign, vec![Scope::named("onboarding", "c-1")]);
    let labels = Labels::new(&series, Unit::Day, Some("eu"));
    let text = text(&Snapshot::render(
        [(&labels, &state, Duration::from_secs(86_400))].into_iter(),
        at("2026-11-28T10:06:00Z"),
        0,
    ));
    let l = r#"workspace="eu",campaign="onboarding""#;
    for line in [
        format!("braze_campaign_unique_recipients{{{l}}} 7"),
        format!(r#"braze_campaign_message_sent{{{l},channel="email",variation="A"}} 90"#),
        format!(r#"braze_campaign_message_sent{{{l},channel="sms",variation="say \"hi\""}} 3"#),
        format!("braze_campaign_bucket_timestamp_seconds{{{l}}} 1795737600"),
        format!(r#"braze_up{{kind="campaign",{l}}} 1"#),
    ] {
        assert!(
            text.lines().any(|x| x == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert_eq!(text.matches("braze_campaign_message_sent{").count(), 2);
    assert_eq!(
        text.matches("# TYPE braze_campaign_message_sent gauge")
            .count(),
        1
    );
    assert!(
        !text.contains("in_progress"),
        "no day in progress: none shown"
    );
    assert!(
        !text.contains("unit="),
        "messaging is daily, without the unit label"
    );
    assert!(text.contains(
        "# HELP braze_campaign_bucket_timestamp_seconds Unix time of the start of the bucket that the braze_campaign_* metrics count."
    ));
}

/// Found by the exposition round trip: a help text was written as it was, so a newline in it
/// ended the HELP line and made the rest of it a line the text format cannot read.
#[test]
fn help_texts_are_escaped_as_the_text_format_requires() {
    let mut text = String::new();
    let help = "two\nlines, a \\ backslash and \"quotes\"";
    FamilyWriter::new(&mut text, "m".into(), help.into()).sample("l=\"v\"", 1.0);
    assert_eq!(
        text,
        "# HELP m two\\nlines, a \\\\ backslash and \"quotes\"\n# TYPE m gauge\nm{l=\"v\"} 1\n"
    );
}
