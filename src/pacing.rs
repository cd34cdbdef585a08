//! Keeping the exporter's use of Braze's budget small and smooth.
//!
//! Braze allows 250,000 requests per hour per workspace, shared with every other integration;
//! some endpoints have pools of their own (the lists: 1,000 per hour; campaign analytics:
//! 50,000 per minute). One [`Pacer`] keeps one pool's budget. Three rules decide when the next
//! request may start:
//! - the window: at most `max_per_window` request starts in any window (an hour for
//!   [`Pacer::new`], `braze.max_requests_per_hour`);
//! - spreading: after the first refresh, starts are at least `spacing` apart, so a refresh is
//!   spread over most of the interval rather than burst at its start;
//! - the rate-limit gate: after a 429, or an answer saying no requests remain, nothing is sent
//!   until Braze's `X-RateLimit-Reset` or a gateway's `Retry-After`, whichever is later (or
//!   [`DEFAULT_RESET_WAIT`] without either).
//!
//! The starts of the last window are counted per slot of 1/[`SLOTS`] of the window (a second
//! of an hour) in a fixed ring, so a pacer's memory is the same at 50 requests an hour and at
//! 50,000 a minute: keeping every start's time took 16 bytes per start, 4 MB at Braze's
//! 250,000 an hour (issue 24).

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::braze::RateLimit;

const HOUR: Duration = Duration::from_secs(3600);

/// How long to hold off after a 429 that does not say when the window resets.
pub const DEFAULT_RESET_WAIT: Duration = Duration::from_secs(60);
/// The longest hold-off a reset time can impose, should Braze's clock or header be off.
pub const MAX_RESET_WAIT: Duration = HOUR;
/// The share of the interval a spread refresh aims to fill, leaving room for retries.
pub const SPREAD_SHARE: f64 = 0.8;
/// The slots a window's starts are counted in: a start counts as made at the latest start of
/// its slot, so it leaves the window at most a slot late (a second of an hour, 17 ms of a
/// minute), never early; a budget is never exceeded in any window, and loses at most the
/// starts of one slot.
pub const SLOTS: u32 = 3600;

/// How a round's requests follow one another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// As fast as concurrency and the window's budget allow: the first refresh, and the
    /// series a reload adds, so that data shows up at once.
    Burst,
    /// Spread over [`SPREAD_SHARE`] of the interval: every later refresh.
    Spread,
}

#[derive(Debug)]
pub struct Pacer {
    max_per_window: u64,
    starts: Starts,
    spacing: Duration,
    last_start: Option<Instant>,
    hold_off_until: Option<Instant>,
}

impl Pacer {
    /// A pacer of `max_per_hour` starts in any hour.
    pub fn new(max_per_hour: u64) -> Self {
        Self::with_window(max_per_hour, HOUR)
    }

    /// A pacer of `max_per_window` starts in any `window` (at least a millisecond).
    pub fn with_window(max_per_window: u64, window: Duration) -> Self {
        Self {
            max_per_window: max_per_window.max(1),
            starts: Starts::new(window),
            spacing: Duration::ZERO,
            last_start: None,
            hold_off_until: None,
        }
    }

    /// A new budget (per window: per hour for [`Pacer::new`]) applies from now on; the starts
    /// of the last window are kept.
    pub fn set_max_per_hour(&mut self, max_per_hour: u64) {
        self.max_per_window = max_per_hour.max(1);
    }

    /// The minimum gap between request starts: none for a burst, else [`SPREAD_SHARE`] of the
    /// gap that `requests_per_hour` (every series once per its interval) leaves, and never less
    /// than the budget's pace (the window over its budget).
    pub fn set_spacing(&mut self, spacing: Spacing, requests_per_hour: f64) {
        self.spacing = match spacing {
            Spacing::Burst => Duration::ZERO,
            Spacing::Spread => {
                let budget_pace =
                    nanos(self.starts.window.as_nanos() / u128::from(self.max_per_window));
                let spread_pace = match requests_per_hour {
                    r if r > 0.0 => HOUR.mul_f64(SPREAD_SHARE / r),
                    _ => Duration::ZERO,
                };
                spread_pace.max(budget_pace)
            }
        };
    }

    /// The earliest instant the next request may start.
    pub fn next_start(&mut self, now: Instant) -> Instant {
        let window = self.starts.free_at(now, self.max_per_window);
        let spaced = self.last_start.map_or(now, |t| t + self.spacing);
        let gate = self.hold_off_until.unwrap_or(now);
        now.max(window).max(spaced).max(gate)
    }

