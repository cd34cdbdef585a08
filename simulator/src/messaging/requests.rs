//! What the messaging endpoints' requests may say, and the 400s for what they must not.
//!
//! Choices where Braze's pages are silent (beside those of [`crate::params`], which hold here
//! too: last value wins, unknown parameters ignored, values case-sensitive, an empty value is a
//! 400):
//! - The first invalid parameter is reported, in the order `length` (or `starting_at`),
//!   `ending_at`, the `include_*` flags, then the ids (`campaign_id`, `canvas_id`, `send_id`);
//!   for the lists `page`, `include_archived`, `sort_direction`, `last_edit.time[gt]`.
//! - An unknown `campaign_id` or `canvas_id` is a 400 naming it, as an unknown `app_id` is.
//!   An unknown `send_id` (or one of a campaign that is not an API campaign) is not an error:
//!   `/sends/data_series` answers no days for it, as for a send whose 14 days have passed.
//! - Booleans are `true` or `false`, nothing else.
//! - `/canvas/data_series`: `length` is documented as a string of 1 to 14; it is read as an
//!   integer (`7`), and anything else is a 400. `ending_at` is documented both as required and
//!   as defaulting to now: absent, it is now. Given both `length` and `starting_at`, `length`
//!   counts back from `ending_at` and `starting_at` is ignored. `starting_at` alone covers the
//!   local days from its own to `ending_at`'s, at most 14 of them, and must not be after
//!   `ending_at`.
//! - `last_edit.time[gt]` (documented as `yyyy-MM-DDTHH:mm:ss`) is read like `ending_at`: a
//!   time without an offset is the company time zone's wall clock. It keeps what was edited
//!   strictly after it. Clients percent-encode the brackets (`last_edit.time%5Bgt%5D`); the
//!   query string is decoded before it is read.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::counts::bucket_containing;
use crate::ending_at::parse_ending_at;
use crate::params::{self, ParamError, Query, SortDirection, LENGTH_RANGE};
use crate::Unit;

/// The largest `length` of `/canvas/data_series`.
pub(crate) const CANVAS_MAX_DAYS: i64 = 14;

/// A day series: how many local days, ending with the one containing `ending_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Days {
    pub(crate) length: u32,
    /// `None`: the series ends now.
    pub(crate) ending_at: Option<Timestamp>,
}

/// `length` (1–100) and `ending_at` of `/campaigns/data_series` and `/sends/data_series`.
pub(crate) fn days(query: &Query, time_zone: &TimeZone) -> Result<Days, ParamError> {
    let length = query
        .get("length")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| LENGTH_RANGE.contains(n))
        .ok_or(ParamError::Length)?;
    Ok(Days {
        length: length as u32,
        ending_at: ending_at(query, time_zone)?,
    })
}

/// `length` (1–14) or `starting_at`, and `ending_at`, of `/canvas/data_series`.
pub(crate) fn canvas_days(
    query: &Query,
    time_zone: &TimeZone,
    now: Timestamp,
) -> Result<Days, ParamError> {
    let length = match query.get("length") {
        Some(length) => Some(
            length
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=CANVAS_MAX_DAYS).contains(n))
                .ok_or(ParamError::CanvasLength)?,
        ),
        None => None,
    };
    let starting_at = match (length, query.get("starting_at")) {
        (None, None) => return Err(ParamError::LengthOrStartingAt),
        (None, Some(raw)) => Some(parse_ending_at(raw, time_zone).ok_or(ParamError::StartingAt)?),
        (Some(_), _) => None,
    };
    let ending_at = ending_at(query, time_zone)?;
    let length = match (length, starting_at) {
        (Some(length), _) => length,
        (None, Some(start)) => days_between(start, ending_at.unwrap_or(now), time_zone)
            .filter(|n| (1..=CANVAS_MAX_DAYS).contains(n))
            .ok_or(ParamError::StartingAt)?,
        (None, None) => unreachable!("one of length and starting_at is required above"),
    };
    Ok(Days {
        length: length as u32,
        ending_at,
    })
}

/// How many local days run from `start`'s to `end`'s, both included (0 or less when `start`
/// is later).
fn days_between(start: Timestamp, end: Timestamp, time_zone: &TimeZone) -> Option<i64> {
    let day = |t: Timestamp| {
        bucket_containing(t, time_zone, Unit::Day)
            .ok()
            .map(|z| z.date())
    };
    let span = day(start)?.until(day(end)?).ok()?;
    Some(i64::from(span.get_days()) + 1)
}

fn ending_at(query: &Query, time_zone: &TimeZone) -> Result<Option<Timestamp>, ParamError> {
    query
        .get("ending_at")
        .map(|raw| parse_ending_at(raw, time_zone).ok_or(ParamError::EndingAt))
        .transpose()
}

