//! Durations as Prometheus users write them: `30s`, `5m`, `1h30m`, `1d`, `1w`, `500ms`, `0`.
//!
//! One parser for every duration field. Integers only, units largest first, each at most once,
//! lower case. Years and months are refused (no field needs them, and `5M` reading as five
//! months surprises everyone); so is anything past [`DurationRange::max`] of its field. The
//! long spellings an earlier version accepted (`5min`, `2 hours`, `1h 30m`) still parse.
//! Nothing here panics, whatever the input: every sum is checked.

use std::fmt;
use std::time::Duration;

/// The inclusive range a duration field accepts, documented in the README's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
}

impl DurationRange {
    pub const fn new(min: Duration, max: Duration) -> Self {
        Self { min, max }
    }

    /// Parses `text` and checks it against the range; the error quotes `text`.
    pub fn parse(&self, text: &str) -> Result<Duration, String> {
        let value = parse(text)?;
        if value < self.min || value > self.max {
            return Err(format!("{self}, got {text:?}"));
        }
        Ok(value)
    }
}

/// "must be at least 1s and at most 1w"; a minimum of 1ms reads "longer than 0s".
impl fmt::Display for DurationRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min.is_zero() {
            write!(f, "must be at most {}", Pretty(self.max))
        } else if self.min == Duration::from_millis(1) {
            write!(f, "must be longer than 0s and at most {}", Pretty(self.max))
        } else {
            write!(
                f,
                "must be at least {} and at most {}",
                Pretty(self.min),
                Pretty(self.max)
            )
        }
    }
}

/// A unit: its canonical name, what else it may be written as, and its length in ms.
struct Unit {
    name: &'static str,
    aliases: &'static [&'static str],
    millis: u64,
}

const MS_PER_DAY: u64 = 86_400_000;

/// Largest first: components must come in this order.
const UNITS: [Unit; 6] = [
    Unit {
        name: "w",
        aliases: &["week", "weeks"],
        millis: 7 * MS_PER_DAY,
    },
    Unit {
        name: "d",
        aliases: &["day", "days"],
        millis: MS_PER_DAY,
    },
    Unit {
        name: "h",
        aliases: &["hr", "hrs", "hour", "hours"],
        millis: 3_600_000,
    },
    Unit {
        name: "m",
        aliases: &["min", "mins", "minute", "minutes"],
        millis: 60_000,
    },
    Unit {
        name: "s",
        aliases: &["sec", "secs", "second", "seconds"],
        millis: 1_000,
    },
    Unit {
        name: "ms",
        aliases: &["msec", "msecs", "millisecond", "milliseconds"],
        millis: 1,
    },
];

const SYNTAX: &str = "write a duration like 30s, 5m, 1h30m or 1d (units ms, s, m, h, d, w)";

/// Parses a duration without a range; the error quotes `text` and never panics.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| Err(format!("{why} in {text:?}: {SYNTAX}"));
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("is empty: {SYNTAX}"));
    }
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = trimmed;
    let mut total: u64 = 0;
    // Index in UNITS of the last unit seen: the next must be smaller.
    let mut last: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return bad(match rest.as_bytes()[0] {
                b'-' => "a negative duration",
                b'.' | b',' => "a fraction (whole numbers only: 1m30s, not 1.5m)",
                _ => "a number is missing",
            });
        }
        let (number, after) = rest.split_at(digits);
        let after = after.trim_start();
        let letters = after
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let (unit, after) = after.split_at(letters);
        if unit.is_empty() {
            return bad(match after.as_bytes().first() {
                Some(b'.' | b',') => "a fraction (whole numbers only: 1m30s, not 1.5m)",
                _ => "a unit is missing",
            });
        }
        let Some(index) = UNITS
            .iter()
            .position(|u| u.name == unit || u.aliases.contains(&unit))
        else {
            return bad(&unknown_unit(unit));
        };
        if last.is_some_and(|l| index <= l) {
            return bad("units out of order or repeated (largest first, each once: 1h30m)");
        }
        last = Some(index);
        let amount = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(UNITS[index].millis))
            .and_then(|ms| total.checked_add(ms));
        total = match amount {
            Some(total) => total,
            None => return bad("too large a duration"),
        };
        rest = after.trim_start();
    }
    Ok(Duration::from_millis(total))
}

