//! The subcommands as documented library functions; `main` only dispatches to them.

pub mod audit;
pub mod checklist;
pub mod compare;
pub mod config;
pub mod person;
pub mod report;
pub mod run;
pub mod simulator;
pub mod verify;
pub mod webhooks_check;

use std::future::Future;

/// Runs an async command to completion on a multi-thread runtime (the
/// commands are sync functions so that `main` stays a plain dispatcher).
pub(crate) fn block_on<F: Future<Output = Result<(), crate::Error>>>(
    command: F,
) -> Result<(), crate::Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| crate::Error::Io {
            context: "cannot start the async runtime".into(),
            source,
        })?;
    runtime.block_on(command)
}
