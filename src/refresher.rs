//! The background task that asks Braze for every series and publishes what it learns.
//!
//! One refresh fetches every series with at most `braze.max_concurrency` requests in flight,
//! folds each answer into that series' state as it arrives (a failure only marks its own series
//! down, keeping its last good values), then renders and swaps in a new snapshot. Scrapes read
//! snapshots only, so they never wait on Braze nor cause a request.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::braze::{BrazeClient, Fetch, FetchError, Point};
use crate::buckets::{Bucket, BucketRules, Latest};
use crate::clock::SharedClock;
use crate::config::{Config, RefreshSettings};
use crate::series::Series;
use crate::snapshot::{Labels, SeriesState, Snapshot, SnapshotCell};
use crate::telemetry::Telemetry;

/// One polled series and what is known of it.
#[derive(Debug)]
struct Entry {
    series: Series,
    labels: Labels,
    state: SeriesState,
    /// The latest failure, so a failing series is logged once per change, not every refresh.
    last_error: Option<FetchError>,
}

#[derive(Debug)]
pub struct Refresher {
    client: BrazeClient,
    settings: RefreshSettings,
    rules: BucketRules,
    max_concurrency: usize,
    entries: Vec<Entry>,
    clock: SharedClock,
    telemetry: Telemetry,
    snapshots: SnapshotCell,
}

impl Refresher {
    pub fn new(
        config: &Config,
        clock: SharedClock,
        telemetry: Telemetry,
        snapshots: SnapshotCell,
    ) -> Result<Self, String> {
        let client = BrazeClient::new(&config.braze)?;
        let unit = config.refresh.unit;
        let entries = config
            .series()
            .into_iter()
            .map(|series| Entry {
                labels: Labels::new(&series, unit),
                series,
                state: SeriesState::default(),
                last_error: None,
            })
            .collect();
        telemetry.config_loaded(config.series().len(), config.refresh.interval, clock.now());
        Ok(Self {
            client,
            settings: config.refresh.clone(),
            rules: BucketRules {
                unit,
                time_zone: config.braze.time_zone.clone(),
                delay: config.refresh.delay,
            },
            max_concurrency: config.braze.max_concurrency,
            entries,
            clock,
            telemetry,
            snapshots,
        })
    }

    /// Refreshes at once, then every `refresh.interval`, until the task is dropped. A refresh
    /// that outlasts the interval is not doubled: the ticks it overran are skipped and counted.
    pub async fn run(mut self) {
        let interval = self.settings.interval;
        let mut next = Instant::now();
        loop {
            self.refresh_and_publish().await;
            let (due, missed) = next_due(next, Instant::now(), interval);
            if missed > 0 {
                warn!(
                    skipped = missed,
                    interval = %humantime::format_duration(interval),
                    "refresh took longer than refresh.interval; skipping the refreshes that fell due meanwhile"
                );
                self.telemetry.refreshes_skipped(u64::from(missed));
            }
            next = due;
            tokio::time::sleep_until(next).await;
        }
    }

    /// One full refresh, then a new snapshot.
    pub async fn refresh_and_publish(&mut self) {
        let started = Instant::now();
        self.refresh().await;
        self.publish();
        self.telemetry
            .refresh_completed(started.elapsed(), self.clock.now());
    }

    async fn refresh(&mut self) {
        let client = self.client.clone();
        let telemetry = self.telemetry.clone();
        let (unit, length) = (self.settings.unit, self.settings.length);
        let jobs: Vec<(usize, Series)> = self
            .entries
            .iter()
            .map(|e| e.series.clone())
            .enumerate()
            .collect();
        let mut answers = stream::iter(jobs)
            .map(|(i, series)| {
                let (client, telemetry) = (&client, &telemetry);
                async move {
                    telemetry.request_sent();
                    (i, client.fetch(&series, unit, length).await)
                }
            })
            .buffer_unordered(self.max_concurrency);
        while let Some((i, fetch)) = answers.next().await {
            self.apply(i, fetch);
        }
    }

    /// Folds one answer into its series' state.
    fn apply(&mut self, i: usize, fetch: Fetch) {
        if let Some(limit) = &fetch.rate_limit {
            self.telemetry.rate_limit(limit);
        }
        let now = self.clock.now();
        let entry = &mut self.entries[i];
        match fetch.result {
            Ok(points) => {
                let latest = self.rules.latest(&points, now);
                entry.state.latest = merge(entry.state.latest, latest);
                entry.state.up = true;
                entry.state.last_success = Some(now);
                if let Some(error) = entry.last_error.take() {
                    info!(series = %entry.series, after = %error, "fetch recovered");
                }
                log_empty(&entry.series, &points, latest);
            }
            Err(error) => {
                self.telemetry.request_failed(error.reason());
                entry.state.up = false;
                if entry.last_error.as_ref() != Some(&error) {
                    warn!(series = %entry.series, reason = error.reason().as_str(), error = %error, "fetch failed");
                }
                entry.last_error = Some(error);
            }
        }
    }

    /// Renders every series into a new snapshot and swaps it in.
    pub fn publish(&self) {
        let snapshot = Snapshot::render(
            self.entries.iter().map(|e| (&e.labels, &e.state)),
            self.clock.now(),
            self.settings.stale_after,
        );
        self.snapshots.publish(snapshot);
    }

    pub fn interval(&self) -> Duration {
        self.settings.interval
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

/// The newer answer wins, except that it cannot move the complete bucket back in time (an
/// answer without one, or with an older one, keeps the bucket already shown).
fn merge(old: Latest, new: Latest) -> Latest {
    let complete = match (old.complete, new.complete) {
        (Some(kept), Some(Bucket { start, .. })) if kept.start > start => Some(kept),
        (kept, None) => kept,
        (_, newer) => newer,
    };
    Latest {
        complete,
        in_progress: new.in_progress,
    }
}

fn log_empty(series: &Series, points: &[Point], latest: Latest) {
    if latest.complete.is_none() {
        tracing::debug!(series = %series, points = points.len(), "Braze returned no complete bucket");
    }
}

#[cfg(test)]
mod tests;
