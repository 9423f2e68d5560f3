//! Why a run or a verify stopped short of its outcome. The runner knows no
//! exit codes: the face's top-level error maps each of these to one.

/// Why a run or a verify stopped short of its outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A flag, the features, the target or its keys are not usable as given.
    #[error("{0}")]
    Usage(String),
    /// The target could not be reached or refused the credentials: nothing
    /// of the checklist was tried.
    #[error("the target could not be reached: {0}")]
    Unreachable(String),
    /// The evidence could not be recorded: the run stopped, and its folder
    /// says it is incomplete. No verdict stands without its evidence.
    #[error("{0}")]
    Evidence(String),
    /// The evidence.json the run wrote, read back, does not support one of
    /// its own PASS verdicts ([`crate::rules::recheck`]): the folder is
    /// written and sealed, and the run fails.
    #[error("{0}")]
    Contradicted(String),
    /// Ctrl-C stopped a production run; its folder was written and what it
    /// made was cleaned up.
    #[error("{0}")]
    Interrupted(String),
    /// A local file could not be read.
    #[error("{context}")]
    Io {
        /// What was being read.
        context: String,
        #[source]
        source: std::io::Error,
    },
}
