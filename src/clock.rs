//! Where "now" comes from.
//!
//! Bucket completeness, freshness timestamps and the simulator's in-progress hour all depend on
//! the wall clock. Tests must not sleep on it, so everything that reads the time takes a
//! [`Clock`]: the [`SystemClock`] in production, a `ManualClock` that a test sets and advances.

use std::sync::Arc;

use jiff::Timestamp;

/// A source of the current time, shared across tasks.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// A clock shared between the parts that must agree on the time.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

#[cfg(test)]
pub use manual::ManualClock;

#[cfg(test)]
mod manual {
    use std::sync::{Arc, Mutex};

    use jiff::{SignedDuration, Timestamp};

    use super::Clock;

    /// A clock that only moves when told to: for tests.
    #[derive(Debug, Clone)]
    pub struct ManualClock {
        now: Arc<Mutex<Timestamp>>,
    }

    impl ManualClock {
        pub fn new(start: Timestamp) -> Self {
            Self {
                now: Arc::new(Mutex::new(start)),
            }
        }

        pub fn set(&self, to: Timestamp) {
            *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
        }

        pub fn advance(&self, by: SignedDuration) {
            let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
            *now = now.saturating_add(by).unwrap_or(*now);
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Timestamp {
            *self.now.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_mins(90));
        assert_eq!(clock.now().to_string(), "2026-11-28T11:30:00Z");
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
