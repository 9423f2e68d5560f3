//! What differs by target, behind one interface: approving a payment,
//! rejecting it, and letting it expire. Each target says up front what it
//! cannot do ([`Target::cannot`]) so the runner reports those scenarios NOT
//! APPLICABLE with the reason instead of starting them.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::StepError;
use crate::api::{
    Client, CreatePaymentResponse, Customer, ForceApproveRequest, PollOptions, State,
};

/// A capability a scenario may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// The customer approves a payment.
    Approve,
    /// The customer rejects a payment (ABORTED).
    Abort,
    /// Nobody answers and the payment expires (EXPIRED).
    Expire,
    /// Webhooks can reach the harness.
    WebhookReceiver,
    /// The shop named its own return page (`--return-url`).
    ReturnPage,
    /// A person attested a manual item (`--attest`).
    Attestation,
}

impl Need {
    /// Every need, in the order a scenario's tags are read.
    pub const ALL: [Need; 6] = [
        Need::Approve,
        Need::Abort,
        Need::Expire,
        Need::WebhookReceiver,
        Need::ReturnPage,
        Need::Attestation,
    ];

    /// The scenario tag that declares this need (without `@`). A scenario
    /// says what it needs in its tags, so a target that cannot give it is
    /// known before the scenario starts; a step that finds out only while
    /// running still fails NOT APPLICABLE, never passes.
    pub const fn tag(self) -> &'static str {
        match self {
            Need::Approve => "needs-approval",
            Need::Abort => "needs-rejection",
            Need::Expire => "needs-expiry",
            Need::WebhookReceiver => "needs-webhooks",
            Need::ReturnPage => "needs-return-page",
            Need::Attestation => "manual",
        }
    }

    /// The need a scenario tag declares (`@` optional).
    pub fn from_tag(tag: &str) -> Option<Need> {
        let tag = tag.trim_start_matches('@');
        Need::ALL.into_iter().find(|n| n.tag() == tag)
    }
}

/// Where the payment goes to be approved or rejected by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// A person who approves or rejects a payment in the app. The terminal
/// implementation prints a QR code, the link and a countdown; tests use one
/// that opens the landing page.
pub trait Person: Send + Sync {
    /// Asks for `decision` on the payment behind `link`. Returns once asked:
    /// the caller polls for the outcome.
    fn ask<'a>(
        &'a self,
        decision: Decision,
        reference: &'a str,
        link: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>>;

    /// Told every 30 s while the app has not answered: `left` of the
    /// payment's ten minutes remain to `verb` (`approve`, `reject`) it.
    /// The terminal person shows a countdown; others need not.
    fn waiting(&self, _reference: &str, _verb: &str, _left: Duration) {}
}

/// One target's capabilities.
pub trait Target: Send + Sync {
    /// `simulator`, `test` or `production`: the scenario tag it runs.
    fn tag(&self) -> &'static str;
    /// Short name for messages.
    fn name(&self) -> &'static str {
        self.tag()
    }
    /// `Some(reason)` when this target cannot do `need`.
    fn cannot(&self, need: Need) -> Option<String>;
    /// The customer approves `reference`; returns once it is AUTHORIZED.
    fn approve<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>>;
    /// The customer rejects `reference`.
    fn abort<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>>;
    /// Nobody answers: `reference` expires (at once where time can be moved,
    /// else the caller's polling waits it out).
    fn expire<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>>;
}

fn not_applicable<T>(need: Need, target: &dyn Target) -> Result<T, StepError> {
    Err(StepError::NotApplicable(
        target
            .cannot(need)
            .unwrap_or_else(|| format!("{need:?} is not possible here")),
    ))
}

/// The simulator (embedded, or standalone through `--base-url`): force
/// approve through the API; reject and expire through its `/__sim/` control
/// API when that is served.
pub struct SimulatorTarget {
    /// The simulator's base URL when its control API answers.
    pub control: Option<url::Url>,
    /// A phone number of one of its test users.
    pub test_phone: String,
    /// A webhook receiver can be reached (the embedded simulator delivers to loopback).
    pub webhooks: bool,
    /// `--return-url` was given.
    pub return_page: bool,
    http: reqwest::Client,
}

