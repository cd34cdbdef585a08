//! Failures a test injects at run time.
//!
//! A fault stays in place until cleared or replaced, and applies before normal handling (before
//! authentication, permissions, the rate limit and parameter checks), to every GET of a served
//! path whose target matches. A [`FaultTarget::Series`] fault wins over a
//! [`FaultTarget::Parameter`] one, which wins over a [`FaultTarget::Path`] one, which wins over a
//! [`FaultTarget::All`] one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::params::Query;

/// What a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FaultTarget {
    /// Every request to every served path.
    All,
    /// Requests to `/sessions/data_series` whose `app_id` and `segment_id` query parameters are
    /// exactly these (`None`: the parameter is absent).
    Series {
        app_id: Option<String>,
        segment_id: Option<String>,
    },
    /// Every request to this path, e.g. `"/kpi/dau/data_series"` or `"/events/list"`.
    Path(String),
    /// Requests to `path` whose query parameter `name` is exactly `value` (after decoding), such
    /// as one campaign's analytics: see [`FaultTarget::campaign`], [`FaultTarget::canvas`],
    /// [`FaultTarget::send`].
    Parameter {
        path: String,
        name: String,
        value: String,
    },
}

impl FaultTarget {
    /// `/campaigns/data_series` of this `campaign_id`.
    pub fn campaign(campaign_id: &str) -> Self {
        Self::parameter("/campaigns/data_series", "campaign_id", campaign_id)
    }

    /// `/canvas/data_series` of this `canvas_id`.
    pub fn canvas(canvas_id: &str) -> Self {
        Self::parameter("/canvas/data_series", "canvas_id", canvas_id)
    }

    /// `/sends/data_series` of this `send_id`.
    pub fn send(send_id: &str) -> Self {
        Self::parameter("/sends/data_series", "send_id", send_id)
    }

    fn parameter(path: &str, name: &str, value: &str) -> Self {
        Self::Parameter {
            path: path.into(),
            name: name.into(),
            value: value.into(),
        }
    }
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
    /// 200 with valid JSON of the wrong shape: for a data series, `data` holds one point whose
    /// value is a word (`"sessions": "lots"`, `"revenue": "lots"`, …), which no reader can take
    /// for a number; for a list, the list is a word (`"events": "lots"`).
    WrongShape,
    /// 200 with `Content-Type: application/json` and a body of exactly this many bytes: valid
    /// JSON (`{"message":"success","data":[],"padding":"xxx…"}`) when it is at least 44 bytes,
    /// spaces otherwise.
    Oversized(usize),
    /// 200 with valid JSON whose `message` is this text instead of `"success"` (Braze "returns
    /// 'success' when completed without errors"), and numbers no reader must use: for a data
    /// series, `data` holds one point of today (in the company time zone) whose value is
    /// [`UNSUCCESSFUL_VALUE`]; for a list, the list holds one item, `"unsuccessful-424242"`.
    Unsuccessful(String),
    /// 429 `{"message":"Too Many Requests"}` with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset` = now + `reset_in` (rounded up to a whole second).
    RateLimited { reset_in: Duration },
    /// 429 `{"message":"Too Many Requests"}` with `Retry-After: <retry_after>`, written as
    /// given (seconds, or an HTTP-date), as a gateway in front of Braze answers. With
    /// `reset_in`, also the headers of [`Fault::RateLimited`] (remaining 0, the reset then);
    /// without, no `X-RateLimit-*` header at all. Braze itself documents only the reset header.
    RetryAfter {
        retry_after: String,
        reset_in: Option<Duration>,
    },
}

/// The value in the data of a [`Fault::Unsuccessful`] answer: a reader that shows it used
/// numbers from an export that did not succeed.
pub const UNSUCCESSFUL_VALUE: u64 = 424_242;

/// The faults in force: a cheap, clonable handle shared with the server.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<RwLock<FaultTable>>,
}

