//! Braze's answers, for every kind of the kinds table: a kind added to the table is fuzzed by
//! the same target, with no new code here.

use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::Value as Json;

use super::assert_one_line;
use crate::braze::parsers::{parse_points, unsuccessful_message, Field, MAX_AMOUNT, MAX_COUNT};
use crate::braze::Point;
use crate::series::{KindSpec, Value, KINDS};

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
    let field = Field {
        name: spec.field,
        value: spec.value,
    };
    match parse_points(body, field, time_zone) {
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
/// field (and within the kind's bounds), starting when the body's time says.
fn check_points(spec: &KindSpec, body: &[u8], time_zone: &TimeZone, points: &[Point]) {
    let kind = spec.name;
    let data = said(body)
        .data
        .unwrap_or_else(|| panic!("{kind}: points decoded from a body without a data array"));
    assert_eq!(points.len(), data.len(), "{kind}: points lost or invented");
    for (i, (raw, point)) in data.iter().zip(points).enumerate() {
        let said = number_in(&raw[spec.field])
            .unwrap_or_else(|| panic!("{kind}: data[{i}].{} is not a number", spec.field));
        assert_eq!(
            point.value, said,
            "{kind}: data[{i}].{} says {said}, decoded as {}",
            spec.field, point.value
        );
        match spec.value {
            Value::Count => assert!(
                point.value.fract() == 0.0 && (0.0..=MAX_COUNT as f64).contains(&point.value),
                "{kind}: data[{i}]: the count {} is not a whole number within 0..={MAX_COUNT}",
                point.value
            ),
            Value::Amount => assert!(
                point.value.is_finite() && point.value.abs() <= MAX_AMOUNT,
                "{kind}: data[{i}]: the amount {} is past {MAX_AMOUNT}",
                point.value
            ),
        }
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
    if let Some(rest) = why.strip_prefix("data[") {
        let index: usize = rest
            .split(']')
            .next()
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("{kind}: {why:?} names no point"));
        let points = said(body).data.map_or(0, |d| d.len());
        assert!(
            index < points,
            "{kind}: {why:?} names a point past data[]'s {points}"
        );
        return;
    }
    let classified = [
        "no \"data\" array",
        "not the documented JSON",
        "an HTML page",
    ];
    assert!(
        classified.iter().any(|prefix| why.starts_with(prefix)),
        "{kind}: an unclassified error {why:?}"
    );
}
