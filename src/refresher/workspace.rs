//! One Braze workspace as the refresher keeps it: its configuration, client, series, budget,
//! pacing and rounds. Nothing here is shared between workspaces, so a 401 or a 429 in one
//! never slows or marks down another.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use super::entries::{Entries, NextAttempt};
use super::pools::Pacers;
use super::round::{Coverage, Job, Round};
use super::{next_due, retry, Comparable, Group, InFlight, Source, Turn, REPUBLISH_EVERY};
use crate::braze::{Fetch, FetchError, Request};
use crate::buckets::BucketRules;
use crate::clock::SharedClock;
use crate::config::{Budget, Config};
use crate::discovery::Found;
use crate::pacing::{self, Spacing};
use crate::series::{Export, Kind, Lists, Series};
use crate::telemetry::Telemetry;

#[derive(Debug)]
pub(super) struct Workspace<S> {
    /// The `workspace` label value; `None` in the single-workspace form.
    pub(super) name: Option<String>,
    pub(super) source: S,
    pub(super) config: Config,
    /// What discovery found last: merged into the configuration's lists.
    discovered: Lists,
    budget: Budget,
    pub(super) entries: Entries,
    pacers: Pacers,
    pub(super) groups: Vec<Group>,
    /// This workspace's requests in flight, within its `braze.max_concurrency`.
    in_flight: usize,
    clock: SharedClock,
    telemetry: Telemetry,
}

impl<S: Source> Workspace<S> {
    pub(super) fn new(config: Config, source: S, clock: SharedClock, telemetry: Telemetry) -> Self {
        telemetry.config_loaded(&config, clock.now());
        source.report_key_reads(telemetry.key_reports());
        let mut workspace = Self {
            name: config.workspace.clone(),
            source,
            budget: config.budget(),
            pacers: Pacers::new(&config.budget()),
            config: config.clone(),
            discovered: Lists::default(),
            entries: Entries::default(),
            groups: Vec::new(),
            in_flight: 0,
            clock,
            telemetry,
        };
        workspace.apply(config, Comparable::Yes);
        workspace
    }

