//! Every polled series and what is known of it, in configuration order.
//!
//! Each series is held once, behind an `Arc`: the index, the entry and a round's jobs share it
//! (what that and the shared scopes saved at 10,000 series is in BENCHMARKS.md).

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use tracing::{info, warn};

use crate::braze::{FailureReason, FetchError, Point};
use crate::buckets::{Bucket, BucketRules, Latest};
use crate::series::{Series, Unit};
use crate::snapshot::{Labels, SeriesState};

/// What follows a failed fetch: logged with the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// A retry within this refresh, after a backoff.
    Retry,
    /// Nothing until the next refresh.
    NextRefresh,
}

#[derive(Debug)]
pub struct Entry {
    pub series: Arc<Series>,
    pub unit: Unit,
    pub labels: Labels,
    pub state: SeriesState,
    /// The latest failure's kind, so a failing series is logged once per change, not per try.
    failing: Option<(FailureReason, Option<u16>)>,
}

impl Entry {
    /// A series nothing is known of yet.
    fn fresh(series: Arc<Series>, unit: Unit, workspace: Option<&str>) -> Self {
        Self {
            labels: Labels::new(&series, unit, workspace),
            series,
            unit,
            state: SeriesState::default(),
            failing: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Entries {
    list: Vec<Entry>,
    index: HashMap<Arc<Series>, usize>,
}

impl Entries {
    /// Entries for `series`, each in its unit, taking over what `old` knew of the same series in
    /// the same unit (the caller passes `old` only when its data is still comparable: same
    /// endpoint and time zone). Also returns the series `old` did not have, in order.
    pub fn new(
        series: Vec<(Series, Unit)>,
        old: Option<Entries>,
        workspace: Option<&str>,
    ) -> (Self, Vec<Arc<Series>>) {
        let mut kept: HashMap<Arc<Series>, Entry> = old
            .map(|o| o.list.into_iter().map(|e| (e.series.clone(), e)).collect())
            .unwrap_or_default();
        let mut added = Vec::new();
        let mut list = Vec::with_capacity(series.len());
        for (s, unit) in series {
            list.push(match kept.remove(&s) {
                Some(entry) if entry.unit == unit => entry,
                Some(entry) => Entry::fresh(entry.series, unit, workspace),
                None => {
                    let series = Arc::new(s);
                    added.push(series.clone());
                    Entry::fresh(series, unit, workspace)
                }
            });
        }
        let index = list
            .iter()
            .enumerate()
            .map(|(i, e)| (e.series.clone(), i))
            .collect();
        (Self { list, index }, added)
    }

    pub fn contains(&self, series: &Series) -> bool {
        self.index.contains_key(series)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn series(&self) -> impl Iterator<Item = &Arc<Series>> {
        self.list.iter().map(|e| &e.series)
    }

    pub fn states(&self) -> impl Iterator<Item = (&Labels, &SeriesState)> + Clone {
        self.list.iter().map(|e| (&e.labels, &e.state))
    }

    /// Folds a successful answer into its series; an answer for a series no longer polled is
    /// dropped.
    pub fn succeeded(
        &mut self,
        series: &Series,
        points: &[Point],
        rules: &BucketRules,
        now: Timestamp,
    ) {
        let Some(entry) = self.get_mut(series) else {
            return;
        };
        let latest = rules.latest(points, now);
        let got_complete = latest.complete.is_some();
        entry.state.latest = merge(std::mem::take(&mut entry.state.latest), latest);
        entry.state.up = true;
        entry.state.attempted = true;
        entry.state.last_success = Some(now);
        if entry.failing.take().is_some() {
            info!(kind = entry.series.kind.spec().name, series = %entry.series, "fetch recovered");
        }
        if !got_complete {
            tracing::debug!(kind = entry.series.kind.spec().name, series = %entry.series, points = points.len(), "Braze returned no complete bucket");
        }
    }

    /// Marks a series down, keeping its last good values; logs when the kind of failure
    /// changes.
    pub fn failed(&mut self, series: &Series, error: &FetchError, next: NextAttempt) {
        let Some(entry) = self.get_mut(series) else {
            return;
        };
        entry.state.up = false;
        entry.state.attempted = true;
        let failure = (error.reason(), error.status());
        if entry.failing != Some(failure) {
            let retrying = next == NextAttempt::Retry;
            let spec = entry.series.kind.spec();
            match failure.0 {
                FailureReason::Forbidden => warn!(
                    kind = spec.name, series = %entry.series, reason = failure.0.as_str(), error = %error,
                    permission = spec.permission,
                    "fetch failed: the API key lacks the permission {}; add it to the key in Braze's dashboard (every other kind keeps working)",
                    spec.permission
                ),
                _ => {
                    warn!(kind = spec.name, series = %entry.series, reason = failure.0.as_str(), error = %error, retrying, "fetch failed")
                }
            }
            entry.failing = Some(failure);
        }
    }

    fn get_mut(&mut self, series: &Series) -> Option<&mut Entry> {
        let i = *self.index.get(series)?;
        self.list.get_mut(i)
    }
}

/// The newer answer wins, except that it cannot move the complete bucket back in time (an
/// answer without one, or with an older one, keeps the bucket already shown).
pub fn merge(old: Latest, new: Latest) -> Latest {
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
