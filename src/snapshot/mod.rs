//! The immutable picture of every series that a scrape serves.
//!
//! The refresher renders one [`Snapshot`] after each refresh and swaps it in whole
//! ([`SnapshotCell`]), so a scrape always sees one consistent refresh, never waits on Braze,
//! and a series removed from the configuration disappears by construction. The text is
//! compressed as it is rendered, once, here ([`encoded`]); what a scrape gets is in [`serve`].

mod encoded;
mod serve;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use jiff::Timestamp;

pub use encoded::{Encoded, GzipParts};
pub use serve::{Busy, PlainBody, PLAIN_RENDERS, PLAIN_WAITING};

use encoded::TextWriter;

use crate::samples::label_text;

use crate::buckets::{Bucket, Latest};
use crate::samples::Values;
use crate::series::{families, Kind, KindSpec, Series, Unit, KINDS};

/// What the exporter knows of one series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesState {
    /// Whether the series was asked for at all: a series new since a reload is not shown
    /// (not even as down) until its first answer.
    pub attempted: bool,
    /// Whether the latest fetch succeeded.
    pub up: bool,
    pub last_success: Option<Timestamp>,
    /// From the latest successful fetch: kept while later fetches fail.
    pub latest: Latest,
}

/// One series' label set, written once: its kind, and its own labels as the text format
/// writes them between braces (`app_name="ios",segment_name="all",unit="hour"`). The data
/// gauges carry those; `braze_up` and `braze_last_success_timestamp_seconds` add `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    kind: Kind,
    /// Exactly as long as the text: one per series, so a grown `String`'s spare capacity
    /// would be paid 10,000 times at 10,000 series.
    text: Box<str>,
}