    fn group_mut(&mut self, export: Export) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.export == export)
    }

    /// One group per enabled block, keeping the state of those that stay.
    fn regroup(&mut self, now: Instant) {
        let mut old = std::mem::take(&mut self.groups);
        self.groups = self
            .config
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

    /// When something of this workspace falls due next: a round not running yet.
    pub(super) fn next_round(&self) -> Option<Instant> {
        self.groups
            .iter()
            .filter(|g| g.round.is_none())
            .map(|g| g.next_round)
            .min()
    }

    pub(super) fn start_due_rounds(&mut self, now: Instant) {
        let mut started = false;
        for i in 0..self.groups.len() {
            let group = &self.groups[i];
            if group.round.is_some() || now < group.next_round {
                continue;
            }
            let export = group.export;
            let interval = self.interval_of(export);
            let series: Vec<Arc<Series>> = self
                .entries
                .series()
                .filter(|s| self.config.export_of(s.kind).map(|e| e.export) == Some(export))
                .cloned()
                .collect();
            let group = &mut self.groups[i];
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

    /// What discovery found: its lists join the configuration's.
    pub(super) fn discovered(&mut self, found: Found) {
        for (list, items) in &found.kept {
            self.telemetry.discovered(list, *items);
        }
        if found.lists != self.discovered {
            self.discovered = found.lists;
            self.apply(self.config.clone(), Comparable::Yes);
        }
    }

    /// Spread only when no running round bursts (a first refresh, or series a change added).
    fn update_spacing(&mut self) {
        let bursting = self
            .groups
            .iter()
            .filter_map(|g| g.round.as_ref())
            .any(|r| r.spacing == Spacing::Burst);
        let spacing = match bursting {
            true => Spacing::Burst,
            false => Spacing::Spread,
        };
        self.pacers.set_spacing(spacing, &self.budget);
    }

    /// Ends the rounds with nothing left; a full one schedules its block's next.
    pub(super) fn finish_rounds(&mut self) -> Option<Turn> {
        let mut finished = None;
        for i in 0..self.groups.len() {
            let group = &mut self.groups[i];
            if !group.round.as_ref().is_some_and(Round::is_done) {
                continue;
            }
            let round = group.round.take().expect("checked above");
            let export = group.export;
            if round.coverage == Coverage::Every {
                let due = self.groups[i].next_round;
                self.groups[i].next_round = self.round_finished(export, &round, due);
                finished = Some(Turn::RoundFinished(export));
            }
        }
        self.update_spacing();
        finished
    }

    pub(super) fn republish_every(&self) -> Duration {
        self.config
            .exports
            .iter()
            .map(|e| self.budget.effective_stale_after(e.export) / 4)
            .fold(REPUBLISH_EVERY, Duration::min)
    }

    /// How long a series of `kind` keeps its values without an answer: what the budget lets
    /// its block's refresh achieve, never less (see [`Budget::effective_stale_after`]).
    pub(super) fn stale_after(&self, kind: Kind) -> Duration {
        self.config.export_of(kind).map_or(Duration::ZERO, |e| {
            self.budget.effective_stale_after(e.export)
        })
    }

    fn interval_of(&self, export: Export) -> Duration {
        self.config.interval_of(export)
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
    pub(super) fn dispatch(&mut self, now: Instant, pool: &mut InFlight) -> Option<Instant> {
        let max = self.config.braze.max_concurrency;
        while self.in_flight < max {
            let (i, start_at) = self.next_startable(now)?;
            if start_at > now {
                return Some(start_at);
            }
            let rate_pool = self.groups[i].export.pool();
            let round = self.groups[i].round.as_mut()?;
            let job = round.pop_ready(now)?;
            self.pacers.of(rate_pool).started(now);
            self.telemetry.request_sent();
            let source = self.source.clone();
            let request = self.request(&job.series);
            let telemetry = self.telemetry.clone();
            let workspace = self.name.clone();
            self.in_flight += 1;
            pool.push(Box::pin(async move {
                let started = Instant::now();
                let fetch = source.fetch(&job.series, &request).await;
                telemetry.request_took(started.elapsed());
                (workspace, job, fetch)
            }));
        }
        None
    }

    /// The round whose next request may start first, and when: its pool's pacer decides, so a
    /// pool held off never holds up another's rounds.
    fn next_startable(&mut self, now: Instant) -> Option<(usize, Instant)> {
        let ready: Vec<(usize, Instant)> = self
            .groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| Some((i, g.round.as_ref()?.next_ready()?)))
            .collect();
        ready
            .into_iter()
            .map(|(i, ready_at)| {
                let pool = self.groups[i].export.pool();
                (i, self.pacers.next_start(pool, now).max(ready_at), ready_at)
            })
            // Among rounds their pacer holds back alike, the one ready longest goes first: in
            // a pool over its budget, the blocks' order alone would starve the later blocks.
            .min_by_key(|(_, at, ready_at)| (*at, *ready_at))
            .map(|(i, at, _)| (i, at))
    }

    /// What to ask of `series`' endpoint: its block's unit and length, ending now.
    fn request(&self, series: &Series) -> Request {
        let spec = series.kind.spec();
        let schedule = self.config.schedule_of(series.kind);
        Request {
            unit: schedule.unit,
            length: schedule.length,
            ending_at: spec.requires_ending_at().then(|| self.clock.now()),
            steps: self.config.export_of(series.kind).is_some_and(|e| e.steps),
        }
    }

    /// The round `series` belongs to, if it runs.
    fn round_of(&mut self, series: &Series) -> Option<&mut Round> {
        let export = self.config.export_of(series.kind)?.export;
        self.group_mut(export)?.round.as_mut()
    }

    /// Folds one answer in: budget, state, and a retry when it is worth one.
    pub(super) fn complete(&mut self, job: Job, fetch: Fetch) {
        let now = Instant::now();
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(round) = self.round_of(&job.series) {
            round.answered();
        }
        let rate_limited = matches!(fetch.result, Err(FetchError::Status { status: 429, .. }));
        let pool = job.series.kind.spec().pool;
        if let Some(limit) = &fetch.rate_limit {
            self.telemetry.rate_limit(pool, limit);
        }
        if let Some(wait) =
            pacing::hold_off_wait(fetch.rate_limit.as_ref(), rate_limited, self.clock.now())
        {
            self.pacers.of(pool).hold_off(now, wait);
            let until = self
                .clock
                .now()
                .checked_add(wait)
                .unwrap_or(self.clock.now());
            self.telemetry.hold_off_until(pool, until);
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
                        self.pacers
                            .of(pool)
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

    /// Applies a new configuration between two requests.
    pub(super) fn reconfigure(&mut self, config: Config, source: S) {
        source.report_key_reads(self.telemetry.key_reports());
        let comparable = match config.braze.url == self.config.braze.url
            && config.braze.time_zone == self.config.braze.time_zone
        {
            true => Comparable::Yes,
            false => Comparable::No,
        };
        let now = Instant::now();
        for export in &config.exports {
            let old = self.interval_of(export.export);
            if let Some(group) = self.group_mut(export.export) {
                if export.schedule.interval != old {
                    group.next_round = group.next_round.min(now + export.schedule.interval);
                }
            }
        }
        self.pacers.set_budget(&config.budget());
        self.source = source;
        self.telemetry.config_loaded(&config, self.clock.now());
        self.apply(config, comparable);
    }

    /// Polls `config`'s series with what discovery found: keeps the state of series that
    /// stay (when `comparable`), drops the removed ones from their rounds, and fetches the new
    /// ones next.
    pub(super) fn apply(&mut self, config: Config, comparable: Comparable) {
        let now = Instant::now();
        let plan = config.plan(&self.discovered);
        if plan.dropped > 0 {
            warn!(
                dropped = plan.dropped,
                max_series = config.max_series,
                "configuration and discovery ask for more series than max_series; the last ones (discovered first) are not polled"
            );
        }
        self.budget = Budget::planned(&config, &plan);
        self.telemetry.series_planned(&self.budget, plan.dropped);
        let old = std::mem::take(&mut self.entries);
        let keep_old = comparable == Comparable::Yes;
        let keys = plan
            .series
            .into_iter()
            .map(|s| {
                let unit = config.schedule_of(s.kind).unit;
                (s, unit)
            })
            .collect();
        let (entries, new_series) =
            Entries::new(keys, keep_old.then_some(old), self.name.as_deref());
        self.entries = entries;
        self.config = config;
        self.regroup(now);
        for group in &mut self.groups {
            let added: Vec<Arc<Series>> = new_series
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
                    let interval = self.config.interval_of(group.export);
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
        info!(
            workspace = self.name.as_deref().unwrap_or_default(),
            series = self.entries.len(),
            "series to poll"
        );
    }

    fn rules(&self, kind: Kind) -> BucketRules {
        let schedule = self.config.schedule_of(kind);
        BucketRules {
            unit: schedule.unit,
            time_zone: self.config.braze.time_zone.clone(),
            delay: schedule.delay,
        }
    }
}
