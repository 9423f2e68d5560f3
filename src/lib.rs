//! # vipps-golive
//!
//! A go-live checklist conformance harness for the Vipps MobilePay ePayment API.
//!
//! - [`simulator`]: a stateful double of the Vipps APIs, served in-process
//!   through wiremock ([`simulator::mock`]) or standalone on hyper ([`simulator::serve`]).
//! - [`api`]: the embedded client, written as a model merchant integration.
//! - [`evidence`]: every exchange, redacted at the boundary, in an append-only journal.
//! - [`config`]: targets, credentials and system headers.
//! - [`main`] and [`run_cli`]: the command line itself, for a binary of one's own
//!   or a test that drives a command the way a user types it.
//!
//! ## A first payment against the simulator
//!
//! The simulator runs in-process on a wiremock server; the client and the
//! simulator share one [`clock::VirtualClock`], so the polling schedule (first
//! GET after 5 s, then every 2 s) costs no real time. A Rust shop can mount the
//! same simulator in its own wiremock-based tests with [`simulator::mock::mount`].
//!
//! ```
//! use std::sync::Arc;
//! use vipps_golive::api::{Amount, Client, ClientOptions, CreatePaymentRequest, Customer,
//!     ForceApproveRequest, PollOptions, State, UserFlow};
//! use vipps_golive::clock::VirtualClock;
//! use vipps_golive::config::Credentials;
//! use vipps_golive::evidence::MemoryRecorder;
//! use vipps_golive::simulator::{mock::SimServer, SimConfig, Simulator};
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = VirtualClock::new();
//! let server = SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
//!
//! // The simulator's own demo credentials (printed by `vipps-golive simulator`).
//! let credentials = Credentials {
//!     client_id: "sim-client-id-123456".into(),
//!     client_secret: "sim-client-secret-123456".into(),
//!     subscription_key: "sim-subscription-key-123456".into(),
//!     msn: "123456".into(),
//! };
//! let recorder = MemoryRecorder::new();
//! let client = Client::new(ClientOptions::new(
//!     server.uri().parse()?, credentials, clock, recorder.clone(),
//! ))?;
//!
//! let request = CreatePaymentRequest::new(Amount::nok(24_900), "shop42-order-7781-a", UserFlow::WebRedirect)
//!     .return_url("https://shop.example/return?reference=shop42-order-7781-a")
//!     .description("Two mugs");
//! let created = client.create_payment(&request).await?;
//! client
//!     .force_approve("shop42-order-7781-a", &ForceApproveRequest {
//!         customer: Some(Customer::phone("4791234567")),
//!         token: created.approve_token(),
//!     })
//!     .await?;
//! let polled = client.poll_until_final("shop42-order-7781-a", &PollOptions::default()).await?;
//! assert_eq!(polled.payment.state, State::Authorized);
//!
//! client.capture_payment("shop42-order-7781-a", Amount::nok(24_900)).await?;
//! let payment = client.get_payment("shop42-order-7781-a").await?;
//! assert_eq!(payment.aggregate.captured_amount.value, 24_900);
//!
//! // Every exchange was recorded, redacted: no bearer token survives.
//! assert!(recorder.exchanges().iter().all(|e| !format!("{:?}", e.request_headers).contains("eyJ")));
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod clock;
pub mod config;
pub mod domain;
pub mod evidence;
pub mod simulator;

mod audit;
mod cli;
mod commands;
mod compare;
mod error;
mod output;
mod report;
mod rules;
mod runner;
mod secret;
mod steps;

pub use commands::{main, run_cli};
pub use error::Error;
pub use secret::Secret;

#[cfg(test)]
mod testing;
/// Lets test helpers shared with tests/ name the crate as `vipps_golive::`.
#[cfg(test)]
extern crate self as vipps_golive;