    /// Records a request starting at `now`.
    pub fn started(&mut self, now: Instant) {
        self.starts.record(now);
        self.last_start = Some(now);
    }

    /// Holds every request until `now + wait` (clamped to [`MAX_RESET_WAIT`]).
    pub fn hold_off(&mut self, now: Instant, wait: Duration) {
        let until = now + wait.min(MAX_RESET_WAIT);
        self.hold_off_until = Some(self.hold_off_until.map_or(until, |t| t.max(until)));
    }

    pub fn hold_off_until(&self) -> Option<Instant> {
        self.hold_off_until
    }
}

/// The request starts of the last window, counted per slot in a ring of [`SLOTS`] + 1 slots:
/// the slot a start leaves the window from is reused only after it has.
#[derive(Debug)]
struct Starts {
    window: Duration,
    /// The window over [`SLOTS`], rounded up so that the slots cover the whole window.
    slot: Duration,
    /// Where slot 0 begins: the first start recorded since the window was last empty.
    origin: Instant,
    ring: Box<[Slot]>,
    /// The slots (numbered from `origin`) that may hold starts still in the window.
    oldest: u64,
    newest: u64,
    /// Starts in those slots.
    total: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    starts: u32,
    /// When the latest of them started, after the slot's beginning, in 2^-32 of a slot
    /// (rounded up).
    latest: u32,
}

impl Starts {
    fn new(window: Duration) -> Self {
        let window = window.max(Duration::from_millis(1));
        Self {
            window,
            slot: nanos(window.as_nanos().div_ceil(u128::from(SLOTS))),
            origin: Instant::now(),
            ring: vec![Slot::default(); SLOTS as usize + 1].into_boxed_slice(),
            oldest: 0,
            newest: 0,
            total: 0,
        }
    }

    /// Records a start at `at`. Slots are numbered from the first start after the window was
    /// empty; a start older than every start in the window counts as made in the oldest slot,
    /// a little later than it was.
    fn record(&mut self, at: Instant) {
        self.forget_expired(at);
        if self.total == 0 {
            (self.origin, self.oldest, self.newest) = (at, 0, 0);
        }
        let offset = at.saturating_duration_since(self.origin).as_nanos();
        let number = (offset / self.slot.as_nanos()) as u64;
        self.newest = self.newest.max(number);
        let number = number.max(self.oldest);
        let into_slot = at.saturating_duration_since(self.begins(number)).as_nanos();
        let fraction = (into_slot << 32).div_ceil(self.slot.as_nanos());
        let slot = &mut self.ring[self.position(number)];
        slot.latest = slot.latest.max(u32::try_from(fraction).unwrap_or(u32::MAX));
        if let Some(starts) = slot.starts.checked_add(1) {
            slot.starts = starts;
            self.total += 1;
        }
    }

    /// The earliest instant at which fewer than `max` starts are in the window.
    fn free_at(&mut self, now: Instant, max: u64) -> Instant {
        self.forget_expired(now);
        let Some(excess) = (self.total + 1).checked_sub(max).filter(|n| *n > 0) else {
            return now;
        };
        let mut leaving = 0;
        let enough = (self.oldest..self.newest).find(|number| {
            leaving += u64::from(self.ring[self.position(*number)].starts);
            leaving >= excess
        });
        self.leaves_at(enough.unwrap_or(self.newest))
    }

    /// Empties the oldest slots whose starts have left the window by `now`.
    fn forget_expired(&mut self, now: Instant) {
        while self.total > 0 {
            let position = self.position(self.oldest);
            let slot = self.ring[position];
            if slot.starts > 0 && self.leaves_at(self.oldest) > now {
                return;
            }
            self.total -= u64::from(slot.starts);
            self.ring[position] = Slot::default();
            self.oldest += 1;
        }
    }

    /// When the starts of slot `number` leave the window: a window after the latest of them.
    fn leaves_at(&self, number: u64) -> Instant {
        let latest = self.ring[self.position(number)].latest;
        // Rounded down: `latest` was rounded up, so this is the start's time (exactly, for slots
        // under 4.3 s) or a little after it.
        let into_slot = (self.slot.as_nanos() * u128::from(latest)) >> 32;
        self.begins(number) + nanos(into_slot) + self.window
    }

    fn begins(&self, number: u64) -> Instant {
        self.origin + nanos(self.slot.as_nanos() * u128::from(number))
    }

