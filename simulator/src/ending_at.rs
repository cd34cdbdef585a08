//! Reading `ending_at` as Braze's reference page describes it, written for the simulator alone.
//!
//! The page says "DateTime (ISO-8601 string)" and gives `2018-06-28T23:59:59-5:00` as its
//! example (an offset hour without its zero); Braze's other pages use dates (`2022-09-01`).
//! This reading is deliberately separate from the exporter's parser of `time` values: the
//! simulator checks the client, so a mistake there must not be mirrored here.
//!
//! Accepted: `YYYY-MM-DD`; `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z`, `±H:MM`,
//! `±HH:MM`, `±HHMM`, `±HH`, or nothing (the company time zone's wall clock, where a time skipped
//! by DST moves forward and a repeated one takes the earlier instant). A date alone is the
//! midnight that starts that day in the company time zone. Anything else is a 400.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// The instant `raw` names, or `None` when Braze would answer 400.
pub(crate) fn parse_ending_at(raw: &str, time_zone: &TimeZone) -> Option<Timestamp> {
    match raw.split_once('T') {
        None => {
            let midnight = calendar_date(raw)?.to_datetime(Time::midnight());
            wall_clock(midnight, time_zone)
        }
        Some((date, rest)) => {
            let (time, zone) = split_zone(rest)?;
            let local = calendar_date(date)?.to_datetime(time_of_day(time)?);
            match zone {
                Some(offset) => offset.to_timestamp(local).ok(),
                None => wall_clock(local, time_zone),
            }
        }
    }
}

/// `YYYY-MM-DD`, exactly.
fn calendar_date(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            Date::new(number(y)?, number(m)?, number(d)?).ok()
        }
        _ => None,
    }
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction`.
fn time_of_day(text: &str) -> Option<Time> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let parts: Vec<&str> = whole.split(':').collect();
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] if fraction.is_none() => (*h, *m, "00"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if [hour, minute, second].iter().any(|p| p.len() != 2) {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if (1..=9).contains(&f.len()) => number::<i32>(&format!("{f:0<9}"))?,
        Some(_) => return None,
    };
    Time::new(number(hour)?, number(minute)?, number(second)?, nanos).ok()
}

/// Splits the clock time from its zone designator: `Some(offset)` for `Z` or `±…`, `None` for
/// none. `Err`-like `None` overall when the designator is malformed.
fn split_zone(text: &str) -> Option<(&str, Option<Offset>)> {
    if let Some(time) = text.strip_suffix('Z') {
        return Some((time, Some(Offset::UTC)));
    }
    match text.find(['+', '-']) {
        None => Some((text, None)),
        Some(at) => Some((&text[..at], Some(offset(&text[at..])?))),
    }
}

/// `±H:MM`, `±HH:MM`, `±HHMM` or `±HH`, at most 18 hours.
fn offset(text: &str) -> Option<Offset> {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits = &text[1..];
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 => (h, m),
        Some(_) => return None,
        None if digits.len() == 4 => digits.split_at(2),
        None if digits.len() == 2 => (digits, "00"),
        None => return None,
    };
    let (hours, minutes): (i32, i32) = (number(hours)?, number(minutes)?);
    if hours > 18 || minutes > 59 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// A wall-clock time in the company time zone.
fn wall_clock(local: DateTime, time_zone: &TimeZone) -> Option<Timestamp> {
    time_zone.to_ambiguous_timestamp(local).compatible().ok()
}

/// ASCII digits only (no sign, no spaces), as a number.
fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
