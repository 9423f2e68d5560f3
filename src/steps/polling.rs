//! Polling for the outcome, per the guideline: first after 5 s, then every 2 s.

use cucumber::then;

use super::params::PaymentState;
use super::{fail, GoLiveWorld, StepError};
use crate::api::{PollOptions, State};

#[then(expr = "the shop polls until the payment is {state}")]
async fn polls_until(w: &mut GoLiveWorld, expected: PaymentState) -> Result<(), StepError> {
    let expected = expected.0;
    w.no_refusal()?;
    let reference = w.reference()?;
    let client = w.client()?;
    let outcome = client
        .poll_until_final(&reference, &PollOptions::default())
        .await?;
    let state = outcome.payment.state;
    w.payment = Some(outcome.payment);
    if state != expected {
        return fail(format!(
            "polling ended with the payment {}, expected {}",
            state.as_str(),
            expected.as_str()
        ));
    }
    if !state.is_final() && state != State::Created {
        return fail("polling stopped before a final state");
    }
    Ok(())
}

/// Whether a GET of this scenario's payment was recorded.
fn polled(w: &GoLiveWorld) -> Result<bool, StepError> {
    let reference = w.reference()?;
    let path = format!("/epayment/v1/payments/{reference}");
    Ok(w.ctx()?
        .exchanges
        .exchanges()
        .iter()
        .any(|e| e.method == "GET" && e.url.ends_with(&path)))
}

#[then(regex = r"^the first poll came no sooner than (\d+) seconds after the payment was created$")]
async fn first_poll(w: &mut GoLiveWorld, _seconds: String) -> Result<(), StepError> {
    // PF-POLLING: when the first poll came is the rules' to judge (a first
    // poll too soon is a WARNING on the item, as in an audit of the same
    // traffic); the scenario expects that the payment was made and polled.
    if w.created_at.is_none() {
        return fail("no payment was created");
    }
    if !polled(w)? {
        return fail("the payment was never polled");
    }
    Ok(())
}

#[then(regex = r"^the polls came about (\d+) seconds apart$")]
async fn polls_apart(w: &mut GoLiveWorld, _seconds: String) -> Result<(), StepError> {
    // PF-POLLING: the gaps between polls are the rules' to judge (faster
    // than once a second fails the item).
    if !polled(w)? {
        return fail("the payment was never polled");
    }
    Ok(())
}
