//! Where the refresher gets a series' points: Braze's client, or a scripted fake in tests that
//! need to control time without a network.

use std::future::Future;

use crate::braze::{BrazeClient, Fetch};
use crate::series::{Series, Unit};

pub trait Source: Clone + Send + Sync + 'static {
    /// The last `length` buckets of `series`, ending now.
    fn fetch(&self, series: &Series, unit: Unit, length: u32)
        -> impl Future<Output = Fetch> + Send;

    /// Where reads of the key are reported; a source without a key file ignores it.
    fn report_key_reads(&self, _reports: crate::config::KeyReports) {}
}

impl Source for BrazeClient {
    fn fetch(
        &self,
        series: &Series,
        unit: Unit,
        length: u32,
    ) -> impl Future<Output = Fetch> + Send {
        BrazeClient::fetch(self, series, unit, length)
    }

    fn report_key_reads(&self, reports: crate::config::KeyReports) {
        BrazeClient::report_key_reads(self, reports)
    }
}
