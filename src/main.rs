//! `main` only parses, dispatches, prints the error chain and picks the exit code.

use std::process::ExitCode;

use clap::Parser;
use vipps_golive::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr, `warn` unless RUST_LOG says otherwise. What is logged
    // never carries a secret: the client logs method, path, status, attempt
    // and traceId only (tests/client_logs.rs, tests/evidence_canary.rs).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let result = match cli.command {
        Command::Run(args) => vipps_golive::commands::run::run(&args),
        Command::Verify(args) => vipps_golive::commands::verify::run(&args),
        Command::Checklist(args) => {
            vipps_golive::commands::checklist::run(&args, &mut std::io::stdout().lock())
        }
        Command::Simulator(args) => vipps_golive::simulator::serve::run(&args),
        Command::Config(args) => {
            vipps_golive::commands::config::run(&args, &mut std::io::stdout().lock())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            e.exit_code()
        }
    }
}