impl SimulatorTarget {
    pub fn new(control: Option<url::Url>, webhooks: bool, return_page: bool) -> SimulatorTarget {
        SimulatorTarget {
            control,
            test_phone: "4791234567".into(),
            webhooks,
            return_page,
            // The control API is the tool's own request: marked like every other.
            http: crate::api::marked_http(None)
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
        }
    }

    /// Asks whether `base` serves the `/__sim/` control API (GET /__sim/clock).
    pub async fn probe_control(base: &url::Url) -> bool {
        let Ok(url) = base.join("/__sim/clock") else {
            return false;
        };
        let Ok(http) = crate::api::marked_http(None).build() else {
            return false;
        };
        matches!(
            http
                .get(url)
                .timeout(Duration::from_secs(5))
                .send()
                .await,
            Ok(r) if r.status().is_success()
        )
    }

    async fn control(
        &self,
        client: &Client,
        reference: &str,
        action: &str,
    ) -> Result<(), StepError> {
        let Some(base) = &self.control else {
            return Err(StepError::NotApplicable(no_control()));
        };
        let url = base
            .join(&format!("/__sim/payments/{reference}/{action}"))
            .map_err(|e| StepError::Check(format!("bad control URL: {e}")))?;
        let response = self
            .http
            .post(url)
            .header("Merchant-Serial-Number", client.msn())
            .send()
            .await
            .map_err(|e| {
                StepError::Check(format!("the simulator's control API did not answer: {e}"))
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(StepError::Check(format!(
                "the simulator's control API answered {} to {action}",
                response.status()
            )))
        }
    }
}

fn no_control() -> String {
    "needs the simulator's control API (start it with `vipps-golive simulator --control`) or a person in the app".into()
}

impl Target for SimulatorTarget {
    fn tag(&self) -> &'static str {
        "simulator"
    }
    fn cannot(&self, need: Need) -> Option<String> {
        match need {
            Need::Approve => None,
            Need::Abort | Need::Expire => self.control.is_none().then(no_control),
            Need::WebhookReceiver => (!self.webhooks)
                .then(|| "webhooks from this target cannot reach the harness".to_owned()),
            Need::ReturnPage => (!self.return_page).then(no_return_page),
            Need::Attestation => Some(needs_attestation()),
        }
    }
    fn approve<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move { force_approve(client, reference, created, &self.test_phone).await })
    }
    fn abort<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        _created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(self.control(client, reference, "abort"))
    }
    fn expire<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        // The payment alone expires: moving the shared clock ten minutes would
        // expire every other scenario's waiting payment too.
        Box::pin(self.control(client, reference, "expire"))
    }
}

/// Force approve (test environment and simulator), then poll until final.
async fn force_approve(
    client: &Client,
    reference: &str,
    created: &CreatePaymentResponse,
    phone: &str,
) -> Result<(), StepError> {
    let request = ForceApproveRequest {
        customer: Some(Customer::phone(phone)),
        token: created.approve_token(),
    };
    client.force_approve(reference, &request).await?;
    Ok(())
}

pub(crate) fn no_return_page() -> String {
    "the shop's own return page was not given (hint: --return-url https://shop.example/return)"
        .into()
}

pub(crate) fn needs_attestation() -> String {
    "a person must confirm it (hint: --attest ID=\"Name, role\")".into()
}

/// The Vipps MobilePay test environment: force approve with the test user's
/// phone (`--test-phone`); rejection by a person; expiry takes ten real minutes.
pub struct TestTarget {
    pub test_phone: Option<String>,
    /// `None` with `--non-interactive`.
    pub person: Option<Arc<dyn Person>>,
    pub return_page: bool,
}

