//! Where the refresher gets a series' points: Braze's client, or a scripted fake in tests that
//! need to control time without a network.

use std::future::Future;

use crate::braze::{BrazeClient, Fetch};
use crate::series::{Series, Unit};

pub trait Source: Clone + Send + Sync + 'static {
    /// The last `length` buckets of `series`, ending now.
    fn fetch(&self, series: &Series, unit: Unit, length: u32)
        -> impl Future<Output = Fetch> + Send;
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
}
