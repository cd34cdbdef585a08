//! Failures a test injects at run time.
//!
//! A fault stays in place until cleared or replaced, and applies before normal handling (before
//! authentication, the rate limit and parameter checks), to every `GET /sessions/data_series`
//! whose target matches. A [`FaultTarget::Series`] fault wins over a [`FaultTarget::All`] one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FaultTarget {
    /// Every request to the endpoint.
    All,
    /// Requests whose `app_id` and `segment_id` query parameters are exactly these
    /// (`None`: the parameter is absent).
    Series {
        app_id: Option<String>,
        segment_id: Option<String>,
    },
}

/// A way to answer wrongly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status with Braze's error body `{"message": message, "errors": [message]}`, and the
    /// current rate-limit headers (the request does not use up the budget).
    Status { status: u16, message: String },
    /// This status from a load balancer in front of Braze: an HTML body, `text/html`, no JSON,
    /// no rate-limit headers.
    BareStatus(u16),
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Never answer; the connection is dropped when the simulator shuts down.
    Hang,
    /// 200 with `Content-Type: application/json` and a body cut off in the middle of the JSON.
    MalformedJson,
    /// 200 with valid JSON of the wrong shape: `data` holds one point whose `sessions` is a
    /// word (`"sessions": "lots"`), which no reader can take for a count.
    WrongShape,
    /// 200 with `Content-Type: application/json` and a body of exactly this many bytes: valid
    /// JSON (`{"message":"success","data":[],"padding":"xxx…"}`) when it is at least 44 bytes,
    /// spaces otherwise.
    Oversized(usize),
    /// 429 `{"message":"Too Many Requests"}` with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset` = now + `reset_in` (rounded up to a whole second).
    RateLimited { reset_in: Duration },
}

/// The faults in force: a cheap, clonable handle shared with the server.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<RwLock<FaultTable>>,
}

#[derive(Debug, Default)]
struct FaultTable {
    all: Option<Fault>,
    series: HashMap<(Option<String>, Option<String>), Fault>,
}

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `fault` in force for `target`, replacing any fault it had.
    pub fn set(&self, target: FaultTarget, fault: Fault) {
        let mut table = self.write();
        match target {
            FaultTarget::All => table.all = Some(fault),
            FaultTarget::Series { app_id, segment_id } => {
                table.series.insert((app_id, segment_id), fault);
            }
        }
    }

    pub fn clear(&self, target: &FaultTarget) {
        let mut table = self.write();
        match target {
            FaultTarget::All => table.all = None,
            FaultTarget::Series { app_id, segment_id } => {
                table.series.remove(&(app_id.clone(), segment_id.clone()));
            }
        }
    }

    pub fn clear_all(&self) {
        let mut table = self.write();
        table.all = None;
        table.series.clear();
    }

    /// The fault for a request with these `app_id` and `segment_id` parameters, if any.
    pub(super) fn for_request(
        &self,
        app_id: Option<&str>,
        segment_id: Option<&str>,
    ) -> Option<Fault> {
        let table = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if !table.series.is_empty() {
            let key = (app_id.map(str::to_owned), segment_id.map(str::to_owned));
            if let Some(fault) = table.series.get(&key) {
                return Some(fault.clone());
            }
        }
        table.all.clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, FaultTable> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(app: Option<&str>, segment: Option<&str>) -> FaultTarget {
        FaultTarget::Series {
            app_id: app.map(Into::into),
            segment_id: segment.map(Into::into),
        }
    }

    #[test]
    fn series_fault_wins_over_all_and_clears() {
        let faults = Faults::new();
        assert_eq!(faults.for_request(None, None), None);
        faults.set(FaultTarget::All, Fault::BareStatus(503));
        faults.set(series(Some("a"), None), Fault::Hang);
        assert_eq!(faults.for_request(Some("a"), None), Some(Fault::Hang));
        assert_eq!(
            faults.for_request(Some("a"), Some("s")),
            Some(Fault::BareStatus(503))
        );
        assert_eq!(faults.for_request(None, None), Some(Fault::BareStatus(503)));
        faults.set(series(Some("a"), None), Fault::MalformedJson);
        assert_eq!(
            faults.for_request(Some("a"), None),
            Some(Fault::MalformedJson)
        );
        faults.clear(&FaultTarget::All);
        assert_eq!(faults.for_request(None, None), None);
        assert_eq!(
            faults.for_request(Some("a"), None),
            Some(Fault::MalformedJson)
        );
        faults.clone().clear_all();
        assert_eq!(faults.for_request(Some("a"), None), None);
    }
}
