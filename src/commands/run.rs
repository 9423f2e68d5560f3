//! `vipps-golive run`: the checklist's payment flows against a target, with evidence.
//!
//! This is the interim runner that issues 2 and 3 need to be usable end to
//! end: it drives the embedded client through fixed flows (the GL-TEST trio,
//! every userFlow, every state the target can reach, a provoked error, Order
//! Management) and writes `reports/<run-id>/` with the journal, the evidence
//! and a plain HTML summary. The Gherkin features, concurrency, the guided
//! production run and the full evidence report replace it in later issues.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::order_management::{
    BottomLine, Category, CategoryType, ImageUpload, OrderLine, PaymentType, Receipt,
};
use crate::api::{
    lint_references, Amount, ApiError, Client, ClientOptions, CreatePaymentRequest, Customer,
    ForceApproveRequest, GetPaymentResponse, PaymentEvent, PollOptions, ReferenceGenerator, State,
    UserFlow,
};
use crate::cli::RunArgs;
use crate::clock::{SharedClock, SystemClock, VirtualClock};
use crate::config::{self, Config, Credentials, Target};
use crate::evidence::{
    redact, Journal, Latest, MemoryRecorder, RunFolder, SharedRecorder, Tee, SCHEMA_VERSION,
};
use crate::output;
// The HTML escape the landing page uses (same five characters, one pass).
use crate::simulator::landing::escape;
use crate::simulator::mock::SimServer;
use crate::simulator::{SimConfig, Simulator};
use crate::Error;

/// The test user the flows approve with (one of the simulator's defaults).
const TEST_PHONE: &str = "4791234567";

/// How one flow ended.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(
    tag = "verdict",
    content = "reason",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
pub enum Verdict {
    Pass,
    Fail(String),
    NotApplicable(String),
}

