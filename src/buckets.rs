//! Which of Braze's points the gauges show: the latest complete bucket and the one in progress.
//!
//! Bucket `[start, start + unit)` is complete once `start + unit + delay <= now`; it is in
//! progress while `start <= now < start + unit`. A day is a calendar day of the company time
//! zone (23 or 25 hours across a DST change), an hour is 3,600 seconds. Braze does not document
//! whether it returns the bucket in progress, so its absence is normal.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::braze::Point;
use crate::samples::Values;
use crate::series::Unit;

/// A bucket and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub start: Timestamp,
    pub values: Values,
}

/// What one answer from Braze contributes to the gauges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Latest {
    pub complete: Option<Bucket>,
    pub in_progress: Option<Bucket>,
}

/// How to place points in time: the unit, the company time zone and the settling delay.
#[derive(Debug, Clone)]
pub struct BucketRules {
    pub unit: Unit,
    pub time_zone: TimeZone,
    pub delay: Duration,
}

impl BucketRules {
    /// The first instant after the bucket that starts at `start`.
    pub fn end(&self, start: Timestamp) -> Option<Timestamp> {
        match self.unit {
            Unit::Hour => start.checked_add(SignedDuration::from_hours(1)).ok(),
            Unit::Day => start
                .to_zoned(self.time_zone.clone())
                .checked_add(1.day())
                .ok()
                .map(|z| z.start_of_day().map_or(z.timestamp(), |d| d.timestamp())),
        }
    }

    /// Picks the gauges' buckets from `points`, in whatever order Braze sent them. When a
    /// bucket appears twice, the later point wins (it is the one Braze computed last).
    pub fn latest(&self, points: &[Point], now: Timestamp) -> Latest {
        let delay = SignedDuration::try_from(self.delay).unwrap_or(SignedDuration::MAX);
        let mut latest = Latest::default();
        for point in points {
            let Some(end) = self.end(point.start) else {
                continue;
            };
            let bucket = Bucket {
                start: point.start,
                values: point.values.clone(),
            };
            let settled = end.checked_add(delay).is_ok_and(|t| t <= now);
            if settled {
                keep_newest(&mut latest.complete, bucket);
            } else if point.start <= now && now < end {
                keep_newest(&mut latest.in_progress, bucket);
            }
        }
        latest
    }
}

fn keep_newest(slot: &mut Option<Bucket>, bucket: Bucket) {
    if slot.as_ref().is_none_or(|kept| bucket.start >= kept.start) {
        *slot = Some(bucket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn point(start: &str, value: u64) -> Point {
        Point {
            start: at(start),
            values: Values::One(value as f64),
        }
    }

    fn hourly(delay_minutes: u64) -> BucketRules {
        BucketRules {
            unit: Unit::Hour,
            time_zone: TimeZone::UTC,
            delay: Duration::from_secs(delay_minutes * 60),
        }
    }

    #[test]
    fn latest_complete_hour_and_hour_in_progress() {
        let points = [
            point("2026-11-28T08:00:00Z", 80),
            point("2026-11-28T09:00:00Z", 90),
            point("2026-11-28T10:00:00Z", 12),
        ];
        let latest = hourly(0).latest(&points, at("2026-11-28T10:15:00Z"));
        assert_eq!(
            latest.complete,
            Some(Bucket {
                start: at("2026-11-28T09:00:00Z"),
                values: Values::One(90.0)
            })
        );
        assert_eq!(
            latest.in_progress,
            Some(Bucket {
                start: at("2026-11-28T10:00:00Z"),
                values: Values::One(12.0)
            })
        );
    }

    #[test]
    fn an_hour_is_complete_exactly_at_its_end_plus_delay() {
        let points = [
            point("2026-11-28T08:00:00Z", 80),
            point("2026-11-28T09:00:00Z", 90),
        ];
        let rules = hourly(20);
        // 10:19: the 09:00 hour ended but is still settling; 08:00 is the latest complete.
        let latest = rules.latest(&points, at("2026-11-28T10:19:59Z"));
        assert_eq!(latest.complete.unwrap().start, at("2026-11-28T08:00:00Z"));
        assert_eq!(
            latest.in_progress, None,
            "a settling hour is not in progress"
        );
        let latest = rules.latest(&points, at("2026-11-28T10:20:00Z"));
        assert_eq!(latest.complete.unwrap().start, at("2026-11-28T09:00:00Z"));
    }

    #[test]
    fn order_and_duplicates_do_not_matter_but_later_duplicate_wins() {
        let points = [
            point("2026-11-28T09:00:00Z", 90),
            point("2026-11-28T07:00:00Z", 70),
            point("2026-11-28T09:00:00Z", 95),
            point("2026-11-28T08:00:00Z", 80),
        ];
        let latest = hourly(0).latest(&points, at("2026-11-28T10:30:00Z"));
        assert_eq!(
            latest.complete,
            Some(Bucket {
                start: at("2026-11-28T09:00:00Z"),
                values: Values::One(95.0)
            })
        );
    }

    #[test]
    fn future_points_and_no_points_show_nothing() {
        let rules = hourly(0);
        assert_eq!(
            rules.latest(&[], at("2026-11-28T10:30:00Z")),
            Latest::default()
        );
        let future = [point("2026-11-28T12:00:00Z", 5)];
        assert_eq!(
            rules.latest(&future, at("2026-11-28T10:30:00Z")),
            Latest::default()
        );
    }

    #[test]
    fn half_hour_zone_hours_start_at_half_past_utc() {
        let rules = BucketRules {
            unit: Unit::Hour,
            time_zone: crate::time_zone::parse_time_zone("Asia/Kolkata").unwrap(),
            delay: Duration::ZERO,
        };
        let points = [
            point("2026-11-28T03:30:00Z", 40),
            point("2026-11-28T04:30:00Z", 4),
        ];
        let latest = rules.latest(&points, at("2026-11-28T05:00:00Z"));
        assert_eq!(latest.complete.unwrap().values.one().unwrap(), 40.0);
        assert_eq!(latest.in_progress.unwrap().values.one().unwrap(), 4.0);
    }

    #[test]
    fn days_follow_the_company_calendar_across_dst() {
        let rules = BucketRules {
            unit: Unit::Day,
            time_zone: crate::time_zone::parse_time_zone("America/New_York").unwrap(),
            delay: Duration::ZERO,
        };
        // 2026-03-08 is 23 hours long in New York: it starts 05:00Z and ends 04:00Z next day.
        let start = at("2026-03-08T05:00:00Z");
        assert_eq!(rules.end(start), Some(at("2026-03-09T04:00:00Z")));
        let points = [
            point("2026-03-08T05:00:00Z", 2400),
            point("2026-03-09T04:00:00Z", 100),
        ];
        let latest = rules.latest(&points, at("2026-03-09T04:00:00Z"));
        assert_eq!(latest.complete.unwrap().values.one().unwrap(), 2400.0);
        assert_eq!(latest.in_progress.unwrap().values.one().unwrap(), 100.0);
        let latest = rules.latest(&points, at("2026-03-09T03:59:59Z"));
        assert_eq!(latest.complete, None);
        assert_eq!(latest.in_progress.unwrap().values.one().unwrap(), 2400.0);
    }
}
