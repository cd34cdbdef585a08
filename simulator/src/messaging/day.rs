//! One local day as seen at an instant: what a number of that day reports before it is final.
//!
//! The day in progress reports `full × elapsed / duration` for counts. Revenue and every
//! `conversions*` are **restated**, as attributed conversions keep arriving after the day ends
//! (Braze documents neither): they report 70% of that while the day is in progress, 70% at its
//! end, and grow linearly to their full value [`RESTATEMENT`] after it.

use jiff::{SignedDuration, Timestamp, Zoned};

use super::Activity;
use crate::counts::{bucket_containing, bucket_end, day_number};
use crate::Unit;

/// How long after a day ends its revenue and conversions keep growing.
pub const RESTATEMENT: SignedDuration = SignedDuration::from_hours(72);

/// Share of a restated number reported when its day ends, in thousandths.
const RESTATED_AT_END_PER_MILLE: i128 = 700;

/// A local day, and the instant it is seen at.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) start: Zoned,
    end: Timestamp,
    /// Days since 1970-01-01 of the local date.
    pub(super) number: i64,
    pub(super) now: Timestamp,
}

impl Seen {
    /// The local day containing `day`, in its time zone.
    pub(crate) fn new(day: &Zoned, now: Timestamp) -> Result<Self, jiff::Error> {
        let start = bucket_containing(day.timestamp(), day.time_zone(), Unit::Day)?;
        let end = bucket_end(&start, Unit::Day)?.timestamp();
        let number = day_number(&start)?;
        Ok(Self {
            start,
            end,
            number,
            now,
        })
    }

    /// A day that overlaps `[since, until)`.
    pub(super) fn overlaps(&self, since: Timestamp, until: Option<Timestamp>) -> bool {
        self.end > since && until.is_none_or(|until| self.start.timestamp() < until)
    }

    pub(super) fn active(&self, activity: Activity) -> bool {
        match activity {
            Activity::Never => false,
            Activity::Ongoing { since } => self.overlaps(since, None),
            Activity::Ended { since, until } => self.overlaps(since, Some(until)),
        }
    }

    /// `full` as reported at `now`: restated numbers grow after the day ends, counts do not.
    pub(super) fn reported(&self, field: &str, full: u64) -> u64 {
        let start = self.start.timestamp();
        if self.now <= start {
            return 0;
        }
        let full = i128::from(full);
        let value = if self.now < self.end {
            let elapsed = self.now.duration_since(start).as_nanos();
            let duration = self.end.duration_since(start).as_nanos();
            let share = if restated(field) {
                RESTATED_AT_END_PER_MILLE
            } else {
                1_000
            };
            full * share * elapsed / (duration * 1_000)
        } else if restated(field) {
            let age = self
                .now
                .duration_since(self.end)
                .min(RESTATEMENT)
                .as_nanos();
            let settled = RESTATED_AT_END_PER_MILLE * RESTATEMENT.as_nanos()
                + (1_000 - RESTATED_AT_END_PER_MILLE) * age;
            full * settled / (1_000 * RESTATEMENT.as_nanos())
        } else {
            full
        };
        u64::try_from(value).unwrap_or(0)
    }
}

/// Revenue and conversions keep being attributed after their day.
pub(super) fn restated(field: &str) -> bool {
    field == "revenue" || field.starts_with("conversions")
}