/// One flow's evidence: the reference it made and what the API said of it.
#[derive(Debug, Clone, Serialize)]
pub struct FlowResult {
    pub name: String,
    pub checklist_ids: Vec<String>,
    pub reference: Option<String>,
    pub state: Option<String>,
    pub aggregate: Option<serde_json::Value>,
    pub events: Vec<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The machine-readable result of a run (`evidence.json`).
#[derive(Debug, Serialize)]
pub struct RunEvidence {
    pub schema_version: u32,
    pub run_id: String,
    pub target: String,
    pub base_url: String,
    pub msn: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub flows: Vec<FlowResult>,
    pub reference_findings: Vec<String>,
}

/// Run the checklist flows against a target (default: the embedded simulator).
///
/// Writes `<out>/<run-id>/` (status.json, journal.jsonl, evidence.json,
/// report.html, manifest.json) and points `<out>/latest` at it when the run
/// is complete (see [`RunFolder`]). Results go to stdout, progress and
/// diagnostics to stderr. Exit status 0 when every flow passed, 1 when one
/// failed, 2 for bad configuration, 3 when the target could not be reached or
/// refused the credentials, 4 when the evidence could not be recorded.
///
/// Example: `vipps-golive run --out reports`
pub fn run(args: &RunArgs) -> Result<(), Error> {
    super::block_on(run_async(args))
}

async fn run_async(args: &RunArgs) -> Result<(), Error> {
    let (config, _provenance) = config::load(&args.target)?;
    if config.target.is_production() {
        return Err(Error::Usage(
            "the guided production run is not available yet (hint: run against the simulator or --env test)".into(),
        ));
    }

    let started_at = Utc::now();
    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let folder = RunFolder::create(&args.out, &run_id, started_at).map_err(|source| {
        Error::Evidence(format!(
            "cannot create the report folder `{}`: {source}",
            args.out.join(&run_id).display()
        ))
    })?;
    let result = run_in(&config, &folder, &run_id, started_at).await;
    if let Err(e) = &result {
        // No manifest and a status that says why: recognisably incomplete,
        // and `latest` stays on the last complete run.
        if !matches!(e, Error::Failed(_)) {
            let _ = folder.fail(&redact::text(&e.to_string()));
        }
    }
    result
}

async fn run_in(
    config: &Config,
    folder: &RunFolder,
    run_id: &str,
    started_at: DateTime<Utc>,
) -> Result<(), Error> {
    let dir = folder.dir().to_owned();
    let journal = Arc::new(Journal::create(folder.path("journal.jsonl")).map_err(|e| {
        Error::Evidence(format!(
            "cannot create the journal in `{}`: {e}",
            dir.display()
        ))
    })?);
    let memory = MemoryRecorder::new();
    let recorder: SharedRecorder = Arc::new(Tee(vec![journal.clone(), memory.clone()]));
    // What could not be recorded stops the run: no verdict without evidence.
    let check_recorded = |done: &str| -> Result<(), Error> {
        let Some(e) = recorder.failure() else {
            return Ok(());
        };
        Err(Error::Evidence(format!(
            "{e} (after {done}); the run stopped, `{}` is incomplete (hint: free disk space or choose another --out)",
            dir.display()
        )))
    };

    // The embedded simulator and the client share one virtual clock, so the
    // polling schedule and the 10-minute expiry cost no real time.
    let (target, _server) = match &config.target {
        Target::Simulator => {
            let clock = VirtualClock::new();
            let mut sim_config = SimConfig::default();
            // Credentials given for the simulator target are the ones the run
            // uses, so the embedded simulator must accept them too.
            if let Some(c) = &config.credentials {
                sim_config.accounts.insert(
                    0,
                    crate::simulator::Account {
                        merchant_name: "Your sales unit".into(),
                        client_id: c.client_id.expose().to_owned(),
                        client_secret: c.client_secret.expose().to_owned(),
                        subscription_key: c.subscription_key.expose().to_owned(),
                        msn: c.msn.clone(),
                        currency: "NOK".into(),
                    },
                );
            }
            let sim = Simulator::with_clock(sim_config, clock.clone());
            let server = SimServer::start_on(sim).await;
            let target = Prepared::simulator(config, &server, clock)?;
            (target, Some(server))
        }
        _ => (Prepared::remote(config)?, None),
    };

    let mut options = ClientOptions::new(
        target.base_url.clone(),
        target.credentials.clone(),
        target.clock.clone(),
        recorder.clone(),
    );
    options.system = config.system.clone();
    options.production = config.target.is_production();
    let client = Client::new(options).map_err(|e| Error::Usage(e.to_string()))?;

    // Fail fast, with exit status 3, when the target cannot be reached or
    // refuses the credentials, instead of failing every flow the same way.
    if let Err(e) = client.access_token().await {
        check_recorded("the access token request")?;
        if e.is_unreachable() || e.is_credentials_refused() {
            return Err(Error::Unreachable {
                message: redact::text(&format!("{} ({})", e, e.explain())),
                source: None,
            });
        }
    }

    let refs = ReferenceGenerator::new(&format!("golive-{}", &run_id[..15].replace('T', "")));
    let flows = Flows {
        client: &client,
        refs: &refs,
        control: target.control.clone(),
    };
    let mut results = Vec::new();
    for flow in FLOWS {
        output::diag(&format!("  running: {}", flow.name));
        let result = flows.run(flow).await;
        check_recorded(&format!("flow `{}`", flow.name))?;
        output::result(&format!(
            "  {:<58}{}",
            flow.name,
            match &result.verdict {
                Verdict::Pass => "PASS".to_owned(),
                Verdict::Fail(why) => format!("FAIL: {why}"),
                Verdict::NotApplicable(why) => format!("NOT APPLICABLE: {why}"),
            }
        ));
        results.push(result);
    }

    let msn = target.credentials.msn.clone();
    let references: Vec<(&str, &str)> = results
        .iter()
        .filter_map(|r| r.reference.as_deref())
        .map(|r| (msn.as_str(), r))
        .collect();
    let reference_findings: Vec<String> = lint_references(references.iter().copied())
        .into_iter()
        .map(|f| format!("{f:?}"))
        .collect();

    let evidence = RunEvidence {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.to_owned(),
        target: config.target.name().into(),
        base_url: config::display_url(&target.base_url),
        msn: target.credentials.msn.clone(),
        started_at,
        finished_at: Utc::now(),
        flows: results,
        reference_findings,
    };
    check_recorded("the last flow")?;
    if let Err(e) = journal.sync() {
        return Err(Error::Evidence(format!(
            "{e}; `{}` is incomplete",
            dir.display()
        )));
    }
    write_outputs(folder, &evidence, memory.exchanges().len())?;

    let failed = evidence
        .flows
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Fail(_)))
        .count();
    output::result(&format!(
        "\n{} flows, {} failed; {} exchanges recorded\nreport: {}",
        evidence.flows.len(),
        failed,
        memory.exchanges().len(),
        dir.join("report.html").display()
    ));
    if failed > 0 || !evidence.reference_findings.is_empty() {
        return Err(Error::Failed(format!(
            "{failed} flow(s) failed, {} reference finding(s)",
            evidence.reference_findings.len()
        )));
    }
    Ok(())
}

