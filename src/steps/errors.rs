//! Provoked errors: each must come back as a problem the shop can explain.

use cucumber::{then, when};

use super::{fail, GoLiveWorld, StepError};
use crate::api::{Client, ErrorBody};
use crate::secret::Secret;

#[when("the shop reads a payment that does not exist")]
async fn reads_unknown(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.new_reference()?;
    match w.client()?.get_payment(&reference).await {
        Ok(_) => fail(format!(
            "`{reference}` was never made, yet the API answered it"
        )),
        Err(e) => {
            w.refused = Some(e);
            Ok(())
        }
    }
}

#[when("the shop asks for an access token with credentials that are not its own")]
async fn wrong_secret(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let ctx = w.ctx()?.clone();
    let mut options = ctx.client_options.clone();
    // Both wrong: the token service echoes the client id it was sent, and the
    // shop's real client id must not reach the journal through that echo.
    options.credentials.client_id = Secret::new("vipps-golive-not-a-client-id");
    options.credentials.client_secret = Secret::new("vipps-golive-not-a-client-secret");
    let ids: Vec<&str> = w.checklist_ids.iter().map(String::as_str).collect();
    let client = Client::new(options)?.tagged(&ids, Some(&w.scenario));
    match client.access_token().await {
        Ok(_) => fail("the token service accepted a wrong client secret"),
        Err(e) => {
            w.refused = Some(e);
            Ok(())
        }
    }
}

/// The wording of the step that expects a refusal (the scenario's World
/// looks for it before the first step: [`GoLiveWorld::start`]).
pub const REFUSED_STEP: &str = "the shop is refused with a problem explained in plain words";

#[then("the shop is refused with a problem explained in plain words")]
async fn refused(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let Some(error) = w.refused.take() else {
        return fail("the API accepted what it should have refused");
    };
    let Some(status) = error.status() else {
        return fail(format!("expected an answer from the API, got: {error}"));
    };
    if !(400..500).contains(&status) {
        return fail(format!(
            "expected a 4xx refusal, got HTTP {status}: {error}"
        ));
    }
    match error.body() {
        Some(ErrorBody::Problem(p)) => {
            if p.title.as_deref().unwrap_or("").trim().is_empty() {
                return fail(format!("the problem has no title: {error}"));
            }
        }
        // The token service answers in its own shape; it still explains itself.
        Some(ErrorBody::Token(_)) => {}
        _ => return fail(format!("the refusal is not a problem document: {error}")),
    }
    if error.explain().trim().is_empty() {
        return fail("the refusal cannot be explained in plain words");
    }
    Ok(())
}
