//! Braze's `X-RateLimit-*` headers, present on every response.

use jiff::Timestamp;
use reqwest::header::HeaderMap;

/// The workspace's request budget as of one response. Every field is optional: a load
/// balancer's error page carries none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// When the window resets (`X-RateLimit-Reset`, UTC epoch seconds).
    pub reset: Option<Timestamp>,
}

impl RateLimit {
    /// Reads the headers (names are case-insensitive, as HTTP/2 lower-cases them);
    /// `None` when none is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let number = |name: &str| {
            headers
                .get(name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        let limit = number("x-ratelimit-limit").map(|n| n as u64);
        let remaining = number("x-ratelimit-remaining").map(|n| n as u64);
        let reset =
            number("x-ratelimit-reset").and_then(|secs| Timestamp::from_second(secs as i64).ok());
        let found = limit.is_some() || remaining.is_some() || reset.is_some();
        found.then_some(RateLimit {
            limit,
            remaining,
            reset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_every_header_in_any_case() {
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Limit", HeaderValue::from_static("250000"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("249999"));
        headers.insert("X-RATELIMIT-RESET", HeaderValue::from_static("1795000000"));
        let limit = RateLimit::from_headers(&headers).unwrap();
        assert_eq!(limit.limit, Some(250_000));
        assert_eq!(limit.remaining, Some(249_999));
        assert_eq!(
            limit.reset,
            Some(Timestamp::from_second(1_795_000_000).unwrap())
        );
    }

    #[test]
    fn absent_or_garbage_headers_are_none() {
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("-4"));
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("lots"));
        assert_eq!(RateLimit::from_headers(&headers), None);
    }
}
