//! The background task that asks Braze for every series and publishes what it learns.
//!
//! A refresh (a "round") queues every series; requests start as the [`pacing`] rules and
//! `braze.max_concurrency` allow; each answer is folded into its series' state as it arrives (a
//! failure marks only its own series down, keeping its last good values); transient failures
//! are retried with backoff within the interval ([`retry`]). Snapshots are rendered and swapped
//! in when a round ends, on reload, and every few seconds while a long round runs. Scrapes read
//! snapshots only, so they never wait on Braze nor cause a request.
//!
//! A reload swaps the configuration between two requests: removed series vanish at once, new
//! ones are fetched next, unchanged ones keep their values and their schedule.

mod entries;
pub mod pacing;
pub mod retry;
mod round;
mod source;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::warn;

pub use source::Source;

use crate::braze::{BrazeClient, Fetch, FetchError, RateLimit};
use crate::buckets::BucketRules;
use crate::clock::SharedClock;
use crate::config::{Config, RefreshSettings};
use crate::series::Series;
use crate::snapshot::{Snapshot, SnapshotCell};
use crate::telemetry::Telemetry;
use entries::{Entries, NextAttempt};
use pacing::{Pacer, Spacing};
use round::{Coverage, Job, Round};

/// While a round runs, a new snapshot is published at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);
/// With nothing new, a snapshot is still rendered again this often (or a quarter of
/// `refresh.stale_after`, if shorter), so stale data goes even while nothing is fetched, as
/// during a long rate-limit hold-off.
pub const REPUBLISH_EVERY: Duration = Duration::from_secs(60);

/// A new configuration, with the client built for it.
#[derive(Debug)]
pub struct Reload<S> {
    pub config: Config,
    pub source: S,
}

type InFlight = FuturesUnordered<Pin<Box<dyn Future<Output = (Job, Fetch)> + Send>>>;

/// Whether the snapshot on show lags behind what the entries know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Published {
    UpToDate,
    Behind,
}

/// Where the loop stands between two events: the round running, when the next is due, the
/// requests in flight, and what is published. [`Refresher::step`] reads and advances it; the
/// background loop and the tests drive the same step.
struct Schedule {
    round: Option<Round>,
    next_round: Instant,
    rounds_started: u64,
    in_flight: InFlight,
    last_publish: Instant,
    published: Published,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedule")
            .field("round", &self.round)
            .field("next_round", &self.next_round)
            .field("in_flight", &self.in_flight.len())
            .field("published", &self.published)
            .finish()
    }
}

/// What one turn of the loop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// A round of every series ended (and was published).
    RoundFinished,
    /// Anything else: an answer folded in, a reload applied, a deadline reached.
    Progressed,
}

#[derive(Debug)]
pub struct Refresher<S: Source = BrazeClient> {
    source: S,
    config: Config,
    rules: BucketRules,
    entries: Entries,
    pacer: Pacer,
    schedule: Schedule,
    clock: SharedClock,
    telemetry: Telemetry,
    snapshots: SnapshotCell,
}

impl<S: Source> Refresher<S> {
    pub fn new(
        config: Config,
        source: S,
        clock: SharedClock,
        telemetry: Telemetry,
        snapshots: SnapshotCell,
    ) -> Self {
        let entries = Entries::new(config.series(), config.refresh.unit, None);
        let pacer = Pacer::new(config.braze.max_requests_per_hour);
        telemetry.config_loaded(&config, clock.now());
        let now = Instant::now();
        Self {
            source,
            rules: rules(&config),
            config,
            entries,
            pacer,
            schedule: Schedule {
                round: None,
                next_round: now,
                rounds_started: 0,
                in_flight: InFlight::new(),
                last_publish: now,
                published: Published::UpToDate,
            },
            clock,
            telemetry,
            snapshots,
        }
    }

    fn settings(&self) -> &RefreshSettings {
        &self.config.refresh
    }

    /// Refreshes at once, then every `refresh.interval`, applying reloads as they come, until
    /// the task is dropped. A refresh that outlasts the interval is not doubled: the ticks it
    /// overran are skipped and counted.
    pub async fn run(mut self, reloads: mpsc::Receiver<Reload<S>>) {
        let mut reloads = Some(reloads);
        loop {
            self.turn(&mut reloads).await;
        }
    }

    /// One turn of the loop: does what is due ([`Refresher::step`]), then waits for the next
    /// event (an answer, a reload, or the step's deadline) and folds it in.
    pub async fn turn(&mut self, reloads: &mut Option<mpsc::Receiver<Reload<S>>>) -> Turn {
        let (wake_at, turn) = self.step(Instant::now());
        if turn == Turn::RoundFinished {
            return turn;
        }
        let in_flight = &mut self.schedule.in_flight;
        tokio::select! {
            Some((job, fetch)) = in_flight.next(), if !in_flight.is_empty() => {
                self.complete(job, fetch);
                self.schedule.published = Published::Behind;
            }
            reload = recv(reloads), if reloads.is_some() => match reload {
                Some(reload) => {
                    self.reconfigure(reload);
                    self.publish();
                }
                None => *reloads = None,
            },
            () = sleep_until(wake_at) => {}
        }
        Turn::Progressed
    }

