//! The top-level error and the exit codes of design.md, plus 4: the
//! evidence could not be recorded.

use std::process::ExitCode;

use crate::api::ApiError;

/// Exit status: a checklist item failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the target could not be reached or refused the credentials,
/// or it failed (5xx, timeout) so that an item was INCONCLUSIVE and nothing
/// failed.
pub const EXIT_UNREACHABLE: u8 = 3;
/// Exit status: the evidence could not be recorded (disk full, folder not
/// writable...). The run stopped there; no verdict stands without its evidence.
pub const EXIT_EVIDENCE: u8 = 4;

/// Everything a command can end with, mapped to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage or configuration (exit 2).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Bad usage not tied to configuration (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The target could not be reached or refused the credentials (exit 3).
    #[error("the target could not be reached: {message}")]
    Unreachable {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A checklist item failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Nothing failed, but the target failed (answered 5xx, timed out, could
    /// not be reached) where an item's evidence was to come from: that item
    /// is INCONCLUSIVE (exit 3, as for a target that cannot be reached).
    #[error("{0}")]
    Inconclusive(String),
    /// The report could not be rendered or the folder not checked (exit 2).
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// The evidence could not be recorded (exit 4): the run stopped, and its
    /// folder says it is incomplete.
    #[error("{0}")]
    Evidence(String),
    /// Local I/O (exit 2: the environment is unusable).
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The exit code documented in `--help`.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::Config(_) | Error::Usage(_) | Error::Io { .. } | Error::Report(_) => EXIT_USAGE,
            Error::Unreachable { .. } | Error::Inconclusive(_) => EXIT_UNREACHABLE,
            Error::Failed(_) => EXIT_FAILED,
            Error::Evidence(_) => EXIT_EVIDENCE,
        })
    }
}

impl From<ApiError> for Error {
    /// No response or refused credentials end the run with exit 3; anything
    /// else is a failed item (exit 1), except input the client refused (2).
    /// Mapped here, in the face: the client knows no exit codes.
    fn from(e: ApiError) -> Self {
        if e.is_unreachable() || e.is_credentials_refused() {
            let message = e.to_string();
            Error::Unreachable {
                message,
                source: Some(Box::new(e)),
            }
        } else if let ApiError::Evidence { .. } = e {
            Error::Evidence(e.to_string())
        } else if matches!(e, ApiError::InvalidInput { .. }) {
            Error::Usage(e.to_string())
        } else {
            Error::Failed(format!("{e}\n  what to do: {}", e.explain()))
        }
    }
}

impl From<crate::runner::RunError> for Error {
    /// A run or a verify that stopped: the runner says why, the face picks
    /// the exit code (an interrupted run is a failed one: exit 1).
    fn from(e: crate::runner::RunError) -> Self {
        use crate::runner::RunError;
        match e {
            RunError::Usage(message) => Error::Usage(message),
            RunError::Unreachable(message) => Error::Unreachable {
                message,
                source: None,
            },
            RunError::Evidence(message) => Error::Evidence(message),
            RunError::Interrupted(message) | RunError::Contradicted(message) => {
                Error::Failed(message)
            }
            RunError::Io { context, source } => Error::Io { context, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::error::Endpoint;

    #[test]
    fn force_approve_refusal_maps_to_a_failed_item_and_unreachable_to_exit_3() {
        let refused: Error = ApiError::ForceApproveOnProduction {
            reference: "acme-1-1-x".into(),
        }
        .into();
        assert!(matches!(refused, Error::Failed(_)));
        let down: Error = ApiError::Timeout {
            endpoint: Endpoint {
                method: "GET".into(),
                path: "/x".into(),
            },
            timeout: Duration::from_secs(1),
            attempts: 4,
        }
        .into();
        assert!(matches!(down, Error::Unreachable { .. }));
    }

    #[test]
    fn an_inconclusive_run_exits_3_like_an_unreachable_target() {
        let e = Error::Inconclusive("the target failed".into());
        assert_eq!(e.exit_code(), ExitCode::from(EXIT_UNREACHABLE));
    }
}
