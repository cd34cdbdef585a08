//! The exporter as a user runs it: the real binary, real HTTP over loopback, the project's
//! Braze simulator, and promtool for the exposition. One test binary, one link step.

mod support;

mod backfill;
mod cli;
mod egress;
mod faults;
mod hardening;
mod input;
mod key_rotation;
mod kinds;
mod messaging;
mod proxy;
mod reload;
mod scrape;
mod soak;
mod startup;
mod web;
mod web_toolkit;
mod workspaces;
