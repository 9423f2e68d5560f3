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

/// When each GET of this scenario's payment went out, from the recorded exchanges.
fn poll_times(w: &GoLiveWorld) -> Result<Vec<chrono::DateTime<chrono::Utc>>, StepError> {
    let reference = w.reference()?;
    let path = format!("/epayment/v1/payments/{reference}");
    Ok(w.ctx()?
        .exchanges
        .exchanges()
        .iter()
        .filter(|e| e.method == "GET" && e.url.ends_with(&path) && e.attempt == 1)
        .map(|e| e.started_at)
        .collect())
}

#[then(regex = r"^the first poll came no sooner than (\d+) seconds after the payment was created$")]
async fn first_poll(w: &mut GoLiveWorld, seconds: String) -> Result<(), StepError> {
    let seconds: i64 = seconds.parse().unwrap_or(5);
    let created = w
        .created_at
        .ok_or_else(|| StepError::Check("no payment was created".into()))?;
    let Some(first) = poll_times(w)?.into_iter().min() else {
        return fail("the payment was never polled");
    };
    let waited = first - created;
    if waited < chrono::Duration::seconds(seconds) {
        return fail(format!(
            "the first poll came {} ms after the create, sooner than {seconds} s",
            waited.num_milliseconds()
        ));
    }
    Ok(())
}

#[then(regex = r"^the polls came about (\d+) seconds apart$")]
async fn polls_apart(w: &mut GoLiveWorld, seconds: String) -> Result<(), StepError> {
    let seconds: i64 = seconds.parse().unwrap_or(2);
    let mut times = poll_times(w)?;
    times.sort();
    // Never faster than the guideline (the floor is 1 s; a shared clock can
    // only make gaps longer, never shorter).
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        if gap < chrono::Duration::milliseconds(seconds * 1000 / 2) {
            return fail(format!(
                "two polls came {} ms apart, faster than about {seconds} s",
                gap.num_milliseconds()
            ));
        }
    }
    Ok(())
}
