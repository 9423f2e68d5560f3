//! Capture, refund and cancel, as the shop's order changes.
//!
//! A `When` modification that the API refuses keeps the refusal for a
//! following "the shop is refused ..." step; any other following step fails
//! with it ([`GoLiveWorld::no_refusal`]). A `Given` modification fails at once.

use cucumber::{given, when};

use super::{parse_amount, GoLiveWorld, StepError};
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
    amount: &str,
    key: Option<&str>,
    keep_refusal: bool,
) -> Result<(), StepError> {
    w.no_refusal()?;
    let reference = w.reference()?;
    let amount = if amount.is_empty() {
        0
    } else {
        w.amount(parse_amount(amount)?)?
    };
    let mut client = w.client()?;
    if let Some(key) = key {
        client = client.with_idempotency_key(key)?;
    }
    match send(&client, op, &reference, amount).await {
        Ok(()) => Ok(()),
        Err(e) if keep_refusal && e.status().is_some() => {
            w.refused = Some(e);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[when(regex = r"^the shop captures (\d+\.\d\d) NOK$")]
async fn captures(w: &mut GoLiveWorld, amount: String) -> Result<(), StepError> {
    modify(w, Op::Capture, &amount, None, true).await
}

#[when(regex = r#"^the shop captures (\d+\.\d\d) NOK with the idempotency key "([^"]+)"$"#)]
async fn captures_with_key(
    w: &mut GoLiveWorld,
    amount: String,
    key: String,
) -> Result<(), StepError> {
    // Unique per run: a fixed key would collide with an earlier run's.
    let key = format!("{key}-{}", w.reference()?);
    let key: String = key
        .chars()
        .take(crate::api::MAX_IDEMPOTENCY_KEY_LEN)
        .collect();
    modify(w, Op::Capture, &amount, Some(&key), true).await
}

#[given(regex = r#"^the shop has captured (\d+\.\d\d) NOK with the idempotency key "([^"]+)"$"#)]
async fn captured_with_key(
    w: &mut GoLiveWorld,
    amount: String,
    key: String,
) -> Result<(), StepError> {
    let key = format!("{key}-{}", w.reference()?);
    let key: String = key
        .chars()
        .take(crate::api::MAX_IDEMPOTENCY_KEY_LEN)
        .collect();
    modify(w, Op::Capture, &amount, Some(&key), false).await
}

#[given(regex = r"^the shop has captured (\d+\.\d\d) NOK$")]
async fn has_captured(w: &mut GoLiveWorld, amount: String) -> Result<(), StepError> {
    modify(w, Op::Capture, &amount, None, false).await
}

#[when(regex = r"^the shop refunds (\d+\.\d\d) NOK$")]
async fn refunds(w: &mut GoLiveWorld, amount: String) -> Result<(), StepError> {
    modify(w, Op::Refund, &amount, None, true).await
}

#[when("the shop cancels the payment")]
async fn cancels(w: &mut GoLiveWorld) -> Result<(), StepError> {
    modify(w, Op::Cancel, "", None, false).await
}
