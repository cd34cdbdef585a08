//! braze-exporter: Braze app sessions per app, segment and hour, as Prometheus gauges.
//!
//! The data path reads in one direction:
//! [`config`] → [`series`] to poll → [`braze`] client → [`refresher`] → [`snapshot`] → [`http`].

pub mod braze;
pub mod buckets;
pub mod clock;
pub mod config;
pub mod series;
pub mod snapshot;
pub mod telemetry;
