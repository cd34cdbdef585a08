//! The buckets a series covers, and the deterministic session count of each.
//!
//! Buckets follow the company time zone: an hour bucket starts on a local hour (in
//! Asia/Kolkata, at :30 UTC), a day bucket at local midnight and lasts 23 or 25 hours on DST
//! days. Counts are a pure function of (app, segment, bucket), so tests can compute what the
//! simulator will say:
//!
//! - an hour's count is `base(app) × share(segment) × rhythm(local hour) × noise(app, segment,
//!   instant)`, in integer arithmetic, rounded down;
//! - `base` is 5,000 sessions per peak hour for all apps, and 200 to 2,000 for one app (from a
//!   stable FNV-1a hash of its id); `share` is 100% for all users and 5% to 60% for a segment;
//!   the rhythm goes from 5% at 4 am to 100% at 8 pm local time; the noise is ±10%;
//! - so a segment never counts more than all users, nor one app more than all apps;
//! - a day's count is the sum of its hours' counts;
//! - a bucket still in progress counts `full × elapsed / duration`, rounded down, so it grows
//!   as the clock moves and reaches the full count when the bucket ends.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use super::params::SeriesRequest;
use super::{TimeFormat, Unit};

/// Share of the evening peak per local hour of the day, in thousandths.
const RHYTHM_PER_MILLE: [u64; 24] = [
    250, 150, 90, 60, 50, 70, 150, 300, 450, 520, 550, 580, // 00:00 to 11:00
    650, 620, 560, 540, 580, 650, 780, 900, 1000, 950, 700, 450, // 12:00 to 23:00
];

/// Peak-hour sessions of the whole workspace (no `app_id`).
const ALL_APPS_BASE: u64 = 5_000;

/// The count the simulator reports for the complete bucket that contains `bucket_start`
/// (normally its first instant), in `bucket_start`'s time zone.
///
/// Returns 0 for buckets at the edges of the representable time range.
pub fn sessions_in_bucket(
    app_id: Option<&str>,
    segment_id: Option<&str>,
    unit: Unit,
    bucket_start: Zoned,
) -> u64 {
    let series = SeriesKey::new(app_id, segment_id);
    bucket_containing(bucket_start.timestamp(), bucket_start.time_zone(), unit)
        .and_then(|start| series.full_count(&start, unit))
        .unwrap_or(0)
}

/// The count the simulator reports at `now` for the bucket that contains `bucket_start`:
/// the full count once the bucket is complete, 0 before it starts, and in between
/// `full × elapsed / duration` rounded down.
pub fn sessions_in_partial_bucket(
    app_id: Option<&str>,
    segment_id: Option<&str>,
    unit: Unit,
    bucket_start: Zoned,
    now: Timestamp,
) -> u64 {
    let series = SeriesKey::new(app_id, segment_id);
    bucket_containing(bucket_start.timestamp(), bucket_start.time_zone(), unit)
        .and_then(|start| series.count_at(&start, unit, now))
        .unwrap_or(0)
}

/// One point of a series as the simulator writes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(super) struct Point {
    pub(super) time: String,
    pub(super) sessions: u64,
}

/// How a workspace shapes its series.
#[derive(Debug, Clone)]
pub(super) struct SeriesShape {
    pub(super) time_zone: TimeZone,
    pub(super) hourly_time_format: TimeFormat,
    pub(super) include_in_progress: bool,
}

impl SeriesShape {
    /// The points for `request` at `now`, oldest first: `length` buckets ending with the one
    /// that contains `ending_at` (default `now`), without buckets that start after `now`, and
    /// without the bucket in progress unless the workspace includes it.
    pub(super) fn series(
        &self,
        request: &SeriesRequest,
        now: Timestamp,
    ) -> Result<Vec<Point>, jiff::Error> {
        let unit = request.unit;
        let series = SeriesKey::new(request.app_id.as_deref(), request.segment_id.as_deref());
        let mut start = bucket_containing(request.ending_at.unwrap_or(now), &self.time_zone, unit)?;
        let mut starts = Vec::with_capacity(request.length as usize);
        starts.push(start.clone());
        for _ in 1..request.length {
            start = previous_bucket(&start, unit)?;
            starts.push(start.clone());
        }
        let mut points = Vec::with_capacity(starts.len());
        for start in starts.iter().rev() {
            if start.timestamp() > now {
                continue; // in the future
            }
            let in_progress = bucket_end(start, unit)?.timestamp() > now;
            if in_progress && !self.include_in_progress {
                continue;
            }
            points.push(Point {
                time: self.format_time(start, unit),
                sessions: series.count_at(start, unit, now)?,
            });
        }
        Ok(points)
    }

    fn format_time(&self, start: &Zoned, unit: Unit) -> String {
        match (unit, self.hourly_time_format) {
            (Unit::Day, _) => start.date().to_string(),
            (Unit::Hour, TimeFormat::Offset) => start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            (Unit::Hour, TimeFormat::Zulu) => {
                start.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            }
            (Unit::Hour, TimeFormat::Naive) => start.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        }
    }
}

