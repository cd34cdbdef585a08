//! The immutable picture of every series that a scrape serves.
//!
//! The refresher renders one [`Snapshot`] after each refresh and swaps it in whole
//! ([`SnapshotCell`]), so a scrape always sees one consistent refresh, never waits on Braze,
//! and a series removed from the configuration disappears by construction. The text is
//! rendered straight into gzip once here ([`encoded`]); what a scrape gets is in [`serve`].

mod encoded;
mod serve;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use jiff::Timestamp;

pub use encoded::{Encoded, GzipText};
pub use serve::{Busy, PlainBody, PLAIN_CHUNK, PLAIN_RENDERS, PLAIN_WAIT, PLAIN_WAITING};

use encoded::TextWriter;

use crate::buckets::Latest;
use crate::series::{Series, Unit};

/// What the exporter knows of one series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// One series' label set, written once: `{app_name="ios",segment_name="all",unit="hour"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels(String);

impl Labels {
    pub fn new(series: &Series, unit: Unit) -> Self {
        let mut text = String::from("{app_name=\"");
        escape_into(&mut text, &series.app.name);
        text.push_str("\",segment_name=\"");
        escape_into(&mut text, &series.segment.name);
        text.push_str("\",unit=\"");
        text.push_str(unit.as_str());
        text.push_str("\"}");
        Self(text)
    }
}

/// Label values as the text format wants them: backslash, quote and newline escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
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

    /// Renders every series. Data gauges of a series whose last success is older than
    /// `stale_after` (or that never succeeded) are left out; its `braze_up` stays.
    /// The text is compressed as it is written, a few kB at a time, so it never exists whole;
    /// `size_hint` (the previous snapshot's text length) sizes the compressed buffer.
    pub fn render<'a>(
        series: impl Iterator<Item = (&'a Labels, &'a SeriesState)> + Clone,
        now: Timestamp,
        stale_after: Duration,
        size_hint: usize,
    ) -> Self {
        let fresh = |state: &SeriesState| {
            state
                .last_success
                .is_some_and(|t| now.duration_since(t).unsigned_abs() <= stale_after || t > now)
        };
        let mut text = TextWriter::new(size_hint);
        for family in FAMILIES {
            let mut header_written = false;
            for (labels, state) in series.clone().filter(|(_, s)| s.attempted) {
                let value = match (family.value)(state) {
                    Some(value) if family.always || fresh(state) => value,
                    _ => continue,
                };
                if !header_written {
                    let _ = write!(
                        text,
                        "# HELP {} {}\n# TYPE {} gauge\n",
                        family.name, family.help, family.name
                    );
                    header_written = true;
                }
                let _ = writeln!(text, "{}{} {}", family.name, labels.0, value);
            }
        }
        Self {
            encoded: Encoded {
                text: text.finish(),
            },
        }
    }
}

/// One per-series gauge: its name, help, and how to read it from a state.
struct Family {
    name: &'static str,
    help: &'static str,
    value: fn(&SeriesState) -> Option<i64>,
    /// Shown even when the series' data is stale.
    always: bool,
}

const FAMILIES: [Family; 6] = [
    Family {
        name: "braze_sessions",
        help: "Sessions in the latest complete bucket (hour or day of the company time zone), from Braze /sessions/data_series. Refreshed in the background every refresh.interval, not at scrape time.",
        value: |s| s.latest.complete.map(|b| b.sessions as i64),
        always: false,
    },
    Family {
        name: "braze_sessions_bucket_timestamp_seconds",
        help: "Unix time of the start of the bucket that braze_sessions counts.",
        value: |s| s.latest.complete.map(|b| b.start.as_second()),
        always: false,
    },
    Family {
        name: "braze_sessions_in_progress",
        help: "Sessions so far in the bucket that contained the refresh time, when Braze returned it; grows until the bucket ends.",
        value: |s| s.latest.in_progress.map(|b| b.sessions as i64),
        always: false,
    },
    Family {
        name: "braze_sessions_in_progress_bucket_timestamp_seconds",
        help: "Unix time of the start of the bucket that braze_sessions_in_progress counts.",
        value: |s| s.latest.in_progress.map(|b| b.start.as_second()),
        always: false,
    },
    Family {
        name: "braze_up",
        help: "1 if the latest fetch of this series from Braze succeeded, else 0.",
        value: |s| Some(i64::from(s.up)),
        always: true,
    },
    Family {
        name: "braze_last_success_timestamp_seconds",
        help: "Unix time of the latest successful fetch of this series.",
        value: |s| s.last_success.map(|t| t.as_second()),
        always: true,
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
    pub async fn gzip_with(&self, tail: Bytes) -> Bytes {
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
