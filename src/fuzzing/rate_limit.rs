//! Braze's `X-RateLimit-*` headers and a gateway's `Retry-After`.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::braze::parsers::RetryAfter;
use crate::braze::RateLimit;

/// 2^53: every whole number up to it is an exact f64, so a header's number reads exactly.
const EXACT: u64 = 1 << 53;

/// The input's lines are headers (`name: value`); the whole input is also a `Retry-After`.
pub fn rate_limit(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_retry_after(&text);
    let headers = headers(data);
    let limit = RateLimit::from_headers(&headers);
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let read = limit.unwrap_or_default();
    for (name, got) in [
        ("x-ratelimit-limit", read.limit),
        ("x-ratelimit-remaining", read.remaining),
    ] {
        if let Some(said) = number(name).filter(|n| *n <= EXACT) {
            assert_eq!(got, Some(said), "{name}: {said} read as {got:?}");
        }
    }
    if let Some(said) = number("x-ratelimit-reset").filter(|n| *n <= EXACT) {
        let expected = i64::try_from(said)
            .ok()
            .and_then(|s| Timestamp::from_second(s).ok());
        assert_eq!(read.reset, expected, "x-ratelimit-reset: {said}");
    }
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(RetryAfter::parse);
    assert_eq!(read.retry_after, retry_after, "Retry-After read twice");
    let found = [read.limit, read.remaining].iter().any(Option::is_some)
        || read.reset.is_some()
        || read.retry_after.is_some();
    assert_eq!(
        limit.is_some(),
        found,
        "{limit:?}: present but empty, or lost"
    );
}

/// Lines of `name: value` that are valid HTTP headers; the rest is skipped.
fn headers(data: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

/// Seconds are all digits (a huge number is a very long wait); a negative or fractional
/// number is no `Retry-After` at all; a date in the past is no wait.
fn check_retry_after(text: &str) {
    let value = text.trim();
    let parsed = RetryAfter::parse(text);
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if digits {
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        assert_eq!(
            parsed,
            Some(RetryAfter::Delay(Duration::from_secs(seconds))),
            "Retry-After: {value:?}"
        );
    }
    let number = value.trim_start_matches('-').replacen('.', "", 1);
    if !digits && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        assert_eq!(parsed, None, "Retry-After: {value:?} is not valid");
    }
    if let Some(RetryAfter::At(at)) = parsed {
        let now: Timestamp = "2026-11-28T10:00:00Z".parse().expect("a valid instant");
        let wait = RetryAfter::At(at).wait_from(now);
        let expected = now.duration_until(at);
        match expected.is_positive() {
            true => assert_eq!(wait, expected.unsigned_abs(), "Retry-After: {value:?}"),
            false => assert_eq!(wait, Duration::ZERO, "Retry-After: {value:?}"),
        }
    }
}
