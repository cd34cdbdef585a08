//! What the exporter writes from what Braze names: label values (event names, product ids,
//! segment and workspace names) and help texts, rendered by the snapshot's encoder, must read
//! back as the same values with no sample lost. The fuzz target reads the text back with a
//! parser this project did not write; here the text's lines are counted.

use std::collections::HashSet;
use std::io::Read;
use std::time::Duration;

use jiff::Timestamp;

use crate::buckets::{Bucket, Latest};
use crate::series::{Scope, Series, Unit, Units, KINDS};
use crate::snapshot::{escape_into, FamilyWriter, Labels, SeriesState, Snapshot};

/// The family whose help text is the input's.
pub const HELP_FAMILY: &str = "braze_fuzz_help";

/// A rendered text and what it must read back as.
#[derive(Debug)]
pub struct Exposition {
    pub text: String,
    /// Every sample the text holds, its labels sorted by name.
    pub samples: Vec<Sample>,
    /// The help text of [`HELP_FAMILY`].
    pub help: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Renders a snapshot of every kind from the input: its first 16 bytes are the latest and
/// the in-progress values, the rest (split at 0xFF bytes) the help text, the workspace and the
/// names of the series' apps, segments, events and products. Checks that the text has one
/// line per sample; returns it with the samples it must read back as.
pub fn exposition(data: &[u8]) -> Exposition {
    let (values, names) = data.split_at(data.len().min(16));
    let value = |i: usize| {
        let bytes = values.get(i * 8..i * 8 + 8).and_then(|b| b.try_into().ok());
        let value = bytes.map_or(0.0, f64::from_le_bytes);
        // Braze's numbers are bounded (response::MAX_COUNT, MAX_AMOUNT): always finite.
        if value.is_finite() {
            value
        } else {
            0.0
        }
    };
    let (latest, in_progress) = (value(0), value(1));
    let mut names = names
        .split(|&b| b == 0xFF)
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let help = names.next().unwrap_or_default();
    let workspace = names.next().filter(|w| !w.is_empty());
    let scopes: Vec<String> = names.collect();
    let mut rendered = render(&scopes, workspace.as_deref(), latest, in_progress);
    rendered
        .samples
        .push(help_family(&mut rendered.text, &help, latest));
    check_lines(&rendered.text, &rendered.samples);
    Exposition {
        text: rendered.text,
        samples: rendered.samples,
        help,
    }
}

struct Rendered {
    text: String,
    samples: Vec<Sample>,
}

/// Two series of every kind (the names taken in turn), rendered as a snapshot.
fn render(names: &[String], workspace: Option<&str>, latest: f64, in_progress: f64) -> Rendered {
    let now = Timestamp::from_second(1_795_860_000).expect("a valid instant");
    let hour_ago = now - jiff::SignedDuration::from_hours(1);
    let state = SeriesState {
        attempted: true,
        up: true,
        last_success: Some(now),
        latest: Latest {
            complete: Some(Bucket {
                start: hour_ago,
                value: latest,
            }),
            in_progress: Some(Bucket {
                start: now,
                value: in_progress,
            }),
        },
    };
    let mut seen = HashSet::new();
    let mut labels = Vec::new();
    let mut samples = Vec::new();
    for spec in &KINDS {
        let unit = match spec.units {
            Units::HourOrDay => Unit::Hour,
            Units::DayOnly => Unit::Day,
        };
        for turn in 0..2 {
            let scopes: Vec<Scope> = (0..spec.filters.len())
                .map(|i| name_at(names, turn + i))
                .map(|name| Scope::named(name, "id"))
                .collect();
            let series = Series {
                kind: spec.kind,
                scopes: scopes.into_iter().map(std::sync::Arc::new).collect(),
            };
            let series_labels = Labels::new(&series, unit, workspace);
            if !seen.insert(series_labels.text().to_string()) {
                continue;
            }
            let mut own: Vec<(String, String)> = workspace
                .map(|w| ("workspace".to_string(), w.to_string()))
                .into_iter()
                .chain(
                    series
                        .filters()
                        .map(|(f, s)| (f.label().to_string(), s.name.clone())),
                )
                .chain([("unit".to_string(), unit.as_str().to_string())])
                .collect();
            own.sort();
            let mut with_kind = own.clone();
            with_kind.push(("kind".to_string(), spec.name.to_string()));
            with_kind.sort();
            let metric = spec.metric;
            let second = |t: Timestamp| t.as_second() as f64;
            for (name, labels, value) in [
                (metric.to_string(), &own, latest),
                (
                    format!("{metric}_bucket_timestamp_seconds"),
                    &own,
                    second(hour_ago),
                ),
                (format!("{metric}_in_progress"), &own, in_progress),
                (
                    format!("{metric}_in_progress_bucket_timestamp_seconds"),
                    &own,
                    second(now),
                ),
                ("braze_up".to_string(), &with_kind, 1.0),
                (
                    "braze_last_success_timestamp_seconds".to_string(),
                    &with_kind,
                    second(now),
                ),
            ] {
                samples.push(Sample {
                    metric: name,
                    labels: labels.clone(),
                    value,
                });
            }
            labels.push(series_labels);
        }
    }
    let stale_after = Duration::from_secs(3600);
    let snapshot = Snapshot::render(labels.iter().map(|l| (l, &state, stale_after)), now, 0);
    let mut text = String::new();
    snapshot
        .encoded
        .text
        .reader()
        .read_to_string(&mut text)
        .expect("a snapshot's text is UTF-8 in gzip");
    Rendered { text, samples }
}

/// The `i`th name, round the list (one name when there is none).
fn name_at(names: &[String], i: usize) -> String {
    match names.len() {
        0 => "a".to_string(),
        n => names[i % n].clone(),
    }
}

/// A family with the input's help text, and one sample labelled with it, as the snapshot
/// writes its families.
fn help_family(text: &mut String, help: &str, value: f64) -> Sample {
    let mut labels = String::from("label=\"");
    escape_into(&mut labels, help);
    labels.push('"');
    let mut family = FamilyWriter::new(text, HELP_FAMILY.to_string(), help.to_string());
    family.sample(&labels, value);
    Sample {
        metric: HELP_FAMILY.to_string(),
        labels: vec![("label".to_string(), help.to_string())],
        value,
    }
}

/// Every line is a `# HELP` or `# TYPE` line or one sample of a known metric: no value or
/// help text broke a line, and no sample was lost or added.
fn check_lines(text: &str, samples: &[Sample]) {
    assert!(text.ends_with('\n'), "the text does not end its last line");
    let metrics: HashSet<&str> = samples.iter().map(|s| s.metric.as_str()).collect();
    let mut sample_lines = 0;
    for line in text.split_terminator('\n') {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let metric = line.split('{').next().unwrap_or_default();
        assert!(metrics.contains(metric), "a broken line {line:?}");
        sample_lines += 1;
    }
    assert_eq!(sample_lines, samples.len(), "samples lost or added");
}