/// The first instant of the bucket that contains `t`.
pub(super) fn bucket_containing(
    t: Timestamp,
    tz: &TimeZone,
    unit: Unit,
) -> Result<Zoned, jiff::Error> {
    match unit {
        Unit::Hour => hour_containing(t, tz),
        Unit::Day => t.to_zoned(tz.clone()).start_of_day(),
    }
}

/// The first instant after the bucket that starts at `start`.
fn bucket_end(start: &Zoned, unit: Unit) -> Result<Zoned, jiff::Error> {
    match unit {
        Unit::Hour => {
            // A whole hour later, realigned: only zones whose offset moves by half an hour
            // (Australia/Lord_Howe) ever get a shorter bucket from this.
            let later = start
                .timestamp()
                .checked_add(SignedDuration::from_hours(1))?;
            let end = hour_containing(later, start.time_zone())?;
            if end.timestamp() > start.timestamp() {
                Ok(end)
            } else {
                Ok(later.to_zoned(start.time_zone().clone()))
            }
        }
        Unit::Day => start.date().tomorrow()?.to_zoned(start.time_zone().clone()),
    }
}

fn previous_bucket(start: &Zoned, unit: Unit) -> Result<Zoned, jiff::Error> {
    match unit {
        Unit::Hour => {
            let before = start
                .timestamp()
                .checked_sub(SignedDuration::from_secs(1))?;
            hour_containing(before, start.time_zone())
        }
        Unit::Day => start
            .date()
            .yesterday()?
            .to_zoned(start.time_zone().clone()),
    }
}

/// The start of the local hour containing `t`, using the offset in force at `t`.
fn hour_containing(t: Timestamp, tz: &TimeZone) -> Result<Zoned, jiff::Error> {
    let offset = i64::from(tz.to_offset(t).seconds());
    let whole_second = t.as_second() - i64::from(t.subsec_nanosecond() < 0);
    let local = whole_second + offset;
    let start = Timestamp::from_second(local - local.rem_euclid(3600) - offset)?;
    Ok(start.to_zoned(tz.clone()))
}

/// The (app, segment) a count belongs to, with its hashed constants.
#[derive(Debug, Clone, Copy)]
struct SeriesKey<'a> {
    app_id: Option<&'a str>,
    segment_id: Option<&'a str>,
}

impl<'a> SeriesKey<'a> {
    fn new(app_id: Option<&'a str>, segment_id: Option<&'a str>) -> Self {
        Self { app_id, segment_id }
    }

    /// The count for the bucket starting at `start`, as seen at `now`.
    fn count_at(&self, start: &Zoned, unit: Unit, now: Timestamp) -> Result<u64, jiff::Error> {
        let end = bucket_end(start, unit)?.timestamp();
        let start_ts = start.timestamp();
        if now <= start_ts {
            return Ok(0);
        }
        let full = self.full_count(start, unit)?;
        if now >= end {
            return Ok(full);
        }
        let elapsed = now.duration_since(start_ts).as_nanos();
        let duration = end.duration_since(start_ts).as_nanos();
        let partial = i128::from(full) * elapsed / duration;
        Ok(u64::try_from(partial).unwrap_or(0))
    }

    fn full_count(&self, start: &Zoned, unit: Unit) -> Result<u64, jiff::Error> {
        match unit {
            Unit::Hour => Ok(self.hour_count(start)),
            Unit::Day => {
                let end = bucket_end(start, Unit::Day)?.timestamp();
                let mut hour = start.clone();
                let mut total = 0;
                while hour.timestamp() < end {
                    total += self.hour_count(&hour);
                    hour = bucket_end(&hour, Unit::Hour)?;
                }
                Ok(total)
            }
        }
    }

    fn hour_count(&self, hour_start: &Zoned) -> u64 {
        let base = match self.app_id {
            None => ALL_APPS_BASE,
            Some(app) => 200 + Fnv::new().str(app).finish() % 1_801,
        };
        let share_per_mille = match self.segment_id {
            None => 1_000,
            Some(segment) => 50 + Fnv::new().str(segment).finish() % 551,
        };
        let rhythm_per_mille = RHYTHM_PER_MILLE[usize::from(hour_start.hour().unsigned_abs())];
        let noise_per_mille = 900
            + Fnv::new()
                .opt_str(self.app_id)
                .opt_str(self.segment_id)
                .i64(hour_start.timestamp().as_second())
                .finish()
                % 201;
        base * share_per_mille * rhythm_per_mille * noise_per_mille / 1_000_000_000
    }
}

