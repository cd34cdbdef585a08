//! `http_server_config` (HTTP/2 and extra response headers) and `rate_limit`, as
//! exporter-toolkit reads them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    http2: Option<bool>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    burst: Option<i64>,
    /// A Go duration (`1s`, `500ms`, `1m30s`) or a number of nanoseconds, as Go's YAML reads it.
    interval: Option<serde_norway::Value>,
}

/// The headers exporter-toolkit lets a web config add, each with the values it allows
/// (none listed: any value). Kept to these, as in the toolkit, for consistency across the
/// Prometheus ecosystem.
const ALLOWED_HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// What the web config asks of every HTTP response.
#[derive(Debug)]
pub struct HttpSettings {
    /// Whether HTTP/2 is offered over TLS (ALPN `h2`).
    pub http2: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    limiter: Option<RateLimiter>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            http2: true,
            headers: Vec::new(),
            limiter: None,
        }
    }
}

impl HttpSettings {
    pub(super) fn new(http: RawHttp, rate: RawRateLimit) -> Result<Self, String> {
        let mut headers = Vec::new();
        for (name, value) in http.headers.unwrap_or_default() {
            let Some((canonical, allowed)) = ALLOWED_HEADERS
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(&name))
            else {
                let names: Vec<_> = ALLOWED_HEADERS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "http_server_config.headers: HTTP header {name:?} can not be configured \
                     (exporter-toolkit allows {})",
                    names.join(", ")
                ));
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                return Err(format!(
                    "http_server_config.headers.{canonical}: invalid value {value:?}; expected one of {allowed:?}"
                ));
            }
            let value = HeaderValue::from_str(&value).map_err(|_| {
                format!(
                    "http_server_config.headers.{canonical}: {value:?} is not a valid header value"
                )
            })?;
            headers.push((HeaderName::from_static(lowercase(canonical)), value));
        }
        Ok(Self {
            http2: http.http2.unwrap_or(true),
            headers,
            limiter: RateLimiter::new(rate)?,
        })
    }

    /// Whether the rate limit (if any) lets one more request through now.
    pub fn admits_request(&self) -> bool {
        self.limiter.as_ref().is_none_or(RateLimiter::allow)
    }

    /// Sets the configured headers on a response.
    pub fn add_headers(&self, headers: &mut hyper::HeaderMap) {
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
    }
}

fn lowercase(name: &'static str) -> &'static str {
    match name {
        "Strict-Transport-Security" => "strict-transport-security",
        "X-Content-Type-Options" => "x-content-type-options",
        "X-Frame-Options" => "x-frame-options",
        "X-XSS-Protection" => "x-xss-protection",
        _ => "content-security-policy",
    }
}

/// A token bucket as Go's `rate.Limiter`: one token per `interval`, at most `burst` saved,
/// full at the start. A burst of 0 admits nothing, as in the toolkit.
#[derive(Debug)]
struct RateLimiter {
    interval: Duration,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    fn new(raw: RawRateLimit) -> Result<Option<Self>, String> {
        let interval = match raw.interval {
            None | Some(serde_norway::Value::Null) => Duration::ZERO,
            Some(serde_norway::Value::Number(n)) => match n.as_u64() {
                Some(nanos) => Duration::from_nanos(nanos),
                None => {
                    return Err(format!(
                        "rate_limit.interval: {n} is not a duration of zero or more nanoseconds"
                    ))
                }
            },
            Some(serde_norway::Value::String(text)) => go_duration(&text).ok_or_else(|| {
                format!("rate_limit.interval: {text:?} is not a duration (like 1s, 500ms, 1m30s)")
            })?,
            Some(_) => return Err("rate_limit.interval: must be a duration (like 1s)".to_string()),
        };
        let burst = raw.burst.unwrap_or(0);
        if burst < 0 {
            return Err(format!("rate_limit.burst: {burst} must not be negative"));
        }
        if interval.is_zero() {
            return Ok(None);
        }
        let burst = burst as f64;
        Ok(Some(Self {
            interval,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }))
    }

    fn allow(&self) -> bool {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let earned = now.duration_since(state.1).as_secs_f64() / self.interval.as_secs_f64();
        *state = ((state.0 + earned).min(self.burst), now);
        if state.0 >= 1.0 {
            state.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Go's `time.ParseDuration` for durations of zero or more: `1h30m`, `1.5s`, `250ms`, `0`.
fn go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit..];
        total += number * seconds;
    }
    (!text.is_empty()).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "1", "s", "1d", "-1s", "1s2"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }
}
