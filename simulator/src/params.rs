//! What a request may say: the query string, decoded, and the parameters Braze documents.
//!
//! Choices where Braze's page is silent:
//! - The query is decoded as `application/x-www-form-urlencoded`, as Braze's Rails stack does:
//!   `+` means a space. An offset written with a raw `+` (`…T10:00:00+05:30`) therefore arrives
//!   as `…T10:00:00 05:30` and is a 400; a client must percent-encode it (`%2B`). Invalid
//!   `%` escapes are kept literally.
//! - A parameter given twice takes its last value. Unknown parameters are ignored.
//! - Values are case-sensitive (`unit=Hour` is a 400); an empty value is a 400, not the default.
//! - The first invalid parameter, in the order `length`, `unit`, `ending_at`, `app_id`,
//!   `segment_id`, is the one reported.

use std::collections::HashSet;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::ending_at::parse_ending_at;
use crate::Unit;

/// The smallest and largest `length` Braze accepts.
pub(super) const LENGTH_RANGE: std::ops::RangeInclusive<i64> = 1..=100;

/// A decoded query string.
#[derive(Debug, Default)]
pub(super) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(super) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => (form_decode(name), form_decode(value)),
                None => (form_decode(pair), String::new()),
            })
            .collect();
        Self { pairs }
    }

    /// The last value given for `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// A request for one series, checked against the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SeriesRequest {
    pub(super) length: u32,
    pub(super) unit: Unit,
    /// `None`: the series ends now.
    pub(super) ending_at: Option<Timestamp>,
    pub(super) app_id: Option<String>,
    pub(super) segment_id: Option<String>,
}

/// A 400, with the message Braze's body carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ParamError {
    #[error("Invalid length: length is required and must be an integer between 1 and 100")]
    Length,
    #[error("Invalid unit: unit must be 'day' or 'hour'")]
    Unit,
    #[error(
        "Invalid ending_at: expected an ISO-8601 date or date-time such as \
         2018-06-28T23:59:59-05:00 or 2022-09-01"
    )]
    EndingAt,
    #[error("Invalid app_id: {0}")]
    AppId(String),
    #[error("Invalid segment_id: {0}")]
    SegmentId(String),
}

/// The workspace a request is checked against.
#[derive(Debug)]
pub(super) struct Workspace {
    pub(super) time_zone: TimeZone,
    pub(super) apps: HashSet<String>,
    pub(super) segments: HashSet<String>,
}

impl Workspace {
    pub(super) fn validate(&self, query: &Query) -> Result<SeriesRequest, ParamError> {
        let length = query
            .get("length")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| LENGTH_RANGE.contains(n))
            .ok_or(ParamError::Length)?;
        let unit = match query.get("unit") {
            None => Unit::Day,
            Some("day") => Unit::Day,
            Some("hour") => Unit::Hour,
            Some(_) => return Err(ParamError::Unit),
        };
        let ending_at = query
            .get("ending_at")
            .map(|raw| parse_ending_at(raw, &self.time_zone).ok_or(ParamError::EndingAt))
            .transpose()?;
        let app_id = known(query.get("app_id"), &self.apps).map_err(ParamError::AppId)?;
        let segment_id =
            known(query.get("segment_id"), &self.segments).map_err(ParamError::SegmentId)?;
        Ok(SeriesRequest {
            length: u32::try_from(length).map_err(|_| ParamError::Length)?,
            unit,
            ending_at,
            app_id,
            segment_id,
        })
    }
}

