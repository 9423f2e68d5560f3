//! The embedded API client, written as a model merchant integration: a cached
//! access token, every header on every request, an Idempotency-Key on every
//! POST kept across retries, typed errors that explain themselves, polling per
//! the guideline, and a recorder that sees every attempt.
//!
//! One file per API: [`token`] (access token), [`epayment`], [`order_management`],
//! [`webhooks`]; [`transport`] holds the retry loop and the headers, [`poll`] the
//! poller, [`mod@reference`] the reference generator and linter, [`error`] [`ApiError`].
//!
//! ```
//! # use vipps_golive::api::{Client, ClientOptions};
//! # use vipps_golive::simulator::{mock::SimServer, SimConfig, Simulator};
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let clock = vipps_golive::clock::VirtualClock::new();
//! # let server = SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
//! # let credentials = vipps_golive::config::Credentials {
//! #     client_id: "sim-client-id-123456".into(),
//! #     client_secret: "sim-client-secret-123456".into(),
//! #     subscription_key: "sim-subscription-key-123456".into(),
//! #     msn: "123456".into(),
//! # };
//! # let recorder = vipps_golive::evidence::MemoryRecorder::new();
//! # let client = Client::new(ClientOptions::new(server.uri().parse()?, credentials, clock, recorder))?;
//! use vipps_golive::api::epayment::{Amount, CreatePaymentRequest, UserFlow};
//! // Every exchange this client makes is recorded as evidence for EP-CREATE.
//! let client = client.tagged(&["EP-CREATE"], Some("create a web payment"));
//! let created = client
//!     .create_payment(&CreatePaymentRequest::new(
//!         Amount::nok(24900),
//!         "shop42-order-7781-1",
//!         UserFlow::WebRedirect,
//!     ).return_url("https://shop.example/return?ref=shop42-order-7781-1"))
//!     .await?;
//! // Nobody approves: polled per the guideline until EXPIRED, on the
//! // simulator's virtual clock, so in no real time.
//! let outcome = client.poll_until_final(&created.reference, &Default::default()).await?;
//! println!("{:?}", outcome.payment.state);
//! # assert_eq!(outcome.payment.state, vipps_golive::api::State::Expired);
//! # Ok(()) }
//! ```

pub mod epayment;
pub mod error;
pub mod order_management;
pub mod poll;
pub mod reference;
pub mod token;
pub mod transport;
pub mod webhooks;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::clock::SharedClock;
use crate::config::{Config, Credentials, SystemHeaders};
use crate::evidence::SharedRecorder;

pub use epayment::{
    Aggregate, Amount, CreatePaymentRequest, CreatePaymentResponse, Currency, Customer, EventName,
    ForceApproveRequest, GetPaymentResponse, ModificationResponse, PaymentEvent, State, UserFlow,
};
pub use error::{ApiError, ErrorBody, GatewayError, Problem, TokenError};
pub use poll::{PollOptions, PollOutcome};
pub use reference::{
    lint_reference, lint_references, ReferenceFinding, ReferenceGenerator, ReferenceRule,
};
pub use transport::RetryPolicy;

/// The header limits are the domain's, so the client refuses exactly what
/// the rules would judge wrong.
pub use crate::domain::headers::{MAX_IDEMPOTENCY_KEY_LEN, MAX_SYSTEM_HEADER_LEN};

/// An HTTP client builder for a request vipps-golive itself sends outside the
/// API client (a `webhooks-check` probe, a return page opened, a simulator's
/// journal or control API read): it carries the tool's mark, its
/// `User-Agent` and `x-vipps-golive-run` (the run id, when one records the
/// request), as every API call does. Never for the simulator's own webhook
/// deliveries nor the proxy's forwarding: those stand in for Vipps and the shop.
pub(crate) fn marked_http(run_id: Option<&str>) -> reqwest::ClientBuilder {
    use crate::domain::exchange::{HARNESS_RUN_HEADER, HARNESS_RUN_UNNAMED, HARNESS_USER_AGENT};
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(run_id.unwrap_or(HARNESS_RUN_UNNAMED))
        .unwrap_or(reqwest::header::HeaderValue::from_static(
            HARNESS_RUN_UNNAMED,
        ));
    headers.insert(HARNESS_RUN_HEADER, value);
    reqwest::Client::builder()
        .user_agent(HARNESS_USER_AGENT)
        .default_headers(headers)
}

