//! Braze's times (`data[].time`) and the `ending_at` the client writes, which must read back.

use std::sync::OnceLock;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::assert_one_line;
use crate::braze::time::{format_ending_at, parse_time};
use crate::time_zone::parse_time_zone;

/// Company time zones as users configure them: names with and without daylight saving time,
/// half- and quarter-hour offsets, a 30-minute DST shift, fixed offsets.
const TIME_ZONES: [&str; 8] = [
    "UTC",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/Santiago",
    "+05:30",
    "-5:00",
];

fn time_zones() -> &'static [TimeZone] {
    static ZONES: OnceLock<Vec<TimeZone>> = OnceLock::new();
    ZONES.get_or_init(|| {
        TIME_ZONES
            .iter()
            .map(|name| parse_time_zone(name).expect("a time zone the exporter accepts"))
            .collect()
    })
}

/// The first byte picks the company time zone; the rest is a time as Braze might write it.
/// Its first 8 bytes are also an instant (seconds), whose `ending_at` must read back.
pub fn braze_time(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let zones = time_zones();
    let time_zone = &zones[usize::from(pick) % zones.len()];
    check_time(&String::from_utf8_lossy(rest), time_zone);
    if let Some(bytes) = rest.first_chunk::<8>() {
        check_ending_at(instant(i64::from_le_bytes(*bytes)), time_zone);
    }
}

/// An instant from 1970 to 9998: before 1970 zones had local mean times offset by seconds
/// (New York's -04:56:02), which no Braze time carries, and after 9998 a civil time in some
/// zone is past jiff's range.
fn instant(seed: i64) -> Timestamp {
    const FIRST: i64 = 0;
    const LAST: i64 = 253_370_764_800; // 9998-12-31
    let seconds = FIRST + seed.rem_euclid(LAST - FIRST);
    Timestamp::from_second(seconds).expect("within jiff's range")
}

/// A time reads as jiff reads it where the text fixes the instant (an RFC 3339 time with its
/// offset); any other outcome is an error that quotes the text.
fn check_time(text: &str, time_zone: &TimeZone) {
    match parse_time(text, time_zone) {
        Ok(instant) => {
            if let Ok(expected) = text.trim().parse::<Timestamp>() {
                assert_eq!(instant, expected, "{text:?} read as {instant}");
            }
        }
        Err(why) => {
            assert_one_line("a Braze time", &why);
            let quoted = format!("{:?}", text.trim());
            let start: String = quoted.chars().take(16).collect();
            assert!(why.contains(&start), "{why:?} does not quote {quoted}");
        }
    }
}

/// `ending_at` names the instant it was made from, in any time zone.
fn check_ending_at(second: Timestamp, time_zone: &TimeZone) {
    let written = format_ending_at(second, time_zone);
    for reader in [&TimeZone::UTC, time_zone] {
        let read = parse_time(&written, reader)
            .unwrap_or_else(|why| panic!("ending_at {written:?} of {second} does not read: {why}"));
        assert_eq!(read, second, "ending_at {written:?} reads as {read}");
    }
}
