//! braze-exporter: Braze's analytics data series (sessions, KPIs, events, purchases, segment
//! sizes) as Prometheus gauges.
//!
//! The data path reads in one direction:
//! [`config`] → [`series`] to poll → [`braze`] client → [`refresher`] → [`snapshot`] → [`http`].
//! Every module is private: the binary's `main` is the only entry point, so the compiler
//! reports whatever nothing uses.

mod app;
mod backfill;
mod braze;
mod buckets;
mod check;
pub mod cli;
mod clock;
mod config;
#[cfg_attr(not(feature = "demo"), path = "no_demo.rs")]
mod demo;
mod discovery;
/// What the fuzz targets in `fuzz/` call: each parser of outside input with the promises it
/// keeps checked. Compiled for the tests too, which replay the committed corpora through it.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod logging;
mod memory;
mod pacing;
mod refresher;
mod reload;
mod samples;
mod series;
mod snapshot;
mod telemetry;
mod time_zone;
