//! Keeping the exporter's use of Braze's budget small and smooth.
//!
//! Braze allows 250,000 requests per hour per workspace, shared with every other integration.
//! Three rules decide when the next request may start:
//! - the hourly window: at most `braze.max_requests_per_hour` request starts in any hour;
//! - spreading: after the first refresh, starts are at least `spacing` apart, so a refresh is
//!   spread over most of the interval rather than burst at its start;
//! - the rate-limit gate: after a 429, or an answer saying no requests remain, nothing is sent
//!   until Braze's `X-RateLimit-Reset` or a gateway's `Retry-After`, whichever is later (or
//!   [`DEFAULT_RESET_WAIT`] without either).

use std::collections::VecDeque;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::braze::RateLimit;

const HOUR: Duration = Duration::from_secs(3600);

/// How long to hold off after a 429 that does not say when the window resets.
pub const DEFAULT_RESET_WAIT: Duration = Duration::from_secs(60);
/// The longest hold-off a reset time can impose, should Braze's clock or header be off.
pub const MAX_RESET_WAIT: Duration = HOUR;
/// The share of the interval a spread refresh aims to fill, leaving room for retries.
pub const SPREAD_SHARE: f64 = 0.8;

/// How a round's requests follow one another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// As fast as concurrency and the hourly budget allow: the first refresh, and the series a
    /// reload adds, so that data shows up at once.
    Burst,
    /// Spread over [`SPREAD_SHARE`] of the interval: every later refresh.
    Spread,
}

#[derive(Debug)]
pub struct Pacer {
    max_per_hour: usize,
    /// Start times of the requests of the last hour, oldest first.
    sent: VecDeque<Instant>,
    spacing: Duration,
    last_start: Option<Instant>,
    hold_off_until: Option<Instant>,
}

impl Pacer {
    pub fn new(max_per_hour: u64) -> Self {
        Self {
            max_per_hour: max_per_hour.max(1) as usize,
            sent: VecDeque::new(),
            spacing: Duration::ZERO,
            last_start: None,
            hold_off_until: None,
        }
    }

    /// A new budget applies from now on; the history of the last hour is kept.
    pub fn set_max_per_hour(&mut self, max_per_hour: u64) {
        self.max_per_hour = max_per_hour.max(1) as usize;
    }

    /// The minimum gap between request starts: none for a burst, else [`SPREAD_SHARE`] of the
    /// gap that `requests_per_hour` (every series once per its interval) leaves, and never less
    /// than the hourly budget's pace.
    pub fn set_spacing(&mut self, spacing: Spacing, requests_per_hour: f64) {
        self.spacing = match spacing {
            Spacing::Burst => Duration::ZERO,
            Spacing::Spread => {
                let budget_pace = HOUR / self.max_per_hour as u32;
                let spread_pace = match requests_per_hour {
                    r if r > 0.0 => HOUR.mul_f64(SPREAD_SHARE / r),
                    _ => Duration::ZERO,
                };
                spread_pace.max(budget_pace)
            }
        };
    }

    /// The earliest instant the next request may start.
    pub fn next_start(&mut self, now: Instant) -> Instant {
        while self.sent.front().is_some_and(|t| *t + HOUR <= now) {
            self.sent.pop_front();
        }
        let window = match self.sent.len() >= self.max_per_hour {
            true => self.sent[self.sent.len() - self.max_per_hour] + HOUR,
            false => now,
        };
        let spaced = self.last_start.map_or(now, |t| t + self.spacing);
        let gate = self.hold_off_until.unwrap_or(now);
        now.max(window).max(spaced).max(gate)
    }

    /// Records a request starting at `now`.
    pub fn started(&mut self, now: Instant) {
        self.sent.push_back(now);
        self.last_start = Some(now);
    }

    /// Holds every request until `now + wait` (clamped to [`MAX_RESET_WAIT`]).
    pub fn hold_off(&mut self, now: Instant, wait: Duration) {
        let until = now + wait.min(MAX_RESET_WAIT);
        self.hold_off_until = Some(self.hold_off_until.map_or(until, |t| t.max(until)));
    }

    pub fn hold_off_until(&self) -> Option<Instant> {
        self.hold_off_until
    }
}

/// How long to send nothing after an answer: after a 429 until Braze's reset or a gateway's
/// `Retry-After`, the longer of the two (at least a second; [`DEFAULT_RESET_WAIT`] without
/// either), or until the reset when Braze says no requests remain; `None` otherwise. `now` is
/// the wall clock the reset time is compared with.
pub fn hold_off_wait(
    limit: Option<&RateLimit>,
    rate_limited: bool,
    now: Timestamp,
) -> Option<Duration> {
    let until_reset = limit
        .and_then(|l| l.reset)
        .map(|reset| now.duration_until(reset).unsigned_abs());
    let retry_after = limit
        .filter(|_| rate_limited)
        .and_then(|l| l.retry_after_from(now));
    let exhausted = limit.and_then(|l| l.remaining) == Some(0);
    match (rate_limited, exhausted, until_reset.max(retry_after)) {
        (true, _, Some(wait)) => Some(wait.max(Duration::from_secs(1))),
        (true, _, None) => Some(DEFAULT_RESET_WAIT),
        (false, true, Some(wait)) => Some(wait),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hourly_window_caps_request_starts() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(3);
        for i in 0..3 {
            let at = t0 + Duration::from_secs(i);
            assert_eq!(pacer.next_start(at), at);
            pacer.started(at);
        }
        // The fourth waits until the first is an hour old.
        assert_eq!(pacer.next_start(t0 + Duration::from_secs(10)), t0 + HOUR);
        pacer.started(t0 + HOUR);
        assert_eq!(
            pacer.next_start(t0 + HOUR),
            t0 + HOUR + Duration::from_secs(1)
        );
    }

    #[test]
    fn spread_refreshes_space_their_starts() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(250_000);
        pacer.set_spacing(Spacing::Burst, 360.0);
        pacer.started(t0);
        assert_eq!(pacer.next_start(t0), t0, "a first refresh is not spread");
        pacer.set_spacing(Spacing::Spread, 360.0); // 10 series every 100 s
        assert_eq!(pacer.next_start(t0), t0 + Duration::from_secs(8));
        // A tight budget spaces further than the interval asks: 3600 s / 60 = 60 s.
        pacer.set_max_per_hour(60);
        pacer.set_spacing(Spacing::Spread, 360.0); // 10 series every 100 s
        assert_eq!(pacer.next_start(t0), t0 + Duration::from_secs(60));
    }

    #[test]
    fn a_hold_off_blocks_until_it_ends_and_is_capped() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(100);
        pacer.hold_off(t0, Duration::from_secs(30));
        assert_eq!(pacer.next_start(t0), t0 + Duration::from_secs(30));
        pacer.hold_off(t0, Duration::from_secs(10));
        assert_eq!(
            pacer.hold_off_until(),
            Some(t0 + Duration::from_secs(30)),
            "a shorter hold does not shorten"
        );
        pacer.hold_off(t0, Duration::from_secs(86_400));
        assert_eq!(pacer.hold_off_until(), Some(t0 + MAX_RESET_WAIT));
    }
}
