//! Why a request to Braze failed, classified so a log line and a metric can name it.

use std::fmt;

/// A failed request. Messages are Braze's own, with the API key redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Braze (or a load balancer in front of it) answered with a non-2xx status.
    Status {
        status: u16,
        message: Option<String>,
    },
    /// No complete answer within `braze.timeout`.
    Timeout,
    /// No connection, or it broke: DNS, TCP, TLS.
    Connection(String),
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
}

impl FailureReason {
    pub const ALL: [FailureReason; 12] = [
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
            Self::Timeout => FailureReason::Timeout,
            Self::Connection(_) => FailureReason::Connection,
            Self::Malformed(_) => FailureReason::MalformedResponse,
            Self::TooLarge { .. } => FailureReason::BodyTooLarge,
            Self::Unsuccessful(_) => FailureReason::UnsuccessfulExport,
        }
    }

    /// What a user can do about it: retrying does not fix a 4xx other than 429.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Status { status: 400, .. } => Some("check this series' app or segment id"),
            Self::Status { status: 401, .. } => {
                Some("check the API key and that braze.url is the key's instance")
            }
            Self::Status { status: 403, .. } => {
                Some("the key lacks the permission this endpoint needs")
            }
            Self::Status { status: 404, .. } => Some("check braze.url"),
            _ => None,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, message } => {
                write!(f, "HTTP {status}")?;
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
                if let Some(hint) = self.hint() {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            Self::Timeout => f.write_str("timed out"),
            Self::Connection(why) => write!(f, "connection failed: {why}"),
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
        assert_eq!(
            err.to_string(),
            "HTTP 401: Invalid API key (check the API key and that braze.url is the key's instance)"
        );
    }
}
