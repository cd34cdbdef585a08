//! The background task that asks Braze for every series and publishes what it learns.
//!
//! Each `export` block has its own schedule (a [`Group`]): a refresh (a "round") queues every
//! series of the block, every block's interval. Requests of every round start as the
//! [`crate::pacing`] rules and `braze.max_concurrency` allow; each answer is folded into its series'
//! state as it arrives (a failure marks only its own series down, keeping its last good values);
//! transient failures are retried with backoff within the interval ([`retry`]). Snapshots are
//! rendered and swapped in when a round ends, on reload, and every few seconds while a long
//! round runs. Scrapes read snapshots only, so they never wait on Braze nor cause a request.
//!
//! A reload, or a discovery that changes Braze's lists, swaps the series between two requests:
//! removed series vanish at once, new ones are fetched next, unchanged ones keep their values
//! and their schedule.

mod entries;
pub mod retry;
mod round;
mod source;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{info, warn};

pub use source::Source;

use crate::braze::{BrazeClient, Fetch, FetchError, RateLimit};
use crate::buckets::BucketRules;
use crate::clock::SharedClock;
use crate::config::{Budget, Config};
use crate::pacing::{self, Pacer, Spacing};
use crate::series::{Export, Kind, Lists, Series};
use crate::snapshot::{Snapshot, SnapshotCell};
use crate::telemetry::Telemetry;
use entries::{Entries, NextAttempt};
use round::{Coverage, Job, Round};

/// While a round runs, a new snapshot is published at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);
/// With nothing new, a snapshot is still rendered again this often (or a quarter of the
/// shortest `stale_after`, if shorter), so stale data goes even while nothing is fetched, as
/// during a long rate-limit hold-off.
pub const REPUBLISH_EVERY: Duration = Duration::from_secs(60);

/// A new configuration, with the client built for it.
#[derive(Debug)]
pub struct Reload<S> {
    pub config: Config,
    pub source: S,
}

/// What reaches the refresher from outside: reloads, and the lists discovery read from Braze.
/// A closed channel is simply never heard from again.
#[derive(Debug)]
pub struct Inputs<S> {
    pub reloads: Option<mpsc::Receiver<Reload<S>>>,
    pub discoveries: Option<watch::Receiver<Lists>>,
}

#[cfg(test)]
impl<S> Inputs<S> {
    /// No reloads and no discovery.
    pub fn none() -> Self {
        Self {
            reloads: None,
            discoveries: None,
        }
    }
}

type InFlight = FuturesUnordered<Pin<Box<dyn Future<Output = (Job, Fetch)> + Send>>>;

/// Whether the snapshot on show lags behind what the entries know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Published {
    UpToDate,
    Behind,
}

/// One export block's rounds: the one running, and when the next is due.
#[derive(Debug)]
struct Group {
    export: Export,
    round: Option<Round>,
    next_round: Instant,
    rounds_started: u64,
}

/// Where the loop stands between two events: each block's rounds, the requests in flight, and
/// what is published. [`Refresher::step`] reads and advances it; the background loop and the
/// tests drive the same step.
struct Schedule {
    groups: Vec<Group>,
    in_flight: InFlight,
    last_publish: Instant,
    published: Published,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schedule")
            .field("groups", &self.groups)
            .field("in_flight", &self.in_flight.len())
            .field("published", &self.published)
            .finish()
    }
}

impl Schedule {
    fn group_mut(&mut self, export: Export) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.export == export)
    }

    /// One group per enabled block of `config`, keeping the state of those that stay.
    fn regroup(&mut self, config: &Config, now: Instant) {
        let mut old = std::mem::take(&mut self.groups);
        self.groups = config
            .exports
            .iter()
            .map(|e| match old.iter().position(|g| g.export == e.export) {
                Some(i) => old.swap_remove(i),
                None => Group {
                    export: e.export,
                    round: None,
                    next_round: now,
                    rounds_started: 0,
                },
            })
            .collect();
    }
}

/// What one turn of the loop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// A round of every series of this block ended (and was published).
    RoundFinished(Export),
    /// Anything else: an answer folded in, a reload applied, a deadline reached.
    Progressed,
}

