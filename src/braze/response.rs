//! The JSON bodies of Braze's data series and lists, read leniently but never wrongly.
//!
//! `{"message": "success", "data": [{"time": "...", "<field>": 123}, ...]}`, where the field is
//! the kind's (`sessions`, `dau`, `count`, `revenue`…); the messaging shapes are read in
//! [`super::messaging`], by the kind's [`Shape`]. A count must be a non-negative whole number,
//! an amount any finite number (revenue has cents); either may be a JSON number or a string
//! holding one. Anything else makes the whole answer malformed rather than publishing a guess.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::messaging;
use super::time::parse_time;
use crate::samples::Values;
use crate::series::{KindSpec, Shape, Value};

/// One bucket as Braze reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The bucket's first instant.
    pub start: Timestamp,
    pub values: Values,
}

#[derive(Deserialize)]
struct Body {
    message: Option<Json>,
    data: Option<Json>,
}

/// Parses a 2xx body of `spec`'s endpoint into points in the order Braze sent them.
pub fn parse_points(
    body: &[u8],
    spec: &KindSpec,
    time_zone: &TimeZone,
) -> Result<Vec<Point>, String> {
    if !is_object(body) && serde_json::from_slice::<Json>(body).is_ok() {
        return Err("not the documented JSON: not an object".into());
    }
    let body: Body = serde_json::from_slice(body).map_err(|e| describe_json_error(body, &e))?;
    let no_data = |what: &str| match &body.message {
        Some(message) => format!(
            "no \"data\" {what} (message: {})",
            clip(&message.to_string())
        ),
        None => format!("no \"data\" {what}"),
    };
    let data = match (&spec.shape, body.data) {
        (Shape::CanvasStats(_), Some(Json::Object(mut data))) => match data.remove("stats") {
            Some(Json::Array(stats)) => return messaging::canvas(stats, spec, time_zone),
            Some(Json::Null) | None => Vec::new(),
            Some(other) => {
                return Err(format!(
                    "\"data.stats\" is not an array: {}",
                    clip(&other.to_string())
                ))
            }
        },
        (Shape::CanvasStats(_), _) => return Err(no_data("object")),
        (_, Some(Json::Array(data))) => data,
        (_, Some(other)) => {
            return Err(format!(
                "\"data\" is not an array: {}",
                clip(&other.to_string())
            ))
        }
        (_, None) => return Err(no_data("array")),
    };
    data.into_iter()
        .enumerate()
        .map(|(i, point)| {
            let point = match point {
                Json::Object(point) => point,
                other => {
                    return Err(format!(
                        "data[{i}]: not an object: {}",
                        clip(&other.to_string())
                    ))
                }
            };
            parse_point(point, spec, time_zone).map_err(|why| format!("data[{i}]: {why}"))
        })
        .collect()
}

/// One of Braze's lists: `{"message": "success", "<key>": [...]}`, the items as JSON.
pub fn parse_list(body: &[u8], key: &str) -> Result<Vec<Json>, String> {
    let mut value: Map<String, Json> =
        serde_json::from_slice(body).map_err(|e| describe_json_error(body, &e))?;
    match value.remove(key) {
        Some(Json::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "{key:?} is not an array: {}",
            clip(&other.to_string())
        )),
        None => Err(format!("no {key:?} array")),
    }
}

/// A JSON object (the details of a campaign or Canvas).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Json>, String> {
    serde_json::from_slice(body).map_err(|e| describe_json_error(body, &e))
}

/// Braze's `message` of a 2xx body when it says the export did not succeed: anything but
/// `"success"` (compared without case or surrounding space). A body without a `message` (or
/// with `null`) passes: Braze documents the field as always there, but nothing is gained by
/// refusing an answer whose data is otherwise complete, so its absence is accepted. A body
/// that is not a JSON object passes too, for the parser to call it malformed.
pub fn unsuccessful_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Message {
        message: Option<Json>,
    }
    if !is_object(body) {
        return None;
    }
    let message = serde_json::from_slice::<Message>(body).ok()?.message?;
    match &message {
        Json::Null => None,
        Json::String(text) if text.trim().eq_ignore_ascii_case("success") => None,
        Json::String(text) => Some(clip(text)),
        other => Some(clip(&other.to_string())),
    }
}

