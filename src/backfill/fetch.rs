//! Reading every page of every series from Braze, as the refresher would: paced by each
//! rate-limit pool's budget in its window (`braze.max_requests_per_hour` in the shared pool's
//! hour, the exporter's share of the campaign-analytics pool in its minute), a pool held off
//! after a 429 or an answer that no requests remain in it (the others go on), with
//! `braze.max_concurrency` requests in flight, transient failures retried with the
//! refresher's backoff. Progress goes to standard error.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;

use super::plan::Page;
use crate::braze::{BrazeClient, Fetch, FetchError, Request};
use crate::pacing::{self, Pacer};
use crate::refresher::retry;
use crate::samples::Values;
use crate::series::{Pool, Series, Unit};

/// Progress is printed at most this often (and once at the end).
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// One series to read: its unit and the pages its plan needs.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub series: Series,
    pub unit: Unit,
    /// Canvases: whether their steps are exported (`export.canvases.steps`).
    pub steps: bool,
    pub pages: Vec<Page>,
}

impl Wanted {
    /// The rate-limit pool its endpoint draws on.
    fn pool(&self) -> Pool {
        self.series.kind.spec().pool
    }

    /// The request of one page: the `length` buckets ending with the one containing its
    /// `ending_at`.
    fn request(&self, page: Page) -> Request {
        Request {
            unit: self.unit,
            length: page.length,
            ending_at: Some(page.ending_at),
            steps: self.steps,
        }
    }
}

/// What was read of one series: every bucket's value, or why it is missing.
pub type Outcome = Result<BTreeMap<jiff::Timestamp, Values>, FetchError>;

#[derive(Debug)]
struct Job {
    series: usize,
    page: usize,
    attempt: u32,
}

/// One pacer per rate-limit pool, as the refresher keeps: Braze counts the shared hourly pool
/// and the campaign-analytics pool apart, so each has its own budget, and a 429 (or an
/// exhausted `X-RateLimit-Remaining`) in one holds off only its own requests.
struct Pacers(Vec<(Pool, Pacer)>);

impl Pacers {
    fn new(per_window: impl Fn(Pool) -> (u64, Duration)) -> Self {
        Self(
            Pool::ALL
                .into_iter()
                .map(|pool| {
                    let (max, window) = per_window(pool);
                    (pool, Pacer::with_window(max, window))
                })
                .collect(),
        )
    }

    fn of(&mut self, pool: Pool) -> &mut Pacer {
        let i = self
            .0
            .iter()
            .position(|(p, _)| *p == pool)
            .expect("a pacer for every pool of Pool::ALL");
        &mut self.0[i].1
    }

    /// The position in `queue` of the first page whose pool may start at `now` (a held-off
    /// pool does not block the others), else the earliest instant one may.
    fn ready(
        &mut self,
        queue: &VecDeque<Job>,
        wanted: &[Wanted],
        now: Instant,
    ) -> Result<usize, Option<Instant>> {
        let starts: Vec<(Pool, Instant)> = self
            .0
            .iter_mut()
            .map(|(pool, pacer)| (*pool, pacer.next_start(now)))
            .collect();
        let start_of = |job: &Job| {
            let pool = wanted[job.series].pool();
            starts
                .iter()
                .find(|(p, _)| *p == pool)
                .map_or(now, |(_, at)| *at)
        };
        queue
            .iter()
            .position(|job| start_of(job) <= now)
            .ok_or_else(|| queue.iter().map(start_of).min())
    }
}

/// Reads every page of `wanted` from Braze, within `per_window` requests of each pool;
/// one outcome per series, in the same order. `whose` starts each progress line (`workspace eu: `, or nothing in the single form).
pub async fn fetch_all(
    client: &BrazeClient,
    wanted: &[Wanted],
    per_window: impl Fn(Pool) -> (u64, Duration),
    max_concurrency: usize,
    whose: &str,
) -> Vec<Outcome> {
    let fetch =
        |series: Series, request: Request| async move { client.fetch(&series, &request).await };
    fetch_with(fetch, wanted, per_window, max_concurrency, whose).await
}

