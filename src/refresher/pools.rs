//! One pacer per rate-limit pool a workspace's series draw on: Braze counts the shared hourly
//! pool and the per-minute campaign-analytics pool apart, so a 429 or an exhausted
//! `X-RateLimit-Remaining` in one holds off only that pool's requests, and each is paced in
//! its own window.

use tokio::time::Instant;

use crate::config::Budget;
use crate::pacing::{Pacer, Spacing};
use crate::series::Pool;

#[derive(Debug)]
pub(super) struct Pacers {
    /// Every pool of [`Pool::ALL`] the refresher sends to, in that order.
    by_pool: Vec<(Pool, Pacer)>,
}

impl Pacers {
    pub(super) fn new(budget: &Budget) -> Self {
        let by_pool = Pool::ALL
            .into_iter()
            .filter(|p| *p != Pool::Lists)
            .map(|pool| {
                let (max, window) = budget.per_window(pool);
                (pool, Pacer::with_window(max, window))
            })
            .collect();
        Self { by_pool }
    }

    /// The pacer of `pool` (the lists pool is discovery's: the shared one stands in).
    pub(super) fn of(&mut self, pool: Pool) -> &mut Pacer {
        let i = self
            .by_pool
            .iter()
            .position(|(p, _)| *p == pool)
            .unwrap_or(0);
        &mut self.by_pool[i].1
    }

    /// The earliest instant a request of `pool` may start.
    pub(super) fn next_start(&mut self, pool: Pool, now: Instant) -> Instant {
        self.of(pool).next_start(now)
    }

    /// A new budget applies from now on, each pool's history kept.
    pub(super) fn set_budget(&mut self, budget: &Budget) {
        for (pool, pacer) in &mut self.by_pool {
            pacer.set_max_per_hour(budget.per_window(*pool).0);
        }
    }

    /// Spreads each pool's requests over its own blocks' intervals.
    pub(super) fn set_spacing(&mut self, spacing: Spacing, budget: &Budget) {
        for (pool, pacer) in &mut self.by_pool {
            pacer.set_spacing(spacing, budget.requests_per_hour_in(*pool));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn each_pool_is_paced_in_its_own_window() {
        let budget = Budget {
            max_requests_per_hour: 10,
            exports: Vec::new(),
        };
        let mut pacers = Pacers::new(&budget);
        let t0 = Instant::now();
        let (per_minute, window) = budget.per_window(Pool::CampaignAnalytics);
        assert_eq!(window, Duration::from_secs(60));
        for _ in 0..per_minute {
            pacers.of(Pool::CampaignAnalytics).started(t0);
        }
        let next = pacers.next_start(Pool::CampaignAnalytics, t0);
        assert!(
            next > t0 && next <= t0 + Duration::from_secs(61),
            "a spent minute waits for the next, not an hour: {:?}",
            next - t0
        );
        assert_eq!(
            pacers.next_start(Pool::Shared, t0),
            t0,
            "the shared pool is untouched"
        );
        pacers
            .of(Pool::CampaignAnalytics)
            .hold_off(t0, Duration::from_secs(600));
        assert_eq!(
            pacers.next_start(Pool::Shared, t0),
            t0,
            "a hold-off is its pool's"
        );
    }
}