/// `Ok(None)` when absent, `Ok(Some(id))` when known, `Err(id)` otherwise.
fn known(id: Option<&str>, known: &HashSet<String>) -> Result<Option<String>, String> {
    match id {
        None => Ok(None),
        Some(id) if known.contains(id) => Ok(Some(id.to_string())),
        Some(id) => Err(id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        Workspace {
            time_zone: TimeZone::get("Asia/Kolkata").unwrap(),
            apps: ["app-1".to_string()].into(),
            segments: ["seg-1".to_string()].into(),
        }
    }

    fn check(query: &str) -> Result<SeriesRequest, ParamError> {
        workspace().validate(&Query::parse(Some(query)))
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn decodes_form_encoding() {
        let q = Query::parse(Some("a=x%2By+z&b=%zz&c&a=last&e=%E2%82%AC"));
        assert_eq!(q.get("a"), Some("last"));
        assert_eq!(q.get("b"), Some("%zz"));
        assert_eq!(q.get("c"), Some(""));
        assert_eq!(q.get("e"), Some("€"));
        assert!(q.contains("c"));
        assert_eq!(Query::parse(Some("a=x%2By+z")).get("a"), Some("x+y z"));
        assert_eq!(Query::parse(Some("a=%4")).get("a"), Some("%4"));
        assert_eq!(Query::parse(Some("a=%")).get("a"), Some("%"));
        assert_eq!(Query::parse(None).get("a"), None);
    }

    #[test]
    fn accepts_a_full_request() {
        let request = check(
            "length=14&unit=hour&ending_at=2018-06-28T23:59:59-5:00&app_id=app-1&segment_id=seg-1&x=y",
        )
        .unwrap();
        assert_eq!(
            request,
            SeriesRequest {
                length: 14,
                unit: Unit::Hour,
                ending_at: Some(ts("2018-06-29T04:59:59Z")),
                app_id: Some("app-1".into()),
                segment_id: Some("seg-1".into()),
            }
        );
        let minimal = check("length=1").unwrap();
        assert_eq!((minimal.length, minimal.unit), (1, Unit::Day));
        assert_eq!(minimal.ending_at, None);
        assert_eq!(check("length=100").unwrap().length, 100);
    }

    #[test]
    fn rejects_bad_length() {
        for q in [
            "",
            "length=",
            "length=0",
            "length=101",
            "length=-1",
            "length=abc",
            "length=1.5",
        ] {
            assert_eq!(check(q), Err(ParamError::Length), "{q}");
        }
    }

    #[test]
    fn rejects_bad_unit() {
        for q in ["length=1&unit=", "length=1&unit=Hour", "length=1&unit=week"] {
            assert_eq!(check(q), Err(ParamError::Unit), "{q}");
        }
    }

    #[test]
    fn rejects_unknown_ids() {
        assert_eq!(
            check("length=1&app_id=nope"),
            Err(ParamError::AppId("nope".into()))
        );
        assert_eq!(
            check("length=1&segment_id=nope"),
            Err(ParamError::SegmentId("nope".into()))
        );
    }

    #[test]
    fn reads_ending_at_forms() {
        let tz = TimeZone::get("Asia/Kolkata").unwrap();
        let cases = [
            ("2026-11-28T10:00:00+05:30", "2026-11-28T04:30:00Z"),
            ("2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z"),
            ("2026-11-28T10:00:00-5:00", "2026-11-28T15:00:00Z"),
            ("2026-11-28T10:00:00+5:30", "2026-11-28T04:30:00Z"),
            ("2026-11-28T10:00:00.250Z", "2026-11-28T10:00:00.25Z"),
            ("2026-11-28T10:00:00", "2026-11-28T04:30:00Z"),
            ("2026-11-28", "2026-11-27T18:30:00Z"),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_ending_at(raw, &tz), Some(ts(want)), "{raw}");
        }
        for raw in [
            "",
            "yesterday",
            "2026-11-28T10:00:00 05:30",
            "2026-13-01",
            "2026-11-28T25:00:00",
            "2026-11-28T10:00:00+5",
            "1700000000",
        ] {
            assert_eq!(parse_ending_at(raw, &tz), None, "{raw}");
        }
        assert_eq!(
            check("length=1&ending_at=2026-11-28T10:00:00+05:30"),
            Err(ParamError::EndingAt),
            "a raw + is a space"
        );
    }
}
