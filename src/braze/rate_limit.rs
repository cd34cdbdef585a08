//! Braze's `X-RateLimit-*` headers, present on every response, and `Retry-After`.
//!
//! Braze documents only `X-RateLimit-Reset` for a 429; gateways in front of it (an API
//! gateway, a corporate proxy) answer 429 with `Retry-After` instead, as RFC 9110 has it:
//! a number of seconds or an HTTP-date.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The workspace's request budget as of one response. Every field is optional: a load
/// balancer's error page carries none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// When the window resets (`X-RateLimit-Reset`, UTC epoch seconds).
    pub reset: Option<Timestamp>,
    /// `Retry-After`, when the response had a valid one.
    pub retry_after: Option<RetryAfter>,
}

/// A `Retry-After` header: a delay from the response, or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 120`.
    Delay(Duration),
    /// `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` (an IMF-fixdate, or any RFC 2822 date).
    At(Timestamp),
}

impl RetryAfter {
    /// Reads the header's value; `None` when it is neither a whole number of seconds nor a
    /// date (a negative or fractional number is not valid either).
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let value = value.trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // More digits than u64 holds is still "a very long time".
            let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
            return Some(RetryAfter::Delay(Duration::from_secs(seconds)));
        }
        jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(value)
            .ok()
            .map(RetryAfter::At)
    }

    /// How long to wait from `now`: a date in the past is no wait.
    pub fn wait_from(self, now: Timestamp) -> Duration {
        match self {
            RetryAfter::Delay(delay) => delay,
            RetryAfter::At(at) if at > now => now.duration_until(at).unsigned_abs(),
            RetryAfter::At(_) => Duration::ZERO,
        }
    }
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
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(RetryAfter::parse);
        let found =
            limit.is_some() || remaining.is_some() || reset.is_some() || retry_after.is_some();
        found.then_some(RateLimit {
            limit,
            remaining,
            reset,
            retry_after,
        })
    }

    /// How long `Retry-After` asks to wait from `now`, if the response had one.
    pub fn retry_after_from(&self, now: Timestamp) -> Option<Duration> {
        self.retry_after.map(|r| r.wait_from(now))
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
    fn retry_after_is_seconds_or_an_http_date() {
        let now: Timestamp = "2026-10-21T07:28:00Z".parse().unwrap();
        let wait = |v: &str| RetryAfter::parse(v).map(|r| r.wait_from(now));
        assert_eq!(wait("120"), Some(Duration::from_secs(120)));
        assert_eq!(wait(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            wait("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            wait("Wed, 21 Oct 2026 07:30:30 GMT"),
            Some(Duration::from_secs(150))
        );
        assert_eq!(
            wait("Wed, 21 Oct 2026 07:00:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past is no wait"
        );
        for bad in ["", "-5", "1.5", "soon", "120s"] {
            assert_eq!(RetryAfter::parse(bad), None, "{bad:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("30"));
        let limit = RateLimit::from_headers(&headers).expect("Retry-After alone is enough");
        assert_eq!(limit.reset, None);
        assert_eq!(limit.retry_after_from(now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn absent_or_garbage_headers_are_none() {
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("-4"));
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("lots"));
        headers.insert("retry-after", HeaderValue::from_static("later"));
        assert_eq!(RateLimit::from_headers(&headers), None);
    }
}
