//! `ApiError`: every way a call can fail, as one type that keeps what the
//! target said (Problem, gateway or token-service shape) and explains it.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

// The domain owns what an error body says and what it means; the client
// re-exports it so `api::error::Problem` and `api::ErrorBody` keep working.
pub use crate::domain::problem::{
    explain_code, ErrorBody, ExtraDetail, GatewayError, InvalidParam, Problem, TokenError,
};

/// Where a request went: method and path (never a query with secrets; the
/// client puts none there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every way a call through [`crate::api::Client`] can fail.
///
/// It keeps what the target said (status, [`ErrorBody`]) and what the client
/// tried (`attempts`), and [`ApiError::explain`] says in plain words what it
/// means and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The target answered with an error status.
    #[error("`{endpoint}` answered HTTP {status}: {}", body.summary())]
    Http {
        endpoint: Endpoint,
        status: u16,
        /// Boxed: it is large and errors travel through every `Result`.
        body: Box<ErrorBody>,
        /// `Retry-After`, when the response carried one.
        retry_after: Option<Duration>,
        /// How many requests this operation sent in all.
        attempts: u32,
    },
    /// No connection could be made, or it broke before a response came.
    #[error("could not reach `{endpoint}` after {attempts} attempt(s): {message} (hint: check the base URL and the network)")]
    Unreachable {
        endpoint: Endpoint,
        message: String,
        attempts: u32,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// No response within the client's timeout.
    #[error("`{endpoint}` gave no response within {}ms, {attempts} attempt(s) (hint: the target is slow or down; raise the timeout)", timeout.as_millis())]
    Timeout {
        endpoint: Endpoint,
        timeout: Duration,
        attempts: u32,
    },
    /// Force approve exists only in the test environment; the client refuses
    /// to send it to production.
    #[error("force approve of `{reference}` refused: it exists only in the test environment and this client targets production (hint: a person approves in the app)")]
    ForceApproveOnProduction { reference: String },
    /// The caller passed something the client will not send.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// The attempt could not be written ahead to the evidence, so it was not sent.
    #[error("`{endpoint}` was not sent: {reason} (hint: free disk space or choose another --out)")]
    Evidence { endpoint: Endpoint, reason: String },
    /// A success response whose body the client could not read.
    #[error("`{endpoint}` answered HTTP {status} with a body the client could not read")]
    Decode {
        endpoint: Endpoint,
        status: u16,
        #[source]
        source: serde_json::Error,
    },
    /// The poller saw no final state in time.
    #[error("payment `{reference}` reached no final state within {}s (last state `{last_state}`, {polls} polls)", waited.as_secs())]
    PollTimeout {
        reference: String,
        last_state: String,
        polls: u32,
        waited: Duration,
    },
}

impl ApiError {
    /// HTTP status, when the target answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } | ApiError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error body, when the target answered with one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            ApiError::Http { body, .. } => Some(body.as_ref()),
            _ => None,
        }
    }

    /// The Problem, when the body was one.
    pub fn problem(&self) -> Option<&Problem> {
        match self.body() {
            Some(ErrorBody::Problem(p)) => Some(p),
            _ => None,
        }
    }

    /// The numeric ErrorCode of the Problem (behaviour.md §5.3).
    pub fn error_code(&self) -> Option<u32> {
        self.problem().and_then(Problem::error_code)
    }

    /// The trace id the target gave, to quote to Vipps support.
    pub fn trace_id(&self) -> Option<&str> {
        match self.body() {
            Some(ErrorBody::Problem(p)) => p.trace(),
            Some(ErrorBody::Token(t)) => t.trace_id.as_deref(),
            _ => None,
        }
    }

    /// How many requests the failed operation sent (0 when refused before sending).
    pub fn attempts(&self) -> u32 {
        match self {
            ApiError::Http { attempts, .. }
            | ApiError::Unreachable { attempts, .. }
            | ApiError::Timeout { attempts, .. } => *attempts,
            _ => 0,
        }
    }

    /// True when no response came at all (connection failure or timeout):
    /// the CLI maps this to exit status 3.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ApiError::Unreachable { .. } | ApiError::Timeout { .. }
        )
    }

    /// True when the target refused the credentials (token service error,
    /// gateway 401 or 403): also exit status 3 for the CLI.
    pub fn is_credentials_refused(&self) -> bool {
        match self {
            ApiError::Http { status, body, .. } => {
                // A 403 Problem is a business refusal (e.g. a flow the sales
                // unit may not use), a checklist failure rather than bad keys.
                matches!(**body, ErrorBody::Token(_))
                    || *status == 401
                    || (*status == 403 && !matches!(**body, ErrorBody::Problem(_)))
                    || (*status == 400 && endpoint_is_token(self))
            }
            _ => false,
        }
    }

    /// Whether the client's retry policy treats this as transient.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Http { status, .. } => is_retryable_status(*status),
            ApiError::Unreachable { .. } | ApiError::Timeout { .. } => true,
            _ => false,
        }
    }

    /// What the error means and what to do, in plain words, for customers,
    /// staff and the report. Branches on ErrorCode, then status, never on title.
    pub fn explain(&self) -> String {
        match self {
            ApiError::Http { status, body, .. } => body.explain(*status),
            ApiError::Unreachable { .. } => "The target could not be reached: no connection was made or it broke before an answer came. Check the base URL, the network and that the service is up; the client already retried with the same Idempotency-Key, so retrying later is safe.".into(),
            ApiError::Timeout { .. } => "The target did not answer in time. The operation may or may not have taken effect; retry with the same Idempotency-Key (the client did) and read the payment back with GET before acting again.".into(),
            ApiError::ForceApproveOnProduction { .. } => "Force approve is a test-environment shortcut. In production a real person must approve the payment in the Vipps or MobilePay app.".into(),
            ApiError::Evidence { .. } => "The request was not sent because it could not first be recorded in the journal; nothing happened on the target. Make room for the evidence and run again.".into(),
            ApiError::InvalidInput { .. } => "The client refused to send this request because a value is malformed; fix the value and try again.".into(),
            ApiError::Decode { .. } => "The target answered success with a body the client did not understand. The API may have changed; read the payment back with GET and report the response to the integration's maintainers.".into(),
            ApiError::PollTimeout { .. } => "The customer has not finished (or the payment has not expired) within the polling window. Keep polling or wait for the webhook; the payment expires on its own after 10 minutes.".into(),
        }
    }
}

fn endpoint_is_token(e: &ApiError) -> bool {
    matches!(e, ApiError::Http { endpoint, .. } if endpoint.path.eq_ignore_ascii_case("/accesstoken/get"))
}

/// 5xx, 423 (Locked: a concurrent operation on the payment) and 429 (rate limit)
/// are transient; every other status is an answer that repeating will not change.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    status >= 500 || status == 423 || status == 429
}