#[derive(Debug)]
pub struct Refresher<S: Source = BrazeClient> {
    source: S,
    config: Config,
    /// What discovery found last: merged into the configuration's lists.
    discovered: Lists,
    budget: Budget,
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
        let now = Instant::now();
        let pacer = Pacer::new(config.braze.max_requests_per_hour);
        telemetry.config_loaded(&config, clock.now());
        let mut refresher = Self {
            source,
            budget: config.budget(),
            config: config.clone(),
            discovered: Lists::default(),
            entries: Entries::default(),
            pacer,
            schedule: Schedule {
                groups: Vec::new(),
                in_flight: InFlight::new(),
                last_publish: now,
                published: Published::UpToDate,
            },
            clock,
            telemetry,
            snapshots,
        };
        refresher.apply(config, Comparable::Yes);
        refresher
    }

    /// Refreshes every block at once, then every block's interval, applying reloads and
    /// discoveries as they come, until the task is dropped. A refresh that outlasts its
    /// interval is not doubled: the ticks it overran are skipped and counted.
    pub async fn run(mut self, mut inputs: Inputs<S>) {
        loop {
            self.turn(&mut inputs).await;
        }
    }

    /// One turn of the loop: does what is due ([`Refresher::step`]), then waits for the next
    /// event (an answer, a reload, a discovery, or the step's deadline) and folds it in.
    pub async fn turn(&mut self, inputs: &mut Inputs<S>) -> Turn {
        let (wake_at, turn) = self.step(Instant::now());
        if turn != Turn::Progressed {
            return turn;
        }
        let in_flight = &mut self.schedule.in_flight;
        tokio::select! {
            Some((job, fetch)) = in_flight.next(), if !in_flight.is_empty() => {
                self.complete(job, fetch);
                self.schedule.published = Published::Behind;
            }
            reload = recv(&mut inputs.reloads), if inputs.reloads.is_some() => match reload {
                Some(reload) => {
                    self.reconfigure(reload);
                    self.publish();
                }
                None => inputs.reloads = None,
            },
            lists = changed(&mut inputs.discoveries), if inputs.discoveries.is_some() => match lists {
                Some(lists) => {
                    self.discovered = lists;
                    self.apply(self.config.clone(), Comparable::Yes);
                    self.publish();
                }
                None => inputs.discoveries = None,
            },
            () = sleep_until(wake_at) => {}
        }
        Turn::Progressed
    }

    /// Does everything due at `now`: starts rounds, starts requests, ends rounds, publishes.
    /// Returns the next instant something falls due, if any.
    fn step(&mut self, now: Instant) -> (Option<Instant>, Turn) {
        self.start_due_rounds(now);
        let dispatch_at = self.dispatch(now);
        if let Some(finished) = self.finish_rounds() {
            self.publish();
            return (Some(Instant::now()), finished);
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
        let next_rounds = self
            .schedule
            .groups
            .iter()
            .filter(|g| g.round.is_none())
            .map(|g| g.next_round);
        let wake_at = next_rounds
            .chain([dispatch_at, Some(publish_at)].into_iter().flatten())
            .min();
        (wake_at, Turn::Progressed)
    }

    fn start_due_rounds(&mut self, now: Instant) {
        let mut started = false;
        for i in 0..self.schedule.groups.len() {
            let group = &self.schedule.groups[i];
            if group.round.is_some() || now < group.next_round {
                continue;
            }
            let export = group.export;
            let interval = self.interval_of(export);
            let series: Vec<Series> = self
                .entries
                .series()
                .filter(|s| self.config.export_of(s.kind).map(|e| e.export) == Some(export))
                .cloned()
                .collect();
            let group = &mut self.schedule.groups[i];
            let spacing = match group.rounds_started {
                0 => Spacing::Burst,
                _ => Spacing::Spread,
            };
            group.rounds_started += 1;
            group.round = Some(Round::new(
                series.into_iter(),
                now,
                now + interval,
                Coverage::Every,
                spacing,
            ));
            started = true;
        }
        if started {
            self.update_spacing();
        }
    }

    /// Spread only when no running round bursts (a first refresh, or series a change added).
    fn update_spacing(&mut self) {
        let bursting = self
            .schedule
            .groups
            .iter()
            .filter_map(|g| g.round.as_ref())
            .any(|r| r.spacing == Spacing::Burst);
        let spacing = match bursting {
            true => Spacing::Burst,
            false => Spacing::Spread,
        };
        self.pacer
            .set_spacing(spacing, self.budget.requests_per_hour());
    }

    /// Ends the rounds with nothing left; a full one schedules its block's next.
    fn finish_rounds(&mut self) -> Option<Turn> {
        let mut finished = None;
        for i in 0..self.schedule.groups.len() {
            let group = &mut self.schedule.groups[i];
            if !group.round.as_ref().is_some_and(Round::is_done) {
                continue;
            }
            let round = group.round.take().expect("checked above");
            let export = group.export;
            if round.coverage == Coverage::Every {
                let due = self.schedule.groups[i].next_round;
                self.schedule.groups[i].next_round = self.round_finished(export, &round, due);
                finished = Some(Turn::RoundFinished(export));
            }
        }
        self.update_spacing();
        finished
    }

    fn republish_every(&self) -> Duration {
        self.config
            .exports
            .iter()
            .map(|e| self.budget.effective_stale_after(e.export) / 4)
            .fold(REPUBLISH_EVERY, Duration::min)
    }

    /// How long a series of `kind` keeps its values without an answer: what the budget lets
    /// its block's refresh achieve, never less (see [`Budget::effective_stale_after`]).
    fn stale_after(&self, kind: Kind) -> Duration {
        self.config.export_of(kind).map_or(Duration::ZERO, |e| {
            self.budget.effective_stale_after(e.export)
        })
    }

    fn interval_of(&self, export: Export) -> Duration {
        self.config
            .exports
            .iter()
            .find(|e| e.export == export)
            .map_or(self.config.refresh.interval, |e| e.schedule.interval)
    }

    /// Records a finished full round; returns when the block's next is due.
    fn round_finished(&mut self, export: Export, round: &Round, due: Instant) -> Instant {
        let now = Instant::now();
        self.telemetry
            .refresh_completed(export, now - round.started, self.clock.now());
        let interval = self.interval_of(export);
        let (next, missed) = next_due(due, now, interval);
        if missed > 0 {
            warn!(
                export = export.as_str(),
                skipped = missed,
                interval = %humantime::format_duration(interval),
                "refresh took longer than its interval; skipping the refreshes that fell due meanwhile"
            );
            self.telemetry.refreshes_skipped(export, u64::from(missed));
        }
        next
    }

    /// Starts every request that may start now, the earliest ready round first; returns when
    /// the next one may, if any waits.
    fn dispatch(&mut self, now: Instant) -> Option<Instant> {
        let max = self.config.braze.max_concurrency;
        while self.schedule.in_flight.len() < max {
            let (i, ready_at) = self
                .schedule
                .groups
                .iter()
                .enumerate()
                .filter_map(|(i, g)| Some((i, g.round.as_ref()?.next_ready()?)))
                .min_by_key(|(_, at)| *at)?;
            let start_at = self.pacer.next_start(now).max(ready_at);
            if start_at > now {
                return Some(start_at);
            }
            let round = self.schedule.groups[i].round.as_mut()?;
            let job = round.pop_ready(now)?;
            self.pacer.started(now);
            self.telemetry.request_sent();
            let source = self.source.clone();
            let schedule = self.config.schedule_of(job.series.kind);
            let (unit, length) = (schedule.unit, schedule.length);
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

    /// The round `series` belongs to, if it runs.
    fn round_of(&mut self, series: &Series) -> Option<&mut Round> {
        let export = self.config.export_of(series.kind)?.export;
        self.schedule.group_mut(export)?.round.as_mut()
    }

    /// Folds one answer in: budget, state, and a retry when it is worth one.
    fn complete(&mut self, job: Job, fetch: Fetch) {
        let now = Instant::now();
        if let Some(round) = self.round_of(&job.series) {
            round.answered();
        }
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
                let rules = self.rules(job.series.kind);
                self.entries
                    .succeeded(&job.series, &points, &rules, self.clock.now());
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
                let polled = self.entries.contains(&series);
                let round = self
                    .round_of(&series)
                    .filter(|r| retry_at.is_some_and(|t| t < r.deadline))
                    .filter(|_| polled);
                let next = match (round, retry_at) {
                    (Some(round), Some(at)) => {
                        round.retry(job, at);
                        NextAttempt::Retry
                    }
                    _ => NextAttempt::NextRefresh,
                };
                if next == NextAttempt::Retry {
                    self.telemetry.retry_scheduled();
                }
                self.entries.failed(&series, &error, next);
            }
        }
    }

    /// How long to send nothing: after a 429 until the reset (a default without one), or
    /// until the reset when Braze says no requests remain.
    fn hold_off_wait(&self, limit: Option<&RateLimit>, rate_limited: bool) -> Option<Duration> {
        pacing::hold_off_wait(limit, rate_limited, self.clock.now())
    }

    /// Applies a new configuration between two requests.
    fn reconfigure(&mut self, reload: Reload<S>) {
        let Reload { config, source } = reload;
        let comparable = match config.braze.url == self.config.braze.url
            && config.braze.time_zone == self.config.braze.time_zone
        {
            true => Comparable::Yes,
            false => Comparable::No,
        };
        let now = Instant::now();
        for export in &config.exports {
            let old = self.interval_of(export.export);
            if let Some(group) = self.schedule.group_mut(export.export) {
                if export.schedule.interval != old {
                    group.next_round = group.next_round.min(now + export.schedule.interval);
                }
            }
        }
        self.pacer
            .set_max_per_hour(config.braze.max_requests_per_hour);
        self.source = source;
        self.telemetry.config_loaded(&config, self.clock.now());
        self.apply(config, comparable);
    }

    /// Polls `config`'s series with what discovery found: keeps the state of series that
    /// stay (when `comparable`), drops the removed ones from their rounds, and fetches the new
    /// ones next.
    fn apply(&mut self, config: Config, comparable: Comparable) {
        let now = Instant::now();
        let plan = config.plan(&self.discovered);
        if plan.dropped > 0 {
            warn!(
                dropped = plan.dropped,
                max_series = config.max_series,
                "configuration and discovery ask for more series than max_series; the last ones (discovered first) are not polled"
            );
        }
        let old = std::mem::take(&mut self.entries);
        let keep_old = comparable == Comparable::Yes;
        let new_series: Vec<Series> = plan
            .series
            .iter()
            .filter(|s| !keep_old || !old.contains(s))
            .cloned()
            .collect();
        let keys = plan
            .series
            .iter()
            .map(|s| (s.clone(), config.schedule_of(s.kind).unit))
            .collect();
        self.entries = Entries::new(keys, keep_old.then_some(old));
        self.budget = Budget::planned(&config, &plan);
        self.telemetry.series_planned(&self.budget, plan.dropped);
        self.config = config;
        self.schedule.regroup(&self.config, now);
        for group in &mut self.schedule.groups {
            let added: Vec<Series> = new_series
                .iter()
                .filter(|s| self.config.export_of(s.kind).map(|e| e.export) == Some(group.export))
                .cloned()
                .collect();
            let entries = &self.entries;
            match &mut group.round {
                Some(round) => round.reconfigure(|s| entries.contains(s), added),
                // A block not started yet fetches its series when its first round comes.
                None if group.rounds_started == 0 => {}
                None if !added.is_empty() => {
                    let interval = self
                        .config
                        .exports
                        .iter()
                        .find(|e| e.export == group.export)
                        .map_or(self.config.refresh.interval, |e| e.schedule.interval);
                    group.round = Some(Round::new(
                        added.into_iter(),
                        now,
                        now + interval,
                        Coverage::Added,
                        Spacing::Burst,
                    ));
                }
                None => {}
            }
        }
        self.update_spacing();
        info!(series = self.entries.len(), "series to poll");
    }

    fn rules(&self, kind: Kind) -> BucketRules {
        let schedule = self.config.schedule_of(kind);
        BucketRules {
            unit: schedule.unit,
            time_zone: self.config.braze.time_zone.clone(),
            delay: schedule.delay,
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
                |kind| self.stale_after(kind),
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

/// Whether the old state can be kept: the same workspace (URL) and time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparable {
    Yes,
    No,
}

/// The next reload, or never once the channel is gone.
async fn recv<S>(reloads: &mut Option<mpsc::Receiver<Reload<S>>>) -> Option<Reload<S>> {
    match reloads {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// The next lists discovery publishes, or `None` once its sender is gone.
async fn changed(discoveries: &mut Option<watch::Receiver<Lists>>) -> Option<Lists> {
    match discoveries {
        Some(receiver) => match receiver.changed().await {
            Ok(()) => Some(receiver.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
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