/// Whether `body` is a JSON object, as every answer of Braze's is: serde's derived structs
/// also read an array (`[message, data]`) as if it were one.
fn is_object(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Braze's `message` from an error body, when it is JSON and has one.
pub fn error_message(body: &[u8]) -> Option<String> {
    let value: Json = serde_json::from_slice(body).ok()?;
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

fn parse_point(
    mut point: Map<String, Json>,
    spec: &KindSpec,
    time_zone: &TimeZone,
) -> Result<Point, String> {
    let start = point_start(&mut point, time_zone)?;
    let values = match &spec.shape {
        Shape::Field { field, value } => match point.get(*field) {
            Some(raw) => Values::One(number(field, raw, *value)?),
            None => return Err(format!("no {field:?}")),
        },
        Shape::Messages(levels) => messaging::day(point, spec, levels)?,
        Shape::CanvasStats(_) => return Err("a Canvas day outside \"data.stats\"".into()),
    };
    Ok(Point { start, values })
}

/// The bucket start of a point, from its `time`.
pub(super) fn point_start(
    point: &mut Map<String, Json>,
    time_zone: &TimeZone,
) -> Result<Timestamp, String> {
    let time = match point.remove("time") {
        Some(Json::String(time)) => time,
        Some(other) => {
            return Err(format!(
                "\"time\" is not a string: {}",
                clip(&other.to_string())
            ))
        }
        None => return Err("no \"time\"".into()),
    };
    parse_time(&time, time_zone)
}

/// The number under `name`, as a count or an amount, or why it is not one.
pub(super) fn number(name: &str, raw: &Json, value: Value) -> Result<f64, String> {
    match value {
        Value::Count => count(raw).map(|n| n as f64).ok_or_else(|| {
            format!(
                "{name:?} is not a whole number ≥ 0: {}",
                clip(&raw.to_string())
            )
        }),
        Value::Amount => amount(raw).ok_or_else(|| {
            format!(
                "{name:?} is not a finite number: {}",
                clip(&raw.to_string())
            )
        }),
    }
}

/// More than this in one bucket is not a count but corruption: a trillion sessions is over a
/// hundred per person on Earth in an hour.
pub const MAX_COUNT: u64 = 1_000_000_000_000;
/// An amount whose size is past this is corruption too (and past f64's exact cents).
pub const MAX_AMOUNT: f64 = 1e13;

/// A count: 12, 12.0 or "12"; never negative, fractional or absurd (over [`MAX_COUNT`]).
fn count(value: &Json) -> Option<u64> {
    const EXACT: f64 = MAX_COUNT as f64;
    match value {
        Json::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= EXACT)
                .map(|f| f as u64)
        }),
        Json::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .filter(|n| *n as f64 <= EXACT)
}

/// An amount: 1234.56 or "1234.56"; finite and not absurd (refunds may make it negative).
fn amount(value: &Json) -> Option<f64> {
    match value {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite() && f.abs() <= MAX_AMOUNT)
}

fn describe_json_error(body: &[u8], error: &serde_json::Error) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]);
    if start.trim_start().starts_with('<') {
        return "an HTML page, not JSON".into();
    }
    format!("not the documented JSON: {}", clip(&error.to_string()))
}

