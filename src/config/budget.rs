//! What a configuration costs in Braze requests, and what its budget lets a refresh achieve.
//!
//! One pass over every series takes at least `refresh.interval`, and longer when
//! `braze.max_requests_per_hour` cannot cover the series in that time: the pacer then spaces
//! requests `3600 s / max_requests_per_hour` apart. A healthy series is refreshed once per such
//! pass, so its staleness is measured in passes the schedule can actually achieve, never in
//! intervals it cannot keep: otherwise healthy series would blank while the pacing comes round.

use std::time::Duration;

use super::{Config, Plan, DEFAULT_STALE_INTERVALS};
use crate::series::{Export, Lists, Pool};

const HOUR: Duration = Duration::from_secs(3600);

/// The exporter's share of Braze's campaign-analytics pool (50,000 requests a minute per
/// workspace): 4 %, the share `braze.max_requests_per_hour`'s default takes of the shared pool.
/// 1,000 campaigns refreshed hourly use under 1 % of it.
pub const CAMPAIGN_ANALYTICS_PER_MINUTE: u64 = 2_000;

/// The request cost of one configuration, block by block.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The shared pool's budget (`braze.max_requests_per_hour`).
    pub max_requests_per_hour: u64,
    pub exports: Vec<ExportCost>,
}

/// What one `export` block costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportCost {
    pub export: Export,
    /// The rate limit its endpoint draws on.
    pub pool: Pool,
    pub series: usize,
    pub interval: Duration,
    /// The block's `stale_after` as configured.
    pub stale_after: Duration,
}

impl ExportCost {
    /// Requests per hour that fetching each of its series once per interval takes.
    pub fn requests_per_hour(&self) -> f64 {
        self.series as f64 * HOUR.as_secs_f64() / self.interval.as_secs_f64()
    }
}

impl Budget {
    /// The cost of the configured series (what discovery may add is not known here).
    pub fn of(config: &Config) -> Self {
        Self::planned(config, &config.plan(&Lists::default()))
    }

    /// The cost of `plan`'s series.
    pub fn planned(config: &Config, plan: &Plan) -> Self {
        let exports = config
            .exports
            .iter()
            .map(|e| ExportCost {
                export: e.export,
                pool: e.export.pool(),
                series: plan
                    .series
                    .iter()
                    .filter(|s| e.kinds.contains(&s.kind))
                    .count(),
                interval: e.schedule.interval,
                stale_after: e.schedule.stale_after,
            })
            .collect();
        Self {
            max_requests_per_hour: config.braze.max_requests_per_hour,
            exports,
        }
    }

    pub fn series(&self) -> usize {
        self.exports.iter().map(|e| e.series).sum()
    }

    /// Requests per hour that fetching every series once per its interval takes.
    pub fn requests_per_hour(&self) -> f64 {
        self.exports.iter().map(ExportCost::requests_per_hour).sum()
    }

    /// The same, of the blocks whose endpoints draw on `pool`.
    pub fn requests_per_hour_in(&self, pool: Pool) -> f64 {
        self.exports
            .iter()
            .filter(|e| e.pool == pool)
            .map(ExportCost::requests_per_hour)
            .sum()
    }

    /// The exporter's budget in `pool`, per hour: `braze.max_requests_per_hour` for the
    /// shared pool, [`CAMPAIGN_ANALYTICS_PER_MINUTE`] for campaign analytics.
    pub fn max_per_hour(&self, pool: Pool) -> u64 {
        match pool {
            Pool::Shared | Pool::Lists => self.max_requests_per_hour,
            Pool::CampaignAnalytics => CAMPAIGN_ANALYTICS_PER_MINUTE * 60,
        }
    }

    /// The exporter's budget in `pool` as its pacer counts it: requests per window (the shared
    /// pool's hour; campaign analytics' minute, as Braze counts it there).
    pub fn per_window(&self, pool: Pool) -> (u64, Duration) {
        match pool {
            Pool::CampaignAnalytics => (CAMPAIGN_ANALYTICS_PER_MINUTE, Duration::from_secs(60)),
            _ => (self.max_per_hour(pool), HOUR),
        }
    }