impl Target for TestTarget {
    fn tag(&self) -> &'static str {
        "test"
    }
    fn cannot(&self, need: Need) -> Option<String> {
        match need {
            Need::Approve => self.test_phone.is_none().then(|| {
                "needs the test user's phone number to approve with (hint: --test-phone 47XXXXXXXX)".to_owned()
            }),
            Need::Abort => self.person.is_none().then(|| {
                "needs a person to reject the payment in the test app (not with --non-interactive)".to_owned()
            }),
            Need::Expire => None,
            Need::WebhookReceiver => {
                Some("the test environment cannot deliver webhooks to this machine".into())
            }
            Need::ReturnPage => (!self.return_page).then(no_return_page),
            Need::Attestation => Some(needs_attestation()),
        }
    }
    fn approve<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            match &self.test_phone {
                Some(phone) => force_approve(client, reference, created, phone).await,
                None => not_applicable(Need::Approve, self),
            }
        })
    }
    fn abort<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            match (&self.person, &created.redirect_url) {
                (Some(p), Some(link)) => {
                    p.ask(Decision::Reject, reference, link).await?;
                    wait_for_person(client, p.as_ref(), reference, "reject").await?;
                    Ok(())
                }
                _ => not_applicable(Need::Abort, self),
            }
        })
    }
    fn expire<'a>(
        &'a self,
        _client: &'a Client,
        _reference: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        // Time passes by itself: the polling step waits the ten minutes out.
        Box::pin(async { Ok(()) })
    }
}

/// Production: a person approves in the app; nothing else is provoked.
pub struct ProductionTarget {
    pub person: Arc<dyn Person>,
    pub return_page: bool,
}

impl Target for ProductionTarget {
    fn tag(&self) -> &'static str {
        "production"
    }
    fn cannot(&self, need: Need) -> Option<String> {
        match need {
            Need::Approve => None,
            Need::Abort | Need::Expire => {
                Some("not provoked in production (real customers, real money)".into())
            }
            Need::WebhookReceiver => {
                Some("production cannot deliver webhooks to this machine".into())
            }
            Need::ReturnPage => (!self.return_page).then(no_return_page),
            Need::Attestation => Some(needs_attestation()),
        }
    }
    fn approve<'a>(
        &'a self,
        client: &'a Client,
        reference: &'a str,
        created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            let Some(link) = &created.redirect_url else {
                return Err(StepError::Check(
                    "the payment has no link to approve it with".into(),
                ));
            };
            self.person.ask(Decision::Approve, reference, link).await?;
            let outcome =
                wait_for_person(client, self.person.as_ref(), reference, "approve").await?;
            if outcome.payment.state != State::Authorized {
                return Err(StepError::Check(format!(
                    "the person did not approve: the payment is {}",
                    outcome.payment.state.as_str()
                )));
            }
            Ok(())
        })
    }
    fn abort<'a>(
        &'a self,
        _client: &'a Client,
        _reference: &'a str,
        _created: &'a CreatePaymentResponse,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async { not_applicable(Need::Abort, self) })
    }
    fn expire<'a>(
        &'a self,
        _client: &'a Client,
        _reference: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async { not_applicable(Need::Expire, self) })
    }
}

/// Polls (per the guideline) until a person has answered in the app, for up
/// to the payment's ten minutes, telling `person` every 30 s how long is left
/// until the app answers.
async fn wait_for_person(
    client: &Client,
    person: &dyn Person,
    reference: &str,
    verb: &str,
) -> Result<crate::api::PollOutcome, StepError> {
    let options = PollOptions::default();
    let poll = client.poll_until_final(reference, &options);
    tokio::pin!(poll);
    let mut left = 600u64;
    loop {
        tokio::select! {
            outcome = &mut poll => return Ok(outcome?),
            _ = tokio::time::sleep(Duration::from_secs(30)) => {
                left = left.saturating_sub(30);
                person.waiting(reference, verb, Duration::from_secs(left));
            }
        }
    }
}