/// As [`fetch_all`], with `fetch` making each request (a fake in tests).
async fn fetch_with<F, Fut>(
    fetch: F,
    wanted: &[Wanted],
    per_window: impl Fn(Pool) -> (u64, Duration),
    max_concurrency: usize,
    whose: &str,
) -> Vec<Outcome>
where
    F: Fn(Series, Request) -> Fut,
    Fut: std::future::Future<Output = Fetch>,
{
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
    let mut pacers = Pacers::new(per_window);
    let mut in_flight = FuturesUnordered::new();
    let mut progress = Progress::new(total, whose);
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
            match pacers.ready(&queue, wanted, now) {
                Ok(i) => {
                    let job = queue.remove(i).expect("a queued page");
                    let w = &wanted[job.series];
                    pacers.of(w.pool()).started(now);
                    let page = w.pages[job.page];
                    let request = fetch(w.series.clone(), w.request(page));
                    in_flight.push(async move { (job, request.await) });
                    continue;
                }
                Err(start_at) => wake = wake.into_iter().chain(start_at).min(),
            }
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
                let pacer = pacers.of(wanted[job.series].pool());
                let answered = answer(job, fetch, wanted, pacer, &mut outcomes, &mut retries);
                progress.answered(answered);
            }
            () = sleep => {}
        }
    }
    progress.finish();
    outcomes
}

/// Folds one answer in (`pacer`: its pool's); returns the buckets it brought (0 unless it
/// succeeded).
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
                values.insert(point.start, point.values);
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
struct Progress<'a> {
    whose: &'a str,
    total: usize,
    done: usize,
    buckets: usize,
    started: Instant,
    printed: Instant,
}