    fn position(&self, number: u64) -> usize {
        (number % self.ring.len() as u64) as usize
    }
}

/// A duration of `n` nanoseconds, at most `u64::MAX` of them (584 years).
fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

/// How long to send nothing after an answer: after a 429 until Braze's reset or a gateway's
/// `Retry-After`, the longer of the two (at least a second; [`DEFAULT_RESET_WAIT`] without
/// either), or until the reset when Braze says no requests remain; `None` otherwise. `now` is
/// the wall clock the reset time is compared with.
pub fn hold_off_wait(
    limit: Option<&RateLimit>,
    rate_limited: bool,
    now: Timestamp,
) -> Option<Duration> {
    let until_reset = limit
        .and_then(|l| l.reset)
        .map(|reset| now.duration_until(reset).unsigned_abs());
    let retry_after = limit
        .filter(|_| rate_limited)
        .and_then(|l| l.retry_after_from(now));
    let exhausted = limit.and_then(|l| l.remaining) == Some(0);
    match (rate_limited, exhausted, until_reset.max(retry_after)) {
        (true, _, Some(wait)) => Some(wait.max(Duration::from_secs(1))),
        (true, _, None) => Some(DEFAULT_RESET_WAIT),
        (false, true, Some(wait)) => Some(wait),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hourly_window_caps_request_starts() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(3);
        for i in 0..3 {
            let at = t0 + Duration::from_secs(i);
            assert_eq!(pacer.next_start(at), at);
            pacer.started(at);
        }
        // The fourth waits until the first is an hour old.
        assert_eq!(pacer.next_start(t0 + Duration::from_secs(10)), t0 + HOUR);
        pacer.started(t0 + HOUR);
        assert_eq!(
            pacer.next_start(t0 + HOUR),
            t0 + HOUR + Duration::from_secs(1)
        );
    }

    #[test]
    fn spread_refreshes_space_their_starts() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(250_000);
        pacer.set_spacing(Spacing::Burst, 360.0);
        pacer.started(t0);
        assert_eq!(pacer.next_start(t0), t0, "a first refresh is not spread");
        pacer.set_spacing(Spacing::Spread, 360.0); // 10 series every 100 s
        assert_eq!(pacer.next_start(t0), t0 + Duration::from_secs(8));
        // A tight budget spaces further than the interval asks: 3600 s / 60 = 60 s.
        pacer.set_max_per_hour(60);
        pacer.set_spacing(Spacing::Spread, 360.0); // 10 series every 100 s
        assert_eq!(pacer.next_start(t0), t0 + Duration::from_secs(60));
    }

    #[test]
    fn a_hold_off_blocks_until_it_ends_and_is_capped() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(100);
        pacer.hold_off(t0, Duration::from_secs(30));
        assert_eq!(pacer.next_start(t0), t0 + Duration::from_secs(30));
        pacer.hold_off(t0, Duration::from_secs(10));
        assert_eq!(
            pacer.hold_off_until(),
            Some(t0 + Duration::from_secs(30)),
            "a shorter hold does not shorten"
        );
        pacer.hold_off(t0, Duration::from_secs(86_400));
        assert_eq!(pacer.hold_off_until(), Some(t0 + MAX_RESET_WAIT));
    }

    /// Starts `n` requests `gap` apart, each allowed at once.
    async fn start_at_once(pacer: &mut Pacer, n: usize, gap: Duration) {
        for _ in 0..n {
            let now = Instant::now();
            assert_eq!(pacer.next_start(now), now);
            pacer.started(now);
            tokio::time::advance(gap).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_per_minute_window_caps_starts_per_minute() {
        let t0 = Instant::now();
        let mut pacer = Pacer::with_window(5, Duration::from_secs(60));
        start_at_once(&mut pacer, 5, Duration::from_secs(2)).await;
        // The sixth waits until the first is a minute old, not an hour.
        assert_eq!(
            pacer.next_start(Instant::now()),
            t0 + Duration::from_secs(60)
        );
        tokio::time::advance(Duration::from_secs(50)).await;
        let now = Instant::now();
        assert_eq!(now, t0 + Duration::from_secs(60));
        assert_eq!(pacer.next_start(now), now);
        pacer.started(now);
        assert_eq!(pacer.next_start(now), t0 + Duration::from_secs(62));
        // Spread, the budget's pace is the window over the budget: 60 s / 5.
        pacer.set_spacing(Spacing::Spread, 1.0e6);
        tokio::time::advance(Duration::from_secs(3600)).await;
        let now = Instant::now();
        pacer.started(now);
        assert_eq!(pacer.next_start(now), now + Duration::from_secs(12));
    }

    #[tokio::test(start_paused = true)]
    async fn campaign_analytics_fifty_thousand_a_minute_in_a_burst() {
        let t0 = Instant::now();
        let mut pacer = Pacer::with_window(50_000, Duration::from_secs(60));
        start_at_once(&mut pacer, 50_000, Duration::from_micros(10)).await;
        // Exactly, the next may start when the first is a minute old; counted per slot, it
        // waits for the latest start of the first slot (the window over SLOTS) at most.
        let next = pacer.next_start(Instant::now());
        let slot = Starts::new(Duration::from_secs(60)).slot;
        assert!(next >= t0 + Duration::from_secs(60), "{:?}", next - t0);
        assert!(
            next <= t0 + Duration::from_secs(60) + slot,
            "{:?}",
            next - t0
        );
    }

    /// The window as the old pacer kept it: every start's time.
    struct ExactWindow {
        max: usize,
        window: Duration,
        sent: std::collections::VecDeque<Instant>,
    }

    impl ExactWindow {
        fn next_start(&mut self, now: Instant) -> Instant {
            while self.sent.front().is_some_and(|t| *t + self.window <= now) {
                self.sent.pop_front();
            }
            match self.sent.len() >= self.max {
                true => self.sent[self.sent.len() - self.max] + self.window,
                false => now,
            }
        }
    }

    #[test]
    fn counted_per_slot_the_window_is_never_early_and_at_most_a_slot_late() {
        let (max, window) = (400, Duration::from_secs(60));
        let slot = Starts::new(window).slot;
        let t0 = Instant::now();
        let mut pacer = Pacer::with_window(max, window);
        let mut exact = ExactWindow {
            max: max as usize,
            window,
            sent: Default::default(),
        };
        // Bursts and pauses of pseudo-random length, a few windows long, always starting as
        // soon as allowed.
        let mut random: u64 = 0x2545_f491_4f6c_dd1d;
        let mut now = t0;
        for _ in 0..20_000 {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            now += Duration::from_micros(random % 200_000);
            let (slotted, reference) = (pacer.next_start(now), exact.next_start(now));
            assert!(
                slotted >= reference && slotted <= reference + slot,
                "at {:?}: {:?} against {:?} exactly",
                now - t0,
                slotted - t0,
                reference - t0
            );
            now = slotted;
            pacer.started(now);
            exact.sent.push_back(now);
        }
        assert!(now - t0 > 3 * window, "covered {:?}", now - t0);
    }

    #[test]
    fn memory_does_not_depend_on_the_budget_or_the_starts() {
        let held_after = |max: u64, window: Duration, starts: u32| {
            let before = heap::live();
            let t0 = Instant::now();
            let mut pacer = Pacer::with_window(max, window);
            for i in 0..starts {
                let now = t0 + window.mul_f64(f64::from(i) / f64::from(starts));
                pacer.next_start(now);
                pacer.started(now);
            }
            let held = heap::live() - before;
            drop(pacer);
            held
        };
        let hour = Duration::from_secs(3600);
        let small = held_after(50, hour, 10);
        assert!(small > 0, "the ring is on the heap");
        assert_eq!(held_after(250_000, hour, 250_000), small);
        assert_eq!(held_after(50_000, Duration::from_secs(60), 250_000), small);
    }

    /// Heap bytes allocated and not freed by the current thread, for the memory test.
    mod heap {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static LIVE: Cell<isize> = const { Cell::new(0) };
        }

        pub fn live() -> isize {
            LIVE.with(Cell::get)
        }

        fn add(bytes: isize) {
            let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
        }

        struct Counting;

        // SAFETY: every call is passed to the system allocator unchanged; only a thread-local
        // count (which allocates nothing) is kept beside it.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                add(layout.size() as isize);
                System.alloc(layout)
            }

            unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
                add(layout.size() as isize);
                System.alloc_zeroed(layout)
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                add(-(layout.size() as isize));
                System.dealloc(ptr, layout)
            }

            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                add(new_size as isize - layout.size() as isize);
                System.realloc(ptr, layout, new_size)
            }
        }

        #[global_allocator]
        static COUNTING: Counting = Counting;
    }
}