/// A target ready for the client: where, with which keys, on which clock.
struct Prepared {
    base_url: url::Url,
    credentials: Credentials,
    clock: SharedClock,
    /// Base URL of the simulator's `/__sim/` control API, when there is one.
    control: Option<String>,
}

impl Prepared {
    fn simulator(
        config: &Config,
        server: &SimServer,
        clock: Arc<VirtualClock>,
    ) -> Result<Prepared, Error> {
        let base_url = url::Url::parse(&server.uri())
            .map_err(|e| Error::Usage(format!("the simulator's URL did not parse: {e}")))?;
        let credentials = match &config.credentials {
            Some(c) => c.clone(),
            None => {
                let account = SimConfig::default_accounts()
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Usage("the simulator has no account".into()))?;
                Credentials {
                    client_id: account.client_id.into(),
                    client_secret: account.client_secret.into(),
                    subscription_key: account.subscription_key.into(),
                    msn: account.msn,
                }
            }
        };
        Ok(Prepared {
            base_url,
            credentials,
            clock,
            control: Some(server.uri()),
        })
    }

    fn remote(config: &Config) -> Result<Prepared, Error> {
        let base_url = config
            .target
            .base_url()
            .ok_or_else(|| Error::Usage("the target has no base URL".into()))?;
        let credentials = config.credentials.clone().ok_or_else(|| {
            Error::Usage(format!(
                "credentials are required for the {} target",
                config.target.name()
            ))
        })?;
        Ok(Prepared {
            base_url,
            credentials,
            clock: Arc::new(SystemClock),
            control: None,
        })
    }
}

/// What a flow does, in checklist terms.
#[derive(Debug, Clone, Copy)]
enum Kind {
    FullCapture,
    PartialCaptureThenRest,
    Refunds,
    CancelAfterPartialCapture,
    CancelBeforeApproval,
    CreateFlow(UserFlow),
    Aborted,
    Expired,
    OverCapture,
    OrderManagement,
}

struct FlowDef {
    name: &'static str,
    ids: &'static [&'static str],
    kind: Kind,
}

