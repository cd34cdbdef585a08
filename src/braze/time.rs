//! Reading the `time` of a Braze data point, and writing `ending_at`.
//!
//! Braze documents hourly times as "ISO 8601 extended" and daily ones as ISO 8601 dates, but not
//! whether hourly times carry an offset. So every form is accepted: an offset (even Braze's own
//! unpadded `-5:00`), `Z`, or none, in which case the time is read in the company time zone;
//! a date is that day's first instant in the company time zone.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::time_zone::parse_offset;

/// The instant a point's bucket starts.
pub fn parse_time(text: &str, time_zone: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    let has_time = text.contains(['T', 't', ' ']);
    if !has_time {
        let date: Date = text
            .parse()
            .map_err(|_| format!("{} is not an ISO 8601 date or date-time", quoted(text)))?;
        return date
            .to_zoned(time_zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| {
                format!(
                    "date {} has no midnight in the company time zone: {e}",
                    quoted(text)
                )
            });
    }
    let (local, offset) = split_offset(text);
    let datetime: DateTime = local
        .replacen(' ', "T", 1)
        .parse()
        .map_err(|_| format!("{} is not an ISO 8601 date or date-time", quoted(text)))?;
    match offset {
        None => time_zone
            .to_ambiguous_zoned(datetime)
            .compatible()
            .map(|z| z.timestamp())
            .map_err(|e| {
                format!(
                    "{} does not exist in the company time zone: {e}",
                    quoted(text)
                )
            }),
        Some(offset) => {
            let offset = parse_offset(offset)
                .ok_or_else(|| format!("{} has an invalid offset", quoted(text)))?;
            offset
                .to_timestamp(datetime)
                .map_err(|e| format!("{} is out of range: {e}", quoted(text)))
        }
    }
}

/// `text` quoted for an error, its first [`QUOTED_CHARS`] characters at most: a time in an
/// answer of a megabyte must not make a log line of one.
fn quoted(text: &str) -> String {
    /// A Braze time is 25 to 29 characters.
    const QUOTED_CHARS: usize = 40;
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &text[..cut])),
        None => format!("{text:?}"),
    }
}

/// `ending_at` as Braze's reference writes it: the wall clock of the company time zone with
/// its offset, to the second (`2018-06-28T23:59:59-05:00`).
pub fn format_ending_at(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned(time_zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Splits a date-time into its local part and its offset (`Z` is `+00:00`), if any.
fn split_offset(text: &str) -> (&str, Option<&str>) {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return (local, Some("+00:00"));
    }
    // An offset sign can only come after the time's 'T' (dates use '-' too).
    let time_start = text.find(['T', 't', ' ']).map_or(text.len(), |i| i + 1);
    match text[time_start..].rfind(['+', '-']) {
        Some(i) => (&text[..time_start + i], Some(&text[time_start + i..])),
        None => (text, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        crate::time_zone::parse_time_zone(name).unwrap()
    }

    #[test]
    fn hourly_with_offset_z_or_none() {
        let utc = TimeZone::UTC;
        assert_eq!(
            parse_time("2026-11-28T10:00:00+05:30", &utc).unwrap(),
            at("2026-11-28T04:30:00Z")
        );
        assert_eq!(
            parse_time("2026-11-28T10:00:00Z", &tz("+05:30")).unwrap(),
            at("2026-11-28T10:00:00Z")
        );
        assert_eq!(
            parse_time("2026-11-28T10:00:00", &tz("+05:30")).unwrap(),
            at("2026-11-28T04:30:00Z")
        );
        assert_eq!(
            parse_time("2026-11-28T10:00:00", &tz("Asia/Kolkata")).unwrap(),
            at("2026-11-28T04:30:00Z")
        );
        assert_eq!(
            parse_time("2026-11-28T10:00:00.000-05:00", &utc).unwrap(),
            at("2026-11-28T15:00:00Z")
        );
        assert_eq!(
            parse_time("2018-06-28T23:59:59-5:00", &utc).unwrap(),
            at("2018-06-29T04:59:59Z")
        );
        assert_eq!(
            parse_time("2026-11-28 10:00:00", &utc).unwrap(),
            at("2026-11-28T10:00:00Z")
        );
        assert_eq!(
            parse_time("2026-11-28T10:00", &utc).unwrap(),
            at("2026-11-28T10:00:00Z")
        );
    }

    #[test]
    fn dates_are_midnight_in_the_company_time_zone() {
        assert_eq!(
            parse_time("2022-09-01", &TimeZone::UTC).unwrap(),
            at("2022-09-01T00:00:00Z")
        );
        assert_eq!(
            parse_time("2022-09-01", &tz("America/New_York")).unwrap(),
            at("2022-09-01T04:00:00Z")
        );
        assert_eq!(
            parse_time("2022-09-01", &tz("+05:30")).unwrap(),
            at("2022-08-31T18:30:00Z")
        );
    }

    #[test]
    fn naive_times_in_a_dst_gap_resolve_forward() {
        // 02:30 does not exist on 2026-03-08 in New York; "compatible" moves it to 03:30 EDT.
        let t = parse_time("2026-03-08T02:30:00", &tz("America/New_York")).unwrap();
        assert_eq!(t, at("2026-03-08T07:30:00Z"));
    }

    #[test]
    fn ending_at_carries_the_company_offset_and_reads_back() {
        let t = at("2026-11-28T18:29:59Z");
        let kolkata = tz("Asia/Kolkata");
        assert_eq!(format_ending_at(t, &kolkata), "2026-11-28T23:59:59+05:30");
        assert_eq!(
            format_ending_at(t, &tz("America/New_York")),
            "2026-11-28T13:29:59-05:00"
        );
        assert_eq!(
            format_ending_at(t, &TimeZone::UTC),
            "2026-11-28T18:29:59+00:00"
        );
        assert_eq!(
            parse_time(&format_ending_at(t, &kolkata), &TimeZone::UTC).unwrap(),
            t
        );
    }

    /// Found by the braze_time fuzz target: the error quoted the whole text, so a time of a
    /// megabyte in Braze's answer made a log line of a megabyte.
    #[test]
    fn a_long_time_is_quoted_in_part() {
        let long = format!("2026-11-28T{}", "\u{1a}".repeat(5000));
        let err = parse_time(&long, &TimeZone::UTC).unwrap_err();
        assert!(
            err.chars().count() < 300,
            "{} characters",
            err.chars().count()
        );
        assert!(err.starts_with("\"2026-11-28T\\u{1a}"), "{err}");
        assert!(
            err.ends_with("…\" is not an ISO 8601 date or date-time"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error_that_quotes_it() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-28T25:00:00",
            "2026-11-28T10:00:00+99:00",
            "12345",
        ] {
            let err = parse_time(bad, &TimeZone::UTC).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}