/// Everything a [`Client`] needs.
#[derive(Clone)]
pub struct ClientOptions {
    /// Where the APIs live, e.g. `https://apitest.vipps.no` or the simulator's URL.
    pub base_url: Url,
    /// The sales unit's keys.
    pub credentials: Credentials,
    /// The four Vipps-System-* values.
    pub system: SystemHeaders,
    /// True for production: force approve is then refused before sending.
    pub production: bool,
    /// Time source for token expiry, backoff and polling.
    pub clock: SharedClock,
    /// Sees every attempt, redacted by [`crate::domain::exchange::Exchange::from_raw`].
    pub recorder: SharedRecorder,
    /// How transient failures are retried.
    pub retry: RetryPolicy,
    /// Time allowed for one attempt (connect, send, response).
    pub timeout: Duration,
    /// The run id every request carries in `x-vipps-golive-run` (see
    /// [`crate::domain::exchange::HARNESS_RUN_HEADER`]), so the simulator's
    /// or a proxy's journal names the folder that sent it and `audit` never
    /// counts it as the shop's. `None`: the mark says only the tool's version.
    pub run_id: Option<String>,
}

impl ClientOptions {
    /// Options with the default retry policy and a 30 s timeout.
    pub fn new(
        base_url: Url,
        credentials: Credentials,
        clock: SharedClock,
        recorder: SharedRecorder,
    ) -> Self {
        ClientOptions {
            base_url,
            credentials,
            system: SystemHeaders::default(),
            production: false,
            clock,
            recorder,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            run_id: None,
        }
    }
}

impl ClientOptions {
    /// Options for a resolved [`Config`]: its credentials and system headers,
    /// `production` from its target. `base_url` is passed in because the
    /// embedded simulator's URL is known only once it runs.
    pub fn from_config(
        config: &Config,
        base_url: Url,
        clock: SharedClock,
        recorder: SharedRecorder,
    ) -> Result<Self, ApiError> {
        let credentials = config.credentials.clone().ok_or(ApiError::InvalidInput {
            field: "credentials",
            reason: format!(
                "none configured for target `{}` (hint: set VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN)",
                config.target.name()
            ),
        })?;
        let mut o = ClientOptions::new(base_url, credentials, clock, recorder);
        o.system = config.system.clone();
        o.production = config.target.is_production();
        Ok(o)
    }
}

