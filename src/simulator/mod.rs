//! The simulator: a stateful double of the Vipps APIs the checklist needs.
//!
//! The engine knows no HTTP framework. A [`SimRequest`] (method, path, query,
//! headers, bytes) goes in through [`Simulator::handle`], a [`Reply`] comes
//! out. Two thin adapters serve it: [`mock`] mounts it on a wiremock
//! `MockServer` (the in-process double of `run` and of the tests) and [`serve`]
//! runs it standalone on hyper (the `simulator` command, the benchmark).
//!
//! The engine alone, a plain request in and a plain response out:
//!
//! ```
//! use vipps_golive::simulator::{SimConfig, SimRequest, Simulator};
//!
//! let sim = Simulator::new(SimConfig::default());
//! let token = sim.handle(SimRequest::new(
//!     "POST",
//!     "/accesstoken/get",
//!     None,
//!     [
//!         ("client_id".to_owned(), "sim-client-id-123456".to_owned()),
//!         ("client_secret".to_owned(), "sim-client-secret-123456".to_owned()),
//!         ("Ocp-Apim-Subscription-Key".to_owned(), "sim-subscription-key-123456".to_owned()),
//!         ("Merchant-Serial-Number".to_owned(), "123456".to_owned()),
//!     ],
//!     Vec::new(),
//! ));
//! assert_eq!(token.response.status, 200);
//! let body: serde_json::Value = serde_json::from_slice(&token.response.body).unwrap();
//! assert!(body["access_token"].is_string());
//! ```
//!
//! The standalone server, on loopback, for a shop whose tests speak HTTP
//! (what `vipps-golive simulator` runs):
//!
//! ```
//! use vipps_golive::simulator::{serve, SimConfig, Simulator};
//!
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = serve::bind(Simulator::new(SimConfig::default()), "127.0.0.1:0".parse()?).await?;
//! let answer = reqwest::get(format!("{}/epayment/v1/payments/nothing-here", server.base_url())).await?;
//! assert_eq!(answer.status(), 401, "no access token: a Problem, as the real API answers");
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Module ownership:
//! - `ledger`: payments, aggregates, events, idempotency store (pure; no HTTP)
//! - `validate`: raw JSON -> typed commands or a Problem
//! - `routes`: token endpoint, authentication, ePayment routes
//! - `ratelimit`: per-reference rate limits
//! - `control`: `/__sim/` payments (approve, abort, expire), clock, reset
//! - `landing`: the landing page and QR images
//! - `om`: Order Management
//! - `webhooks`: Webhooks API, signing, delivery
//! - `faults`: injected faults (`/__sim/faults`)
//! - `journal`: bounded record of every request received (`/__sim/journal`, `--journal FILE`)

pub mod control;
pub mod faults;
pub mod journal;
pub mod landing;
pub mod ledger;
pub mod mock;
pub mod om;
pub mod problem;
pub mod proxy;
pub mod ratelimit;
pub mod routes;
pub mod serve;
pub mod token;
pub mod units;
pub mod validate;
pub mod webhooks;

use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::{Clock, VirtualClock};

/// Default maximum request body (1 MB); larger bodies get a 400 Problem before being read.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Default of [`SimConfig::body_read_timeout`].
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A plain HTTP request, as an adapter hands it to the engine.
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// Upper-case method.
    pub method: String,
    /// Path without query, percent-decoding not applied.
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    /// Headers with names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl SimRequest {
    /// Builds a request; header names are lower-cased here.
    pub fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: impl IntoIterator<Item = (String, String)>,
        body: impl Into<Bytes>,
    ) -> Self {
        SimRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.filter(|q| !q.is_empty()).map(str::to_owned),
            headers: headers
                .into_iter()
                .map(|(mut k, v)| {
                    // In place: no second allocation per header.
                    k.make_ascii_lowercase();
                    (k, v)
                })
                .collect(),
            body: body.into(),
        }
    }

    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Path segments (empty segments dropped).
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }
}

