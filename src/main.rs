//! `main` only parses, dispatches, prints the error chain and picks the exit code.

use std::process::ExitCode;

use clap::Parser;
use vipps_golive::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(_args) => Err(vipps_golive::Error::Usage(
            "`run` is not available yet".into(),
        )),
        Command::Simulator(args) => vipps_golive::simulator::serve::run(&args),
        Command::Config(_args) => Err(vipps_golive::Error::Usage(
            "`config` is not available yet".into(),
        )),
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
