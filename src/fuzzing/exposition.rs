//! What the exporter writes from what Braze names: label values (event names, product ids,
//! segment and workspace names) and help texts, rendered by the snapshot's encoder, must read
//! back as the same values with no sample lost. The fuzz target reads the text back with a
//! parser this project did not write; here the text's lines are counted.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::buckets::{Bucket, Latest};
use crate::samples::escape_into;
use crate::series::{KindSpec, Scope, Series, Unit, Units, KINDS};
use crate::snapshot::{FamilyWriter, Labels, SeriesState, Snapshot};

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

/// Renders a snapshot of each kind from the input: its first 16 bytes are the latest and the
/// in-progress values, the rest (split at 0xFF bytes) the help text, the workspace and the
/// names of the series' apps, segments, events and products. Checks that each text has one
/// line per sample; returns them with the samples each must read back as.
///
/// One text per kind: the kinds' series have different label names, which the text format
/// allows in one family (`braze_up`) but openmetrics-parser, the fuzz target's reader, does not.
pub fn exposition(data: &[u8]) -> Vec<Exposition> {
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
    let values = Values {
        latest: value(0),
        in_progress: value(1),
    };
    let mut names = names
        .split(|&b| b == 0xFF)
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let help = names.next().unwrap_or_default();
    let workspace = names.next().filter(|w| !w.is_empty());
    let scopes: Vec<String> = names.collect();
    KINDS
        .iter()
        .map(|spec| {
            let mut rendered = render(spec, &scopes, workspace.as_deref(), &values);
            rendered
                .samples
                .push(help_family(&mut rendered.text, &help, values.latest));
            check_lines(&rendered.text, &rendered.samples);
            Exposition {
                text: rendered.text,
                samples: rendered.samples,
                help: help.clone(),
            }
        })
        .collect()
}

struct Rendered {
    text: String,
    samples: Vec<Sample>,
}

/// The values of a series' gauges.
struct Values {
    latest: f64,
    in_progress: f64,
}

const NOW: i64 = 1_795_860_000;
const HOUR_AGO: i64 = NOW - 3600;

/// Two series of the kind (the names taken in turn), rendered as a snapshot.
fn render(spec: &KindSpec, names: &[String], workspace: Option<&str>, values: &Values) -> Rendered {
    let unit = match spec.units {
        Units::HourOrDay => Unit::Hour,
        Units::DayOnly => Unit::Day,
    };
    let mut labels: Vec<Labels> = Vec::new();
    let mut samples = Vec::new();
    for turn in 0..2 {
        let scopes =
            (0..spec.filters.len()).map(|i| Arc::new(Scope::named(name_at(names, turn + i), "id")));
        let series = Series {
            kind: spec.kind,
            scopes: scopes.collect(),
        };
        let series_labels = Labels::new(&series, unit, workspace);
        if labels.contains(&series_labels) {
            continue; // One name: both turns are the same series.
        }
        samples.extend(expected(spec, &series, unit, workspace, values));
        labels.push(series_labels);
    }
    let at = |second| Timestamp::from_second(second).expect("a valid instant");
    let state = SeriesState {
        attempted: true,
        up: true,
        last_success: Some(at(NOW)),
        latest: Latest {
            complete: Some(Bucket {
                start: at(HOUR_AGO),
                values: crate::samples::Values::One(values.latest),
            }),
            in_progress: Some(Bucket {
                start: at(NOW),
                values: crate::samples::Values::One(values.in_progress),
            }),
        },
    };
    let stale_after = Duration::from_secs(3600);
    let snapshot = Snapshot::render(labels.iter().map(|l| (l, &state, stale_after)), at(NOW), 0);
    let mut text = String::new();
    snapshot
        .encoded
        .text
        .reader()
        .read_to_string(&mut text)
        .expect("a snapshot's text is UTF-8 in gzip");
    Rendered { text, samples }
}

/// The samples of one series, as docs/metrics.md lists them: its four data gauges, and
/// `braze_up` and `braze_last_success_timestamp_seconds` with its `kind`.
fn expected(
    spec: &KindSpec,
    series: &Series,
    unit: Unit,
    workspace: Option<&str>,
    values: &Values,
) -> Vec<Sample> {
    let pair = |name: &str, value: &str| (name.to_string(), value.to_string());
    let mut own: Vec<(String, String)> = workspace
        .map(|w| pair("workspace", w))
        .into_iter()
        .chain(series.filters().map(|(f, s)| pair(f.label(), &s.name)))
        .chain(spec.unit_label.then(|| pair("unit", unit.as_str())))
        .collect();
    own.sort();
    let mut with_kind = own.clone();
    with_kind.push(pair("kind", spec.name));
    with_kind.sort();
    // One value is the kind's first family (its only one, but for messaging kinds); the
    // bucket timestamps are named from the kind's metric.
    let first = &crate::series::families(spec).list[0].name;
    let metric = spec.metric;
    let sample = |metric: String, labels: &Vec<(String, String)>, value: f64| Sample {
        metric,
        labels: labels.clone(),
        value,
    };
    vec![
        sample(first.to_string(), &own, values.latest),
        sample(
            format!("{metric}_bucket_timestamp_seconds"),
            &own,
            HOUR_AGO as f64,
        ),
        sample(format!("{first}_in_progress"), &own, values.in_progress),
        sample(
            format!("{metric}_in_progress_bucket_timestamp_seconds"),
            &own,
            NOW as f64,
        ),
        sample("braze_up".to_string(), &with_kind, 1.0),
        sample(
            "braze_last_success_timestamp_seconds".to_string(),
            &with_kind,
            NOW as f64,
        ),
    ]
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