/// A plain HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl SimResponse {
    /// A JSON response (`application/json; charset=utf-8`).
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        // Sized for a payment's answer, so it is not grown four times.
        let mut out = Vec::with_capacity(1024);
        let body = match serde_json::to_writer(&mut out, body) {
            Ok(()) => out,
            Err(_) => b"null".to_vec(),
        };
        SimResponse {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body,
        }
    }

    /// An empty response.
    pub fn empty(status: u16) -> Self {
        SimResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// An HTML page.
    pub fn html(status: u16, page: String) -> Self {
        SimResponse {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: page.into_bytes(),
        }
    }

    /// A `303 See Other` to `location`.
    pub(crate) fn see_other(location: &str) -> Self {
        SimResponse {
            status: 303,
            headers: vec![("location".into(), location.to_owned())],
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the adapter must do with a response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub response: SimResponse,
    /// Wait this long before answering (injected fault). Adapters wait outside every lock.
    pub delay: Option<Duration>,
    /// Close the connection without answering (the operation may already have taken effect).
    pub drop_connection: bool,
    /// A modification being processed ([`SimConfig::processing`]): the answer
    /// leaves when the simulator's clock reaches this instant, so advancing
    /// the virtual clock ends the processing at once. Adapters wait with
    /// [`Simulator::wait_out`], outside every lock.
    pub processing_until: Option<DateTime<Utc>>,
}

impl From<SimResponse> for Reply {
    fn from(response: SimResponse) -> Self {
        Reply {
            response,
            delay: None,
            drop_connection: false,
            processing_until: None,
        }
    }
}

/// One sales unit the simulator accepts.
///
/// The values are plain strings because the simulator compares them, but an
/// account may hold a user's own credentials (`run --env simulator` with keys
/// given), so `Debug` shows only fingerprints and there is no `Serialize`.
#[derive(Clone)]
pub struct Account {
    pub merchant_name: String,
    pub client_id: String,
    pub client_secret: String,
    pub subscription_key: String,
    pub msn: String,
    /// The sales unit's market currency: `NOK`, `DKK` or `EUR`. Payments in
    /// another currency are refused with 5040 (behaviour.md §4: DKK only for
    /// Danish merchants, EUR only for Finnish).
    pub currency: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::secret::fingerprint;
        f.debug_struct("Account")
            .field("merchant_name", &self.merchant_name)
            .field("client_id", &format!("…{}", fingerprint(&self.client_id)))
            .field(
                "client_secret",
                &format!("…{}", fingerprint(&self.client_secret)),
            )
            .field(
                "subscription_key",
                &format!("…{}", fingerprint(&self.subscription_key)),
            )
            .field("msn", &self.msn)
            .field("currency", &self.currency)
            .finish()
    }
}

/// How the simulator behaves. Defaults are what `run` and the tests use.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Sales units whose credentials are accepted.
    pub accounts: Vec<Account>,
    /// Whether `/__sim/` is served (the embedded simulator: yes; standalone: `--control`).
    pub control_enabled: bool,
    /// Rate limits of behaviour.md §8.
    pub rate_limits: bool,
    /// Access-token lifetime (test environment: 1 hour).
    pub token_lifetime: Duration,
    /// Default payment expiry (10 minutes).
    pub payment_timeout: Duration,
    /// How long the landing page can be used after creation (behaviour.md §8: 5 minutes).
    pub landing_window: Duration,
    /// Expiry of a one-time QR payment without `expiresAt` (about 5 minutes, §8).
    pub qr_timeout: Duration,
    /// Phone numbers of test users who exist (others: 7010 Customer not found).
    pub test_users: Vec<String>,
    /// How many requests the in-memory journal keeps (oldest dropped first).
    pub journal_capacity: usize,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// How long the standalone server and the proxy wait for a request's
    /// body to arrive whole before answering 408 (issue 22: a body sent a
    /// byte a second held a connection open for minutes).
    pub body_read_timeout: Duration,
    /// What each sales unit (by MSN) is approved for; see [`units`]. A unit
    /// missing here is treated as approved ([`units::Capabilities::approved`]).
    pub capabilities: std::collections::HashMap<String, units::Capabilities>,
    /// How long a capture, refund or cancel keeps its payment busy (default 0:
    /// off). Meanwhile another modification of that payment gets 423 with code
    /// 6160, and the answer to the first is sent once the time is up.
    pub processing: Duration,
    /// Validation switches where the sources are silent or disagree
    /// (docs/fidelity.md, "Known deviations and choices").
    pub rules: validate::Rules,
}

impl SimConfig {
    /// The credentials the simulator accepts out of the box (printed by `vipps-golive simulator`).
    pub(crate) fn default_accounts() -> Vec<Account> {
        vec![
            Account {
                merchant_name: "Golive Test Shop".into(),
                client_id: "sim-client-id-123456".into(),
                client_secret: "sim-client-secret-123456".into(),
                subscription_key: "sim-subscription-key-123456".into(),
                msn: "123456".into(),
                currency: "NOK".into(),
            },
            Account {
                merchant_name: "Golive Second Unit".into(),
                client_id: "sim-client-id-654321".into(),
                client_secret: "sim-client-secret-654321".into(),
                subscription_key: "sim-subscription-key-654321".into(),
                msn: "654321".into(),
                currency: "NOK".into(),
            },
        ]
    }
}

