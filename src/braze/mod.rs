//! The Braze REST client for `GET /sessions/data_series`.
//!
//! One `reqwest::Client` (rustls) for the process. The key travels only in the `Authorization`
//! header (never the deprecated `api_key` parameter), and is redacted from any text Braze sends
//! back before that text reaches an error.

mod error;
mod rate_limit;
mod response;
pub mod time;

use std::time::Duration;

use jiff::tz::TimeZone;
use reqwest::header::{HeaderValue, AUTHORIZATION};

pub use error::{FailureReason, FetchError};
pub use rate_limit::RateLimit;
pub use response::Point;

use crate::config::{ApiKey, BrazeSettings};
use crate::series::{Series, Unit};

/// Larger bodies are refused: the simulator's answer of 100 hourly points, in the documented
/// JSON, is 5,214 bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const ENDPOINT: &str = "sessions/data_series";

/// The outcome of one request: the points or why not, and the budget Braze reported either way.
#[derive(Debug)]
pub struct Fetch {
    pub result: Result<Vec<Point>, FetchError>,
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, Clone)]
pub struct BrazeClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    authorization: HeaderValue,
    key: ApiKey,
    time_zone: TimeZone,
}

impl BrazeClient {
    pub fn new(settings: &BrazeSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("braze-exporter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut base = settings.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let endpoint = base
            .join(ENDPOINT)
            .map_err(|e| format!("braze.url: cannot form the endpoint URL: {e}"))?;
        Ok(Self {
            http,
            endpoint,
            authorization: settings.api_key.authorization(),
            key: settings.api_key.clone(),
            time_zone: settings.time_zone.clone(),
        })
    }

    /// The URL a request for `series` goes to (the key is not in it).
    pub fn url(&self, series: &Series, unit: Unit, length: u32) -> reqwest::Url {
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("length", &length.to_string());
            query.append_pair("unit", unit.as_str());
            if let Some(app_id) = &series.app.id {
                query.append_pair("app_id", app_id);
            }
            if let Some(segment_id) = &series.segment.id {
                query.append_pair("segment_id", segment_id);
            }
        }
        url
    }

    /// Asks Braze for the last `length` buckets of `series`, ending now.
    pub async fn fetch(&self, series: &Series, unit: Unit, length: u32) -> Fetch {
        let request = self
            .http
            .get(self.url(series, unit, length))
            .header(AUTHORIZATION, self.authorization.clone());
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
        let result = self.read(response).await;
        Fetch { result, rate_limit }
    }

    async fn read(&self, response: reqwest::Response) -> Result<Vec<Point>, FetchError> {
        let status = response.status();
        let body = self.read_capped(response).await?;
        if !status.is_success() {
            let message = response::error_message(&body).map(|m| self.redact(&m));
            return Err(FetchError::Status {
                status: status.as_u16(),
                message,
            });
        }
        response::parse_points(&body, &self.time_zone)
            .map_err(|why| FetchError::Malformed(self.redact(&why)))
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
        FetchError::Connection(self.redact(&why))
    }

    fn redact(&self, text: &str) -> String {
        self.key.redact(text)
    }
}
