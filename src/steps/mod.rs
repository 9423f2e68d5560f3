//! The cucumber World and the step definitions behind `features/`.
//!
//! One [`GoLiveWorld`] per scenario holds the client (tagged with the
//! scenario's name and checklist IDs, so every exchange in the journal names
//! them), the references the scenario made and what the API last said. Steps
//! use only the public client API ([`crate::api`]); what differs by target
//! (approving, rejecting, letting time pass) goes through [`target::Target`].
//!
//! Steps are grouped by domain, not by feature file: [`payments`],
//! [`modifications`], [`errors`], [`polling`], [`order_management`],
//! [`webhooks`] and [`evidence`].
//!
//! A step that the target cannot perform fails with a message starting with
//! [`NOT_APPLICABLE`]; the runner reports that scenario NOT APPLICABLE with the
//! reason, never passed. Most such cases are known before a scenario starts,
//! from the `@needs-...` tags it declares ([`Need::from_tag`]), and the
//! scenario is then not run at all.

pub mod errors;
pub mod evidence;
pub mod modifications;
pub mod order_management;
pub mod params;
pub mod payments;
pub mod polling;
pub mod target;
pub mod webhooks;

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::api::{ApiError, Client, ClientOptions, CreatePaymentResponse, GetPaymentResponse};
use crate::api::{PaymentEvent, ReferenceGenerator};
use crate::domain::redact;
use crate::evidence::model::Attestation;
use crate::evidence::MemoryRecorder;

pub use target::{Need, Target};

/// Prefix of a step failure that means "this target cannot do this step".
pub const NOT_APPLICABLE: &str = "NOT APPLICABLE: ";

/// Why a step did not succeed. Its Display is what the report, the JUnit
/// and cucumber JSON files and the terminal show, so it is scrubbed of
/// secrets by value ([`redact::text`]): a target may echo a credential.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The target cannot perform the step (the scenario is NOT APPLICABLE).
    #[error("NOT APPLICABLE: {}", redact::text(.0))]
    NotApplicable(String),
    /// The API answered something the checklist does not accept.
    #[error("{}", redact::text(.0))]
    Check(String),
    /// A call failed where the scenario expected it to succeed.
    #[error("{}", redact::text(&format!("{error} ({})", error.explain())))]
    Api {
        #[from]
        error: ApiError,
    },
}

/// Shorthand for a failed check.
pub fn fail<T>(message: impl Into<String>) -> Result<T, StepError> {
    Err(StepError::Check(message.into()))
}

/// A go-live reference a scenario kept: the outcome it ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReference {
    /// `AUTHORIZED`, `CAPTURED`, `REFUNDED` or `CANCELLED`.
    pub outcome: String,
    pub reference: String,
}

/// What every scenario of one run shares.
pub struct RunContext {
    /// The run's client, untagged; each World tags its own handle.
    pub client: Client,
    /// The options the client was built from (a step builds a variant with
    /// wrong credentials from them).
    pub client_options: ClientOptions,
    /// What the target can do.
    pub target: Arc<dyn Target>,
    /// Every exchange of the run, in order.
    pub exchanges: Arc<MemoryRecorder>,
    /// Makes the run's references (unique per run).
    pub references: ReferenceGenerator,
    /// Attestations given with `--attest`.
    pub attestations: Vec<Attestation>,
    /// Cap on any amount sent (production: 100 øre by default).
    pub max_amount: Option<i64>,
    /// The shop's own return page (`--return-url`), for PF-REDIRECTS.
    pub return_page: Option<url::Url>,
    /// The customer's phone for PUSH_MESSAGE payments (a test user).
    pub customer_phone: Option<String>,
    /// Every reference any scenario created (production cleanup reads it).
    pub made: Mutex<Vec<String>>,
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("client", &self.client)
            .field("target", &self.target.name())
            .finish_non_exhaustive()
    }
}

tokio::task_local! {
    /// The run a World is created for: set by the runner around the cucumber run.
    pub static RUN: Arc<RunContext>;
}

/// One scenario's state.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct GoLiveWorld {
    ctx: Option<Arc<RunContext>>,
    /// The scenario's client (tagged in the `before` hook).
    client: Option<Client>,
    pub scenario: String,
    pub checklist_ids: Vec<String>,
    pub started_at: DateTime<Utc>,
    /// Every reference the scenario made or read, in order.
    pub references: Vec<String>,
    /// Amount of the current payment as the scenario wrote it (minor units),
    /// before any production cap; used to scale later amounts.
    pub written_amount: i64,
    /// The current payment's amount as sent.
    pub sent_amount: i64,
    pub created: Option<CreatePaymentResponse>,
    pub created_at: Option<DateTime<Utc>>,
    /// When `read_back` last read the current payment (paces re-reads).
    pub read_at: Option<DateTime<Utc>>,
    pub payment: Option<GetPaymentResponse>,
    pub events: Option<Vec<PaymentEvent>>,
    /// The error of the last call expected to be refused.
    pub refused: Option<ApiError>,
    /// The scenario has a "the shop is refused ..." step: a modification's
    /// 4xx is kept for it instead of failing the step that got it.
    pub expects_refusal: bool,
    /// Go-live references kept by the scenario.
    pub kept: Vec<KeptReference>,
    /// Attestations the scenario relied on.
    pub attested: Vec<Attestation>,
    /// A webhook receiver, when the scenario listens.
    pub webhooks: Option<webhooks::Receiver>,
}

