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
mod pools;
pub mod retry;
mod round;
mod source;
mod workspace;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use source::Source;

use crate::braze::{BrazeClient, Fetch};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::discovery::Found;
use crate::series::Export;
use crate::snapshot::{Snapshot, SnapshotCell};
use crate::telemetry::{Shared, Telemetry};
use round::{Job, Round};
use workspace::Workspace;

/// While a round runs, a new snapshot is published at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);
/// With nothing new, a snapshot is still rendered again this often (or a quarter of the
/// shortest `stale_after`, if shorter), so stale data goes even while nothing is fetched, as
/// during a long rate-limit hold-off.
pub const REPUBLISH_EVERY: Duration = Duration::from_secs(60);

/// A new configuration: every workspace to run, each with the client built for it.
#[derive(Debug)]
pub struct Reload<S> {
    pub workspaces: Vec<(Config, S)>,
}

/// What reaches the refresher from outside: reloads, and the lists discovery read from Braze.
/// A closed channel is simply never heard from again.
#[derive(Debug)]
pub struct Inputs<S> {
    pub reloads: Option<mpsc::Receiver<Reload<S>>>,
    pub discoveries: Option<mpsc::Receiver<Found>>,
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

type InFlight =
    FuturesUnordered<Pin<Box<dyn Future<Output = (Option<String>, Job, Fetch)> + Send>>>;

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

/// Whether the old state can be kept: the same workspace (URL) and time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparable {
    Yes,
    No,
}

/// What one turn of the loop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// A round of every series of this block ended (and was published).
    RoundFinished(Export),
    /// Anything else: an answer folded in, a reload applied, a deadline reached.
    Progressed,
}

/// Every workspace, the requests in flight and what is published: one state, advanced by
/// [`Refresher::step`], which the background loop and the tests drive alike.
pub struct Refresher<S: Source = BrazeClient> {
    workspaces: Vec<Workspace<S>>,
    in_flight: InFlight,
    last_publish: Instant,
    published: Published,
    clock: SharedClock,
    shared: Arc<Shared>,
    snapshots: SnapshotCell,
}

impl<S: Source> std::fmt::Debug for Refresher<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("workspaces", &self.workspaces.len())
            .field("in_flight", &self.in_flight.len())
            .field("published", &self.published)
            .finish()
    }
}

impl<S: Source> Refresher<S> {
    /// Every workspace with its client and its self-metrics.
    pub fn new(
        workspaces: Vec<(Config, S, Telemetry)>,
        clock: SharedClock,
        shared: Arc<Shared>,
        snapshots: SnapshotCell,
    ) -> Self {
        let workspaces = workspaces
            .into_iter()
            .map(|(config, source, telemetry)| {
                Workspace::new(config, source, clock.clone(), telemetry)
            })
            .collect();
        Self {
            workspaces,
            in_flight: InFlight::new(),
            last_publish: Instant::now(),
            published: Published::UpToDate,
            clock,
            shared,
            snapshots,
        }
    }

    /// Refreshes every block of every workspace at once, then every block's interval,
    /// applying reloads and discoveries as they come, until the task is dropped. A refresh
    /// that outlasts its interval is not doubled: the ticks it overran are skipped and counted.
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
        let in_flight = &mut self.in_flight;
        tokio::select! {
            Some((workspace, job, fetch)) = in_flight.next(), if !in_flight.is_empty() => {
                // An answer for a workspace a reload removed is dropped.
                if let Some(ws) = self.workspaces.iter_mut().find(|w| w.name == workspace) {
                    ws.complete(job, fetch);
                }
                self.published = Published::Behind;
            }
            reload = recv(&mut inputs.reloads), if inputs.reloads.is_some() => match reload {
                Some(reload) => {
                    self.reconfigure(reload);
                    self.publish();
                }
                None => inputs.reloads = None,
            },
            found = recv(&mut inputs.discoveries), if inputs.discoveries.is_some() => match found {
                Some(found) => {
                    if let Some(ws) = self.workspaces.iter_mut().find(|w| w.name == found.workspace) {
                        ws.discovered(found);
                    }
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
        let mut wake_at: Option<Instant> = None;
        let mut finished = None;
        for ws in &mut self.workspaces {
            ws.start_due_rounds(now);
            let dispatch_at = ws.dispatch(now, &mut self.in_flight);
            finished = finished.or(ws.finish_rounds());
            wake_at = [wake_at, dispatch_at, ws.next_round()]
                .into_iter()
                .flatten()
                .min();
        }
        if let Some(finished) = finished {
            self.publish();
            return (Some(Instant::now()), finished);
        }
        let publish_at = self.last_publish
            + match self.published {
                Published::Behind => PUBLISH_EVERY,
                Published::UpToDate => self.republish_every(),
            };
        if now >= publish_at {
            self.publish();
            return (Some(now), Turn::Progressed);
        }
        let wake_at = [wake_at, Some(publish_at)].into_iter().flatten().min();
        (wake_at, Turn::Progressed)
    }

    fn republish_every(&self) -> Duration {
        self.workspaces
            .iter()
            .map(Workspace::republish_every)
            .fold(REPUBLISH_EVERY, Duration::min)
    }

    /// Applies a new set of workspaces between two requests: a workspace that stays (by
    /// name) keeps its values and its schedule, a new one starts, a removed one goes with its
    /// series and self-metrics.
    fn reconfigure(&mut self, reload: Reload<S>) {
        let mut old = std::mem::take(&mut self.workspaces);
        for (config, source) in reload.workspaces {
            let workspace = match old.iter().position(|w| w.name == config.workspace) {
                Some(i) => {
                    let mut ws = old.swap_remove(i);
                    ws.reconfigure(config, source);
                    ws
                }
                None => {
                    let telemetry =
                        Telemetry::for_workspace(&self.shared, config.workspace.as_deref());
                    Workspace::new(config, source, self.clock.clone(), telemetry)
                }
            };
            self.workspaces.push(workspace);
        }
        for removed in old {
            self.shared.forget_workspace(removed.name.as_deref());
        }
    }

    /// Renders every series of every workspace into a new snapshot and swaps it in. The
    /// rendering is CPU work proportional to the series count, so on a multi-threaded runtime
    /// it moves off the thread that also serves scrapes.
    fn publish(&mut self) {
        let render = || {
            let series = self.workspaces.iter().flat_map(|ws| {
                ws.entries
                    .states()
                    .map(move |(labels, state)| (labels, state, ws.stale_after(labels.kind())))
            });
            Snapshot::render(
                series,
                self.clock.now(),
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
        self.last_publish = Instant::now();
        self.published = Published::UpToDate;
    }
}

/// The next message of a channel, or never once it is gone.
async fn recv<T>(channel: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match channel {
        Some(receiver) => receiver.recv().await,
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