impl SimConfig {
    /// What the sales unit `msn` is approved for.
    pub(crate) fn capabilities_of(&self, msn: &str) -> units::Capabilities {
        self.capabilities
            .get(msn)
            .copied()
            .unwrap_or_else(units::Capabilities::approved)
    }

    /// The market of the sales unit `msn`: Denmark or Finland when its
    /// capabilities say so, else the market of its account's currency (a
    /// caller may set only [`Account::currency`]), else Norway.
    pub fn market_of(&self, msn: &str) -> units::Market {
        let named = self
            .capabilities
            .get(msn)
            .map(|c| c.market)
            .filter(|m| *m != units::Market::No);
        named
            .or_else(|| {
                self.accounts
                    .iter()
                    .find(|a| a.msn == msn)
                    .and_then(|a| units::Market::of_currency(&a.currency))
            })
            .unwrap_or_default()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            accounts: Self::default_accounts(),
            control_enabled: true,
            rate_limits: true,
            token_lifetime: Duration::from_secs(3600),
            payment_timeout: Duration::from_secs(600),
            landing_window: Duration::from_secs(300),
            qr_timeout: Duration::from_secs(300),
            test_users: vec![
                "4791234567".into(),
                "4712345678".into(),
                "4747753942".into(),
            ],
            journal_capacity: 10_000,
            max_body_bytes: MAX_BODY_BYTES,
            body_read_timeout: BODY_READ_TIMEOUT,
            capabilities: units::default_capabilities(),
            processing: Duration::ZERO,
            rules: validate::Rules::default(),
        }
    }
}

/// A payment event leaving the ledger, for webhook delivery.
#[derive(Debug, Clone, Serialize)]
pub struct OutboundEvent {
    pub msn: String,
    /// Event name: CREATED, AUTHORIZED, ... (the webhook type is `epayments.payment.<lowercase>.v1`).
    pub name: String,
    pub reference: String,
    /// The webhook body (behaviour.md §9.2), ready to serialize.
    pub payload: serde_json::Value,
}

/// Everything the engine holds, behind the simulator's one lock.
pub struct Engine {
    pub config: SimConfig,
    pub clock: Arc<VirtualClock>,
    /// Public base URL (scheme://host:port) once an adapter has bound.
    pub base_url: String,
    pub ledger: ledger::Ledger,
    pub auth: routes::Auth,
    pub limits: ratelimit::RateLimiter,
    pub orders: om::Orders,
    pub hooks: webhooks::Registry,
    pub faults: faults::Faults,
    pub journal: journal::SimJournal,
    /// Events produced while handling the current request; drained into `hooks`.
    pub outbox: Vec<OutboundEvent>,
    /// Set by a modification that keeps its payment busy ([`SimConfig::processing`]):
    /// the answer leaves when the clock reaches this instant ([`Reply::processing_until`]).
    pub reply_until: Option<DateTime<Utc>>,
}

