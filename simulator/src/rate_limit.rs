//! Braze's request budget: `X-RateLimit-Limit` requests per hour.
//!
//! Braze documents the budget and the headers, not the window. This uses fixed windows aligned
//! to whole UTC hours of the simulator's clock: `X-RateLimit-Reset` is the epoch second at which
//! the current window ends, and a new window starts with the full budget. Requests refused with
//! 429 do not use up budget.

use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;

const WINDOW_SECONDS: i64 = 3_600;

/// What the `X-RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RateLimitState {
    pub(super) limit: u64,
    pub(super) remaining: u64,
    /// UTC epoch seconds at which the window resets.
    pub(super) reset: i64,
}

#[derive(Debug)]
pub(super) struct RateLimiter {
    limit: u64,
    window: Mutex<Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    used: u64,
}

impl RateLimiter {
    pub(super) fn new(limit: u64) -> Self {
        Self {
            limit,
            window: Mutex::new(Window {
                start: i64::MIN,
                used: 0,
            }),
        }
    }

    /// Uses one request of the budget: `Err` (with nothing remaining) when it is spent.
    pub(super) fn acquire(&self, now: Timestamp) -> Result<RateLimitState, RateLimitState> {
        let mut window = self.current(now);
        if window.used < self.limit {
            window.used += 1;
            Ok(self.state(&window))
        } else {
            Err(self.state(&window))
        }
    }

    /// The headers for an answer that does not use the budget.
    pub(super) fn peek(&self, now: Timestamp) -> RateLimitState {
        self.state(&self.current(now))
    }

    /// The window containing `now`, locked; a new window starts empty.
    fn current(&self, now: Timestamp) -> MutexGuard<'_, Window> {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let start = now.as_second().div_euclid(WINDOW_SECONDS) * WINDOW_SECONDS;
        if window.start != start {
            *window = Window { start, used: 0 };
        }
        window
    }

    fn state(&self, window: &Window) -> RateLimitState {
        RateLimitState {
            limit: self.limit,
            remaining: self.limit.saturating_sub(window.used),
            reset: window.start.saturating_add(WINDOW_SECONDS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_refuses_past_the_limit_then_resets() {
        let limiter = RateLimiter::new(2);
        let t0: Timestamp = "2026-11-28T10:15:00Z".parse().unwrap();
        let reset = "2026-11-28T11:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second();
        let state = |remaining| RateLimitState {
            limit: 2,
            remaining,
            reset,
        };
        assert_eq!(limiter.peek(t0), state(2));
        assert_eq!(limiter.acquire(t0), Ok(state(1)));
        assert_eq!(limiter.acquire(t0), Ok(state(0)));
        assert_eq!(limiter.acquire(t0), Err(state(0)));
        assert_eq!(limiter.peek(t0), state(0));
        let t1: Timestamp = "2026-11-28T11:00:00Z".parse().unwrap();
        let next = limiter.acquire(t1).unwrap();
        assert_eq!((next.remaining, next.reset), (1, reset + 3_600));
    }
}
