//! Adapter 1: the engine mounted on a wiremock `MockServer`, the in-process
//! double of `run` and of the tests, and public API for Rust shops:
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use vipps_golive::simulator::mock::{self, SimServer};
//! use vipps_golive::simulator::{SimConfig, Simulator};
//!
//! let vipps = SimServer::start().await;
//! let base_url = vipps.uri(); // point the shop's Vipps client here
//! let answer = reqwest::get(format!("{base_url}/epayment/v1/payments/nothing-here")).await?;
//! assert_eq!(answer.status(), 401, "no access token: a Problem, as the real API answers");
//!
//! // Or mount the engine on a wiremock server the shop's test already has.
//! let server = wiremock::MockServer::start().await;
//! mock::mount(Simulator::new(SimConfig::default()), &server).await;
//! let answer = reqwest::get(format!("{}/epayment/v1/payments/nothing-here", server.uri())).await?;
//! assert_eq!(answer.status(), 401);
//! # Ok(())
//! # }
//! ```
//!
//! One catch-all [`Mock`] whose responder converts each request into a
//! [`SimRequest`], calls [`Simulator::handle`] and converts the [`Reply`] back.
//!
//! Limits of wiremock 0.6 (read in its source), and why `serve` exists:
//! - every matched request is cloned into its mock's list for the server's
//!   lifetime; scoped mocks are only marked out of scope, never freed, and
//!   `MockServer::reset` would 404 requests racing the remount. So memory grows
//!   by about one request (headers + body) per request. [`SimServer`] at least
//!   turns off the server-wide second copy (`disable_request_recording`).
//!   For a server kept running all day, use `vipps-golive simulator`.
//!   Measured: 6.9 KB per GET (338 MB after 50 000), `BENCH_MOCK_REQUESTS`.
//! - it reads bodies whole without a limit (the engine still answers a body over
//!   the limit with the 400 Problem, after the fact).
//! - it cannot drop a connection: `drop_connection` becomes a delay of
//!   [`DROP_AS_DELAY`], longer than any sane client timeout, so the client sees a
//!   timeout after the operation took effect (instead of a reset connection).
//! - it cannot end a processing wait (`--processing-ms`) early: wiremock's delay
//!   is fixed, in real time, when the answer is made, so an advance of the
//!   virtual clock does not release it (the hyper adapter's does).

use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::webhooks::{self, Dispatcher};
use super::{Reply, SimConfig, SimRequest, Simulator};

/// How long a "dropped" connection hangs on wiremock (it cannot drop one).
pub const DROP_AS_DELAY: Duration = Duration::from_secs(300);

/// The responder: every request goes to the engine.
#[derive(Debug, Clone)]
pub struct EngineResponder {
    sim: Arc<Simulator>,
}

impl EngineResponder {
    pub fn new(sim: Arc<Simulator>) -> Self {
        EngineResponder { sim }
    }
}

impl Respond for EngineResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers = request.headers.iter().map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        });
        let req = SimRequest::new(
            request.method.as_str(),
            request.url.path(),
            request.url.query(),
            headers,
            request.body.clone(),
        );
        let mut reply = self.sim.handle(req);
        // wiremock's delay is real time and fixed when the template is made:
        // this adapter cannot end a processing wait when the clock is
        // advanced (the hyper adapter can: `Simulator::wait_out`).
        if let Some(left) = self.sim.processing_left(&reply) {
            reply.delay = Some(reply.delay.map_or(left, |d| d.max(left)));
        }
        to_template(reply)
    }
}

/// Converts the engine's reply into a wiremock response.
pub(crate) fn to_template(reply: Reply) -> ResponseTemplate {
    let mut t = ResponseTemplate::new(reply.response.status);
    for (k, v) in &reply.response.headers {
        // Engine headers are ASCII; a bad one is skipped rather than panicking in wiremock.
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            t = t.append_header(k, v);
        }
    }
    t = t.set_body_bytes(reply.response.body);
    if reply.drop_connection {
        t = t.set_delay(DROP_AS_DELAY);
    } else if let Some(d) = reply.delay {
        t = t.set_delay(d);
    }
    t
}

/// Mounts `sim` on `server` as one catch-all mock. The caller sets the base URL
/// (`sim.set_base_url(&server.uri())`) and starts the webhook dispatcher if wanted;
/// [`SimServer`] does both.
pub async fn mount(sim: Arc<Simulator>, server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(EngineResponder::new(sim))
        .named("vipps-golive simulator")
        .mount(server)
        .await;
}

/// A running simulator on wiremock, with its webhook dispatcher. Dropping it
/// stops the server and the dispatcher.
#[derive(Debug)]
pub struct SimServer {
    /// `None` only inside `drop` (see the `Drop` impl).
    server: Option<MockServer>,
    sim: Arc<Simulator>,
    _dispatcher: Dispatcher,
}

impl SimServer {
    /// A simulator with the default configuration (control API on).
    pub async fn start() -> SimServer {
        SimServer::start_with(SimConfig::default()).await
    }

    /// A simulator with `config`.
    pub async fn start_with(config: SimConfig) -> SimServer {
        SimServer::start_on(Simulator::new(config)).await
    }

    /// Serves an existing simulator (for example one on a clock shared with the client).
    pub async fn start_on(sim: Arc<Simulator>) -> SimServer {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        mount(sim.clone(), &server).await;
        sim.set_base_url(&server.uri());
        let dispatcher = webhooks::spawn_dispatcher(&sim);
        SimServer {
            server: Some(server),
            sim,
            _dispatcher: dispatcher,
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        self.server().uri()
    }

    /// The simulator behind it (control helpers, `with_engine`, the clock).
    pub fn simulator(&self) -> &Arc<Simulator> {
        &self.sim
    }

    fn server(&self) -> &MockServer {
        match &self.server {
            Some(server) => server,
            // Taken only by `drop`, after which no method can be called.
            None => unreachable!("SimServer used after drop"),
        }
    }
}

impl Drop for SimServer {
    // wiremock's MockServer verifies its mocks in `Drop` with a blocking
    // `block_on` that waits for the mock set's lock. Dropped on a runtime
    // thread while one of its own requests holds that lock (a late webhook
    // or poll), the thread spins forever: seen as a `run` hanging at 100% CPU
    // about once in 30 runs on a loaded machine. So inside a runtime it is
    // dropped on a blocking thread, where waiting is allowed.
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn_blocking(move || drop(server));
                }
                Err(_) => drop(server),
            }
        }
    }
}
