//! Where the simulator's "now" comes from: the system clock, or one a test moves by hand.
//!
//! A function rather than a trait object of the exporter's, so this crate depends on nothing of
//! the exporter it checks: a test that runs both hands each the same source of time.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

/// A shared source of the current time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    /// The operating system's wall clock.
    pub fn system() -> Self {
        Self::from_fn(Timestamp::now)
    }

    /// Any source of time, such as a test's manual clock.
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}
