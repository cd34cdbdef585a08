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
use entries::Entries;
use pacing::Pacer;
use round::{Job, Round};

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

#[derive(Debug)]
pub struct Refresher<S: Source = BrazeClient> {
    source: S,
    config: Config,
    rules: BucketRules,
    entries: Entries,
    pacer: Pacer,
    rounds_started: u64,
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
        let mut pacer = Pacer::new(config.braze.max_requests_per_hour);
        pacer.set_spacing(false, entries.len(), config.refresh.interval);
        telemetry.config_loaded(&config, clock.now());
        Self {
            source,
            rules: rules(&config),
            config,
            entries,
            pacer,
            rounds_started: 0,
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
    pub async fn run(mut self, mut reloads: mpsc::Receiver<Reload<S>>) {
        let mut next_round = Instant::now();
        let mut round: Option<Round> = None;
        let mut in_flight = InFlight::new();
        let mut last_publish = Instant::now();
        let mut dirty = false;
        let mut reloads_open = true;
        loop {
            let now = Instant::now();
            if round.is_none() && now >= next_round {
                round = Some(self.start_round(now));
            }
            let dispatch_at = round
                .as_mut()
                .and_then(|r| self.dispatch(r, &mut in_flight, now));
            if round.as_ref().is_some_and(Round::is_done) && in_flight.is_empty() {
                let done = round.take().expect("checked above");
                self.publish();
                (last_publish, dirty) = (Instant::now(), false);
                if done.full {
                    next_round = self.round_finished(&done, next_round);
                }
                continue;
            }
            let publish_at = match dirty {
                true => last_publish + PUBLISH_EVERY,
                false => last_publish + self.republish_every(),
            };
            let next_round_at = round.is_none().then_some(next_round);
            let wake_at = [dispatch_at, Some(publish_at), next_round_at]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                Some((job, fetch)) = in_flight.next(), if !in_flight.is_empty() => {
                    self.complete(job, fetch, round.as_mut());
                    dirty = true;
                }
                reload = reloads.recv(), if reloads_open => match reload {
                    Some(reload) => {
                        self.reconfigure(reload, &mut round, &mut next_round);
                        self.publish();
                        (last_publish, dirty) = (Instant::now(), false);
                    }
                    None => reloads_open = false,
                },
                () = sleep_until(wake_at) => {}
            }
            if Instant::now() >= publish_at {
                self.publish();
                (last_publish, dirty) = (Instant::now(), false);
            }
        }
    }

    fn republish_every(&self) -> Duration {
        REPUBLISH_EVERY.min(self.settings().stale_after / 4)
    }

    /// One full refresh, not spread, then a new snapshot: for tests and tools.
    pub async fn refresh_once(&mut self) {
        let now = Instant::now();
        let mut round = Round::new(
            self.entries.series().cloned(),
            now,
            now + self.settings().interval,
            true,
        );
        self.pacer
            .set_spacing(false, self.entries.len(), self.settings().interval);
        let mut in_flight = InFlight::new();
        loop {
            let dispatch_at = self.dispatch(&mut round, &mut in_flight, Instant::now());
            if round.is_done() && in_flight.is_empty() {
                break;
            }
            tokio::select! {
                Some((job, fetch)) = in_flight.next(), if !in_flight.is_empty() => {
                    self.complete(job, fetch, Some(&mut round));
                }
                () = sleep_until(dispatch_at) => {}
            }
        }
        self.publish();
        self.round_finished(&round, now);
    }

    fn start_round(&mut self, now: Instant) -> Round {
        let spread = self.rounds_started > 0;
        self.rounds_started += 1;
        self.pacer
            .set_spacing(spread, self.entries.len(), self.settings().interval);
        Round::new(
            self.entries.series().cloned(),
            now,
            now + self.settings().interval,
            true,
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
    fn dispatch(
        &mut self,
        round: &mut Round,
        in_flight: &mut InFlight,
        now: Instant,
    ) -> Option<Instant> {
        let max = self.config.braze.max_concurrency;
        while in_flight.len() < max {
            let ready_at = round.next_ready()?;
            let start_at = self.pacer.next_start(now).max(ready_at);
            if start_at > now {
                return Some(start_at);
            }
            let job = round.pop_ready(now)?;
            self.pacer.started(now);
            self.telemetry.request_sent();
            let source = self.source.clone();
            let (unit, length) = (self.settings().unit, self.settings().length);
            let telemetry = self.telemetry.clone();
            in_flight.push(Box::pin(async move {
                let started = Instant::now();
                let fetch = source.fetch(&job.series, unit, length).await;
                telemetry.request_took(started.elapsed());
                (job, fetch)
            }));
        }
        None
    }

    /// Folds one answer in: budget, state, and a retry when it is worth one.
    fn complete(&mut self, job: Job, fetch: Fetch, round: Option<&mut Round>) {
        let now = Instant::now();
        let rate_limited = matches!(fetch.result, Err(FetchError::Status { status: 429, .. }));
        if let Some(limit) = &fetch.rate_limit {
            self.telemetry.rate_limit(limit);
        }
        if let Some(wait) = self.hold_off(fetch.rate_limit.as_ref(), rate_limited) {
            self.pacer.hold_off(now, wait);
            let until = self
                .clock
                .now()
                .checked_add(wait)
                .unwrap_or(self.clock.now());
            self.telemetry.holding_off_until(until);
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
                            .held_until()
                            .map_or(backoff, |held| held.max(backoff))
                    });
                let round = round.filter(|r| retry_at.is_some_and(|t| t < r.deadline));
                let retrying = round.is_some() && self.entries.contains(&job.series);
                self.entries.failed(&job.series, &error, retrying);
                if let (true, Some(round), Some(at)) = (retrying, round, retry_at) {
                    self.telemetry.retry_scheduled();
                    round.retry(job, at);
                }
            }
        }
    }

    /// How long to send nothing: after a 429 until the reset (a default without one), or
    /// until the reset when Braze says no requests remain.
    fn hold_off(&self, limit: Option<&RateLimit>, rate_limited: bool) -> Option<Duration> {
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
    fn reconfigure(
        &mut self,
        reload: Reload<S>,
        round: &mut Option<Round>,
        next_round: &mut Instant,
    ) {
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
            *next_round = (*next_round).min(now + config.refresh.interval);
        }
        self.pacer
            .set_max_per_hour(config.braze.max_requests_per_hour);
        self.rules = rules(&config);
        self.source = source;
        self.telemetry.config_loaded(&config, self.clock.now());
        self.config = config;
        match round {
            Some(round) => round.reconfigure(|s| self.entries.contains(s), new_series),
            None if !new_series.is_empty() => {
                self.pacer
                    .set_spacing(false, new_series.len(), self.settings().interval);
                *round = Some(Round::new(
                    new_series.into_iter(),
                    now,
                    now + self.settings().interval,
                    false,
                ));
            }
            None => {}
        }
    }

    /// Renders every series into a new snapshot and swaps it in. The rendering is CPU work
    /// proportional to the series count, so on a multi-threaded runtime it moves off the
    /// thread that also serves scrapes.
    pub fn publish(&self) {
        let render = || {
            Snapshot::render(
                self.entries.states(),
                self.clock.now(),
                self.settings().stale_after,
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