    /// Does everything due at `now`: starts a round, starts requests, ends a round, publishes.
    /// Returns the next instant something falls due, if any.
    fn step(&mut self, now: Instant) -> (Option<Instant>, Turn) {
        if self.schedule.round.is_none() && now >= self.schedule.next_round {
            self.schedule.round = Some(self.start_round(now));
        }
        let dispatch_at = self.dispatch(now);
        if let Some(done) = self.take_finished_round() {
            self.publish();
            if done.coverage == Coverage::Every {
                self.schedule.next_round = self.round_finished(&done, self.schedule.next_round);
                return (None, Turn::RoundFinished);
            }
            return (Some(Instant::now()), Turn::Progressed);
        }
        let publish_at = self.schedule.last_publish
            + match self.schedule.published {
                Published::Behind => PUBLISH_EVERY,
                Published::UpToDate => self.republish_every(),
            };
        if now >= publish_at {
            self.publish();
            return (Some(now), Turn::Progressed);
        }
        let next_round_at = self
            .schedule
            .round
            .is_none()
            .then_some(self.schedule.next_round);
        let wake_at = [dispatch_at, Some(publish_at), next_round_at]
            .into_iter()
            .flatten()
            .min();
        (wake_at, Turn::Progressed)
    }

    /// The round, once nothing of it is queued, waiting or in flight.
    fn take_finished_round(&mut self) -> Option<Round> {
        let finished = self.schedule.round.as_ref().is_some_and(Round::is_done)
            && self.schedule.in_flight.is_empty();
        finished.then(|| self.schedule.round.take()).flatten()
    }

    fn republish_every(&self) -> Duration {
        REPUBLISH_EVERY.min(self.stale_after() / 4)
    }

    /// How long a series keeps its values without an answer: what the budget lets a refresh
    /// achieve, never less (see [`crate::config::Budget::effective_stale_after`]).
    fn stale_after(&self) -> Duration {
        self.config.budget().effective_stale_after()
    }

    fn start_round(&mut self, now: Instant) -> Round {
        let spacing = match self.schedule.rounds_started {
            0 => Spacing::Burst,
            _ => Spacing::Spread,
        };
        self.schedule.rounds_started += 1;
        self.pacer
            .set_spacing(spacing, self.entries.len(), self.settings().interval);
        Round::new(
            self.entries.series().cloned(),
            now,
            now + self.settings().interval,
            Coverage::Every,
        )
    }

    /// Records a finished full round; returns when the next is due.
    fn round_finished(&mut self, round: &Round, due: Instant) -> Instant {
        let now = Instant::now();
        self.telemetry
            .refresh_completed(now - round.started, self.clock.now());
        let interval = self.settings().interval;
        let (next, missed) = next_due(due, now, interval);
        if missed > 0 {
            warn!(
                skipped = missed,
                interval = %humantime::format_duration(interval),
                "refresh took longer than refresh.interval; skipping the refreshes that fell due meanwhile"
            );
            self.telemetry.refreshes_skipped(u64::from(missed));
        }
        next
    }

    /// Starts every request that may start now; returns when the next one may, if any waits.
    fn dispatch(&mut self, now: Instant) -> Option<Instant> {
        let max = self.config.braze.max_concurrency;
        let round = self.schedule.round.as_mut()?;
        while self.schedule.in_flight.len() < max {
            let ready_at = round.next_ready()?;
            let start_at = self.pacer.next_start(now).max(ready_at);
            if start_at > now {
                return Some(start_at);
            }
            let job = round.pop_ready(now)?;
            self.pacer.started(now);
            self.telemetry.request_sent();
            let source = self.source.clone();
            let (unit, length) = (self.config.refresh.unit, self.config.refresh.length);
            let telemetry = self.telemetry.clone();
            self.schedule.in_flight.push(Box::pin(async move {
                let started = Instant::now();
                let fetch = source.fetch(&job.series, unit, length).await;
                telemetry.request_took(started.elapsed());
                (job, fetch)
            }));
        }
        None
    }

