//! Braze's answers, for every kind of the kinds table: a kind added to the table is fuzzed by
//! the same target, with no new code here.

use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::Value as Json;

use super::assert_one_line;
use crate::braze::parsers::{parse_points, unsuccessful_message, MAX_AMOUNT, MAX_COUNT};
use crate::braze::Point;
use crate::samples::Values;
use crate::series::{families, KindSpec, Shape, Value, KINDS};

/// What a 2xx answer of a kind's endpoint becomes, in the order `BrazeClient::read` decides it.
enum Decoded {
    Points(Vec<Point>),
    /// Braze's `message` was not "success" (`FetchError::Unsuccessful`).
    Unsuccessful(String),
    /// `FetchError::Malformed`.
    Malformed(String),
}

fn decode(spec: &KindSpec, body: &[u8], time_zone: &TimeZone) -> Decoded {
    if let Some(message) = unsuccessful_message(body) {
        return Decoded::Unsuccessful(message);
    }
    match parse_points(body, spec, time_zone) {
        Ok(points) => Decoded::Points(points),
        Err(why) => Decoded::Malformed(why),
    }
}

/// Decodes `body` as the answer of every kind, in a time zone without and one with daylight
/// saving time, and checks each outcome against what the body says.
pub fn braze_answer(body: &[u8]) {
    for spec in &KINDS {
        for time_zone in time_zones() {
            match decode(spec, body, time_zone) {
                Decoded::Points(points) => check_points(spec, body, time_zone, &points),
                Decoded::Unsuccessful(message) => check_unsuccessful(body, &message),
                Decoded::Malformed(why) => check_malformed(spec, body, &why),
            }
        }
    }
}

fn time_zones() -> &'static [TimeZone; 2] {
    static ZONES: OnceLock<[TimeZone; 2]> = OnceLock::new();
    ZONES.get_or_init(|| {
        let new_york = TimeZone::get("America/New_York").expect("in jiff's bundled database");
        [TimeZone::UTC, new_york]
    })
}

/// Every point of `data[]` and no other, each with the number the body holds in the kind's
/// field (and within the kind's bounds), starting when the body's time says; for the messaging
/// shapes, see [`check_samples`].
fn check_points(spec: &KindSpec, body: &[u8], time_zone: &TimeZone, points: &[Point]) {
    let (field, value) = match spec.shape {
        Shape::Field { field, value } => (field, value),
        _ => return check_samples(spec, body, points),
    };
    let kind = spec.name;
    let data = said(body)
        .data
        .unwrap_or_else(|| panic!("{kind}: points decoded from a body without a data array"));
    assert_eq!(points.len(), data.len(), "{kind}: points lost or invented");
    for (i, (raw, point)) in data.iter().zip(points).enumerate() {
        let said = number_in(&raw[field])
            .unwrap_or_else(|| panic!("{kind}: data[{i}].{field} is not a number"));
        let Values::One(decoded) = point.values else {
            panic!("{kind}: data[{i}] decoded as many samples");
        };
        assert_eq!(
            decoded, said,
            "{kind}: data[{i}].{field} says {said}, decoded as {decoded}"
        );
        check_value(kind, &format!("data[{i}]"), value, decoded);
        let time = raw["time"]
            .as_str()
            .unwrap_or_else(|| panic!("{kind}: data[{i}].time decoded though not a string"));
        if let Some(expected) = instant_written(time, time_zone) {
            assert_eq!(
                point.start, expected,
                "{kind}: data[{i}].time {time:?} is {expected}, decoded as {}",
                point.start
            );
        }
    }
}

/// A count is whole and within 0..=MAX_COUNT, an amount finite and within MAX_AMOUNT.
fn check_value(kind: &str, at: &str, value: Value, decoded: f64) {
    match value {
        Value::Count => assert!(
            decoded.fract() == 0.0 && (0.0..=MAX_COUNT as f64).contains(&decoded),
            "{kind}: {at}: the count {decoded} is not a whole number within 0..={MAX_COUNT}"
        ),
        Value::Amount => assert!(
            decoded.is_finite() && decoded.abs() <= MAX_AMOUNT,
            "{kind}: {at}: the amount {decoded} is past {MAX_AMOUNT}"
        ),
    }
}

