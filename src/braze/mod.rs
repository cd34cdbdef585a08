//! The Braze REST client for the data series of every kind and for the lists discovery reads.
//!
//! One `reqwest::Client` (rustls) for the process. The key travels only in the `Authorization`
//! header (never the deprecated `api_key` parameter), and is redacted from any text Braze sends
//! back before that text reaches an error.

mod error;
mod messaging;
mod rate_limit;
mod response;
pub mod time;

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use reqwest::header::AUTHORIZATION;

pub use error::{FailureReason, FetchError};
pub use rate_limit::RateLimit;
#[cfg(test)]
pub use rate_limit::RetryAfter;
pub use response::Point;

use crate::config::{BrazeSettings, KeyReports, KeySource};
use crate::series::{Series, Unit, Units};

/// What to ask of a series' endpoint besides the series itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    pub unit: Unit,
    /// Buckets, ending with the one that contains `ending_at` (or now).
    pub length: u32,
    /// Sent as `ending_at` when given; kinds whose endpoint requires it
    /// ([`crate::series::KindSpec::requires_ending_at`]) always get one.
    pub ending_at: Option<Timestamp>,
    /// Canvases: ask for the step breakdown too (`export.canvases.steps`).
    pub steps: bool,
}

/// Larger bodies are refused: the simulator's answer of 100 hourly points, in the documented
/// JSON, is 5,214 bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The outcome of one request: the points (or list items) or why not, and the budget Braze
/// reported either way.
#[derive(Debug)]
pub struct Fetch<T = Vec<Point>> {
    pub result: Result<T, FetchError>,
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, Clone)]
pub struct BrazeClient {
    http: reqwest::Client,
    /// `braze.url` with a trailing slash, so endpoints join below it.
    base: reqwest::Url,
    /// The key of each request: `braze.api_key_file`'s, read again when the file changes.
    key: KeySource,
    time_zone: TimeZone,
}

