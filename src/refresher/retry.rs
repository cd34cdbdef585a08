//! Retrying within a refresh: what is worth retrying, and how long to wait first.
//!
//! Braze advises exponential backoff for 5xx; timeouts and broken connections are treated the
//! same. A 429 waits for the rate-limit reset (see `pacing`), then may be retried. A 400, 401,
//! 403 or 404 is not fixed by asking again, nor is a body that is not the documented JSON.

use std::time::Duration;

use crate::braze::{FailureReason, FetchError};
use crate::series::Series;

/// Attempts per series per refresh, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
const BASE: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(30);

pub fn is_retryable(error: &FetchError) -> bool {
    matches!(
        error.reason(),
        FailureReason::ServerError
            | FailureReason::Timeout
            | FailureReason::Connection
            | FailureReason::RateLimited
    )
}

/// The wait before attempt `attempt + 1` (attempt counts from 1): `BASE × 2^(attempt-1)`,
/// capped at `CAP`, scaled by a jitter in [0.5, 1) that differs between series and attempts so
/// that failed series do not retry in lockstep. Deterministic, so tests can predict it.
pub fn backoff(series: &Series, attempt: u32) -> Duration {
    let exponential = BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(CAP);
    exponential.mul_f64(0.5 + 0.5 * jitter(series, attempt))
}

/// A number in [0, 1) from the series and the attempt: std's hasher with its fixed keys, so
/// the same series and attempt always wait the same.
fn jitter(series: &Series, attempt: u32) -> f64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (series, attempt).hash(&mut hasher);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Scope;

    fn series(name: &str) -> Series {
        Series::sessions(Scope::named(name, "x"), Scope::all())
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let s = series("ios");
        for attempt in 1..=10 {
            let full = (BASE * (1 << (attempt - 1))).min(CAP);
            let wait = backoff(&s, attempt);
            assert!(
                wait >= full / 2 && wait < full,
                "attempt {attempt}: {wait:?} vs {full:?}"
            );
        }
        assert!(backoff(&s, 30) < CAP);
    }

    #[test]
    fn jitter_differs_between_series() {
        assert_ne!(backoff(&series("ios"), 2), backoff(&series("android"), 2));
        assert_eq!(backoff(&series("ios"), 2), backoff(&series("ios"), 2));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let status = |status| FetchError::Status {
            status,
            message: None,
        };
        assert!(is_retryable(&status(500)));
        assert!(is_retryable(&status(503)));
        assert!(is_retryable(&status(429)));
        assert!(is_retryable(&FetchError::Timeout));
        assert!(is_retryable(&FetchError::Connection("reset".into())));
        for s in [400, 401, 403, 404] {
            assert!(!is_retryable(&status(s)), "{s}");
        }
        assert!(!is_retryable(&FetchError::Malformed("x".into())));
        assert!(!is_retryable(&FetchError::TooLarge { limit: 1 }));
    }
}
