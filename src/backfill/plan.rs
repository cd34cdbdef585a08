//! What a scrape at each instant of the range would have shown, and which buckets that needs.
//!
//! The live exporter shows the latest complete bucket: the bucket `B` with
//! `end(B) + delay <= now` that ends last (see [`crate::buckets`]). So a scrape at `t` shows the
//! bucket just before the one containing `t - delay`, from `end(B) + delay` until the next
//! bucket completes. Buckets are hours and days of the company time zone: an hour starts on a
//! local hour (at :30 UTC in Asia/Kolkata), a day at local midnight (23 or 25 hours long across
//! a DST change).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::buckets::BucketRules;
use crate::series::Unit;

/// Braze's largest `length` of most endpoints: buckets per request (Canvases allow 14:
/// [`crate::series::Export::max_length`]).
#[cfg(test)]
pub const MAX_LENGTH: u32 = 100;

/// The instants at which samples are written: every multiple of `step` (in Unix seconds)
/// within `[start, end]`, so the same range always gives the same instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub step: Duration,
}

impl Window {
    pub fn instants(&self) -> impl Iterator<Item = Timestamp> {
        let step = self.step.as_secs().max(1) as i64;
        let first = self.start.as_second().div_euclid(step) * step;
        let first = if first < self.start.as_second() {
            first + step
        } else {
            first
        };
        let last = self.end.as_second();
        (first..=last)
            .step_by(step as usize)
            .filter_map(|s| Timestamp::from_second(s).ok())
    }
}

/// One request for a page of history: `length` buckets ending with the one containing
/// `ending_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub ending_at: Timestamp,
    pub length: u32,
}

/// The samples of every series that share one schedule (unit and delay).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplePlan {
    /// Each sample instant with the start of the bucket a scrape then showed, oldest first.
    pub samples: Vec<(Timestamp, Timestamp)>,
    /// Every bucket from the first shown to the last, oldest first.
    pub buckets: Vec<Timestamp>,
    /// The requests that cover [`SamplePlan::buckets`], at most the endpoint's largest
    /// `length` of buckets each.
    pub pages: Vec<Page>,
}

impl SamplePlan {
    /// `max_length`: the most buckets the endpoint answers in one request.
    pub fn new(rules: &BucketRules, window: &Window, max_length: u32) -> Self {
        let samples: Vec<(Timestamp, Timestamp)> = window
            .instants()
            .filter_map(|t| Some((t, shown_at(rules, t)?)))
            .collect();
        let buckets = match (samples.first(), samples.last()) {
            (Some((_, first)), Some((_, last))) => buckets_between(rules, *first, *last),
            _ => Vec::new(),
        };
        let pages = pages(rules, &buckets, max_length);
        Self {
            samples,
            buckets,
            pages,
        }
    }
}

/// The start of the bucket that contains `t`.
pub fn containing(rules: &BucketRules, t: Timestamp) -> Option<Timestamp> {
    let zoned = t.to_zoned(rules.time_zone.clone());
    match rules.unit {
        Unit::Hour => {
            let offset = i64::from(zoned.offset().seconds());
            let local = t.as_second() + offset;
            Timestamp::from_second(local - local.rem_euclid(3600) - offset).ok()
        }
        Unit::Day => zoned.start_of_day().ok().map(|z| z.timestamp()),
    }
}

/// The start of the bucket before the one that starts at `start`.
fn previous(rules: &BucketRules, start: Timestamp) -> Option<Timestamp> {
    containing(rules, start.checked_sub(SignedDuration::from_secs(1)).ok()?)
}

/// The bucket a scrape at `t` shows: the latest complete one.
pub fn shown_at(rules: &BucketRules, t: Timestamp) -> Option<Timestamp> {
    let delay = SignedDuration::try_from(rules.delay).ok()?;
    previous(rules, containing(rules, t.checked_sub(delay).ok()?)?)
}