impl fmt::Debug for ClientOptions {
    // Written by hand because the recorder has no Debug; credentials print
    // through `Secret`'s redacting Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url.as_str())
            .field("credentials", &self.credentials)
            .field("system", &self.system)
            .field("production", &self.production)
            .field("clock", &self.clock)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// What the caller attached to the requests a handle makes: checklist IDs,
/// scenario name, and optionally its own Idempotency-Key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub checklist_ids: Vec<String>,
    pub scenario: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The client. Cheap to clone; clones share the token cache, the HTTP
/// connection pool and the recorder.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<transport::Inner>,
    pub(crate) ctx: Context,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url.as_str())
            .field("msn", &self.inner.credentials.msn)
            .field("production", &self.inner.production)
            .field("checklist_ids", &self.ctx.checklist_ids)
            .field("scenario", &self.ctx.scenario)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client (reqwest with rustls). Sends nothing yet: the first
    /// call fetches the access token.
    pub fn new(options: ClientOptions) -> Result<Client, ApiError> {
        // The ePayment, token and webhooks specs cap these at 30 characters;
        // refusing here beats a 400 on every call.
        let s = &options.system;
        for (name, value) in [
            ("Vipps-System-Name", &s.system_name),
            ("Vipps-System-Version", &s.system_version),
            ("Vipps-System-Plugin-Name", &s.plugin_name),
            ("Vipps-System-Plugin-Version", &s.plugin_version),
        ] {
            if value.chars().count() > MAX_SYSTEM_HEADER_LEN {
                return Err(ApiError::InvalidInput {
                    field: "system header",
                    reason: format!(
                        "`{name}` is `{value}`, {} characters; at most {MAX_SYSTEM_HEADER_LEN} are allowed",
                        value.chars().count()
                    ),
                });
            }
        }
        Ok(Client {
            inner: Arc::new(transport::Inner::new(options)?),
            ctx: Context::default(),
        })
    }

    /// A handle whose requests are recorded as evidence for `checklist_ids`
    /// and `scenario`. Cheap: shares everything else with `self`.
    pub fn tagged(&self, checklist_ids: &[&str], scenario: Option<&str>) -> Client {
        let mut c = self.clone();
        c.ctx.checklist_ids = checklist_ids.iter().map(|s| (*s).to_owned()).collect();
        c.ctx.scenario = scenario.map(str::to_owned);
        c
    }

    /// A handle whose POSTs all send `key` as Idempotency-Key instead of a
    /// fresh UUID per operation: how a merchant repeats an operation it is
    /// unsure went through. Refused when longer than 50 characters or not
    /// visible ASCII.
    pub fn with_idempotency_key(&self, key: impl Into<String>) -> Result<Client, ApiError> {
        let key = key.into();
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(ApiError::InvalidInput {
                field: "Idempotency-Key",
                reason: format!(
                    "`{key}` has {} characters; it must have 1 to {MAX_IDEMPOTENCY_KEY_LEN}",
                    key.chars().count()
                ),
            });
        }
        if !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::InvalidInput {
                field: "Idempotency-Key",
                reason: format!("`{key}` must be visible ASCII without spaces"),
            });
        }
        let mut c = self.clone();
        c.ctx.idempotency_key = Some(key);
        Ok(c)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The merchant serial number sent on every request.
    pub fn msn(&self) -> &str {
        &self.inner.credentials.msn
    }

    /// The clock the client waits on.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The checklist IDs attached with [`Client::tagged`].
    pub fn checklist_ids(&self) -> &[String] {
        &self.ctx.checklist_ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VirtualClock;
    use crate::evidence::MemoryRecorder;
    use crate::secret::Secret;

    const PLANTED: [&str; 3] = [
        "planted-id-0a1b2c3d",
        "planted-secret-9f8e7d6c",
        "planted-key-5a4b3c2d",
    ];

    fn options() -> ClientOptions {
        ClientOptions::new(
            Url::parse("http://127.0.0.1:9").unwrap(),
            Credentials {
                client_id: Secret::new(PLANTED[0]),
                client_secret: Secret::new(PLANTED[1]),
                subscription_key: Secret::new(PLANTED[2]),
                msn: "123456".into(),
            },
            VirtualClock::new(),
            MemoryRecorder::new(),
        )
    }

    #[test]
    fn debug_of_the_client_and_its_options_never_shows_a_secret() {
        let o = options();
        let client = Client::new(o.clone())
            .unwrap()
            .tagged(&["QA-HEADERS"], None);

        for shown in [
            format!("{o:?}"),
            format!("{o:#?}"),
            format!("{client:?}"),
            format!("{client:#?}"),
        ] {
            for p in PLANTED {
                assert!(!shown.contains(p), "`{p}` leaked in {shown}");
            }
        }
        assert!(
            format!("{client:?}").contains("123456"),
            "the MSN is not secret"
        );
    }

    #[test]
    fn a_system_header_over_30_characters_is_refused_at_construction() {
        let mut o = options();
        o.system.plugin_name = "p".repeat(31);

        let err = Client::new(o).unwrap_err();

        assert!(
            err.to_string().contains("Vipps-System-Plugin-Name"),
            "{err}"
        );
    }
}
