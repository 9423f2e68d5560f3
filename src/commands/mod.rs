//! The subcommands as documented library functions; `main` only dispatches to them.

pub mod config;
pub mod run;