impl Labels {
    /// `workspace` (the list form's name) comes first, then the series' filters and, for the
    /// kinds that have it, `unit`.
    pub fn new(series: &Series, unit: Unit, workspace: Option<&str>) -> Self {
        let workspace = workspace.map(|w| ("workspace", w));
        let filters = series
            .filters()
            .map(|(f, scope)| (f.label(), scope.name.as_str()));
        let unit = series
            .kind
            .spec()
            .unit_label
            .then_some(("unit", unit.as_str()));
        let text = label_text(workspace.into_iter().chain(filters).chain(unit));
        Self {
            kind: series.kind,
            text: text.into_boxed_str(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The label text, as written between braces.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Help texts as the text format wants them: backslash and newline escaped (quotes are not).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A published, encoded picture of every series.
#[derive(Debug)]
pub struct Snapshot {
    pub encoded: Encoded,
}

impl Snapshot {
    /// Nothing fetched yet: no series gauges at all.
    pub fn empty() -> Self {
        Self {
            encoded: Encoded::default(),
        }
    }

    /// Renders every series: each kind's data gauges, then `braze_up` and
    /// `braze_last_success_timestamp_seconds` for all. Data gauges of a series whose last
    /// success is older than the `stale_after` given with it (or that never succeeded) are
    /// left out; its `braze_up` stays. The text is compressed as it is written, a few kB at a
    /// time, so it never exists whole; `size_hint` (the previous snapshot's text length) sizes
    /// the compressed buffer.
    pub fn render<'a>(
        series: impl Iterator<Item = (&'a Labels, &'a SeriesState, Duration)> + Clone,
        now: Timestamp,
        size_hint: usize,
    ) -> Self {
        let fresh = |state: &SeriesState, stale_after: Duration| {
            state
                .last_success
                .is_some_and(|t| now.duration_since(t).unsigned_abs() <= stale_after || t > now)
        };
        let mut text = TextWriter::new(size_hint);
        let attempted = || series.clone().filter(|(_, s, _)| s.attempted);
        for spec in &KINDS {
            let of_kind = || {
                attempted()
                    .filter(|(l, _, _)| l.kind == spec.kind)
                    .filter(|(_, s, stale)| fresh(s, *stale))
            };
            for bucket in &BUCKETS {
                for (family, metric) in families(spec).list.iter().enumerate() {
                    let name = format!("{}{}", metric.name, bucket.suffix);
                    let help = (bucket.help)(&metric.name, &metric.help);
                    let mut writer = FamilyWriter::new(&mut text, name, help);
                    for (labels, state, _) in of_kind() {
                        let Some(values) = (bucket.of)(&state.latest).map(|b| &b.values) else {
                            continue;
                        };
                        write_values(&mut writer, labels, values, family as u16);
                    }
                }
                let name = format!("{}{}_bucket_timestamp_seconds", spec.metric, bucket.suffix);
                let help = bucket_timestamp_help(spec, bucket.suffix);
                let mut writer = FamilyWriter::new(&mut text, name, help);
                for (labels, state, _) in of_kind() {
                    if let Some(start) = (bucket.of)(&state.latest).map(|b| b.start) {
                        writer.sample(&labels.text, start.as_second() as f64);
                    }
                }
            }
        }
        for gauge in &SERIES_GAUGES {
            let mut family = FamilyWriter::new(&mut text, gauge.name.into(), gauge.help.into());
            for (labels, state, _) in attempted() {
                if let Some(value) = (gauge.value)(state) {
                    let kind = labels.kind.spec().name;
                    family.sample(&format!("kind=\"{kind}\",{}", labels.text), value);
                }
            }
        }
        Self {
            encoded: Encoded {
                text: text.finish(),
            },
        }
    }
}

/// Writes one family: its header before its first sample, none if it has no sample.
pub(crate) struct FamilyWriter<'t, W: std::fmt::Write> {
    text: &'t mut W,
    name: String,
    help: String,
    header_written: bool,
}

impl<'t, W: std::fmt::Write> FamilyWriter<'t, W> {
    pub(crate) fn new(text: &'t mut W, name: String, help: String) -> Self {
        Self {
            text,
            name,
            help,
            header_written: false,
        }
    }

    pub(crate) fn sample(&mut self, labels: &str, value: f64) {
        if !self.header_written {
            let name = &self.name;
            let _ = write!(
                self.text,
                "# HELP {name} {}\n# TYPE {name} gauge\n",
                escape_help(&self.help)
            );
            self.header_written = true;
        }
        let _ = writeln!(self.text, "{}{{{labels}}} {value}", self.name);
    }
}

/// The samples of one family of one series' bucket, each with the series' labels and its own.
fn write_values<W: std::fmt::Write>(
    writer: &mut FamilyWriter<'_, W>,
    labels: &Labels,
    values: &Values,
    family: u16,
) {
    for (extra, value) in values.of_family(family) {
        match extra {
            "" => writer.sample(&labels.text, value),
            extra => writer.sample(&format!("{},{extra}", labels.text), value),
        }
    }
}

/// One of the two buckets a series shows: the latest complete one, and the one in progress
/// (its families end in `_in_progress`).
struct Shown {
    suffix: &'static str,
    of: fn(&Latest) -> Option<&Bucket>,
    /// The help of a family's gauge of this bucket, from its name and help.
    help: fn(&str, &str) -> String,
}

const BUCKETS: [Shown; 2] = [
    Shown {
        suffix: "",
        of: |l| l.complete.as_ref(),
        help: |_, help| format!("{help} Refreshed in the background, not at scrape time."),
    },
    Shown {
        suffix: "_in_progress",
        of: |l| l.in_progress.as_ref(),
        help: |name, _| {
            format!(
                "{name} so far in the bucket that contained the refresh time, when Braze returned it; grows until the bucket ends."
            )
        },
    },
];

/// The help of a kind's `_bucket_timestamp_seconds` (`suffix` "") or
/// `_in_progress_bucket_timestamp_seconds`: one per series, whatever its metrics.
fn bucket_timestamp_help(spec: &KindSpec, suffix: &str) -> String {
    let counted = match families(spec).list.len() {
        1 => format!("{}{suffix} counts", spec.metric),
        _ => format!("the {}_*{suffix} metrics count", spec.metric),
    };
    format!("Unix time of the start of the bucket that {counted}.")
}

/// A gauge of every series, shown even when its data is stale.
struct SeriesGauge {
    name: &'static str,
    help: &'static str,
    value: fn(&SeriesState) -> Option<f64>,
}

const SERIES_GAUGES: [SeriesGauge; 2] = [
    SeriesGauge {
        name: "braze_up",
        help: "1 if the latest fetch of this series from Braze succeeded, else 0.",
        value: |s| Some(f64::from(u8::from(s.up))),
    },
    SeriesGauge {
        name: "braze_last_success_timestamp_seconds",
        help: "Unix time of the latest successful fetch of this series.",
        value: |s| s.last_success.map(|t| t.as_second() as f64),
    },
];

/// The snapshot currently served; replaced whole, read without locks.
#[derive(Debug, Clone)]
pub struct SnapshotCell {
    current: Arc<ArcSwap<Snapshot>>,
    serving: Arc<serve::Serving>,
}

impl Default for SnapshotCell {
    fn default() -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(Snapshot::empty())),
            serving: Arc::default(),
        }
    }
}

impl SnapshotCell {
    /// Serves `snapshot` from now on. The previous one is freed once no scrape holds it.
    pub fn publish(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
        crate::memory::release_freed();
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The gzip body of a scrape: the current snapshot's text, then `tail` (the self-metrics),
    /// as one gzip member shared by the scrapes until either changes ([`serve`]).
    pub async fn gzip_with(&self, tail: Bytes) -> GzipParts {
        self.serving.gzip_with(&self.current, tail).await
    }

    /// The plain body of a scrape, decompressed as it is sent, once a turn is free
    /// ([`PLAIN_RENDERS`] at a time); refused when [`PLAIN_WAITING`] are waiting already or
    /// after [`PLAIN_WAIT`].
    pub async fn plain_with(&self, tail: Bytes) -> Result<PlainBody, Busy> {
        self.serving.plain_with(&self.current, tail).await
    }

    /// The plain body of a HEAD request, never sent: no turn needed.
    pub fn plain_unsent(&self, tail: Bytes) -> PlainBody {
        self.serving.plain_unsent(&self.current, tail)
    }
}

#[cfg(test)]
mod tests;