impl<'a> Progress<'a> {
    fn new(total: usize, whose: &'a str) -> Self {
        let now = Instant::now();
        Self {
            whose,
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
            "braze-exporter backfill: {}{} of {} requests done, {} buckets read, time left {left}",
            self.whose, self.done, self.total, self.buckets
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use jiff::Timestamp;

    use super::*;
    use crate::braze::{Point, RateLimit};
    use crate::series::{Pool, Scope};

    fn wanted(names: &[&str], pages: u32) -> Vec<Wanted> {
        names
            .iter()
            .map(|name| Wanted {
                series: Series::sessions(Scope::named(*name, *name), Scope::all()),
                unit: Unit::Hour,
                steps: false,
                pages: hours(pages),
            })
            .collect()
    }

    /// One page of one hour each, the hours from the epoch: `ending_at` tells them apart.
    fn hours(pages: u32) -> Vec<Page> {
        (0..pages)
            .map(|i| Page {
                ending_at: Timestamp::from_second(3600 * (i64::from(i) + 1)).unwrap(),
                length: 1,
            })
            .collect()
    }

    /// A campaign series (the campaign-analytics pool), pages as [`hours`].
    fn campaign(name: &str, pages: u32) -> Wanted {
        Wanted {
            series: Series::new(
                crate::series::Kind::Campaign,
                vec![Scope::named(name, name)],
            ),
            unit: Unit::Day,
            steps: false,
            pages: hours(pages),
        }
    }

    /// Per-pool budgets for the tests: `shared` an hour in the shared pool, 1,000 a minute in
    /// the campaign-analytics pool.
    fn budget(shared: u64) -> impl Fn(Pool) -> (u64, Duration) {
        move |pool| match pool {
            Pool::CampaignAnalytics => (1_000, Duration::from_secs(60)),
            _ => (shared, Duration::from_secs(3600)),
        }
    }

    fn point(page: Page) -> Fetch {
        Fetch {
            result: Ok(vec![Point {
                start: page.ending_at,
                values: Values::One(1.0),
            }]),
            rate_limit: None,
        }
    }

    /// When each request started, from the test's start.
    type Starts = Arc<Mutex<Vec<Duration>>>;

    /// Records when each request starts, and answers with `answer(n, page)` for the n-th.
    fn recorder(
        answer: impl Fn(usize, Page) -> Fetch,
    ) -> (
        Starts,
        impl Fn(Series, Request) -> std::future::Ready<Fetch>,
    ) {
        let t0 = Instant::now();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let log = starts.clone();
        let fetch = move |_: Series, request: Request| {
            let page = Page {
                ending_at: request.ending_at.expect("a backfill page ends somewhere"),
                length: request.length,
            };
            let mut log = log.lock().unwrap();
            log.push(t0.elapsed());
            std::future::ready(answer(log.len(), page))
        };
        (starts, fetch)
    }

    fn whole_seconds(starts: &Mutex<Vec<Duration>>) -> Vec<u64> {
        starts.lock().unwrap().iter().map(|d| d.as_secs()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn requests_stay_within_the_hourly_budget() {
        let (starts, fetch) = recorder(|_, page| point(page));
        let outcomes = fetch_with(fetch, &wanted(&["a", "b"], 3), budget(4), 2, "").await;
        assert_eq!(whole_seconds(&starts), [0, 0, 0, 0, 3600, 3600]);
        assert!(outcomes
            .iter()
            .all(|o| o.as_ref().is_ok_and(|v| v.len() == 3)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_request_until_the_reset_and_is_retried() {
        let (starts, fetch) = recorder(|n, page| match n {
            1 => Fetch {
                result: Err(FetchError::Status {
                    status: 429,
                    message: None,
                }),
                rate_limit: Some(RateLimit {
                    limit: Some(10),
                    remaining: Some(0),
                    reset: None,
                    retry_after: None,
                }),
            },
            _ => point(page),
        });
        let outcomes = fetch_with(fetch, &wanted(&["a"], 2), budget(100), 1, "").await;
        // No reset time: the default wait, then the retry and the next page.
        let wait = pacing::DEFAULT_RESET_WAIT.as_secs();
        assert_eq!(whole_seconds(&starts), [0, wait, wait]);
        assert_eq!(outcomes[0].as_ref().unwrap().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_with_backoff_then_given_up() {
        let failing = wanted(&["a"], 1);
        let (starts, fetch) = recorder(|_, _| Fetch {
            result: Err(FetchError::Status {
                status: 503,
                message: None,
            }),
            rate_limit: None,
        });
        let outcomes = fetch_with(fetch, &failing, budget(100), 1, "").await;
        let starts = starts.lock().unwrap().clone();
        assert_eq!(starts.len(), retry::MAX_ATTEMPTS as usize);
        let series = &failing[0].series;
        for (attempt, pair) in (1..).zip(starts.windows(2)) {
            // Each retry waits its backoff after the failure (tokio's timer rounds up to 1 ms).
            let waited = pair[1] - pair[0];
            let backoff = retry::backoff(series, attempt);
            assert!(
                waited >= backoff && waited < backoff + Duration::from_millis(2),
                "attempt {}: {waited:?} vs {backoff:?}",
                attempt + 1
            );
        }
        assert!(matches!(
            outcomes[0],
            Err(FetchError::Status { status: 503, .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn campaign_requests_draw_on_their_own_pool_not_the_shared_budget() {
        // Two sessions pages fill a shared budget of 2 an hour; the campaign's two pages
        // start at once all the same.
        let (starts, fetch) = recorder(|_, page| point(page));
        let mut all = wanted(&["a"], 2);
        all.push(campaign("email", 2));
        let outcomes = fetch_with(fetch, &all, budget(2), 4, "").await;
        assert_eq!(whole_seconds(&starts), [0, 0, 0, 0]);
        assert!(outcomes
            .iter()
            .all(|o| o.as_ref().is_ok_and(|v| v.len() == 2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_of_the_campaign_pool_holds_only_campaign_requests() {
        // Requests go one at a time: the campaign's first page (a 429 without a reset time),
        // then the sessions pages straight away; the campaign's pages after the default wait.
        let (starts, fetch) = recorder(|n, page| match n {
            1 => Fetch {
                result: Err(FetchError::Status {
                    status: 429,
                    message: None,
                }),
                rate_limit: None,
            },
            _ => point(page),
        });
        let mut all = vec![campaign("email", 2)];
        all.extend(wanted(&["a"], 2));
        let outcomes = fetch_with(fetch, &all, budget(100), 1, "").await;
        let wait = pacing::DEFAULT_RESET_WAIT.as_secs();
        assert_eq!(whole_seconds(&starts), [0, 0, 0, wait, wait]);
        assert!(outcomes
            .iter()
            .all(|o| o.as_ref().is_ok_and(|v| v.len() == 2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_series_stops_and_the_others_go_on() {
        let (starts, fetch) = recorder(|n, page| match n {
            1 => Fetch {
                result: Err(FetchError::Status {
                    status: 403,
                    message: None,
                }),
                rate_limit: None,
            },
            _ => point(page),
        });
        let outcomes = fetch_with(fetch, &wanted(&["a", "b"], 3), budget(100), 1, "").await;
        assert_eq!(
            starts.lock().unwrap().len(),
            4,
            "a's other pages are not asked for"
        );
        assert!(outcomes[0].is_err());
        assert_eq!(outcomes[1].as_ref().unwrap().len(), 3);
    }
}
