//! `main` only parses, dispatches, prints the error chain and picks the exit code.

use std::process::ExitCode;

use clap::Parser;
use vipps_golive::cli::{Cli, Command};
use vipps_golive::output;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap says only that some argument is not UTF-8; name it. (Paths,
        // such as --out, may be any bytes: clap accepts those.)
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let message =
                non_utf8_argument().unwrap_or_else(|| "an argument is not valid UTF-8".to_owned());
            output::diag(&format!("error: {message}"));
            return ExitCode::from(vipps_golive::error::EXIT_USAGE);
        }
        Err(e) => e.exit(),
    };
    // Logs go to stderr, `warn` unless RUST_LOG says otherwise. What is logged
    // never carries a secret: the client logs method, path, status, attempt
    // and traceId only (tests/client_logs.rs, tests/evidence_canary.rs), and
    // the writer scrubs every registered secret value and ignores a closed stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| output::Diagnostics)
        .try_init();
    let result = match cli.command {
        Command::Run(args) => vipps_golive::commands::run::run(&args),
        Command::Verify(args) => vipps_golive::commands::verify::run(&args),
        Command::Checklist(args) => {
            vipps_golive::commands::checklist::run(&args, &mut std::io::stdout().lock())
        }
        Command::Simulator(args) => vipps_golive::commands::simulator::run(&args),
        Command::Audit(args) => vipps_golive::commands::audit::run(&args),
        Command::WebhooksCheck(args) => vipps_golive::commands::webhooks_check::run(&args),
        Command::Config(args) => {
            vipps_golive::commands::config::run(&args, &mut std::io::stdout().lock())
        }
        Command::Compare(args) => vipps_golive::commands::compare::run(&args),
        Command::Report(args) => {
            vipps_golive::commands::report::run(&args, &mut std::io::stdout().lock())
        }
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

/// Names the first argument that is not valid UTF-8, without showing it (it
/// may be a secret): clap alone says only that one of them is not.
fn non_utf8_argument() -> Option<String> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
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
