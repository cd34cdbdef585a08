//! Reading every page of every series from Braze, as the refresher would: paced by the
//! hourly window of `braze.max_requests_per_hour`, held off after a 429 or an answer that no
//! requests remain, with `braze.max_concurrency` requests in flight, transient failures
//! retried with the refresher's backoff. Progress goes to standard error.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;

use super::plan::Page;
use crate::braze::{BrazeClient, Fetch, FetchError};
use crate::pacing::{self, Pacer};
use crate::refresher::retry;
use crate::series::{Series, Unit};

/// Progress is printed at most this often (and once at the end).
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// One series to read: its unit and the pages its plan needs.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub series: Series,
    pub unit: Unit,
    pub pages: Vec<Page>,
}

/// What was read of one series: every bucket's value, or why it is missing.
pub type Outcome = Result<BTreeMap<jiff::Timestamp, f64>, FetchError>;

#[derive(Debug)]
struct Job {
    series: usize,
    page: usize,
    attempt: u32,
}

/// Reads every page of `wanted`; one outcome per series, in the same order.
pub async fn fetch_all(
    client: &BrazeClient,
    wanted: &[Wanted],
    max_per_hour: u64,
    max_concurrency: usize,
) -> Vec<Outcome> {
    let total: usize = wanted.iter().map(|w| w.pages.len()).sum();
    let mut queue: VecDeque<Job> = wanted
        .iter()
        .enumerate()
        .flat_map(|(series, w)| {
            (0..w.pages.len()).map(move |page| Job {
                series,
                page,
                attempt: 1,
            })
        })
        .collect();
    let mut retries: Vec<(Instant, Job)> = Vec::new();
    let mut outcomes: Vec<Outcome> = wanted.iter().map(|_| Ok(BTreeMap::new())).collect();
    let mut pacer = Pacer::new(max_per_hour);
    let mut in_flight = FuturesUnordered::new();
    let mut progress = Progress::new(total);
    loop {
        let now = Instant::now();
        // Retries that are due go before the queue.
        if let Some(i) = retries
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| *at <= now)
            .min_by_key(|(_, (at, _))| *at)
            .map(|(i, _)| i)
        {
            let (_, job) = retries.swap_remove(i);
            queue.push_front(job);
        }
        // A series that already failed for good needs no more pages.
        queue.retain(|job| outcomes[job.series].is_ok());
        let mut wake = retries.iter().map(|(at, _)| *at).min();
        if in_flight.len() < max_concurrency.max(1) && !queue.is_empty() {
            let start_at = pacer.next_start(now);
            if start_at <= now {
                let job = queue.pop_front().expect("not empty");
                pacer.started(now);
                let w = &wanted[job.series];
                let page = w.pages[job.page];
                let (series, unit) = (w.series.clone(), w.unit);
                in_flight.push(async move {
                    let fetch = client
                        .fetch_range(&series, unit, page.length, page.ending_at)
                        .await;
                    (job, fetch)
                });
                continue;
            }
            wake = Some(wake.map_or(start_at, |w| w.min(start_at)));
        }
        if in_flight.is_empty() && queue.is_empty() && retries.is_empty() {
            break;
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some((job, fetch)) = in_flight.next(), if !in_flight.is_empty() => {
                let answered = answer(job, fetch, wanted, &mut pacer, &mut outcomes, &mut retries);
                progress.answered(answered);
            }
            () = sleep => {}
        }
    }
    progress.finish();
    outcomes
}

/// Folds one answer in; returns the buckets it brought (0 unless it succeeded).
fn answer(
    job: Job,
    fetch: Fetch,
    wanted: &[Wanted],
    pacer: &mut Pacer,
    outcomes: &mut [Outcome],
    retries: &mut Vec<(Instant, Job)>,
) -> Option<usize> {
    let now = Instant::now();
    let rate_limited = matches!(fetch.result, Err(FetchError::Status { status: 429, .. }));
    if let Some(wait) = pacing::hold_off_wait(
        fetch.rate_limit.as_ref(),
        rate_limited,
        jiff::Timestamp::now(),
    ) {
        pacer.hold_off(now, wait);
    }
    let w = &wanted[job.series];
    match fetch.result {
        Ok(points) => {
            let Ok(values) = &mut outcomes[job.series] else {
                return Some(0);
            };
            let before = values.len();
            // A later point of the same bucket wins, as in the live exporter.
            for point in points {
                values.insert(point.start, point.value);
            }
            Some(values.len() - before)
        }
        Err(error) => {
            if retry::is_retryable(&error) && job.attempt < retry::MAX_ATTEMPTS {
                let backoff = now + retry::backoff(&w.series, job.attempt);
                let at = pacer
                    .hold_off_until()
                    .map_or(backoff, |held| held.max(backoff));
                retries.push((
                    at,
                    Job {
                        attempt: job.attempt + 1,
                        ..job
                    },
                ));
                return None;
            }
            if outcomes[job.series].is_ok() {
                outcomes[job.series] = Err(error);
            }
            Some(0)
        }
    }
}

/// `requests done of total, buckets read, time left`, on standard error.
struct Progress {
    total: usize,
    done: usize,
    buckets: usize,
    started: Instant,
    printed: Instant,
}

impl Progress {
    fn new(total: usize) -> Self {
        let now = Instant::now();
        Self {
            total,
            done: 0,
            buckets: 0,
            started: now,
            printed: now,
        }
    }

    /// One request answered for good (`Some`, with the buckets it brought) or to be retried.
    fn answered(&mut self, buckets: Option<usize>) {
        if let Some(buckets) = buckets {
            self.done += 1;
            self.buckets += buckets;
        }
        if self.printed.elapsed() >= PROGRESS_EVERY {
            self.print();
        }
    }

    fn finish(&mut self) {
        self.print();
    }

    fn print(&mut self) {
        self.printed = Instant::now();
        let left = match self.done {
            0 => "unknown".to_string(),
            done => {
                let per_request = self.started.elapsed() / done as u32;
                let left = per_request * (self.total - done) as u32;
                humantime::format_duration(Duration::from_secs(left.as_secs())).to_string()
            }
        };
        eprintln!(
            "braze-exporter backfill: {} of {} requests done, {} buckets read, time left {left}",
            self.done, self.total, self.buckets
        );
    }
}
