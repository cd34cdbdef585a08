//! Where the refresher gets a series' points: Braze's client, or a scripted fake in tests that
//! need to control time without a network.

use std::future::Future;

use crate::braze::{BrazeClient, Fetch, Request};
use crate::series::Series;

pub trait Source: Clone + Send + Sync + 'static {
    /// The buckets of `series` that `request` names.
    fn fetch(&self, series: &Series, request: &Request) -> impl Future<Output = Fetch> + Send;

    /// Where reads of the key are reported; a source without a key file ignores it.
    fn report_key_reads(&self, _reports: crate::config::KeyReports) {}
}

impl Source for BrazeClient {
    fn fetch(&self, series: &Series, request: &Request) -> impl Future<Output = Fetch> + Send {
        BrazeClient::fetch(self, series, request)
    }

    fn report_key_reads(&self, reports: crate::config::KeyReports) {
        BrazeClient::report_key_reads(self, reports)
    }
}
