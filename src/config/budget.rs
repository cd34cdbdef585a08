//! What a configuration costs in Braze requests, and what its budget lets a refresh achieve.
//!
//! One pass over every series takes at least `refresh.interval`, and longer when
//! `braze.max_requests_per_hour` cannot cover the series in that time: the pacer then spaces
//! requests `3600 s / max_requests_per_hour` apart. A healthy series is refreshed once per such
//! pass, so its staleness is measured in passes the schedule can actually achieve, never in
//! intervals it cannot keep: otherwise healthy series would blank while the pacing comes round.

use std::time::Duration;

use super::{Config, Plan, DEFAULT_STALE_INTERVALS};
use crate::series::{Export, Lists};

const HOUR: Duration = Duration::from_secs(3600);

/// The request cost of one configuration, block by block.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub max_requests_per_hour: u64,
    pub exports: Vec<ExportCost>,
}

/// What one `export` block costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportCost {
    pub export: Export,
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

    /// Whether the budget cannot cover one request per series per interval.
    pub fn exceeded(&self) -> bool {
        self.requests_per_hour() > self.max_requests_per_hour as f64
    }

    /// How many times longer than its interval a pass takes: 1 within the budget, else the
    /// needed rate over the budget (the pacer then spaces every request at the budget's pace).
    fn stretch(&self) -> f64 {
        (self.requests_per_hour() / self.max_requests_per_hour.max(1) as f64).max(1.0)
    }

    fn cost(&self, export: Export) -> Option<&ExportCost> {
        self.exports.iter().find(|e| e.export == export)
    }

    /// How long one pass over the block's series takes at best.
    pub fn achievable_pass(&self, export: Export) -> Duration {
        self.cost(export)
            .map_or(Duration::ZERO, |e| e.interval.mul_f64(self.stretch()))
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

    /// What `--config.check` prints and the exporter logs when the budget is too small.
    pub fn warning(&self) -> Option<String> {
        if !self.exceeded() {
            return None;
        }
        let mut text = format!(
            "{} series need {:.0} requests per hour, over braze.max_requests_per_hour ({}): \
             refreshes will take longer than their interval and be skipped; raise the budget, \
             lengthen the intervals, or poll fewer series",
            self.series(),
            self.requests_per_hour(),
            self.max_requests_per_hour,
        );
        for cost in self.exports.iter().filter(|e| e.series > 0) {
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
        Some(text)
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
}