impl fmt::Debug for GoLiveWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoLiveWorld")
            .field("scenario", &self.scenario)
            .field("references", &self.references)
            .field(
                "state",
                &self
                    .payment
                    .as_ref()
                    .map(|p| p.state.as_str())
                    .unwrap_or("-"),
            )
            .finish_non_exhaustive()
    }
}

impl GoLiveWorld {
    fn new() -> Self {
        GoLiveWorld {
            ctx: RUN.try_with(Arc::clone).ok(),
            client: None,
            scenario: String::new(),
            checklist_ids: Vec::new(),
            started_at: Utc::now(),
            references: Vec::new(),
            written_amount: 0,
            sent_amount: 0,
            created: None,
            created_at: None,
            read_at: None,
            payment: None,
            events: None,
            refused: None,
            expects_refusal: false,
            kept: Vec::new(),
            attested: Vec::new(),
            webhooks: None,
        }
    }

    /// Called before the first step with the scenario's name, tags and step
    /// texts: names the scenario on every exchange, and notes whether a
    /// step expects a refusal.
    pub fn start<'s>(
        &mut self,
        scenario: &str,
        tags: &[String],
        steps: impl IntoIterator<Item = &'s str>,
    ) {
        self.expects_refusal = steps
            .into_iter()
            .any(|s| s.starts_with(errors::REFUSED_STEP));
        self.scenario = scenario.to_owned();
        self.checklist_ids = checklist_ids(tags);
        self.started_at = Utc::now();
        if let Some(ctx) = &self.ctx {
            let ids: Vec<&str> = self.checklist_ids.iter().map(String::as_str).collect();
            self.client = Some(ctx.client.tagged(&ids, Some(scenario)));
        }
    }

    /// Fails with a refusal a `When` step kept for a following "is refused"
    /// step, when the step after it is anything else.
    pub fn no_refusal(&mut self) -> Result<(), StepError> {
        match self.refused.take() {
            Some(error) => Err(StepError::Api { error }),
            None => Ok(()),
        }
    }

    /// The run this World belongs to.
    pub fn ctx(&self) -> Result<&Arc<RunContext>, StepError> {
        self.ctx.as_ref().ok_or_else(|| {
            StepError::Check("this World was not created by a vipps-golive run".into())
        })
    }

    /// The scenario's client.
    pub fn client(&self) -> Result<Client, StepError> {
        match &self.client {
            Some(c) => Ok(c.clone()),
            None => Ok(self.ctx()?.client.clone()),
        }
    }

    /// The reference the scenario works on (the last one made).
    pub fn reference(&self) -> Result<String, StepError> {
        self.references
            .last()
            .cloned()
            .ok_or_else(|| StepError::Check("no payment was made yet in this scenario".into()))
    }

    /// A fresh reference of this run, remembered by the scenario and the run.
    pub fn new_reference(&mut self) -> Result<String, StepError> {
        let reference = self.ctx()?.references.fresh();
        self.remember(&reference)?;
        Ok(reference)
    }

    /// Remembers a reference the scenario made (or tried to).
    pub fn remember(&mut self, reference: &str) -> Result<(), StepError> {
        self.references.push(reference.to_owned());
        if let Ok(mut made) = self.ctx()?.made.lock() {
            made.push(reference.to_owned());
        }
        Ok(())
    }

    /// An amount as sent: on a capped target (production) the scenario's
    /// amounts shrink in proportion to its payment, to at least 1 øre.
    pub fn amount(&self, written: i64) -> Result<i64, StepError> {
        let Some(cap) = self.ctx()?.max_amount else {
            return Ok(written);
        };
        if self.written_amount <= cap || self.written_amount == 0 {
            return Ok(written.min(cap));
        }
        let scaled =
            (i128::from(written) * i128::from(cap) / i128::from(self.written_amount)) as i64;
        Ok(scaled.max(1))
    }
}

/// The checklist IDs among a scenario's tags (tags without `@`).
pub fn checklist_ids(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| t.trim_start_matches('@'))
        .filter(|t| crate::domain::checklist::find(t).is_some())
        .map(str::to_owned)
        .collect()
}

/// Formats minor units as `249.00 NOK`.
pub fn show_amount(value: i64) -> String {
    format!("{}.{:02} NOK", value / 100, (value % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_in_kroner() {
        assert_eq!(show_amount(24_950), "249.50 NOK");
    }
}