const FLOWS: &[FlowDef] = &[
    FlowDef {
        name: "full capture ends CAPTURED",
        ids: &["EP-CREATE", "EP-GET", "EP-EVENTS", "EP-CAPTURE", "GL-TEST"],
        kind: Kind::FullCapture,
    },
    FlowDef {
        name: "partial capture, then capture of the rest",
        ids: &["EP-CAPTURE"],
        kind: Kind::PartialCaptureThenRest,
    },
    FlowDef {
        name: "partial then full refund ends REFUNDED",
        ids: &["EP-REFUND", "GL-TEST"],
        kind: Kind::Refunds,
    },
    FlowDef {
        name: "cancel after partial capture ends CANCELLED",
        ids: &["EP-CANCEL", "GL-TEST"],
        kind: Kind::CancelAfterPartialCapture,
    },
    FlowDef {
        name: "cancel before approval ends TERMINATED",
        ids: &["EP-CANCEL", "QA-STATES"],
        kind: Kind::CancelBeforeApproval,
    },
    FlowDef {
        name: "create with NATIVE_REDIRECT",
        ids: &["EP-CREATE"],
        kind: Kind::CreateFlow(UserFlow::NativeRedirect),
    },
    FlowDef {
        name: "create with QR",
        ids: &["EP-CREATE"],
        kind: Kind::CreateFlow(UserFlow::Qr),
    },
    FlowDef {
        name: "create with PUSH_MESSAGE",
        ids: &["EP-CREATE"],
        kind: Kind::CreateFlow(UserFlow::PushMessage),
    },
    FlowDef {
        name: "the user rejects: ABORTED",
        ids: &["QA-STATES"],
        kind: Kind::Aborted,
    },
    FlowDef {
        name: "capture more than authorized is a Problem",
        ids: &["QA-ERRORS"],
        kind: Kind::OverCapture,
    },
    FlowDef {
        name: "receipt, category and image on the payment",
        ids: &["QA-HISTORY"],
        kind: Kind::OrderManagement,
    },
    // Last: polling to expiry moves the shared virtual clock 10 minutes on.
    FlowDef {
        name: "nobody answers: EXPIRED (polled per guideline)",
        ids: &["QA-STATES", "PF-POLLING"],
        kind: Kind::Expired,
    },
];

struct Flows<'a> {
    client: &'a Client,
    refs: &'a ReferenceGenerator,
    control: Option<String>,
}

/// The flow's outcome before it is turned into a [`FlowResult`].
struct Outcome {
    reference: String,
    payment: Option<GetPaymentResponse>,
    events: Vec<PaymentEvent>,
    verdict: Verdict,
}

