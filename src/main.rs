//! `main` only parses, dispatches, prints the error chain and picks the exit code.

use std::process::ExitCode;

use clap::Parser;
use vipps_golive::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => vipps_golive::commands::run::run(&args),
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
