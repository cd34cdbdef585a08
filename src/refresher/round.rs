//! One pass over the series: what is queued, what waits to be retried, until when.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::time::Instant;

use crate::pacing::Spacing;
use crate::series::Series;

/// One request to make: a series, and which attempt this is (from 1).
#[derive(Debug)]
pub struct Job {
    /// Shared with the series' entry.
    pub series: Arc<Series>,
    pub attempt: u32,
}

/// Which series a round covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every series: a refresh, after which the next is scheduled.
    Every,
    /// Only the series a reload added, fetched at once between two refreshes.
    Added,
}

#[derive(Debug)]
pub struct Round {
    pub started: Instant,
    /// Retries are not scheduled past this: the next round asks again anyway.
    pub deadline: Instant,
    pub coverage: Coverage,
    /// How its requests follow one another.
    pub spacing: Spacing,
    queue: VecDeque<Job>,
    /// Jobs waiting out a backoff, with the instant they may start.
    retries: Vec<(Instant, Job)>,
    /// Jobs started and not yet answered.
    in_flight: usize,
}

impl Round {
    pub fn new(
        series: impl Iterator<Item = Arc<Series>>,
        started: Instant,
        deadline: Instant,
        coverage: Coverage,
        spacing: Spacing,
    ) -> Self {
        Self {
            started,
            deadline,
            coverage,
            spacing,
            queue: series.map(|series| Job { series, attempt: 1 }).collect(),
            retries: Vec::new(),
            in_flight: 0,
        }
    }

    /// Nothing queued, waiting or in flight.
    pub fn is_done(&self) -> bool {
        self.queue.is_empty() && self.retries.is_empty() && self.in_flight == 0
    }

    /// One of its jobs was answered (and may come back through [`Round::retry`]).
    pub fn answered(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// When the next job may start, ignoring pacing: now for a queued one, else the earliest
    /// retry. `None` when nothing is left.
    pub fn next_ready(&self) -> Option<Instant> {
        let retry = self.retries.iter().map(|(at, _)| *at).min();
        match self.queue.is_empty() {
            false => Some(retry.map_or(self.started, |r| r.min(self.started))),
            true => retry,
        }
    }

    /// The next job that may start at `now`: a due retry first, then the queue.
    pub fn pop_ready(&mut self, now: Instant) -> Option<Job> {
        let due = self
            .retries
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| *at <= now)
            .min_by_key(|(_, (at, _))| *at)
            .map(|(i, _)| i);
        let job = match due {
            Some(i) => Some(self.retries.swap_remove(i).1),
            None => self.queue.pop_front(),
        };
        self.in_flight += usize::from(job.is_some());
        job
    }

    pub fn retry(&mut self, job: Job, at: Instant) {
        self.retries.push((
            at,
            Job {
                series: job.series,
                attempt: job.attempt + 1,
            },
        ));
    }

    /// After a reload: drops jobs of series no longer polled, and puts new series first.
    pub fn reconfigure(&mut self, keep: impl Fn(&Series) -> bool, new: Vec<Arc<Series>>) {
        self.queue.retain(|job| keep(&job.series));
        self.retries.retain(|(_, job)| keep(&job.series));
        for series in new.into_iter().rev() {
            self.queue.push_front(Job { series, attempt: 1 });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::series::Scope;

    fn series(name: &str) -> Arc<Series> {
        Arc::new(Series::sessions(Scope::named(name, name), Scope::all()))
    }

    #[test]
    fn queued_jobs_come_first_unless_a_retry_is_due() {
        let t0 = Instant::now();
        let mut round = Round::new(
            [series("a"), series("b")].into_iter(),
            t0,
            t0 + Duration::from_secs(60),
            Coverage::Every,
            Spacing::Burst,
        );
        let a = round.pop_ready(t0).unwrap();
        assert_eq!(a.series, series("a"));
        round.answered();
        round.retry(a, t0 + Duration::from_secs(2));
        assert_eq!(round.pop_ready(t0).unwrap().series, series("b"));
        assert_eq!(round.next_ready(), Some(t0 + Duration::from_secs(2)));
        assert!(round.pop_ready(t0 + Duration::from_secs(1)).is_none());
        let retried = round.pop_ready(t0 + Duration::from_secs(2)).unwrap();
        assert_eq!((retried.series, retried.attempt), (series("a"), 2));
        assert!(!round.is_done(), "two jobs are in flight");
        round.answered();
        round.answered();
        assert!(round.is_done());
        assert_eq!(round.next_ready(), None);
    }

    #[test]
    fn reconfigure_drops_removed_and_puts_new_first() {
        let t0 = Instant::now();
        let mut round = Round::new(
            [series("a"), series("b"), series("c")].into_iter(),
            t0,
            t0,
            Coverage::Every,
            Spacing::Burst,
        );
        round.retry(
            Job {
                series: series("b"),
                attempt: 1,
            },
            t0,
        );
        round.reconfigure(|s| s != &*series("b"), vec![series("n1"), series("n2")]);
        let order: Vec<String> = std::iter::from_fn(|| round.pop_ready(t0))
            .map(|j| j.series.scopes[0].name.clone())
            .collect();
        assert_eq!(order, ["n1", "n2", "a", "c"]);
    }
}