#[derive(Debug, Default)]
struct FaultTable {
    all: Option<Fault>,
    series: HashMap<(Option<String>, Option<String>), Fault>,
    /// (path, name, value)
    parameters: HashMap<(String, String, String), Fault>,
    paths: HashMap<String, Fault>,
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
            FaultTarget::Path(path) => {
                table.paths.insert(path, fault);
            }
            FaultTarget::Parameter { path, name, value } => {
                table.parameters.insert((path, name, value), fault);
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
            FaultTarget::Path(path) => {
                table.paths.remove(path);
            }
            FaultTarget::Parameter { path, name, value } => {
                table
                    .parameters
                    .remove(&(path.clone(), name.clone(), value.clone()));
            }
        }
    }

    pub fn clear_all(&self) {
        let mut table = self.write();
        table.all = None;
        table.series.clear();
        table.parameters.clear();
        table.paths.clear();
    }

    /// The fault for a request to `path` with `query`; `series` is the (`app_id`,
    /// `segment_id`) of a request to `/sessions/data_series`, `None` for other paths.
    pub(super) fn for_request(
        &self,
        path: &str,
        series: Option<(Option<&str>, Option<&str>)>,
        query: &Query,
    ) -> Option<Fault> {
        let table = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if let (Some((app_id, segment_id)), false) = (series, table.series.is_empty()) {
            let key = (app_id.map(str::to_owned), segment_id.map(str::to_owned));
            if let Some(fault) = table.series.get(&key) {
                return Some(fault.clone());
            }
        }
        let parameter = table
            .parameters
            .iter()
            .find(|((p, name, value), _)| p == path && query.get(name) == Some(value.as_str()));
        if let Some((_, fault)) = parameter {
            return Some(fault.clone());
        }
        if let Some(fault) = table.paths.get(path) {
            return Some(fault.clone());
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

    const SESSIONS: &str = "/sessions/data_series";

    fn series(app: Option<&str>, segment: Option<&str>) -> FaultTarget {
        FaultTarget::Series {
            app_id: app.map(Into::into),
            segment_id: segment.map(Into::into),
        }
    }

    fn sessions(faults: &Faults, app: Option<&str>, segment: Option<&str>) -> Option<Fault> {
        faults.for_request(SESSIONS, Some((app, segment)), &Query::default())
    }

    #[test]
    fn series_fault_wins_over_all_and_clears() {
        let faults = Faults::new();
        assert_eq!(sessions(&faults, None, None), None);
        faults.set(FaultTarget::All, Fault::BareStatus(503));
        faults.set(series(Some("a"), None), Fault::Hang);
        assert_eq!(sessions(&faults, Some("a"), None), Some(Fault::Hang));
        assert_eq!(
            sessions(&faults, Some("a"), Some("s")),
            Some(Fault::BareStatus(503))
        );
        assert_eq!(sessions(&faults, None, None), Some(Fault::BareStatus(503)));
        faults.set(series(Some("a"), None), Fault::MalformedJson);
        assert_eq!(
            sessions(&faults, Some("a"), None),
            Some(Fault::MalformedJson)
        );
        faults.clear(&FaultTarget::All);
        assert_eq!(sessions(&faults, None, None), None);
        assert_eq!(
            sessions(&faults, Some("a"), None),
            Some(Fault::MalformedJson)
        );
        faults.clone().clear_all();
        assert_eq!(sessions(&faults, Some("a"), None), None);
    }

    #[test]
    fn path_fault_applies_to_its_path_only() {
        let faults = Faults::new();
        let dau = "/kpi/dau/data_series";
        faults.set(FaultTarget::Path(dau.into()), Fault::BareStatus(502));
        assert_eq!(
            faults.for_request(dau, None, &Query::default()),
            Some(Fault::BareStatus(502))
        );
        assert_eq!(
            faults.for_request("/events/list", None, &Query::default()),
            None
        );
        assert_eq!(sessions(&faults, None, None), None);
        // A series fault is for sessions only; a path fault wins over All.
        faults.set(series(None, None), Fault::Hang);
        faults.set(FaultTarget::All, Fault::MalformedJson);
        assert_eq!(
            faults.for_request(dau, None, &Query::default()),
            Some(Fault::BareStatus(502))
        );
        assert_eq!(
            faults.for_request("/events/list", None, &Query::default()),
            Some(Fault::MalformedJson)
        );
        assert_eq!(sessions(&faults, None, None), Some(Fault::Hang));
        faults.set(FaultTarget::Path(SESSIONS.into()), Fault::WrongShape);
        assert_eq!(sessions(&faults, None, None), Some(Fault::Hang));
        assert_eq!(sessions(&faults, Some("a"), None), Some(Fault::WrongShape));
        faults.clear(&FaultTarget::Path(dau.into()));
        assert_eq!(
            faults.for_request(dau, None, &Query::default()),
            Some(Fault::MalformedJson)
        );
        faults.clear_all();
        assert_eq!(faults.for_request(SESSIONS, None, &Query::default()), None);
    }

    #[test]
    fn parameter_fault_matches_its_path_and_value_and_wins_over_the_path() {
        let faults = Faults::new();
        let path = "/campaigns/data_series";
        let query = |q: &str| Query::parse(Some(q));
        faults.set(FaultTarget::campaign("c 1"), Fault::BareStatus(503));
        faults.set(FaultTarget::Path(path.into()), Fault::Hang);
        let one = query("length=1&campaign_id=c+1");
        assert_eq!(
            faults.for_request(path, None, &one),
            Some(Fault::BareStatus(503))
        );
        assert_eq!(
            faults.for_request(path, None, &query("campaign_id=c2")),
            Some(Fault::Hang)
        );
        assert_eq!(faults.for_request("/campaigns/details", None, &one), None);
        faults.clear(&FaultTarget::campaign("c 1"));
        assert_eq!(faults.for_request(path, None, &one), Some(Fault::Hang));
        faults.set(FaultTarget::canvas("v"), Fault::MalformedJson);
        faults.set(FaultTarget::send("s"), Fault::WrongShape);
        let canvas = query("canvas_id=v");
        assert_eq!(
            faults.for_request("/canvas/data_series", None, &canvas),
            Some(Fault::MalformedJson)
        );
        let send = query("campaign_id=c&send_id=s");
        assert_eq!(
            faults.for_request("/sends/data_series", None, &send),
            Some(Fault::WrongShape)
        );
        faults.clear_all();
        assert_eq!(faults.for_request("/sends/data_series", None, &send), None);
    }
}