    /// The pools the blocks draw on, each once, in [`Pool::ALL`]'s order.
    pub fn pools(&self) -> impl Iterator<Item = Pool> + '_ {
        Pool::ALL
            .into_iter()
            .filter(|p| self.exports.iter().any(|e| e.pool == *p))
    }

    /// Whether the budget of some pool cannot cover one request per series per interval.
    pub fn exceeded(&self) -> bool {
        self.pools().any(|pool| self.exceeded_in(pool))
    }

    fn exceeded_in(&self, pool: Pool) -> bool {
        self.requests_per_hour_in(pool) > self.max_per_hour(pool) as f64
    }

    /// How many times longer than its interval a pass of `pool`'s blocks takes: 1 within the
    /// pool's budget, else the needed rate over it (the pacer then spaces every request of
    /// the pool at the budget's pace).
    fn stretch(&self, pool: Pool) -> f64 {
        (self.requests_per_hour_in(pool) / self.max_per_hour(pool).max(1) as f64).max(1.0)
    }

    fn cost(&self, export: Export) -> Option<&ExportCost> {
        self.exports.iter().find(|e| e.export == export)
    }

    /// How long one pass over the block's series takes at best.
    pub fn achievable_pass(&self, export: Export) -> Duration {
        self.cost(export)
            .map_or(Duration::ZERO, |e| e.interval.mul_f64(self.stretch(e.pool)))
    }

    /// How long a series of the block keeps its values without a successful fetch: its
    /// `stale_after`, raised to [`DEFAULT_STALE_INTERVALS`] achievable passes when the budget
    /// makes a pass longer than the interval, so only a series Braze stopped answering goes
    /// blank.
    pub fn effective_stale_after(&self, export: Export) -> Duration {
        let Some(cost) = self.cost(export) else {
            return Duration::ZERO;
        };
        let pass = self.achievable_pass(export);
        match pass > cost.interval {
            true => cost.stale_after.max(pass * DEFAULT_STALE_INTERVALS),
            false => cost.stale_after,
        }
    }

    /// What `--config.check` prints and the exporter logs when a pool's budget is too small:
    /// one sentence per such pool.
    pub fn warning(&self) -> Option<String> {
        let warnings: Vec<String> = self
            .pools()
            .filter(|pool| self.exceeded_in(*pool))
            .map(|pool| self.pool_warning(pool))
            .collect();
        (!warnings.is_empty()).then(|| warnings.join(". "))
    }

    fn pool_warning(&self, pool: Pool) -> String {
        let series: usize = self
            .exports
            .iter()
            .filter(|e| e.pool == pool)
            .map(|e| e.series)
            .sum();
        let over = match pool {
            Pool::CampaignAnalytics => format!(
                "the exporter's share of the campaign analytics pool ({})",
                self.max_per_hour(pool)
            ),
            _ => format!(
                "braze.max_requests_per_hour ({})",
                self.max_requests_per_hour
            ),
        };
        let mut text = format!(
            "{series} series need {:.0} requests per hour, over {over}: \
             refreshes will take longer than their interval and be skipped; raise the budget, \
             lengthen the intervals, or poll fewer series",
            self.requests_per_hour_in(pool),
        );
        for cost in self
            .exports
            .iter()
            .filter(|e| e.series > 0 && e.pool == pool)
        {
            let (pass, stale) = (
                self.achievable_pass(cost.export),
                self.effective_stale_after(cost.export),
            );
            text.push_str(&format!(
                ". {}: {} series every {}: each refresh will take about {}",
                cost.export.as_str(),
                cost.series,
                humantime::format_duration(cost.interval),
                humantime::format_duration(whole_seconds(pass)),
            ));
            if stale > cost.stale_after {
                text.push_str(&format!(
                    "; series keep their values for {} without an answer from Braze (3 such \
                     refreshes), not its stale_after ({}), so that healthy series do not go \
                     blank while the pacing comes round",
                    humantime::format_duration(whole_seconds(stale)),
                    humantime::format_duration(cost.stale_after),
                ));
            }
        }
        text
    }
}