impl Engine {
    fn new(config: SimConfig, clock: Arc<VirtualClock>) -> Self {
        Engine {
            ledger: ledger::Ledger::new(&config),
            auth: routes::Auth::new(&config),
            limits: ratelimit::RateLimiter::new(&config),
            orders: om::Orders::new(&config),
            hooks: webhooks::Registry::new(&config),
            faults: faults::Faults::new(&config),
            journal: journal::SimJournal::new(&config),
            outbox: Vec::new(),
            reply_until: None,
            base_url: String::from("http://127.0.0.1"),
            config,
            clock,
        }
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Forgets every payment, token, order, webhook, fault and journal entry.
    pub fn reset(&mut self) {
        self.ledger = ledger::Ledger::new(&self.config);
        self.auth = routes::Auth::new(&self.config);
        self.limits = ratelimit::RateLimiter::new(&self.config);
        self.orders = om::Orders::new(&self.config);
        self.hooks.reset();
        self.faults = faults::Faults::new(&self.config);
        self.journal.clear();
        self.outbox.clear();
    }

    /// Routes one request. Faults first (they may answer instead), then the APIs.
    fn dispatch(&mut self, req: &SimRequest) -> Reply {
        let now = self.now();
        // Expire payments whose time has come, so GET and webhooks see it.
        self.ledger.expire_due(now, &mut self.outbox);

        if is_control(&req.path) {
            let resp = if !self.config.control_enabled {
                problem::not_found(req)
            } else if let Some(r) = faults::handle_control(self, req) {
                r
            } else if let Some(r) = journal::handle_control(self, req) {
                r
            } else if let Some(r) = webhooks::handle_control(self, req) {
                r
            } else if let Some(r) = control::handle(self, req) {
                r
            } else {
                problem::not_found(req)
            };
            // Approve, abort, expire and clock advances make events too; they
            // must reach the webhooks now, not with the next API request.
            let events = std::mem::take(&mut self.outbox);
            self.hooks.enqueue(events, now);
            // The clock may have moved: webhook retries may be due now.
            self.hooks.wake();
            return resp.into();
        }

        let limit = om::body_limit(&self.config, &req.path);
        if req.body.len() > limit {
            return problem::body_too_large(req, limit).into();
        }

        let fault = self.faults.take(req);
        if let Some(f) = &fault {
            if let Some(reply) = f.reply_before_effect() {
                return reply;
            }
        }

        let lower = req.path.to_ascii_lowercase();
        let response = if let Some(r) = landing::handle(self, req) {
            r
        } else if lower == "/accesstoken/get" {
            routes::token(self, req)
        } else if lower.starts_with("/epayment/") {
            routes::epayment(self, req)
        } else if lower.starts_with("/order-management/") {
            om::handle(self, req)
        } else if lower.starts_with("/webhooks/") {
            webhooks::handle_api(self, req)
        } else {
            problem::not_found(req)
        };

        let events = std::mem::take(&mut self.outbox);
        self.hooks.enqueue(events, now);

        let mut reply = match fault {
            Some(f) => f.reply_after_effect(response),
            None => Reply::from(response),
        };
        reply.processing_until = self.reply_until.take();
        reply
    }
}

/// `/__sim/` control traffic: never journaled, never refused for the journal.
fn is_control(path: &str) -> bool {
    path.starts_with("/__sim/") || path == "/__sim"
}

/// `reply` once its journal line is `written`; a 503 Problem when it could
/// not be: no answer leaves without its record.
fn recorded(
    req: &SimRequest,
    reply: Reply,
    written: Result<(), journal::JournalUnavailable>,
) -> Reply {
    match written {
        Ok(()) => reply,
        Err(e) => problem::journal_unavailable(req, &e).into(),
    }
}

/// `m`, locked. A panic while it was held must not take the simulator down
/// for good: a poisoned lock is taken all the same.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `m`, locked if nobody holds it (poisoned or not, as [`lock`]).
fn try_lock<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Writes `line`, when there is one, through the journal file's group
/// commit: done once the write that carried it has ended.
async fn write_async(
    line: Option<journal::PendingLine>,
) -> Result<(), journal::JournalUnavailable> {
    match line {
        None => Ok(()),
        Some(line) => line.write_async().await,
    }
}

/// How many times [`Simulator::lock_engine`] tries the lock before it sleeps
/// on it (the pauses between tries double up to 64: some 450 in all).
const SPINS: u32 = 12;

/// The simulator: the engine behind one lock, plus its clock.
pub struct Simulator {
    engine: Mutex<Engine>,
    clock: Arc<VirtualClock>,
    base_url: RwLock<String>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator with its own virtual clock.
    pub fn new(config: SimConfig) -> Arc<Self> {
        Self::with_clock(config, VirtualClock::new())
    }

    /// A simulator on a clock shared with someone else (the client's poller).
    pub fn with_clock(config: SimConfig, clock: Arc<VirtualClock>) -> Arc<Self> {
        Arc::new(Simulator {
            engine: Mutex::new(Engine::new(config, clock.clone())),
            clock,
            base_url: RwLock::new(String::from("http://127.0.0.1")),
        })
    }

    /// The clock the simulator runs on.
    pub fn clock(&self) -> Arc<VirtualClock> {
        self.clock.clone()
    }

    /// Tells the engine the URL it is reachable at (for redirectUrl and landing links).
    pub fn set_base_url(&self, url: &str) {
        let url = url.trim_end_matches('/').to_owned();
        if let Ok(mut b) = self.base_url.write() {
            *b = url.clone();
        }
        self.with_engine(|e| e.base_url = url);
    }

    /// The URL set by [`Simulator::set_base_url`].
    pub fn base_url(&self) -> String {
        self.base_url.read().map(|b| b.clone()).unwrap_or_default()
    }