/// Keeps messages short enough for one log line and free of control characters.
pub(super) fn clip(text: &str) -> String {
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

    use crate::series::Kind;

    fn points(body: &str) -> Result<Vec<Point>, String> {
        parse_points(body.as_bytes(), Kind::Sessions.spec(), &TimeZone::UTC)
    }

    fn value(point: &Point) -> f64 {
        point.values.one().unwrap()
    }

    #[test]
    fn reads_the_documented_shape() {
        let body = r#"{"message":"success","data":[{"time":"2026-11-28T09:00:00Z","sessions":5},{"time":"2026-11-28T10:00:00Z","sessions":7}]}"#;
        let got = points(body).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].start, "2026-11-28T10:00:00Z".parse().unwrap());
        assert_eq!(value(&got[1]), 7.0);
    }

    #[test]
    fn lenient_counts_but_never_wrong_ones() {
        let one = |sessions: &str| {
            points(&format!(
                r#"{{"data":[{{"time":"2026-11-28","sessions":{sessions}}}]}}"#
            ))
            .map(|p| value(&p[0]))
        };
        assert_eq!(one("12"), Ok(12.0));
        assert_eq!(one("12.0"), Ok(12.0));
        assert_eq!(one("\"12\""), Ok(12.0));
        assert_eq!(one("1000000000000"), Ok(MAX_COUNT as f64));
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
    fn amounts_have_cents_and_their_own_field() {
        let revenue = Kind::PurchaseRevenue.spec();
        let one = |raw: &str| {
            let body = format!(r#"{{"data":[{{"time":"2026-11-28","revenue":{raw}}}]}}"#);
            parse_points(body.as_bytes(), revenue, &TimeZone::UTC).map(|p| value(&p[0]))
        };
        assert_eq!(one("1234.56"), Ok(1234.56));
        assert_eq!(one("\"0.99\""), Ok(0.99));
        assert_eq!(one("-5.5"), Ok(-5.5));
        for bad in ["null", "\"lots\"", "1e300", "[]"] {
            let err = one(bad).unwrap_err();
            assert!(
                err.contains("\"revenue\" is not a finite number"),
                "{bad}: {err}"
            );
        }
        let wrong_field = r#"{"data":[{"time":"2026-11-28","sessions":1}]}"#;
        assert_eq!(
            parse_points(wrong_field.as_bytes(), revenue, &TimeZone::UTC).unwrap_err(),
            "data[0]: no \"revenue\""
        );
    }

    #[test]
    fn lists_are_read_by_their_key() {
        let body = br#"{"message":"success","events":["a","b"]}"#;
        assert_eq!(parse_list(body, "events").unwrap().len(), 2);
        assert_eq!(
            parse_list(body, "products").unwrap_err(),
            "no \"products\" array"
        );
        assert!(parse_list(br#"{"events":{}}"#, "events").is_err());
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

    /// Found by the braze_answer fuzz target: serde's derived structs read a JSON array too,
    /// `[message, data]`, so a body Braze never sends gave points (and its first element was
    /// taken for Braze's message).
    #[test]
    fn only_an_object_is_an_answer() {
        let array = r#"["x", [{"time":"2026-11-28","sessions":5}]]"#;
        assert_eq!(
            points(array).unwrap_err(),
            "not the documented JSON: not an object"
        );
        assert_eq!(unsuccessful_message(br#"["partial results"]"#), None);
        assert_eq!(points(r#" [ "2026-11-28", [] ]"#).map_err(|_| ()), Err(()));
    }

    /// Found by reading what the braze_answer fuzz target checks (it had not produced an input
    /// that long yet): serde's error quotes a value of the wrong type whole, so a string of a
    /// megabyte where `data` belongs made an error, and a log line, of a megabyte.
    #[test]
    fn a_long_value_of_the_wrong_type_is_quoted_in_part() {
        let body = format!(r#"{{"data":"{}"}}"#, "x".repeat(5000));
        let err = points(&body).unwrap_err();
        assert!(err.starts_with("\"data\" is not an array: \"xxx"), "{err}");
        assert!(
            err.chars().count() < 300,
            "{} characters",
            err.chars().count()
        );
    }

    #[test]
    fn a_message_other_than_success_is_an_unsuccessful_export() {
        for passes in [
            r#"{"message":"success","data":[]}"#,
            r#"{"message":" Success ","data":[]}"#,
            r#"{"data":[]}"#,
            r#"{"message":null,"data":[]}"#,
            "<html>502</html>",
            "[1,2]",
        ] {
            assert_eq!(unsuccessful_message(passes.as_bytes()), None, "{passes}");
        }
        let partial = br#"{"message":"partial results: retry later","data":[{"time":"2026-11-28","sessions":1}]}"#;
        assert_eq!(
            unsuccessful_message(partial).as_deref(),
            Some("partial results: retry later")
        );
        assert_eq!(
            unsuccessful_message(br#"{"message":{"code":7}}"#).as_deref(),
            Some(r#"{"code":7}"#)
        );
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(500));
        assert_eq!(
            unsuccessful_message(long.as_bytes())
                .unwrap()
                .chars()
                .count(),
            201
        );
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