fn whole_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs_f64().ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(series: usize, interval: u64, max: u64, stale: u64) -> Budget {
        Budget {
            max_requests_per_hour: max,
            exports: vec![ExportCost {
                export: Export::Sessions,
                pool: Pool::Shared,
                series,
                interval: Duration::from_secs(interval),
                stale_after: Duration::from_secs(stale),
            }],
        }
    }

    const S: Export = Export::Sessions;

    #[test]
    fn within_budget_nothing_changes() {
        let b = budget(24, 300, 10_000, 900);
        assert_eq!(b.requests_per_hour(), 288.0);
        assert!(!b.exceeded());
        assert_eq!(b.achievable_pass(S), Duration::from_secs(300));
        assert_eq!(b.effective_stale_after(S), Duration::from_secs(900));
        assert_eq!(b.warning(), None);
    }

    #[test]
    fn a_tight_budget_stretches_the_pass_and_the_staleness() {
        // The example: 12 series every 2 s with 1,800 requests per hour: one request
        // every 2 s, so a pass takes 24 s and a healthy series is 24 s old before its next answer.
        let b = budget(12, 2, 1800, 6);
        assert!(b.exceeded());
        assert_eq!(b.achievable_pass(S), Duration::from_secs(24));
        assert_eq!(b.effective_stale_after(S), Duration::from_secs(72));
        let warning = b.warning().unwrap();
        assert!(
            warning.contains("each refresh will take about 24s"),
            "{warning}"
        );
        assert!(
            warning.contains("keep their values for 1m 12s"),
            "{warning}"
        );
        // The shipped defaults with 3,000 series: a pass takes 18 min, past the 15 min default.
        let defaults = budget(3000, 300, 10_000, 900);
        assert_eq!(defaults.achievable_pass(S), Duration::from_secs(1080));
        assert_eq!(defaults.effective_stale_after(S), Duration::from_secs(3240));
    }

    #[test]
    fn a_longer_configured_staleness_is_kept() {
        let b = budget(12, 2, 1800, 3600);
        assert_eq!(b.effective_stale_after(S), Duration::from_secs(3600));
        assert!(!b.warning().unwrap().contains("keep their values"));
    }

    #[test]
    fn blocks_share_the_budget() {
        let mut b = budget(100, 300, 2000, 900);
        b.exports.push(ExportCost {
            export: Export::Kpis,
            pool: Pool::Shared,
            series: 1000,
            interval: Duration::from_secs(3600),
            stale_after: Duration::from_secs(10_800),
        });
        // 1,200 + 1,000 requests per hour against 2,000: every pass takes 1.1 times longer.
        assert_eq!(b.requests_per_hour(), 2200.0);
        assert_eq!(b.achievable_pass(S), Duration::from_secs(330));
        assert_eq!(b.achievable_pass(Export::Kpis), Duration::from_secs(3960));
        assert_eq!(b.effective_stale_after(S), Duration::from_secs(990));
    }

    #[test]
    fn the_campaign_pool_is_its_own_budget() {
        // 1,000 campaigns hourly on their own pool leave a tight shared budget untouched.
        let mut b = budget(100, 300, 1200, 900);
        b.exports.push(ExportCost {
            export: Export::Campaigns,
            pool: Pool::CampaignAnalytics,
            series: 1000,
            interval: HOUR,
            stale_after: HOUR * 3,
        });
        assert_eq!(b.requests_per_hour(), 2200.0);
        assert_eq!(b.requests_per_hour_in(Pool::Shared), 1200.0);
        assert!(!b.exceeded());
        assert_eq!(b.achievable_pass(S), Duration::from_secs(300));
        // Every minute, 1,000 campaigns are 60,000 an hour: within 2,000 a minute.
        b.exports[1].interval = Duration::from_secs(60);
        assert!(!b.exceeded());
        b.exports[1].series = 2500;
        assert!(b.exceeded());
        let warning = b.warning().unwrap();
        assert!(
            warning.starts_with("2500 series need 150000 requests per hour, over the exporter's share of the campaign analytics pool (120000)"),
            "{warning}"
        );
        assert_eq!(b.achievable_pass(S), Duration::from_secs(300));
        assert_eq!(
            b.achievable_pass(Export::Campaigns),
            Duration::from_secs(75)
        );
    }
}
