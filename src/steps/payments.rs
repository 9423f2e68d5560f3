//! Creating payments, having the customer answer, and reading them back.

use cucumber::{given, then, when};

use super::params::{Events, Flow, Nok, PaymentState};
use super::{fail, show_amount, GoLiveWorld, StepError};
use crate::api::{Amount, CreatePaymentRequest, Customer, State, UserFlow};

/// Where the shop sends the customer back to: https, naming the reference.
pub fn return_url(reference: &str) -> String {
    format!("https://shop.example/return?reference={reference}")
}

/// Creates a payment; a refusal is kept in `w.refused` when `expect_refusal`.
pub async fn create(
    w: &mut GoLiveWorld,
    written: i64,
    flow: UserFlow,
    reference: Option<&str>,
    expect_refusal: bool,
) -> Result<(), StepError> {
    w.written_amount = written;
    let amount = w.amount(written)?;
    w.sent_amount = amount;
    let reference = match reference {
        Some(r) => {
            w.remember(r)?;
            r.to_owned()
        }
        None => w.new_reference()?,
    };
    let mut request = CreatePaymentRequest::new(Amount::nok(amount), &reference, flow)
        .description("vipps-golive checklist run");
    match flow {
        UserFlow::WebRedirect | UserFlow::NativeRedirect => {
            request = request.return_url(return_url(&reference));
        }
        UserFlow::PushMessage => {
            let phone = w.ctx()?.customer_phone.clone().ok_or_else(|| {
                StepError::NotApplicable(
                    "a PUSH_MESSAGE payment needs the test user's phone (hint: --test-phone)"
                        .into(),
                )
            })?;
            request = request.customer(Customer::phone(phone));
        }
        UserFlow::Qr => {}
    }
    let client = w.client()?;
    w.read_at = None;
    let answer = client.create_payment(&request).await;
    // When the answer came, not when the step began: on the shared virtual
    // clock another scenario's wait can move time while the create is on
    // its way, and the journal dates the create when it was sent. Reads
    // paced from the answer are never sooner than 5 s after the create.
    w.created_at = Some(client.clock().now());
    match answer {
        Ok(created) => {
            w.created = Some(created);
            if expect_refusal {
                return fail("the API accepted a payment it should have refused");
            }
            Ok(())
        }
        Err(e) if expect_refusal => {
            w.refused = Some(e);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[when(expr = "the shop creates a payment of {amount} NOK with the user flow {flow}")]
async fn creates_with_flow(w: &mut GoLiveWorld, amount: Nok, flow: Flow) -> Result<(), StepError> {
    let (written, flow) = (amount.0, flow.0);
    // Below the smallest amount: the scenario expects the API to refuse.
    let expect_refusal = written < 100;
    create(w, written, flow, None, expect_refusal).await
}

#[when(expr = "the shop creates a payment of {amount} NOK with the reference {string}")]
async fn creates_with_reference(
    w: &mut GoLiveWorld,
    amount: Nok,
    reference: String,
) -> Result<(), StepError> {
    create(w, amount.0, UserFlow::WebRedirect, Some(&reference), true).await
}

#[given(expr = "a payment of {amount} NOK waiting for the customer")]
async fn waiting(w: &mut GoLiveWorld, amount: Nok) -> Result<(), StepError> {
    create(w, amount.0, UserFlow::WebRedirect, None, false).await
}

/// The customer approves the current payment (through the target) and the
/// shop polls until it is AUTHORIZED.
pub async fn approve(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let created = w
        .created
        .clone()
        .ok_or_else(|| StepError::Check("no payment was created".into()))?;
    let client = w.client()?;
    let target = w.ctx()?.target.clone();
    target.approve(&client, &reference, &created).await
}

#[given(expr = "a payment of {amount} NOK that the customer has approved")]
async fn approved(w: &mut GoLiveWorld, amount: Nok) -> Result<(), StepError> {
    create(w, amount.0, UserFlow::WebRedirect, None, false).await?;
    approve(w).await?;
    let reference = w.reference()?;
    let outcome = w
        .client()?
        .poll_until_final(&reference, &Default::default())
        .await?;
    if outcome.payment.state != State::Authorized {
        return fail(format!(
            "the approved payment is {}, not AUTHORIZED",
            outcome.payment.state.as_str()
        ));
    }
    w.payment = Some(outcome.payment);
    Ok(())
}

#[when("the customer approves the payment")]
async fn customer_approves(w: &mut GoLiveWorld) -> Result<(), StepError> {
    approve(w).await
}

#[when("the customer rejects the payment")]
async fn customer_rejects(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let created = w
        .created
        .clone()
        .ok_or_else(|| StepError::Check("no payment was created".into()))?;
    let client = w.client()?;
    let target = w.ctx()?.target.clone();
    target.abort(&client, &reference, &created).await
}

#[when("nobody answers before the payment expires")]
async fn nobody_answers(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let client = w.client()?;
    let target = w.ctx()?.target.clone();
    target.expire(&client, &reference).await
}

/// Reads the payment and its event log into the World.
pub async fn read_back(w: &mut GoLiveWorld) -> Result<(), StepError> {
    w.no_refusal()?;
    let reference = w.reference()?;
    let client = w.client()?;
    // A model integration reads a new payment no sooner than the polling
    // guideline's start (5 s after the create), even to show it once: the
    // PF-POLLING rule judges the recorded traffic, and so does Vipps. Read
    // again (a "When the shop reads" then a "Then the payment is"), it keeps
    // the guideline's interval, as a shop polling a pending payment must:
    // PF-POLLING flags two reads within a second.
    let guideline = crate::api::PollOptions::default();
    let waits = [
        (w.created_at, guideline.first_delay),
        (w.read_at, guideline.interval),
    ];
    for (since, gap) in waits {
        let Some(since) = since else { continue };
        let elapsed = (client.clock().now() - since).to_std().unwrap_or_default();
        if elapsed < gap {
            client.clock().sleep(gap - elapsed).await;
        }
    }
    w.payment = Some(client.get_payment(&reference).await?);
    // When the answer came (see `created_at`): the journal dates the GET when
    // it was sent, and other scenarios may move the shared clock meanwhile.
    w.read_at = Some(client.clock().now());
    w.events = Some(client.payment_events(&reference).await?);
    Ok(())
}

#[when("the shop reads the payment")]
async fn reads(w: &mut GoLiveWorld) -> Result<(), StepError> {
    read_back(w).await
}

#[then(regex = r"^the answer carries (a|no) redirect link$")]
async fn redirect_link(w: &mut GoLiveWorld, which: String) -> Result<(), StepError> {
    let created = w
        .created
        .as_ref()
        .ok_or_else(|| StepError::Check("no payment was created".into()))?;
    match (which.as_str(), &created.redirect_url) {
        ("a", Some(_)) | ("no", None) => Ok(()),
        (_, None) => fail("the answer has no redirectUrl"),
        (_, Some(url)) => fail(format!(
            "the answer has a redirectUrl `{url}` it should not have"
        )),
    }
}

#[then(expr = "the payment is {state}")]
async fn payment_is(w: &mut GoLiveWorld, expected: PaymentState) -> Result<(), StepError> {
    let expected = expected.0;
    read_back(w).await?;
    let p = w
        .payment
        .as_ref()
        .ok_or_else(|| StepError::Check("no payment read".into()))?;
    if p.state != expected {
        return fail(format!(
            "the payment is {}, expected {}",
            p.state.as_str(),
            expected.as_str()
        ));
    }
    Ok(())
}

/// `AUTHORIZED with 100.00 NOK captured and 149.00 NOK cancelled`, ... read with GET.
#[then(
    regex = r"^the payment is ([A-Z]+) with (\d+\.\d\d) NOK (authorized|captured)(?: and (?:(\d+\.\d\d) NOK (cancelled|refunded)|nothing captured))?$"
)]
async fn payment_with(
    w: &mut GoLiveWorld,
    expected: PaymentState,
    first: Nok,
    first_kind: String,
    second: String,
    second_kind: String,
) -> Result<(), StepError> {
    payment_is(w, expected).await?;
    let p = w
        .payment
        .as_ref()
        .ok_or_else(|| StepError::Check("no payment read".into()))?;
    let a = &p.aggregate;
    let mut checks = vec![(first_kind.clone(), w.amount(first.0)?)];
    if first_kind == "authorized" {
        checks.push(("captured".into(), 0));
    }
    if !second.is_empty() {
        let second: Nok = second.parse().map_err(StepError::Check)?;
        checks.push((second_kind, w.amount(second.0)?));
    }
    for (kind, want) in checks {
        let got = match kind.as_str() {
            "authorized" => a.authorized_amount.value,
            "captured" => a.captured_amount.value,
            "refunded" => a.refunded_amount.value,
            _ => a.cancelled_amount.value,
        };
        if got != want {
            return fail(format!(
                "the payment shows {} {kind}, expected {}",
                show_amount(got),
                show_amount(want)
            ));
        }
    }
    Ok(())
}

#[then(expr = "the event log reads {events}")]
async fn event_log(w: &mut GoLiveWorld, expected: Events) -> Result<(), StepError> {
    w.no_refusal()?;
    let reference = w.reference()?;
    let events = w.client()?.payment_events(&reference).await?;
    let names: Vec<String> = events.iter().map(event_name).collect();
    w.events = Some(events);
    let expected: Vec<String> = expected
        .0
        .into_iter()
        .map(|e| e.as_str().to_owned())
        .collect();
    if names != expected {
        return fail(format!(
            "the event log reads {}, expected {}",
            names.join(", "),
            expected.join(", ")
        ));
    }
    Ok(())
}

/// The wire name of an event (`CAPTURED`).
pub fn event_name(e: &crate::api::PaymentEvent) -> String {
    e.name.as_str().to_owned()
}