/// A messaging answer: one point per day the body lists (`data[]`, or `data.stats[]` for
/// Canvases), each sample of a family of the kind, a number within the amount's bounds (a
/// count is within them too), and labels the text format can hold on one line (Braze's
/// channel keys and names are label values as written, control characters too: only a
/// newline would end the line, and the encoder escapes it).
fn check_samples(spec: &KindSpec, body: &[u8], points: &[Point]) {
    let kind = spec.name;
    let listed = days_listed(body, matches!(spec.shape, Shape::CanvasStats(_)));
    assert_eq!(points.len(), listed, "{kind}: days lost or invented");
    let known = families(spec).list.len();
    for (i, point) in points.iter().enumerate() {
        let Values::Many(samples) = &point.values else {
            panic!("{kind}: day {i} decoded as one value");
        };
        for sample in samples.iter() {
            assert!(
                usize::from(sample.family) < known,
                "{kind}: an unknown family"
            );
            check_value(kind, &format!("day {i}"), Value::Amount, sample.value);
            assert!(
                !sample.labels.contains('\n'),
                "{kind}: a label text the text format cannot hold on one line: {:?}",
                sample.labels
            );
        }
    }
}

/// How many days a body lists in `data[]` (or `data.stats[]`), read as the client reads it:
/// the fields beside `data` skipped unchecked (their strings may hold bytes that are not
/// UTF-8).
fn days_listed(body: &[u8], canvas: bool) -> usize {
    #[derive(serde::Deserialize)]
    struct Data {
        data: Option<Json>,
    }
    let data = serde_json::from_slice::<Data>(body)
        .ok()
        .and_then(|d| d.data)
        .unwrap_or(Json::Null);
    let days = match canvas {
        true => &data["stats"],
        false => &data,
    };
    days.as_array().map_or(0, Vec::len)
}

/// What a body says, read by serde_json alone: like the client, it skips the fields it does
/// not read (without checking their escapes) and refuses the body if a field it reads is not
/// of its type.
#[derive(serde::Deserialize)]
struct Said {
    data: Option<Vec<Json>>,
}

fn said(body: &[u8]) -> Said {
    serde_json::from_slice(body).expect("decoded from a body that is not the documented JSON")
}

/// A number as the body writes it: a JSON number, or a string holding one.
fn number_in(raw: &Json) -> Option<f64> {
    match raw {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The instant a time names where the text leaves no choice, read by jiff alone: a time with
/// its offset (RFC 3339), or a date, whose first instant is in the company time zone.
fn instant_written(text: &str, time_zone: &TimeZone) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Some(instant);
    }
    if text.contains(['T', 't', ' ']) {
        return None;
    }
    let date: Date = text.parse().ok()?;
    date.to_zoned(time_zone.clone()).ok().map(|z| z.timestamp())
}

/// Braze's own `message`, when it is not "success": clipped to one line.
fn check_unsuccessful(body: &[u8], message: &str) {
    #[derive(serde::Deserialize)]
    struct Message {
        message: Option<Json>,
    }
    let said = serde_json::from_slice::<Message>(body)
        .expect("a message read from a body that is not JSON")
        .message
        .unwrap_or(Json::Null);
    let success = said
        .as_str()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("success"));
    assert!(
        !said.is_null() && !success,
        "unsuccessful, though the message is {said}"
    );
    if !message.is_empty() {
        assert_one_line("Braze's message", message);
    }
}

/// A malformed answer is one line that says where: the data point, or what the body is.
fn check_malformed(spec: &KindSpec, body: &[u8], why: &str) {
    let kind = spec.name;
    assert_one_line(kind, why);
    if let Some(rest) = why
        .strip_prefix("data[")
        .or_else(|| why.strip_prefix("data.stats["))
    {
        let index: usize = rest
            .split(']')
            .next()
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("{kind}: {why:?} names no point"));
        let points = days_listed(body, why.starts_with("data.stats["));
        assert!(
            index < points,
            "{kind}: {why:?} names a point past data[]'s {points}"
        );
        return;
    }
    let classified = [
        "no \"data\" array",
        "no \"data\" object",
        "\"data\" is not an array",
        "\"data.stats\" is not an array",
        "a Canvas day outside",
        "not the documented JSON",
        "an HTML page",
    ];
    assert!(
        classified.iter().any(|prefix| why.starts_with(prefix)),
        "{kind}: an unclassified error {why:?}"
    );
}