impl Flows<'_> {
    async fn run(&self, def: &FlowDef) -> FlowResult {
        let client = self.client.tagged(def.ids, Some(def.name));
        let reference = self.refs.fresh();
        let outcome = match self.flow(&client, def.kind, &reference).await {
            Ok(o) => o,
            Err(e) => Outcome {
                reference: reference.clone(),
                payment: None,
                events: Vec::new(),
                // By value too: an error may echo a credential or a token.
                verdict: Verdict::Fail(redact::text(&format!("{e} — {}", e.explain()))),
            },
        };
        FlowResult {
            name: def.name.into(),
            checklist_ids: def.ids.iter().map(|s| s.to_string()).collect(),
            reference: Some(outcome.reference),
            state: outcome
                .payment
                .as_ref()
                .map(|p| p.state.as_str().to_owned()),
            aggregate: outcome
                .payment
                .as_ref()
                .and_then(|p| serde_json::to_value(p.aggregate).ok()),
            events: outcome.events.iter().map(event_name).collect(),
            verdict: outcome.verdict,
        }
    }

    async fn flow(&self, c: &Client, kind: Kind, reference: &str) -> Result<Outcome, ApiError> {
        let amount = 24_900;
        let done = |payment: GetPaymentResponse, events: Vec<PaymentEvent>, verdict| Outcome {
            reference: reference.to_owned(),
            payment: Some(payment),
            events,
            verdict,
        };
        match kind {
            Kind::FullCapture => {
                self.authorized(c, reference, amount).await?;
                c.capture_payment(reference, Amount::nok(amount)).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = expect(&p, &ev, "CAPTURED", |a| a.captured == amount);
                Ok(done(p, ev, v))
            }
            Kind::PartialCaptureThenRest => {
                self.authorized(c, reference, amount).await?;
                c.capture_payment(reference, Amount::nok(10_000)).await?;
                c.capture_payment(reference, Amount::nok(amount - 10_000))
                    .await?;
                let (p, ev) = read_back(c, reference).await?;
                let two = ev.iter().filter(|e| event_name(e) == "CAPTURED").count() == 2;
                let v = expect(&p, &ev, "CAPTURED", |a| a.captured == amount && two);
                Ok(done(p, ev, v))
            }
            Kind::Refunds => {
                self.authorized(c, reference, amount).await?;
                c.capture_payment(reference, Amount::nok(amount)).await?;
                c.refund_payment(reference, Amount::nok(5_000)).await?;
                c.refund_payment(reference, Amount::nok(amount - 5_000))
                    .await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = expect(&p, &ev, "REFUNDED", |a| a.refunded == amount);
                Ok(done(p, ev, v))
            }
            Kind::CancelAfterPartialCapture => {
                self.authorized(c, reference, amount).await?;
                c.capture_payment(reference, Amount::nok(10_000)).await?;
                c.cancel_payment(reference, None).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = expect(&p, &ev, "CANCELLED", |a| a.cancelled == amount - 10_000);
                Ok(done(p, ev, v))
            }
            Kind::CancelBeforeApproval => {
                self.create(c, reference, amount, UserFlow::WebRedirect)
                    .await?;
                c.cancel_payment(reference, None).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = expect_state(&p, State::Terminated);
                Ok(done(p, ev, v))
            }
            Kind::CreateFlow(flow) => {
                let created = self.create(c, reference, amount, flow).await?;
                let redirect_ok = match flow {
                    UserFlow::PushMessage => created.redirect_url.is_none(),
                    _ => created.redirect_url.is_some(),
                };
                c.cancel_payment(reference, None).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = if !redirect_ok {
                    Verdict::Fail("redirectUrl does not match the userFlow".into())
                } else {
                    expect_state(&p, State::Terminated)
                };
                Ok(done(p, ev, v))
            }
            Kind::Aborted => {
                let Some(control) = &self.control else {
                    return Ok(not_applicable(
                        reference,
                        "needs a person to reject in the app on this target",
                    ));
                };
                self.create(c, reference, amount, UserFlow::WebRedirect)
                    .await?;
                sim_control(control, &format!("/__sim/payments/{reference}/abort"), c).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = expect_state(&p, State::Aborted);
                Ok(done(p, ev, v))
            }
            Kind::Expired => {
                if self.control.is_none() {
                    return Ok(not_applicable(
                        reference,
                        "takes 10 real minutes on this target",
                    ));
                }
                self.create(c, reference, amount, UserFlow::PushMessage)
                    .await?;
                let options = PollOptions {
                    timeout: std::time::Duration::from_secs(15 * 60),
                    ..PollOptions::default()
                };
                c.poll_until_final(reference, &options).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = expect_state(&p, State::Expired);
                Ok(done(p, ev, v))
            }
            Kind::OverCapture => {
                self.authorized(c, reference, amount).await?;
                let result = c
                    .capture_payment(reference, Amount::nok(amount + 100))
                    .await;
                let (p, ev) = read_back(c, reference).await?;
                let v = match result {
                    Err(e) if e.problem().is_some() && e.error_code() == Some(6090) => {
                        Verdict::Pass
                    }
                    Err(e) => Verdict::Fail(format!("expected Problem 6090, got: {e}")),
                    Ok(_) => Verdict::Fail("an over-capture was accepted".into()),
                };
                Ok(done(p, ev, v))
            }
            Kind::OrderManagement => {
                self.authorized(c, reference, amount).await?;
                let image_id = format!("{reference}-img");
                let qr = qrcode::QrCode::new(reference.as_bytes()).map_err(|e| {
                    ApiError::InvalidInput {
                        field: "image",
                        reason: e.to_string(),
                    }
                })?;
                let png = crate::simulator::landing::png(&qr, 200);
                c.upload_image(&ImageUpload::from_bytes(&image_id, &png))
                    .await?;
                let receipt = Receipt {
                    order_lines: vec![OrderLine {
                        name: "Golive mug".into(),
                        id: "mug-1".into(),
                        total_amount: amount,
                        total_amount_excluding_tax: amount * 4 / 5,
                        total_tax_amount: amount / 5,
                        tax_rate: Some(2500),
                        tax_percentage: None,
                        unit_info: None,
                        discount: None,
                        product_url: None,
                        is_return: None,
                        is_shipping: None,
                    }],
                    bottom_line: BottomLine {
                        currency: crate::api::Currency::NOK,
                        tip_amount: None,
                        pos_id: None,
                        receipt_number: Some(reference.to_owned()),
                    },
                };
                c.add_receipt(PaymentType::Ecom, reference, &receipt)
                    .await?;
                let category = Category {
                    category: CategoryType::OrderConfirmation,
                    order_details_url: Some(format!("https://shop.example/orders/{reference}")),
                    image_id: Some(image_id),
                };
                c.put_category(PaymentType::Ecom, reference, &category)
                    .await?;
                let order = c.get_order(PaymentType::Ecom, reference).await?;
                let (p, ev) = read_back(c, reference).await?;
                let v = if order.receipt.is_some() && order.category.is_some() {
                    Verdict::Pass
                } else {
                    Verdict::Fail("the receipt or category did not read back".into())
                };
                Ok(done(p, ev, v))
            }
        }
    }

    async fn create(
        &self,
        c: &Client,
        reference: &str,
        amount: i64,
        flow: UserFlow,
    ) -> Result<crate::api::CreatePaymentResponse, ApiError> {
        let mut request = CreatePaymentRequest::new(Amount::nok(amount), reference, flow)
            .description("vipps-golive checklist run");
        match flow {
            UserFlow::WebRedirect | UserFlow::NativeRedirect => {
                request = request
                    .return_url(format!("https://shop.example/return?reference={reference}"));
            }
            UserFlow::PushMessage => request = request.customer(Customer::phone(TEST_PHONE)),
            _ => {}
        }
        c.create_payment(&request).await
    }

    /// Creates a payment, approves it (force approve) and polls until AUTHORIZED.
    async fn authorized(&self, c: &Client, reference: &str, amount: i64) -> Result<(), ApiError> {
        let created = self
            .create(c, reference, amount, UserFlow::WebRedirect)
            .await?;
        let approve = ForceApproveRequest {
            customer: Some(Customer::phone(TEST_PHONE)),
            token: created.approve_token(),
        };
        c.force_approve(reference, &approve).await?;
        c.poll_until_final(reference, &PollOptions::default())
            .await?;
        Ok(())
    }
}

