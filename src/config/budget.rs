//! What a configuration costs in Braze requests, and what its budget lets a refresh achieve.
//!
//! One pass over every series takes at least `refresh.interval`, and longer when
//! `braze.max_requests_per_hour` cannot cover the series in that time: the pacer then spaces
//! requests `3600 s / max_requests_per_hour` apart. A healthy series is refreshed once per such
//! pass, so its staleness is measured in passes the schedule can actually achieve, never in
//! intervals it cannot keep: otherwise healthy series would blank while the pacing comes round.

use std::time::Duration;

use super::{Config, DEFAULT_STALE_INTERVALS};

const HOUR: Duration = Duration::from_secs(3600);

/// The request cost of one configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub series: usize,
    pub interval: Duration,
    pub max_requests_per_hour: u64,
    /// `refresh.stale_after` as configured.
    pub stale_after: Duration,
}

impl Budget {
    pub fn of(config: &Config) -> Self {
        Self {
            series: config.series_count(),
            interval: config.refresh.interval,
            max_requests_per_hour: config.braze.max_requests_per_hour,
            stale_after: config.refresh.stale_after,
        }
    }

    /// Requests per hour that fetching every series once per interval takes.
    pub fn requests_per_hour(&self) -> f64 {
        self.series as f64 * HOUR.as_secs_f64() / self.interval.as_secs_f64()
    }

    /// Whether the budget cannot cover one request per series per interval.
    pub fn exceeded(&self) -> bool {
        self.requests_per_hour() > self.max_requests_per_hour as f64
    }

    /// How long one pass over every series takes at best: the interval, or the budget's pace
    /// times the series when that is longer.
    pub fn achievable_pass(&self) -> Duration {
        let paced =
            HOUR.as_secs_f64() * self.series as f64 / self.max_requests_per_hour.max(1) as f64;
        self.interval.max(Duration::from_secs_f64(paced))
    }

    /// How long a series keeps its values without a successful fetch: `refresh.stale_after`,
    /// raised to [`DEFAULT_STALE_INTERVALS`] achievable passes when the budget makes a pass
    /// longer than the interval, so only a series that Braze stopped answering goes blank.
    pub fn effective_stale_after(&self) -> Duration {
        let pass = self.achievable_pass();
        match pass > self.interval {
            true => self.stale_after.max(pass * DEFAULT_STALE_INTERVALS),
            false => self.stale_after,
        }
    }

    /// What `--config.check` prints and the exporter logs when the budget is too small.
    pub fn warning(&self) -> Option<String> {
        if !self.exceeded() {
            return None;
        }
        let pass = whole_seconds(self.achievable_pass());
        let mut text = format!(
            "{} series every {} need {:.0} requests per hour, over braze.max_requests_per_hour ({}): \
             each refresh will take about {} and refreshes will be skipped; raise the budget, \
             lengthen refresh.interval, or poll fewer series",
            self.series,
            humantime::format_duration(self.interval),
            self.requests_per_hour(),
            self.max_requests_per_hour,
            humantime::format_duration(pass),
        );
        let stale = self.effective_stale_after();
        if stale > self.stale_after {
            text.push_str(&format!(
                ". Series keep their values for {} without an answer from Braze (3 such refreshes), \
                 not refresh.stale_after ({}), so that healthy series do not go blank while the \
                 pacing comes round",
                humantime::format_duration(whole_seconds(stale)),
                humantime::format_duration(self.stale_after),
            ));
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
            series,
            interval: Duration::from_secs(interval),
            max_requests_per_hour: max,
            stale_after: Duration::from_secs(stale),
        }
    }

    #[test]
    fn within_budget_nothing_changes() {
        let b = budget(24, 300, 10_000, 900);
        assert_eq!(b.requests_per_hour(), 288.0);
        assert!(!b.exceeded());
        assert_eq!(b.achievable_pass(), Duration::from_secs(300));
        assert_eq!(b.effective_stale_after(), Duration::from_secs(900));
        assert_eq!(b.warning(), None);
    }

    #[test]
    fn a_tight_budget_stretches_the_pass_and_the_staleness() {
        // The example: 12 series every 2 s with 1,800 requests per hour: one request
        // every 2 s, so a pass takes 24 s and a healthy series is 24 s old before its next answer.
        let b = budget(12, 2, 1800, 6);
        assert!(b.exceeded());
        assert_eq!(b.achievable_pass(), Duration::from_secs(24));
        assert_eq!(b.effective_stale_after(), Duration::from_secs(72));
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
        assert_eq!(defaults.achievable_pass(), Duration::from_secs(1080));
        assert_eq!(defaults.effective_stale_after(), Duration::from_secs(3240));
    }

    #[test]
    fn a_longer_configured_staleness_is_kept() {
        let b = budget(12, 2, 1800, 3600);
        assert_eq!(b.effective_stale_after(), Duration::from_secs(3600));
        assert!(!b.warning().unwrap().contains("keep their values"));
    }
}
