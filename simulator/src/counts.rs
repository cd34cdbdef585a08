//! The buckets a series covers, and the deterministic value of each.
//!
//! Buckets follow the company time zone: an hour bucket starts on a local hour (in
//! Asia/Kolkata, at :30 UTC), a day bucket at local midnight and lasts 23 or 25 hours on DST
//! days. Values are a pure function of the [`Series`] and the bucket, so tests can compute what
//! the simulator will say. Every value is an integer number of units (a count, or cents for
//! revenue), computed in integer arithmetic and rounded down.
//!
//! Sessions (unchanged):
//! - an hour's count is `base(app) × share(segment) × rhythm(local hour) × noise(app, segment,
//!   instant)`;
//! - `base` is 5,000 sessions per peak hour for all apps, and 200 to 2,000 for one app (from a
//!   stable FNV-1a hash of its id); `share` is 100% for all users and 5% to 60% for a segment;
//!   the rhythm goes from 5% at 4 am to 100% at 8 pm local time; the noise is ±10%;
//! - so a segment never counts more than all users, nor one app more than all apps (the
//!   largest one-app base, 2,000 + 10%, is below the all-apps base less 10%).
//!
//! Custom events (`count`), hourly:
//! - `sessions formula × rate(event)`, where `rate` is 0.02 to 1.2 occurrences per session
//!   (hash of the name) and the noise is ±10%, hashed with the event name as well;
//! - so the same orderings hold: a segment ≤ all users, one app ≤ all apps.
//!
//! Purchases, hourly:
//! - `purchase_quantity` is `base(app) × rhythm × share(product) × 4% × noise(product, app,
//!   instant)`: 4 purchases per 100 sessions for every product, 5% to 60% of that for one
//!   product (hash of its id), noise ±10%. One product never counts more than every product;
//! - `revenue` is that hour's quantity × a price: $0.99 to $19.99 for one product (a whole
//!   number of dollars less a cent, from its hash) and $19.99 for every product, at least any
//!   one product's price, so one product never earns more than every product. It is summed in
//!   cents and written as a decimal number of dollars with cents (`1234.56`).
//!
//! Day-only kinds (KPIs and segment sizes), one value per local day:
//! - `dau` is 40% of that day's sessions of the app (2.5 sessions per active user);
//! - `mau` is `base(app) × 30 × drift`, where `drift` moves linearly between weekly anchors
//!   of 95% to 105% (hash of the app and the week): a slowly changing 30-day rolling count,
//!   always well above any day's `dau` (at most 5.6 × base);
//! - `new_users` is `dau × 5% to 15%` (hash of the app) `× noise` (±10%, per day), and
//!   `uninstalls` `dau × 1% to 5% × noise`;
//! - a segment's `size` is `mau(all apps) × share(segment) × drift(segment)`: at most 63% of
//!   the workspace's monthly active users, changing slowly from day to day.
//!
//! Every kind:
//! - a day's value of an hourly kind is the sum of its hours' values;
//! - a bucket still in progress reports `full × elapsed / duration` for counts (sessions,
//!   events, purchases, revenue, `dau`, `new_users`, `uninstalls`), so it grows as the clock
//!   moves and reaches the full value when the bucket ends. The levels (`mau`, segment
//!   `size`) start the day at the previous day's value and move linearly to the day's value:
//!   a rolling count or a size does not fall to zero at midnight. Braze documents neither.
//! - day-only kinds ignore the unit asked for: their bucket is always the local day.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use super::{TimeFormat, Unit};

/// Share of the evening peak per local hour of the day, in thousandths.
const RHYTHM_PER_MILLE: [u64; 24] = [
    250, 150, 90, 60, 50, 70, 150, 300, 450, 520, 550, 580, // 00:00 to 11:00
    650, 620, 560, 540, 580, 650, 780, 900, 1000, 950, 700, 450, // 12:00 to 23:00
];

