//! Braze's request budgets: `X-RateLimit-Limit` requests per hour (or per minute, for campaign
//! analytics).
//!
//! Braze documents the budgets and the headers, not the windows. This uses fixed windows aligned
//! to whole UTC hours (or minutes) of the simulator's clock: `X-RateLimit-Reset` is the epoch
//! second at which the current window ends, and a new window starts with the full budget.
//! Requests refused with 429 do not use up budget.

use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;

/// The length of a budget's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Window {
    Hour,
    Minute,
}

impl Window {
    fn seconds(self) -> i64 {
        match self {
            Window::Hour => 3_600,
            Window::Minute => 60,
        }
    }
}

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
    seconds: i64,
    window: Mutex<Used>,
}

/// What the current window has used.
#[derive(Debug, Clone, Copy)]
struct Used {
    start: i64,
    used: u64,
}

impl RateLimiter {
    pub(super) fn new(limit: u64, window: Window) -> Self {
        Self {
            limit,
            seconds: window.seconds(),
            window: Mutex::new(Used {
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
    fn current(&self, now: Timestamp) -> MutexGuard<'_, Used> {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let start = now.as_second().div_euclid(self.seconds) * self.seconds;
        if window.start != start {
            *window = Used { start, used: 0 };
        }
        window
    }

    fn state(&self, window: &Used) -> RateLimitState {
        RateLimitState {
            limit: self.limit,
            remaining: self.limit.saturating_sub(window.used),
            reset: window.start.saturating_add(self.seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_refuses_past_the_limit_then_resets() {
        let limiter = RateLimiter::new(2, Window::Hour);
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

    #[test]
    fn a_minute_window_resets_on_the_clock_minute() {
        let limiter = RateLimiter::new(1, Window::Minute);
        let t0: Timestamp = "2026-11-28T10:15:59.900Z".parse().unwrap();
        let reset = "2026-11-28T10:16:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second();
        assert_eq!(limiter.acquire(t0).map(|s| s.reset), Ok(reset));
        assert_eq!(
            limiter.acquire(t0).map_err(|s| (s.remaining, s.reset)),
            Err((0, reset))
        );
        let t1: Timestamp = "2026-11-28T10:16:00Z".parse().unwrap();
        let next = limiter.acquire(t1).unwrap();
        assert_eq!((next.limit, next.remaining, next.reset), (1, 0, reset + 60));
    }
}