    /// Handles one request. Never panics on bad input; every answer is a [`Reply`].
    ///
    /// With a journal file, the answer is returned only after its line is
    /// written; a journal that cannot be written gives 503 (a Problem saying
    /// so) instead of an answer nobody could audit.
    pub fn handle(&self, req: SimRequest) -> Reply {
        let (reply, line) = match self.answer(&req) {
            Ok(answered) => answered,
            Err(refused) => return refused,
        };
        let written = line.map_or(Ok(()), journal::PendingLine::write);
        recorded(&req, reply, written)
    }

    /// [`Simulator::handle`] for an async server: while another request
    /// writes the journal file, this one waits without holding its thread,
    /// and its line goes with the next write (group commit).
    pub async fn handle_async(&self, req: SimRequest) -> Reply {
        let (reply, line) = match self.answer(&req) {
            Ok(answered) => answered,
            Err(refused) => return refused,
        };
        recorded(&req, reply, write_async(line).await)
    }

    /// The engine's reply and the journal line to write before it leaves;
    /// `Err`: refused, the journal file failing, before any effect.
    fn answer(&self, req: &SimRequest) -> Result<(Reply, Option<journal::PendingLine>), Reply> {
        let started = self.clock.now();
        let mut engine = self.lock_engine();
        if !is_control(&req.path) {
            if let Err(e) = engine.journal.check() {
                return Err(problem::journal_unavailable(req, &e).into());
            }
        }
        let reply = engine.dispatch(req);
        let line = engine.journal.record(req, &reply, started);
        Ok((reply, line))
    }

    /// How long, in real time, `reply` still waits for its processing to end
    /// if nobody advances the clock (`None`: it need not wait).
    pub fn processing_left(&self, reply: &Reply) -> Option<Duration> {
        let until = reply.processing_until?;
        (until - self.clock.now())
            .to_std()
            .ok()
            .filter(|d| !d.is_zero())
    }

    /// Waits out `reply`'s injected delay (real time: it stands for a slow
    /// network) and its processing, which follows the simulator's clock:
    /// real time moves that clock, and so does an advance (`/__sim/clock`, or
    /// a client sharing the clock), which ends the wait at once. Call it
    /// outside every lock.
    pub async fn wait_out(&self, reply: &Reply) {
        if let Some(d) = reply.delay {
            tokio::time::sleep(d).await;
        }
        // Polled: the clock is a plain offset with nothing to wait on; 10 ms
        // is far below any processing time worth modelling.
        while let Some(left) = self.processing_left(reply) {
            tokio::time::sleep(left.min(Duration::from_millis(10))).await;
        }
    }

    /// Records an exchange the engine did not handle itself (the recording
    /// proxy), its journal line written before this returns; while another
    /// request writes, its line waits for the next write without holding
    /// the thread (the group commit of [`Simulator::handle_async`]).
    pub async fn record(
        &self,
        req: &SimRequest,
        reply: &Reply,
        started: DateTime<Utc>,
    ) -> Result<(), journal::JournalUnavailable> {
        write_async(self.with_engine(|e| e.journal.record(req, reply, started))).await
    }

    /// `Err` when the journal file cannot be written now: a request must be
    /// refused before it has any effect (the recording proxy asks first).
    pub fn journal_check(&self) -> Result<(), journal::JournalUnavailable> {
        self.with_engine(|e| e.journal.check())
    }

    /// Runs `f` with the engine locked (control helpers, tests, the dispatcher).
    pub fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        f(&mut self.lock_engine())
    }

    /// The engine, locked. It is held for a few microseconds a request, by
    /// the threads of an async runtime: a thread that finds it taken spins
    /// for about as long before it sleeps, since a sleep and a wake cost
    /// more than the wait and leave a core idle (issue 22: the futex calls
    /// of two threads taking turns were a tenth of the GET benchmark).
    fn lock_engine(&self) -> MutexGuard<'_, Engine> {
        for round in 0..SPINS {
            if let Some(engine) = try_lock(&self.engine) {
                return engine;
            }
            for _ in 0..(1u32 << round.min(6)) {
                std::hint::spin_loop();
            }
        }
        lock(&self.engine)
    }

    /// Expires due payments and queues their events (called periodically by the standalone server).
    pub fn tick(&self) {
        self.with_engine(|e| {
            let now = e.now();
            e.ledger.expire_due(now, &mut e.outbox);
            let events = std::mem::take(&mut e.outbox);
            e.hooks.enqueue(events, now);
        });
    }
}
