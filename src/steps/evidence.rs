//! Checks on what was recorded: headers, references, go-live references,
//! the return address, and attestations.
//!
//! The headers, idempotency keys, references and return address a scenario
//! sent are judged by the checklist rules ([`crate::rules`]), once, over the
//! run's journal, as an `audit` would judge the same traffic: the runner puts
//! their verdict on the item. A step here checks only what the scenario
//! expects to have happened, that the traffic to judge was sent and recorded,
//! and never judges it a second time.

use cucumber::then;

use super::params::Event;
use super::{fail, payments, GoLiveWorld, KeptReference, StepError};
use crate::domain::exchange::Exchange;

fn scenario_exchanges(w: &GoLiveWorld) -> Result<Vec<Exchange>, StepError> {
    let name = w.scenario.clone();
    Ok(w.ctx()?
        .exchanges
        .exchanges()
        .into_iter()
        .filter(|e| e.scenario.as_deref() == Some(name.as_str()))
        .collect())
}

#[then("every request of this scenario carried the Vipps headers")]
async fn headers(w: &mut GoLiveWorld) -> Result<(), StepError> {
    // QA-HEADERS: the rules judge every recorded request's headers.
    if scenario_exchanges(w)?.is_empty() {
        return fail("no request of this scenario was recorded");
    }
    Ok(())
}

#[then(
    regex = r"^every POST of this scenario carried an idempotency key of at most (\d+) characters$"
)]
async fn idempotency(w: &mut GoLiveWorld, _max: String) -> Result<(), StepError> {
    // QA-HEADERS: the rules judge each key against the API's limit (50, in
    // the domain core); the step's number only says it aloud.
    let posts = scenario_exchanges(w)?;
    if !posts.iter().any(|e| e.method.eq_ignore_ascii_case("POST")) {
        return fail("no POST of this scenario was recorded");
    }
    Ok(())
}

#[then("every reference of this scenario is a useful reference")]
async fn useful_references(w: &mut GoLiveWorld) -> Result<(), StepError> {
    // PF-REFERENCE: the rules lint every reference the recorded creates sent.
    if w.references.is_empty() {
        return fail("this scenario made no reference");
    }
    Ok(())
}

#[then("no two references of this scenario are the same")]
async fn unique_references(w: &mut GoLiveWorld) -> Result<(), StepError> {
    // PF-REFERENCE: the rules find a reference created twice under one MSN.
    if w.references.len() < 2 {
        return fail("this scenario made fewer than two references to tell apart");
    }
    Ok(())
}

#[then(expr = "the payment is kept as the go-live reference ending {event}")]
async fn keep_golive(w: &mut GoLiveWorld, outcome: Event) -> Result<(), StepError> {
    let outcome = outcome.to_string();
    payments::read_back(w).await?;
    let reference = w.reference()?;
    let (Some(p), Some(events)) = (&w.payment, &w.events) else {
        return fail("the payment was not read back");
    };
    let last = events.last().map(payments::event_name).unwrap_or_default();
    if p.state.as_str() != "AUTHORIZED" {
        return fail(format!(
            "the payment is {}, not AUTHORIZED",
            p.state.as_str()
        ));
    }
    if last != outcome {
        return fail(format!("the event log ends {last}, not {outcome}"));
    }
    w.kept.push(KeptReference { outcome, reference });
    Ok(())
}

#[then("the return address is https and carries the reference")]
async fn return_address(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let address = payments::return_url(&reference);
    // PF-REDIRECTS: the rules judge the returnUrl the create carried (https
    // or an app's own scheme, naming the reference). What the API recorded
    // is what counts: the create request as sent.
    let sent = w.ctx()?.exchanges.exchanges().into_iter().any(|e| {
        e.method == "POST"
            && e.reference.as_deref() == Some(reference.as_str())
            && e.request_body["returnUrl"] == address.as_str()
    });
    if !sent {
        return fail("the create request did not carry this returnUrl");
    }
    Ok(())
}

#[cucumber::given("the shop's own return page")]
async fn own_return_page(w: &mut GoLiveWorld) -> Result<(), StepError> {
    if w.ctx()?.return_page.is_none() {
        return Err(StepError::NotApplicable(super::target::no_return_page()));
    }
    Ok(())
}

#[then("the return page answers without cookies")]
async fn return_page_answers(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let Some(page) = w.ctx()?.return_page.clone() else {
        return Err(StepError::NotApplicable(super::target::no_return_page()));
    };
    let mut url = page.clone();
    url.query_pairs_mut()
        .append_pair("reference", "golive-return-check");
    // A fresh browser: no cookie store, no session.
    let run_id = w.ctx()?.client_options.run_id.clone();
    let response = crate::api::marked_http(run_id.as_deref())
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| StepError::Check(e.to_string()))?
        .get(url.clone())
        .send()
        .await
        .map_err(|e| StepError::Check(format!("the return page `{url}` did not answer: {e}")))?;
    let status = response.status();
    if status.is_server_error()
        || status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
    {
        return fail(format!(
            "the return page answered HTTP {status} without a session"
        ));
    }
    Ok(())
}

#[then(regex = r"^a person has confirmed that (.+)$")]
async fn attested(w: &mut GoLiveWorld, _what: String) -> Result<(), StepError> {
    let ctx = w.ctx()?.clone();
    let mut found = false;
    for id in w.checklist_ids.clone() {
        if let Some(a) = ctx.attestations.iter().find(|a| a.checklist_id == id) {
            w.attested.push(a.clone());
            found = true;
        }
    }
    if !found {
        return Err(StepError::NotApplicable(super::target::needs_attestation()));
    }
    Ok(())
}
