//! braze-exporter: Braze app sessions per app, segment and hour, as Prometheus gauges.
//!
//! The data path reads in one direction:
//! [`config`] → [`series`] to poll → [`braze`] client → [`refresher`] → [`snapshot`] → [`http`].

pub mod app;
pub mod braze;
pub mod buckets;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod http;
pub mod logging;
pub mod memory;
pub mod refresher;
pub mod series;
pub mod simulator;
pub mod snapshot;
pub mod telemetry;
