//! The OpenMetrics text `promtool tsdb create-blocks-from openmetrics` reads.
//!
//! One family after another (never interleaved), in a fixed order: for each kind of the kinds
//! table, its metrics (one, or a messaging kind's many) and its `_bucket_timestamp_seconds`,
//! then `braze_up` for every kind. Within a family, series are sorted by their label text and
//! each series' samples are in ascending time, as promtool requires; timestamps are Unix
//! seconds. The file ends with `# EOF`. `_in_progress` is not written: a backfill knows only
//! settled buckets.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use jiff::Timestamp;

use super::plan::SamplePlan;
use crate::samples::Values;
use crate::series::{families, Kind, KINDS};

/// One series ready to write: its labels, the sample plan of its schedule (shared by every
/// series of that schedule, so memory grows with buckets, not samples), and the value of each
/// bucket Braze returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub kind: Kind,
    /// The series' own labels as the text format writes them (`app_name="ios",...,unit="hour"`),
    /// with the extra `--label`s appended.
    pub labels: String,
    pub plan: Arc<SamplePlan>,
    pub values: BTreeMap<Timestamp, Values>,
}

impl Written {
    /// (instant, bucket start, values) of every planned instant whose bucket Braze returned,
    /// in ascending time.
    pub fn samples(&self) -> impl Iterator<Item = (Timestamp, Timestamp, &Values)> + '_ {
        self.plan
            .samples
            .iter()
            .filter_map(|(t, bucket)| Some((*t, *bucket, self.values.get(bucket)?)))
    }

    /// The label sets of `family` among this series' buckets, sorted: each is one series of
    /// the file, written whole before the next.
    fn label_sets(&self, family: u16) -> std::collections::BTreeSet<&str> {
        self.values
            .values()
            .flat_map(|v| v.of_family(family).map(|(labels, _)| labels))
            .collect()
    }
}

/// Writes every family of `series` to `out`; returns how many samples were written.
pub fn write(out: &mut impl Write, series: &[Written]) -> io::Result<u64> {
    let mut by_kind: BTreeMap<Kind, Vec<&Written>> = BTreeMap::new();
    for s in series {
        by_kind.entry(s.kind).or_default().push(s);
    }
    for list in by_kind.values_mut() {
        list.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    let mut samples = 0;
    for spec in &KINDS {
        let Some(list) = by_kind.get(&spec.kind) else {
            continue;
        };
        for (family, metric) in families(spec).list.iter().enumerate() {
            let family = family as u16;
            header(out, &metric.name)?;
            for s in list {
                samples += write_family(out, &metric.name, family, s)?;
            }
        }
        let name = format!("{}_bucket_timestamp_seconds", spec.metric);
        header(out, &name)?;
        for s in list {
            for (t, bucket, _) in s.samples() {
                let value = bucket.as_second();
                writeln!(out, "{name}{{{}}} {value} {}", s.labels, t.as_second())?;
                samples += 1;
            }
        }
    }
    if !by_kind.is_empty() {
        header(out, "braze_up")?;
    }
    for spec in &KINDS {
        for s in by_kind.get(&spec.kind).into_iter().flatten() {
            for (t, _, _) in s.samples() {
                let labels = format!("kind=\"{}\",{}", spec.name, s.labels);
                writeln!(out, "braze_up{{{labels}}} 1 {}", t.as_second())?;
                samples += 1;
            }
        }
    }
    writeln!(out, "# EOF")?;
    Ok(samples)
}

/// The samples of one family of one series: each of its label sets in turn, in ascending time.
fn write_family(out: &mut impl Write, name: &str, family: u16, s: &Written) -> io::Result<u64> {
    let mut samples = 0;
    for extra in s.label_sets(family) {
        let comma = if extra.is_empty() { "" } else { "," };
        for (t, _, values) in s.samples() {
            for value in values
                .of_family(family)
                .filter(|(labels, _)| *labels == extra)
                .map(|(_, value)| value)
            {
                let labels = &s.labels;
                writeln!(
                    out,
                    "{name}{{{labels}{comma}{extra}}} {value} {}",
                    t.as_second()
                )?;
                samples += 1;
            }
        }
    }
    Ok(samples)
}

fn header(out: &mut impl Write, name: &str) -> io::Result<()> {
    writeln!(out, "# TYPE {name} gauge")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// A series whose every sample shows one bucket of one value.
    fn written(
        kind: Kind,
        labels: &str,
        bucket: Timestamp,
        value: f64,
        at: &[Timestamp],
    ) -> Written {
        Written {
            kind,
            labels: labels.into(),
            plan: Arc::new(SamplePlan {
                samples: at.iter().map(|t| (*t, bucket)).collect(),
                buckets: vec![bucket],
                pages: Vec::new(),
            }),
            values: BTreeMap::from([(bucket, Values::One(value))]),
        }
    }

    #[test]
    fn families_in_table_order_series_sorted_and_eof() {
        let t1 = at("2026-11-28T10:00:00Z");
        let t2 = at("2026-11-28T10:01:00Z");
        let b = at("2026-11-28T09:00:00Z");
        let series = [
            written(
                Kind::Dau,
                r#"app_name="all",unit="day""#,
                at("2026-11-27T00:00:00Z"),
                40.0,
                &[t1],
            ),
            written(
                Kind::Sessions,
                r#"app_name="web",segment_name="all",unit="hour""#,
                b,
                12.0,
                &[t1, t2],
            ),
            written(
                Kind::Sessions,
                r#"app_name="ios",segment_name="all",unit="hour""#,
                b,
                7.5,
                &[t1],
            ),
        ];
        let mut out = Vec::new();
        let n = write(&mut out, &series).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"# TYPE braze_sessions gauge
braze_sessions{app_name="ios",segment_name="all",unit="hour"} 7.5 1795860000
braze_sessions{app_name="web",segment_name="all",unit="hour"} 12 1795860000
braze_sessions{app_name="web",segment_name="all",unit="hour"} 12 1795860060
# TYPE braze_sessions_bucket_timestamp_seconds gauge
braze_sessions_bucket_timestamp_seconds{app_name="ios",segment_name="all",unit="hour"} 1795856400 1795860000
braze_sessions_bucket_timestamp_seconds{app_name="web",segment_name="all",unit="hour"} 1795856400 1795860000
braze_sessions_bucket_timestamp_seconds{app_name="web",segment_name="all",unit="hour"} 1795856400 1795860060
# TYPE braze_dau gauge
braze_dau{app_name="all",unit="day"} 40 1795860000
# TYPE braze_dau_bucket_timestamp_seconds gauge
braze_dau_bucket_timestamp_seconds{app_name="all",unit="day"} 1795737600 1795860000
# TYPE braze_up gauge
braze_up{kind="sessions",app_name="ios",segment_name="all",unit="hour"} 1 1795860000
braze_up{kind="sessions",app_name="web",segment_name="all",unit="hour"} 1 1795860000
braze_up{kind="sessions",app_name="web",segment_name="all",unit="hour"} 1 1795860060
braze_up{kind="dau",app_name="all",unit="day"} 1 1795860000
# EOF
"#
        );
        assert_eq!(n, 12);
    }

    #[test]
    fn nothing_to_write_is_an_empty_file() {
        let mut out = Vec::new();
        assert_eq!(write(&mut out, &[]).unwrap(), 0);
        assert_eq!(out, b"# EOF\n");
    }
}