fn unknown_unit(unit: &str) -> String {
    let lower = unit.to_ascii_lowercase();
    if matches!(lower.as_str(), "y" | "yr" | "yrs" | "year" | "years") {
        return format!("unit {unit:?} (years) is not accepted");
    }
    if unit == "M" || lower.starts_with("month") {
        return format!("unit {unit:?} (months) is not accepted; minutes are m");
    }
    if UNITS
        .iter()
        .any(|u| u.name == lower || u.aliases.contains(&lower.as_str()))
    {
        return format!("unit {unit:?} is not lower case");
    }
    format!("unknown unit {unit:?}")
}

/// A duration in the syntax [`parse`] reads, largest unit first: `1h30m`, `500ms`, `0s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pretty(pub Duration);

impl fmt::Display for Pretty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut millis = self.0.as_millis();
        if millis == 0 {
            return f.write_str("0s");
        }
        for unit in &UNITS {
            let size = u128::from(unit.millis);
            if millis >= size {
                write!(f, "{}{}", millis / size, unit.name)?;
                millis %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    fn ms(text: &str) -> u64 {
        parse(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .as_millis() as u64
    }

    #[test]
    fn reads_what_prometheus_users_write() {
        assert_eq!(ms("30s"), 30 * S);
        assert_eq!(ms("5m"), 300 * S);
        assert_eq!(ms("1h30m"), 5400 * S);
        assert_eq!(ms("1d"), 86_400 * S);
        assert_eq!(ms("1w"), 7 * 86_400 * S);
        assert_eq!(ms("500ms"), 500);
        assert_eq!(ms("1m30s500ms"), 90 * S + 500);
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms(" 10s "), 10 * S);
    }

    #[test]
    fn still_reads_the_long_spellings_accepted_before() {
        assert_eq!(ms("5min"), 300 * S);
        assert_eq!(ms("2 hours"), 7200 * S);
        assert_eq!(ms("1h 30m"), 5400 * S);
        assert_eq!(ms("10sec"), 10 * S);
        assert_eq!(ms("1day"), 86_400 * S);
    }

    #[test]
    fn refuses_what_would_surprise() {
        for (text, says) in [
            ("5M", "months"),
            ("1y", "years"),
            ("100000000000y", "years"),
            ("200000000000y", "years"),
            ("5H", "not lower case"),
            ("10S", "not lower case"),
            ("1.5h", "fraction"),
            ("-1m", "negative"),
            ("30m1h", "out of order"),
            ("1m1m", "out of order"),
            ("5", "unit is missing"),
            ("soon", "number is missing"),
            ("5 fortnights", "unknown unit"),
            ("", "empty"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(
                text.is_empty() || err.contains(&format!("{text:?}")),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn never_panics_on_huge_numbers() {
        for text in [
            "18446744073709551616ms",
            "99999999999999999999999999w",
            "9999999999999999w",
            "1w18446744073709551615ms",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
        // The largest sum that fits is still a value, refused by a field's range, not a panic.
        assert_eq!(ms("18446744073709551615ms"), u64::MAX);
    }

    #[test]
    fn a_range_names_its_bounds_and_the_value() {
        let range = DurationRange::new(Duration::from_secs(1), Duration::from_secs(7 * 86_400));
        assert_eq!(range.parse("1w"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(
            range.parse("500ms").unwrap_err(),
            "must be at least 1s and at most 1w, got \"500ms\""
        );
        assert_eq!(
            range.parse("8d").unwrap_err(),
            "must be at least 1s and at most 1w, got \"8d\""
        );
        let positive = DurationRange::new(Duration::from_millis(1), Duration::from_secs(60));
        assert_eq!(
            positive.parse("0s").unwrap_err(),
            "must be longer than 0s and at most 1m, got \"0s\""
        );
        let up_to = DurationRange::new(Duration::ZERO, Duration::from_secs(60));
        assert_eq!(up_to.parse("0"), Ok(Duration::ZERO));
        assert_eq!(
            up_to.parse("2m").unwrap_err(),
            "must be at most 1m, got \"2m\""
        );
    }

    #[test]
    fn pretty_prints_in_the_syntax_it_reads() {
        for text in ["1h30m", "500ms", "0s", "1w1d", "5m", "1d1h1m1s1ms"] {
            assert_eq!(Pretty(parse(text).unwrap()).to_string(), text);
        }
    }
}