/// Peak-hour sessions of the whole workspace (no `app_id`).
const ALL_APPS_BASE: u64 = 5_000;

/// Purchases of every product per thousand sessions.
const PURCHASES_PER_MILLE_SESSIONS: u64 = 40;

/// The price of one purchase of "every product", in cents: no one product costs more.
const ALL_PRODUCTS_PRICE_CENTS: u64 = 1_999;

/// Daily active users per thousand sessions of the day (2.5 sessions per active user).
const DAU_PER_MILLE_SESSIONS: u64 = 400;

/// Monthly active users per peak-hour session of the base.
const MAU_PER_BASE: u64 = 30;

/// One series of any kind Braze serves, as tests name it to compute what the simulator
/// answers with [`value_in_bucket`] and [`value_in_partial_bucket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series<'a> {
    /// `/sessions/data_series`: `sessions`.
    Sessions {
        app_id: Option<&'a str>,
        segment_id: Option<&'a str>,
    },
    /// `/kpi/{dau,mau,new_users,uninstalls}/data_series`, by day only.
    Kpi {
        metric: Kpi,
        app_id: Option<&'a str>,
    },
    /// `/events/data_series`: `count` of one custom event.
    Event {
        name: &'a str,
        app_id: Option<&'a str>,
        segment_id: Option<&'a str>,
    },
    /// `/purchases/quantity_series`: `purchase_quantity`; `product: None` is every product.
    PurchaseQuantity {
        product: Option<&'a str>,
        app_id: Option<&'a str>,
    },
    /// `/purchases/revenue_series`: `revenue` in dollars with cents; `product: None` is every
    /// product.
    Revenue {
        product: Option<&'a str>,
        app_id: Option<&'a str>,
    },
    /// `/segments/data_series`: `size`, by day only.
    SegmentSize { segment_id: &'a str },
}

/// The four KPI endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kpi {
    /// `/kpi/dau/data_series`, field `dau`.
    Dau,
    /// `/kpi/mau/data_series`, field `mau`: a 30-day rolling count.
    Mau,
    /// `/kpi/new_users/data_series`, field `new_users`.
    NewUsers,
    /// `/kpi/uninstalls/data_series`, field `uninstalls`.
    Uninstalls,
}

/// The value the simulator reports for the complete bucket that contains `bucket_start`
/// (normally its first instant), in `bucket_start`'s time zone. Counts are whole numbers;
/// revenue has cents. Day-only kinds use the day whatever `unit` says.
///
/// Returns 0 for buckets at the edges of the representable time range.
pub fn value_in_bucket(series: &Series<'_>, unit: Unit, bucket_start: Zoned) -> f64 {
    let unit = series.effective_unit(unit);
    bucket_containing(bucket_start.timestamp(), bucket_start.time_zone(), unit)
        .and_then(|start| series.full_units(&start, unit))
        .map_or(0.0, |units| series.value_of(units))
}

/// The value the simulator reports at `now` for the bucket that contains `bucket_start`: the
/// full value once the bucket is complete, 0 before it starts, and in between the partial
/// value of the module documentation.
pub fn value_in_partial_bucket(
    series: &Series<'_>,
    unit: Unit,
    bucket_start: Zoned,
    now: Timestamp,
) -> f64 {
    let unit = series.effective_unit(unit);
    bucket_containing(bucket_start.timestamp(), bucket_start.time_zone(), unit)
        .and_then(|start| series.units_at(&start, unit, now))
        .map_or(0.0, |units| series.value_of(units))
}