    /// Folds one answer in: budget, state, and a retry when it is worth one.
    fn complete(&mut self, job: Job, fetch: Fetch) {
        let now = Instant::now();
        let rate_limited = matches!(fetch.result, Err(FetchError::Status { status: 429, .. }));
        if let Some(limit) = &fetch.rate_limit {
            self.telemetry.rate_limit(limit);
        }
        if let Some(wait) = self.hold_off_wait(fetch.rate_limit.as_ref(), rate_limited) {
            self.pacer.hold_off(now, wait);
            let until = self
                .clock
                .now()
                .checked_add(wait)
                .unwrap_or(self.clock.now());
            self.telemetry.hold_off_until(until);
        }
        match fetch.result {
            Ok(points) => {
                self.entries
                    .succeeded(&job.series, &points, &self.rules, self.clock.now());
            }
            Err(error) => {
                self.telemetry.request_failed(error.reason());
                let retry_at = (retry::is_retryable(&error) && job.attempt < retry::MAX_ATTEMPTS)
                    .then(|| {
                        let backoff = now + retry::backoff(&job.series, job.attempt);
                        self.pacer
                            .hold_off_until()
                            .map_or(backoff, |held| held.max(backoff))
                    });
                let series = job.series.clone();
                let round = self
                    .schedule
                    .round
                    .as_mut()
                    .filter(|r| retry_at.is_some_and(|t| t < r.deadline))
                    .filter(|_| self.entries.contains(&series));
                let next = match (round, retry_at) {
                    (Some(round), Some(at)) => {
                        self.telemetry.retry_scheduled();
                        round.retry(job, at);
                        NextAttempt::Retry
                    }
                    _ => NextAttempt::NextRefresh,
                };
                self.entries.failed(&series, &error, next);
            }
        }
    }

    /// How long to send nothing: after a 429 until the reset (a default without one), or
    /// until the reset when Braze says no requests remain.
    fn hold_off_wait(&self, limit: Option<&RateLimit>, rate_limited: bool) -> Option<Duration> {
        let until_reset = limit
            .and_then(|l| l.reset)
            .map(|reset| self.clock.now().duration_until(reset).unsigned_abs());
        let exhausted = limit.and_then(|l| l.remaining) == Some(0);
        match (rate_limited, exhausted, until_reset) {
            (true, _, Some(wait)) => Some(wait.max(Duration::from_secs(1))),
            (true, _, None) => Some(pacing::DEFAULT_RESET_WAIT),
            (false, true, Some(wait)) => Some(wait),
            _ => None,
        }
    }

    /// Applies a new configuration between two requests.
    fn reconfigure(&mut self, reload: Reload<S>) {
        let Reload { config, source } = reload;
        let now = Instant::now();
        let comparable = config.braze.url == self.config.braze.url
            && config.braze.time_zone == self.config.braze.time_zone
            && config.refresh.unit == self.config.refresh.unit;
        let old = std::mem::take(&mut self.entries);
        let new_series: Vec<Series> = config
            .series()
            .into_iter()
            .filter(|s| !comparable || !old.contains(s))
            .collect();
        self.entries = Entries::new(
            config.series(),
            config.refresh.unit,
            comparable.then_some(old),
        );
        if config.refresh.interval != self.config.refresh.interval {
            self.schedule.next_round = self.schedule.next_round.min(now + config.refresh.interval);
        }
        self.pacer
            .set_max_per_hour(config.braze.max_requests_per_hour);
        self.rules = rules(&config);
        self.source = source;
        self.telemetry.config_loaded(&config, self.clock.now());
        self.config = config;
        let interval = self.settings().interval;
        match &mut self.schedule.round {
            Some(round) => round.reconfigure(|s| self.entries.contains(s), new_series),
            None if !new_series.is_empty() => {
                self.pacer
                    .set_spacing(Spacing::Burst, new_series.len(), interval);
                self.schedule.round = Some(Round::new(
                    new_series.into_iter(),
                    now,
                    now + interval,
                    Coverage::Added,
                ));
            }
            None => {}
        }
    }

    /// Renders every series into a new snapshot and swaps it in. The rendering is CPU work
    /// proportional to the series count, so on a multi-threaded runtime it moves off the
    /// thread that also serves scrapes.
    fn publish(&mut self) {
        let render = || {
            Snapshot::render(
                self.entries.states(),
                self.clock.now(),
                self.stale_after(),
                self.snapshots.current().encoded.text.len(),
            )
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let snapshot = if multi_thread {
            tokio::task::block_in_place(render)
        } else {
            render()
        };
        self.snapshots.publish(snapshot);
        self.schedule.last_publish = Instant::now();
        self.schedule.published = Published::UpToDate;
    }
}

/// The next reload, or never once the channel is gone.
async fn recv<S>(reloads: &mut Option<mpsc::Receiver<Reload<S>>>) -> Option<Reload<S>> {
    match reloads {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

fn rules(config: &Config) -> BucketRules {
    BucketRules {
        unit: config.refresh.unit,
        time_zone: config.braze.time_zone.clone(),
        delay: config.refresh.delay,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// When the refresh after the one due at `last_due` starts, seen at `now`, and how many due
/// times passed meanwhile (skipped, so refreshes never overlap or pile up).
pub fn next_due(last_due: Instant, now: Instant, interval: Duration) -> (Instant, u32) {
    let next = last_due + interval;
    if now <= next {
        return (next, 0);
    }
    let missed = ((now - next).as_nanos() / interval.as_nanos()) as u32 + 1;
    (next + interval * missed, missed)
}

#[cfg(test)]
mod scripted_tests;
#[cfg(test)]
mod tests;
