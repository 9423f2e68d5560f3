//! The subcommands as documented library functions; `main` only dispatches to them.

pub mod audit;
pub mod checklist;
pub mod compare;
pub mod config;
pub mod pack;
pub mod person;
pub mod report;
pub mod run;
pub mod simulator;
pub mod verify;
pub mod webhooks_check;

use std::ffi::OsString;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::domain::redact;
use crate::evidence::model::Evidence;
use crate::output;

/// The end of a command that judged traffic into a folder (`audit`, `pack`):
/// its summary on `out` (a closed pipe is no failure), then exit 1 naming
/// every item that failed, e.g. "the audit failed 2 item(s): ... (see
/// DIR/report.html)".
pub(crate) fn finish_folder(
    command: &str,
    summary: &str,
    evidence: &Evidence,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<(), crate::Error> {
    if let Err(e) = out.write_all(summary.as_bytes()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(crate::Error::Io {
                context: "cannot write the summary".into(),
                source: e,
            });
        }
    }
    let failed: Vec<&str> = evidence
        .items
        .iter()
        .filter(|i| i.verdict.fails_run())
        .map(|i| i.id.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(crate::Error::Failed(format!(
        "the {command} failed {} item(s): {} (see {})",
        failed.len(),
        failed.join(", "),
        dir.join("report.html").display()
    )))
}

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
/// The command line of `vipps-golive`, as the binary runs it: parses
/// `std::env::args_os()`, dispatches, prints the error chain on stderr and
/// returns the exit code (0 pass, 1 an item failed, 2 usage, 3 unreachable,
/// 4 evidence not recorded).
pub fn main() -> ExitCode {
    run_cli(std::env::args_os())
}

/// [`main`] with the arguments given (the first is the program name, as in
/// `std::env::args_os()`). It starts its own async runtime, so call it from
/// plain synchronous code, not from inside a tokio runtime.
///
/// ```
/// let code = vipps_golive::run_cli(["vipps-golive", "checklist"]);
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
/// ```
pub fn run_cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // clap says only that some argument is not UTF-8; name it. (Paths,
        // such as --out, may be any bytes: clap accepts those.)
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let message = non_utf8_argument(&args)
                .unwrap_or_else(|| "an argument is not valid UTF-8".to_owned());
            output::diag(&format!("error: {message}"));
            return ExitCode::from(crate::error::EXIT_USAGE);
        }
        // clap quotes a misplaced argument as typed: shown redacted.
        Err(e) if e.use_stderr() => {
            output::diag(usage_error(&e.render().to_string(), &args).trim_end());
            return ExitCode::from(crate::error::EXIT_USAGE);
        }
        // Help and version, on stdout.
        Err(e) => e.exit(),
    };
    // Logs go to stderr, `warn` unless RUST_LOG says otherwise. What is logged
    // never carries a secret: the client logs method, path, status, attempt
    // and traceId only (tests/client_logs.rs, src/commands/tests_canary.rs), and
    // the writer scrubs every registered secret value and ignores a closed stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| output::Diagnostics)
        .try_init();
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Checklist(args) => checklist::run(&args, &mut std::io::stdout().lock()),
        Command::Simulator(args) => simulator::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Pack(args) => pack::run(&args),
        Command::WebhooksCheck(args) => webhooks_check::run(&args),
        Command::Config(args) => config::run(&args, &mut std::io::stdout().lock()),
        Command::Compare(args) => compare::run(&args),
        Command::Report(args) => report::run(&args, &mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::diag(&format!("error: {e}"));
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                output::diag(&format!("  caused by: {s}"));
                source = s.source();
            }
            e.exit_code()
        }
    }
}

/// Flags whose value is a credential.
const SECRET_FLAGS: [&str; 5] = [
    "--client-id",
    "--client-secret",
    "--subscription-key",
    "--webhook-secret",
    "--secret",
];

/// Variables whose value is a credential: hidden from a usage error (read
/// later by `config`, but already in the environment when the command line
/// is wrong) and registered by `simulator` before its first request.
pub(crate) const SECRET_VARIABLES: [&str; 4] = [
    "VIPPS_CLIENT_ID",
    "VIPPS_CLIENT_SECRET",
    "VIPPS_SUBSCRIPTION_KEY",
    "VIPPS_WEBHOOK_SECRET",
];

/// clap's usage error as it may be shown: clap quotes a misplaced argument
/// as typed, so a URL's user info is dropped (`redact::url`), and the values
/// of the secret flags and variables are masked, wherever they stand in
/// the message. (Token shapes are masked by [`output::diag`] itself.)
fn usage_error(rendered: &str, args: &[OsString]) -> String {
    let args: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    // (as typed, as shown), longest first so a value holding another is
    // replaced whole.
    let mut shown: Vec<(String, String)> = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (Some(flag), value),
            _ => (i.checked_sub(1).map(|p| args[p]), *arg),
        };
        if flag.is_some_and(|f| SECRET_FLAGS.contains(&f)) {
            shown.push((value.to_owned(), redact::mask(value)));
        }
        if value.contains("://") {
            shown.push((value.to_owned(), redact::url(value)));
        }
    }
    for name in SECRET_VARIABLES {
        if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
            let masked = redact::mask(&value);
            shown.push((value, masked));
        }
    }
    // As everywhere else, a value shorter than a secret can be is not
    // hidden (it would garble every word holding it).
    shown.retain(|(typed, instead)| {
        typed.chars().count() >= redact::MIN_SECRET_LEN && typed != instead
    });
    shown.sort_by_key(|(typed, _)| std::cmp::Reverse(typed.len()));
    let mut text = rendered.to_owned();
    for (typed, instead) in shown {
        text = text.replace(&typed, &instead);
    }
    text
}

/// Names the first argument (after the program name) that is not valid UTF-8, without showing it (it
/// may be a secret): clap alone says only that one of them is not.
fn non_utf8_argument(args: &[OsString]) -> Option<String> {
    let args = args.get(1..).unwrap_or_default();
    // Flags whose value is a path: any bytes are fine there.
    const PATHS: [&str; 4] = ["--out", "--env-file", "--postman-env", "--journal"];
    let is_path_value = |i: usize| {
        i.checked_sub(1)
            .and_then(|p| args[p].to_str())
            .is_some_and(|p| PATHS.contains(&p))
            || PATHS
                .iter()
                .any(|f| args[i].to_string_lossy().starts_with(&format!("{f}=")))
    };
    let bad = (0..args.len()).find(|&i| args[i].to_str().is_none() && !is_path_value(i))?;
    let lossy = args[bad].to_string_lossy();
    // `--flag=value`: the flag is the part before `=`, and it is ASCII.
    if let Some((flag, _)) = lossy.split_once('=') {
        if flag.starts_with("--") && flag.is_ascii() {
            return Some(format!(
                "the value of `{flag}` is not valid UTF-8 (hint: give it as UTF-8 text)"
            ));
        }
    }
    let previous = bad
        .checked_sub(1)
        .and_then(|i| args[i].to_str())
        .filter(|p| p.starts_with('-'));
    Some(match previous {
        Some(flag) => {
            format!("the value of `{flag}` is not valid UTF-8 (hint: give it as UTF-8 text)")
        }
        None => format!(
            "argument {} is not valid UTF-8 (hint: give it as UTF-8 text)",
            bad + 1
        ),
    })
}

#[cfg(test)]
mod tests_audit_shop;

#[cfg(test)]
mod tests_canary;

#[cfg(test)]
mod tests_config_loading;