/// Every bucket from `first` to `last`, both included.
fn buckets_between(rules: &BucketRules, first: Timestamp, last: Timestamp) -> Vec<Timestamp> {
    let mut buckets = Vec::new();
    let mut start = first;
    while start <= last {
        buckets.push(start);
        match rules.end(start) {
            Some(next) if next > start => start = next,
            _ => break,
        }
    }
    buckets
}

/// Pages of at most `max_length` buckets, oldest first; each asks for the buckets that end
/// with the one containing the second before its last bucket ends (as Braze's own example,
/// `23:59:59`, is inside the day it names).
fn pages(rules: &BucketRules, buckets: &[Timestamp], max_length: u32) -> Vec<Page> {
    buckets
        .chunks(max_length.max(1) as usize)
        .filter_map(|chunk| {
            let last = *chunk.last()?;
            let end = rules.end(last)?;
            Some(Page {
                ending_at: end.checked_sub(SignedDuration::from_secs(1)).ok()?,
                length: chunk.len() as u32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time_zone::parse_time_zone;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn rules(unit: Unit, zone: &str, delay_minutes: u64) -> BucketRules {
        BucketRules {
            unit,
            time_zone: parse_time_zone(zone).unwrap(),
            delay: Duration::from_secs(delay_minutes * 60),
        }
    }

    #[test]
    fn a_scrape_shows_the_latest_hour_complete_after_the_delay() {
        let r = rules(Unit::Hour, "UTC", 20);
        assert_eq!(
            shown_at(&r, at("2026-11-28T10:19:59Z")),
            Some(at("2026-11-28T08:00:00Z"))
        );
        assert_eq!(
            shown_at(&r, at("2026-11-28T10:20:00Z")),
            Some(at("2026-11-28T09:00:00Z"))
        );
        assert_eq!(
            shown_at(&rules(Unit::Hour, "UTC", 0), at("2026-11-28T10:00:00Z")),
            Some(at("2026-11-28T09:00:00Z"))
        );
    }

    #[test]
    fn agrees_with_what_the_live_exporter_picks() {
        // For every minute of two days, the plan's bucket is the one `BucketRules::latest`
        // picks from a full answer, in a whole-hour, a half-hour and a DST zone.
        for zone in ["UTC", "Asia/Kolkata", "America/New_York"] {
            for unit in [Unit::Hour, Unit::Day] {
                let r = rules(unit, zone, 25);
                let from = at("2026-03-07T00:00:00Z");
                let window = Window {
                    start: from,
                    end: at("2026-03-10T00:00:00Z"),
                    step: Duration::from_secs(60),
                };
                let plan = SamplePlan::new(&r, &window, MAX_LENGTH);
                let points: Vec<crate::braze::Point> = plan
                    .buckets
                    .iter()
                    .map(|b| crate::braze::Point {
                        start: *b,
                        values: crate::samples::Values::One(b.as_second() as f64),
                    })
                    .collect();
                for (t, shown) in &plan.samples {
                    let latest = r.latest(&points, *t).complete.map(|b| b.start);
                    assert_eq!(latest, Some(*shown), "{zone} {unit} at {t}");
                }
            }
        }
    }

    #[test]
    fn half_hour_zone_hours_change_at_half_past_utc() {
        let r = rules(Unit::Hour, "Asia/Kolkata", 0);
        assert_eq!(
            shown_at(&r, at("2026-11-28T05:29:59Z")),
            Some(at("2026-11-28T03:30:00Z"))
        );
        assert_eq!(
            shown_at(&r, at("2026-11-28T05:30:00Z")),
            Some(at("2026-11-28T04:30:00Z"))
        );
        let day = rules(Unit::Day, "Asia/Kolkata", 0);
        // 2026-11-28 in Kolkata starts at 2026-11-27T18:30Z and is shown from the next midnight.
        assert_eq!(
            shown_at(&day, at("2026-11-28T18:30:00Z")),
            Some(at("2026-11-27T18:30:00Z"))
        );
    }

    #[test]
    fn days_across_dst_are_23_and_25_hours() {
        let r = rules(Unit::Day, "America/New_York", 0);
        let window = Window {
            start: at("2026-03-08T00:00:00Z"),
            end: at("2026-03-11T00:00:00Z"),
            step: Duration::from_secs(3600),
        };
        let plan = SamplePlan::new(&r, &window, MAX_LENGTH);
        // 00:00Z is 19:00 on 03-07 in New York, which shows 03-06; then 03-07 (EST, 24 h),
        // 03-08 (23 h) and 03-09 (EDT).
        assert_eq!(
            plan.buckets,
            [
                at("2026-03-06T05:00:00Z"),
                at("2026-03-07T05:00:00Z"),
                at("2026-03-08T05:00:00Z"),
                at("2026-03-09T04:00:00Z"),
            ]
        );
        let shows = |t: &str| {
            plan.samples
                .iter()
                .find(|(s, _)| *s == at(t))
                .map(|(_, b)| *b)
        };
        // The 23-hour day is shown from the midnight that ends it, 04:00Z.
        assert_eq!(
            shows("2026-03-09T03:00:00Z"),
            Some(at("2026-03-07T05:00:00Z"))
        );
        assert_eq!(
            shows("2026-03-09T04:00:00Z"),
            Some(at("2026-03-08T05:00:00Z"))
        );
        let fall = rules(Unit::Day, "America/New_York", 0);
        let start = at("2026-11-01T04:00:00Z"); // 25 hours long
        assert_eq!(fall.end(start), Some(at("2026-11-02T05:00:00Z")));
        assert_eq!(
            shown_at(&fall, at("2026-11-02T04:59:59Z")),
            Some(at("2026-10-31T04:00:00Z"))
        );
        assert_eq!(shown_at(&fall, at("2026-11-02T05:00:00Z")), Some(start));
    }

    #[test]
    fn hours_across_the_repeated_hour_are_distinct() {
        let r = rules(Unit::Hour, "America/New_York", 0);
        // 01:00-02:00 happens twice on 2026-11-01: 05:00Z (EDT) and 06:00Z (EST).
        assert_eq!(
            containing(&r, at("2026-11-01T05:30:00Z")),
            Some(at("2026-11-01T05:00:00Z"))
        );
        assert_eq!(
            containing(&r, at("2026-11-01T06:30:00Z")),
            Some(at("2026-11-01T06:00:00Z"))
        );
    }

    #[test]
    fn pages_hold_at_most_100_buckets_and_end_inside_their_last() {
        let r = rules(Unit::Hour, "Asia/Kolkata", 0);
        let window = Window {
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-11-11T00:00:00Z"),
            step: Duration::from_secs(60),
        };
        let plan = SamplePlan::new(&r, &window, MAX_LENGTH);
        assert_eq!(plan.buckets.len(), 241);
        assert_eq!(
            plan.pages.iter().map(|p| p.length).collect::<Vec<_>>(),
            [100, 100, 41]
        );
        let last = *plan.buckets.last().unwrap();
        assert_eq!(
            plan.pages[2].ending_at,
            last + SignedDuration::from_secs(3599)
        );
        assert_eq!(
            containing(&r, plan.pages[0].ending_at),
            Some(plan.buckets[99])
        );
    }

    #[test]
    fn instants_are_multiples_of_the_step_within_the_range() {
        let window = Window {
            start: at("2026-11-28T10:00:30Z"),
            end: at("2026-11-28T10:03:00Z"),
            step: Duration::from_secs(60),
        };
        let instants: Vec<String> = window.instants().map(|t| t.to_string()).collect();
        assert_eq!(
            instants,
            [
                "2026-11-28T10:01:00Z",
                "2026-11-28T10:02:00Z",
                "2026-11-28T10:03:00Z"
            ]
        );
    }
}
