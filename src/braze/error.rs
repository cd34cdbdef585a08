//! Why a request to Braze failed, classified so a log line and a metric can name it.

use std::borrow::Cow;
use std::fmt;

/// A failed request. Messages are Braze's own, with the API key redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Braze (or a load balancer in front of it) answered with a non-2xx status.
    Status {
        status: u16,
        message: Option<String>,
    },
    /// A 403 to a request whose permission is known: the client names it, so that the error,
    /// wherever it is shown, says what to add to the key.
    Forbidden {
        message: Option<String>,
        /// The REST API key permission the request needs, as Braze names it
        /// (`sessions.data_series`, `events.list`, …).
        permission: &'static str,
    },
    /// No complete answer within `braze.timeout`.
    Timeout,
    /// No connection, or it broke: DNS, TCP, a TLS failure other than the certificate's.
    Connection(String),
    /// The server's certificate did not verify: `host` is the one the exporter connected to
    /// (through any proxy), `why` what rustls said (unknown issuer, expired, wrong name…).
    Tls { host: String, why: String },
    /// A 2xx answer that is not the documented JSON.
    Malformed(String),
    /// A body over the exporter's size cap, not read further.
    TooLarge { limit: usize },
    /// A 2xx answer whose `message` is not `success`: Braze's reference says it "returns
    /// 'success' when completed without errors", so anything else is a failed export and none
    /// of its numbers are used. Holds Braze's message, clipped and with the key redacted.
    Unsuccessful(String),
}

/// The `reason` label of `braze_api_request_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureReason {
    Timeout,
    Connection,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    HttpOther,
    MalformedResponse,
    BodyTooLarge,
    UnsuccessfulExport,
    Tls,
}

impl FailureReason {
    pub const ALL: [FailureReason; 13] = [
        Self::Timeout,
        Self::Connection,
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::RateLimited,
        Self::ServerError,
        Self::HttpOther,
        Self::MalformedResponse,
        Self::BodyTooLarge,
        Self::UnsuccessfulExport,
        Self::Tls,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::HttpOther => "http_other",
            Self::MalformedResponse => "malformed_response",
            Self::BodyTooLarge => "body_too_large",
            Self::UnsuccessfulExport => "unsuccessful",
            Self::Tls => "tls",
        }
    }
}

impl FetchError {
    pub fn reason(&self) -> FailureReason {
        match self {
            Self::Status { status, .. } => match status {
                400 => FailureReason::BadRequest,
                401 => FailureReason::Unauthorized,
                403 => FailureReason::Forbidden,
                404 => FailureReason::NotFound,
                429 => FailureReason::RateLimited,
                500..=599 => FailureReason::ServerError,
                _ => FailureReason::HttpOther,
            },
            Self::Forbidden { .. } => FailureReason::Forbidden,
            Self::Timeout => FailureReason::Timeout,
            Self::Connection(_) => FailureReason::Connection,
            Self::Tls { .. } => FailureReason::Tls,
            Self::Malformed(_) => FailureReason::MalformedResponse,
            Self::TooLarge { .. } => FailureReason::BodyTooLarge,
            Self::Unsuccessful(_) => FailureReason::UnsuccessfulExport,
        }
    }

    /// The HTTP status Braze answered, if it answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    /// What a user can do about it: retrying does not fix a 4xx other than 429.
    pub fn hint(&self) -> Option<Cow<'static, str>> {
        match self {
            Self::Status { status: 400, .. } => Some("check this series' app or segment id".into()),
            Self::Status { status: 401, .. } => Some(
                "check the API key (the file braze.api_key_file names, or BRAZE_API_KEY): \
                 revoked, rotated, or of another workspace; and check that braze.url is the \
                 instance the key was made on (its REST endpoint in Braze's dashboard)"
                    .into(),
            ),
            Self::Status { status: 403, .. } => {
                Some("the key lacks the permission this endpoint needs".into())
            }
            Self::Forbidden { permission, .. } => Some(
                format!(
                    "the API key lacks the permission {permission}, which this request needs: \
                     add {permission} to the key in Braze's dashboard (or the workspace's plan \
                     does not include the endpoint)"
                )
                .into(),
            ),
            Self::Status { status: 404, .. } => Some("check braze.url".into()),
            _ => None,
        }
    }
}

impl FetchError {
    /// `HTTP 403: Braze's message (the hint)`.
    fn write_status(
        &self,
        f: &mut fmt::Formatter<'_>,
        status: u16,
        message: &Option<String>,
    ) -> fmt::Result {
        write!(f, "HTTP {status}")?;
        if let Some(message) = message {
            write!(f, ": {message}")?;
        }
        if let Some(hint) = self.hint() {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, message } => self.write_status(f, *status, message),
            Self::Forbidden { message, .. } => self.write_status(f, 403, message),
            Self::Timeout => f.write_str("timed out"),
            Self::Connection(why) => write!(f, "connection failed: {why}"),
            Self::Tls { host, why } => write!(
                f,
                "the TLS certificate of {host} did not verify: {why} (if a proxy inspects TLS, \
                 set braze.ca_file to its certificate authority)"
            ),
            Self::Malformed(why) => write!(f, "malformed response: {why}"),
            Self::TooLarge { limit } => write!(f, "response body over {limit} bytes"),
            Self::Unsuccessful(message) => write!(
                f,
                "the export did not succeed: Braze answered 200 with message {message:?}, not \"success\""
            ),
        }
    }
}

impl std::error::Error for FetchError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_reasons() {
        let status = |s| {
            FetchError::Status {
                status: s,
                message: None,
            }
            .reason()
        };
        assert_eq!(status(400), FailureReason::BadRequest);
        assert_eq!(status(401), FailureReason::Unauthorized);
        assert_eq!(status(403), FailureReason::Forbidden);
        assert_eq!(status(404), FailureReason::NotFound);
        assert_eq!(status(429), FailureReason::RateLimited);
        assert_eq!(status(502), FailureReason::ServerError);
        assert_eq!(status(418), FailureReason::HttpOther);
        let names: std::collections::HashSet<_> =
            FailureReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), FailureReason::ALL.len());
    }

    #[test]
    fn display_carries_brazes_message_and_a_hint() {
        let err = FetchError::Status {
            status: 401,
            message: Some("Invalid API key".into()),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("HTTP 401: Invalid API key (check the API key"),
            "{text}"
        );
        assert!(
            text.contains("braze.api_key_file") && text.contains("braze.url"),
            "401 says to check the key and the instance URL: {text}"
        );
    }

    #[test]
    fn a_403_names_the_permission_wherever_it_is_shown() {
        let err = FetchError::Forbidden {
            message: Some("Access denied".into()),
            permission: "kpi.dau.data_series",
        };
        assert_eq!(err.reason(), FailureReason::Forbidden);
        assert_eq!(err.status(), Some(403));
        let text = err.to_string();
        assert!(text.starts_with("HTTP 403: Access denied ("), "{text}");
        assert!(
            text.contains("lacks the permission kpi.dau.data_series")
                && text.contains("add kpi.dau.data_series to the key"),
            "{text}"
        );
    }
}