/// A boolean parameter: `false` when absent.
pub(crate) fn flag(query: &Query, name: &'static str) -> Result<bool, ParamError> {
    match query.get(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ParamError::Boolean(name)),
    }
}

/// A required id parameter's value.
pub(crate) fn required<'q>(query: &'q Query, name: &'static str) -> Result<&'q str, ParamError> {
    match query.get(name) {
        None | Some("") => Err(ParamError::Required(name)),
        Some(value) => Ok(value),
    }
}

/// What `/campaigns/list` and `/canvas/list` are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListRequest {
    pub(crate) page: u64,
    pub(crate) include_archived: bool,
    pub(crate) direction: SortDirection,
    /// Only what was edited after this.
    pub(crate) edited_after: Option<Timestamp>,
}

pub(crate) fn list_request(query: &Query, time_zone: &TimeZone) -> Result<ListRequest, ParamError> {
    Ok(ListRequest {
        page: params::page(query)?,
        include_archived: flag(query, "include_archived")?,
        direction: params::sort_direction(query)?,
        edited_after: query
            .get("last_edit.time[gt]")
            .map(|raw| parse_ending_at(raw, time_zone).ok_or(ParamError::LastEdit))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> Query {
        Query::parse(Some(q))
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn canvas_takes_length_up_to_14_or_starting_at() {
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let now = ts("2026-11-28T10:00:00Z");
        let days = |q: &str| canvas_days(&query(q), &kolkata, now);
        assert_eq!(days("length=14").unwrap().length, 14);
        for q in [
            "length=15",
            "length=0",
            "length=",
            "length=7.0",
            "length=%227%22",
        ] {
            assert_eq!(days(q), Err(ParamError::CanvasLength), "{q}");
        }
        assert_eq!(days(""), Err(ParamError::LengthOrStartingAt));
        assert_eq!(
            days("ending_at=2026-11-20"),
            Err(ParamError::LengthOrStartingAt)
        );
        // Local days in Kolkata: 2026-11-20 18:30Z is the 21st there.
        let from = days("starting_at=2026-11-20T18:30:00Z&ending_at=2026-11-27").unwrap();
        assert_eq!(from.length, 7);
        assert_eq!(from.ending_at, Some(ts("2026-11-26T18:30:00Z")));
        assert_eq!(days("starting_at=2026-11-28").unwrap().length, 1);
        assert_eq!(days("starting_at=2026-11-15").unwrap().length, 14);
        assert_eq!(days("starting_at=2026-11-14"), Err(ParamError::StartingAt));
        assert_eq!(days("starting_at=2026-11-29"), Err(ParamError::StartingAt));
        assert_eq!(days("starting_at=soon"), Err(ParamError::StartingAt));
        // length wins over starting_at; ending_at is still checked.
        assert_eq!(days("length=2&starting_at=junk").unwrap().length, 2);
        assert_eq!(days("length=2&ending_at=junk"), Err(ParamError::EndingAt));
    }

    #[test]
    fn lists_read_their_parameters() {
        let utc = TimeZone::UTC;
        let list = |q: &str| list_request(&query(q), &utc);
        assert_eq!(
            list("").unwrap(),
            ListRequest {
                page: 0,
                include_archived: false,
                direction: SortDirection::Asc,
                edited_after: None,
            }
        );
        let asked = list("page=2&include_archived=true&sort_direction=desc&last_edit.time%5Bgt%5D=2026-11-01T10:00:00").unwrap();
        assert_eq!(asked.page, 2);
        assert!(asked.include_archived);
        assert_eq!(asked.direction, SortDirection::Desc);
        assert_eq!(asked.edited_after, Some(ts("2026-11-01T10:00:00Z")));
        assert_eq!(
            list("include_archived=yes"),
            Err(ParamError::Boolean("include_archived"))
        );
        assert_eq!(
            list("last_edit.time[gt]=yesterday"),
            Err(ParamError::LastEdit)
        );
        assert_eq!(list("page=x&include_archived=yes"), Err(ParamError::Page));
    }

    #[test]
    fn ids_are_required_and_flags_boolean() {
        assert_eq!(
            required(&query("campaign_id="), "campaign_id"),
            Err(ParamError::Required("campaign_id"))
        );
        assert_eq!(required(&query("campaign_id=c"), "campaign_id"), Ok("c"));
        assert_eq!(flag(&query("f=TRUE"), "f"), Err(ParamError::Boolean("f")));
        assert_eq!(flag(&query("f=true"), "f"), Ok(true));
        assert_eq!(
            days(&query("length=101"), &TimeZone::UTC),
            Err(ParamError::Length)
        );
    }
}