fn not_applicable(reference: &str, why: &str) -> Outcome {
    Outcome {
        reference: reference.to_owned(),
        payment: None,
        events: Vec::new(),
        verdict: Verdict::NotApplicable(why.into()),
    }
}

async fn read_back(
    c: &Client,
    reference: &str,
) -> Result<(GetPaymentResponse, Vec<PaymentEvent>), ApiError> {
    Ok((
        c.get_payment(reference).await?,
        c.payment_events(reference).await?,
    ))
}

fn event_name(e: &PaymentEvent) -> String {
    serde_json::to_value(e.name)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Amounts of the aggregate in minor units.
struct Sums {
    captured: i64,
    refunded: i64,
    cancelled: i64,
}

/// "A reference ending in X": state AUTHORIZED, last adjustment event X, and the aggregate check.
fn expect(
    p: &GetPaymentResponse,
    events: &[PaymentEvent],
    last: &str,
    check: impl Fn(&Sums) -> bool,
) -> Verdict {
    let sums = Sums {
        captured: p.aggregate.captured_amount.value,
        refunded: p.aggregate.refunded_amount.value,
        cancelled: p.aggregate.cancelled_amount.value,
    };
    let last_event = events.last().map(event_name).unwrap_or_default();
    if p.state != State::Authorized {
        Verdict::Fail(format!(
            "state is {}, expected AUTHORIZED",
            p.state.as_str()
        ))
    } else if last_event != last {
        Verdict::Fail(format!("last event is {last_event}, expected {last}"))
    } else if !check(&sums) {
        Verdict::Fail("the aggregate does not add up".into())
    } else {
        Verdict::Pass
    }
}

fn expect_state(p: &GetPaymentResponse, state: State) -> Verdict {
    if p.state == state {
        Verdict::Pass
    } else {
        Verdict::Fail(format!(
            "state is {}, expected {}",
            p.state.as_str(),
            state.as_str()
        ))
    }
}

/// Calls the simulator's control API (not part of any Vipps API; only the embedded simulator has it).
async fn sim_control(base: &str, path: &str, c: &Client) -> Result<(), ApiError> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .header("Merchant-Serial-Number", c.msn())
        .send()
        .await
        .map_err(|e| ApiError::InvalidInput {
            field: "control",
            reason: format!("the simulator's control API did not answer: {e}"),
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(ApiError::InvalidInput {
            field: "control",
            reason: format!("{url} answered {}", response.status()),
        })
    }
}

/// Writes evidence.json and report.html atomically, then finishes the run
/// folder (status, manifest, `latest`). Any failure here is an evidence
/// failure (exit 4): the folder stays without a manifest.
fn write_outputs(
    folder: &RunFolder,
    evidence: &RunEvidence,
    exchanges: usize,
) -> Result<(), Error> {
    let failed = |what: &str, e: std::io::Error| {
        Error::Evidence(format!(
            "cannot write {what} in `{}`: {e} (hint: free disk space or choose another --out)",
            folder.dir().display()
        ))
    };
    let json = serde_json::to_vec_pretty(evidence)
        .map_err(|e| Error::Evidence(format!("cannot serialize the evidence: {e}")))?;
    folder
        .write("evidence.json", &json)
        .map_err(|e| failed("evidence.json", e))?;
    folder
        .write("report.html", render_html(evidence, exchanges).as_bytes())
        .map_err(|e| failed("report.html", e))?;
    match folder.finish().map_err(|e| failed("manifest.json", e))? {
        Latest::Moved => {}
        Latest::LeftAlone(why) => output::diag(&format!("warning: {why}")),
    }
    Ok(())
}

/// A plain, self-contained summary page (the full evidence report is a later issue).
fn render_html(e: &RunEvidence, exchanges: usize) -> String {
    let mut rows = String::new();
    for f in &e.flows {
        let (verdict, why) = match &f.verdict {
            Verdict::Pass => ("PASS", String::new()),
            Verdict::Fail(w) => ("FAIL", w.clone()),
            Verdict::NotApplicable(w) => ("NOT APPLICABLE", w.clone()),
        };
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(&f.name),
            escape(&f.checklist_ids.join(" ")),
            escape(f.reference.as_deref().unwrap_or("")),
            escape(f.state.as_deref().unwrap_or("")),
            escape(&f.events.join(" → ")),
            verdict.to_lowercase().replace(' ', "-"),
            verdict,
            escape(&why),
        );
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vipps-golive run {run}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #ccc; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }}
.pass {{ color: #0a6b2d; font-weight: bold; }} .fail {{ color: #b00020; font-weight: bold; }}
.not-applicable {{ color: #666; }}
</style></head>
<body>
<h1>vipps-golive run</h1>
<p>Run <code>{run}</code> against <strong>{target}</strong> (<code>{base}</code>), MSN {msn}.
Started {start}, finished {end}. {exchanges} exchanges in <code>journal.jsonl</code>.</p>
<table><thead><tr><th>flow</th><th>checklist</th><th>reference</th><th>state</th><th>events</th><th>verdict</th><th>why</th></tr></thead>
<tbody>
{rows}</tbody></table>
</body></html>
"#,
        run = escape(&e.run_id),
        target = escape(&e.target),
        base = escape(&e.base_url),
        msn = escape(&e.msn),
        start = e.started_at.to_rfc3339(),
        end = e.finished_at.to_rfc3339(),
    )
}
