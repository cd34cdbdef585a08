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
//!   `segment_id`, `event`, `product` (then `page`, `sort_direction` for the lists), is the one
//!   reported. A required parameter that is missing or empty (`event` of `/events/data_series`,
//!   `segment_id` of `/segments/data_series`) is reported in its place in that order.
//! - A parameter an endpoint does not document is ignored like any unknown one: `unit` on the
//!   KPI and segment-size endpoints (they are by day only, so `unit=hour` or even `unit=week`
//!   is answered by day), `segment_id` on KPIs and purchases, `app_id` on segment sizes.
//! - An unknown `event` name or `product` is a 400 naming it, as an unknown `app_id` is (Braze
//!   does not say whether it would rather answer zeros).
//! - A `segment_id` of a segment without analytics tracking is a 400 on the sessions, events
//!   and segment-size series. Braze documents that `segment_id` must name an analytics-enabled
//!   segment (sessions, events) and that such segments have no history; the status is a
//!   choice.
//! - `page` is a non-negative integer (digits only); anything else is a 400. A page past the
//!   end is an empty list. `sort_direction` is `asc` or `desc`; anything else is a 400 (Braze
//!   documents only those two values).

use std::collections::HashSet;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::counts::Series;
use crate::ending_at::parse_ending_at;
use crate::endpoints::Endpoint;
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
    /// As asked; day-only kinds are answered by day whatever it says.
    pub(super) unit: Unit,
    /// `None`: the series ends now.
    pub(super) ending_at: Option<Timestamp>,
    pub(super) app_id: Option<String>,
    pub(super) segment_id: Option<String>,
    pub(super) event: Option<String>,
    pub(super) product: Option<String>,
}

impl SeriesRequest {
    /// The series `endpoint` answers for this request.
    pub(super) fn series(&self, endpoint: Endpoint) -> Option<Series<'_>> {
        let app_id = self.app_id.as_deref();
        let segment_id = self.segment_id.as_deref();
        Some(match endpoint {
            Endpoint::Sessions => Series::Sessions { app_id, segment_id },
            Endpoint::Kpi(metric) => Series::Kpi { metric, app_id },
            Endpoint::Events => Series::Event {
                name: self.event.as_deref()?,
                app_id,
                segment_id,
            },
            Endpoint::PurchaseQuantity => Series::PurchaseQuantity {
                product: self.product.as_deref(),
                app_id,
            },
            Endpoint::Revenue => Series::Revenue {
                product: self.product.as_deref(),
                app_id,
            },
            Endpoint::SegmentSize => Series::SegmentSize {
                segment_id: segment_id?,
            },
            _ => return None,
        })
    }
}

/// How `/segments/list` orders segments by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortDirection {
    /// Oldest first (the default).
    Asc,
    /// Newest first.
    Desc,
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
    #[error("Invalid segment_id: {0} does not have analytics tracking enabled")]
    UntrackedSegment(String),
    #[error("Invalid event: {0}")]
    Event(String),
    #[error("Invalid product: {0}")]
    Product(String),
    /// A required parameter that is missing or empty.
    #[error("Invalid {0}: {0} is required")]
    Required(&'static str),
    #[error("Invalid page: page must be a non-negative integer")]
    Page,
    #[error("Invalid sort_direction: sort_direction must be 'asc' or 'desc'")]
    SortDirection,
    #[error("Invalid campaign_id: {0}")]
    CampaignId(String),
    #[error("Invalid canvas_id: {0}")]
    CanvasId(String),
    /// `/canvas/data_series`' own range of `length`.
    #[error("Invalid length: length must be an integer between 1 and 14")]
    CanvasLength,
    #[error("Invalid length: either length or starting_at is required")]
    LengthOrStartingAt,
    #[error(
        "Invalid starting_at: expected an ISO-8601 date or date-time no later than ending_at \
         and at most 14 days before it"
    )]
    StartingAt,
    /// A boolean parameter that is neither `true` nor `false`.
    #[error("Invalid {0}: {0} must be 'true' or 'false'")]
    Boolean(&'static str),
    #[error(
        "Invalid last_edit.time[gt]: expected an ISO-8601 date-time such as 2020-06-28T23:59:59"
    )]
    LastEdit,
}

