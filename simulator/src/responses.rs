//! The bodies and headers of the simulator's answers.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use super::counts::Point;
use super::rate_limit::RateLimitState;

pub(super) type Body = Full<Bytes>;

/// Braze's success body of a data series: `{"message": "success", "data": [{"time": …,
/// "<field>": …}, …]}`, counts as integers and cents as a decimal number of dollars.
pub(super) fn series_body(field: &'static str, cents: bool, points: &[Point]) -> Vec<u8> {
    let data: Vec<PointJson<'_>> = points
        .iter()
        .map(|point| PointJson {
            point,
            field,
            cents,
        })
        .collect();
    let body = SeriesBody {
        message: "success",
        data,
    };
    serde_json::to_vec(&body).expect("a series serializes")
}

#[derive(serde::Serialize)]
struct SeriesBody<'a> {
    message: &'static str,
    data: Vec<PointJson<'a>>,
}

/// `{"time": …, "<field>": …}`, in that order.
struct PointJson<'a> {
    point: &'a Point,
    field: &'static str,
    cents: bool,
}

impl serde::Serialize for PointJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("time", &self.point.time)?;
        if self.cents {
            map.serialize_entry(self.field, &(self.point.units as f64 / 100.0))?;
        } else {
            map.serialize_entry(self.field, &self.point.units)?;
        }
        map.end()
    }
}

/// Braze's error body: `{"message": "..."}`, with `errors` when given.
pub(super) fn braze_error(
    status: StatusCode,
    message: &str,
    errors: Option<&[&str]>,
    rate: Option<RateLimitState>,
) -> Response<Body> {
    let body = match errors {
        None => serde_json::json!({ "message": message }),
        Some(errors) => serde_json::json!({ "message": message, "errors": errors }),
    };
    json_response(status, body.to_string(), rate)
}

pub(super) fn json_response(
    status: StatusCode,
    body: impl Into<Bytes>,
    rate: Option<RateLimitState>,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(rate) = rate {
        headers.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(rate.reset));
    }
    response
}

/// What a load balancer says when Braze is not there: HTML, no JSON, no rate-limit headers.
pub(super) fn load_balancer_error(status: StatusCode) -> Response<Body> {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Exactly `size` bytes: valid JSON when there is room for it, spaces otherwise.
pub(super) fn oversized_body(size: usize) -> Vec<u8> {
    const HEAD: &[u8] = br#"{"message":"success","data":[],"padding":""#;
    const TAIL: &[u8] = br#""}"#;
    if size < HEAD.len() + TAIL.len() {
        return vec![b' '; size];
    }
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(HEAD);
    body.resize(size - TAIL.len(), b'x');
    body.extend_from_slice(TAIL);
    body
}
