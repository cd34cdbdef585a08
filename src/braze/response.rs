//! The JSON body of `/sessions/data_series`, read leniently but never wrongly.
//!
//! `{"message": "success", "data": [{"time": "...", "sessions": 123}, ...]}`. A count must be a
//! non-negative whole number (a JSON number, or a string holding one); anything else makes the
//! whole answer malformed rather than publishing a guess.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::time::parse_time;

/// One bucket as Braze reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// The bucket's first instant.
    pub start: Timestamp,
    pub sessions: u64,
}

#[derive(Deserialize)]
struct Body {
    message: Option<Value>,
    data: Option<Vec<RawPoint>>,
}

#[derive(Deserialize)]
struct RawPoint {
    time: Option<Value>,
    sessions: Option<Value>,
}

/// Parses a 2xx body into points in the order Braze sent them.
pub fn parse_points(body: &[u8], time_zone: &TimeZone) -> Result<Vec<Point>, String> {
    let body: Body = serde_json::from_slice(body).map_err(|e| describe_json_error(body, &e))?;
    let data = body.data.ok_or_else(|| match body.message {
        Some(message) => format!(
            "no \"data\" array (message: {})",
            clip(&message.to_string())
        ),
        None => "no \"data\" array".to_string(),
    })?;
    data.into_iter()
        .enumerate()
        .map(|(i, point)| parse_point(point, time_zone).map_err(|why| format!("data[{i}]: {why}")))
        .collect()
}

/// Braze's `message` from an error body, when it is JSON and has one.
pub fn error_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = value.get("message")?;
    let text = message
        .as_str()
        .map_or_else(|| message.to_string(), str::to_string);
    let errors = value
        .get("errors")
        .filter(|e| !e.is_null())
        .map(|e| format!(" {e}"))
        .unwrap_or_default();
    Some(clip(&format!("{text}{errors}")))
}

fn parse_point(point: RawPoint, time_zone: &TimeZone) -> Result<Point, String> {
    let time = match point.time {
        Some(Value::String(time)) => time,
        Some(other) => {
            return Err(format!(
                "\"time\" is not a string: {}",
                clip(&other.to_string())
            ))
        }
        None => return Err("no \"time\"".into()),
    };
    let start = parse_time(&time, time_zone)?;
    let sessions = match point.sessions {
        Some(value) => count(&value).ok_or_else(|| {
            format!(
                "\"sessions\" is not a whole number ≥ 0: {}",
                clip(&value.to_string())
            )
        })?,
        None => return Err("no \"sessions\"".into()),
    };
    Ok(Point { start, sessions })
}

/// More sessions than this in one bucket is not a count but corruption: a trillion is over a
/// hundred sessions per person on Earth in an hour.
pub const MAX_SESSIONS: u64 = 1_000_000_000_000;

/// A count: 12, 12.0 or "12"; never negative, fractional or absurd (over [`MAX_SESSIONS`]).
fn count(value: &Value) -> Option<u64> {
    const EXACT: f64 = MAX_SESSIONS as f64;
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= EXACT)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .filter(|n| *n as f64 <= EXACT)
}

fn describe_json_error(body: &[u8], error: &serde_json::Error) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]);
    if start.trim_start().starts_with('<') {
        return "an HTML page, not JSON".into();
    }
    format!("not the documented JSON: {error}")
}

/// Keeps messages short enough for one log line and free of control characters.
fn clip(text: &str) -> String {
    const MAX: usize = 200;
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match clean.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(body: &str) -> Result<Vec<Point>, String> {
        parse_points(body.as_bytes(), &TimeZone::UTC)
    }

    #[test]
    fn reads_the_documented_shape() {
        let body = r#"{"message":"success","data":[{"time":"2026-11-28T09:00:00Z","sessions":5},{"time":"2026-11-28T10:00:00Z","sessions":7}]}"#;
        let got = points(body).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].start, "2026-11-28T10:00:00Z".parse().unwrap());
        assert_eq!(got[1].sessions, 7);
    }

    #[test]
    fn lenient_counts_but_never_wrong_ones() {
        let one = |sessions: &str| {
            points(&format!(
                r#"{{"data":[{{"time":"2026-11-28","sessions":{sessions}}}]}}"#
            ))
            .map(|p| p[0].sessions)
        };
        assert_eq!(one("12"), Ok(12));
        assert_eq!(one("12.0"), Ok(12));
        assert_eq!(one("\"12\""), Ok(12));
        assert_eq!(one("1000000000000"), Ok(MAX_SESSIONS));
        for bad in [
            "-1",
            "1.5",
            "null",
            "\"many\"",
            "[]",
            "1e300",
            "1000000000001",
            "18446744073709551615",
        ] {
            let err = one(bad).unwrap_err();
            assert!(
                err.starts_with("data[0]: ") && err.contains("\"sessions\""),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn empty_data_is_no_points_not_an_error() {
        assert_eq!(points(r#"{"message":"success","data":[]}"#), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_described() {
        assert_eq!(
            points("<html><body>502 Bad Gateway</body></html>").unwrap_err(),
            "an HTML page, not JSON"
        );
        assert!(points("{\"data\": [")
            .unwrap_err()
            .starts_with("not the documented JSON"));
        assert_eq!(
            points(r#"{"message":"oops"}"#).unwrap_err(),
            "no \"data\" array (message: \"oops\")"
        );
        assert_eq!(
            points(r#"{"data":[{"sessions":1}]}"#).unwrap_err(),
            "data[0]: no \"time\""
        );
        assert_eq!(
            points(r#"{"data":[{"time":"x","sessions":1}]}"#).unwrap_err(),
            "data[0]: \"x\" is not an ISO 8601 date or date-time"
        );
        assert!(points(r#"{"data":{"time":"2026-11-28"}}"#).is_err());
    }

    #[test]
    fn error_messages_with_errors_list() {
        let body = br#"{"message":"Invalid segment_id","errors":["no such segment"]}"#;
        assert_eq!(
            error_message(body).unwrap(),
            "Invalid segment_id [\"no such segment\"]"
        );
        assert_eq!(error_message(b"<html>"), None);
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(500));
        assert_eq!(error_message(long.as_bytes()).unwrap().chars().count(), 201);
    }
}