/// The workspace a request is checked against.
#[derive(Debug)]
pub(super) struct Workspace {
    pub(super) time_zone: TimeZone,
    pub(super) apps: HashSet<String>,
    /// Segments with analytics tracking.
    pub(super) segments: HashSet<String>,
    /// Segments without analytics tracking: listed, but without series.
    pub(super) untracked_segments: HashSet<String>,
    pub(super) events: HashSet<String>,
    pub(super) products: HashSet<String>,
}

impl Workspace {
    /// The parameters of a data-series `endpoint`.
    pub(super) fn validate(
        &self,
        endpoint: Endpoint,
        query: &Query,
    ) -> Result<SeriesRequest, ParamError> {
        let length = query
            .get("length")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| LENGTH_RANGE.contains(n))
            .ok_or(ParamError::Length)?;
        let hourly = matches!(
            endpoint,
            Endpoint::Sessions | Endpoint::Events | Endpoint::PurchaseQuantity | Endpoint::Revenue
        );
        let unit = match query.get("unit") {
            _ if !hourly => Unit::Day,
            None => Unit::Day,
            Some("day") => Unit::Day,
            Some("hour") => Unit::Hour,
            Some(_) => return Err(ParamError::Unit),
        };
        let ending_at = query
            .get("ending_at")
            .map(|raw| parse_ending_at(raw, &self.time_zone).ok_or(ParamError::EndingAt))
            .transpose()?;
        let app_id = match endpoint {
            Endpoint::SegmentSize => None,
            _ => known(query.get("app_id"), &self.apps).map_err(ParamError::AppId)?,
        };
        let segment_id = match endpoint {
            Endpoint::Sessions | Endpoint::Events => {
                self.tracked_segment(query.get("segment_id"))?
            }
            Endpoint::SegmentSize => match query.get("segment_id") {
                None | Some("") => return Err(ParamError::Required("segment_id")),
                segment_id => self.tracked_segment(segment_id)?,
            },
            _ => None,
        };
        let event = match endpoint {
            Endpoint::Events => match query.get("event") {
                None | Some("") => return Err(ParamError::Required("event")),
                event => known(event, &self.events).map_err(ParamError::Event)?,
            },
            _ => None,
        };
        let product = match endpoint {
            Endpoint::PurchaseQuantity | Endpoint::Revenue => {
                known(query.get("product"), &self.products).map_err(ParamError::Product)?
            }
            _ => None,
        };
        Ok(SeriesRequest {
            length: u32::try_from(length).map_err(|_| ParamError::Length)?,
            unit,
            ending_at,
            app_id,
            segment_id,
            event,
            product,
        })
    }

    fn tracked_segment(&self, segment_id: Option<&str>) -> Result<Option<String>, ParamError> {
        match segment_id {
            Some(id) if self.untracked_segments.contains(id) => {
                Err(ParamError::UntrackedSegment(id.to_string()))
            }
            id => known(id, &self.segments).map_err(ParamError::SegmentId),
        }
    }
}

/// The `page` of a list: 0 when absent.
pub(super) fn page(query: &Query) -> Result<u64, ParamError> {
    match query.get("page") {
        None => Ok(0),
        Some(page) if !page.is_empty() && page.bytes().all(|b| b.is_ascii_digit()) => {
            page.parse().map_err(|_| ParamError::Page)
        }
        Some(_) => Err(ParamError::Page),
    }
}

