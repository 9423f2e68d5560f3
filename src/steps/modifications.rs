//! Capture, refund and cancel, as the shop's order changes.
//!
//! A `When` modification that the API refuses (4xx) in a scenario that
//! expects a refusal keeps it for the "the shop is refused ..." step; any
//! other following step fails with it ([`GoLiveWorld::no_refusal`]). Any
//! other error fails the step that got it, at once: a refund answered with
//! HTTP 500 is that refund's failure, not the next step's. A `Given`
//! modification fails at once.

use cucumber::{given, when};

use super::params::Nok;
use super::{GoLiveWorld, StepError};
use crate::api::{Amount, ApiError, Client};

#[derive(Clone, Copy)]
enum Op {
    Capture,
    Refund,
    Cancel,
}

async fn send(client: &Client, op: Op, reference: &str, amount: i64) -> Result<(), ApiError> {
    match op {
        Op::Capture => client
            .capture_payment(reference, Amount::nok(amount))
            .await
            .map(drop),
        Op::Refund => client
            .refund_payment(reference, Amount::nok(amount))
            .await
            .map(drop),
        Op::Cancel => client.cancel_payment(reference, None).await.map(drop),
    }
}

async fn modify(
    w: &mut GoLiveWorld,
    op: Op,
    amount: Option<Nok>,
    key: Option<&str>,
    keep_refusal: bool,
) -> Result<(), StepError> {
    w.no_refusal()?;
    let reference = w.reference()?;
    let amount = match amount {
        None => 0,
        Some(written) => w.amount(written.0)?,
    };
    let mut client = w.client()?;
    if let Some(key) = key {
        client = client.with_idempotency_key(key)?;
    }
    match send(&client, op, &reference, amount).await {
        Ok(()) => Ok(()),
        Err(e) if keep_refusal && w.expects_refusal && is_refusal(&e) => {
            w.refused = Some(e);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// A 4xx: the API said no. A 5xx, a timeout or no answer is not a refusal.
fn is_refusal(e: &ApiError) -> bool {
    e.status().is_some_and(|s| (400..500).contains(&s))
}

#[when(expr = "the shop captures {amount} NOK")]
async fn captures(w: &mut GoLiveWorld, amount: Nok) -> Result<(), StepError> {
    modify(w, Op::Capture, Some(amount), None, true).await
}

#[when(expr = "the shop captures {amount} NOK with the idempotency key {string}")]
async fn captures_with_key(w: &mut GoLiveWorld, amount: Nok, key: String) -> Result<(), StepError> {
    // Unique per run: a fixed key would collide with an earlier run's.
    let key = format!("{key}-{}", w.reference()?);
    let key: String = key
        .chars()
        .take(crate::api::MAX_IDEMPOTENCY_KEY_LEN)
        .collect();
    modify(w, Op::Capture, Some(amount), Some(&key), true).await
}

#[given(expr = "the shop has captured {amount} NOK with the idempotency key {string}")]
async fn captured_with_key(w: &mut GoLiveWorld, amount: Nok, key: String) -> Result<(), StepError> {
    let key = format!("{key}-{}", w.reference()?);
    let key: String = key
        .chars()
        .take(crate::api::MAX_IDEMPOTENCY_KEY_LEN)
        .collect();
    modify(w, Op::Capture, Some(amount), Some(&key), false).await
}

#[given(expr = "the shop has captured {amount} NOK")]
async fn has_captured(w: &mut GoLiveWorld, amount: Nok) -> Result<(), StepError> {
    modify(w, Op::Capture, Some(amount), None, false).await
}

#[when(expr = "the shop refunds {amount} NOK")]
async fn refunds(w: &mut GoLiveWorld, amount: Nok) -> Result<(), StepError> {
    modify(w, Op::Refund, Some(amount), None, true).await
}

#[when("the shop cancels the payment")]
async fn cancels(w: &mut GoLiveWorld) -> Result<(), StepError> {
    modify(w, Op::Cancel, None, None, false).await
}
