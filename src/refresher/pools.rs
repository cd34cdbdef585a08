//! One pacer per rate-limit pool a workspace's series draw on: Braze counts the shared hourly
//! pool and the campaign-analytics pool apart, so a 429 or an exhausted
//! `X-RateLimit-Remaining` in one holds off only that pool's requests.

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
            .map(|pool| (pool, Pacer::new(budget.max_per_hour(pool))))
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
            pacer.set_max_per_hour(budget.max_per_hour(*pool));
        }
    }

    /// Spreads each pool's requests over its own blocks' intervals.
    pub(super) fn set_spacing(&mut self, spacing: Spacing, budget: &Budget) {
        for (pool, pacer) in &mut self.by_pool {
            pacer.set_spacing(spacing, budget.requests_per_hour_in(*pool));
        }
    }
}
