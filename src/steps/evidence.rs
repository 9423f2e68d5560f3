//! Checks on what was recorded: headers, references, go-live references,
//! the return address, and attestations.

use cucumber::then;

use super::params::Event;
use super::{fail, payments, GoLiveWorld, KeptReference, StepError};
use crate::api::{lint_reference, MAX_IDEMPOTENCY_KEY_LEN, MAX_SYSTEM_HEADER_LEN};
use crate::evidence::Exchange;

/// What is missing from one recorded request's headers (empty when nothing).
/// The token request carries no Authorization header: it fetches one.
pub fn missing_headers(e: &Exchange) -> Vec<String> {
    let has = |name: &str| {
        e.request_headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(name) && !v.trim().is_empty())
    };
    let value = |name: &str| {
        e.request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let token_call = e.url.contains("/accesstoken/get");
    let mut missing = Vec::new();
    let mut required = vec![
        "Merchant-Serial-Number",
        "Ocp-Apim-Subscription-Key",
        "Vipps-System-Name",
        "Vipps-System-Version",
        "Vipps-System-Plugin-Name",
        "Vipps-System-Plugin-Version",
    ];
    if !token_call {
        required.push("Authorization");
    }
    for name in required {
        if !has(name) {
            missing.push(format!("{name} is missing"));
        } else if name.starts_with("Vipps-System")
            && value(name).map(|v| v.chars().count()).unwrap_or(0) > MAX_SYSTEM_HEADER_LEN
        {
            missing.push(format!("{name} is over {MAX_SYSTEM_HEADER_LEN} characters"));
        }
    }
    if e.method == "POST" && !token_call {
        match value("Idempotency-Key") {
            None => missing.push("Idempotency-Key is missing on a POST".into()),
            Some(k) if k.chars().count() > MAX_IDEMPOTENCY_KEY_LEN => missing.push(format!(
                "Idempotency-Key is over {MAX_IDEMPOTENCY_KEY_LEN} characters"
            )),
            Some(_) => {}
        }
    }
    missing
}

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
    let exchanges = scenario_exchanges(w)?;
    if exchanges.is_empty() {
        return fail("no request of this scenario was recorded");
    }
    for e in &exchanges {
        let missing: Vec<String> = missing_headers(e)
            .into_iter()
            .filter(|m| !m.starts_with("Idempotency-Key"))
            .collect();
        if !missing.is_empty() {
            return fail(format!("{} {}: {}", e.method, e.url, missing.join("; ")));
        }
    }
    Ok(())
}

#[then(
    regex = r"^every POST of this scenario carried an idempotency key of at most (\d+) characters$"
)]
async fn idempotency(w: &mut GoLiveWorld, _max: String) -> Result<(), StepError> {
    for e in scenario_exchanges(w)? {
        let missing: Vec<String> = missing_headers(&e)
            .into_iter()
            .filter(|m| m.starts_with("Idempotency-Key"))
            .collect();
        if !missing.is_empty() {
            return fail(format!("{} {}: {}", e.method, e.url, missing.join("; ")));
        }
    }
    Ok(())
}

#[then("every reference of this scenario is a useful reference")]
async fn useful_references(w: &mut GoLiveWorld) -> Result<(), StepError> {
    for r in &w.references {
        let findings = lint_reference(r);
        if let Some(f) = findings.first() {
            return fail(format!("`{r}`: {}", f.rule.describe()));
        }
    }
    Ok(())
}

#[then("no two references of this scenario are the same")]
async fn unique_references(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let mut seen = std::collections::HashSet::new();
    for r in &w.references {
        if !seen.insert(r) {
            return fail(format!("`{r}` was used twice"));
        }
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
    let url = url::Url::parse(&address)
        .map_err(|e| StepError::Check(format!("`{address}` is not a URL: {e}")))?;
    if url.scheme() != "https" {
        return fail(format!("`{address}` is not https"));
    }
    if !address.contains(&reference) {
        return fail(format!("`{address}` does not name the reference"));
    }
    // What the API recorded is what counts: the create request as sent.
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
    let response = reqwest::Client::builder()
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