/// The `sort_direction` of `/segments/list`: oldest first when absent.
pub(super) fn sort_direction(query: &Query) -> Result<SortDirection, ParamError> {
    match query.get("sort_direction") {
        None | Some("asc") => Ok(SortDirection::Asc),
        Some("desc") => Ok(SortDirection::Desc),
        Some(_) => Err(ParamError::SortDirection),
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
            untracked_segments: ["seg-off".to_string()].into(),
            events: ["signup".to_string()].into(),
            products: ["coins".to_string()].into(),
        }
    }

    fn check(query: &str) -> Result<SeriesRequest, ParamError> {
        check_for(Endpoint::Sessions, query)
    }

    fn check_for(endpoint: Endpoint, query: &str) -> Result<SeriesRequest, ParamError> {
        workspace().validate(endpoint, &Query::parse(Some(query)))
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
                event: None,
                product: None,
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
    fn each_endpoint_takes_its_own_parameters() {
        use crate::counts::Kpi;
        // Required parameters.
        assert_eq!(
            check_for(Endpoint::Events, "length=1"),
            Err(ParamError::Required("event"))
        );
        assert_eq!(
            check_for(Endpoint::Events, "length=1&event="),
            Err(ParamError::Required("event"))
        );
        assert_eq!(
            check_for(Endpoint::SegmentSize, "length=1"),
            Err(ParamError::Required("segment_id"))
        );
        // Unknown names, untracked segments.
        assert_eq!(
            check_for(Endpoint::Events, "length=1&event=nope"),
            Err(ParamError::Event("nope".into()))
        );
        assert_eq!(
            check_for(Endpoint::Revenue, "length=1&product=nope"),
            Err(ParamError::Product("nope".into()))
        );
        for endpoint in [Endpoint::Sessions, Endpoint::Events, Endpoint::SegmentSize] {
            assert_eq!(
                check_for(endpoint, "length=1&event=signup&segment_id=seg-off"),
                Err(ParamError::UntrackedSegment("seg-off".into())),
                "{endpoint:?}"
            );
        }
        // Day-only kinds ignore unit; parameters an endpoint lacks are ignored.
        let kpi = check_for(
            Endpoint::Kpi(Kpi::Dau),
            "length=2&unit=week&segment_id=zzz&product=zzz&app_id=app-1",
        )
        .unwrap();
        assert_eq!(kpi.unit, Unit::Day);
        assert_eq!(kpi.segment_id, None);
        assert_eq!(kpi.app_id.as_deref(), Some("app-1"));
        let size = check_for(
            Endpoint::SegmentSize,
            "length=2&unit=hour&app_id=zzz&segment_id=seg-1",
        )
        .unwrap();
        assert_eq!((size.unit, size.app_id), (Unit::Day, None));
        assert_eq!(
            check_for(Endpoint::Events, "length=1&unit=week&event=signup"),
            Err(ParamError::Unit)
        );
        let event = check_for(
            Endpoint::Events,
            "length=1&unit=hour&event=signup&product=zzz",
        )
        .unwrap();
        assert_eq!(
            (event.unit, event.event.as_deref(), event.product),
            (Unit::Hour, Some("signup"), None)
        );
        let revenue = check_for(Endpoint::Revenue, "length=1&product=coins&event=zzz").unwrap();
        assert_eq!(revenue.product.as_deref(), Some("coins"));
        // The first invalid parameter in order is reported.
        assert_eq!(
            check_for(Endpoint::Events, "length=0&event=nope"),
            Err(ParamError::Length)
        );
        assert_eq!(
            check_for(Endpoint::Events, "length=1&app_id=nope&event=nope"),
            Err(ParamError::AppId("nope".into()))
        );
    }

    #[test]
    fn reads_page_and_sort_direction() {
        let page_of = |q: &str| page(&Query::parse(Some(q)));
        assert_eq!(page_of(""), Ok(0));
        assert_eq!(page_of("page=0"), Ok(0));
        assert_eq!(page_of("page=12"), Ok(12));
        for q in [
            "page=",
            "page=-1",
            "page=1.5",
            "page=one",
            "page=+1",
            "page=99999999999999999999",
        ] {
            assert_eq!(page_of(q), Err(ParamError::Page), "{q}");
        }
        let sort = |q: &str| sort_direction(&Query::parse(Some(q)));
        assert_eq!(sort(""), Ok(SortDirection::Asc));
        assert_eq!(sort("sort_direction=asc"), Ok(SortDirection::Asc));
        assert_eq!(sort("sort_direction=desc"), Ok(SortDirection::Desc));
        assert_eq!(sort("sort_direction=DESC"), Err(ParamError::SortDirection));
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