/// The count the simulator reports for the complete bucket that contains `bucket_start`:
/// `value_in_bucket(&Series::Sessions { app_id, segment_id }, unit, bucket_start) as u64`.
///
/// Returns 0 for buckets at the edges of the representable time range.
pub fn sessions_in_bucket(
    app_id: Option<&str>,
    segment_id: Option<&str>,
    unit: Unit,
    bucket_start: Zoned,
) -> u64 {
    let series = Series::Sessions { app_id, segment_id };
    bucket_containing(bucket_start.timestamp(), bucket_start.time_zone(), unit)
        .and_then(|start| series.full_units(&start, unit))
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
    let series = Series::Sessions { app_id, segment_id };
    bucket_containing(bucket_start.timestamp(), bucket_start.time_zone(), unit)
        .and_then(|start| series.units_at(&start, unit, now))
        .unwrap_or(0)
}

/// One point of a series as the simulator writes it: `units` are a count, or cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Point {
    pub(super) time: String,
    pub(super) units: u64,
}

/// How a workspace shapes its series.
#[derive(Debug, Clone)]
pub(super) struct SeriesShape {
    pub(super) time_zone: TimeZone,
    pub(super) hourly_time_format: TimeFormat,
    pub(super) include_in_progress: bool,
}

impl SeriesShape {
    /// The points of `series` at `now`, oldest first: `length` buckets ending with the one
    /// that contains `ending_at` (default `now`), without buckets that start after `now`, and
    /// without the bucket in progress unless the workspace includes it.
    pub(super) fn series(
        &self,
        series: &Series<'_>,
        unit: Unit,
        length: u32,
        ending_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Vec<Point>, jiff::Error> {
        let unit = series.effective_unit(unit);
        let starts = self.bucket_starts(unit, length, ending_at, now)?;
        let mut points = Vec::with_capacity(starts.len());
        for start in &starts {
            points.push(Point {
                time: self.format_time(start, unit),
                units: series.units_at(start, unit, now)?,
            });
        }
        Ok(points)
    }

    /// The starts of the buckets such a series answers at `now`, oldest first.
    pub(crate) fn bucket_starts(
        &self,
        unit: Unit,
        length: u32,
        ending_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Vec<Zoned>, jiff::Error> {
        let mut start = bucket_containing(ending_at.unwrap_or(now), &self.time_zone, unit)?;
        let mut starts = Vec::with_capacity(length as usize);
        starts.push(start.clone());
        for _ in 1..length {
            start = previous_bucket(&start, unit)?;
            starts.push(start.clone());
        }
        let mut answered = Vec::with_capacity(starts.len());
        for start in starts.into_iter().rev() {
            if start.timestamp() > now {
                continue; // in the future
            }
            let in_progress = bucket_end(&start, unit)?.timestamp() > now;
            if in_progress && !self.include_in_progress {
                continue;
            }
            answered.push(start);
        }
        Ok(answered)
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
pub(crate) fn bucket_containing(
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
pub(crate) fn bucket_end(start: &Zoned, unit: Unit) -> Result<Zoned, jiff::Error> {
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

/// Peak-hour sessions of `app` (all apps for `None`).
fn session_base(app_id: Option<&str>) -> u64 {
    match app_id {
        None => ALL_APPS_BASE,
        Some(app) => 200 + Fnv::new().str(app).finish() % 1_801,
    }
}

/// The share of all users a segment holds, in thousandths: 5% to 60%.
fn segment_share(segment_id: Option<&str>) -> u64 {
    match segment_id {
        None => 1_000,
        Some(segment) => 50 + Fnv::new().str(segment).finish() % 551,
    }
}

/// ±10%, in thousandths.
pub(crate) fn noise(key: Fnv) -> u64 {
    900 + key.finish() % 201
}

fn rhythm(hour_start: &Zoned) -> u64 {
    RHYTHM_PER_MILLE[usize::from(hour_start.hour().unsigned_abs())]
}

/// 95% to 105%, in thousandths, moving linearly between anchors one week apart.
fn drift(key: Fnv, day_start: &Zoned) -> Result<u64, jiff::Error> {
    let day = day_number(day_start)?;
    let (week, into) = (day.div_euclid(7), day.rem_euclid(7).unsigned_abs());
    let anchor = |week: i64| 950 + key.i64(week).finish() % 101;
    Ok((anchor(week) * (7 - into) + anchor(week + 1) * into) / 7)
}

/// Days from 1970-01-01 to the local date of `day_start`.
pub(crate) fn day_number(day_start: &Zoned) -> Result<i64, jiff::Error> {
    let midnight_utc = day_start.date().to_zoned(TimeZone::UTC)?;
    Ok(midnight_utc.timestamp().as_second().div_euclid(86_400))
}

impl Series<'_> {
    /// Braze serves KPIs and segment sizes by day only.
    fn daily_only(&self) -> bool {
        matches!(self, Series::Kpi { .. } | Series::SegmentSize { .. })
    }

    /// The unit a request for this series is answered in.
    pub(super) fn effective_unit(&self, unit: Unit) -> Unit {
        if self.daily_only() {
            Unit::Day
        } else {
            unit
        }
    }

    /// Levels (a rolling count, a size) rather than counts of things that happened.
    fn is_level(&self) -> bool {
        matches!(
            self,
            Series::Kpi {
                metric: Kpi::Mau,
                ..
            } | Series::SegmentSize { .. }
        )
    }

    /// Whether units are cents.
    pub(super) fn in_cents(&self) -> bool {
        matches!(self, Series::Revenue { .. })
    }

    fn value_of(&self, units: u64) -> f64 {
        if self.in_cents() {
            units as f64 / 100.0
        } else {
            units as f64
        }
    }

    /// The value of the bucket starting at `start`, as seen at `now`.
    fn units_at(&self, start: &Zoned, unit: Unit, now: Timestamp) -> Result<u64, jiff::Error> {
        let end = bucket_end(start, unit)?.timestamp();
        let start_ts = start.timestamp();
        if now <= start_ts {
            return Ok(0);
        }
        let full = self.full_units(start, unit)?;
        if now >= end {
            return Ok(full);
        }
        let elapsed = now.duration_since(start_ts).as_nanos();
        let duration = end.duration_since(start_ts).as_nanos();
        let from = if self.is_level() {
            i128::from(self.full_units(&previous_bucket(start, unit)?, unit)?)
        } else {
            0
        };
        let partial = from + (i128::from(full) - from) * elapsed / duration;
        Ok(u64::try_from(partial).unwrap_or(0))
    }

    fn full_units(&self, start: &Zoned, unit: Unit) -> Result<u64, jiff::Error> {
        if self.daily_only() {
            return self.day_units(start);
        }
        match unit {
            Unit::Hour => Ok(self.hour_units(start)),
            Unit::Day => {
                let end = bucket_end(start, Unit::Day)?.timestamp();
                let mut hour = start.clone();
                let mut total = 0;
                while hour.timestamp() < end {
                    total += self.hour_units(&hour);
                    hour = bucket_end(&hour, Unit::Hour)?;
                }
                Ok(total)
            }
        }
    }

    /// The value of one hour of an hourly kind (0 for day-only kinds, never asked).
    fn hour_units(&self, hour_start: &Zoned) -> u64 {
        let instant = hour_start.timestamp().as_second();
        match *self {
            Series::Sessions { app_id, segment_id } => {
                let noise = noise(Fnv::new().opt_str(app_id).opt_str(segment_id).i64(instant));
                session_base(app_id) * segment_share(segment_id) * rhythm(hour_start) * noise
                    / 1_000_000_000
            }
            Series::Event {
                name,
                app_id,
                segment_id,
            } => {
                let rate = 20 + Fnv::new().str("event").str(name).finish() % 1_181;
                let noise = noise(
                    Fnv::new()
                        .str("event")
                        .str(name)
                        .opt_str(app_id)
                        .opt_str(segment_id)
                        .i64(instant),
                );
                session_base(app_id) * segment_share(segment_id) * rhythm(hour_start) * rate * noise
                    / 1_000_000_000_000
            }
            Series::PurchaseQuantity { product, app_id } => {
                purchase_quantity(product, app_id, hour_start)
            }
            Series::Revenue { product, app_id } => {
                purchase_quantity(product, app_id, hour_start) * price_cents(product)
            }
            Series::Kpi { .. } | Series::SegmentSize { .. } => 0,
        }
    }

    /// The value of one local day of a day-only kind (0 for hourly kinds, never asked).
    fn day_units(&self, day_start: &Zoned) -> Result<u64, jiff::Error> {
        let day = day_number(day_start)?;
        match *self {
            Series::Kpi { metric, app_id } => {
                let dau = || -> Result<u64, jiff::Error> {
                    let sessions = Series::Sessions {
                        app_id,
                        segment_id: None,
                    };
                    Ok(sessions.full_units(day_start, Unit::Day)? * DAU_PER_MILLE_SESSIONS / 1_000)
                };
                let share_of_dau =
                    |kind: &str, low: u64, spread: u64| -> Result<u64, jiff::Error> {
                        let share = low + Fnv::new().str(kind).opt_str(app_id).finish() % spread;
                        let noise = noise(Fnv::new().str(kind).opt_str(app_id).i64(day));
                        Ok(dau()? * share * noise / 1_000_000)
                    };
                match metric {
                    Kpi::Dau => dau(),
                    Kpi::Mau => mau(app_id, day_start),
                    Kpi::NewUsers => share_of_dau("new_users", 50, 101),
                    Kpi::Uninstalls => share_of_dau("uninstalls", 10, 41),
                }
            }
            Series::SegmentSize { segment_id } => {
                let drift = drift(Fnv::new().str("segment").str(segment_id), day_start)?;
                Ok(mau(None, day_start)? * segment_share(Some(segment_id)) * drift / 1_000_000)
            }
            _ => Ok(0),
        }
    }
}

fn mau(app_id: Option<&str>, day_start: &Zoned) -> Result<u64, jiff::Error> {
    let drift = drift(Fnv::new().str("mau").opt_str(app_id), day_start)?;
    Ok(session_base(app_id) * MAU_PER_BASE * drift / 1_000)
}

/// Purchases in one hour: of every product (`None`) or of one.
fn purchase_quantity(product: Option<&str>, app_id: Option<&str>, hour_start: &Zoned) -> u64 {
    let share = match product {
        None => 1_000,
        Some(product) => 50 + Fnv::new().str("product").str(product).finish() % 551,
    };
    let noise = noise(
        Fnv::new()
            .str("purchase")
            .opt_str(product)
            .opt_str(app_id)
            .i64(hour_start.timestamp().as_second()),
    );
    session_base(app_id) * rhythm(hour_start) * share * PURCHASES_PER_MILLE_SESSIONS * noise
        / 1_000_000_000_000
}

/// $0.99 to $19.99 for one product; [`ALL_PRODUCTS_PRICE_CENTS`] for every product.
fn price_cents(product: Option<&str>) -> u64 {
    match product {
        None => ALL_PRODUCTS_PRICE_CENTS,
        Some(product) => (1 + Fnv::new().str("price").str(product).finish() % 20) * 100 - 1,
    }
}

/// FNV-1a, 64 bits, finished with a SplitMix64 mix so that small moduli are well spread.
/// Stable across runs and platforms, unlike std's `RandomState`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    pub(crate) fn str(self, s: &str) -> Self {
        self.bytes(&[1]).bytes(s.as_bytes()).bytes(&[0xff])
    }

    pub(crate) fn opt_str(self, s: Option<&str>) -> Self {
        match s {
            None => self.bytes(&[0]),
            Some(s) => self.str(s),
        }
    }

    pub(crate) fn i64(self, n: i64) -> Self {
        self.bytes(&n.to_le_bytes())
    }

    pub(crate) fn finish(self) -> u64 {
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
            let key = Series::Sessions {
                app_id: None,
                segment_id: None,
            };
            let mut sum = 0;
            let mut hour = start.clone();
            for _ in 0..hours {
                sum += key.hour_units(&hour);
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

    /// Every kind over some apps, segments, products and days.
    fn days() -> Vec<Zoned> {
        (0..40)
            .map(|n| {
                zoned("2026-10-20T00:00:00[America/New_York]")
                    .date()
                    .checked_add(jiff::Span::new().days(n))
                    .unwrap()
                    .to_zoned(TimeZone::get("America/New_York").unwrap())
                    .unwrap()
            })
            .collect()
    }

    const APPS: [Option<&str>; 4] = [None, Some("a"), Some("app-0001"), Some("demo-app-ios")];

    fn day(series: Series<'_>, start: &Zoned) -> f64 {
        value_in_bucket(&series, Unit::Day, start.clone())
    }

    #[test]
    fn sessions_functions_agree() {
        let hour = zoned("2026-11-28T20:00:00[UTC]");
        for unit in [Unit::Hour, Unit::Day] {
            for (app, segment) in [(None, None), (Some("a"), Some("s"))] {
                let series = Series::Sessions {
                    app_id: app,
                    segment_id: segment,
                };
                assert_eq!(
                    sessions_in_bucket(app, segment, unit, hour.clone()),
                    value_in_bucket(&series, unit, hour.clone()) as u64
                );
                let now = ts("2026-11-28T20:20:00Z");
                assert_eq!(
                    sessions_in_partial_bucket(app, segment, unit, hour.clone(), now),
                    value_in_partial_bucket(&series, unit, hour.clone(), now) as u64
                );
            }
        }
    }

    #[test]
    fn kinds_are_ordered_and_whole() {
        for start in days() {
            for app_id in APPS {
                let sessions = day(
                    Series::Sessions {
                        app_id,
                        segment_id: None,
                    },
                    &start,
                );
                let kpi = |metric| day(Series::Kpi { metric, app_id }, &start);
                let (dau, mau) = (kpi(Kpi::Dau), kpi(Kpi::Mau));
                let (new_users, uninstalls) = (kpi(Kpi::NewUsers), kpi(Kpi::Uninstalls));
                assert!(
                    0.0 < dau && dau < sessions && dau < mau / 3.0,
                    "{dau} {mau}"
                );
                assert!(
                    new_users > 0.0 && new_users < dau / 5.0,
                    "{new_users} {dau}"
                );
                assert!(uninstalls > 0.0 && uninstalls < new_users, "{uninstalls}");
                if app_id.is_some() {
                    assert!(dau < kpi_all(Kpi::Dau, &start));
                    assert!(mau < kpi_all(Kpi::Mau, &start));
                }
                for name in ["signup", "checkout", "level_up"] {
                    let all = day(
                        Series::Event {
                            name,
                            app_id,
                            segment_id: None,
                        },
                        &start,
                    );
                    let segment = day(
                        Series::Event {
                            name,
                            app_id,
                            segment_id: Some("demo-seg-paying"),
                        },
                        &start,
                    );
                    assert!(0.0 < segment && segment < all, "{name} {segment} {all}");
                }
                let every = |product| {
                    (
                        day(Series::PurchaseQuantity { product, app_id }, &start),
                        day(Series::Revenue { product, app_id }, &start),
                    )
                };
                let (all_quantity, all_revenue) = every(None);
                for product in ["premium_monthly", "coins_100", "p"] {
                    let (quantity, revenue) = every(Some(product));
                    assert!(quantity < all_quantity && revenue < all_revenue);
                    assert!(revenue <= quantity * 19.99 + 1e-6, "{revenue} {quantity}");
                    assert!(revenue >= quantity * 0.99 - 1e-6, "{revenue} {quantity}");
                }
                assert!((all_revenue - all_quantity * 19.99).abs() < 1e-6);
                for value in [sessions, dau, mau, new_users, uninstalls, all_quantity] {
                    assert_eq!(value.fract(), 0.0);
                }
                assert_eq!((all_revenue * 100.0).round() / 100.0, all_revenue);
            }
        }
    }

    fn kpi_all(metric: Kpi, start: &Zoned) -> f64 {
        day(
            Series::Kpi {
                metric,
                app_id: None,
            },
            start,
        )
    }

    #[test]
    fn days_of_hourly_kinds_sum_their_hours() {
        let start = zoned("2026-11-01T00:00:00[America/New_York]"); // 25 hours
        let kinds = [
            Series::Event {
                name: "signup",
                app_id: Some("a"),
                segment_id: Some("s"),
            },
            Series::PurchaseQuantity {
                product: Some("coins_100"),
                app_id: None,
            },
            Series::Revenue {
                product: None,
                app_id: Some("a"),
            },
            Series::Revenue {
                product: Some("premium_monthly"),
                app_id: None,
            },
        ];
        for series in kinds {
            let mut hour = start.clone();
            let mut cents = 0.0;
            for _ in 0..25 {
                cents += (value_in_bucket(&series, Unit::Hour, hour.clone()) * 100.0).round();
                hour = bucket_end(&hour, Unit::Hour).unwrap();
            }
            let day = value_in_bucket(&series, Unit::Day, start.clone());
            assert_eq!((day * 100.0).round(), cents, "{series:?}");
        }
    }

    #[test]
    fn revenue_has_cents() {
        let series = Series::Revenue {
            product: Some("coins_100"),
            app_id: None,
        };
        let values: Vec<f64> = days()
            .iter()
            .map(|start| value_in_bucket(&series, Unit::Day, start.clone()))
            .collect();
        assert!(values.iter().any(|v| v.fract() != 0.0), "{values:?}");
    }

    #[test]
    fn levels_change_slowly_and_counts_grow_from_zero() {
        let days = days();
        for pair in days.windows(2) {
            for series in [
                Series::SegmentSize {
                    segment_id: "demo-seg-paying",
                },
                Series::Kpi {
                    metric: Kpi::Mau,
                    app_id: Some("a"),
                },
            ] {
                let (before, after) = (day(series, &pair[0]), day(series, &pair[1]));
                assert!((after - before).abs() <= before * 0.03, "{before} {after}");
                // In progress: from the previous day's value to the day's.
                let start = pair[1].clone();
                let at =
                    |t: Timestamp| value_in_partial_bucket(&series, Unit::Day, start.clone(), t);
                let midnight = start.timestamp();
                assert_eq!(
                    at(midnight.checked_add(SignedDuration::from_nanos(1)).unwrap()),
                    before
                );
                let noon = midnight
                    .checked_add(SignedDuration::from_hours(12))
                    .unwrap();
                let half = at(noon);
                assert!(half >= before.min(after) && half <= before.max(after));
                let next = bucket_end(&start, Unit::Day).unwrap().timestamp();
                assert_eq!(at(next), after);
                // Day-only kinds ignore the unit.
                assert_eq!(value_in_bucket(&series, Unit::Hour, start.clone()), after);
            }
        }
        let dau = Series::Kpi {
            metric: Kpi::Dau,
            app_id: None,
        };
        let start = days[3].clone();
        let full = day(dau, &start);
        let noon = start
            .timestamp()
            .checked_add(SignedDuration::from_hours(12))
            .unwrap();
        assert_eq!(
            value_in_partial_bucket(&dau, Unit::Day, start.clone(), start.timestamp()),
            0.0
        );
        assert_eq!(
            value_in_partial_bucket(&dau, Unit::Day, start.clone(), noon),
            (full / 2.0).floor()
        );
    }

    #[test]
    fn fnv_is_stable() {
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c; pinning the mixed value guards the counts.
        assert_eq!(Fnv::new().bytes(b"a").0, 0xaf63_dc4c_8601_ec8c);
    }
}
