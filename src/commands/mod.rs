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
use std::io::IsTerminal;

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

/// Why nobody can be waiting at this terminal to approve a payment, if so:
/// `--non-interactive`, a `CI` variable (set by every CI system we know), or
/// stdin that is not a terminal (issue 25: a pipeline never hangs on a
/// person). `None` when a person may be there.
pub(crate) fn nobody_waiting(flag: bool) -> Option<&'static str> {
    let ci = std::env::var("CI")
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            !v.is_empty() && v != "false" && v != "0"
        })
        .unwrap_or(false);
    if flag {
        Some("--non-interactive")
    } else if ci {
        Some("CI is set")
    } else if !std::io::stdin().is_terminal() {
        Some("stdin is not a terminal")
    } else {
        None
    }
}

/// Says on the first line of a run that nobody will be asked, and why, unless
/// the user asked for it with `--non-interactive`; refuses a production run,
/// which needs a person for every payment, before anything connects.
pub(crate) fn unattended(flag: bool, production: bool) -> Result<bool, crate::Error> {
    let Some(why) = nobody_waiting(flag) else {
        return Ok(false);
    };
    if production {
        return Err(crate::Error::Usage(format!(
            "a production run needs a person at the terminal to approve each payment in the app, and nobody is waiting here ({why}) (hint: run it from a terminal, without CI set)"
        )));
    }
    if !flag {
        crate::output::diag(&format!(
            "non-interactive ({why}): scenarios that need a person in the app are NOT APPLICABLE, as with --non-interactive"
        ));
    }
    Ok(true)
}
