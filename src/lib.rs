//! # vipps-golive
//!
//! A go-live checklist conformance harness for the Vipps MobilePay ePayment API.
//!
//! - [`simulator`]: a stateful double of the Vipps APIs, served in-process
//!   through wiremock ([`simulator::mock`]) or standalone on hyper ([`simulator::serve`]).
//! - [`api`]: the embedded client, written as a model merchant integration.
//! - [`evidence`]: every exchange, redacted at the boundary, in an append-only journal.
//! - [`config`]: targets, credentials and system headers.
//! - [`commands`]: the subcommands as documented functions (`main` only dispatches).

pub mod api;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod evidence;
pub mod secret;
pub mod simulator;

pub use error::Error;
pub use secret::Secret;