/// FNV-1a, 64 bits, finished with a SplitMix64 mix so that small moduli are well spread.
/// Stable across runs and platforms, unlike std's `RandomState`.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    fn str(self, s: &str) -> Self {
        self.bytes(&[1]).bytes(s.as_bytes()).bytes(&[0xff])
    }

    fn opt_str(self, s: Option<&str>) -> Self {
        match s {
            None => self.bytes(&[0]),
            Some(s) => self.str(s),
        }
    }

    fn i64(self, n: i64) -> Self {
        self.bytes(&n.to_le_bytes())
    }

    fn finish(self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zoned(s: &str) -> Zoned {
        s.parse().unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn hours_align_to_the_company_time_zone() {
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let start = bucket_containing(ts("2026-11-28T05:10:00Z"), &kolkata, Unit::Hour).unwrap();
        assert_eq!(start.timestamp(), ts("2026-11-28T04:30:00Z"));
        let start = bucket_containing(ts("2026-11-28T04:29:59Z"), &kolkata, Unit::Hour).unwrap();
        assert_eq!(start.timestamp(), ts("2026-11-28T03:30:00Z"));
        let start = bucket_containing(ts("1969-12-31T23:59:59.5Z"), &TimeZone::UTC, Unit::Hour);
        assert_eq!(start.unwrap().timestamp(), ts("1969-12-31T23:00:00Z"));
    }

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let new_york = TimeZone::get("America/New_York").unwrap();
        for (day, hours) in [("2026-03-08", 23), ("2026-11-01", 25), ("2026-11-02", 24)] {
            let start = bucket_containing(
                zoned(&format!("{day}T12:00:00[America/New_York]")).timestamp(),
                &new_york,
                Unit::Day,
            )
            .unwrap();
            let end = bucket_end(&start, Unit::Day).unwrap();
            assert_eq!(
                end.timestamp().duration_since(start.timestamp()),
                SignedDuration::from_hours(hours),
                "{day}"
            );
            // The day's count sums exactly that many hours.
            let key = SeriesKey::new(None, None);
            let mut sum = 0;
            let mut hour = start.clone();
            for _ in 0..hours {
                sum += key.hour_count(&hour);
                hour = bucket_end(&hour, Unit::Hour).unwrap();
            }
            assert_eq!(hour, end);
            assert_eq!(sessions_in_bucket(None, None, Unit::Day, start), sum);
        }
    }

    #[test]
    fn repeated_dst_hour_is_two_buckets() {
        let new_york = TimeZone::get("America/New_York").unwrap();
        let first = bucket_containing(ts("2026-11-01T05:30:00Z"), &new_york, Unit::Hour).unwrap();
        let second = bucket_end(&first, Unit::Hour).unwrap();
        assert_eq!(first.hour(), 1);
        assert_eq!(second.hour(), 1);
        assert_eq!(second.timestamp(), ts("2026-11-01T06:00:00Z"));
        assert_eq!(previous_bucket(&second, Unit::Hour).unwrap(), first);
    }

    #[test]
    fn counts_are_deterministic_and_ordered() {
        let hour = zoned("2026-11-28T20:00:00[UTC]");
        let all = sessions_in_bucket(None, None, Unit::Hour, hour.clone());
        assert_eq!(
            all,
            sessions_in_bucket(None, None, Unit::Hour, hour.clone())
        );
        assert!((4_500..=5_500).contains(&all), "{all}");
        // Anywhere inside the bucket names the same bucket.
        assert_eq!(
            all,
            sessions_in_bucket(None, None, Unit::Hour, zoned("2026-11-28T20:59:59[UTC]"))
        );
        let night = sessions_in_bucket(None, None, Unit::Hour, zoned("2026-11-28T04:00:00[UTC]"));
        assert!(night < all / 10, "night {night}, evening {all}");
        for app in ["a", "b", "app-0001", "app-0002"] {
            let one_app = sessions_in_bucket(Some(app), None, Unit::Hour, hour.clone());
            assert!(one_app < all);
            for segment in ["s", "seg-0001"] {
                let seg = sessions_in_bucket(Some(app), Some(segment), Unit::Hour, hour.clone());
                assert!(seg < one_app);
            }
        }
        assert_ne!(
            sessions_in_bucket(Some("app-0001"), None, Unit::Hour, hour.clone()),
            sessions_in_bucket(Some("app-0002"), None, Unit::Hour, hour.clone())
        );
    }

    #[test]
    fn partial_bucket_grows_to_the_full_count() {
        let start = zoned("2026-11-28T20:00:00[UTC]");
        let full = sessions_in_bucket(None, None, Unit::Hour, start.clone());
        let at = |t: &str| sessions_in_partial_bucket(None, None, Unit::Hour, start.clone(), ts(t));
        assert_eq!(at("2026-11-28T20:00:00Z"), 0);
        assert_eq!(at("2026-11-28T20:30:00Z"), full / 2);
        assert_eq!(at("2026-11-28T20:45:00Z"), full * 3 / 4);
        assert_eq!(at("2026-11-28T21:00:00Z"), full);
        assert_eq!(at("2026-11-29T00:00:00Z"), full);
    }

    #[test]
    fn fnv_is_stable() {
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c; pinning the mixed value guards the counts.
        assert_eq!(Fnv::new().bytes(b"a").0, 0xaf63_dc4c_8601_ec8c);
    }
}