impl BrazeClient {
    pub fn new(settings: &BrazeSettings) -> Result<Self, String> {
        // HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY (or their lower-case forms) are
        // read here, by reqwest's default system proxy; loopback is not exempt unless NO_PROXY
        // says so.
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("braze-exporter/", env!("CARGO_PKG_VERSION")));
        if let Some(ca_file) = &settings.ca_file {
            let certificates = ca_file
                .certificates
                .iter()
                .map(|der| reqwest::Certificate::from_der(der))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("braze.ca_file: {}: {e}", ca_file.path.display()))?;
            // Added to the system's roots, not instead of them.
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut base = settings.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Self {
            http,
            base,
            key: KeySource::new(&settings.api_key),
            time_zone: settings.time_zone.clone(),
        })
    }

    /// The workspace's company time zone, in which Braze's times without an offset are read.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// Where reads of the key file are reported (`braze_api_key_last_reload_successful`).
    pub fn report_key_reads(&self, reports: KeyReports) {
        self.key.report_to(reports);
    }

    /// The URL a request for `series` goes to (the key is not in it): the kind's endpoint and
    /// the parameters it takes. `ending_at` is written as Braze's reference writes it: ISO 8601
    /// with the offset of the company time zone (`2026-11-28T23:59:59+05:30`; the query encodes
    /// `+` as `%2B`).
    pub fn url(&self, series: &Series, request: &Request) -> reqwest::Url {
        let spec = series.kind.spec();
        let mut url = self.endpoint(spec.path);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("length", &request.length.to_string());
            if spec.units == Units::HourOrDay {
                query.append_pair("unit", request.unit.as_str());
            }
            for (filter, scope) in series.filters() {
                if let Some(id) = &scope.id {
                    query.append_pair(filter.parameter(), id);
                }
            }
            if let Some(ending_at) = request.ending_at {
                query.append_pair(
                    "ending_at",
                    &time::format_ending_at(ending_at, &self.time_zone),
                );
            }
            for (name, value) in spec.breakdowns(request.steps) {
                query.append_pair(name, value);
            }
        }
        url
    }

    fn endpoint(&self, path: &str) -> reqwest::Url {
        self.base
            .join(path)
            .expect("a relative path always joins a base URL")
    }

    /// Asks Braze for the buckets of `series` that `request` names.
    pub async fn fetch(&self, series: &Series, request: &Request) -> Fetch {
        let spec = series.kind.spec();
        let time_zone = &self.time_zone;
        self.get(self.url(series, request), spec.permission, |body| {
            response::parse_points(body, spec, time_zone)
        })
        .await
    }

    /// One page of one of Braze's lists (`/events/list`…): the items under `key`, as JSON.
    /// `permission` is the one the list needs, named in the error of a 403.
    pub async fn list_page(
        &self,
        path: &str,
        key: &str,
        permission: &'static str,
        page: u32,
    ) -> Fetch<Vec<serde_json::Value>> {
        let mut url = self.endpoint(path);
        url.query_pairs_mut().append_pair("page", &page.to_string());
        self.get(url, permission, |body| response::parse_list(body, key))
            .await
    }

    /// The details of one campaign or Canvas (`/campaigns/details?campaign_id=…`): the answer's
    /// fields, as JSON. `permission` is the one it needs, named in the error of a 403.
    pub async fn details(
        &self,
        path: &str,
        parameter: &str,
        id: &str,
        permission: &'static str,
    ) -> Fetch<serde_json::Map<String, serde_json::Value>> {
        let mut url = self.endpoint(path);
        url.query_pairs_mut().append_pair(parameter, id);
        self.get(url, permission, response::parse_object).await
    }

    /// `permission`: what the request needs, for the error of a 403.
    async fn get<T>(
        &self,
        url: reqwest::Url,
        permission: &'static str,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Fetch<T> {
        let request = self
            .http
            .get(url)
            .header(AUTHORIZATION, self.key.authorization());
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return Fetch {
                    result: Err(self.transport_error(&e)),
                    rate_limit: None,
                }
            }
        };
        let rate_limit = RateLimit::from_headers(response.headers());
        let result = self.read(response, permission, parse).await;
        Fetch { result, rate_limit }
    }

    async fn read<T>(
        &self,
        response: reqwest::Response,
        permission: &'static str,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, FetchError> {
        let status = response.status();
        let body = self.read_capped(response).await?;
        if !status.is_success() {
            let message = response::error_message(&body).map(|m| self.redact(&m));
            if status == reqwest::StatusCode::FORBIDDEN {
                return Err(FetchError::Forbidden {
                    message,
                    permission,
                });
            }
            return Err(FetchError::Status {
                status: status.as_u16(),
                message,
            });
        }
        if let Some(message) = response::unsuccessful_message(&body) {
            return Err(FetchError::Unsuccessful(self.redact(&message)));
        }
        parse(&body).map_err(|why| FetchError::Malformed(self.redact(&why)))
    }

    /// The body, refused past [`MAX_BODY_BYTES`] without reading the rest.
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let too_large = FetchError::TooLarge {
            limit: MAX_BODY_BYTES,
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout;
        }
        let mut why = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            why = format!("{why}: {cause}");
            source = cause.source();
        }
        if e.is_decode() || e.is_body() {
            return FetchError::Malformed(self.redact(&why));
        }
        if let Some(certificate) = certificate_error(e) {
            let host = e
                .url()
                .and_then(|u| u.host_str())
                .unwrap_or("Braze")
                .to_string();
            return FetchError::Tls {
                host,
                why: self.redact(&certificate.to_string()),
            };
        }
        FetchError::Connection(self.redact(&why))
    }

    fn redact(&self, text: &str) -> String {
        self.key.redact(text)
    }
}

/// The rustls error of a certificate that did not verify, found in `e`'s chain: rustls reports
/// it inside an `io::Error`, whose `source()` skips it, so each link is looked into.
fn certificate_error(e: &reqwest::Error) -> Option<&tokio_rustls::rustls::Error> {
    use tokio_rustls::rustls::Error as Tls;
    let mut link: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = link {
        let tls = error.downcast_ref::<Tls>().or_else(|| {
            error
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<Tls>())
        });
        if let Some(
            tls @ (Tls::InvalidCertificate(_)
            | Tls::InvalidCertRevocationList(_)
            | Tls::NoCertificatesPresented
            | Tls::UnsupportedNameType),
        ) = tls
        {
            return Some(tls);
        }
        link = error.source();
    }
    None
}

/// The parsers of what Braze sends, for the fuzz targets (`crate::fuzzing`) and their tests.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod parsers {
    pub(crate) use super::rate_limit::RetryAfter;
    pub(crate) use super::response::{parse_points, unsuccessful_message, MAX_AMOUNT, MAX_COUNT};
}
