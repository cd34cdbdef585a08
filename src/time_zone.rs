//! The company time zone as users and Braze write it: an IANA name, `UTC`, or a fixed offset.
//!
//! One parser for both: the configuration's `braze.time_zone` and the offsets in Braze's times
//! (read by the client in `braze::time`).

use jiff::tz::{Offset, TimeZone};

/// An IANA name (`America/New_York`), `UTC`/`Z`, or a fixed offset (`+05:30`, `-0500`, `+5`).
pub fn parse_time_zone(text: &str) -> Result<TimeZone, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok(TimeZone::UTC);
    }
    if text.starts_with(['+', '-']) {
        return parse_offset(text)
            .map(TimeZone::fixed)
            .ok_or_else(|| format!("{text:?} is not an offset like +05:30 or -05:00"));
    }
    TimeZone::get(text).map_err(|_| {
        format!("unknown time zone {text:?}: give an IANA name like America/New_York or an offset like +05:30")
    })
}

/// `+05:30`, `+0530`, `-5:00` (Braze's own unpadded example), `+05`: hours up to 18, minutes
/// under 60. A lone `+5` is not ISO 8601 and is refused.
pub fn parse_offset(text: &str) -> Option<Offset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    // Lengths below count bytes: anything but ASCII is no offset (and not split inside a char).
    if !rest.is_ascii() {
        return None;
    }
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None if rest.len() == 2 => (rest, "0"),
        None => return None,
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 18 || minutes >= 60 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the braze_time fuzz target: a four-byte offset whose second character is not
    /// ASCII was split inside that character, a panic on a time in Braze's answer
    /// (`2026-11-28T10:00:00+Tϥ0`) or on `braze.time_zone`.
    #[test]
    fn offsets_with_other_than_ascii_digits_are_refused() {
        for bad in ["+Tϥ0", "+aϥ", "-ϥ00", "+0ϥ", "+é5"] {
            assert_eq!(parse_offset(bad), None, "{bad}");
            assert!(parse_time_zone(bad).is_err(), "{bad}");
        }
        let utc = TimeZone::UTC;
        assert!(crate::braze::time::parse_time("2026-11-28T10:00:00+Tϥ0", &utc).is_err());
        assert_eq!(parse_offset("+0530"), Offset::from_seconds(19_800).ok());
    }
}
